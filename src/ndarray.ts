/**
 * {@link NDArray}: a row-major, contiguous n-dimensional array over a typed
 * array, with the axis-0 operations the collection layer needs (slice,
 * concat, take, stable argsort, unique runs), implemented once here.
 *
 * @module
 */

import {
  type AnyStorage,
  allocate,
  allocateShared,
  type DType,
  dtypeOfStorage,
  isBigIntDType,
  itemSize,
  NAT,
  type Scalar,
  type TypedArray,
  type TypedArrayFor,
  timeUnit,
  unitNanoseconds,
} from "./dtype.js";
import { SchemaError } from "./errors.js";

/** Input accepted by {@link NDArray.from}. */
export type ArrayInput =
  | NDArray
  | TypedArray
  | readonly number[]
  | readonly bigint[]
  | readonly string[]
  | readonly boolean[]
  | ArrayLike<number>;

/** Product of a shape (1 for a 0-d shape). */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * A row-major, contiguous n-dimensional array.
 *
 * `data` holds `size` elements: a typed array for numbers (BigInt64Array /
 * BigUint64Array for int64, uint64, datetime64, timedelta64; Uint8Array of
 * 0/1 for bool) or a `string[]` for variable-length strings.
 */
export class NDArray<D extends DType = DType> {
  /** The element type. */
  readonly dtype: D;
  /** Extent of each dimension (empty for a 0-d array). */
  readonly shape: readonly number[];
  /** The values in C order. */
  readonly data: TypedArrayFor<D>;

  /**
   * @throws SchemaError when `data.length` differs from the product of `shape`.
   */
  constructor(dtype: D, shape: readonly number[], data: TypedArrayFor<D>) {
    const n = shapeSize(shape);
    if (data.length !== n) {
      throw new SchemaError(`array of shape [${shape.join(", ")}] needs ${n} values; got ${data.length}`);
    }
    this.dtype = dtype;
    this.shape = Object.freeze([...shape]);
    this.data = data;
  }

  /**
   * Wraps or converts values into an NDArray.
   *
   * - an NDArray is returned as is (or converted when `dtype` differs);
   * - a typed array is wrapped without copy when its storage fits `dtype`;
   * - plain arrays are copied into new storage (numbers → float64 unless
   *   `dtype` says otherwise, bigints → int64, booleans → bool, strings → string).
   *
   * @param opts.shape defaults to `[length]`.
   * @param opts.dtype defaults to the storage's own dtype.
   * @throws SchemaError when the shape does not match the number of values.
   */
  static from<T extends DType = DType>(
    data: ArrayInput,
    opts: { shape?: readonly number[]; dtype?: T } = {},
  ): NDArray<T> {
    if (data instanceof NDArray) {
      const arr = opts.dtype === undefined || opts.dtype === data.dtype ? data : data.astype(opts.dtype);
      return (opts.shape === undefined ? arr : arr.reshape(opts.shape)) as NDArray<T>;
    }
    const length = data.length;
    const shape = opts.shape ?? [length];
    if (ArrayBuffer.isView(data)) {
      const typed = data as TypedArray;
      const own = dtypeOfStorage(typed);
      const dtype = (opts.dtype ?? own) as T;
      if (storageMatches(dtype, typed)) return new NDArray(dtype, shape, typed as TypedArrayFor<T>);
      return new NDArray(dtype, shape, convertStorage(typed, dtype) as TypedArrayFor<T>);
    }
    const first = length > 0 ? (data as ArrayLike<unknown>)[0] : undefined;
    const inferred: DType =
      typeof first === "bigint"
        ? "int64"
        : typeof first === "string"
          ? "string"
          : typeof first === "boolean"
            ? "bool"
            : "float64";
    const dtype = (opts.dtype ?? inferred) as T;
    const out = allocate(dtype, length);
    const src = data as ArrayLike<Scalar>;
    for (let i = 0; i < length; i++) setElement(out, dtype, i, src[i] as Scalar);
    return new NDArray(dtype, shape, out);
  }

  /** An array of `shape` filled with `value` (zeros / "" by default). */
  static full<T extends DType>(dtype: T, shape: readonly number[], value?: Scalar | null): NDArray<T> {
    const out = allocate(dtype, shapeSize(shape));
    if (value !== undefined && value !== null) fillStorage(out, dtype, value);
    return new NDArray(dtype, shape, out);
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** Bytes of the values (strings count 8 bytes each, like numpy object arrays). */
  get nbytes(): number {
    return this.size * itemSize(this.dtype);
  }

  /** Number of elements in one step along axis 0 (product of the other dims). */
  get rowSize(): number {
    return shapeSize(this.shape.slice(1));
  }

  /**
   * The element at a full index (one integer per dimension; negative values
   * count from the end). bool → boolean, 64-bit types → bigint.
   *
   * @throws RangeError when the index has the wrong rank or is out of bounds.
   */
  get(...index: number[]): Scalar {
    if (index.length !== this.ndim) {
      throw new RangeError(`index of rank ${index.length} for an array of rank ${this.ndim}`);
    }
    let flat = 0;
    for (let d = 0; d < index.length; d++) {
      const extent = this.shape[d] as number;
      let i = index[d] as number;
      if (i < 0) i += extent;
      if (i < 0 || i >= extent)
        throw new RangeError(`index ${index[d]} out of bounds for axis ${d} of size ${extent}`);
      flat = flat * extent + i;
    }
    return this.at(flat);
  }

  /** The element at a flat (C-order) position. */
  at(flat: number): Scalar {
    const v = (this.data as ArrayLike<Scalar>)[flat] as Scalar;
    return this.dtype === "bool" ? v !== 0 : v;
  }

  /**
   * Rows `[start, stop)` along axis 0 (clamped, negative values count from
   * the end). Typed arrays are views sharing memory; strings are copied.
   */
  slice(axis0Start: number, axis0Stop: number): NDArray<D> {
    if (this.ndim === 0) throw new RangeError("cannot slice a 0-d array");
    const n = this.shape[0] as number;
    const norm = (i: number) => Math.min(n, Math.max(0, i < 0 ? i + n : i));
    const start = norm(axis0Start);
    const stop = Math.max(start, norm(axis0Stop));
    const row = this.rowSize;
    const data = this.data as TypedArray | string[] as {
      subarray?: (a: number, b: number) => unknown;
      slice: (a: number, b: number) => unknown;
    };
    const part = (
      data.subarray ? data.subarray(start * row, stop * row) : data.slice(start * row, stop * row)
    ) as TypedArrayFor<D>;
    return new NDArray(this.dtype, [stop - start, ...this.shape.slice(1)], part);
  }

  /** Same values with another shape of the same size. */
  reshape(shape: readonly number[]): NDArray<D> {
    return new NDArray(this.dtype, shape, this.data);
  }

  /** A copy with its own storage. */
  copy(): NDArray<D> {
    return new NDArray(this.dtype, this.shape, this.data.slice() as TypedArrayFor<D>);
  }

  /**
   * Values converted to another dtype (a copy; the same array when the dtype
   * and storage already match). Number ↔ bigint conversions truncate
   * fractions toward zero; use {@link castChecked} to refuse lossy casts.
   */
  astype<T extends DType>(dtype: T): NDArray<T> {
    if ((dtype as DType) === this.dtype) return this as unknown as NDArray<T>;
    return new NDArray(dtype, this.shape, convertStorage(this.data, dtype) as TypedArrayFor<T>);
  }

  /** Values as a plain JS array (bool → boolean), in C order. */
  toArray(): Scalar[] {
    const out: Scalar[] = new Array(this.size);
    for (let i = 0; i < this.size; i++) out[i] = this.at(i);
    return out;
  }

  /** Short description: `NDArray<float32>[3, 4]`. */
  toString(): string {
    return `NDArray<${this.dtype}>[${this.shape.join(", ")}]`;
  }
}

/** Whether a typed array is the storage class of `dtype`. */
function storageMatches(dtype: DType, data: AnyStorage): boolean {
  if (dtype === "string") return Array.isArray(data);
  if (Array.isArray(data)) return false;
  const own = dtypeOfStorage(data);
  if (own === dtype) return true;
  if (dtype === "bool") return own === "uint8";
  return isBigIntDType(dtype) && dtype !== "uint64" && own === "int64";
}

/** Writes one element, converting between number, bigint, boolean and string. */
function setElement(out: AnyStorage, dtype: DType, i: number, value: Scalar): void {
  if (dtype === "string") {
    (out as string[])[i] = String(value);
  } else if (isBigIntDType(dtype)) {
    (out as BigInt64Array)[i] =
      typeof value === "bigint"
        ? value
        : BigInt(typeof value === "number" ? Math.trunc(value) : Number(value));
  } else if (dtype === "bool") {
    (out as Uint8Array)[i] = value ? 1 : 0;
  } else {
    (out as Float64Array)[i] = Number(value);
  }
}

function fillStorage(out: AnyStorage, dtype: DType, value: Scalar): void {
  if (dtype === "string") (out as string[]).fill(String(value));
  else if (isBigIntDType(dtype))
    (out as BigInt64Array).fill(typeof value === "bigint" ? value : BigInt(Number(value)));
  else if (dtype === "bool") (out as Uint8Array).fill(value ? 1 : 0);
  else (out as Float64Array).fill(Number(value));
}

/** Converts storage to the storage of `dtype` (always a new array unless already matching). */
export function convertStorage(data: AnyStorage, dtype: DType): AnyStorage {
  if (storageMatches(dtype, data)) return data.slice();
  const out = allocate(dtype, data.length);
  if (
    !Array.isArray(data) &&
    !Array.isArray(out) &&
    isBigIntDType(dtype) === (data instanceof BigInt64Array || data instanceof BigUint64Array) &&
    dtype !== "bool"
  ) {
    // Same numeric family: typed-array set handles wrapping like C casts.
    (out as Float64Array).set(data as Float64Array);
    return out;
  }
  for (let i = 0; i < data.length; i++) setElement(out, dtype, i, data[i] as Scalar);
  return out;
}

// ---------------------------------------------------------------------------
// axis-0 operations

/** Buffers allocated by {@link allocateRows}: consecutive views of one are joined without a copy. */
const ROW_OUTPUTS = new WeakSet<ArrayBufferLike>();

/**
 * Allocates zero-filled storage for `length` elements of `dtype` to be
 * filled in consecutive row blocks, e.g. a query's output, each partition
 * decoding its rows straight into its block. {@link concat} of views of it
 * that follow each other in memory returns one view of the whole: no copy.
 * With `shared`, the memory is a SharedArrayBuffer that worker threads
 * fill in place (see `allocateShared` in ./dtype.ts); strings get plain
 * storage (and are copied by `concat`).
 */
export function allocateRows<D extends DType>(dtype: D, length: number, shared: boolean): TypedArrayFor<D> {
  const out = shared ? allocateShared(dtype, length) : allocate(dtype, length);
  if (!Array.isArray(out)) ROW_OUTPUTS.add((out as TypedArray).buffer);
  return out;
}

/** The storage spanning `arrays` when they are consecutive views of one {@link allocateRows} buffer, in order. */
function joinedView<D extends DType>(
  arrays: readonly NDArray<D>[],
  length: number,
): TypedArrayFor<D> | undefined {
  const head = arrays[0]?.data;
  if (head === undefined || Array.isArray(head)) return undefined;
  const first = head as TypedArray;
  if (!ROW_OUTPUTS.has(first.buffer)) return undefined;
  let end = first.byteOffset;
  for (const a of arrays) {
    const d = a.data as TypedArray;
    if (d.buffer !== first.buffer || d.byteOffset !== end) return undefined;
    end += d.byteLength;
  }
  const Ctor = first.constructor as new (b: ArrayBufferLike, o: number, n: number) => TypedArray;
  return new Ctor(first.buffer, first.byteOffset, length) as TypedArrayFor<D>;
}

/**
 * Concatenates arrays along axis 0. Every array must have the same dtype and
 * the same extents on the other axes. The result is new storage, except for
 * consecutive views of one {@link allocateRows} buffer: then a view of it.
 *
 * @throws SchemaError on an empty list, a dtype mismatch or a shape mismatch.
 */
export function concat<D extends DType>(arrays: readonly NDArray<D>[]): NDArray<D> {
  const first = arrays[0];
  if (first === undefined) throw new SchemaError("concat needs at least one array");
  if (arrays.length === 1) return first;
  const tail = first.shape.slice(1).join(",");
  let rows = 0;
  for (const a of arrays) {
    if (a.dtype !== first.dtype) throw new SchemaError(`cannot concatenate ${a.dtype} with ${first.dtype}`);
    if (a.ndim === 0 || a.shape.slice(1).join(",") !== tail) {
      throw new SchemaError(
        `cannot concatenate shapes [${a.shape.join(", ")}] and [${first.shape.join(", ")}] along axis 0`,
      );
    }
    rows += a.shape[0] as number;
  }
  const view = joinedView(arrays, rows * first.rowSize);
  if (view !== undefined) return new NDArray(first.dtype, [rows, ...first.shape.slice(1)], view);
  const out = allocate(first.dtype, rows * first.rowSize);
  let offset = 0;
  for (const a of arrays) {
    if (Array.isArray(out)) {
      const src = a.data as string[];
      for (let i = 0; i < src.length; i++) out[offset + i] = src[i] as string;
    } else {
      (out as Float64Array).set(a.data as Float64Array, offset);
    }
    offset += a.size;
  }
  return new NDArray(first.dtype, [rows, ...first.shape.slice(1)], out);
}

/**
 * Gathers rows along axis 0: `out[i] = array[indices[i]]`.
 *
 * @throws RangeError when an index is out of bounds.
 */
export function take<D extends DType>(array: NDArray<D>, indices: ArrayLike<number>): NDArray<D> {
  const n = array.shape[0] ?? 0;
  const row = array.rowSize;
  const out = allocate(array.dtype, indices.length * row);
  const src = array.data as ArrayLike<Scalar> & { subarray?: (a: number, b: number) => AnyStorage };
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i] as number;
    if (r < 0 || r >= n || !Number.isInteger(r))
      throw new RangeError(`row index ${r} out of bounds for ${n} rows`);
    if (row === 1) {
      (out as Scalar[])[i] = src[r] as Scalar;
    } else if (Array.isArray(out)) {
      for (let k = 0; k < row; k++) out[i * row + k] = src[r * row + k] as string;
    } else {
      (out as Float64Array).set(src.subarray!(r * row, (r + 1) * row) as Float64Array, i * row);
    }
  }
  return new NDArray(array.dtype, [indices.length, ...array.shape.slice(1)], out);
}

/**
 * Stable argsort of a 1-D array (numbers, bigints or strings): the row order
 * that sorts the values ascending, ties keeping their original order. NaN
 * sorts last (like numpy).
 *
 * @throws SchemaError when the array is not 1-D.
 */
export function argsort(array: NDArray): Int32Array {
  if (array.ndim !== 1) throw new SchemaError(`argsort needs a 1-D array; got rank ${array.ndim}`);
  const n = array.size;
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const v = array.data as ArrayLike<Scalar>;
  const cmp = (a: number, b: number): number => {
    const x = v[a] as Scalar;
    const y = v[b] as Scalar;
    if (x === y) return a - b;
    if (typeof x === "number" && Number.isNaN(x)) return Number.isNaN(y as number) ? a - b : 1;
    if (typeof y === "number" && Number.isNaN(y)) return -1;
    return x < y ? -1 : x > y ? 1 : a - b;
  };
  // Array.prototype.sort is stable; ties are also resolved by index.
  return Int32Array.from(Array.from(idx).sort(cmp));
}

/** One maximal run of equal consecutive labels: rows `[start, stop)`. */
export interface Run {
  /** Label (index into the unique values) of the run. */
  label: number;
  start: number;
  stop: number;
}

/**
 * Maximal runs of consecutive equal values of a 1-D label array, in row
 * order (`[0,0,1,1,1,2,0]` → `(0,[0,2))`, `(1,[2,5))`, `(2,[5,6))`, `(0,[6,7))`).
 */
export function uniqueRuns(labels: ArrayLike<number>): Run[] {
  const runs: Run[] = [];
  let start = 0;
  for (let i = 1; i <= labels.length; i++) {
    if (i === labels.length || labels[i] !== labels[start]) {
      runs.push({ label: labels[start] as number, start, stop: i });
      start = i;
    }
  }
  return labels.length === 0 ? [] : runs;
}

/**
 * Converts `array` to `dtype`, refusing lossy casts: fractions or NaN into
 * integers, integers out of the target range, bigint ↔ number beyond 2^53,
 * strings ↔ numbers, times ↔ non-times of another family.
 *
 * @param name used in the error message (variable path).
 * @throws SchemaError naming `name`, the dtypes and the first offending value.
 */
export function castChecked<T extends DType>(array: NDArray, dtype: T, name: string): NDArray<T> {
  if ((array.dtype as DType) === dtype) return array as unknown as NDArray<T>;
  const from = array.dtype;
  const fail = (value: Scalar | undefined, why: string): never => {
    throw new SchemaError(
      `variable '${name}': cannot cast ${from} to ${dtype} without loss (${why}${value === undefined ? "" : `: ${String(value)}`})`,
      { variable: name },
    );
  };
  if ((from === "string") !== (dtype === "string")) fail(undefined, "string and non-string types");
  const fromTime = from.startsWith("datetime64") || from.startsWith("timedelta64");
  const toTime = dtype.startsWith("datetime64") || dtype.startsWith("timedelta64");
  if (fromTime || toTime) {
    if (fromTime && toTime && from.slice(0, 10) === dtype.slice(0, 10)) {
      return castTimeUnit(array, dtype, name);
    }
    if (fromTime && toTime) fail(undefined, "datetime64 and timedelta64");
    // Integers ↔ times keep ticks (numpy allows int64 → M8 with the same unit).
    if (!fromTime && from !== "int64" && !/^u?int/.test(from)) fail(undefined, "non-integer to time");
    if (!toTime && !/^u?int64$/.test(dtype)) fail(undefined, "time to a type other than int64");
  }
  const [lo, hi] = integerRange(dtype);
  const src = array.data as ArrayLike<Scalar>;
  for (let i = 0; i < src.length; i++) {
    const v = src[i] as Scalar;
    if (dtype === "bool") {
      if (!(v === 0 || v === 1 || v === 0n || v === 1n || typeof v === "boolean")) fail(v, "not 0 or 1");
      continue;
    }
    if (lo !== undefined && hi !== undefined) {
      if (typeof v === "number") {
        if (!Number.isInteger(v)) fail(v, "not an integer");
        if (BigInt(v) < lo || BigInt(v) > hi) fail(v, "out of range");
      } else if (typeof v === "bigint") {
        if (v < lo || v > hi) fail(v, "out of range");
      }
    } else if (dtype === "float32" || dtype === "float64") {
      if (typeof v === "bigint") {
        if (Number(v) !== Number(BigInt.asIntN(64, v)) || BigInt(Number(v)) !== v)
          fail(v, "not exactly representable");
      } else if (dtype === "float32" && typeof v === "number" && !Number.isNaN(v) && Math.fround(v) !== v) {
        if (from === "float64") continue; // float64 → float32 rounding is the usual narrowing, accepted
        fail(v, "not exactly representable");
      }
    }
  }
  return array.astype(dtype);
}

function integerRange(dtype: DType): [bigint, bigint] | [undefined, undefined] {
  const m = /^(u?)int(8|16|32|64)$/.exec(dtype);
  if (m === null) {
    return dtype.startsWith("datetime64") || dtype.startsWith("timedelta64")
      ? [-(2n ** 63n), 2n ** 63n - 1n]
      : [undefined, undefined];
  }
  const bits = BigInt(Number(m[2]));
  return m[1] === "u" ? [0n, 2n ** bits - 1n] : [-(2n ** (bits - 1n)), 2n ** (bits - 1n) - 1n];
}

function castTimeUnit<T extends DType>(array: NDArray, dtype: T, name: string): NDArray<T> {
  const from = timeUnit(array.dtype);
  const to = timeUnit(dtype);
  if (from === "Y" || from === "M" || to === "Y" || to === "M") {
    // Calendar units have no fixed length: only identical units convert (handled by the caller).
    throw new SchemaError(`variable '${name}': cannot cast ${array.dtype} to ${dtype}`, { variable: name });
  }
  const a = unitNanoseconds(from);
  const b = unitNanoseconds(to);
  const src = array.data as BigInt64Array;
  const out = new BigInt64Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i] as bigint;
    if (v === NAT) {
      out[i] = NAT;
      continue;
    }
    const ns = v * a;
    if (ns % b !== 0n) {
      throw new SchemaError(
        `variable '${name}': cannot cast ${array.dtype} to ${dtype} without loss (value ${v} has a finer precision)`,
        { variable: name },
      );
    }
    out[i] = ns / b;
  }
  return new NDArray(dtype, array.shape, out as TypedArrayFor<T>);
}
