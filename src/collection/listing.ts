/**
 * Discovering partitions without a catalog (FORMAT §4.4).
 *
 * @module
 */

import type { Partitioning } from "../partitioning/index.js";
import type { Store } from "../store/store.js";
import { joinPath } from "../store/store.js";
import { mapConcurrent } from "../util/concurrency.js";

/** Top-level names that are never partitions (FORMAT §1). */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  "_catalog",
  "_immutable",
  "_zcollection.json",
  "zarr.json",
  "_zc_meta",
]);

/**
 * Every partition path found by walking the store: `depth` levels of
 * sub-directories (the number of key components), keeping a leaf only when
 * `<leaf>/zarr.json` exists, so an interrupted write (arrays without their
 * group document) is never listed. Reserved names are skipped at the top.
 * The result is sorted in string order (FORMAT §4.3); callers re-sort
 * naturally.
 */
export async function walkPartitions(
  store: Store,
  partitioning: Partitioning,
  opts: { signal?: AbortSignal; concurrency?: number } = {},
): Promise<string[]> {
  const depth = partitioning.axis.length;
  let level: string[] = [""];
  for (let d = 0; d < depth; d++) {
    const children = await mapConcurrent(
      level,
      opts.concurrency ?? 16,
      async (prefix) => {
        const names = await store.listDir(prefix);
        return names
          .filter((name) => !(d === 0 && RESERVED_NAMES.has(name)) && !name.startsWith("."))
          .sort()
          .map((name) => joinPath(prefix, name));
      },
      opts.signal,
    );
    level = children.flat();
  }
  const published = await mapConcurrent(
    level,
    opts.concurrency ?? 16,
    async (path) => ((await store.exists(joinPath(path, "zarr.json"))) ? path : undefined),
    opts.signal,
  );
  return published.filter((p): p is string => p !== undefined).sort();
}
