/**
 * numcodecs' `delta` filter (`numcodecs.delta`, array-to-array): each element
 * is stored as the difference from the previous one in the flattened chunk.
 * Read support for data written by zarr-python with numcodecs filters.
 *
 * @module
 */

import { type AnyStorage, type DType, fromNumpyDtype, isFloatDType, type TypedArray } from "../../dtype.js";
import { CodecError } from "../../errors.js";

/**
 * Checks a `numcodecs.delta` configuration against the array's dtype: its
 * `dtype` (and `astype`, when given) must be the array's own.
 *
 * @throws CodecError naming `key` otherwise.
 */
export function checkDeltaConfig(
  configuration: Readonly<Record<string, unknown>> | undefined,
  dtype: DType,
  key: string,
): void {
  const same = (v: unknown): boolean => {
    if (v === undefined || v === null) return true;
    try {
      return typeof v === "string" && fromNumpyDtype(v) === dtype;
    } catch {
      return false;
    }
  };
  if (dtype === "string" || dtype === "bool" || !same(configuration?.dtype) || !same(configuration?.astype)) {
    throw new CodecError(
      `unsupported numcodecs.delta configuration ${JSON.stringify(configuration)} for ${dtype} in ${key}`,
      {
        key,
      },
    );
  }
}

/** Delta-encodes a numeric chunk (new storage). */
export function encodeDelta(data: AnyStorage): AnyStorage {
  const src = data as TypedArray;
  const out = src.slice() as TypedArray;
  const o = out as unknown as number[];
  const s = src as unknown as number[];
  for (let i = src.length - 1; i > 0; i--) o[i] = (s[i] as number) - (s[i - 1] as number);
  return out;
}

/** Undoes {@link encodeDelta} in place (integer types wrap like numpy). */
export function decodeDelta(data: AnyStorage, dtype: DType): AnyStorage {
  const d = data as unknown as number[];
  if (isFloatDType(dtype) || typeof d[0] === "number") {
    for (let i = 1; i < d.length; i++) d[i] = (d[i] as number) + (d[i - 1] as number);
  } else {
    const b = data as unknown as bigint[];
    for (let i = 1; i < b.length; i++) b[i] = (b[i] as bigint) + (b[i - 1] as bigint);
  }
  return data;
}
