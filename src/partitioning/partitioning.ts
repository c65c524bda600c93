/**
 * The {@link Partitioning} contract (docs/behaviour.md §6.1): partition keys, the
 * slices and groups of rows a partitioning makes, the JSON descriptors of the
 * built-in partitionings (docs/format.md §3.6), and the key dictionary filters are
 * evaluated on.
 *
 * This module imports no other module of the folder: the helpers the built-in
 * partitionings share are in `keys.ts` (names, values, paths and their order)
 * and `runs.ts` (columns and runs of rows); `fromJSON`, which knows
 * every built-in partitioning, is in `registry.ts`.
 *
 * @module
 */

/**
 * A partition key: ordered `(component name, value)` pairs, e.g.
 * `[["year", 2024], ["month", 3]]` or `[["cycle_number", 31], ["pass_number", 100]]`.
 * The built-in partitionings only produce safe integers (`number`).
 */
export type PartitionKey = ReadonlyArray<readonly [string, number | string]>;

/** Rows `[start, stop)` of a dataset along the partitioning dimension. */
export interface PartitionSlice {
  readonly start: number;
  readonly stop: number;
}

/**
 * What {@link Partitioning.split} needs of a variable: its dimension names
 * and its values, which must be an in-memory `NDArray`.
 */
export interface SplittableVariable {
  readonly dimensions: readonly string[];
  readonly data: unknown;
}

/**
 * What {@link Partitioning.split} needs of a dataset: its root variables by
 * name. The `Dataset` class satisfies it.
 */
export interface SplittableDataset {
  readonly variables: ReadonlyMap<string, SplittableVariable>;
}

/**
 * All the rows of one partition key (docs/behaviour.md §18 #1), as gathered by
 * {@link Partitioning.splitGrouped}.
 *
 * When the key's rows form one contiguous run, `rows` is `null` and the rows
 * are `[start, stop)`. Otherwise `rows` lists the row indices in ascending
 * order (the runs of the key concatenated in row order) and `[start, stop)`
 * is their span (first row, last row + 1).
 */
export interface PartitionGroup {
  readonly key: PartitionKey;
  /** The encoded key, relative to the collection root (docs/format.md §4.1). */
  readonly path: string;
  readonly rows: Int32Array | null;
  readonly start: number;
  readonly stop: number;
}

/** Resolution of a date partitioning: year, month, day, hour, minute or second. */
export type Resolution = "Y" | "M" | "D" | "h" | "m" | "s";

/** JSON descriptor of a date partitioning (docs/format.md §3.6; keys in write order). */
export interface DatePartitioningJSON {
  name: "date";
  variable: string;
  resolution: Resolution;
  dimension: string;
}

/** JSON descriptor of a sequence partitioning (docs/format.md §3.6; keys in write order). */
export interface SequencePartitioningJSON {
  name: "sequence";
  variables: string[];
  dimension: string;
}

/** JSON descriptor of a grouped-sequence partitioning (docs/format.md §3.6; keys in write order). */
export interface GroupedSequencePartitioningJSON {
  name: "grouped-sequence";
  variables: string[];
  dimension: string;
  size: number;
  start: number;
}

/** The `partitioning` object of `_zcollection.json` (docs/format.md §3.6). */
export type PartitioningJSON =
  | DatePartitioningJSON
  | SequencePartitioningJSON
  | GroupedSequencePartitioningJSON;

/**
 * Maps the rows of a dataset along one dimension to partition keys, and keys
 * to relative paths (docs/behaviour.md §6).
 */
export interface Partitioning {
  /** `"date"`, `"sequence"` or `"grouped-sequence"`. */
  readonly name: string;
  /** Names of the key components, in key order (`["year", "month"]`, `["cycle", "pass"]`). */
  readonly axis: readonly string[];
  /** The dataset dimension the partitioning splits. */
  readonly dimension: string;
  /**
   * One `(key, rows)` pair per maximal run of consecutive rows sharing a key,
   * in row order (docs/behaviour.md §6.2): unsorted input yields several runs for one
   * key. Empty input yields nothing.
   *
   * @throws PartitionError when a partitioning variable is missing, not 1-D
   *   along {@link dimension}, not in memory, of the wrong dtype, or holds a
   *   value that cannot form a key.
   */
  split(ds: SplittableDataset): Iterable<[PartitionKey, PartitionSlice]>;
  /**
   * The runs of {@link split} gathered per key (docs/behaviour.md §18 #1): one entry
   * per key, in order of first appearance, each path once.
   *
   * @throws PartitionError like {@link split}.
   */
  splitGrouped(ds: SplittableDataset): PartitionGroup[];
  /**
   * The relative path of a key (docs/format.md §4.1).
   *
   * @throws PartitionError when the key's component names differ from
   *   {@link axis} or a value is not an integer.
   */
  encode(key: PartitionKey): string;
  /**
   * The key of a relative path (docs/format.md §4.2). Component names and count are
   * not checked.
   *
   * @throws PartitionError naming the path for a segment without `=` or a
   *   value that is not an integer.
   */
  decode(path: string): PartitionKey;
  /** The JSON descriptor written in `_zcollection.json` (docs/format.md §3.6). */
  toJSON(): PartitioningJSON;
}

/** The key as a `{ component: value }` dictionary, the context of filters (docs/behaviour.md §6.1). */
export function keyToDict(key: PartitionKey): Record<string, number | string> {
  return Object.fromEntries(key);
}
