/**
 * The repairs of `Collection.repair` and `Collection.repairCatalog` (the
 * `zcollection repair` command) that follow the recovery of the journal:
 * removal of stale leases and orphan staging, and the rewrite of the
 * catalog from a walk of the store. Used by `Collection`; knows nothing of it.
 *
 * @module
 */

import type { Catalog } from "../partitioning/catalog.js";
import type { Partitioning } from "../partitioning/index.js";
import type { Store } from "../store/store.js";
import { walkPartitions } from "./listing.js";
import type { RepairReport } from "./options.js";
import { type RecoveryReport, removeOrphanStaging, removeStaleLeases } from "./recovery.js";

/**
 * Rewrites `catalog` from a walk of `store` (`Collection.repairCatalog`).
 *
 * @returns the partition paths found (string order, as stored).
 */
export async function rewriteCatalog(
  store: Store,
  partitioning: Partitioning,
  catalog: Catalog,
  opts: { signal?: AbortSignal } = {},
): Promise<string[]> {
  const walked = await walkPartitions(store, partitioning, opts);
  return store.session(() => catalog.write(walked), { message: "zcollection repair catalog" });
}

/**
 * After the journal's recovery (`report`): removes stale leases, then —
 * without transactions — orphan staging, then, when the collection has a
 * `catalog`, makes it agree with a walk of the store (`Collection.repair`).
 *
 * @returns `report` with what these steps did.
 */
export async function repairAfterRecovery(
  store: Store,
  partitioning: Partitioning,
  catalog: Catalog | undefined,
  report: RecoveryReport,
  opts: { signal?: AbortSignal } = {},
): Promise<RepairReport> {
  const staleLeases = await removeStaleLeases(store);
  if (!store.transactional) await removeOrphanStaging(store);
  let changes: RepairReport["catalog"];
  if (catalog !== undefined) {
    const before = new Set((await catalog.read())?.paths ?? []);
    const walked = await walkPartitions(store, partitioning, opts);
    const after = new Set(
      await store.session(() => catalog.update(() => walked), { message: "zcollection repair" }),
    );
    changes = {
      added: [...after].filter((p) => !before.has(p)),
      removed: [...before].filter((p) => !after.has(p)),
    };
  }
  return { ...report, staleLeases, catalog: changes };
}
