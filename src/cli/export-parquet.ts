/**
 * The Parquet writer of `zcollection query --format parquet` (type mapping:
 * ./export.ts): one OPTIONAL column per output column, one row group per
 * {@link ROW_GROUP_ROWS} rows handed to the sink as soon as it is encoded
 * (hyparquet-writer, loaded on first use).
 *
 * @module
 */

import type { SchemaElement } from "hyparquet";
import type { ParquetWriter as ParquetWriterType } from "hyparquet-writer";
import { type DType, isTimedelta, NAT, type TimeUnit, timeUnit, toNanoseconds } from "../dtype.js";
import type { NDArray } from "../ndarray.js";
import { as, type ByteSink, head, type TableColumns, type TableExport } from "./export-table.js";

/** Rows of one Parquet row group (the last one of a file may hold fewer). */
export const ROW_GROUP_ROWS = 262_144;

/** Key of the Parquet key-value metadata entry holding the dtype of each column. */
export const DTYPES_METADATA_KEY = "zcollection:dtypes";

/** What hyparquet-writer writes to. */
type Writer = ConstructorParameters<typeof ParquetWriterType>[0]["writer"];

/** Datetime unit of a Parquet TIMESTAMP column for `unit`: ms, us, ns kept, others written as ms. */
function parquetTimeUnit(unit: TimeUnit): "ms" | "us" | "ns" {
  return unit === "us" || unit === "ns" ? unit : "ms";
}

/** The Parquet schema element of a column (OPTIONAL). */
function parquetElement(name: string, dtype: DType): SchemaElement {
  const base = { name, repetition_type: "OPTIONAL" as const };
  switch (dtype) {
    case "bool":
      return { ...base, type: "BOOLEAN" };
    case "int8":
      return { ...base, type: "INT32", converted_type: "INT_8" };
    case "int16":
      return { ...base, type: "INT32", converted_type: "INT_16" };
    case "int32":
      return { ...base, type: "INT32" };
    case "uint8":
      return { ...base, type: "INT32", converted_type: "UINT_8" };
    case "uint16":
      return { ...base, type: "INT32", converted_type: "UINT_16" };
    case "uint32":
      return { ...base, type: "INT32", converted_type: "UINT_32" };
    case "int64":
      return { ...base, type: "INT64" };
    case "uint64":
      return { ...base, type: "INT64", converted_type: "UINT_64" };
    case "float32":
      return { ...base, type: "FLOAT" };
    case "float64":
      return { ...base, type: "DOUBLE" };
    case "string":
      return { ...base, type: "BYTE_ARRAY", converted_type: "UTF8", logical_type: { type: "STRING" } };
  }
  if (isTimedelta(dtype)) return { ...base, type: "INT64" };
  const unit = parquetTimeUnit(timeUnit(dtype));
  const parquetUnit = unit === "us" ? "MICROS" : unit === "ns" ? "NANOS" : "MILLIS";
  return {
    ...base,
    type: "INT64",
    logical_type: { type: "TIMESTAMP", isAdjustedToUTC: false, unit: parquetUnit },
    ...(unit === "ns" ? {} : { converted_type: unit === "ms" ? "TIMESTAMP_MILLIS" : "TIMESTAMP_MICROS" }),
  };
}

/** 64-bit time values with NaT as null, converted from `from` to `to` when they differ. */
function timesWithNulls(values: ArrayLike<unknown>, from: TimeUnit, to: TimeUnit): ArrayLike<unknown> {
  const src = values as ArrayLike<bigint>;
  let nulls = false;
  for (let i = 0; i < src.length; i++) {
    if (src[i] === NAT) {
      nulls = true;
      break;
    }
  }
  if (!nulls && from === to) return src;
  const per = from === to ? 1n : toNanoseconds(1n, to);
  const out = new Array<bigint | null>(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i] as bigint;
    out[i] = v === NAT ? null : from === to ? v : toNanoseconds(v, from) / per;
  }
  return out;
}

/** The Parquet physical values of `rows` rows of a column of `dtype` (`undefined`: all null). */
function parquetValues(dtype: DType, a: NDArray | undefined, rows: number): ArrayLike<unknown> {
  if (a === undefined) return new Array<null>(rows).fill(null);
  const v = head(a, rows);
  switch (dtype) {
    case "bool":
      return Array.from(v as Uint8Array, (x) => x !== 0);
    case "int8":
    case "int16":
    case "uint8":
    case "uint16":
      return Int32Array.from(v as Int16Array);
    case "uint32":
      // hyparquet-writer wraps values above 2^31 - 1 to int32 only when given plain numbers.
      return Array.from(v as Uint32Array);
    case "int32":
    case "int64":
    case "uint64":
    case "float32":
    case "float64":
    case "string":
      return v;
  }
  const unit = timeUnit(dtype);
  if (isTimedelta(dtype)) return timesWithNulls(v, unit, unit);
  return timesWithNulls(v, unit, parquetTimeUnit(unit));
}

/** Joins the parts of one column: typed arrays of one kind stay typed. */
function joinParts(parts: ReadonlyArray<ArrayLike<unknown>>): ArrayLike<unknown> {
  if (parts.length === 1) return parts[0] as ArrayLike<unknown>;
  const first = parts[0];
  const ctor = ArrayBuffer.isView(first) ? (first as object).constructor : undefined;
  const total = parts.reduce((n, p) => n + p.length, 0);
  if (ctor !== undefined && parts.every((p) => (p as object).constructor === ctor)) {
    const out = new (ctor as new (n: number) => { set(a: ArrayLike<unknown>, at: number): void })(total);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out as unknown as ArrayLike<unknown>;
  }
  const out = new Array<unknown>(total);
  let at = 0;
  for (const p of parts) for (let i = 0; i < p.length; i++) out[at++] = p[i];
  return out;
}

/** A hyparquet-writer `Writer` that hands its bytes to `sink` after each row group. */
async function chunkedWriter(sink: ByteSink): Promise<Writer> {
  const { ByteWriter } = await import("hyparquet-writer");
  const writer = new ByteWriter(1 << 20) as unknown as Writer & { index: number };
  const drain = async () => {
    if (writer.index === 0) return;
    const bytes = new Uint8Array(writer.buffer, 0, writer.index).slice();
    writer.index = 0;
    await sink.write(bytes);
  };
  writer.flush = drain;
  writer.finish = drain;
  return writer;
}

/** A Parquet table written to `sink`, a row group per {@link ROW_GROUP_ROWS} rows. */
export async function parquetExport(columns: TableColumns, sink: ByteSink): Promise<TableExport> {
  const { ParquetWriter } = await import("hyparquet-writer");
  const { header, dtypes } = columns;
  const elements = header.map((name, k) => parquetElement(name, dtypes[k] as DType));
  const writer = new ParquetWriter({
    writer: await chunkedWriter(sink),
    schema: [{ name: "schema", num_children: header.length }, ...elements],
    kvMetadata: [
      {
        key: DTYPES_METADATA_KEY,
        value: JSON.stringify(Object.fromEntries(header.map((n, k) => [n, dtypes[k]]))),
      },
    ],
    createdBy: "zcollection (hyparquet-writer)",
  });
  let pending: Array<Array<ArrayLike<unknown>>> = header.map(() => []);
  let pendingRows = 0;
  const flush = async () => {
    if (pendingRows === 0) return;
    const columnData = header.map((name, k) => ({
      name,
      data: joinParts(pending[k] as Array<ArrayLike<unknown>>) as unknown[],
    }));
    pending = header.map(() => []);
    const rows = pendingRows;
    pendingRows = 0;
    await writer.write({ columnData, rowGroupSize: rows });
  };
  return {
    async write(batch, rows) {
      if (rows <= 0) return;
      header.forEach((_, k) => {
        const dtype = dtypes[k] as DType;
        (pending[k] as Array<ArrayLike<unknown>>).push(parquetValues(dtype, as(batch[k], dtype), rows));
      });
      pendingRows += rows;
      if (pendingRows >= ROW_GROUP_ROWS) await flush();
    },
    async close() {
      try {
        await flush();
        await writer.finish();
      } finally {
        await sink.close();
      }
    },
    discard: () => sink.discard(),
  };
}
