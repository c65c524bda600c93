/**
 * A store wrapper that counts calls and bytes, to assert request budgets in
 * tests and benchmarks (docs/behaviour.md §17 "counting probe").
 *
 * @module
 */

import {
  type RangeQuery,
  type ReadOptions,
  type SessionOptions,
  Store,
  type VersionedBytes,
} from "./store.js";

/** Calls and bytes seen by a {@link CountingStore} since creation or the last reset. */
export interface StoreCounts {
  /** Whole-object reads (`readBytes`, zarrita `get`). */
  get: number;
  /** Ranged reads (`readRange`, zarrita `getRange`). */
  getRange: number;
  /** Writes (`writeBytes`, zarrita `set`). */
  put: number;
  /** Listings (`listPrefix`, `listDir`, `list`). */
  list: number;
  /** Deletes (`deleteKey`, zarrita `delete`, `deletePrefix`). */
  delete: number;
  /** `exists` calls. */
  exists: number;
  /** Bytes returned by reads (whole and ranged). */
  bytesRead: number;
  /** Bytes passed to writes. */
  bytesWritten: number;
}

function zero(): StoreCounts {
  return { get: 0, getRange: 0, put: 0, list: 0, delete: 0, exists: 0, bytesRead: 0, bytesWritten: 0 };
}

/**
 * Forwards every call to `inner` (including `session`, `close`,
 * `transactional`, `readOnly`, `rootUri`) and counts it. Counts are calls
 * made on this wrapper, one per method call, whatever the backend does
 * underneath (a `deletePrefix` is one delete). Failed calls are counted too.
 *
 * @example
 * const probe = new CountingStore(store);
 * await collection.query();
 * assert.equal(probe.counts.list, 0);
 */
export class CountingStore extends Store {
  /** The wrapped store. */
  readonly inner: Store;
  private tally: StoreCounts = zero();

  constructor(inner: Store) {
    super();
    this.inner = inner;
  }

  /** The inner store's root URI. */
  get rootUri(): string {
    return this.inner.rootUri;
  }

  /** The inner store's read-only flag. */
  get readOnly(): boolean {
    return this.inner.readOnly;
  }

  /** The inner store's transactional flag. */
  override get transactional(): boolean {
    return this.inner.transactional;
  }

  /** A snapshot of the counters (a plain object; later calls do not change it). */
  get counts(): StoreCounts {
    return { ...this.tally };
  }

  /** Sets every counter back to zero. */
  reset(): void {
    this.tally = zero();
  }

  override async readBytes(key: string, opts?: ReadOptions): Promise<Uint8Array | undefined> {
    this.tally.get++;
    const out = await this.inner.readBytes(key, opts);
    if (out !== undefined) this.tally.bytesRead += out.length;
    return out;
  }

  override async readRange(
    key: string,
    range: RangeQuery,
    opts?: ReadOptions,
  ): Promise<Uint8Array | undefined> {
    this.tally.getRange++;
    const out = await this.inner.readRange(key, range, opts);
    if (out !== undefined) this.tally.bytesRead += out.length;
    return out;
  }

  override async writeBytes(key: string, data: Uint8Array): Promise<void> {
    this.tally.put++;
    this.tally.bytesWritten += data.length;
    return this.inner.writeBytes(key, data);
  }

  override async deleteKey(key: string): Promise<void> {
    this.tally.delete++;
    return this.inner.deleteKey(key);
  }

  override async exists(key: string): Promise<boolean> {
    this.tally.exists++;
    return this.inner.exists(key);
  }

  override async listPrefix(prefix: string): Promise<string[]> {
    this.tally.list++;
    return this.inner.listPrefix(prefix);
  }

  override async listDir(prefix: string): Promise<string[]> {
    this.tally.list++;
    return this.inner.listDir(prefix);
  }

  override async list(prefix?: string): Promise<string[]> {
    this.tally.list++;
    return this.inner.list(prefix);
  }

  override async deletePrefix(prefix: string): Promise<void> {
    this.tally.delete++;
    return this.inner.deletePrefix(prefix);
  }

  override get conditionalWrites(): boolean {
    return this.inner.conditionalWrites;
  }

  override async readVersioned(
    key: string,
    opts?: { signal?: AbortSignal },
  ): Promise<VersionedBytes | undefined> {
    this.tally.get++;
    const out = await this.inner.readVersioned(key, opts);
    if (out !== undefined) this.tally.bytesRead += out.data.length;
    return out;
  }

  override async writeConditional(
    key: string,
    data: Uint8Array,
    ifVersion: string | null,
  ): Promise<string | undefined> {
    this.tally.put++;
    this.tally.bytesWritten += data.length;
    return this.inner.writeConditional(key, data, ifVersion);
  }

  override async renamePrefix(from: string, to: string): Promise<boolean> {
    this.tally.put++;
    return this.inner.renamePrefix(from, to);
  }

  override async copyObject(from: string, to: string): Promise<void> {
    this.tally.put++;
    return this.inner.copyObject(from, to);
  }

  override session<T>(fn: () => Promise<T>, opts?: SessionOptions): Promise<T> {
    return this.inner.session(fn, opts);
  }

  override close(): Promise<void> {
    return this.inner.close();
  }
}
