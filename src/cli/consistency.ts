/**
 * What the read-only commands (`ls`, `inspect`, `query`) list: never a
 * partition that is not in the store. When the catalog disagrees with the
 * store, or an interrupted write awaits recovery, they say so on stderr and
 * point to `zcollection repair`.
 *
 * @module
 */

import type { Collection } from "../collection/index.js";
import { mapConcurrent } from "../util/concurrency.js";
import type { CliIO } from "./io.js";

/** Existence checks in flight at once. */
const CHECKS = 32;

/**
 * The partitions matching `filter` as they are in the store. With a
 * catalog, every listed partition is checked to exist (a HEAD or a stat
 * each); when some do not, or an interrupted write is pending, the store is
 * walked instead and a warning names the difference.
 *
 * @returns the paths, and whether they come from a walk of the store (the
 *   catalog was not trusted).
 */
export async function checkedPartitions(
  col: Collection,
  url: string,
  filter: string | undefined,
  io: CliIO,
): Promise<{ paths: string[]; fromStore: boolean }> {
  const signal = io.signal;
  const base = { filters: filter ?? null, ...(signal ? { signal } : {}) };
  const listed = await col.partitions(base);
  const pending = (await col.pendingOperations()).filter(
    (d) => d.endsWith("interrupted") || d.includes("record lost"),
  );
  if (pending.length > 0) {
    io.stderr.write(
      `warning: ${pending.length} interrupted write(s) await recovery (${pending[0]}); ` +
        `run \`zcollection repair ${url}\`\n`,
    );
  }
  if (!col.catalogEnabled) return { paths: listed, fromStore: false };
  const present = await mapConcurrent(listed, CHECKS, (p) => col.store.exists(`${p}/zarr.json`), signal);
  const gone = listed.filter((_, i) => !present[i]);
  if (gone.length === 0 && pending.length === 0) return { paths: listed, fromStore: false };
  const walked = await col.partitions({ ...base, fromStore: true });
  const inCatalog = new Set(listed);
  const omitted = walked.filter((p) => !inCatalog.has(p));
  if (gone.length > 0 || omitted.length > 0) {
    io.stderr.write(
      `warning: the catalog of ${url} disagrees with the store: it lists ${gone.length} partition(s) that ` +
        `are not there${gone.length > 0 ? ` (${gone[0]}${gone.length > 1 ? ", …" : ""})` : ""} and omits ` +
        `${omitted.length}${omitted.length > 0 ? ` (${omitted[0]}${omitted.length > 1 ? ", …" : ""})` : ""}; ` +
        `showing the partitions in the store. Run \`zcollection repair ${url}\`\n`,
    );
  }
  return { paths: walked, fromStore: true };
}
