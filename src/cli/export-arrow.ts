/**
 * The Arrow IPC writer of `zcollection query --format arrow` (type mapping:
 * ./export.ts): one nullable field per output column, one record batch per
 * batch written, handed to the sink as apache-arrow (loaded on first use)
 * produces it.
 *
 * @module
 */

import type * as Arrow from "apache-arrow";
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
import { as, type ByteSink, head, type TableColumns, type TableExport } from "./export-table.js";

/** Key of the Arrow field metadata entry holding the column's dtype. */
export const DTYPE_METADATA_KEY = "zcollection:dtype";

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

/** An Arrow IPC file written to `sink`, a record batch per {@link TableExport.write}. */
export async function arrowExport(columns: TableColumns, sink: ByteSink): Promise<TableExport> {
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
