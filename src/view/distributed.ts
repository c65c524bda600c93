/**
 * `View.update` on an executor: one task per base partition computes the
 * partition's overlay on a worker and stages it in the view's store; the
 * calling process holds every overlay partition's lease and publishes the
 * staged groups once all tasks succeeded (see ../collection/distributed.ts).
 *
 * @module
 */

import { attemptPrefix, publishAfter, storeRef } from "../collection/distributed.js";
import { writePartitionContent } from "../collection/partition-io.js";
import { WriteOperation } from "../collection/write-operation.js";
import { StoreError } from "../errors.js";
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
  const staged = attemptPrefix(view.store, task.operation as string, task.partition);
  await writePartitionContent(view.store, staged, ds, view.viewSchema, { attrs: {}, signal });
  return { staged };
});

/**
 * {@link View.update} of `paths` on the executor of `opts`.
 *
 * @throws StoreError for an Icechunk view store (not supported with an
 *   executor yet) or a `memory://` one with workers of other processes.
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
  if (store.transactional) {
    throw new StoreError(`View.update with an executor is not supported on ${store.rootUri} (Icechunk) yet`, {
      key: store.rootUri,
    });
  }
  const { executor, owned } = await resolveExecutor(opts.executor ?? "in-process");
  try {
    const viewRef: ViewRef = {
      url: storeRef(store, executor, opts.storageOptions).url,
      base: storeRef(view.base.store, executor).url,
      ...(opts.storageOptions ? { storageOptions: opts.storageOptions } : {}),
    };
    if (paths.length === 0) return [];
    const op = await WriteOperation.begin(store, { operation: "update", partitions: paths });
    return await publishAfter(op, paths, opts.signal, async () => {
      op.markStaged();
      const outcomes = await executor.run(
        paths.map((partition) => ({
          kind: "view.update",
          partition,
          view: viewRef as unknown as Json,
          operation: op.id,
          fn: ref as unknown as Json,
          variables: variables === undefined ? null : [...variables],
        })),
        { signal: opts.signal, onProgress: opts.onProgress },
      );
      // New overlay groups need their parents (FORMAT §5.2) before the staged content moves in.
      for (const p of paths) await ensureParentGroups(store, p);
      return outcomes;
    });
  } finally {
    if (owned) await executor.close();
  }
}
