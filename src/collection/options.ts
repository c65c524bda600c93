/**
 * The option and result types of `Collection`'s operations.
 *
 * @module
 */

import type { ExecutorOption, Json } from "../executor/api.js";
import type { MergeStrategy } from "../merge/index.js";
import type { Partitioning } from "../partitioning/index.js";
import type { DatasetSchema } from "../schema/index.js";
import type { RecoveryReport } from "./recovery.js";

/**
 * A partition filter: an expression over the partition key components
 * (`"year == 2024 and month >= 3"`, docs/behaviour.md §7), a predicate over the key
 * as a `{component: value}` record, or `null` for every partition.
 */
export type Filters = string | ((key: Record<string, number | string>) => boolean) | null;

/** Progress of a long operation: `done` of `total` partitions, the last one finished. */
export interface Progress {
  done: number;
  total: number;
  partition?: string;
}

/** Options accepted by every long-running operation. */
export interface OperationOptions {
  /** Aborts the operation (rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Called after each partition. */
  onProgress?: (p: Progress) => void;
}

/** Options of `Collection.create` / `createCollection`. */
export interface CreateOptions {
  /** The dataset schema; it is bound to `axis` (docs/behaviour.md §4.6). */
  schema: DatasetSchema;
  /** The partition axis: a root dimension of the schema. */
  axis: string;
  partitioning: Partitioning;
  /** Maintain `_catalog/state.json` for O(1) cold opens (default config `catalog.enabled`). */
  catalogEnabled?: boolean;
  /** Replace an existing collection, removing all its data first (docs/behaviour.md §18 #6). */
  overwrite?: boolean;
  /** Options for `openStore` when `path` is a URL. */
  storageOptions?: Record<string, unknown>;
}

/** Options of `Collection.open` / `openCollection`. */
export interface OpenOptions {
  /** `"r"` (default) read-only, `"rw"` read-write. */
  mode?: "r" | "rw";
  /** Options for `openStore` when `path` is a URL. */
  storageOptions?: Record<string, unknown>;
  signal?: AbortSignal;
  /**
   * With mode "rw": complete the writes crashed writers left unfinished
   * before returning (default true; one listing when there are none).
   */
  recover?: boolean;
}

/**
 * Rows to read, by partition: partition path → `[start, stop)` row ranges
 * within that partition, along the partitioning dimension. What
 * `Indexer.lookup` returns (a `Map<string, Array<[number, number]>>` is one).
 */
export type RowSelection = ReadonlyMap<string, ReadonlyArray<readonly [number, number]>>;

/** Options of `Collection.query`, `iterate`, `map` and `update`. */
export interface ReadOptions extends OperationOptions {
  filters?: Filters;
  /** Variables to load (short root names or `grp/var` paths); unknown names are ignored. Default: all. */
  variables?: Iterable<string>;
  /** List the partitions by walking the store even when a catalog is enabled. */
  fromStore?: boolean;
  /**
   * Read only these rows (`query`, `iterate` and `map`; `update` refuses
   * it): only the partitions that are keys of the map — and match
   * `filters` when both are given — are read, in the natural order of their
   * keys, without listing the store or reading the catalog; within a
   * partition, its ranges sorted by start, overlapping or adjacent ones
   * merged, each clamped to the partition's length. Only the chunks holding
   * those rows are fetched (in sharded arrays the inner chunks, by ranged
   * reads after the shard index), each once. Variables not spanning the
   * partitioning dimension are read whole; immutable variables are
   * attached as without `rows`.
   *
   * A partition with an empty range list is not read (no dataset from
   * `iterate`); one whose ranges all lie past its end reads zero rows. A
   * key that is a partition path but not published in the store (an index
   * older than the collection) is skipped with a warning.
   *
   * Checked before any I/O: a key that is not a partition path of the
   * collection's partitioning is a PartitionError naming it; a negative
   * bound, a bound that is not an integer or a start after its stop is a
   * RangeError naming the partition and the range. `fromStore` is
   * ignored.
   */
  rows?: RowSelection;
}

/** Options of `Collection.map` and `Collection.update`. */
export interface MapOptions extends ReadOptions {
  /**
   * Run the partitions as tasks on an executor: a queue URL
   * (`redis://host:port[/db][?queue=name]` or `postgres://host:port/db[?queue=name]`, BullMQ workers started with
   * `zcollection worker`), `"in-process"`, or an Executor. The function must
   * then be named as `{ module, export }` (functions cannot travel).
   */
  executor?: ExecutorOption;
  /**
   * Options of the collection's store sent with the tasks (default: those
   * the collection was opened with; workers otherwise use their environment).
   */
  storageOptions?: Record<string, Json>;
}

/** Options of `Collection.insert`. */
export interface InsertOptions extends OperationOptions {
  /** Replace existing partitions (default true); false refuses to touch an existing partition. */
  overwrite?: boolean;
  /** How inserted rows combine with a stored partition (docs/behaviour.md §9); default: the new rows replace it. */
  merge?: MergeStrategy;
  /**
   * Fill the partitioned variables the dataset lacks with their fill value
   * (default false: an insert lacking variables that a stored target
   * partition holds is refused with a SchemaError, since it would delete
   * their stored values).
   */
  fillMissing?: boolean;
  /**
   * Merge and stage the partitions as tasks on an executor, then publish
   * them here in one commit: a queue URL (`redis://host:port[/db][?queue=name]` or `postgres://…`,
   * BullMQ workers started with `zcollection worker`), `"in-process"`, or an
   * Executor. The dataset reaches the workers through the store (its rows
   * are staged there first), so the store must be reachable by them
   * (`file://` on a shared file system, `s3://`; `memory://` with
   * `"in-process"` only; Icechunk is refused with a StoreError for now);
   * `merge` must then be a strategy name (a function cannot travel:
   * TypeError). Omitted: the insert runs in this process, as always.
   */
  executor?: ExecutorOption;
  /**
   * Options of the collection's store sent with the tasks (default: those
   * the collection was opened with; workers otherwise use their environment).
   */
  storageOptions?: Record<string, Json>;
}

/** What `Collection.repair` did. */
export interface RepairReport extends RecoveryReport {
  /** Stale lease objects removed (targets whose writer died). */
  readonly staleLeases: readonly string[];
  /** Catalog rewrite from a walk of the store; `undefined` without a catalog. */
  readonly catalog: { readonly added: readonly string[]; readonly removed: readonly string[] } | undefined;
}
