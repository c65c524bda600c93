/**
 * One mutating operation (insert, update, drop) on a store with conditional
 * writes (local disk, memory, S3): its journal record, the leases of the
 * targets it writes, staged replacements, and the catalog update at the end.
 *
 * The order that makes a crash at any instant recoverable:
 * 1. write the operation record (who, until when, which partitions);
 * 2. per target: acquire its lease (taking over a dead writer's lease
 *    settles that writer's unfinished work on the target first), write or
 *    replace it (see ./staged-replace.ts), keep the lease;
 * 3. add the published partitions to (or remove the dropped ones from) the
 *    catalog by compare-and-swap, then release their leases — holding them
 *    until then keeps a concurrent drop from being undone by a late
 *    catalog update;
 * 4. delete the record.
 * Whatever a crash interrupts, {@link ./recovery.ts} completes from the
 * record, the intents and the leases.
 *
 * @module
 */

import * as config from "../config.js";
import type { Catalog } from "../partitioning/catalog.js";
import { type Lease, LeaseKeeper } from "../store/lease.js";
import type { Store } from "../store/store.js";
import {
  encodeDocument,
  JournalLayout,
  newOperationId,
  newRecord,
  type OperationKind,
  type OperationRecord,
} from "./journal.js";
import {
  type ContentWriter,
  publishStaged,
  type ReplaceContext,
  type ReplaceOptions,
  type ReplaceOutcome,
  replaceTarget,
  settleTarget,
} from "./staged-replace.js";

/** Catalog changes applied at once (and leases released after them) while an operation runs. */
const CATALOG_BATCH = 64;

/** Options of {@link WriteOperation.begin}. */
export interface WriteOperationOptions {
  operation: OperationKind;
  /** Partition paths the operation may create, replace or delete. */
  partitions: readonly string[];
  /** The collection's catalog, when it is enabled. */
  catalog?: Catalog | undefined;
  /** Lease time to live (default config `lease.ttl`). */
  ttlMs?: number;
  /** Wait for a live writer of the same target (default config `lease.wait`). */
  waitMs?: number;
}

/** The id of the operation a lease's `operation` field names (`insert <id>`), if any. */
export function operationIdOf(leaseOperation: string): string | undefined {
  const m = /^(?:insert|update|drop|recover) (\S+)$/.exec(leaseOperation);
  return m?.[1];
}

/** A held target, handed to the function of {@link WriteOperation.withTarget}. */
export interface TargetHandle {
  /** Its lease. */
  readonly lease: Lease;
  /** Writes it through the staged-replace protocol (see ./staged-replace.ts). */
  replace(write: ContentWriter, opts?: ReplaceOptions): Promise<ReplaceOutcome>;
  /** Publishes content staged completely at `staged` by another process (a worker). */
  publishStaged(staged: string): Promise<ReplaceOutcome>;
}

/** See the module comment. */
export class WriteOperation {
  readonly store: Store;
  readonly layout: JournalLayout;
  readonly id: string;
  readonly #keeper: LeaseKeeper;
  readonly #catalog: Catalog | undefined;
  readonly #change: "add" | "remove" | undefined;
  #record: OperationRecord;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  /** Partitions written or dropped whose catalog change is pending, with their leases. */
  #pending: Array<{ path: string; lease: Lease }> = [];
  #flushing: Promise<void> = Promise.resolve();
  readonly #done: string[] = [];
  /** Targets whose intent is written but not finished: recovery must complete them. */
  readonly #unfinished = new Set<string>();
  /** Whether any target went through staging (its empty prefixes are then removed at the end). */
  #staged = false;
  /** Leases acquired ahead of the work by {@link WriteOperation.hold}, by target. */
  readonly #held = new Map<string, Lease>();

  private constructor(store: Store, opts: WriteOperationOptions, ttlMs: number, waitMs: number) {
    this.store = store;
    this.layout = new JournalLayout(store);
    this.id = newOperationId();
    this.#keeper = new LeaseKeeper(store, {
      prefix: this.layout.leases,
      ttlMs,
      waitMs,
      operation: `${opts.operation} ${this.id}`,
    });
    this.#catalog = opts.catalog;
    this.#change = opts.operation === "insert" ? "add" : opts.operation === "drop" ? "remove" : undefined;
    this.#record = newRecord(this.id, opts.operation, opts.partitions, ttlMs);
  }

  /**
   * Starts an operation: writes its record and starts renewing it.
   *
   * @throws StoreError when the store has no conditional writes or the record cannot be written.
   */
  static async begin(store: Store, opts: WriteOperationOptions): Promise<WriteOperation> {
    const ttlMs = opts.ttlMs ?? config.get("lease.ttl");
    const waitMs = opts.waitMs ?? config.get("lease.wait");
    const op = new WriteOperation(store, opts, ttlMs, waitMs);
    await store.writeBytes(op.layout.recordKey(op.id), encodeDocument(op.#record));
    op.#heartbeat = setInterval(() => void op.#renewRecord(ttlMs), Math.max(10, ttlMs / 3));
    (op.#heartbeat as { unref?: () => void }).unref?.();
    return op;
  }

  async #renewRecord(ttlMs: number): Promise<void> {
    const previous = this.#record.expires;
    const next = { ...this.#record, expires: Date.now() + ttlMs };
    try {
      await this.store.writeBytes(this.layout.recordKey(this.id), encodeDocument(next));
      this.#record = next;
    } catch {
      // The store is failing; once the record expired, recovery owns the operation.
      if (Date.now() > previous && this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    }
  }

  /**
   * Acquires the lease of `target` (settling a dead writer's unfinished work
   * on it first) and runs `fn` with a handle on it. The lease is released
   * when `fn` fails, and otherwise kept until {@link WriteOperation.commit}
   * when `catalogPath` is given (the catalog must list or forget that path
   * before anyone else touches it), or released at once.
   *
   * @throws ConflictError when a live writer holds the target past the wait;
   *   whatever `fn` throws.
   */
  async withTarget<T>(
    target: string,
    fn: (handle: TargetHandle) => Promise<T>,
    opts: { signal?: AbortSignal; catalogPath?: string } = {},
  ): Promise<T> {
    const held = this.#held.get(target);
    this.#held.delete(target);
    const lease = held ?? (await this.#acquire(target, opts.signal));
    let result: T;
    try {
      result = await fn({
        lease,
        replace: (write, o = {}) => replaceTarget(this.#context(lease), target, write, o),
        publishStaged: (staged) => {
          this.#staged = true;
          return publishStaged(this.#context(lease), target, staged);
        },
      });
    } catch (err) {
      await lease.release().catch(() => undefined);
      throw err;
    }
    if (opts.catalogPath !== undefined && this.#catalog !== undefined && this.#change !== undefined) {
      this.#pending.push({ path: opts.catalogPath, lease });
      if (this.#pending.length >= CATALOG_BATCH) await this.#flush();
    } else {
      if (opts.catalogPath !== undefined) this.#done.push(opts.catalogPath);
      await lease.release();
    }
    return result;
  }

  /** Acquires the lease of `target`, settling a dead writer's unfinished work on it first. */
  async #acquire(target: string, signal?: AbortSignal): Promise<Lease> {
    const lease = await this.#keeper.acquire(target, signal ? { signal } : {});
    try {
      const previous = lease.tookOver === undefined ? undefined : operationIdOf(lease.tookOver.operation);
      if (previous !== undefined && previous !== this.id) {
        await settleTarget(this.store, this.layout, previous, target);
      }
    } catch (err) {
      await lease.release().catch(() => undefined);
      throw err;
    }
    return lease;
  }

  /**
   * Acquires the lease of `target` now and keeps it (renewed) for a later
   * {@link WriteOperation.withTarget}: the operation holds its targets while
   * other processes (workers) read them and stage their new content. Leases
   * still held at {@link WriteOperation.commit} are released there.
   *
   * @throws ConflictError when a live writer holds the target past the wait.
   */
  async hold(target: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#held.has(target)) return;
    this.#held.set(target, await this.#acquire(target, opts.signal));
  }

  /** Marks the operation as having staged content (removed at the end), e.g. by workers. */
  markStaged(): void {
    this.#staged = true;
  }

  /** Writes `target` through the staged-replace protocol while holding its lease (see {@link withTarget}). */
  replace(
    target: string,
    write: ContentWriter,
    opts: { signal?: AbortSignal; catalogPath?: string } = {},
  ): Promise<ReplaceOutcome> {
    return this.withTarget(
      target,
      (handle) => handle.replace(write, opts.signal ? { signal: opts.signal } : {}),
      opts,
    );
  }

  #context(lease: Lease): ReplaceContext {
    return {
      store: this.store,
      layout: this.layout,
      id: this.id,
      confirm: () => lease.confirm(),
      onStaging: () => {
        this.#staged = true;
      },
      onIntent: (t, pending) => {
        if (pending) this.#unfinished.add(t);
        else this.#unfinished.delete(t);
      },
    };
  }

  /** Applies the pending catalog changes (compare-and-swap) and releases their leases. */
  #flush(): Promise<void> {
    const run = this.#flushing.then(async () => {
      const batch = this.#pending;
      this.#pending = [];
      if (batch.length === 0) return;
      try {
        const paths = batch.map((b) => b.path);
        if (this.#change === "add") await this.#catalog?.add(paths);
        else if (this.#change === "remove") await this.#catalog?.remove(paths);
        this.#done.push(...paths);
      } finally {
        await Promise.allSettled(batch.map((b) => b.lease.release()));
      }
    });
    this.#flushing = run.catch(() => undefined);
    return run;
  }

  /**
   * Ends the operation, whether it succeeded or failed: applies the catalog
   * changes of what was written, releases every lease and deletes the
   * record. Call it exactly once, after every target task settled.
   *
   * @returns the partition paths whose catalog change was applied.
   */
  async commit(): Promise<string[]> {
    const unused = [...this.#held.values()];
    this.#held.clear();
    await Promise.allSettled(unused.map((l) => l.release()));
    try {
      await this.#flush();
    } catch (err) {
      await this.abandon();
      throw err;
    }
    if (this.#unfinished.size > 0) {
      // A publication failed after its commit point: leave the intents, the
      // staged content and the record to recovery.
      await this.abandon();
      return [...this.#done];
    }
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    await this.#keeper.close();
    if (this.#staged) {
      // Best effort: a late task of an executor may still be writing there; repair sweeps what is left.
      for (const prefix of this.layout.leftovers(this.id))
        await this.store.deletePrefix(prefix).catch(() => undefined);
    }
    await this.store.deleteKey(this.layout.recordKey(this.id));
    return [...this.#done];
  }

  /**
   * Stops renewing and releases the leases without deleting the record, so
   * that recovery completes the operation (used when the store failed and
   * the catalog could not be updated).
   */
  async abandon(): Promise<void> {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#pending = [];
    await this.#keeper.close();
    // Expire the record now: recovery need not wait for its time to live.
    this.#record = { ...this.#record, expires: 0 };
    await this.store
      .writeBytes(this.layout.recordKey(this.id), encodeDocument(this.#record))
      .catch(() => undefined);
  }
}
