/**
 * Running a read plan (./read-plan.ts): one partition at a time (`iterate`,
 * `map`, `update`), or all of them concatenated into one dataset (`query`).
 * Used by `Collection`; knows nothing of it.
 *
 * @module
 */

import * as config from "../config.js";
import type { Dataset } from "../data/dataset.js";
import { concatRows } from "../data/rows.js";
import type { Store } from "../store/store.js";
import { mapConcurrent } from "../util/concurrency.js";
import { attach, emitWarning, padMissing, withPartsAttrs } from "./assemble.js";
import type { ReadOptions } from "./options.js";
import { readPartition, readPartitionRows } from "./partition-io.js";
import { readPartitionsInto } from "./read-into.js";
import type { ReadPlan, ReadTarget } from "./read-plan.js";

/**
 * Reads one partition — only `ranges` of its rows when given — with the
 * immutable variables attached; `undefined` when it is not published.
 */
export async function readOne(
  target: ReadTarget,
  path: string,
  plan: ReadPlan,
  signal?: AbortSignal,
): Promise<Dataset | undefined> {
  const { store, schema } = target;
  const o = signal ? { signal } : {};
  const ranges = plan.rows?.get(path);
  const ds =
    ranges === undefined
      ? await readPartition(store, path, schema, plan.wanted, o)
      : await readPartitionRows(store, path, schema, plan.wanted, target.dimension, ranges, o);
  if (ds === undefined) return undefined;
  return plan.immutables.length === 0 ? ds : attach(ds, plan.immutables, schema);
}

/**
 * Reads every partition of `plan` (at most config `partition.concurrency`
 * at once) and concatenates them along the partitioning dimension, with
 * the immutable variables attached (what `Collection.query` documents).
 *
 * @returns `null` when no partition of the plan is read.
 */
export async function readConcatenated(
  target: ReadTarget,
  plan: ReadPlan,
  opts: ReadOptions,
): Promise<Dataset | null> {
  const { paths } = plan;
  const { store, schema, dimension } = target;
  if (paths.length === 0) return null;
  let done = 0;
  const progress = (path: string) => {
    done += 1;
    opts.onProgress?.({ done, total: paths.length, partition: path });
  };
  // Without `rows`, every partition decodes straight into its rows of the result (./read-into.ts).
  const parts =
    plan.rows === undefined
      ? await readPartitionsInto(store, schema, dimension, paths, plan.wanted, {
          concurrency: config.partitionConcurrency(),
          onPartition: progress,
          ...(opts.signal ? { signal: opts.signal } : {}),
        })
      : await mapConcurrent(
          paths,
          config.partitionConcurrency(),
          async (path) => {
            const ds = await readOne(target, path, { ...plan, immutables: [] }, opts.signal);
            progress(path);
            return ds;
          },
          opts.signal,
        );
  // Aborted after the last read began: reject all the same, as the signal asked.
  opts.signal?.throwIfAborted();
  const loaded = parts.filter((p): p is Dataset => p !== undefined);
  warnMissing(
    store,
    paths.filter((_, i) => parts[i] === undefined),
    plan.rows !== undefined,
  );
  if (loaded.length === 0) return null;
  const joined = withPartsAttrs(concatRows(padMissing(loaded, schema, dimension), dimension), loaded);
  return plan.immutables.length === 0 ? joined : attach(joined, plan.immutables, schema);
}

/**
 * Yields `[path, dataset]` for each partition of `plan`, in order, reading
 * the next one only when asked (what `Collection.iterate` documents).
 */
export async function* iterateRead(
  target: ReadTarget,
  plan: ReadPlan,
  opts: ReadOptions,
): AsyncGenerator<[string, Dataset]> {
  const { paths } = plan;
  let done = 0;
  for (const path of paths) {
    opts.signal?.throwIfAborted();
    const ds = await readOne(target, path, plan, opts.signal);
    done += 1;
    opts.onProgress?.({ done, total: paths.length, partition: path });
    if (ds !== undefined) yield [path, ds];
    else warnMissing(target.store, [path], plan.rows !== undefined);
  }
}

/**
 * Calls `fn` on each partition of `plan`, at most config
 * `partition.concurrency` at once (what `Collection.map` documents).
 *
 * @returns partition path → result, in the order of the plan.
 */
export async function mapRead<T>(
  target: ReadTarget,
  plan: ReadPlan,
  fn: (ds: Dataset, partition: string) => T | Promise<T>,
  opts: ReadOptions,
): Promise<Map<string, T>> {
  const { paths } = plan;
  let done = 0;
  const results = await mapConcurrent(
    paths,
    config.partitionConcurrency(),
    async (path) => {
      const ds = await readOne(target, path, plan, opts.signal);
      const r = ds === undefined ? undefined : ([path, await fn(ds, path)] as [string, T]);
      done += 1;
      opts.onProgress?.({ done, total: paths.length, partition: path });
      return r;
    },
    opts.signal,
  );
  return new Map(results.filter((r): r is [string, T] => r !== undefined));
}

/**
 * Warns that partitions to read are not in `store`: listed by a catalog
 * out of date, or (`fromRows`) named by a `rows` option — an index older
 * than the collection.
 */
export function warnMissing(store: Store, missing: readonly string[], fromRows = false): void {
  if (missing.length === 0) return;
  const which = `('${missing[0]}'${missing.length > 1 ? ", …" : ""})`;
  emitWarning(
    fromRows
      ? `${missing.length} partition(s) named by the rows option are not in the store of ${store.rootUri} ` +
          `${which}; they were skipped (an index built before they were dropped?)`
      : `${missing.length} partition(s) listed by the catalog of ${store.rootUri} are not in the store ` +
          `${which}; they were skipped. Run \`zcollection repair\` to bring the catalog in line`,
  );
}
