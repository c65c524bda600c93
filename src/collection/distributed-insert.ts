/**
 * `collection.insert(dataset, { executor })`: the partitions of an insert
 * are merged and staged by workers (../executor/api.ts), then published
 * here in one commit.
 *
 * On a store with conditional writes (`file://`, `s3://`; `memory://` with
 * the in-process executor only):
 * 1. **plan** (here): the dataset is bound and split by the caller; the
 *    operation's record is written and the lease of every target partition
 *    acquired and held (renewed) until the end; with `overwrite: false` an
 *    existing target is refused before anything is written; the rows of
 *    each partition are written under `staging/<operation>/input/<partition>`
 *    — the dataset cannot travel in the queue, the store is how it reaches
 *    the workers (the operation's cleanup removes them);
 * 2. **task** (`collection.insert`, a worker): when a merge strategy is
 *    named and the partition is published, the stored partition and the
 *    staged rows are read, merged, and the result staged under a fresh
 *    attempt prefix (`staging/<operation>/<attempt>/<partition>`); with
 *    nothing to merge, the staged rows themselves are the content to
 *    publish (no copy). A task only reads what never changes during the
 *    operation and writes a prefix of its own, so running it twice is
 *    harmless;
 * 3. **commit** (here), once every task succeeded: the parent groups and
 *    the immutable variables are written, each staged partition published
 *    through the staged-replace protocol, the catalog updated, the leases
 *    released, the record and the staged content deleted. When a task fails
 *    for good, nothing is published, the catalog is not changed, and the
 *    staged content is deleted.
 *
 * Merge strategies travel by name (a merge function cannot travel). On
 * Icechunk the work is committed on a job branch instead (see
 * {@link insertOnJobBranch} and ./icechunk-job.ts).
 *
 * @module
 */

import type { Dataset } from "../data/dataset.js";
import { sliceRows, takeRows } from "../data/rows.js";
import { CollectionExistsError, ReadOnlyError, StoreError } from "../errors.js";
import { type Executor, type Json, registerTaskHandler, type TaskSpec } from "../executor/api.js";
import { type MergeCallable, type MergeStrategy, resolve as resolveMerge } from "../merge/index.js";
import { Catalog } from "../partitioning/catalog.js";
import type { PartitionGroup } from "../partitioning/index.js";
import type { Store } from "../store/store.js";
import { mapConcurrent } from "../util/concurrency.js";
import { ensureParentGroups } from "../zarr/index.js";
import {
  type ExecutorRunOptions,
  openForTask,
  publishAfter,
  type StoreRef,
  storeRef,
  writeTaskResult,
} from "./distributed.js";
import { runOnJobBranch } from "./icechunk-job.js";
import { JournalLayout, newOperationId } from "./journal.js";
import type { MutationContext } from "./mutations.js";
import {
  partitionExists,
  readPartition,
  selectPaths,
  writeImmutables,
  writePartition,
  writePartitionContent,
} from "./partition-io.js";
import { WriteOperation } from "./write-operation.js";

/** The kind of the insert tasks. */
export const INSERT_TASK = "collection.insert";

/** The staging sub-prefix of an operation holding the rows to insert (not hexadecimal: no attempt is named so). */
const INPUT = "input";

/** Options of {@link insertOnExecutor}. */
export interface InsertOnExecutorOptions extends ExecutorRunOptions {
  /** Replace existing partitions (default true); false refuses the insert when a target exists. */
  overwrite?: boolean | undefined;
  /**
   * How the new rows combine with a stored partition, by name (`replace`,
   * `concat`, `time_series`, `upsert`; a function is refused, see
   * {@link insertMergeName}); default: the new rows replace it.
   */
  merge?: MergeStrategy | undefined;
}

/**
 * Checks that an insert can run on an executor, before anything is read or
 * written, and returns its merge strategy's name.
 *
 * @param merge the `merge` option of the insert.
 * @returns the strategy's name; `undefined` when none was given.
 * @throws TypeError naming the `merge` option when it is a function (it
 *   cannot travel to the workers).
 */
export function insertMergeName(
  _store: Store,
  merge: MergeStrategy | undefined,
): Exclude<MergeStrategy, MergeCallable> | undefined {
  if (typeof merge === "function") {
    throw new TypeError(
      "insert with an executor takes the merge option by name (replace, concat, time_series, upsert): " +
        "a merge function cannot travel to the executor's workers",
    );
  }
  return merge;
}

/** The rows of `bound` going to `group`. */
function rowsOf(bound: Dataset, dimension: string, group: PartitionGroup): Dataset {
  return group.rows === null
    ? sliceRows(bound, dimension, group.start, group.stop)
    : takeRows(bound, dimension, group.rows);
}

/**
 * Refuses the insert when one of `paths` is published.
 *
 * @throws CollectionExistsError naming the first such partition.
 */
async function refuseExisting(store: Store, paths: readonly string[], signal?: AbortSignal): Promise<void> {
  const found = await mapConcurrent(
    paths,
    16,
    async (p) => ((await partitionExists(store, p)) ? p : undefined),
    signal,
  );
  const existing = found.filter((p): p is string => p !== undefined);
  if (existing.length === 0) return;
  throw new CollectionExistsError(
    `partition '${existing[0]}'${existing.length > 1 ? ` (and ${existing.length - 1} more)` : ""} already ` +
      `exists in ${store.rootUri} (insert with overwrite: false); nothing was written`,
    store.rootUri,
  );
}

registerTaskHandler(INSERT_TASK, async (task, { signal }): Promise<Json> => {
  const input = task.input as string;
  const mergeName = task.merge as string | null;
  // Nothing to merge: the staged rows are the partition's new content.
  if (mergeName === null || mergeName === "replace") return { staged: input };
  const merge = resolveMerge(mergeName as MergeStrategy);
  const col = await openForTask(task.store as unknown as StoreRef, "rw");
  const all = selectPaths(col.schema, undefined);
  // The stored partition, read while the planning process holds its lease.
  const existing = await readPartition(col.store, task.partition, col.schema, all, { signal });
  if (existing === undefined) return { staged: input };
  const inserted = await readPartition(col.store, input, col.schema, all, { signal });
  if (inserted === undefined) {
    throw new StoreError(`the rows staged for '${task.partition}' at '${input}' are missing`, { key: input });
  }
  const merged = await merge(existing, inserted, { axis: col.axis, partitioningDim: col.dimension });
  // The merge combined the stored and the inserted attributes (../data/product-attrs.ts); the key is the partition's.
  return writeTaskResult(col, task.operation as string, task.partition, merged, {
    attrs: merged.attrs,
    key: col.partitioning.decode(task.partition),
    signal,
  });
});

/**
 * {@link insertOnExecutor} on Icechunk, on a job branch (./icechunk-job.ts):
 * the partitions nothing is merged into are written by the caller in the
 * job's first commit (with the parent groups and the immutable variables);
 * the rows to merge are written there under a staging prefix, and a task
 * per such partition merges them into the stored partition in a commit of
 * its own; the staged rows are deleted and the catalog updated in the
 * job's last commit, then the collection's branch moves to the job's head.
 */
async function insertOnJobBranch(
  ctx: MutationContext,
  bound: Dataset,
  groups: readonly PartitionGroup[],
  executor: Executor,
  mergeName: string | undefined,
  opts: InsertOnExecutorOptions,
): Promise<string[]> {
  const { store, schema, dimension } = ctx;
  const signal = opts.signal;
  const paths = groups.map((g) => g.path);
  const ref = storeRef(store, executor, opts.storageOptions);
  const inputRoot = new JournalLayout(store).staged(newOperationId(), INPUT);
  const merging: Array<{ group: PartitionGroup; input: string }> = [];
  const direct = mergeName === undefined || mergeName === "replace";
  await runOnJobBranch(
    store,
    {
      prepare: async (job) => {
        if (opts.overwrite === false) await refuseExisting(job, paths, signal);
        for (const p of paths) await ensureParentGroups(job, p);
        await writeImmutables(job, bound, schema, signal ? { signal } : {});
        await mapConcurrent(
          groups,
          ctx.concurrency,
          async (group, _i, inner) => {
            const rows = rowsOf(bound, dimension, group);
            const attrs = { key: group.key, attrs: bound.attrs, signal: inner };
            if (direct || !(await partitionExists(job, group.path))) {
              await writePartition(job, group.path, rows, schema, attrs);
              return;
            }
            const input = `${inputRoot}/${group.path}`;
            await ensureParentGroups(job, input);
            await writePartitionContent(job, input, rows, schema, attrs);
            merging.push({ group, input });
          },
          signal,
        );
      },
      run: (url) =>
        executor.run(
          merging.map(({ group, input }) => ({
            kind: INSERT_TASK,
            partition: group.path,
            store: { ...ref, url } as unknown as Json,
            operation: "insert",
            input,
            merge: mergeName ?? null,
          })),
          { signal, onProgress: opts.onProgress },
        ),
      finish: async (job) => {
        if (merging.length > 0) {
          await job.deletePrefix(inputRoot.slice(0, inputRoot.lastIndexOf("/")));
        }
        if (ctx.catalog !== undefined) await new Catalog(job).add(paths);
      },
    },
    { storageOptions: opts.storageOptions },
  );
  return paths;
}

/**
 * Inserts `bound` (the dataset bound to the schema, split into `groups`) on
 * `executor`: see the module comment. The caller has run recovery and the
 * missing-variable checks.
 *
 * @returns the paths written, in order of first appearance in the data.
 * @throws ReadOnlyError; StoreError for a
 *   `memory://` store and an executor of other processes; TypeError for a
 *   merge function; SchemaError for an unknown strategy name;
 *   CollectionExistsError when `overwrite` is false and a
 *   target exists (nothing written); ConflictError when another writer
 *   holds a partition past the wait; the first failing task's error
 *   (nothing published); the signal's reason when aborted.
 */
export async function insertOnExecutor(
  ctx: MutationContext,
  bound: Dataset,
  groups: readonly PartitionGroup[],
  executor: Executor,
  opts: InsertOnExecutorOptions = {},
): Promise<string[]> {
  const { store, schema, dimension } = ctx;
  if (store.readOnly) throw new ReadOnlyError(`collection at ${store.rootUri} is read-only`, store.rootUri);
  const mergeName = insertMergeName(store, opts.merge);
  if (mergeName !== undefined) resolveMerge(mergeName); // an unknown name: SchemaError here
  const ref = storeRef(store, executor, opts.storageOptions);
  const signal = opts.signal;
  const paths = groups.map((g) => g.path);
  const hasImmutables = [...bound.allVariables().keys()].some((p) => {
    const path = p.replace(/^\/+/, "");
    return schema.hasVariable(path) && schema.getVariable(path).immutable;
  });
  if (groups.length === 0 && !hasImmutables) return [];
  if (store.transactional) return insertOnJobBranch(ctx, bound, groups, executor, mergeName, opts);
  // A first look before the record is written; checked again under the leases.
  if (opts.overwrite === false) await refuseExisting(store, paths, signal);
  const op = await WriteOperation.begin(store, {
    operation: "insert",
    partitions: paths,
    catalog: ctx.catalog,
  });
  const layout = new JournalLayout(store);
  return publishAfter(
    op,
    paths,
    signal,
    async () => {
      if (opts.overwrite === false) await refuseExisting(store, paths, signal);
      op.markStaged();
      const inputs = await mapConcurrent(
        groups,
        ctx.concurrency,
        async (group, _i, inner) => {
          const prefix = layout.staged(`${op.id}/${INPUT}`, group.path);
          await writePartitionContent(store, prefix, rowsOf(bound, dimension, group), schema, {
            key: group.key,
            attrs: bound.attrs,
            concurrency: ctx.concurrency,
            signal: inner,
          });
          return prefix;
        },
        signal,
      );
      const tasks: TaskSpec[] = groups.map((group, i) => ({
        kind: INSERT_TASK,
        partition: group.path,
        store: ref as unknown as Json,
        operation: op.id,
        input: inputs[i] as string,
        merge: mergeName ?? null,
      }));
      const outcomes = await executor.run(tasks, { signal, onProgress: opts.onProgress });
      for (const p of paths) await ensureParentGroups(store, p);
      await writeImmutables(store, bound, schema, {
        ...(signal ? { signal } : {}),
        replace: (target, write) => op.replace(target, write, signal ? { signal } : {}),
      });
      return outcomes;
    },
    true,
  );
}
