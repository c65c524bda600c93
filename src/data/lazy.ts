/**
 * {@link LazyArray}: data that is read on demand (a Zarr array in a store,
 * a slice of another lazy array, ...).
 *
 * @module
 */

import type { DType } from "../dtype.js";
import { NDArray } from "../ndarray.js";

/**
 * An array whose values are loaded on demand. `shape` and `dtype` are known
 * without loading; {@link LazyArray.load} materialises the values (it may be
 * called several times; implementations may cache).
 */
export interface LazyArray {
  /** Extent of each dimension. */
  readonly shape: readonly number[];
  /** Element type of the loaded values. */
  readonly dtype: DType;
  /** Reads the values. Rejects with the signal's reason when aborted. */
  load(opts?: { signal?: AbortSignal }): Promise<NDArray>;
}

/** Whether `value` is a {@link LazyArray} (structural check: `shape`, `dtype` and a `load` function; not an NDArray). */
export function isLazyArray(value: unknown): value is LazyArray {
  if (typeof value !== "object" || value === null || value instanceof NDArray) return false;
  const v = value as { shape?: unknown; dtype?: unknown; load?: unknown };
  return Array.isArray(v.shape) && typeof v.dtype === "string" && typeof v.load === "function";
}

/**
 * A lazy array computed from other lazy or loaded arrays: `shape` and `dtype`
 * are given, `compute` runs on the first {@link load} and its result is cached.
 */
export class DerivedLazyArray implements LazyArray {
  /** Extent of each dimension. */
  readonly shape: readonly number[];
  /** Element type. */
  readonly dtype: DType;
  readonly #compute: (opts?: { signal?: AbortSignal }) => Promise<NDArray>;
  #cached: Promise<NDArray> | undefined;

  constructor(
    shape: readonly number[],
    dtype: DType,
    compute: (opts?: { signal?: AbortSignal }) => Promise<NDArray>,
  ) {
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.#compute = compute;
  }

  /** Computes (once) and returns the values. A failed or aborted load is not cached. */
  load(opts?: { signal?: AbortSignal }): Promise<NDArray> {
    if (opts?.signal?.aborted) return Promise.reject(opts.signal.reason);
    if (this.#cached === undefined) {
      const p = this.#compute(opts);
      this.#cached = p;
      p.catch(() => {
        if (this.#cached === p) this.#cached = undefined;
      });
    }
    return this.#cached;
  }
}
