/**
 * `View.update` on an executor: one task per base partition computes the
 * partition's overlay on a worker and stages it in the view's store; the
 * calling process holds every overlay partition's lease and publishes the
 * staged groups once all tasks succeeded (see ../collection/distributed.ts);
 * on Icechunk, the tasks commit on a job branch (../collection/icechunk-job.ts).
 *
 * @module
 */

import { publishAfter, storeRef, writeTaskResult } from "../collection/distributed.js";
import { runOnJobBranch } from "../collection/icechunk-job.js";
import { WriteOperation } from "../collection/write-operation.js";
import { type FunctionRef, type Json, registerTaskHandler } from "../executor/api.js";
import { loadFunction, normalizeFunctionRef } from "../executor/functions.js";
import { resolveExecutor } from "../executor/resolve.js";
import { ensureParentGroups } from "../zarr/index.js";
import { View, type ViewUpdateFunction, type ViewUpdateOptions } from "./view.js";

interface ViewRef {
  readonly url: string;
  readonly base: string;
  readonly storageOptions?: Record<string, Json>;
}

const OPENED = new Map<string, Promise<View>>();

function openView(ref: ViewRef): Promise<View> {
  const key = JSON.stringify(ref);
  let opened = OPENED.get(key);
  if (opened === undefined) {
    opened = View.open(ref.url, {
      base: ref.base,
      recover: false,
      ...(ref.storageOptions ? { storageOptions: ref.storageOptions } : {}),
    });
    opened.catch(() => OPENED.delete(key));
    OPENED.set(key, opened);
  }
  return opened;
}

registerTaskHandler("view.update", async (task, { signal }): Promise<Json> => {
  const view = await openView(task.view as unknown as ViewRef);
  const fn = await loadFunction<ViewUpdateFunction>(task.fn as unknown as FunctionRef);
  const variables = task.variables as string[] | null;
  const plan = await view.updatePlan(variables ?? undefined, true, signal);
  const ds = await view.overlayPartition(task.partition, fn, plan, signal);
  if (ds === undefined) return { staged: null };
  return writeTaskResult(
    { store: view.store, schema: view.viewSchema },
    task.operation as string,
    task.partition,
    ds,
    {
      attrs: {},
      signal,
    },
  );
});

/**
 * {@link View.update} of `paths` on the executor of `opts`.
 *
 * On an Icechunk view store the workers commit on a job branch that
 * becomes the view's branch at once (../collection/icechunk-job.ts).
 *
 * @throws StoreError for a `memory://` view store with workers of other
 *   processes; ConflictError when another writer committed to the view's
 *   Icechunk branch during the update (nothing published).
 */
export async function updateViewOnExecutor(
  view: View,
  fn: ViewUpdateFunction | FunctionRef,
  paths: readonly string[],
  variables: readonly string[] | undefined,
  opts: ViewUpdateOptions,
): Promise<string[]> {
  const ref = normalizeFunctionRef(fn as FunctionRef);
  const store = view.store;
  const { executor, owned } = await resolveExecutor(opts.executor ?? "in-process");
  try {
    const viewRef: ViewRef = {
      url: storeRef(store, executor, opts.storageOptions).url,
      base: storeRef(view.base.store, executor).url,
      ...(opts.storageOptions ? { storageOptions: opts.storageOptions } : {}),
    };
    if (paths.length === 0) return [];
    const tasks = (target: ViewRef, operation: string) =>
      paths.map((partition) => ({
        kind: "view.update",
        partition,
        view: target as unknown as Json,
        operation,
        fn: ref as unknown as Json,
        variables: variables === undefined ? null : [...variables],
      }));
    const runOptions = { signal: opts.signal, onProgress: opts.onProgress };
    if (store.transactional) {
      // Icechunk: the workers commit on a job branch that becomes the view's branch at once.
      await runOnJobBranch(
        store,
        {
          prepare: async (job) => {
            for (const p of paths) await ensureParentGroups(job, p);
          },
          run: (url) => executor.run(tasks({ ...viewRef, url }, "view-update"), runOptions),
        },
        { storageOptions: opts.storageOptions },
      );
      return [...paths];
    }
    const op = await WriteOperation.begin(store, { operation: "update", partitions: paths });
    return await publishAfter(op, paths, opts.signal, async () => {
      op.markStaged();
      const outcomes = await executor.run(tasks(viewRef, op.id), runOptions);
      // New overlay groups need their parents (docs/format.md §5.2) before the staged content moves in.
      for (const p of paths) await ensureParentGroups(store, p);
      return outcomes;
    });
  } finally {
    if (owned) await executor.close();
  }
}
