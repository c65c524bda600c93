/**
 * Ready-made index builders.
 *
 * @module
 */

import type { Dataset } from "../data/dataset.js";
import { SchemaError } from "../errors.js";
import { type NDArray, take } from "../ndarray.js";
import type { IndexColumnInput } from "./columns.js";

/** What a builder returns: key columns plus `_start` and `_stop`, all of the same length. */
export type IndexColumns = Readonly<Record<string, IndexColumnInput>>;

/**
 * A function computing the index rows of one partition (see
 * `Indexer.build`). A builder may name the variables it reads in
 * `variables`; `Indexer.build` then reads only those unless its own
 * `variables` option says otherwise.
 */
export type IndexBuilder = ((ds: Dataset, partition: string) => IndexColumns | Promise<IndexColumns>) & {
  readonly variables?: readonly string[];
};

/** Whether two values are equal, NaN included. */
function same(a: unknown, b: unknown): boolean {
  return Object.is(a, b) || a === b;
}

/**
 * A builder making one index row per run of consecutive rows with equal
 * values of `columns` (the Python example `ex_indexing.py`: rows with the
 * same `(cycle_number, pass_number)` become one row with `_start`/`_stop`).
 *
 * For a partition whose variables hold `cycle = [14, 14, 14, 15]` and
 * `pass = [1, 1, 2, 2]`, `runsOf(["cycle", "pass"])` returns `cycle = [14,
 * 14, 15]`, `pass = [1, 2, 2]`, `_start = [0, 2, 3]`, `_stop = [2, 3, 4]`
 * (int64 row offsets within the partition, `[start, stop)`). The key
 * columns keep the dtype of their variables; NaN equals NaN.
 *
 * @param columns variable names or `grp/var` paths, each 1-D along the
 *   partitioning dimension; they become the key columns, in this order.
 * @returns a builder whose `variables` are `columns`.
 * @throws TypeError (at once) for an empty list or a reserved name
 *   (`_partition`, `_start`, `_stop`); SchemaError (when building) naming
 *   the variable and partition when a variable is missing, not 1-D, or of
 *   another length than the first one.
 */
export function runsOf(columns: readonly string[]): IndexBuilder {
  if (!Array.isArray(columns) || columns.length === 0) {
    throw new TypeError("runsOf needs at least one column name");
  }
  const reserved = columns.find((c) => c === "_partition" || c === "_start" || c === "_stop");
  if (reserved !== undefined) throw new TypeError(`runsOf: '${reserved}' is a reserved index column name`);
  const names = [...new Set(columns)];
  const builder = (ds: Dataset, partition: string): IndexColumns => {
    const arrays: NDArray[] = names.map((name) => {
      if (!ds.hasVariable(name)) {
        throw new SchemaError(`partition '${partition}' has no variable '${name}' to index by`, {
          variable: name,
        });
      }
      const a = ds.getVariable(name).array;
      if (a.ndim !== 1) {
        throw new SchemaError(
          `variable '${name}' of partition '${partition}' must be 1-D to index by; got shape [${a.shape.join(", ")}]`,
          { variable: name },
        );
      }
      return a;
    });
    const n = arrays[0]?.size ?? 0;
    arrays.forEach((a, k) => {
      if (a.size !== n) {
        throw new SchemaError(
          `variable '${names[k]}' of partition '${partition}' has ${a.size} rows but '${names[0]}' has ${n}`,
          { variable: names[k] as string },
        );
      }
    });
    const values = arrays.map((a) => a.data as ArrayLike<unknown>);
    const starts: number[] = [];
    for (let i = 0; i < n; i++) {
      if (i === 0 || values.some((v) => !same(v[i], v[i - 1]))) starts.push(i);
    }
    const out: Record<string, IndexColumnInput> = {};
    names.forEach((name, k) => {
      out[name] = take(arrays[k] as NDArray, starts);
    });
    out._start = BigInt64Array.from(starts, (s) => BigInt(s));
    out._stop = BigInt64Array.from(starts, (_, j) => BigInt(starts[j + 1] ?? n));
    return out;
  };
  return Object.assign(builder, { variables: Object.freeze(names) });
}
