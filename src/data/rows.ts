/**
 * Row operations on a whole {@link Dataset} along a named dimension: slice,
 * gather and concatenate every variable (in every group) that spans the
 * dimension, passing the others through (docs/behaviour.md §9.2). Used by the
 * partitioner, the merge strategies and the query path.
 *
 * Lazy variables stay lazy: the operation is applied when they are loaded.
 *
 * @module
 */

import { allocate, type DType, type TypedArray } from "../dtype.js";
import { SchemaError } from "../errors.js";
import { castChecked, concat, NDArray, shapeSize, take } from "../ndarray.js";
import { type Dataset, rebuildDataset } from "./dataset.js";
import { Group } from "./group.js";
import { DerivedLazyArray, type LazyArray } from "./lazy.js";
import { Variable } from "./variable.js";

// ---------------------------------------------------------------------------
// NDArray operations along any axis

function copyBlock(
  out: TypedArray | string[],
  outAt: number,
  src: TypedArray | string[],
  srcAt: number,
  n: number,
) {
  if (Array.isArray(src)) {
    const o = out as string[];
    for (let i = 0; i < n; i++) o[outAt + i] = src[srcAt + i] as string;
  } else {
    (out as Float64Array).set((src as Float64Array).subarray(srcAt, srcAt + n), outAt);
  }
}

/**
 * Gathers positions `indices` along `axis` (`out[..., i, ...] = a[..., indices[i], ...]`).
 * Axis 0 uses `take` of ndarray.ts.
 *
 * @throws RangeError for an out-of-bounds index; SchemaError for a bad axis.
 */
export function takeAlong<D extends DType>(
  array: NDArray<D>,
  axis: number,
  indices: ArrayLike<number>,
): NDArray<D> {
  if (axis < 0 || axis >= array.ndim)
    throw new SchemaError(`axis ${axis} out of range for rank ${array.ndim}`);
  if (axis === 0) return take(array, indices);
  const n = array.shape[axis] as number;
  const outer = shapeSize(array.shape.slice(0, axis));
  const inner = shapeSize(array.shape.slice(axis + 1));
  const m = indices.length;
  const out = allocate(array.dtype, outer * m * inner) as TypedArray | string[];
  const src = array.data as TypedArray | string[];
  for (let j = 0; j < m; j++) {
    const r = indices[j] as number;
    if (!Number.isInteger(r) || r < 0 || r >= n)
      throw new RangeError(`index ${r} out of bounds for axis ${axis} of size ${n}`);
  }
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++)
      copyBlock(out, (o * m + j) * inner, src, (o * n + (indices[j] as number)) * inner, inner);
  }
  const shape = [...array.shape];
  shape[axis] = m;
  return new NDArray(array.dtype, shape, out as NDArray<D>["data"]);
}

/**
 * Positions `[start, stop)` along `axis` (clamped; negative values count
 * from the end). Axis 0 returns a view (`NDArray.slice`); other axes copy.
 */
export function sliceAlong<D extends DType>(
  array: NDArray<D>,
  axis: number,
  start: number,
  stop: number,
): NDArray<D> {
  if (axis === 0) return array.slice(start, stop);
  if (axis < 0 || axis >= array.ndim)
    throw new SchemaError(`axis ${axis} out of range for rank ${array.ndim}`);
  const n = array.shape[axis] as number;
  const norm = (i: number) => Math.min(n, Math.max(0, i < 0 ? i + n : i));
  const a = norm(start);
  const b = Math.max(a, norm(stop));
  return takeAlong(
    array,
    axis,
    Array.from({ length: b - a }, (_, i) => a + i),
  );
}

/**
 * Concatenates arrays along `axis` (same dtype, same extents elsewhere).
 * Axis 0 uses `concat` of ndarray.ts.
 *
 * @throws SchemaError for an empty list, a dtype or a shape mismatch.
 */
export function concatAlong<D extends DType>(arrays: readonly NDArray<D>[], axis: number): NDArray<D> {
  if (axis === 0) return concat(arrays);
  const first = arrays[0];
  if (first === undefined) throw new SchemaError("concat needs at least one array");
  if (arrays.length === 1) return first;
  const other = (a: NDArray) => a.shape.filter((_, i) => i !== axis).join(",");
  let total = 0;
  for (const a of arrays) {
    if (a.dtype !== first.dtype) throw new SchemaError(`cannot concatenate ${a.dtype} with ${first.dtype}`);
    if (a.ndim !== first.ndim || other(a) !== other(first)) {
      throw new SchemaError(
        `cannot concatenate shapes [${a.shape.join(", ")}] and [${first.shape.join(", ")}] along axis ${axis}`,
      );
    }
    total += a.shape[axis] as number;
  }
  const outer = shapeSize(first.shape.slice(0, axis));
  const inner = shapeSize(first.shape.slice(axis + 1));
  const out = allocate(first.dtype, outer * total * inner) as TypedArray | string[];
  let at = 0;
  for (let o = 0; o < outer; o++) {
    for (const a of arrays) {
      const block = (a.shape[axis] as number) * inner;
      copyBlock(out, at, a.data as TypedArray | string[], o * block, block);
      at += block;
    }
  }
  const shape = [...first.shape];
  shape[axis] = total;
  return new NDArray(first.dtype, shape, out as NDArray<D>["data"]);
}

// ---------------------------------------------------------------------------
// Variables

function mapData(v: Variable, axis: number, length: number, op: (a: NDArray) => NDArray): Variable {
  const data = v.data;
  if (data === null) return v;
  if (data instanceof NDArray) return v.withData(op(data));
  const shape = [...data.shape];
  shape[axis] = length;
  const lazy: LazyArray = data;
  return v.withData(new DerivedLazyArray(shape, data.dtype, async (opts) => op(await lazy.load(opts))));
}

/**
 * Rows `[start, stop)` along `dim` of every variable (any group) spanning
 * it; the others pass through. Negative bounds count from the end; bounds
 * are clamped.
 */
export function sliceRows(ds: Dataset, dim: string, start: number, stop: number): Dataset {
  return rebuildDataset(ds, (v) => {
    const axis = v.dimensions.indexOf(dim);
    if (axis < 0 || v.data === null) return v;
    const n = v.data.shape[axis] as number;
    const norm = (i: number) => Math.min(n, Math.max(0, i < 0 ? i + n : i));
    const a = norm(start);
    const b = Math.max(a, norm(stop));
    return mapData(v, axis, b - a, (arr) => sliceAlong(arr, axis, a, b));
  });
}

/**
 * Rows `indices` (in that order, repeats allowed) along `dim` of every
 * variable spanning it; the others pass through.
 *
 * @throws RangeError for an index out of bounds (checked at once for loaded data).
 */
export function takeRows(ds: Dataset, dim: string, indices: ArrayLike<number>): Dataset {
  const idx = Int32Array.from(indices as ArrayLike<number>);
  return rebuildDataset(ds, (v) => {
    const axis = v.dimensions.indexOf(dim);
    if (axis < 0) return v;
    return mapData(v, axis, idx.length, (arr) => takeAlong(arr, axis, idx));
  });
}

function isEmpty(ds: Dataset): boolean {
  return ds.variables.size === 0 && ds.groups.size === 0;
}

/**
 * Concatenates datasets along `dim` (docs/behaviour.md §9.2, generalised to n
 * datasets): datasets with neither variables nor groups are skipped (none
 * left → the first dataset; one left → it, unchanged). For every variable
 * path, in the order of the first dataset then of the later ones: when the
 * first dataset holding it spans `dim`, the arrays of every dataset holding
 * it are concatenated in order; otherwise the first holder's variable is
 * kept. Variables only in later datasets are added (their groups created
 * from the holder's). Schema and attrs are the first dataset's. Arrays of a
 * different dtype are cast to the variable's schema dtype with `castChecked`.
 *
 * @param opts.strict throw when a later dataset lacks a variable of the
 *   first one that spans `dim` (what a query across partitions wants).
 * @throws SchemaError for an empty list, a missing variable in strict mode,
 *   shape mismatches, or inconsistent lengths in the result.
 */
export function concatRows(
  datasets: readonly Dataset[],
  dim: string,
  opts: { strict?: boolean } = {},
): Dataset {
  if (datasets.length === 0) throw new SchemaError("concatRows needs at least one dataset");
  const parts = datasets.filter((d) => !isEmpty(d));
  if (parts.length === 0) return datasets[0] as Dataset;
  if (parts.length === 1) return parts[0] as Dataset;
  const first = parts[0] as Dataset;
  const maps = parts.map((d) => d.allVariables());
  const holders = new Map<string, Array<{ ds: number; v: Variable }>>();
  maps.forEach((m, i) => {
    for (const [p, v] of m) {
      let list = holders.get(p);
      if (list === undefined) {
        list = [];
        holders.set(p, list);
      }
      list.push({ ds: i, v });
    }
  });
  const result = new Map<string, Variable>();
  for (const [path, list] of holders) {
    const base = (list[0] as { v: Variable }).v;
    const axis = base.dimensions.indexOf(dim);
    if (axis < 0 || base.data === null) {
      result.set(path, base);
      continue;
    }
    if (opts.strict === true && list.length !== parts.length && list[0]?.ds === 0) {
      const missing = parts.findIndex((_, i) => !list.some((h) => h.ds === i));
      throw new SchemaError(`variable '${path}' is missing from dataset #${missing} of the concatenation`, {
        variable: path,
      });
    }
    const vars = list.map((h) => h.v).filter((v) => v.data !== null);
    for (const v of vars) {
      if (v.dimensions.indexOf(dim) !== axis) {
        throw new SchemaError(
          `variable '${path}': dimension '${dim}' is not at the same axis in every dataset`,
          {
            variable: path,
            dimension: dim,
          },
        );
      }
    }
    result.set(path, concatVariables(base, vars, axis, path));
  }
  const out = rebuildDataset(first, (_v, p) => result.get(p) ?? null);
  // Variables only in later datasets.
  const placed = maps[0] as Map<string, Variable>;
  for (const [path, list] of holders) {
    if (placed.has(path)) continue;
    const segs = path.split("/");
    const leaf = segs.pop() as string;
    let g: Group = out;
    let source: Group = parts[(list[0] as { ds: number }).ds] as Dataset;
    for (const seg of segs) {
      source = source.getGroup(seg);
      const existing = g.groups.get(seg);
      if (existing !== undefined) g = existing;
      else {
        const created: Group = new Group(source.schema, null, null, source.attrs, { name: seg });
        g.addGroup(created);
        g = created;
      }
    }
    const v = result.get(path) as Variable;
    g.addVariable(v.name === leaf ? v : new Variable(v.schema.with({ name: leaf }), v.data));
  }
  return out;
}

function concatVariables(base: Variable, vars: Variable[], axis: number, path: string): Variable {
  const total = vars.reduce((n, v) => n + ((v.data?.shape[axis] as number) ?? 0), 0);
  if (vars.length === 1) return base;
  const dtype = base.dtype;
  const join = (arrays: NDArray[]): NDArray => {
    const same = arrays.every((a) => a.dtype === arrays[0]?.dtype);
    return concatAlong(same ? arrays : arrays.map((a) => castChecked(a, dtype, path)), axis);
  };
  if (vars.every((v) => v.data instanceof NDArray)) {
    return base.withData(join(vars.map((v) => v.data as NDArray)));
  }
  const shape = [...(base.data?.shape ?? [])];
  shape[axis] = total;
  const sources = vars.map((v) => v.data as NDArray | LazyArray);
  const dtypes = new Set(sources.map((s) => s.dtype));
  const lazy = new DerivedLazyArray(
    shape,
    dtypes.size === 1 ? (sources[0] as NDArray).dtype : dtype,
    async (opts) => join(await Promise.all(sources.map((s) => (s instanceof NDArray ? s : s.load(opts))))),
  );
  return base.withData(lazy);
}
