/**
 * Where `zcollection query` writes: stdout, a text file (`--output FILE`
 * with table, CSV or JSON), or a Parquet or Arrow IPC file (`--format
 * parquet|arrow --output FILE`) readable by DuckDB, pandas, Polars and
 * pyarrow.
 *
 * The binary formats hold flat columns, written as the rows come (one
 * Parquet row group per {@link ROW_GROUP_ROWS} rows, one Arrow record batch
 * per partition or long-format slice), so memory stays
 * bounded. Every column is nullable. Type mapping:
 *
 * | dtype | Parquet | Arrow |
 * | --- | --- | --- |
 * | bool | BOOLEAN | Bool |
 * | int8 / int16 / int32 | INT32 (converted type INT_8 / INT_16 / —) | Int8 / Int16 / Int32 |
 * | uint8 / uint16 / uint32 | INT32 (converted type UINT_8 / UINT_16 / UINT_32) | Uint8 / Uint16 / Uint32 |
 * | int64 / uint64 | INT64 (— / UINT_64) | Int64 / Uint64 |
 * | float32 / float64 | FLOAT / DOUBLE | Float32 / Float64 |
 * | string | BYTE_ARRAY, UTF8 / STRING | Utf8 |
 * | datetime64[ms/us/ns] | INT64 TIMESTAMP of that unit | Timestamp of that unit |
 * | datetime64[s] and coarser | INT64 TIMESTAMP(MILLIS) | Timestamp(SECOND) |
 * | timedelta64[s/ms/us/ns] | INT64 | Duration of that unit |
 * | timedelta64[D/h/m] | INT64 | Duration(SECOND) |
 * | timedelta64[Y/M] | INT64 | Int64 |
 *
 * Timestamps are naive (no time zone, not UTC-adjusted), as numpy's
 * datetime64. NaT is null; floats keep NaN (as xarray's `to_dataframe()`
 * does: a NaN is a value, DuckDB and Polars tell it from null); a variable
 * missing from a partition is null there. Small and unsigned integers carry
 * Parquet's legacy converted types, not the INTEGER logical type, which
 * hyparquet-writer 0.17 encodes in a way DuckDB rejects. The Parquet
 * key-value metadata `zcollection:dtypes` and the Arrow field metadata
 * `zcollection:dtype` name each column's dtype (timedelta units, exact
 * datetime units).
 *
 * @module
 */

import { closeSync, openSync, writeSync } from "node:fs";
import { type FileHandle, open, rm } from "node:fs/promises";
import type * as Arrow from "apache-arrow";
import type { SchemaElement } from "hyparquet";
import type { ParquetWriter as ParquetWriterType } from "hyparquet-writer";
import {
  type DType,
  isDatetime,
  isTimedelta,
  NAT,
  type TimeUnit,
  timeUnit,
  toNanoseconds,
} from "../dtype.js";
import type { NDArray } from "../ndarray.js";
import { type CliIO, type TextSink, UsageError } from "./io.js";

/** The binary output formats of `query`. */
export const EXPORT_FORMATS = ["parquet", "arrow"] as const;

/** A binary output format of `query`. */
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Rows of one Parquet row group (the last one of a file may hold fewer). */
export const ROW_GROUP_ROWS = 262_144;

/** Characters of text gathered before a write to an `--output` text file. */
const TEXT_BLOCK = 1 << 16;

/** Key of the Parquet key-value metadata entry holding the dtype of each column. */
export const DTYPES_METADATA_KEY = "zcollection:dtypes";

/** Key of the Arrow field metadata entry holding the column's dtype. */
export const DTYPE_METADATA_KEY = "zcollection:dtype";

/** Whether `format` is written as a binary table. */
export function isExportFormat(format: string): format is ExportFormat {
  return (EXPORT_FORMATS as readonly string[]).includes(format);
}

/** The columns of an output table: names and dtypes, in order. */
export interface TableColumns {
  readonly header: readonly string[];
  readonly dtypes: readonly DType[];
}

/** A table being written, batch after batch. */
export interface TableExport {
  /**
   * Appends the first `rows` rows of `columns` (1-D arrays, in the order of
   * the header; `undefined`: a column missing from this batch, written as nulls).
   */
  write(columns: ReadonlyArray<NDArray | undefined>, rows: number): Promise<void>;
  /** Completes the file (footer) and closes it. */
  close(): Promise<void>;
  /** Closes and removes a partial file (after an error). */
  discard(): Promise<void>;
}

/** What `query` writes to: the streams (stdout replaced by a text file when asked) or a binary table. */
export interface QueryOutput {
  /** The streams text formats write to. */
  readonly io: CliIO;
  /** The binary table, for `parquet` and `arrow`. */
  readonly table: TableExport | undefined;
  /** Completes and closes the output. */
  close(): Promise<void>;
  /** Closes and removes a partial output file (after an error). */
  discard(): Promise<void>;
}

/** What hyparquet-writer writes to. */
type Writer = ConstructorParameters<typeof ParquetWriterType>[0]["writer"];

/** Bytes out: a file or stdout. */
interface ByteSink {
  write(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
  discard(): Promise<void>;
}

const FORMAT_NAMES: Record<ExportFormat, string> = { parquet: "Parquet", arrow: "Arrow IPC" };

/**
 * Checks where `format` output goes, before anything is read: binary
 * formats need `--output FILE`, or `--output -` with stdout not a terminal.
 *
 * @throws UsageError otherwise.
 */
export function checkOutput(format: string, output: string | undefined, io: CliIO): void {
  if (!isExportFormat(format)) return;
  if (output === undefined) {
    throw new UsageError(
      `--format ${format} writes a binary ${FORMAT_NAMES[format]} file: give --output FILE ` +
        "(or --output - to write to stdout redirected to a file or a pipe)",
    );
  }
  if (output === "-" && io.stdout.isTTY === true) {
    throw new UsageError(
      `refusing to write binary ${FORMAT_NAMES[format]} to a terminal: redirect stdout or give --output FILE`,
    );
  }
}

/**
 * Opens the output of `query` (see {@link checkOutput}): with `--output
 * FILE`, the file is created (or truncated) now.
 *
 * @throws UsageError as {@link checkOutput}; an `Error` from the file system
 *   when the file cannot be created.
 */
export async function openOutput(
  format: string,
  output: string | undefined,
  columns: TableColumns,
  io: CliIO,
): Promise<QueryOutput> {
  checkOutput(format, output, io);
  if (isExportFormat(format)) {
    const sink = output === "-" ? stdoutSink(io) : await fileSink(output as string);
    const table =
      format === "parquet" ? await parquetExport(columns, sink) : await arrowExport(columns, sink);
    return { io, table, close: () => table.close(), discard: () => table.discard() };
  }
  if (output === undefined || output === "-") {
    return { io, table: undefined, close: async () => {}, discard: async () => {} };
  }
  const fd = openSync(output, "w");
  // Text comes a row at a time: written in blocks of about TEXT_BLOCK characters.
  let buffered: string[] = [];
  let size = 0;
  const flush = () => {
    if (size > 0) writeSync(fd, buffered.join(""));
    buffered = [];
    size = 0;
  };
  let closed = false;
  const closeFile = () => {
    if (closed) return;
    closed = true;
    try {
      flush();
    } finally {
      closeSync(fd);
    }
  };
  const stdout: TextSink = {
    write: (text: string) => {
      buffered.push(text);
      size += text.length;
      if (size >= TEXT_BLOCK) flush();
    },
    isTTY: false,
  };
  return {
    io: { ...io, stdout },
    table: undefined,
    close: async () => closeFile(),
    discard: async () => {
      closeFile();
      await rm(output, { force: true });
    },
  };
}

async function fileSink(path: string): Promise<ByteSink> {
  const handle: FileHandle = await open(path, "w");
  let closed = false;
  const close = async () => {
    if (!closed) await handle.close();
    closed = true;
  };
  return {
    write: async (bytes) => {
      let at = 0;
      while (at < bytes.byteLength) {
        const { bytesWritten } = await handle.write(bytes, at, bytes.byteLength - at);
        at += bytesWritten;
      }
    },
    close,
    discard: async () => {
      await close();
      await rm(path, { force: true });
    },
  };
}

/** Stdout as a byte sink (the CLI's stdout is `process.stdout`, which takes bytes). */
function stdoutSink(io: CliIO): ByteSink {
  const out = io.stdout as unknown as { write(chunk: Uint8Array): unknown };
  return {
    write: async (bytes) => {
      out.write(bytes);
    },
    close: async () => {},
    discard: async () => {},
  };
}

/** `a` in the column's dtype (reads return the schema's dtype; this is insurance). */
function as(a: NDArray | undefined, dtype: DType): NDArray | undefined {
  return a === undefined || a.dtype === dtype ? a : a.astype(dtype);
}

/** The first `rows` values of a 1-D array's storage. */
function head(a: NDArray, rows: number): ArrayLike<unknown> {
  const data = a.data as unknown as { length: number; slice(s: number, e: number): ArrayLike<unknown> };
  return data.length === rows ? (data as unknown as ArrayLike<unknown>) : data.slice(0, rows);
}

// ---------------------------------------------------------------- Parquet

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

async function parquetExport(columns: TableColumns, sink: ByteSink): Promise<TableExport> {
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

// ---------------------------------------------------------------- Arrow

/** Arrow time unit of a dtype's unit; coarser than seconds → seconds. */
function arrowUnit(arrow: typeof Arrow, unit: TimeUnit): Arrow.TimeUnit {
  switch (unit) {
    case "ms":
      return arrow.TimeUnit.MILLISECOND;
    case "us":
      return arrow.TimeUnit.MICROSECOND;
    case "ns":
      return arrow.TimeUnit.NANOSECOND;
    default:
      return arrow.TimeUnit.SECOND;
  }
}

/** The Arrow type of a column of `dtype`. */
function arrowType(arrow: typeof Arrow, dtype: DType): Arrow.DataType {
  switch (dtype) {
    case "bool":
      return new arrow.Bool();
    case "int8":
      return new arrow.Int8();
    case "int16":
      return new arrow.Int16();
    case "int32":
      return new arrow.Int32();
    case "int64":
      return new arrow.Int64();
    case "uint8":
      return new arrow.Uint8();
    case "uint16":
      return new arrow.Uint16();
    case "uint32":
      return new arrow.Uint32();
    case "uint64":
      return new arrow.Uint64();
    case "float32":
      return new arrow.Float32();
    case "float64":
      return new arrow.Float64();
    case "string":
      return new arrow.Utf8();
  }
  const unit = timeUnit(dtype);
  if (isDatetime(dtype)) return new arrow.Timestamp(arrowUnit(arrow, unit));
  if (unit === "Y" || unit === "M") return new arrow.Int64();
  return new arrow.Duration(arrowUnit(arrow, unit));
}

/** A validity bitmap (bit set = valid) and the number of nulls. */
function bitmap(valid: (i: number) => boolean, rows: number): { nullCount: number; nullBitmap?: Uint8Array } {
  const bits = new Uint8Array(Math.ceil(rows / 8));
  let nulls = 0;
  for (let i = 0; i < rows; i++) {
    if (valid(i)) bits[i >> 3] = (bits[i >> 3] as number) | (1 << (i & 7));
    else nulls++;
  }
  return nulls === 0 ? { nullCount: 0 } : { nullCount: nulls, nullBitmap: bits };
}

/** The Arrow data of `rows` rows of a column of `dtype` (`undefined`: all null). */
function arrowData(
  arrow: typeof Arrow,
  type: Arrow.DataType,
  dtype: DType,
  a: NDArray | undefined,
  rows: number,
) {
  type Props = Parameters<typeof arrow.makeData>[0];
  if (a === undefined) {
    const nulls = { nullCount: rows, nullBitmap: new Uint8Array(Math.ceil(rows / 8)) };
    if (dtype === "string") {
      return arrow.makeData({
        type,
        length: rows,
        valueOffsets: new Int32Array(rows + 1),
        data: new Uint8Array(0),
        ...nulls,
      } as Props);
    }
    const Ctor =
      dtype === "bool"
        ? Uint8Array
        : (type as unknown as { ArrayType: new (n: number) => unknown }).ArrayType;
    const length = dtype === "bool" ? Math.ceil(rows / 8) : rows;
    return arrow.makeData({ type, length: rows, data: new Ctor(length), ...nulls } as Props);
  }
  const v = head(a, rows);
  if (dtype === "bool") {
    const bits = new Uint8Array(Math.ceil(rows / 8));
    const src = v as Uint8Array;
    for (let i = 0; i < rows; i++) if (src[i]) bits[i >> 3] = (bits[i >> 3] as number) | (1 << (i & 7));
    return arrow.makeData({ type, length: rows, data: bits } as Props);
  }
  if (dtype === "string") {
    const enc = new TextEncoder();
    const parts = Array.from(v as string[], (s) => enc.encode(s));
    const offsets = new Int32Array(rows + 1);
    for (let i = 0; i < rows; i++) offsets[i + 1] = (offsets[i] as number) + (parts[i] as Uint8Array).length;
    const bytes = new Uint8Array(offsets[rows] as number);
    for (let i = 0; i < rows; i++) bytes.set(parts[i] as Uint8Array, offsets[i] as number);
    return arrow.makeData({ type, length: rows, valueOffsets: offsets, data: bytes } as Props);
  }
  if (!isDatetime(dtype) && !isTimedelta(dtype))
    return arrow.makeData({ type, length: rows, data: v } as Props);
  const unit = timeUnit(dtype);
  let values = v as BigInt64Array;
  const calendar = isTimedelta(dtype) && (unit === "Y" || unit === "M");
  if (!calendar && !["s", "ms", "us", "ns"].includes(unit)) {
    values = values.map((x) => (x === NAT ? NAT : toNanoseconds(x, unit) / 1_000_000_000n));
  }
  return arrow.makeData({
    type,
    length: rows,
    data: values,
    ...bitmap((i) => values[i] !== NAT, rows),
  } as Props);
}

async function arrowExport(columns: TableColumns, sink: ByteSink): Promise<TableExport> {
  const arrow = await import("apache-arrow");
  const { header, dtypes } = columns;
  const fields = header.map(
    (name, k) =>
      new arrow.Field(
        name,
        arrowType(arrow, dtypes[k] as DType),
        true,
        new Map([[DTYPE_METADATA_KEY, dtypes[k] as string]]),
      ),
  );
  const schema = new arrow.Schema(fields);
  const writer = new arrow.RecordBatchFileWriter();
  writer.reset(undefined, schema);
  // Bytes go to the sink as the writer produces them.
  let failure: unknown;
  const pump = (async () => {
    for await (const chunk of writer) await sink.write(chunk);
  })().catch((err: unknown) => {
    failure = err;
  });
  const check = () => {
    if (failure !== undefined) throw failure;
  };
  return {
    async write(batch, rows) {
      check();
      if (rows <= 0) return;
      const children = header.map((_, k) => {
        const dtype = dtypes[k] as DType;
        return arrowData(arrow, (fields[k] as Arrow.Field).type, dtype, as(batch[k], dtype), rows);
      });
      const struct = arrow.makeData({ type: new arrow.Struct(fields), length: rows, nullCount: 0, children });
      writer.write(new arrow.RecordBatch(schema, struct));
      // Let the pump hand what was produced to the sink before the next batch is built.
      await new Promise<void>((resolve) => setImmediate(resolve));
    },
    async close() {
      try {
        writer.close();
        await pump;
        check();
      } finally {
        await sink.close();
      }
    },
    async discard() {
      writer.abort();
      await pump;
      await sink.discard();
    },
  };
}
