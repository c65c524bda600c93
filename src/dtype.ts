/**
 * Data types: the {@link DType} literal union, its storage (typed arrays),
 * and the mappings to numpy dtype strings (docs/format.md §3.5) and to Zarr v3
 * `data_type` documents (docs/format.md §6.2). The datetime64/timedelta64
 * helpers (units, NaT, parsing and formatting) live in ./dtype-time.ts and
 * are re-exported from here.
 *
 * 64-bit integers, datetimes and timedeltas are `bigint` end to end
 * (BigInt64Array / BigUint64Array), never `number`.
 *
 * @module
 */

import { TIME_UNITS, type TimeUnit } from "./dtype-time.js";
import { SchemaError } from "./errors.js";

export {
  civilFromDays,
  type DatetimeFields,
  datetime64,
  datetimeFields,
  daysFromCivil,
  floorDiv,
  formatDatetime64,
  fromNanoseconds,
  NAT,
  TIME_UNITS,
  type TimeUnit,
  toNanoseconds,
  unitNanoseconds,
} from "./dtype-time.js";

/** A datetime64 dtype name. */
export type DatetimeDType = `datetime64[${TimeUnit}]`;
/** A timedelta64 dtype name. */
export type TimedeltaDType = `timedelta64[${TimeUnit}]`;

/** Numeric dtypes stored in a `number` typed array. */
export type NumberDType = "int8" | "int16" | "int32" | "uint8" | "uint16" | "uint32" | "float32" | "float64";
/** Dtypes stored in a BigInt64Array / BigUint64Array. */
export type BigIntDType = "int64" | "uint64" | DatetimeDType | TimedeltaDType;

/** Every data type a variable or array may have. `string` is variable-length UTF-8. */
export type DType = "bool" | NumberDType | BigIntDType | "string";

/** Every typed array the library stores data in. */
export type TypedArray =
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

/** Storage of a dtype: the typed array (or `string[]`) holding its values. */
export type TypedArrayFor<D extends DType> = D extends "bool"
  ? Uint8Array
  : D extends "int8"
    ? Int8Array
    : D extends "int16"
      ? Int16Array
      : D extends "int32"
        ? Int32Array
        : D extends "uint8"
          ? Uint8Array
          : D extends "uint16"
            ? Uint16Array
            : D extends "uint32"
              ? Uint32Array
              : D extends "float32"
                ? Float32Array
                : D extends "float64"
                  ? Float64Array
                  : D extends "uint64"
                    ? BigUint64Array
                    : D extends "string"
                      ? string[]
                      : BigInt64Array;

/** Scalar type of one element of a dtype. */
export type ScalarFor<D extends DType> = D extends "bool"
  ? boolean
  : D extends "string"
    ? string
    : D extends BigIntDType
      ? bigint
      : number;

/** Any element value. */
export type Scalar = number | bigint | string | boolean;

/** Storage of any dtype. */
export type AnyStorage = TypedArray | string[];

const NUMBER_DTYPES: readonly NumberDType[] = [
  "int8",
  "int16",
  "int32",
  "uint8",
  "uint16",
  "uint32",
  "float32",
  "float64",
];

/** Whether `value` names a supported dtype. */
export function isDType(value: unknown): value is DType {
  if (typeof value !== "string") return false;
  if (value === "bool" || value === "string" || value === "int64" || value === "uint64") return true;
  if ((NUMBER_DTYPES as readonly string[]).includes(value)) return true;
  const m = /^(datetime64|timedelta64)\[(\w+)\]$/.exec(value);
  return m !== null && (TIME_UNITS as readonly string[]).includes(m[2] ?? "");
}

/** Checks a dtype name, throwing {@link SchemaError} naming it when unknown. */
export function assertDType(value: unknown, context?: string): DType {
  if (!isDType(value)) {
    throw new SchemaError(`unknown dtype ${JSON.stringify(value)}${context ? ` (${context})` : ""}`);
  }
  return value;
}

/** Whether the dtype is datetime64 of any unit. */
export function isDatetime(dtype: DType): dtype is DatetimeDType {
  return dtype.startsWith("datetime64[");
}

/** Whether the dtype is timedelta64 of any unit. */
export function isTimedelta(dtype: DType): dtype is TimedeltaDType {
  return dtype.startsWith("timedelta64[");
}

/** Whether the dtype is stored as `bigint` (int64, uint64, datetime64, timedelta64). */
export function isBigIntDType(dtype: DType): dtype is BigIntDType {
  return dtype === "int64" || dtype === "uint64" || isDatetime(dtype) || isTimedelta(dtype);
}

/** Whether the dtype is an integer type (incl. 64-bit; excludes bool and times). */
export function isIntegerDType(dtype: DType): boolean {
  return /^u?int(8|16|32|64)$/.test(dtype);
}

/** Whether the dtype is float32 or float64. */
export function isFloatDType(dtype: DType): dtype is "float32" | "float64" {
  return dtype === "float32" || dtype === "float64";
}

/** The unit of a datetime64/timedelta64 dtype. Throws {@link SchemaError} for other dtypes. */
export function timeUnit(dtype: DType): TimeUnit {
  const m = /^(?:datetime64|timedelta64)\[(\w+)\]$/.exec(dtype);
  if (m === null) throw new SchemaError(`dtype ${dtype} has no time unit`);
  return m[1] as TimeUnit;
}

/** Size of one element in bytes (strings: 8, like numpy's object pointer). */
export function itemSize(dtype: DType): number {
  switch (dtype) {
    case "bool":
    case "int8":
    case "uint8":
      return 1;
    case "int16":
    case "uint16":
      return 2;
    case "int32":
    case "uint32":
    case "float32":
      return 4;
    default:
      return 8;
  }
}

/** Allocates zero-filled storage for `length` elements of `dtype` (strings: `""`). */
export function allocate<D extends DType>(dtype: D, length: number): TypedArrayFor<D> {
  return new (storageConstructor(dtype))(length) as TypedArrayFor<D>;
}

/**
 * Allocates zero-filled storage for `length` elements of `dtype` in a
 * SharedArrayBuffer, which worker threads can fill in place (reads decoded
 * by the codec pool); plain storage for strings, or where the runtime has
 * no SharedArrayBuffer (a browser page without cross-origin isolation).
 * A typed array on shared memory behaves as any other, except that
 * `postMessage` and `structuredClone` share it instead of copying it and it
 * cannot be transferred: `.slice()` gives a private copy.
 */
export function allocateShared<D extends DType>(dtype: D, length: number): TypedArrayFor<D> {
  if (dtype === "string" || typeof SharedArrayBuffer === "undefined") return allocate(dtype, length);
  const Ctor = storageConstructor(dtype) as unknown as new (b: SharedArrayBuffer) => AnyStorage;
  return new Ctor(new SharedArrayBuffer(length * itemSize(dtype))) as TypedArrayFor<D>;
}

/** The bytes of typed storage (a view on the same memory). */
export function storageBytes(data: Exclude<AnyStorage, string[]>): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

type StorageCtor = new (length: number) => AnyStorage;

/** Constructs a plain `string[]` of `length` empty strings (callable with `new`). */
const StringStorage = function StringStorage(length: number): string[] {
  return new Array<string>(length).fill("");
} as unknown as StorageCtor;

/** Constructor of the storage of a dtype. */
export function storageConstructor(dtype: DType): StorageCtor {
  switch (dtype) {
    case "bool":
    case "uint8":
      return Uint8Array;
    case "int8":
      return Int8Array;
    case "int16":
      return Int16Array;
    case "uint16":
      return Uint16Array;
    case "int32":
      return Int32Array;
    case "uint32":
      return Uint32Array;
    case "float32":
      return Float32Array;
    case "float64":
      return Float64Array;
    case "uint64":
      return BigUint64Array;
    case "string":
      return StringStorage;
    default:
      return BigInt64Array;
  }
}

/**
 * The dtype a typed array holds by default (no datetime inference:
 * BigInt64Array → int64, Uint8Array → uint8).
 */
export function dtypeOfStorage(data: AnyStorage): DType {
  if (Array.isArray(data)) return "string";
  if (data instanceof Float64Array) return "float64";
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Int32Array) return "int32";
  if (data instanceof Int16Array) return "int16";
  if (data instanceof Int8Array) return "int8";
  if (data instanceof Uint32Array) return "uint32";
  if (data instanceof Uint16Array) return "uint16";
  if (data instanceof Uint8Array) return "uint8";
  if (data instanceof BigUint64Array) return "uint64";
  if (data instanceof BigInt64Array) return "int64";
  throw new SchemaError("unsupported array storage");
}

// ---------------------------------------------------------------------------
// numpy dtype strings (docs/format.md §3.5)

/**
 * The numpy `dtype.str` of a dtype, as written in `_zcollection.json`
 * (docs/format.md §3.5): `|b1`, `|i1`, `<i2`, `<f4`, `<M8[ns]`, `<m8[ms]`, and `|O`
 * for strings (docs/format.md §6.6). A string variable this library declares is
 * `|O` (numpy's object dtype, which the Python library reads as `str`
 * values), never `<U0`, whose arrays it would write as `fixed_length_utf32`:
 * we write strings as variable-length UTF-8 (see `effectiveCodecs`).
 */
export function toNumpyDtype(dtype: DType): string {
  switch (dtype) {
    case "bool":
      return "|b1";
    case "int8":
      return "|i1";
    case "uint8":
      return "|u1";
    case "int16":
      return "<i2";
    case "uint16":
      return "<u2";
    case "int32":
      return "<i4";
    case "uint32":
      return "<u4";
    case "int64":
      return "<i8";
    case "uint64":
      return "<u8";
    case "float32":
      return "<f4";
    case "float64":
      return "<f8";
    case "string":
      return "|O";
    default:
      return isDatetime(dtype) ? `<M8[${timeUnit(dtype)}]` : `<m8[${timeUnit(dtype)}]`;
  }
}

const NUMPY_KIND: Record<string, DType> = {
  b1: "bool",
  i1: "int8",
  u1: "uint8",
  i2: "int16",
  u2: "uint16",
  i4: "int32",
  u4: "uint32",
  i8: "int64",
  u8: "uint64",
  f4: "float32",
  f8: "float64",
};

/**
 * numpy's spellings of a Unicode string dtype: fixed-width `<U n` of any
 * width and byte order (the Python zcollection records `str` variables as
 * `<U0`), the object dtype `|O`, and numpy 2's variable-width `StringDType()`
 * (also `T`).
 */
const NUMPY_STRING = /^(?:[<>|=]?(?:U\d*|O|T\d*)|StringDType\(\))$/;

/**
 * Parses a numpy dtype string (`<f4`, `>i8`, `|b1`, `=u2`, `<M8[ns]`, also
 * bare names such as `float32` or `datetime64[s]`). The byte-order prefix is
 * accepted and dropped (data is always handled little-endian in memory).
 * Every Unicode string dtype — `<U0`, `<U26`, `>U5`, `|O`, `StringDType()` —
 * is our `string` (`string[]` in memory): the width of a `<U n` dtype is a
 * property of each stored array (its `fixed_length_utf32` data type), not of
 * the variable.
 *
 * @throws SchemaError naming the string when the dtype is unknown or unsupported
 *   (float16, complex, byte strings `|S n`, raw `|V n`, generic datetimes,
 *   ps/fs/as units).
 */
export function fromNumpyDtype(str: string): DType {
  if (isDType(str)) return str;
  if (NUMPY_STRING.test(str)) return "string";
  const m = /^([<>|=]?)([a-zA-Z]\d*)(?:\[(\w+)\])?$/.exec(str);
  if (m !== null) {
    const code = m[2] ?? "";
    const unit = m[3];
    if ((code === "M8" || code === "m8") && unit !== undefined) {
      if ((TIME_UNITS as readonly string[]).includes(unit)) {
        return `${code === "M8" ? "datetime64" : "timedelta64"}[${unit as TimeUnit}]`;
      }
      throw new SchemaError(`unsupported time unit in dtype '${str}'`);
    }
    if (unit === undefined) {
      const dtype = NUMPY_KIND[code];
      if (dtype !== undefined) return dtype;
    }
  }
  throw new SchemaError(`unknown or unsupported numpy dtype '${str}'`);
}

// ---------------------------------------------------------------------------
// Zarr v3 data_type (docs/format.md §6.2)

/** A Zarr v3 `data_type` value: a core name or an extension object. */
export type ZarrDataType = string | { name: string; configuration?: Record<string, unknown> };

/**
 * Result of decoding a Zarr `data_type`: the dtype, for times the tick
 * multiplier, for fixed-width strings the element width.
 */
export interface DecodedZarrDataType {
  dtype: DType;
  /** Ticks per stored integer (zarr-python's `scale_factor`, 1 unless stated). */
  scaleFactor: number;
  /**
   * Bytes per element of a `fixed_length_utf32` array (4 × its code points;
   * may be 0); absent for every other data type, variable-length strings
   * included.
   */
  fixedLengthBytes?: number;
}

/** Largest `length_bytes` of `fixed_length_utf32` (numpy's `U` limit: 536870911 code points). */
export const MAX_FIXED_UTF32_BYTES = 2147483644;

/** Whether `n` is a valid `length_bytes` of `fixed_length_utf32`: an integer multiple of 4 in [0, {@link MAX_FIXED_UTF32_BYTES}]. */
export function isFixedUtf32Length(n: unknown): n is number {
  return (
    typeof n === "number" && Number.isSafeInteger(n) && n >= 0 && n % 4 === 0 && n <= MAX_FIXED_UTF32_BYTES
  );
}

/** zarr-python's names of the variable-length UTF-8 data type (`string`; `variable_length_utf8` in some releases). */
const VLEN_STRING_NAMES: readonly string[] = ["string", "variable_length_utf8"];

/**
 * The Zarr v3 `data_type` of a dtype (docs/format.md §6.2): core names for numbers and
 * bool, `"string"` for variable-length UTF-8, and zarr-python's
 * `numpy.datetime64` / `numpy.timedelta64` extension objects for times.
 */
export function toZarrDataType(dtype: DType): ZarrDataType {
  if (isDatetime(dtype) || isTimedelta(dtype)) {
    return {
      name: isDatetime(dtype) ? "numpy.datetime64" : "numpy.timedelta64",
      configuration: { unit: timeUnit(dtype), scale_factor: 1 },
    };
  }
  return dtype;
}

/**
 * Decodes a Zarr v3 `data_type`. Strings in either of zarr-python's
 * encodings decode to our `string` dtype: `"string"` (variable-length UTF-8,
 * `vlen-utf8` codec; also spelled `"variable_length_utf8"`) and
 * `{"name": "fixed_length_utf32", "configuration": {"length_bytes": n}}`
 * (numpy `<U n/4`, `bytes` codec), whose width is returned as
 * `fixedLengthBytes`.
 *
 * @throws SchemaError naming the type for float16, complex, byte strings
 *   (`null_terminated_bytes`, `variable_length_bytes`), raw bytes, an invalid
 *   `length_bytes` and anything unknown ("unsupported data type").
 */
export function fromZarrDataType(dataType: unknown): DecodedZarrDataType {
  if (typeof dataType === "string") {
    if (VLEN_STRING_NAMES.includes(dataType)) return { dtype: "string", scaleFactor: 1 };
    if (isDType(dataType)) {
      if (isDatetime(dataType as DType) || isTimedelta(dataType as DType)) {
        throw new SchemaError(`unsupported data type ${JSON.stringify(dataType)}`);
      }
      return { dtype: dataType as DType, scaleFactor: 1 };
    }
    throw new SchemaError(`unsupported data type ${JSON.stringify(dataType)}`);
  }
  if (typeof dataType === "object" && dataType !== null) {
    const { name, configuration } = dataType as { name?: unknown; configuration?: Record<string, unknown> };
    if (name === "fixed_length_utf32") {
      const n = configuration?.length_bytes;
      if (!isFixedUtf32Length(n)) {
        throw new SchemaError(
          `unsupported data type ${String(name)} with length_bytes ${String(n)}: ` +
            `expected a multiple of 4 in [0, ${MAX_FIXED_UTF32_BYTES}]`,
        );
      }
      return { dtype: "string", scaleFactor: 1, fixedLengthBytes: n };
    }
    if (name === "numpy.datetime64" || name === "numpy.timedelta64") {
      const unit = configuration?.unit;
      const scale = configuration?.scale_factor ?? 1;
      if (typeof unit !== "string" || !(TIME_UNITS as readonly string[]).includes(unit)) {
        throw new SchemaError(`unsupported time unit in data type ${JSON.stringify(dataType)}`);
      }
      if (typeof scale !== "number" || !Number.isInteger(scale) || scale < 1) {
        throw new SchemaError(`invalid scale_factor in data type ${JSON.stringify(dataType)}`);
      }
      const kind = name === "numpy.datetime64" ? "datetime64" : "timedelta64";
      return { dtype: `${kind}[${unit as TimeUnit}]`, scaleFactor: scale };
    }
  }
  throw new SchemaError(`unsupported data type ${JSON.stringify(dataType)}`);
}
