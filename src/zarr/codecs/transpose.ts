/**
 * The `transpose` array-to-array codec (Zarr v3 core): the chunk is stored
 * with its axes permuted by `order`.
 *
 * @module
 */

import type { AnyStorage, DType } from "../../dtype.js";
import { allocate } from "../../dtype.js";
import { CodecError } from "../../errors.js";

/**
 * Reads and checks the `order` of a transpose configuration for a chunk of
 * rank `ndim` (a permutation of `0..ndim-1`; the legacy "C" and "F" are
 * accepted as identity and reversal).
 *
 * @throws CodecError naming `key` when it is not a permutation.
 */
export function parseTransposeOrder(
  configuration: Readonly<Record<string, unknown>> | undefined,
  ndim: number,
  key: string,
): number[] {
  const order = configuration?.order;
  const identity = Array.from({ length: ndim }, (_, i) => i);
  if (order === "C") return identity;
  if (order === "F") return identity.reverse();
  if (
    !Array.isArray(order) ||
    order.length !== ndim ||
    !identity.every((i) => order.includes(i)) ||
    !order.every((v) => typeof v === "number")
  ) {
    throw new CodecError(`invalid transpose order ${JSON.stringify(order)} for rank ${ndim} in ${key}`, {
      key,
    });
  }
  return order as number[];
}

/** Shape of a chunk of `shape` after transposition by `order`. */
export function transposedShape(shape: readonly number[], order: readonly number[]): number[] {
  return order.map((d) => shape[d] as number);
}

/** The inverse permutation. */
export function inverseOrder(order: readonly number[]): number[] {
  const inv = new Array<number>(order.length);
  order.forEach((d, k) => {
    inv[d] = k;
  });
  return inv;
}

/**
 * Permutes the axes of C-order `data` of `shape`: `out` has shape
 * `shape[perm[k]]` and `out[i_0..i_n] = data[j]` with `j[perm[k]] = i_k`.
 */
export function permuteAxes(
  data: AnyStorage,
  dtype: DType,
  shape: readonly number[],
  perm: readonly number[],
): AnyStorage {
  const n = shape.length;
  if (perm.every((p, k) => p === k)) return data;
  const srcStrides = new Array<number>(n);
  let s = 1;
  for (let d = n - 1; d >= 0; d--) {
    srcStrides[d] = s;
    s *= shape[d] as number;
  }
  const outShape = transposedShape(shape, perm);
  const strides = perm.map((p) => srcStrides[p] as number);
  const out = allocate(dtype, data.length);
  const src = data as unknown as ArrayLike<unknown>;
  const dst = out as unknown as unknown[];
  const idx = new Array<number>(n).fill(0);
  let offset = 0;
  for (let i = 0; i < data.length; i++) {
    dst[i] = src[offset];
    for (let k = n - 1; k >= 0; k--) {
      idx[k] = (idx[k] as number) + 1;
      offset += strides[k] as number;
      if ((idx[k] as number) < (outShape[k] as number)) break;
      offset -= (strides[k] as number) * (outShape[k] as number);
      idx[k] = 0;
    }
  }
  return out;
}
