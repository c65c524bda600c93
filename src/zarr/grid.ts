/**
 * Regular chunk grids: chunk coordinates, copying boxes between C-order
 * buffers (chunk ↔ array), fill-value tests (docs/format.md §6.3, §6.6).
 *
 * @module
 */

import { type AnyStorage, type DType, isBigIntDType, type Scalar, type TypedArray } from "../dtype.js";

/** Number of chunks along each dimension: `ceil(shape / chunkShape)`. */
export function gridShape(shape: readonly number[], chunkShape: readonly number[]): number[] {
  return shape.map((s, d) => Math.ceil(s / (chunkShape[d] as number)));
}

/** Every index of a box of `shape` in C order (one empty index for a 0-d shape, none when an extent is 0). */
export function allIndices(shape: readonly number[]): number[][] {
  const out: number[][] = [];
  if (shape.some((s) => s <= 0)) return out;
  const idx = shape.map(() => 0);
  for (;;) {
    out.push([...idx]);
    let d = shape.length - 1;
    while (d >= 0) {
      idx[d] = (idx[d] as number) + 1;
      if ((idx[d] as number) < (shape[d] as number)) break;
      idx[d] = 0;
      d--;
    }
    if (d < 0) return out;
  }
}

/** C-order strides (in elements) of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d] as number;
  }
  return strides;
}

/**
 * Copies the box of `extent` starting at `srcStart` in `src` (C order, shape
 * `srcShape`) to `dstStart` in `dst` (shape `dstShape`). Trailing dimensions
 * that are whole on both sides are merged, so a box of full rows is one
 * `set` call.
 */
export function copyBox(
  src: AnyStorage,
  srcShape: readonly number[],
  srcStart: readonly number[],
  dst: AnyStorage,
  dstShape: readonly number[],
  dstStart: readonly number[],
  extent: readonly number[],
): void {
  const n = extent.length;
  if (extent.some((e) => e <= 0)) return;
  if (n === 0) {
    (dst as unknown as unknown[])[0] = (src as unknown as ArrayLike<unknown>)[0];
    return;
  }
  const ss = stridesOf(srcShape);
  const ds = stridesOf(dstShape);
  // Merge trailing dimensions that are whole in src, dst and the box.
  let d = n - 1;
  let run = extent[d] as number;
  while (d > 0 && extent[d] === srcShape[d] && extent[d] === dstShape[d]) {
    d--;
    run *= extent[d] as number;
  }
  // Dimensions 0..d-1 are iterated; dimension d (with the whole ones after it) is the contiguous run.
  let srcOff = 0;
  let dstOff = 0;
  for (let k = 0; k < n; k++) {
    srcOff += (srcStart[k] as number) * (ss[k] as number);
    dstOff += (dstStart[k] as number) * (ds[k] as number);
  }
  const typed = !Array.isArray(src);
  const copyRun = (so: number, doff: number) => {
    if (typed) {
      (dst as TypedArray).set((src as TypedArray).subarray(so, so + run) as never, doff);
    } else {
      const s = src as string[];
      const t = dst as string[];
      for (let i = 0; i < run; i++) t[doff + i] = s[so + i] as string;
    }
  };
  if (d === 0) {
    copyRun(srcOff, dstOff);
    return;
  }
  const idx = new Array<number>(d).fill(0);
  for (;;) {
    copyRun(srcOff, dstOff);
    let k = d - 1;
    while (k >= 0) {
      idx[k] = (idx[k] as number) + 1;
      srcOff += ss[k] as number;
      dstOff += ds[k] as number;
      if ((idx[k] as number) < (extent[k] as number)) break;
      srcOff -= (ss[k] as number) * (extent[k] as number);
      dstOff -= (ds[k] as number) * (extent[k] as number);
      idx[k] = 0;
      k--;
    }
    if (k < 0) return;
  }
}

/** The storage element of a fill value (`bool` → 0/1). */
export function storageValue(fill: Scalar, dtype: DType): number | bigint | string {
  if (dtype === "bool") return fill ? 1 : 0;
  if (dtype === "string") return String(fill);
  if (isBigIntDType(dtype)) return typeof fill === "bigint" ? fill : BigInt(fill as number);
  return Number(fill);
}

/** Sets every element of `data` to the fill value (no-op for 0 / "" storage that is already zeroed when `fresh`). */
export function fillWith(data: AnyStorage, dtype: DType, fill: Scalar, fresh = false): void {
  const v = storageValue(fill, dtype);
  if (fresh && (v === 0 || v === 0n || v === "") && !Object.is(v, -0)) return;
  (data as unknown as { fill(v: unknown): void }).fill(v);
}

/**
 * Whether every element of a chunk equals the fill value (docs/format.md §6.6): NaN
 * equals NaN; other floats compare bitwise (−0.0 is not 0.0).
 */
export function isAllFill(data: AnyStorage, dtype: DType, fill: Scalar): boolean {
  const v = storageValue(fill, dtype);
  const n = data.length;
  if (typeof v === "number" && (dtype === "float32" || dtype === "float64")) {
    if (Number.isNaN(v)) {
      const f = data as Float64Array;
      for (let i = 0; i < n; i++) if (!Number.isNaN(f[i] as number)) return false;
      return true;
    }
    // Bitwise comparison through an integer view.
    if (dtype === "float32") {
      const bits = new Uint32Array(new Float32Array([v]).buffer)[0] as number;
      const f = data as Float32Array;
      const u = new Uint32Array(f.buffer, f.byteOffset, n);
      for (let i = 0; i < n; i++) if (u[i] !== bits) return false;
      return true;
    }
    const f = data as Float64Array;
    if (f.byteOffset % 8 === 0) {
      const words = new Uint32Array(new Float64Array([v]).buffer);
      const lo = words[0] as number;
      const hi = words[1] as number;
      const u = new Uint32Array(f.buffer, f.byteOffset, n * 2);
      for (let i = 0; i < 2 * n; i += 2) if (u[i] !== lo || u[i + 1] !== hi) return false;
      return true;
    }
    for (let i = 0; i < n; i++) if (!Object.is(f[i], v)) return false;
    return true;
  }
  const a = data as unknown as ArrayLike<unknown>;
  for (let i = 0; i < n; i++) if (a[i] !== v) return false;
  return true;
}
