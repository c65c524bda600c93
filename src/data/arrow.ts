/**
 * Apache Arrow bridge: one group's variables ↔ an `arrow.Table`.
 *
 * Type mapping (our dtype → Arrow → back):
 *
 * | dtype | Arrow type | notes |
 * | --- | --- | --- |
 * | bool | Bool | |
 * | int8 … uint64 | Int8 … Uint64 | 64-bit values are `bigint` |
 * | float32 / float64 | Float32 / Float64 | |
 * | datetime64[s/ms/us/ns] | Timestamp (same unit, no time zone) | NaT ↔ null |
 * | datetime64[Y/M/D/h/m] | Timestamp(SECOND) | converted to seconds; the field metadata restores the unit |
 * | timedelta64[s/ms/us/ns] | Duration (same unit) | NaT ↔ null |
 * | timedelta64[D/h/m] | Duration(SECOND) | converted to seconds; restored from metadata |
 * | timedelta64[Y/M] | Int64 | tick counts; restored from metadata |
 * | string | Utf8 | |
 *
 * N-D variables become FixedSizeList columns (nested for rank > 2, inner
 * dimension innermost) over the row dimension (the first one).
 *
 * Field metadata written by {@link groupToArrow} (and read back by
 * {@link arrowToParts}): `zcollection:dtype` (our dtype name),
 * `zcollection:dimensions` (JSON array), `zcollection:fill_value` (the JSON
 * of docs/format.md §3.4) and `zcollection:attrs` (JSON); the table metadata
 * `zcollection:attrs` holds the group attributes. Foreign tables without
 * metadata get dimension `"row"` for the rows and `<column>_dim1`,
 * `<column>_dim2`, … for FixedSizeList levels; nulls read as NaN (floats) or
 * NaT (times), and are refused for other types unless the column declares a
 * fill value. Every dimension of the resulting schema gets `size` = its
 * length (no chunks), like Python's `from_xarray`.
 *
 * @module
 */

import * as arrow from "apache-arrow";
import {
  assertDType,
  type DType,
  fromNanoseconds,
  isBigIntDType,
  isDatetime,
  isTimedelta,
  NAT,
  type TimeUnit,
  timeUnit,
  toNanoseconds,
  unitNanoseconds,
} from "../dtype.js";
import { SchemaError } from "../errors.js";
import { parseJson, stringifyJson } from "../json.js";
import { castChecked, NDArray, shapeSize } from "../ndarray.js";
import type { Attrs } from "../schema/attrs.js";
import { DatasetSchema } from "../schema/dataset.js";
import { Dimension } from "../schema/dimension.js";
import { decodeFillValue, encodeFillValue } from "../schema/fill.js";
import { VariableSchema } from "../schema/variable.js";
import type { Group } from "./group.js";

const META_DTYPE = "zcollection:dtype";
const META_DIMS = "zcollection:dimensions";
const META_FILL = "zcollection:fill_value";
const META_ATTRS = "zcollection:attrs";

const ARROW_UNITS: Partial<Record<TimeUnit, arrow.TimeUnit>> = {
  s: arrow.TimeUnit.SECOND,
  ms: arrow.TimeUnit.MILLISECOND,
  us: arrow.TimeUnit.MICROSECOND,
  ns: arrow.TimeUnit.NANOSECOND,
};
const FROM_ARROW_UNIT: Record<number, TimeUnit> = {
  [arrow.TimeUnit.SECOND]: "s",
  [arrow.TimeUnit.MILLISECOND]: "ms",
  [arrow.TimeUnit.MICROSECOND]: "us",
  [arrow.TimeUnit.NANOSECOND]: "ns",
};

function validity(values: BigInt64Array): { nullCount: number; nullBitmap?: Uint8Array } {
  let nulls = 0;
  for (const v of values) if (v === NAT) nulls++;
  if (nulls === 0) return { nullCount: 0 };
  const bitmap = new Uint8Array(Math.ceil(values.length / 8));
  values.forEach((v, i) => {
    if (v !== NAT) bitmap[i >> 3] = (bitmap[i >> 3] as number) | (1 << (i & 7));
  });
  return { nullCount: nulls, nullBitmap: bitmap };
}

/** The flat (leaf) Arrow data of an array's values. */
function leafData(a: NDArray): arrow.Data {
  const n = a.size;
  const d = a.dtype;
  switch (d) {
    case "bool": {
      const bits = new Uint8Array(Math.ceil(n / 8));
      const src = a.data as Uint8Array;
      for (let i = 0; i < n; i++) if (src[i]) bits[i >> 3] = (bits[i >> 3] as number) | (1 << (i & 7));
      return arrow.makeData({ type: new arrow.Bool(), length: n, data: bits });
    }
    case "int8":
      return arrow.makeData({ type: new arrow.Int8(), length: n, data: a.data as Int8Array });
    case "int16":
      return arrow.makeData({ type: new arrow.Int16(), length: n, data: a.data as Int16Array });
    case "int32":
      return arrow.makeData({ type: new arrow.Int32(), length: n, data: a.data as Int32Array });
    case "int64":
      return arrow.makeData({ type: new arrow.Int64(), length: n, data: a.data as BigInt64Array });
    case "uint8":
      return arrow.makeData({ type: new arrow.Uint8(), length: n, data: a.data as Uint8Array });
    case "uint16":
      return arrow.makeData({ type: new arrow.Uint16(), length: n, data: a.data as Uint16Array });
    case "uint32":
      return arrow.makeData({ type: new arrow.Uint32(), length: n, data: a.data as Uint32Array });
    case "uint64":
      return arrow.makeData({ type: new arrow.Uint64(), length: n, data: a.data as BigUint64Array });
    case "float32":
      return arrow.makeData({ type: new arrow.Float32(), length: n, data: a.data as Float32Array });
    case "float64":
      return arrow.makeData({ type: new arrow.Float64(), length: n, data: a.data as Float64Array });
    case "string": {
      const enc = new TextEncoder();
      const parts = (a.data as string[]).map((s) => enc.encode(s));
      const offsets = new Int32Array(n + 1);
      for (let i = 0; i < n; i++) offsets[i + 1] = (offsets[i] as number) + (parts[i] as Uint8Array).length;
      const bytes = new Uint8Array(offsets[n] as number);
      for (let i = 0; i < n; i++) bytes.set(parts[i] as Uint8Array, offsets[i] as number);
      return arrow.makeData({ type: new arrow.Utf8(), length: n, valueOffsets: offsets, data: bytes });
    }
  }
  const unit = timeUnit(d);
  let values = a.data as BigInt64Array;
  let arrowUnit = ARROW_UNITS[unit];
  if (arrowUnit === undefined) {
    if (isTimedelta(d) && (unit === "Y" || unit === "M")) {
      return arrow.makeData({ type: new arrow.Int64(), length: n, data: values });
    }
    // Coarser units are written as seconds.
    values = values.map((v) => (v === NAT ? NAT : toNanoseconds(v, unit) / 1_000_000_000n));
    arrowUnit = arrow.TimeUnit.SECOND;
  }
  const type = isDatetime(d) ? new arrow.Timestamp(arrowUnit) : new arrow.Duration(arrowUnit);
  return arrow.makeData({ type, length: n, data: values, ...validity(values) } as Parameters<
    typeof arrow.makeData
  >[0]);
}

/**
 * The own variables of `group` as an Arrow table (see the module notes for
 * the type mapping and metadata).
 *
 * @param names restricts and orders the columns (own variable names).
 * @throws SchemaError naming the variable when it is unknown, lazy, 0-d, or
 *   has a row count different from the other columns.
 */
export function groupToArrow(group: Group, names?: Iterable<string>): arrow.Table {
  const chosen = names === undefined ? [...group.variables.keys()] : [...names];
  const fields: arrow.Field[] = [];
  const children: arrow.Data[] = [];
  let rows: number | undefined;
  let firstName = "";
  for (const name of chosen) {
    const v = group.variables.get(name);
    if (v === undefined)
      throw new SchemaError(`unknown variable '${name}' in group '${group.longName()}'`, { variable: name });
    const a = v.array;
    if (a.ndim === 0) {
      throw new SchemaError(`variable '${name}' is 0-d and cannot be an Arrow column`, { variable: name });
    }
    const n = a.shape[0] as number;
    if (rows === undefined) {
      rows = n;
      firstName = name;
    } else if (n !== rows) {
      throw new SchemaError(
        `variable '${name}' has ${n} rows but '${firstName}' has ${rows}; Arrow columns need the same length (select the variables to export)`,
        { variable: name },
      );
    }
    let data = leafData(a);
    for (let d = a.ndim - 1; d >= 1; d--) {
      const size = a.shape[d] as number;
      const field = new arrow.Field("item", data.type, data.nullCount > 0);
      data = arrow.makeData({
        type: new arrow.FixedSizeList(size, field),
        length: shapeSize(a.shape.slice(0, d)),
        nullCount: 0,
        child: data,
      });
    }
    const meta = new Map<string, string>([
      [META_DTYPE, v.dtype],
      [META_DIMS, JSON.stringify(v.dimensions)],
      [META_FILL, stringifyJson(encodeFillValue(v.dtype, v.fillValue))],
      [META_ATTRS, stringifyJson(v.schema.attrs)],
    ]);
    fields.push(new arrow.Field(name, data.type, data.nullCount > 0, meta));
    children.push(data);
  }
  const schema = new arrow.Schema(fields, new Map([[META_ATTRS, stringifyJson(group.attrs)]]));
  if (fields.length === 0) return new arrow.Table(schema);
  const struct = arrow.makeData({
    type: new arrow.Struct(fields),
    length: rows ?? 0,
    nullCount: 0,
    children,
  });
  return new arrow.Table(new arrow.RecordBatch(schema, struct));
}

/** What {@link arrowToParts} returns: a flat schema, the variables' data in column order, and the attributes. */
export interface ArrowParts {
  schema: DatasetSchema;
  variables: Array<[VariableSchema, NDArray]>;
  attrs: Attrs | Record<string, unknown>;
}

function parseMeta(text: string | undefined, what: string, column: string): unknown {
  if (text === undefined) return undefined;
  try {
    return parseJson(text, `${what} metadata of Arrow column '${column}'`);
  } catch (cause) {
    throw new SchemaError(`invalid ${what} metadata in Arrow column '${column}'`, {
      variable: column,
      cause,
    });
  }
}

/** Natural dtype of an Arrow leaf type, or undefined when unsupported. */
function naturalDtype(type: arrow.DataType): DType | undefined {
  if (arrow.DataType.isBool(type)) return "bool";
  if (arrow.DataType.isInt(type)) {
    const t = type as arrow.Int;
    return `${t.isSigned ? "" : "u"}int${t.bitWidth}` as DType;
  }
  if (arrow.DataType.isFloat(type)) {
    const p = (type as arrow.Float).precision;
    return p === arrow.Precision.SINGLE ? "float32" : p === arrow.Precision.DOUBLE ? "float64" : undefined;
  }
  if (arrow.DataType.isTimestamp(type))
    return `datetime64[${FROM_ARROW_UNIT[(type as arrow.Timestamp).unit] as TimeUnit}]`;
  if (arrow.DataType.isDuration(type))
    return `timedelta64[${FROM_ARROW_UNIT[(type as arrow.Duration).unit] as TimeUnit}]`;
  if (arrow.DataType.isDate(type) && (type as arrow.Date_).unit === arrow.DateUnit.DAY)
    return "datetime64[D]";
  if (arrow.DataType.isUtf8(type) || arrow.DataType.isLargeUtf8(type)) return "string";
  return undefined;
}

/** Reads `length` leaf values of one chunk into `out` from position `at`; returns the number of nulls met. */
function readLeaf(
  leaf: arrow.Data,
  length: number,
  dtype: DType,
  out: NDArray,
  at: number,
  column: string,
): number {
  const dst = out.data as unknown as { [i: number]: unknown };
  let nulls = 0;
  const hasNulls = leaf.nullCount > 0;
  if (dtype === "bool" || dtype === "string") {
    const vec = arrow.makeVector(leaf);
    for (let i = 0; i < length; i++) {
      if (hasNulls && !leaf.getValid(i)) {
        nulls++;
        dst[at + i] = dtype === "bool" ? 0 : "";
        continue;
      }
      const v = vec.get(i) as boolean | string;
      dst[at + i] = dtype === "bool" ? (v ? 1 : 0) : v;
    }
    return nulls;
  }
  const values = leaf.values as unknown as ArrayLike<number | bigint>;
  if (values.length < length)
    throw new SchemaError(`Arrow column '${column}' has fewer values than rows`, { variable: column });
  const isDate32 = arrow.DataType.isDate(leaf.type);
  const nullValue: number | bigint = dtype.startsWith("float")
    ? Number.NaN
    : isDatetime(dtype) || isTimedelta(dtype)
      ? NAT
      : isBigIntDType(dtype)
        ? 0n
        : 0;
  for (let i = 0; i < length; i++) {
    if (hasNulls && !leaf.getValid(i)) {
      nulls++;
      dst[at + i] = nullValue;
      continue;
    }
    const v = values[i] as number | bigint;
    dst[at + i] = isDate32 ? BigInt(v as number) : v;
  }
  return nulls;
}

/** Converts times between units (exact for values written by {@link groupToArrow}). */
function convertTimes(a: NDArray, target: DType): NDArray {
  const from = timeUnit(a.dtype);
  const to = timeUnit(target);
  const src = a.data as BigInt64Array;
  const out = new BigInt64Array(src.length);
  const calendar = isTimedelta(target) && (to === "Y" || to === "M");
  for (let i = 0; i < src.length; i++) {
    const v = src[i] as bigint;
    if (v === NAT) out[i] = NAT;
    else if (calendar) out[i] = v;
    else if (isTimedelta(target)) out[i] = (v * unitNanoseconds(from as "s")) / unitNanoseconds(to as "s");
    else out[i] = fromNanoseconds(toNanoseconds(v, from), to);
  }
  return new NDArray(target, a.shape, out as NDArray["data"]);
}

/**
 * The parts of a flat dataset read from an Arrow table (see the module notes).
 *
 * @throws SchemaError naming the column for an unsupported type, invalid
 *   metadata, nulls in a column that cannot represent them, or a dimension
 *   used with two different lengths.
 */
export function arrowToParts(table: arrow.Table): ArrowParts {
  const rows = table.numRows;
  const dimSizes = new Map<string, { size: number; column: string }>();
  const variables: Array<[VariableSchema, NDArray]> = [];
  table.schema.fields.forEach((field, index) => {
    const column = field.name;
    const meta = field.metadata;
    const sizes: number[] = [];
    let leafType: arrow.DataType = field.type;
    while (arrow.DataType.isFixedSizeList(leafType)) {
      sizes.push((leafType as arrow.FixedSizeList).listSize);
      leafType = (leafType as arrow.FixedSizeList).children[0]?.type as arrow.DataType;
    }
    const natural = naturalDtype(leafType);
    if (natural === undefined) {
      throw new SchemaError(`Arrow column '${column}' has the unsupported type ${String(field.type)}`, {
        variable: column,
      });
    }
    const shape = [rows, ...sizes];
    const flat = NDArray.full(natural, [shapeSize(shape)]);
    const vector = table.getChildAt(index);
    let at = 0;
    let nulls = 0;
    for (const chunk of vector?.data ?? []) {
      let leaf: arrow.Data = chunk;
      let length = chunk.length;
      for (const s of sizes) {
        leaf = leaf.children[0] as arrow.Data;
        length *= s;
      }
      nulls += readLeaf(leaf, length, natural, flat, at, column);
      at += length;
    }
    let data = flat.reshape(shape);
    const declared = meta.get(META_DTYPE);
    const dtype: DType = declared === undefined ? natural : assertDType(declared, `Arrow column '${column}'`);
    const fillJson = parseMeta(meta.get(META_FILL), "fill_value", column);
    const fill = fillJson === undefined ? null : decodeFillValue(dtype, fillJson, column);
    if (nulls > 0 && !/^(float|datetime|timedelta)/.test(natural)) {
      if (fill === null) {
        throw new SchemaError(
          `Arrow column '${column}' has ${nulls} null values that dtype ${natural} cannot represent`,
          {
            variable: column,
          },
        );
      }
      // Nulls take the declared fill value.
      const src = flat.data as unknown as { [i: number]: unknown };
      let k = 0;
      for (const chunk of vector?.data ?? []) {
        let leaf: arrow.Data = chunk;
        let length = chunk.length;
        for (const s of sizes) {
          leaf = leaf.children[0] as arrow.Data;
          length *= s;
        }
        for (let i = 0; i < length; i++, k++) {
          if (!leaf.getValid(i)) src[k] = typeof fill === "boolean" ? (fill ? 1 : 0) : fill;
        }
      }
    }
    if (dtype !== natural) {
      const times = (t: DType) => isDatetime(t) || isTimedelta(t);
      if (times(natural) && times(dtype)) data = convertTimes(data, dtype);
      else if (natural === "int64" && times(dtype)) data = data.astype(dtype);
      else data = castChecked(data, dtype, column);
    }
    const dimsMeta = parseMeta(meta.get(META_DIMS), "dimensions", column);
    let dims: string[];
    if (dimsMeta === undefined) dims = ["row", ...sizes.map((_, i) => `${column}_dim${i + 1}`)];
    else if (
      Array.isArray(dimsMeta) &&
      dimsMeta.every((d) => typeof d === "string") &&
      dimsMeta.length === shape.length
    ) {
      dims = dimsMeta as string[];
    } else {
      throw new SchemaError(
        `Arrow column '${column}': dimensions metadata does not match its rank ${shape.length}`,
        {
          variable: column,
        },
      );
    }
    dims.forEach((d, i) => {
      const size = shape[i] as number;
      const prev = dimSizes.get(d);
      if (prev === undefined) dimSizes.set(d, { size, column });
      else if (prev.size !== size) {
        throw new SchemaError(
          `inconsistent size for dimension '${d}': ${prev.size} vs ${size} (Arrow columns '${prev.column}' and '${column}')`,
          { variable: column, dimension: d },
        );
      }
    });
    const attrs = parseMeta(meta.get(META_ATTRS), "attrs", column) as Record<string, unknown> | undefined;
    variables.push([
      new VariableSchema(column, { dtype, dimensions: dims, fillValue: fill, attrs: attrs ?? null }),
      data,
    ]);
  });
  const groupAttrs = parseMeta(table.schema.metadata.get(META_ATTRS), "attrs", "(table)") as
    | Record<string, unknown>
    | undefined;
  const schema = new DatasetSchema({
    dimensions: [...dimSizes].map(
      ([name, { size }]) => new Dimension(name, { size: size > 0 ? size : null }),
    ),
    variables: variables.map(([vs]) => vs),
    attrs: groupAttrs ?? null,
  });
  return { schema, variables, attrs: schema.attrs };
}
