/**
 * Splitting rows into partitions, shared by the built-in partitionings
 * (docs/behaviour.md §6.2): the key columns of a dataset, runs of consecutive rows
 * sharing a key, and runs gathered per key.
 *
 * @module
 */

import { PartitionError } from "../errors.js";
import { NDArray } from "../ndarray.js";
import { pyStr, pyTuple } from "./keys.js";
import type { PartitionGroup, PartitionKey, PartitionSlice, SplittableDataset } from "./partitioning.js";

/** One run of consecutive rows sharing a key. */
export interface KeyRun {
  readonly key: PartitionKey;
  readonly start: number;
  readonly stop: number;
}

/**
 * The in-memory 1-D values of a partitioning variable (docs/behaviour.md §6.3–6.5).
 *
 * @param what prefixes the "missing" and "1-D" messages (`"Date "` or `""`).
 * @throws PartitionError naming the variable when it is missing from the root
 *   group, not exactly 1-D along `dimension`, or not loaded in memory.
 */
export function partitionColumn(
  ds: SplittableDataset,
  name: string,
  dimension: string,
  what: string,
): NDArray {
  const variable = ds.variables.get(name);
  if (variable === undefined) {
    throw new PartitionError(`variable ${pyStr(name)} required for ${what}partitioning is missing`, {
      variable: name,
    });
  }
  const dims = variable.dimensions;
  if (dims.length !== 1 || dims[0] !== dimension) {
    throw new PartitionError(
      `${what}variable ${pyStr(name)} must be 1-D along ${pyStr(dimension)}; got dims=${pyTuple(dims)}`,
      { variable: name },
    );
  }
  const data = variable.data;
  if (!(data instanceof NDArray)) {
    throw new PartitionError(`variable ${pyStr(name)} must be loaded in memory to partition`, {
      variable: name,
    });
  }
  if (data.ndim !== 1) {
    throw new PartitionError(
      `${what}variable ${pyStr(name)} must be 1-D along ${pyStr(dimension)}; got an array of shape [${data.shape.join(", ")}]`,
      { variable: name },
    );
  }
  return data;
}

/**
 * Checks that partitioning columns have the same length.
 *
 * @throws PartitionError naming the two variables.
 */
export function checkSameLength(
  names: readonly string[],
  columns: readonly { readonly size: number }[],
): number {
  const n = columns[0]?.size ?? 0;
  columns.forEach((c, i) => {
    if (c.size !== n) {
      throw new PartitionError(
        `partitioning variables ${pyStr(names[0] as string)} and ${pyStr(names[i] as string)} have different lengths (${n} and ${c.size})`,
        { variable: names[i] as string },
      );
    }
  });
  return n;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * A key value as a safe-integer `number` (64-bit values arrive as bigint).
 *
 * @throws PartitionError naming the variable and the row when the value is
 *   beyond ±(2^53 − 1).
 */
export function keyNumber(value: number | bigint, variable: string, row: number): number {
  if (typeof value === "bigint") {
    if (value > MAX_SAFE || value < -MAX_SAFE) {
      throw new PartitionError(
        `value ${value} of variable ${pyStr(variable)} at row ${row} is beyond the safe integer range of partition keys (±(2^53 - 1))`,
        { variable },
      );
    }
    return Number(value);
  }
  if (!Number.isSafeInteger(value)) {
    throw new PartitionError(
      `value ${value} of variable ${pyStr(variable)} at row ${row} is not an integer within ±(2^53 - 1)`,
      { variable },
    );
  }
  return value;
}

/**
 * Gathers runs per key (docs/behaviour.md §18 #1): one group per key in order of
 * first appearance; rows of a key stay in ascending order.
 */
export function groupRuns(runs: readonly KeyRun[], encode: (key: PartitionKey) => string): PartitionGroup[] {
  const byPath = new Map<string, { key: PartitionKey; runs: KeyRun[] }>();
  for (const run of runs) {
    const path = encode(run.key);
    const entry = byPath.get(path);
    if (entry === undefined) byPath.set(path, { key: run.key, runs: [run] });
    else entry.runs.push(run);
  }
  const groups: PartitionGroup[] = [];
  for (const [path, { key, runs: parts }] of byPath) {
    const first = parts[0] as KeyRun;
    const last = parts[parts.length - 1] as KeyRun;
    if (parts.length === 1) {
      groups.push({ key, path, rows: null, start: first.start, stop: first.stop });
      continue;
    }
    let total = 0;
    for (const p of parts) total += p.stop - p.start;
    const rows = new Int32Array(total);
    let k = 0;
    for (const p of parts) for (let r = p.start; r < p.stop; r++) rows[k++] = r;
    groups.push({ key, path, rows, start: first.start, stop: last.stop });
  }
  return groups;
}

/** Runs as the `(key, slice)` pairs of {@link Partitioning.split}. */
export function runsToSlices(runs: readonly KeyRun[]): [PartitionKey, PartitionSlice][] {
  return runs.map((r) => [r.key, { start: r.start, stop: r.stop }]);
}
