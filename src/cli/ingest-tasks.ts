/**
 * `zcollection ingest --executor <queue-url>`: the products are written by
 * workers, one task per partition.
 *
 * The check pass runs here as without an executor (every file read and
 * checked before anything is written). Then each partition becomes a task
 * listing, in command-line order, the files holding rows of it; a worker
 * reads those files, takes the partition's rows of each, merges them in
 * order into the stored partition (as successive inserts would) and stages
 * the result, with the attributes the merge gives (those the stored
 * partition and the files agree on, and every product listed under
 * `source_products`: ../data/product-attrs.ts). This process holds every
 * partition's lease for the whole operation, publishes the staged
 * partitions once every task succeeded, writes the immutable variables and
 * updates the catalog — one commit.
 * When a task fails for good, nothing is published. On Icechunk the
 * workers commit on a job branch instead, which becomes the collection's
 * branch at once (../collection/icechunk-job.ts).
 *
 * The workers must read the input files under the same paths (a shared
 * file system) or URLs.
 *
 * @module
 */

import { resolve as resolvePath } from "node:path";
import { withFillValues } from "../collection/assemble.js";
import { bindToSchema } from "../collection/bind.js";
import {
  openForTask,
  publishAfter,
  type StoreRef,
  storeRef,
  writeTaskResult,
} from "../collection/distributed.js";
import { runOnJobBranch } from "../collection/icechunk-job.js";
import type { Collection } from "../collection/index.js";
import { walkPartitions } from "../collection/listing.js";
import { missingVariables } from "../collection/mutations.js";
import { partitionExists, readPartition, selectPaths, writeImmutables } from "../collection/partition-io.js";
import { WriteOperation } from "../collection/write-operation.js";
import type { Dataset } from "../data/dataset.js";
import { sliceRows, takeRows } from "../data/rows.js";
import { SchemaError } from "../errors.js";
import { type ExecutorProgress, type Json, registerTaskHandler } from "../executor/api.js";
import { resolveExecutor } from "../executor/resolve.js";
import { resolve as resolveMerge } from "../merge/index.js";
import { Catalog } from "../partitioning/catalog.js";
import { ensureParentGroups } from "../zarr/index.js";
import {
  compareVariable,
  conform,
  type IngestMerge,
  type IngestOptions,
  mergeStrategy,
  prepare,
} from "./ingest.js";

/** The reading and merging options a worker needs (the file-independent part of {@link IngestOptions}). */
type TaskOptions = Pick<
  IngestOptions,
  "group" | "variables" | "excludeDimensions" | "axis" | "tolerance" | "fillMissing" | "keepPacked"
> & {
  merge: IngestMerge | null;
};

/**
 * The last products a worker read, bound to the schema: the tasks of one
 * ingest mostly name the same few files (one product spans several
 * partitions), so a worker reads each once per operation rather than once
 * per partition.
 */
const RECENT = new Map<string, Promise<Dataset>>();
const RECENT_MAX = 4;

function readBound(
  operation: string,
  col: Collection,
  file: string,
  opts: TaskOptions,
  signal: AbortSignal,
): Promise<Dataset> {
  // Per operation: a product rewritten between two ingests is read again.
  const key = JSON.stringify([operation, col.store.rootUri, file, opts]);
  let read = RECENT.get(key);
  if (read === undefined) {
    read = (async () => {
      const { dataset } = await prepare(
        file,
        { ...opts, ...(opts.merge === null ? {} : { merge: opts.merge }) } as IngestOptions,
        { axis: col.axis, partitioning: col.partitioning },
        signal,
      );
      return bindToSchema(conform(dataset, col.schema), col.schema, col.store.rootUri, signal);
    })();
    read.catch(() => RECENT.delete(key));
    RECENT.set(key, read);
    while (RECENT.size > RECENT_MAX) RECENT.delete(RECENT.keys().next().value as string);
  }
  return read;
}

/** Reads the rows of `partition` from `file`, bound to the collection's schema; `undefined` when it has none. */
async function rowsOf(
  operation: string,
  col: Collection,
  file: string,
  partition: string,
  opts: TaskOptions,
  signal: AbortSignal,
): Promise<{ ds: Dataset; key: ReturnType<Collection["partitioning"]["decode"]> } | undefined> {
  let bound = await readBound(operation, col, file, opts, signal);
  const missing = missingVariables(col.schema, bound);
  if (missing.length > 0 && opts.fillMissing === true) {
    bound = withFillValues(bound, missing, col.schema, col.dimension);
  } else if (missing.length > 0 && (await partitionExists(col.store, partition))) {
    throw new SchemaError(
      `'${file}' lacks ${missing.length} variable(s) of the collection (${missing.join(", ")}) and partition ` +
        `'${partition}' already holds them: writing it would delete their stored values (use --fill-missing)`,
      { variable: missing[0] as string },
    );
  }
  const group = col.partitioning.splitGrouped(bound).find((g) => g.path === partition);
  if (group === undefined) return undefined;
  const ds =
    group.rows === null
      ? sliceRows(bound, col.dimension, group.start, group.stop)
      : takeRows(bound, col.dimension, group.rows);
  return { ds, key: group.key };
}

registerTaskHandler("ingest.partition", async (task, { signal }): Promise<Json> => {
  const col = await openForTask(task.store as unknown as StoreRef, "rw");
  const opts = task.options as unknown as TaskOptions;
  const mergeName = opts.merge ?? undefined;
  const strategy = mergeStrategy(
    {
      ...(mergeName === undefined ? {} : { merge: mergeName }),
      ...(opts.tolerance ? { tolerance: opts.tolerance } : {}),
    },
    compareVariable(col.schema, col.axis, col.partitioning, mergeName),
  );
  const merge = strategy === undefined ? undefined : resolveMerge(strategy);
  // The stored partition, read while the planning process holds its lease.
  let current =
    merge === undefined
      ? undefined
      : await readPartition(col.store, task.partition, col.schema, selectPaths(col.schema, undefined), {
          signal,
        });
  let key: ReturnType<Collection["partitioning"]["decode"]> | undefined;
  for (const file of task.files as string[]) {
    const part = await rowsOf(task.operation as string, col, file, task.partition, opts, signal);
    if (part === undefined) continue;
    key = part.key;
    current =
      current === undefined || merge === undefined
        ? part.ds
        : await merge(current, part.ds, { axis: col.axis, partitioningDim: col.dimension });
  }
  if (current === undefined || key === undefined) return { staged: null };
  // The merge result's attributes: with a merge, those the stored partition and every file agree
  // on, with every product listed (../merge/index.ts); without, the last file's (its rows alone).
  return writeTaskResult(col, task.operation as string, task.partition, current, {
    key,
    attrs: current.attrs,
    signal,
  });
});

/** One planned file: its path and the partitions its rows go to. */
export interface PlannedFile {
  readonly file: string;
  readonly paths: readonly string[];
}

/**
 * Writes the planned files' partitions on the executor at `executorUrl`
 * (see the module comment).
 *
 * @param lastDataset the last file's checked dataset (its immutable
 *   variables are the ones kept, as after successive inserts).
 * @returns the partitions written.
 */
export async function ingestOnExecutor(
  col: Collection,
  files: readonly PlannedFile[],
  lastDataset: () => Promise<Dataset>,
  mergeName: IngestMerge | undefined,
  opts: IngestOptions,
  executorUrl: string,
  progress: {
    signal?: AbortSignal | undefined;
    onProgress?: (done: number, total: number, label: string) => void;
  },
): Promise<string[]> {
  const { executor, owned } = await resolveExecutor(executorUrl);
  try {
    const order: string[] = [];
    const sources = new Map<string, string[]>();
    for (const f of files) {
      for (const p of f.paths) {
        let list = sources.get(p);
        if (list === undefined) {
          list = [];
          sources.set(p, list);
          order.push(p);
        }
        // Workers may run elsewhere: give them absolute paths.
        list.push(/^[a-z][a-z0-9+.-]*:\/\//i.test(f.file) ? f.file : resolvePath(f.file));
      }
    }
    const store = col.store;
    const catalog = col.catalogEnabled
      ? new Catalog(store, { walk: () => walkPartitions(store, col.partitioning) })
      : undefined;
    const taskOptions: TaskOptions = {
      merge: mergeName ?? null,
      ...(opts.group !== undefined ? { group: opts.group } : {}),
      ...(opts.variables !== undefined ? { variables: opts.variables } : {}),
      ...(opts.excludeDimensions !== undefined ? { excludeDimensions: opts.excludeDimensions } : {}),
      ...(opts.axis !== undefined ? { axis: opts.axis } : {}),
      ...(opts.tolerance !== undefined ? { tolerance: opts.tolerance } : {}),
      ...(opts.fillMissing === true ? { fillMissing: true } : {}),
      ...(opts.keepPacked === true ? { keepPacked: true } : {}),
    };
    const ref = storeRef(store, executor);
    const tasks = (storeArg: StoreRef, operation: string) =>
      order.map((partition) => ({
        kind: "ingest.partition",
        partition,
        store: storeArg as unknown as Json,
        operation,
        files: sources.get(partition) as string[],
        options: taskOptions as unknown as Json,
      }));
    const runOptions = {
      signal: progress.signal,
      onProgress: (p: ExecutorProgress) =>
        progress.onProgress?.(p.done, p.total, `${p.partition ?? ""} (${p.worker ?? ""})`),
    };
    if (store.transactional) {
      // Icechunk: the workers commit on a job branch that becomes the collection's branch at once.
      await runOnJobBranch(store, {
        prepare: async (job) => {
          for (const p of order) await ensureParentGroups(job, p);
          await writeImmutables(
            job,
            await lastDataset(),
            col.schema,
            progress.signal ? { signal: progress.signal } : {},
          );
        },
        run: (url) => executor.run(tasks({ ...ref, url }, "ingest"), runOptions),
        finish: async (job) => {
          if (col.catalogEnabled)
            await new Catalog(job, { walk: () => walkPartitions(job, col.partitioning) }).add(order);
        },
      });
      return order;
    }
    const op = await WriteOperation.begin(store, { operation: "insert", partitions: order, catalog });
    return await publishAfter(
      op,
      order,
      progress.signal,
      async () => {
        op.markStaged();
        const outcomes = await executor.run(tasks(ref, op.id), runOptions);
        for (const p of order) await ensureParentGroups(store, p);
        await writeImmutables(store, await lastDataset(), col.schema, {
          ...(progress.signal ? { signal: progress.signal } : {}),
          replace: (target, write) =>
            op.replace(target, write, progress.signal ? { signal: progress.signal } : {}),
        });
        return outcomes;
      },
      true,
    );
  } finally {
    if (owned) await executor.close();
  }
}
