/**
 * The column model of an index: named 1-D {@link NDArray}s of equal length,
 * the checks applied to what a builder returns, the Arrow view of the
 * columns, and the value tests of `Indexer.lookup`.
 *
 * @module
 */

import * as arrow from "apache-arrow";
import {
  type DType,
  datetime64,
  isBigIntDType,
  isDatetime,
  isIntegerDType,
  isTimedelta,
  NAT,
  type TimeUnit,
  type TypedArray,
  timeUnit,
  toNanoseconds,
} from "../dtype.js";
import { SchemaError } from "../errors.js";
import { castChecked, NDArray } from "../ndarray.js";

/** Name of the column holding the partition path (docs/format.md §12). */
export const PARTITION_COLUMN = "_partition";
/** Name of the column holding the first row of a run, within its partition (docs/format.md §12). */
export const START_COLUMN = "_start";
/** Name of the column holding the row after the last row of a run, within its partition (docs/format.md §12). */
export const STOP_COLUMN = "_stop";
/** The columns every index has besides its key columns. */
export const RESERVED_COLUMNS: readonly string[] = [PARTITION_COLUMN, START_COLUMN, STOP_COLUMN];

/**
 * One column as a builder may return it: a typed array (its storage decides
 * the dtype: `Uint16Array` → uint16, `BigInt64Array` → int64, `Uint8Array`
 * → uint8), a 1-D {@link NDArray} (any dtype, datetimes and bools
 * included), or an array of strings.
 */
export type IndexColumnInput = TypedArray | NDArray | readonly string[];

/** A value a lookup compares column values with (see `Indexer.lookup`). */
export type IndexScalar = number | bigint | string | boolean;

/** A named column of an index. */
export interface IndexColumn {
  readonly name: string;
  /** 1-D values. */
  readonly data: NDArray;
}

/** Converts one column returned by a builder to a 1-D NDArray, or throws naming it. */
export function toColumnArray(value: unknown, name: string, where: string): NDArray {
  if (value instanceof NDArray) {
    if (value.ndim !== 1) {
      throw new SchemaError(
        `index column '${name}' of ${where} must be 1-D; got shape [${value.shape.join(", ")}]`,
        { variable: name },
      );
    }
    return value;
  }
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    try {
      return NDArray.from(value as TypedArray);
    } catch (cause) {
      throw new SchemaError(
        `index column '${name}' of ${where} is a ${value.constructor.name}, which has no dtype here`,
        { variable: name, cause },
      );
    }
  }
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
    return new NDArray("string", [value.length], [...(value as string[])]);
  }
  const what = Array.isArray(value) ? "an array of non-strings" : value === null ? "null" : typeof value;
  throw new SchemaError(
    `index column '${name}' of ${where} is ${what}; expected a typed array, a 1-D NDArray or an array of strings`,
    { variable: name },
  );
}

/**
 * Converts `_start` or `_stop` to int64.
 *
 * @throws SchemaError naming the column when it does not hold integers.
 */
export function toOffsets(data: NDArray, name: string, where: string): NDArray<"int64"> {
  if (!isIntegerDType(data.dtype)) {
    throw new SchemaError(`index column '${name}' of ${where} must hold integers; got ${data.dtype}`, {
      variable: name,
    });
  }
  return castChecked(data, "int64", name);
}

/** The Arrow data of one column (datetime64 of units coarser than s as seconds, like `Dataset.toArrow`). */
function arrowData(a: NDArray): arrow.Data {
  const n = a.size;
  switch (a.dtype) {
    case "bool": {
      const bits = new Uint8Array(Math.ceil(n / 8));
      const src = a.data as Uint8Array;
      for (let i = 0; i < n; i++) if (src[i]) bits[i >> 3] = (bits[i >> 3] as number) | (1 << (i & 7));
      return arrow.makeData({ type: new arrow.Bool(), length: n, data: bits });
    }
    case "string":
      return arrow.vectorFromArray(a.data as string[], new arrow.Utf8()).data[0] as arrow.Data;
    case "int64":
    case "uint64":
    case "int8":
    case "int16":
    case "int32":
    case "uint8":
    case "uint16":
    case "uint32":
    case "float32":
    case "float64":
      return arrow.makeVector(a.data as TypedArray).data[0] as arrow.Data;
  }
  const unit = timeUnit(a.dtype);
  const units: Partial<Record<TimeUnit, arrow.TimeUnit>> = {
    s: arrow.TimeUnit.SECOND,
    ms: arrow.TimeUnit.MILLISECOND,
    us: arrow.TimeUnit.MICROSECOND,
    ns: arrow.TimeUnit.NANOSECOND,
  };
  let values = a.data as BigInt64Array;
  let arrowUnit = units[unit];
  if (arrowUnit === undefined) {
    if (isTimedelta(a.dtype) && (unit === "Y" || unit === "M")) {
      return arrow.makeData({ type: new arrow.Int64(), length: n, data: values });
    }
    values = values.map((v) => (v === NAT ? NAT : toNanoseconds(v, unit) / 1_000_000_000n));
    arrowUnit = arrow.TimeUnit.SECOND;
  }
  const type = isDatetime(a.dtype) ? new arrow.Timestamp(arrowUnit) : new arrow.Duration(arrowUnit);
  return arrow.makeData({ type, length: n, data: values } as Parameters<typeof arrow.makeData>[0]);
}

/**
 * The columns as an Arrow table, in order; each field carries the
 * `zcollection:dtype` metadata of its column.
 */
export function columnsToArrow(columns: readonly IndexColumn[]): arrow.Table {
  const children = columns.map((c) => arrowData(c.data));
  const fields = columns.map(
    (c, i) =>
      new arrow.Field(
        c.name,
        (children[i] as arrow.Data).type,
        false,
        new Map([["zcollection:dtype", c.data.dtype]]),
      ),
  );
  const schema = new arrow.Schema(fields);
  const struct = arrow.makeData({
    type: new arrow.Struct(fields),
    length: columns[0]?.data.size ?? 0,
    nullCount: 0,
    children,
  });
  return new arrow.Table(new arrow.RecordBatch(schema, struct));
}

function describe(value: unknown): string {
  return typeof value === "string" ? `'${value}'` : `${String(value)} (${typeof value})`;
}

/**
 * The value a lookup scalar takes in the storage of `dtype`, `undefined`
 * when it cannot equal any value of that dtype (a fraction against an
 * integer column).
 *
 * @throws SchemaError naming the column when the scalar's type does not fit
 *   the column (a string for a number column, a number for a string column).
 */
function normalize(value: unknown, dtype: DType, column: string): number | bigint | string | undefined {
  const misfit = (): never => {
    throw new SchemaError(`lookup value ${describe(value)} does not fit column '${column}' (${dtype})`, {
      variable: column,
    });
  };
  if (dtype === "string") return typeof value === "string" ? value : misfit();
  if (dtype === "bool") {
    if (typeof value === "boolean") return value ? 1 : 0;
    if (value === 0 || value === 1) return value;
    return typeof value === "number" ? undefined : misfit();
  }
  if (isBigIntDType(dtype)) {
    if (typeof value === "bigint") return value;
    if (typeof value === "number") return Number.isInteger(value) ? BigInt(value) : undefined;
    if (typeof value === "string" && isDatetime(dtype)) {
      try {
        return datetime64(value, timeUnit(dtype));
      } catch (cause) {
        throw new SchemaError(`lookup value ${describe(value)} for column '${column}' is not a date-time`, {
          variable: column,
          cause,
        });
      }
    }
    return misfit();
  }
  if (typeof value === "number") return value;
  if (typeof value === "bigint") {
    const n = Number(value);
    return BigInt(n) === value ? n : undefined;
  }
  return misfit();
}

/**
 * A test of row `i` of `column` against a scalar (equality) or a list of
 * scalars (membership). Values compare with SameValueZero: NaN matches NaN.
 *
 * @throws SchemaError naming the column for a value of the wrong type.
 */
export function rowTest(
  column: IndexColumn,
  wanted: IndexScalar | readonly IndexScalar[],
): (i: number) => boolean {
  const list: readonly unknown[] = Array.isArray(wanted) ? wanted : [wanted];
  const set = new Set<number | bigint | string>();
  for (const v of list) {
    const n = normalize(v, column.data.dtype, column.name);
    if (n !== undefined) set.add(n);
  }
  const data = column.data.data as ArrayLike<number | bigint | string>;
  if (set.size === 0) return () => false;
  if (set.size === 1) {
    const [only] = set;
    if (typeof only === "number" && Number.isNaN(only)) return (i) => Number.isNaN(data[i] as number);
    return (i) => data[i] === only;
  }
  return (i) => set.has(data[i] as number | bigint | string);
}

/**
 * Sorts ranges by start and merges the overlapping or adjacent ones; empty
 * ranges are dropped.
 */
export function mergeRanges(ranges: Array<[number, number]>): Array<[number, number]> {
  const sorted = ranges.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const out: Array<[number, number]> = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}
