/**
 * Fill values: their in-memory type per dtype and their JSON encoding in
 * `_zcollection.json` (docs/format.md §3.4).
 *
 * In memory a fill value is `null` (none) or typed per dtype:
 *
 * | dtype | type |
 * | --- | --- |
 * | int8..int32, uint8..uint32, float32, float64 | `number` (NaN, ±Infinity allowed for floats; float32 values rounded with `Math.fround`) |
 * | int64, uint64, datetime64[*], timedelta64[*] | `bigint` (NaT = {@link NAT}) |
 * | bool | `boolean` |
 * | string | `string` |
 *
 * @module
 */

import {
  type DType,
  datetime64,
  isBigIntDType,
  isDatetime,
  isFloatDType,
  isTimedelta,
  NAT,
  timeUnit,
} from "../dtype.js";
import { SchemaError } from "../errors.js";

/** An in-memory fill value (see the module table). */
export type FillValue = number | bigint | boolean | string | null;

/** A fill value as stored in `_zcollection.json` (bigint only where exactness matters). */
export type FillValueJSON = number | bigint | boolean | string | null;

const INT_RANGES: Record<string, [bigint, bigint]> = {
  int8: [-128n, 127n],
  int16: [-32768n, 32767n],
  int32: [-2147483648n, 2147483647n],
  uint8: [0n, 255n],
  uint16: [0n, 65535n],
  uint32: [0n, 4294967295n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

function show(value: unknown): string {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") return String(value);
  if (value instanceof Date) return value.toISOString();
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** An exact integer from a number, bigint, boolean or decimal string, or undefined. */
function toInteger(value: unknown): bigint | undefined {
  if (typeof value === "bigint") return value;
  if (typeof value === "boolean") return value ? 1n : 0n;
  if (typeof value === "number") return Number.isInteger(value) ? BigInt(value) : undefined;
  if (typeof value === "string" && /^\s*[+-]?\d+\s*$/.test(value)) return BigInt(value.trim());
  return undefined;
}

/**
 * Casts a fill value to the in-memory type of `dtype` (numpy
 * `numpy.array(value, dtype).item()` semantics, refusing lossy casts):
 * integers must be integral and in range, strings are accepted for numbers
 * when they parse exactly (`"NaN"`, `"-Infinity"`, `"42"`), datetimes also
 * accept an ISO 8601 string, a `Date` or `"NaT"`, booleans accept 0/1.
 * `null` and `undefined` give `null`.
 *
 * @param variable the variable name, used in the error message.
 * @param what the message prefix (`"invalid fill_value"` when building a
 *   schema, `"could not decode fill_value"` when reading JSON).
 * @throws SchemaError naming the variable, the value and the dtype.
 */
export function castFillValue(
  dtype: DType,
  value: unknown,
  variable: string,
  what = "invalid fill_value",
): FillValue {
  if (value === null || value === undefined) return null;
  const fail = (): never => {
    throw new SchemaError(`${what} ${show(value)} for variable '${variable}' of dtype ${dtype}`, {
      variable,
    });
  };
  if (dtype === "string") return typeof value === "string" ? value : fail();
  if (dtype === "bool") {
    if (typeof value === "boolean") return value;
    if (value === 0 || value === 1 || value === 0n || value === 1n) return Boolean(value);
    return fail();
  }
  if (isFloatDType(dtype)) {
    let n: number;
    if (typeof value === "number") n = value;
    else if (typeof value === "bigint") n = Number(value);
    else if (typeof value === "boolean") n = value ? 1 : 0;
    else if (typeof value === "string") {
      const t = value.trim();
      if (t === "NaN" || t === "nan") n = Number.NaN;
      else if (t === "Infinity" || t === "inf") n = Number.POSITIVE_INFINITY;
      else if (t === "-Infinity" || t === "-inf") n = Number.NEGATIVE_INFINITY;
      else if (t !== "" && Number.isFinite(Number(t))) n = Number(t);
      else return fail();
    } else return fail();
    return dtype === "float32" ? Math.fround(n) : n;
  }
  if (isDatetime(dtype) || isTimedelta(dtype)) {
    if (value === "NaT") return NAT;
    if (
      isDatetime(dtype) &&
      (value instanceof Date || (typeof value === "string" && !/^\s*[+-]?\d+\s*$/.test(value)))
    ) {
      try {
        return datetime64(value as string | Date, timeUnit(dtype));
      } catch {
        return fail();
      }
    }
    if (typeof value === "boolean") return fail();
    const i = toInteger(value);
    const [lo, hi] = INT_RANGES.int64 as [bigint, bigint];
    return i !== undefined && i >= lo && i <= hi ? i : fail();
  }
  const range = INT_RANGES[dtype];
  if (range === undefined) return fail();
  const i = toInteger(value);
  if (i === undefined || i < range[0] || i > range[1]) return fail();
  return isBigIntDType(dtype) ? i : Number(i);
}

/**
 * The JSON form of a fill value (docs/format.md §3.4): `null` for none and for NaT,
 * `"NaN"`/`"Infinity"`/`"-Infinity"` for non-finite floats, numbers for
 * finite numbers and for 64-bit integers within ±2^53, `bigint` for larger
 * 64-bit integers (so that {@link stringifyJson} writes them digit-exact),
 * datetimes/timedeltas as the integer tick count of their unit.
 */
export function encodeFillValue(dtype: DType, fill: FillValue): FillValueJSON {
  if (fill === null) return null;
  if (typeof fill === "number") {
    if (Number.isNaN(fill)) return "NaN";
    if (fill === Number.POSITIVE_INFINITY) return "Infinity";
    if (fill === Number.NEGATIVE_INFINITY) return "-Infinity";
    return fill;
  }
  if (typeof fill === "bigint") {
    if (fill === NAT && (isDatetime(dtype) || isTimedelta(dtype))) return null;
    return Number.isSafeInteger(Number(fill)) ? Number(fill) : fill;
  }
  return fill;
}

/**
 * Reads a JSON fill value (docs/format.md §3.4): `null` → `null`, the special strings
 * → ±Infinity/NaN, anything else cast to `dtype` with {@link castFillValue}.
 *
 * @throws SchemaError "could not decode fill_value …" naming the variable.
 */
export function decodeFillValue(dtype: DType, json: unknown, variable: string): FillValue {
  return castFillValue(dtype, json, variable, "could not decode fill_value");
}

/** Whether two fill values are the same (NaN equals NaN). */
export function fillValuesEqual(a: FillValue, b: FillValue): boolean {
  if (typeof a === "number" && typeof b === "number" && Number.isNaN(a) && Number.isNaN(b)) return true;
  return a === b;
}
