/**
 * {@link Collection}: a dataset stored as partitions, each a Zarr v3 group,
 * under one store root (docs/behaviour.md §8, docs/format.md §1).
 *
 * @module
 */

import * as config from "../config.js";
import { Dataset } from "../data/dataset.js";
import { ReadOnlyError, SchemaError } from "../errors.js";
import type { FunctionRef, Json } from "../executor/api.js";
import { isFunctionRef } from "../executor/functions.js";
import { resolve as resolveMerge } from "../merge/index.js";
import { Catalog } from "../partitioning/catalog.js";
import type { Partitioning } from "../partitioning/index.js";
import type { DatasetSchema } from "../schema/index.js";
import type { Store } from "../store/store.js";
import { withFillValues } from "./assemble.js";
import { bindToSchema } from "./bind.js";
import { isStore, storeAt, writeNewCollection } from "./create.js";
import { variableList, withExecutor } from "./executor-run.js";
import { walkPartitions } from "./listing.js";
import {
  checkMissingVariables,
  dropPartitions,
  insertPartitions,
  type MutationContext,
  missingVariables,
  updatePartitions,
} from "./mutations.js";
import type {
  CreateOptions,
  Filters,
  InsertOptions,
  MapOptions,
  OpenOptions,
  OperationOptions,
  Progress,
  ReadOptions,
  RepairReport,
} from "./options.js";
import { PartitionLister } from "./partition-lister.js";
import { iterateRead, mapRead, readConcatenated, readOne } from "./read-partitions.js";
import { planRead, type ReadPlan } from "./read-plan.js";
import { describePending, type RecoveryReport, recoverOperations } from "./recovery.js";
import { repairAfterRecovery, rewriteCatalog } from "./repair.js";
import { type RootConfig, readRootConfig } from "./root-config.js";
import { type VerifyReport, verifyPartitions } from "./verify.js";

export type {
  CreateOptions,
  Filters,
  InsertOptions,
  MapOptions,
  OpenOptions,
  OperationOptions,
  Progress,
  ReadOptions,
  RepairReport,
  RowSelection,
} from "./options.js";

/**
 * A partitioned collection. Create one with {@link createCollection}, open
 * one with {@link openCollection}.
 */
export class Collection {
  /** The store holding the collection. */
  readonly store: Store;
  /** The partition axis (a root dimension name). */
  readonly axis: string;
  /** How rows map to partitions. */
  readonly partitioning: Partitioning;
  /** The bound schema (immutable flags set, docs/format.md §3.4). */
  readonly schema: DatasetSchema;
  /** Whether mutations are refused with {@link ReadOnlyError}. */
  readonly readOnly: boolean;
  /** Whether `_catalog/state.json` is maintained and used for listings. */
  readonly catalogEnabled: boolean;
  readonly #catalog: Catalog;
  /** Lists the partitions (from the catalog when it is enabled and trusted, else by walking the store). */
  readonly #lister: PartitionLister;
  /** The store options given when this collection was opened by URL (sent to executor workers). */
  readonly #storageOptions: Record<string, Json> | undefined;

  private constructor(
    store: Store,
    root: RootConfig,
    readOnly: boolean,
    storageOptions: Record<string, unknown> | undefined,
  ) {
    this.store = store;
    this.axis = root.axis;
    this.partitioning = root.partitioning;
    this.schema = root.schema;
    this.catalogEnabled = root.catalogEnabled;
    this.readOnly = readOnly;
    this.#storageOptions = storageOptions ? (storageOptions as Record<string, Json>) : undefined;
    // A catalog failing its checksum is rebuilt from a walk when updated (docs/behaviour.md §18 #7).
    const catalog = new Catalog(store, { walk: () => walkPartitions(store, root.partitioning) });
    this.#catalog = catalog;
    this.#lister = new PartitionLister(store, root.partitioning, root.catalogEnabled ? catalog : undefined);
  }

  /**
   * Creates a collection: writes `_zcollection.json` (docs/format.md §3) and nothing
   * else.
   *
   * @param path a store URL or path (`file://`, bare path, `memory://name`,
   *   `s3://`, `icechunk://`) or a Store.
   * @throws CollectionExistsError when a collection exists and `overwrite` is
   *   not set; SchemaError when the schema cannot be bound to `axis`
   *   (docs/behaviour.md §4.6); ReadOnlyError for a read-only store.
   */
  static async create(path: string | Store, opts: CreateOptions): Promise<Collection> {
    const store = await storeAt(path, opts.storageOptions ? { storageOptions: opts.storageOptions } : {});
    const root = await writeNewCollection(store, opts);
    return new Collection(store, root, false, isStore(path) ? undefined : opts.storageOptions);
  }

  /**
   * Opens a collection (reads `_zcollection.json`, and in "rw" mode completes what a
   * crashed writer left; docs/behaviour.md §8.2).
   *
   * @throws TypeError for a mode other than "r"/"rw" (before any I/O);
   *   CollectionNotFoundError when there is no `_zcollection.json`;
   *   SchemaError/FormatVersionError/PartitionError for an invalid config.
   */
  static async open(path: string | Store, opts: OpenOptions = {}): Promise<Collection> {
    const mode = opts.mode ?? "r";
    if (mode !== "r" && mode !== "rw") throw new TypeError(`mode must be 'r' or 'rw'; got '${String(mode)}'`);
    const store = await storeAt(path, {
      readOnly: mode === "r",
      ...(opts.storageOptions ? { storageOptions: opts.storageOptions } : {}),
    });
    const root = await readRootConfig(store, opts.signal ? { signal: opts.signal } : {});
    const storageOptions = isStore(path) ? undefined : opts.storageOptions;
    const collection = new Collection(store, root, mode === "r" || store.readOnly, storageOptions);
    // Finish what crashed writers left (one listing when there is nothing).
    if (!collection.readOnly && opts.recover !== false) await collection.#recover(opts.signal);
    return collection;
  }

  /** The write paths' view of this collection. */
  get #context(): MutationContext {
    return {
      store: this.store,
      schema: this.schema,
      axis: this.axis,
      dimension: this.dimension,
      catalog: this.catalogEnabled ? this.#catalog : undefined,
      concurrency: config.partitionConcurrency(),
    };
  }

  async #recover(signal?: AbortSignal, waitMs?: number): Promise<RecoveryReport> {
    return recoverOperations(this.store, {
      catalog: this.catalogEnabled ? this.#catalog : undefined,
      ...(signal ? { signal } : {}),
      ...(waitMs === undefined ? {} : { waitMs }),
    });
  }

  /** The partitioning dimension (the dimension rows are split along). */
  get dimension(): string {
    return this.partitioning.dimension;
  }

  /**
   * Partition paths matching `filters`, in the natural order of their keys
   * (docs/behaviour.md §18 #4: `num=2` before `num=10`). With the catalog enabled and
   * its checksum valid, the catalog is the listing (one GET, no LIST);
   * otherwise — or with `fromStore` — the store is walked (docs/format.md §4.4). A
   * catalog listing a path that is not a partition path of this
   * collection's partitioning is not trusted (a warning, then a walk).
   *
   * @throws ExpressionError for an invalid filter, or one naming an unknown key component.
   */
  async partitions(
    opts: { filters?: Filters; signal?: AbortSignal; fromStore?: boolean } = {},
  ): Promise<string[]> {
    return this.#lister.list(opts);
  }

  /** The partitions matching `opts.filters` (every partition when absent). */
  #matching(opts: { filters?: Filters; signal?: AbortSignal }): Promise<string[]> {
    return this.partitions({
      filters: opts.filters ?? null,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  }

  #assertWritable(): void {
    if (this.readOnly) {
      throw new ReadOnlyError(`collection at ${this.store.rootUri} is read-only`, this.store.rootUri);
    }
  }

  /**
   * Inserts a dataset (docs/behaviour.md §8.4 with §18 #1–#3): the data is cast to
   * the schema dtypes (lossy casts refused before anything is written),
   * immutable variables are stored under `_immutable/` when they changed,
   * rows are split into partitions (all rows of one key gathered into one
   * write), each partition merged with the stored one when `merge` is given,
   * and written; the catalog is updated last.
   *
   * With `executor`, the rows of each partition are staged in the store,
   * the merges run as tasks on the executor's workers, and the staged
   * partitions are published here in one commit once every task succeeded
   * (nothing is published when one fails; see ./distributed-insert.ts); on
   * Icechunk the tasks commit on a job branch (./icechunk-job.ts).
   *
   * @returns the paths written, in order of first appearance in the data, each once.
   * @throws ReadOnlyError; SchemaError for variables or dimensions that do not
   *   match the collection schema, or a lossy cast; PartitionError when the
   *   rows cannot be split; CollectionExistsError when a partition exists and
   *   `overwrite` is false. With `executor`: TypeError for a merge function;
   *   StoreError for a `memory://` store and workers of other processes;
   *   ConflictError (Icechunk) when another writer committed meanwhile; the
   *   first failing task's error.
   */
  async insert(ds: Dataset, opts: InsertOptions = {}): Promise<string[]> {
    this.#assertWritable();
    const distributed = opts.executor === undefined ? undefined : await import("./distributed-insert.js");
    distributed?.insertMergeName(this.store, opts.merge);
    const merge = opts.merge === undefined ? undefined : resolveMerge(opts.merge);
    const signal = opts.signal;
    signal?.throwIfAborted();
    let bound = await this.#bind(ds, signal);
    const missing = missingVariables(this.schema, bound);
    if (missing.length > 0 && opts.fillMissing === true)
      bound = withFillValues(bound, missing, this.schema, this.dimension);
    const groups = this.partitioning.splitGrouped(bound);
    if (!this.store.transactional) await this.#recover(signal);
    if (missing.length > 0 && opts.fillMissing !== true) {
      const listed = this.catalogEnabled ? new Set(await this.#lister.listAll(signal)) : undefined;
      await checkMissingVariables(
        this.store,
        missing,
        groups.map((g) => g.path),
        listed,
      );
    }
    if (distributed !== undefined) {
      return withExecutor(opts.executor, (executor) =>
        distributed.insertOnExecutor(this.#context, bound, groups, executor, {
          signal,
          onProgress: opts.onProgress,
          overwrite: opts.overwrite,
          merge: opts.merge,
          storageOptions: this.#storageOptionsFor(opts),
        }),
      );
    }
    return insertPartitions(this.#context, bound, groups, {
      signal,
      onProgress: opts.onProgress,
      overwrite: opts.overwrite,
      merge,
    });
  }

  /** `ds` bound to the collection's schema (see {@link bindToSchema}). */
  async #bind(ds: Dataset, signal?: AbortSignal): Promise<Dataset> {
    if (!(ds instanceof Dataset)) throw new SchemaError("insert expects a Dataset");
    return bindToSchema(ds, this.schema, this.store.rootUri, signal);
  }

  /** What a read with `opts` reads (see ./read-plan.ts). */
  #planRead(opts: ReadOptions): Promise<ReadPlan> {
    return planRead(this, this.#lister, opts);
  }

  /**
   * Reads the matching partitions (at most config `partition.concurrency` at
   * once) and concatenates them along the partitioning dimension, in
   * natural key order, with the immutable variables attached (docs/behaviour.md
   * §8.5). A variable missing from some partitions is filled with its fill
   * value there. Partitions listed but not published (an interrupted write
   * seen through a stale catalog) are skipped.
   *
   * Each partition decodes straight into its rows of the result (no second
   * copy; see ./read-into.ts): under Node with the codec workers, the
   * result's large numeric arrays live in SharedArrayBuffers, which
   * `postMessage` shares instead of copying (`.slice()` for a private copy).
   *
   * With `rows` (what `Indexer.lookup` returns), only those partitions and
   * only those rows are read, fetching only the chunks that hold them (see
   * {@link ReadOptions.rows}).
   *
   * @returns `null` when no partition matches (with `rows`: when no
   *   partition named there with a range is both matched by `filters` and
   *   published).
   * @throws ExpressionError for an invalid filter; with `rows`,
   *   PartitionError for a key that is not a partition path, RangeError for
   *   an invalid range (both before any I/O).
   */
  async query(opts: ReadOptions = {}): Promise<Dataset | null> {
    return readConcatenated(this, await this.#planRead(opts), opts);
  }

  /**
   * Yields `[path, dataset]` one partition at a time, in natural key order,
   * reading the next partition only when asked (bounded memory). With
   * `rows`, one `[path, dataset]` per partition named there (with a
   * non-empty range list, matched by `filters`, published) holding just
   * those rows (see {@link ReadOptions.rows}).
   *
   * @throws as {@link Collection.query}, at the first `next()`.
   */
  async *iterate(opts: ReadOptions = {}): AsyncGenerator<[string, Dataset]> {
    yield* iterateRead(this, await this.#planRead(opts), opts);
  }

  /**
   * Calls `fn` on each matching partition (with immutable variables
   * attached), at most config `partition.concurrency` at once. Allowed on
   * read-only collections (docs/behaviour.md §8.6). With `rows`, `fn` sees only
   * those rows of the partitions named there (see {@link ReadOptions.rows}).
   *
   * With `executor`, the partitions are read and `fn` — then named as
   * `{ module, export }` — is called on the executor's workers, one task per
   * partition; results must be JSON (typed arrays arrive as arrays, 64-bit
   * integers as numbers or, beyond 2^53, strings).
   *
   * @returns partition path → result, in natural key order.
   * @throws TypeError for `fn` not named as `{ module, export }` with an
   *   executor, or `rows` with an executor; the first failing task's error.
   */
  async map<T>(
    fn: ((ds: Dataset, partition: string) => T | Promise<T>) | FunctionRef,
    opts: MapOptions = {},
  ): Promise<Map<string, T>> {
    if (opts.executor !== undefined || isFunctionRef(fn)) {
      if (opts.rows !== undefined) throw new TypeError("map() with an executor does not take `rows` yet");
      const { mapOnExecutor } = await import("./distributed.js");
      const paths = await this.#matching(opts);
      return withExecutor(
        opts.executor,
        async (executor) =>
          (await mapOnExecutor(this, fn as FunctionRef, paths, variableList(opts.variables), executor, {
            signal: opts.signal,
            onProgress: opts.onProgress,
            storageOptions: this.#storageOptionsFor(opts),
          })) as Map<string, T>,
      );
    }
    return mapRead(this, await this.#planRead(opts), fn, opts);
  }

  /**
   * Rewrites each matching partition with what `fn` returns for it
   * (docs/behaviour.md §8.7): the whole partition is replaced (variables absent from
   * the result are removed); immutable variables are never written there.
   * The catalog is not touched.
   *
   * @returns the paths rewritten, in natural key order.
   * @throws ReadOnlyError; SchemaError when the result does not fit the schema;
   *   TypeError when `rows` is given (the rows left out would be lost).
   */
  async update(
    fn: ((ds: Dataset) => Dataset | Promise<Dataset>) | FunctionRef,
    opts: MapOptions = {},
  ): Promise<string[]> {
    this.#assertWritable();
    if (opts.rows !== undefined) {
      // The result replaces the whole partition: from some of its rows, the others would be lost.
      throw new TypeError("update() does not take `rows`: it rewrites whole partitions");
    }
    if (!this.store.transactional) await this.#recover(opts.signal);
    if (opts.executor !== undefined || isFunctionRef(fn)) {
      const { updateOnExecutor } = await import("./distributed.js");
      const paths = await this.#matching(opts);
      return withExecutor(opts.executor, (executor) =>
        updateOnExecutor(this, fn as FunctionRef, paths, variableList(opts.variables), executor, {
          signal: opts.signal,
          onProgress: opts.onProgress,
          storageOptions: this.#storageOptionsFor(opts),
        }),
      );
    }
    const plan = await this.#planRead(opts);
    return updatePartitions(
      this.#context,
      plan.paths,
      async (path, signal) => {
        const ds = await readOne(this, path, plan, signal);
        if (ds === undefined) return undefined;
        const result = await fn(ds);
        if (!(result instanceof Dataset)) {
          throw new SchemaError(`update function must return a Dataset (partition '${path}')`);
        }
        return this.#bind(result, signal);
      },
      { signal: opts.signal, onProgress: opts.onProgress },
    );
  }

  /** The store options sent to workers: the operation's, else those this collection was opened with. */
  #storageOptionsFor(opts: MapOptions): Record<string, Json> | undefined {
    return opts.storageOptions ?? this.#storageOptions;
  }

  /**
   * Deletes the matching partitions — every partition when `filters` is
   * null — then removes them from the catalog (docs/behaviour.md §8.8).
   *
   * @returns the paths dropped, in natural key order.
   * @throws ReadOnlyError; ExpressionError for an invalid filter.
   */
  async dropPartitions(opts: { filters?: Filters } & OperationOptions = {}): Promise<string[]> {
    this.#assertWritable();
    if (!this.store.transactional) await this.#recover(opts.signal);
    const paths = await this.#matching(opts);
    return dropPartitions(this.#context, paths, { signal: opts.signal, onProgress: opts.onProgress });
  }

  /**
   * Rewrites the catalog from a walk of the store (docs/behaviour.md §8.9).
   *
   * @returns the partition paths found (string order, as stored).
   * @throws SchemaError when the collection has no catalog; ReadOnlyError.
   */
  async repairCatalog(opts: { signal?: AbortSignal } = {}): Promise<string[]> {
    if (!this.catalogEnabled) {
      throw new SchemaError(`repairCatalog() requires a catalog-enabled collection (${this.store.rootUri})`);
    }
    this.#assertWritable();
    return rewriteCatalog(this.store, this.partitioning, this.#catalog, opts);
  }

  /**
   * Finishes or rolls back every interrupted write and makes the catalog
   * agree with the store (the `zcollection repair` command): recovery of
   * the journal (waiting for live writers, config `lease.wait`), removal of
   * stale leases, then — for a catalog-enabled collection — a rewrite of
   * the catalog from a walk of the store.
   *
   * @returns what was done.
   * @throws ReadOnlyError; ConflictError when a live writer held a partition
   *   past the wait; StoreError on store failures.
   */
  async repair(opts: { signal?: AbortSignal } = {}): Promise<RepairReport> {
    this.#assertWritable();
    const report = await this.#recover(opts.signal, config.get("lease.wait"));
    const catalog = this.catalogEnabled ? this.#catalog : undefined;
    return repairAfterRecovery(this.store, this.partitioning, catalog, report, opts);
  }

  /**
   * Decodes every chunk of every matching partition and of `_immutable/`
   * (the `zcollection verify` command) and reports the ones that fail: a
   * checksum mismatch, a truncated or undecodable chunk, a missing or
   * garbled array document, arrays whose extents disagree. Never throws on
   * a bad chunk; memory stays at a few chunks.
   *
   * @returns the report (`failures` empty when everything decodes).
   * @throws ExpressionError for an invalid filter; the signal's reason when aborted.
   */
  async verify(
    opts: { filters?: Filters; signal?: AbortSignal; onProgress?: (p: Progress) => void } = {},
  ): Promise<VerifyReport> {
    const paths = await this.#matching(opts);
    return verifyPartitions(this.store, this.schema, paths, {
      axis: this.axis,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
  }

  /**
   * Descriptions of the operations recorded in the write journal (running,
   * or interrupted and waiting for recovery); empty when none. One listing
   * of the store.
   */
  async pendingOperations(): Promise<string[]> {
    return describePending(this.store);
  }

  /** One-line description. */
  toString(): string {
    return `<Collection ${this.store.rootUri} axis='${this.axis}' partitioning=${this.partitioning.name}${this.readOnly ? " (read-only)" : ""}>`;
  }
}

/**
 * Creates a collection (see {@link Collection.create}).
 */
export function createCollection(path: string | Store, opts: CreateOptions): Promise<Collection> {
  return Collection.create(path, opts);
}

/**
 * Opens a collection (see {@link Collection.open}).
 */
export function openCollection(path: string | Store, opts?: OpenOptions): Promise<Collection> {
  return Collection.open(path, opts);
}
