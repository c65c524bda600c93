/**
 * Merge strategies: how rows inserted into an existing partition combine with
 * the rows already stored there (docs/behaviour.md §9).
 *
 * A strategy is a function `(existing, inserted, { axis, partitioningDim })
 * → Dataset`. `existing` is the partition as stored (no immutable
 * variables); `inserted` is the slice of the new dataset for that partition.
 * Rows are positions along `partitioningDim`; `axis` names the 1-D root
 * variable that `time_series` and `upsert` compare. Every sort is stable.
 *
 * Root attributes: `replace` returns the inserted rows with their
 * attributes; `concat`, `time_series` and `upsert`, whose result mixes
 * stored and inserted rows, keep only the attributes both sides agree on
 * and list the products of both under `source_products`
 * (`combineProductAttrs`, ../data/product-attrs.ts). The insert writes the
 * merge result's attributes. Python writes the inserted dataset's
 * attributes whatever the merge (docs/behaviour.md §8.4 step 8), so that a
 * partition fed by several products claims the last one's orbit number or
 * granule name.
 *
 * @module
 */

import type { Dataset } from "../data/dataset.js";
import { withCombinedAttrs } from "../data/product-attrs.js";
import { concatRows, takeRows } from "../data/rows.js";
import { type DType, isDatetime, isTimedelta, type TimeUnit, timeUnit, unitNanoseconds } from "../dtype.js";
import { SchemaError } from "../errors.js";
import { argsort, type NDArray } from "../ndarray.js";

/** Options passed to every merge strategy. */
export interface MergeOptions {
  /** Name of the 1-D root variable compared by `time_series` and `upsert` (the collection axis). */
  axis: string;
  /** The dimension rows are counted along (the partitioning dimension). */
  partitioningDim: string;
}

/** A merge strategy: combines the stored partition with the inserted rows. */
export type MergeCallable = (
  existing: Dataset,
  inserted: Dataset,
  opts: MergeOptions,
) => Dataset | Promise<Dataset>;

/** A strategy by name or as a function. */
export type MergeStrategy = "replace" | "concat" | "time_series" | "upsert" | MergeCallable;

/** A tolerance: a number or bigint in the axis unit, or a duration string such as `"500ms"`, `"2s"`, `"1.5h"`. */
export type Tolerance = number | bigint | string;

/** `replace`: the inserted rows replace the partition (identity on `inserted`). */
export function replace(_existing: Dataset, inserted: Dataset, _opts?: MergeOptions): Dataset {
  return inserted;
}

/**
 * `concat`: stored rows then inserted rows, no sorting, no de-duplication
 * (docs/behaviour.md §9.4); the attributes both sides agree on (see the module
 * documentation).
 */
export function concat(existing: Dataset, inserted: Dataset, opts: MergeOptions): Dataset {
  const out = concatRows([existing, inserted], opts.partitioningDim);
  // A side without any variable contributes nothing: the other side comes back unchanged.
  return out === existing || out === inserted ? out : withCombinedAttrs(out, existing, inserted);
}

/**
 * `time_series` (docs/behaviour.md §9.5): drop the stored rows whose axis value lies
 * in the closed window `[min, max]` of the inserted axis values, append the
 * inserted rows, stable-sort by the axis (ties: stored rows first). The
 * result has the attributes both sides agree on (see the module
 * documentation); when one side has no rows, it is the other side as is.
 *
 * @throws SchemaError naming the axis when it is not a root variable on both sides.
 */
export function timeSeries(existing: Dataset, inserted: Dataset, opts: MergeOptions): Dataset {
  const [old, neu] = axisValues(existing, inserted, opts.axis, "time_series");
  if (neu.size === 0) return existing;
  if (old.size === 0) return inserted;
  const insertedAxis = neu.data as ArrayLike<number | bigint>;
  let lo = insertedAxis[0] as number | bigint;
  let hi = lo;
  for (let i = 1; i < insertedAxis.length; i++) {
    const v = insertedAxis[i] as number | bigint;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const keep: number[] = [];
  const values = old.data as ArrayLike<number | bigint>;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number | bigint;
    if (v < lo || v > hi) keep.push(i);
  }
  return sortedUnion(existing, inserted, keep, opts);
}

/**
 * `upsert` (docs/behaviour.md §9.6): stored rows whose axis value matches an inserted
 * one are replaced; the result is stable-sorted by the axis (ties: stored rows
 * first). Without `tolerance` a match is exact; with it, a stored value
 * matches when its distance to the nearest inserted value is at most
 * `tolerance` (inclusive). For datetime/timedelta axes the tolerance is in the
 * axis unit, or a duration string (`"500ms"`) compared at nanosecond precision.
 * Attributes as for {@link timeSeries}.
 *
 * @throws SchemaError naming the axis when it is not a root variable on both
 *   sides, or when the tolerance cannot be read.
 */
export function upsert(
  existing: Dataset,
  inserted: Dataset,
  opts: MergeOptions & { tolerance?: Tolerance | null },
): Dataset {
  const [old, neu] = axisValues(existing, inserted, opts.axis, "upsert");
  if (neu.size === 0) return existing;
  if (old.size === 0) return inserted;
  const keep: number[] = [];
  const oldValues = old.data as ArrayLike<number | bigint>;
  if (opts.tolerance === undefined || opts.tolerance === null) {
    const set = new Set<number | bigint>(Array.from(neu.data as ArrayLike<number | bigint>));
    for (let i = 0; i < oldValues.length; i++) if (!set.has(oldValues[i] as number | bigint)) keep.push(i);
  } else {
    const within = toleranceTest(old.dtype, opts.tolerance, opts.axis);
    const sorted = Array.from(neu.data as ArrayLike<number | bigint>).sort((a, b) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    for (let i = 0; i < oldValues.length; i++) {
      const v = oldValues[i] as number | bigint;
      // insertion point: first sorted value >= v
      let lo = 0;
      let hi = sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((sorted[mid] as number | bigint) < v) lo = mid + 1;
        else hi = mid;
      }
      const below = lo > 0 ? sorted[lo - 1] : undefined;
      const above = lo < sorted.length ? sorted[lo] : undefined;
      const match = (below !== undefined && within(v, below)) || (above !== undefined && within(v, above));
      if (!match) keep.push(i);
    }
  }
  return sortedUnion(existing, inserted, keep, opts);
}

/**
 * A merge callable equivalent to `upsert` with a tolerance (docs/behaviour.md §9.7).
 *
 * @param tolerance in the axis unit (number or bigint), or a duration string
 *   such as `"500ms"` for datetime axes.
 */
export function upsertWithin(tolerance: Tolerance): MergeCallable {
  if (typeof tolerance === "string") parseDuration(tolerance); // validate early
  const fn: MergeCallable = (existing, inserted, opts) => upsert(existing, inserted, { ...opts, tolerance });
  return fn;
}

const STRATEGIES: Record<string, MergeCallable> = {
  replace,
  concat,
  time_series: timeSeries,
  upsert: (e, i, o) => upsert(e, i, o),
};

/**
 * Resolves a strategy name or function (docs/behaviour.md §9.1): `null`/`undefined`
 * → `replace`; a function → itself.
 *
 * @throws SchemaError naming the strategy for an unknown name or a value that is neither a string nor a function.
 */
export function resolve(strategy: MergeStrategy | null | undefined): MergeCallable {
  if (strategy === null || strategy === undefined) return replace;
  if (typeof strategy === "function") return strategy;
  if (typeof strategy === "string") {
    const fn = STRATEGIES[strategy];
    if (fn === undefined) {
      throw new SchemaError(
        `unknown merge strategy '${strategy}'; choose from (${Object.keys(STRATEGIES).join(", ")})`,
      );
    }
    return fn;
  }
  throw new SchemaError(`merge strategy must be a name or a function; got ${typeof strategy}`);
}

// ---------------------------------------------------------------------------

function axisValues(existing: Dataset, inserted: Dataset, axis: string, what: string): [NDArray, NDArray] {
  const get = (ds: Dataset, side: string): NDArray => {
    const v = ds.variables.get(axis);
    if (v === undefined) {
      throw new SchemaError(`${what} merge requires axis variable '${axis}' in the ${side} dataset`, {
        variable: axis,
      });
    }
    if (v.isLazy)
      throw new SchemaError(`${what} merge: axis variable '${axis}' is not loaded`, { variable: axis });
    const data = v.data as NDArray;
    if (data.ndim !== 1) {
      throw new SchemaError(`${what} merge: axis variable '${axis}' must be 1-D; got rank ${data.ndim}`, {
        variable: axis,
      });
    }
    if (data.dtype === "string" || data.dtype === "bool") {
      throw new SchemaError(
        `${what} merge: axis variable '${axis}' must be numeric or datetime; got ${data.dtype}`,
        {
          variable: axis,
        },
      );
    }
    return data;
  };
  return [get(existing, "existing"), get(inserted, "inserted")];
}

/** Kept stored rows then all inserted rows, stable-sorted by the axis, with the attributes both agree on. */
function sortedUnion(
  existing: Dataset,
  inserted: Dataset,
  keep: readonly number[],
  opts: MergeOptions,
): Dataset {
  const kept = takeRows(existing, opts.partitioningDim, keep);
  const union = concatRows([kept, inserted], opts.partitioningDim);
  const axis = union.variables.get(opts.axis)?.data as NDArray;
  const order = argsort(axis);
  let sorted = true;
  for (let i = 0; i < order.length; i++) {
    if (order[i] !== i) {
      sorted = false;
      break;
    }
  }
  return withCombinedAttrs(sorted ? union : takeRows(union, opts.partitioningDim, order), existing, inserted);
}

const DURATION_UNITS: Record<string, TimeUnit> = {
  ns: "ns",
  us: "us",
  µs: "us",
  ms: "ms",
  s: "s",
  sec: "s",
  m: "m",
  min: "m",
  h: "h",
  hour: "h",
  D: "D",
  d: "D",
  day: "D",
  days: "D",
};

/**
 * Parses a duration such as `"500ms"`, `"2s"`, `"1.5h"`, `"3 D"` into
 * nanoseconds (units ns, us, ms, s, m/min, h, D/d).
 *
 * @throws SchemaError naming the text when it is not a duration.
 */
export function parseDuration(text: string): bigint {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Zµ]+)\s*$/.exec(text);
  const unit = m ? DURATION_UNITS[m[2] as string] : undefined;
  if (m === null || unit === undefined) {
    throw new SchemaError(
      `invalid tolerance '${text}': expected a number and a unit (ns, us, ms, s, m, h, D)`,
    );
  }
  const [intPart, fracPart = ""] = (m[1] as string).split(".");
  const scale = unitNanoseconds(unit);
  const frac = fracPart === "" ? 0n : (BigInt(fracPart) * scale) / 10n ** BigInt(fracPart.length);
  return BigInt(intPart as string) * scale + frac;
}

/** A predicate `|a − b| <= tolerance` for values of an axis of `dtype`. */
function toleranceTest(
  dtype: DType,
  tolerance: Tolerance,
  axis: string,
): (a: number | bigint, b: number | bigint) => boolean {
  const isTime = isDatetime(dtype) || isTimedelta(dtype);
  if (isTime) {
    const unit = timeUnit(dtype);
    if (typeof tolerance === "string") {
      if (unit === "Y" || unit === "M") {
        throw new SchemaError(`a duration tolerance cannot apply to axis '${axis}' of dtype ${dtype}`, {
          variable: axis,
        });
      }
      const tolNs = parseDuration(tolerance);
      const unitNs = unitNanoseconds(unit);
      return (a, b) => {
        const d = (a as bigint) - (b as bigint);
        return (d < 0n ? -d : d) * unitNs <= tolNs;
      };
    }
    const tol = typeof tolerance === "bigint" ? tolerance : BigInt(Math.floor(tolerance));
    return (a, b) => {
      const d = (a as bigint) - (b as bigint);
      return (d < 0n ? -d : d) <= tol;
    };
  }
  if (typeof tolerance === "string") {
    throw new SchemaError(
      `a duration tolerance '${tolerance}' needs a datetime axis; '${axis}' is ${dtype}`,
      {
        variable: axis,
      },
    );
  }
  if (dtype === "int64" || dtype === "uint64") {
    const tol = typeof tolerance === "bigint" ? tolerance : BigInt(Math.floor(tolerance));
    return (a, b) => {
      const d = (a as bigint) - (b as bigint);
      return (d < 0n ? -d : d) <= tol;
    };
  }
  const tol = Number(tolerance);
  return (a, b) => Math.abs((a as number) - (b as number)) <= tol;
}
