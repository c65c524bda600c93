/**
 * Index columns ↔ the bytes of one Parquet file (docs/format.md §12), through
 * `hyparquet-writer` (write) and `hyparquet` (read), both loaded on first
 * use.
 *
 * Type mapping, written (and read back to the same dtype):
 *
 * | dtype | Parquet physical type | annotation |
 * | --- | --- | --- |
 * | bool | BOOLEAN | |
 * | int8 / int16 / int32 | INT32 | converted type INT_8 / INT_16 / — |
 * | uint8 / uint16 / uint32 | INT32 | converted type UINT_8 / UINT_16 / UINT_32 |
 * | int64 / uint64 | INT64 | — / UINT_64 |
 * | float32 / float64 | FLOAT / DOUBLE | |
 * | string | BYTE_ARRAY | UTF8, logical STRING |
 * | datetime64[ms/us/ns] | INT64 | logical TIMESTAMP (not UTC-adjusted) of that unit |
 * | datetime64[Y/M/D/h/m/s] | INT64 | logical TIMESTAMP(MILLIS), values converted to ms |
 * | timedelta64[*] | INT64 | — |
 *
 * Unsigned and small integers carry the legacy converted type (UINT_16...)
 * rather than the INTEGER logical type: hyparquet-writer 0.17 encodes the
 * logical type's bit width as a thrift i32 instead of an i8, which DuckDB
 * (and any strict thrift reader) rejects. Readers (pyarrow, DuckDB,
 * hyparquet) map the converted type to the same unsigned type. The
 * key-value metadata `zcollection:dtypes` (a JSON object column → dtype)
 * restores datetime units and timedeltas on read.
 *
 * Columns are written REQUIRED, snappy-compressed, dictionary-encoded where
 * it at least halves a column (hyparquet-writer's rule), in row groups of
 * 1000 to 100 000 rows. Files of other writers (pyarrow, DuckDB: snappy,
 * dictionary pages, OPTIONAL columns, INTEGER logical types, DATE, INT96)
 * are read as well.
 *
 * @module
 */

import type { FileMetaData, SchemaElement } from "hyparquet";
import { allocate, type DType, isDatetime, isDType, isTimedelta, NAT, timeUnit } from "../dtype.js";
import { SchemaError, StoreError } from "../errors.js";
import { castChecked, NDArray } from "../ndarray.js";
import type { IndexColumn } from "./columns.js";

/** Key of the key-value metadata entry holding the dtype of each column. */
export const DTYPES_METADATA_KEY = "zcollection:dtypes";

type Element = SchemaElement;

/** The Parquet schema element and physical values of one column. */
function encodeColumn(column: IndexColumn): { element: Element; data: unknown } {
  const { name, data: a } = column;
  const base = { name, repetition_type: "REQUIRED" as const };
  switch (a.dtype) {
    case "bool":
      return {
        element: { ...base, type: "BOOLEAN" },
        data: Array.from(a.data as Uint8Array, (v) => v !== 0),
      };
    case "int8":
    case "int16":
      return {
        element: { ...base, type: "INT32", converted_type: a.dtype === "int8" ? "INT_8" : "INT_16" },
        data: Int32Array.from(a.data as Int8Array),
      };
    case "int32":
      return { element: { ...base, type: "INT32" }, data: a.data };
    case "uint8":
    case "uint16":
      return {
        element: { ...base, type: "INT32", converted_type: a.dtype === "uint8" ? "UINT_8" : "UINT_16" },
        data: Int32Array.from(a.data as Uint16Array),
      };
    case "uint32":
      // hyparquet-writer wraps values above 2^31 - 1 to int32 only when given plain numbers.
      return {
        element: { ...base, type: "INT32", converted_type: "UINT_32" },
        data: Array.from(a.data as Uint32Array),
      };
    case "int64":
      return { element: { ...base, type: "INT64" }, data: a.data };
    case "uint64":
      return { element: { ...base, type: "INT64", converted_type: "UINT_64" }, data: a.data };
    case "float32":
      return { element: { ...base, type: "FLOAT" }, data: a.data };
    case "float64":
      return { element: { ...base, type: "DOUBLE" }, data: a.data };
    case "string":
      return {
        element: { ...base, type: "BYTE_ARRAY", converted_type: "UTF8", logical_type: { type: "STRING" } },
        data: a.data,
      };
  }
  if (isTimedelta(a.dtype)) return { element: { ...base, type: "INT64" }, data: a.data };
  const unit = timeUnit(a.dtype);
  const fine = unit === "us" || unit === "ns" ? a : castChecked(a, "datetime64[ms]", name);
  const parquetUnit = unit === "us" ? "MICROS" : unit === "ns" ? "NANOS" : "MILLIS";
  return {
    element: {
      ...base,
      type: "INT64",
      logical_type: { type: "TIMESTAMP", isAdjustedToUTC: false, unit: parquetUnit },
      ...(parquetUnit === "NANOS"
        ? {}
        : { converted_type: parquetUnit === "MILLIS" ? "TIMESTAMP_MILLIS" : "TIMESTAMP_MICROS" }),
    },
    data: fine.data,
  };
}

/**
 * The Parquet file of `columns` (all of the same length).
 *
 * @throws SchemaError naming a column hyparquet-writer refuses.
 */
export async function encodeParquet(columns: readonly IndexColumn[]): Promise<Uint8Array> {
  const { parquetWriteBuffer } = await import("hyparquet-writer");
  const encoded = columns.map(encodeColumn);
  const dtypes = Object.fromEntries(columns.map((c) => [c.name, c.data.dtype]));
  try {
    const buffer = parquetWriteBuffer({
      schema: [{ name: "schema", num_children: columns.length }, ...encoded.map((e) => e.element)],
      columnData: columns.map((c, i) => ({
        name: c.name,
        data: (encoded[i] as { data: unknown }).data as ArrayLike<unknown> as unknown[],
      })),
      kvMetadata: [{ key: DTYPES_METADATA_KEY, value: JSON.stringify(dtypes) }],
      createdBy: "zcollection (hyparquet-writer)",
    });
    return new Uint8Array(buffer);
  } catch (cause) {
    throw new SchemaError(`cannot encode the index as Parquet: ${(cause as Error).message}`, { cause });
  }
}

/** The dtype a Parquet leaf column is read as, or `undefined` when unsupported. */
function naturalDtype(el: Element): DType | undefined {
  const ct = el.converted_type;
  const lt = el.logical_type;
  if (ct === "DECIMAL" || lt?.type === "DECIMAL" || ct === "INTERVAL") return undefined;
  const integer = lt?.type === "INTEGER" ? lt : undefined;
  switch (el.type) {
    case "BOOLEAN":
      return "bool";
    case "INT32": {
      if (ct === "DATE" || lt?.type === "DATE") return "datetime64[D]";
      if (ct === "TIME_MILLIS" || lt?.type === "TIME") return undefined;
      const width = integer?.bitWidth ?? { INT_8: 8, INT_16: 16, UINT_8: 8, UINT_16: 16 }[ct as string] ?? 32;
      const signed = integer?.isSigned ?? !(ct === "UINT_8" || ct === "UINT_16" || ct === "UINT_32");
      return `${signed ? "" : "u"}int${width}` as DType;
    }
    case "INT64": {
      if (lt?.type === "TIME" || ct === "TIME_MICROS") return undefined;
      if (lt?.type === "TIMESTAMP")
        return `datetime64[${{ MILLIS: "ms", MICROS: "us", NANOS: "ns" }[lt.unit]}]` as DType;
      if (ct === "TIMESTAMP_MILLIS") return "datetime64[ms]";
      if (ct === "TIMESTAMP_MICROS") return "datetime64[us]";
      const unsigned = ct === "UINT_64" || integer?.isSigned === false;
      return unsigned ? "uint64" : "int64";
    }
    case "INT96":
      return "datetime64[ns]";
    case "FLOAT":
      return "float32";
    case "DOUBLE":
      return "float64";
    case "BYTE_ARRAY":
      return "string";
    default:
      return undefined;
  }
}

/** Copies decoded chunk values into `out` from row `at`; returns the row of the first null, or -1. */
function place(
  values: ArrayLike<unknown>,
  dtype: DType,
  out: NDArray["data"],
  at: number,
  end: number,
): number {
  const dst = out as unknown as { [i: number]: unknown };
  const n = Math.min(values.length, end - at);
  const big = /^(u?int64|datetime64|timedelta64)/.test(dtype);
  const nullValue = dtype.startsWith("float")
    ? Number.NaN
    : isDatetime(dtype) || isTimedelta(dtype)
      ? NAT
      : undefined;
  const decoder = new TextDecoder();
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      if (nullValue === undefined) return at + i;
      dst[at + i] = nullValue;
    } else if (dtype === "string") dst[at + i] = typeof v === "string" ? v : decoder.decode(v as Uint8Array);
    else if (dtype === "bool") dst[at + i] = v ? 1 : 0;
    else if (big) dst[at + i] = typeof v === "bigint" ? v : BigInt(v as number);
    else dst[at + i] = Number(v);
  }
  return -1;
}

/** Applies the `zcollection:dtypes` entry of a column when it refines what Parquet says. */
function refine(data: NDArray, declared: unknown, name: string): NDArray {
  if (!isDType(declared) || declared === data.dtype) return data;
  const times = (d: DType) => isDatetime(d) || isTimedelta(d);
  if (isDatetime(data.dtype) && isDatetime(declared)) return castChecked(data, declared, name);
  if (data.dtype === "int64" && times(declared))
    return new NDArray(declared, data.shape, data.data as BigInt64Array);
  return data;
}

function parseDtypes(meta: FileMetaData): Record<string, unknown> {
  const text = meta.key_value_metadata?.find((kv) => kv.key === DTYPES_METADATA_KEY)?.value;
  if (text === undefined) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * The columns of a Parquet file, in file order.
 *
 * @param source names the file in error messages.
 * @throws StoreError when the bytes are not a Parquet file; SchemaError
 *   naming the column for a nested or unsupported column type, or nulls in
 *   a column that cannot represent them (integers, strings, booleans).
 */
export async function decodeParquet(bytes: Uint8Array, source: string): Promise<IndexColumn[]> {
  const { parquetMetadata, parquetRead } = await import("hyparquet");
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let meta: FileMetaData;
  try {
    meta = parquetMetadata(file);
  } catch (cause) {
    throw new StoreError(`'${source}' is not a readable Parquet file: ${(cause as Error).message}`, {
      key: source,
      cause,
    });
  }
  const leaves = meta.schema.slice(1);
  const nested = leaves.find((el) => (el.num_children ?? 0) > 0);
  if (nested !== undefined || leaves.length !== (meta.schema[0]?.num_children ?? 0)) {
    const name = nested?.name ?? "(unknown)";
    throw new SchemaError(`Parquet column '${name}' of '${source}' is nested; an index needs flat columns`, {
      variable: name,
    });
  }
  const rows = Number(meta.num_rows);
  const dtypes = parseDtypes(meta);
  const columns = leaves.map((el) => {
    const dtype = naturalDtype(el);
    if (dtype === undefined) {
      const type = el.logical_type?.type ?? el.converted_type ?? el.type;
      throw new SchemaError(`Parquet column '${el.name}' of '${source}' has the unsupported type ${type}`, {
        variable: el.name,
      });
    }
    return { name: el.name, dtype, out: allocate(dtype, rows), firstNull: -1 };
  });
  const byName = new Map(columns.map((c) => [c.name, c]));
  const same = <T>(v: T): T => v;
  try {
    await parquetRead({
      file,
      metadata: meta,
      utf8: true,
      parsers: {
        timestampFromMilliseconds: same,
        timestampFromMicroseconds: same,
        timestampFromNanoseconds: same,
        dateFromDays: same,
      },
      onChunk: ({ columnName, columnData, rowStart }) => {
        const c = byName.get(columnName);
        if (c === undefined) return;
        const at = place(columnData, c.dtype, c.out, rowStart, rows);
        if (at >= 0 && (c.firstNull < 0 || at < c.firstNull)) c.firstNull = at;
      },
    });
  } catch (cause) {
    throw new StoreError(`cannot read the Parquet file '${source}': ${(cause as Error).message}`, {
      key: source,
      cause,
    });
  }
  return columns.map((c) => {
    if (c.firstNull >= 0) {
      throw new SchemaError(
        `Parquet column '${c.name}' of '${source}' has a null at row ${c.firstNull}; ${c.dtype} cannot represent it`,
        { variable: c.name },
      );
    }
    return {
      name: c.name,
      data: refine(new NDArray(c.dtype, [rows], c.out as NDArray["data"]), dtypes[c.name], c.name),
    };
  });
}
