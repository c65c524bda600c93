/**
 * `zcollection repair <url>`: finishes or rolls back the writes that a crash,
 * a kill or a second Ctrl-C interrupted, removes stale writer leases, and
 * rebuilds the catalog from the store (see `Collection.repair`).
 *
 * @module
 */

import { openCollection } from "../collection/index.js";
import { stringifyJson } from "../json.js";
import type { CliIO } from "./io.js";

/**
 * Repairs the collection at `url` and prints what was done: one line per
 * interrupted operation completed, the stale leases removed, the catalog
 * changes, or `nothing to repair`.
 *
 * @returns 0; errors propagate (exit 2, or 1 when interrupted).
 * @throws CollectionNotFoundError, ReadOnlyError, ConflictError (a live
 *   writer held a partition past `--wait`), StoreError.
 */
export async function repair(url: string, opts: { json?: boolean }, io: CliIO): Promise<number> {
  const signal = io.signal;
  // Recovery is what repair reports: not run by the open.
  const col = await openCollection(url, { mode: "rw", recover: false, ...(signal ? { signal } : {}) });
  const report = await col.repair(signal ? { signal } : {});
  if (opts.json === true) {
    io.stdout.write(`${stringifyJson(report, { indent: 2 })}\n`);
    return 0;
  }
  const lines: string[] = [];
  for (const op of report.recovered) {
    const parts = [
      op.rolledForward.length > 0 ? `${op.rolledForward.length} replacement(s) completed` : "",
      op.discarded.length > 0 ? `${op.discarded.length} unfinished replacement(s) discarded` : "",
      op.catalogAdded.length > 0 ? `${op.catalogAdded.length} partition(s) added to the catalog` : "",
      op.catalogRemoved.length > 0 ? `${op.catalogRemoved.length} partition(s) removed from the catalog` : "",
    ].filter((p) => p !== "");
    lines.push(
      `recovered interrupted ${op.operation} ${op.id} by ${op.owner}: ${parts.length > 0 ? parts.join(", ") : "nothing left to do"}`,
    );
  }
  for (const id of report.running) lines.push(`left running operation ${id} alone (its writer is alive)`);
  if (report.staleLeases.length > 0) lines.push(`removed ${report.staleLeases.length} stale writer lease(s)`);
  if (
    report.catalog !== undefined &&
    (report.catalog.added.length > 0 || report.catalog.removed.length > 0)
  ) {
    lines.push(
      `catalog rebuilt from the store: ${report.catalog.added.length} partition(s) added, ` +
        `${report.catalog.removed.length} removed`,
    );
  }
  io.stdout.write(lines.length === 0 ? "nothing to repair\n" : `${lines.join("\n")}\n`);
  return 0;
}
