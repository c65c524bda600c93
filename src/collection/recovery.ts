/**
 * Recovery: completes or rolls back what crashed or killed writers left
 * unfinished, from the write journal (see ./journal.ts). Run by every
 * read-write open, by every insert before it writes, and by `repair`.
 *
 * For each operation whose record is stale (expired, or owned by a process
 * of this host that no longer runs):
 * 1. take the lease of every partition it named and of every target it left
 *    an intent for, in sorted order (so two recoveries never deadlock);
 * 2. roll each intent forward (publish the staged content), discard staged
 *    content without intent, and delete what an interrupted in-place write
 *    left under a partition that is not published;
 * 3. make the catalog agree with what is published: a partition of the
 *    record that is published is listed, one that is not is not listed;
 * 4. release the leases, delete the operation's leftovers, then its record.
 *
 * On Icechunk, where each operation's data is one commit, a record only
 * says "the catalog was not updated yet": step 3 alone, in one commit.
 *
 * @module
 */

import * as config from "../config.js";
import type { Catalog } from "../partitioning/catalog.js";
import { describeHolder, isStale, type Lease, LeaseKeeper, parseLease } from "../store/lease.js";
import type { Store } from "../store/store.js";
import { relativePath } from "../store/store.js";
import { metadataKey } from "../zarr/index.js";
import { isAbandoned, JournalLayout, listOperations, type OperationRecord, readRecord } from "./journal.js";
import { settleTarget } from "./staged-replace.js";
import { operationIdOf } from "./write-operation.js";

/** What recovery did for one interrupted operation. */
export interface RecoveredOperation {
  /** Operation id. */
  readonly id: string;
  /** `insert`, `update`, `drop`, or `unknown` when its record was lost. */
  readonly operation: string;
  /** `host:pid (operation)` of the writer that left it. */
  readonly owner: string;
  /** Targets whose staged new content was published. */
  readonly rolledForward: readonly string[];
  /** Targets whose unfinished new content was discarded (their old content stays). */
  readonly discarded: readonly string[];
  /** Partitions added to the catalog. */
  readonly catalogAdded: readonly string[];
  /** Partitions removed from the catalog. */
  readonly catalogRemoved: readonly string[];
}

/** What {@link recoverOperations} did. */
export interface RecoveryReport {
  /** Interrupted operations completed. */
  readonly recovered: readonly RecoveredOperation[];
  /** Ids of operations still running (left alone). */
  readonly running: readonly string[];
  /** Interrupted operations that could not be completed now (a live writer held one of their partitions). */
  readonly deferred: readonly string[];
}

/** Options of {@link recoverOperations}. */
export interface RecoveryOptions {
  /** The collection catalog, when enabled. */
  catalog?: Catalog | undefined;
  /** How long to wait for a live writer's lease (default 0: defer the operation). */
  waitMs?: number;
  signal?: AbortSignal;
}

/**
 * Completes every interrupted operation of the store (see the module
 * comment). Cheap when there is none: one listing of the journal.
 *
 * @throws StoreError on store failures; the signal's reason when aborted.
 */
export async function recoverOperations(store: Store, opts: RecoveryOptions = {}): Promise<RecoveryReport> {
  const layout = new JournalLayout(store);
  const ids = await listOperations(store, layout);
  const recovered: RecoveredOperation[] = [];
  const running: string[] = [];
  const deferred: string[] = [];
  for (const id of ids) {
    opts.signal?.throwIfAborted();
    const record = await readRecord(store, layout, id);
    if (store.transactional) {
      if (record !== undefined) recovered.push(await reconcileCommitted(store, layout, record, opts.catalog));
      continue;
    }
    if (!isAbandoned(record)) {
      running.push(id);
      continue;
    }
    const done = await recoverOne(store, layout, id, record, opts);
    if (done === undefined) deferred.push(id);
    else recovered.push(done);
  }
  return { recovered, running, deferred };
}

/**
 * Deletes the lease objects whose writer is gone (expired, or a dead
 * process of this host). They are harmless — the next writer takes them
 * over — but `repair` leaves a clean store.
 *
 * @returns the targets whose stale lease was removed.
 */
export async function removeStaleLeases(store: Store): Promise<string[]> {
  if (!store.conditionalWrites) return [];
  const layout = new JournalLayout(store);
  const removed: string[] = [];
  for (const key of await store.list(layout.leases)) {
    if (!key.endsWith(".lease")) continue;
    const current = await store.readVersioned(key);
    if (current === undefined) continue;
    const doc = parseLease(current.data);
    if (doc !== undefined && !isStale(doc)) continue;
    // Only if unchanged since read: a writer may be taking it over right now.
    const again = await store.readVersioned(key);
    if (again?.version !== current.version) continue;
    await store.deleteKey(key);
    removed.push(relativePath(key, layout.leases).slice(0, -".lease".length));
  }
  return removed;
}

/**
 * Deletes staged and trashed content of operations that no longer exist
 * (no record, no intents): what a task of an executor's worker wrote after
 * its operation had ended (a late retry, a worker presumed dead). Harmless
 * and invisible, but `repair` leaves a clean store.
 *
 * @returns the operation ids whose leftovers were removed.
 */
export async function removeOrphanStaging(store: Store): Promise<string[]> {
  const layout = new JournalLayout(store);
  const live = new Set(await listOperations(store, layout));
  const removed = new Set<string>();
  for (const area of ["staging", "trash"]) {
    const prefix = `${layout.root}/${area}`;
    for (const name of await store.listDir(prefix)) {
      const id = name.replace(/\/+$/, "");
      if (id === "" || live.has(id)) continue;
      await store.deletePrefix(`${prefix}/${id}`);
      removed.add(id);
    }
  }
  return [...removed];
}

/** Whether the store holds any operation record or intent (one listing). */
export async function hasPendingOperations(store: Store): Promise<boolean> {
  return (await listOperations(store, new JournalLayout(store))).length > 0;
}

/** Describes the operations of the journal for messages: `insert 1a2b… by host:pid, started …`. */
export async function describePending(store: Store): Promise<string[]> {
  const layout = new JournalLayout(store);
  const out: string[] = [];
  for (const id of await listOperations(store, layout)) {
    const r = await readRecord(store, layout, id);
    out.push(
      r === undefined
        ? `operation ${id} (record lost)`
        : `${r.operation} ${id} by ${r.host}:${r.pid}, started ${r.started}${isAbandoned(r) ? ", interrupted" : ", running"}`,
    );
  }
  return out;
}

async function recoverOne(
  store: Store,
  layout: JournalLayout,
  id: string,
  record: OperationRecord | undefined,
  opts: RecoveryOptions,
): Promise<RecoveredOperation | undefined> {
  const intentKeys = (await store.list(layout.intentsOf(id))).filter((k) => k.endsWith(".intent"));
  const intentTargets = intentKeys.map((k) =>
    relativePath(k, layout.intentsOf(id)).slice(0, -".intent".length),
  );
  const partitions = record?.partitions ?? [];
  const targets = [...new Set([...partitions, ...intentTargets])].sort();
  const keeper = new LeaseKeeper(store, {
    prefix: layout.leases,
    ttlMs: config.get("lease.ttl"),
    waitMs: opts.waitMs ?? 0,
    operation: `recover ${id}`,
  });
  const rolledForward: string[] = [];
  const discarded: string[] = [];
  const held: Lease[] = [];
  try {
    for (const target of targets) {
      opts.signal?.throwIfAborted();
      let lease: Lease;
      try {
        lease = await keeper.acquire(target, opts.signal ? { signal: opts.signal } : {});
      } catch (err) {
        if ((err as { _tag?: unknown })._tag === "ConflictError") return undefined;
        throw err;
      }
      held.push(lease);
      const other = lease.tookOver === undefined ? undefined : operationIdOf(lease.tookOver.operation);
      if (other !== undefined && other !== id) await settleTarget(store, layout, other, target);
      if (intentTargets.includes(target)) {
        const outcome = await settleTarget(store, layout, id, target);
        (outcome === "rolled-forward" ? rolledForward : discarded).push(target);
      }
      if (
        partitions.includes(target) &&
        !(await store.exists(metadataKey(target))) &&
        (await store.exists(target))
      ) {
        await store.deletePrefix(target); // an interrupted in-place write, never published
      }
    }
    const { added, removed } = await reconcileCatalog(store, partitions, opts.catalog);
    for (const prefix of layout.leftovers(id)) await store.deletePrefix(prefix);
    await store.deleteKey(layout.recordKey(id));
    return {
      id,
      operation: record?.operation ?? "unknown",
      owner: record === undefined ? "unknown" : describeHolder(record),
      rolledForward,
      discarded,
      catalogAdded: added,
      catalogRemoved: removed,
    };
  } finally {
    await keeper.close();
  }
}

/** Makes the catalog list exactly the published ones among `partitions`. */
async function reconcileCatalog(
  store: Store,
  partitions: readonly string[],
  catalog: Catalog | undefined,
): Promise<{ added: string[]; removed: string[] }> {
  if (catalog === undefined || partitions.length === 0) return { added: [], removed: [] };
  const published = new Set<string>();
  for (const p of partitions) if (await store.exists(metadataKey(p))) published.add(p);
  const added: string[] = [];
  const removed: string[] = [];
  await catalog.update((current) => {
    added.length = 0;
    removed.length = 0;
    const set = new Set(current);
    for (const p of partitions) {
      if (published.has(p) && !set.has(p)) {
        set.add(p);
        added.push(p);
      } else if (!published.has(p) && set.has(p)) {
        set.delete(p);
        removed.push(p);
      }
    }
    return [...set];
  });
  return { added, removed };
}

/** Icechunk: the data of `record` is committed; bring the catalog in line and drop the record, in one commit. */
async function reconcileCommitted(
  store: Store,
  layout: JournalLayout,
  record: OperationRecord,
  catalog: Catalog | undefined,
): Promise<RecoveredOperation> {
  let result = { added: [] as string[], removed: [] as string[] };
  await retryConflicts(() =>
    store.session(
      async () => {
        result = await reconcileCatalog(store, record.partitions, catalog);
        await store.deleteKey(layout.recordKey(record.id));
      },
      { message: "zcollection recover" },
    ),
  );
  return {
    id: record.id,
    operation: record.operation,
    owner: describeHolder(record),
    rolledForward: [],
    discarded: [],
    catalogAdded: result.added,
    catalogRemoved: result.removed,
  };
}

/**
 * Runs `fn` again (up to `attempts` times, with jittered backoff) while it
 * fails with a ConflictError: for small transactions whose only conflict
 * is another writer's update of the same document (the catalog).
 */
export async function retryConflicts<T>(fn: () => Promise<T>, attempts = 30): Promise<T> {
  let pause = 10;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if ((err as { _tag?: unknown })._tag !== "ConflictError" || attempt >= attempts) throw err;
    }
    await new Promise((r) => setTimeout(r, pause * (0.5 + Math.random())));
    pause = Math.min(pause * 2, 1000);
  }
}
