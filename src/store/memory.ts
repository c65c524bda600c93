/**
 * An in-process store (docs/behaviour.md §13.3), with object-store semantics.
 *
 * Unlike Python's MemoryStore, a store can be *named*: every
 * `new MemoryStore({ name })` (and `openStore("memory://name")`) in the same
 * process sees the same objects, so a collection written through one handle
 * can be reopened by URL (benchmarks, views referencing a base collection).
 * An unnamed store gets a unique random name; it can be reopened by its
 * `rootUri` for as long as some handle on it is alive.
 *
 * @module
 */

import { StoreError } from "../errors.js";
import { checkRange, normalizeKey, randomHex, resolveRange } from "./keys.js";
import { type RangeQuery, type ReadOptions, readTarget, Store, type VersionedBytes } from "./store.js";

/** The objects of one named memory store, shared by all its handles. */
class MemoryData {
  readonly objects = new Map<string, Uint8Array>();
  /** Version of each object: a store-wide counter value taken at its last write. */
  readonly versions = new Map<string, string>();
  private counter = 0;
  private sorted: string[] | null = null;

  /** All keys, sorted (cached until the next change). */
  keys(): string[] {
    this.sorted ??= [...this.objects.keys()].sort();
    return this.sorted;
  }

  set(key: string, value: Uint8Array): string {
    if (!this.objects.has(key)) this.sorted = null;
    this.objects.set(key, value);
    const version = String(++this.counter);
    this.versions.set(key, version);
    return version;
  }

  delete(key: string): void {
    if (this.objects.delete(key)) this.sorted = null;
    this.versions.delete(key);
  }

  /** Keys starting with `start` (`""`: all), sorted, found by binary search. */
  keysFrom(start: string): string[] {
    const keys = this.keys();
    if (start === "") return keys;
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((keys[mid] as string) < start) lo = mid + 1;
      else hi = mid;
    }
    const out: string[] = [];
    for (let i = lo; i < keys.length && (keys[i] as string).startsWith(start); i++)
      out.push(keys[i] as string);
    return out;
  }
}

/** Explicitly named stores: kept until {@link MemoryStore.release}. */
const named = new Map<string, MemoryData>();
/** Unnamed stores: reachable by URI while a handle is alive. */
const anonymous = new Map<string, WeakRef<MemoryData>>();
const reaper = new FinalizationRegistry<string>((name) => {
  if (anonymous.get(name)?.deref() === undefined) anonymous.delete(name);
});

function lookup(name: string): MemoryData | undefined {
  return named.get(name) ?? anonymous.get(name)?.deref();
}

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Name of a process-wide shared store (`memory://<name>`): handles with the
   * same name share their objects. Omitted: a fresh, empty store with a
   * unique random name.
   */
  name?: string;
  /** Refuse writes and deletes with ReadOnlyError (default false). */
  readOnly?: boolean;
}

/**
 * A `Map` of keys to bytes with object-store semantics: a prefix "exists"
 * when an object lies below it, `listDir` returns the sub-prefixes that hold
 * objects. Bytes are copied in and out, so callers may mutate what they
 * passed or received.
 *
 * @example
 * const a = new MemoryStore({ name: "demo" });
 * await a.writeBytes("x/y", new Uint8Array([1]));
 * await new MemoryStore({ name: "demo" }).readBytes("x/y"); // Uint8Array [1]
 */
export class MemoryStore extends Store {
  /** `memory://<name>`. */
  readonly rootUri: string;
  readonly readOnly: boolean;
  /** The store name (shared registry key). */
  readonly name: string;
  private readonly data: MemoryData;

  /** @throws StoreError when `name` is empty or contains `/`. */
  constructor(opts: MemoryStoreOptions = {}) {
    super();
    this.readOnly = opts.readOnly ?? false;
    if (opts.name === undefined) {
      let name = randomHex(8);
      while (lookup(name) !== undefined) name = randomHex(8);
      this.name = name;
      this.data = new MemoryData();
      anonymous.set(name, new WeakRef(this.data));
      reaper.register(this.data, name);
    } else {
      if (typeof opts.name !== "string" || opts.name === "" || opts.name.includes("/")) {
        throw new StoreError(`invalid memory store name '${String(opts.name)}': non-empty, without '/'`);
      }
      this.name = opts.name;
      let data = lookup(opts.name);
      if (data === undefined) {
        data = new MemoryData();
        named.set(opts.name, data);
      }
      this.data = data;
    }
    this.rootUri = `memory://${this.name}`;
  }

  /**
   * Forgets the shared store `name` so its memory can be reclaimed once no
   * handle uses it; later handles with that name start empty.
   *
   * @returns whether a store of that name was registered.
   */
  static release(name: string): boolean {
    return named.delete(name) || anonymous.delete(name);
  }

  override async readBytes(key: string, opts?: ReadOptions): Promise<Uint8Array | undefined> {
    const k = normalizeKey(key, this.rootUri);
    opts?.signal?.throwIfAborted();
    const value = this.data.objects.get(k);
    if (value === undefined || opts?.allocate === undefined) return value?.slice();
    const out = readTarget(opts, value.length);
    out.set(value);
    return out;
  }

  override async readRange(
    key: string,
    range: RangeQuery,
    opts?: ReadOptions,
  ): Promise<Uint8Array | undefined> {
    const k = normalizeKey(key, this.rootUri);
    checkRange(range, k, this.rootUri);
    opts?.signal?.throwIfAborted();
    const value = this.data.objects.get(k);
    if (value === undefined) return undefined;
    const { start, end } = resolveRange(range, value.length);
    if (opts?.allocate === undefined) return value.slice(start, end);
    const out = readTarget(opts, end - start);
    out.set(value.subarray(start, end));
    return out;
  }

  /** Stores a copy of `data`. @throws ReadOnlyError on a read-only store; StoreError for the root key. */
  override async writeBytes(key: string, data: Uint8Array): Promise<void> {
    const k = normalizeKey(key, this.rootUri);
    this.assertWritable(k);
    if (k === "") throw new StoreError(`cannot write the root of ${this.rootUri} as an object`, { key });
    this.data.set(k, data.slice());
  }

  /** Always true: the check and the write of {@link writeConditional} are one synchronous step. */
  override get conditionalWrites(): boolean {
    return true;
  }

  override async readVersioned(
    key: string,
    opts?: { signal?: AbortSignal },
  ): Promise<VersionedBytes | undefined> {
    const k = normalizeKey(key, this.rootUri);
    opts?.signal?.throwIfAborted();
    const value = this.data.objects.get(k);
    if (value === undefined) return undefined;
    return { data: value.slice(), version: this.data.versions.get(k) as string };
  }

  /**
   * Writes only if `key` is absent (`ifVersion` null) or has the version
   * `ifVersion`; check and write happen in one synchronous step, so they
   * are atomic for every handle of the store in this process.
   *
   * @returns the new version, or `undefined` when the condition failed.
   * @throws ReadOnlyError on a read-only store; StoreError for the root key.
   */
  override async writeConditional(
    key: string,
    data: Uint8Array,
    ifVersion: string | null,
  ): Promise<string | undefined> {
    const k = normalizeKey(key, this.rootUri);
    this.assertWritable(k);
    if (k === "") throw new StoreError(`cannot write the root of ${this.rootUri} as an object`, { key });
    const current = this.data.versions.get(k);
    if (ifVersion === null ? current !== undefined : current !== ifVersion) return undefined;
    return this.data.set(k, data.slice());
  }

  /**
   * Re-keys every object below `from` (and `from` itself) to `to` in one
   * synchronous step: every caller in the process sees all of them at one
   * place or the other.
   *
   * @returns true.
   * @throws StoreError when `from` holds no object (a missing source is an
   *   error, as on a local disk), is the root, or contains `to`, or when `to`
   *   holds objects; ReadOnlyError on a read-only store.
   */
  override async renamePrefix(from: string, to: string): Promise<boolean> {
    const f = normalizeKey(from, this.rootUri);
    const t = normalizeKey(to, this.rootUri);
    this.assertWritable(f);
    if (f === "" || t === "")
      throw new StoreError(`cannot rename the root of ${this.rootUri}`, { key: from });
    const moved = [...(this.data.objects.has(f) ? [f] : []), ...this.data.keysFrom(`${f}/`)];
    if (moved.length === 0) {
      throw new StoreError(`cannot rename '${f}' in ${this.rootUri}: no such object or prefix`, {
        key: from,
      });
    }
    if (t === f || t.startsWith(`${f}/`)) {
      throw new StoreError(`cannot rename '${f}' into itself ('${t}') in ${this.rootUri}`, { key: to });
    }
    if (this.data.objects.has(t) || this.data.keysFrom(`${t}/`).length > 0) {
      throw new StoreError(`cannot rename '${f}' to '${t}' in ${this.rootUri}: the target exists`, {
        key: t,
      });
    }
    for (const key of moved) {
      const value = this.data.objects.get(key) as Uint8Array;
      this.data.delete(key);
      this.data.set(t + key.slice(f.length), value);
    }
    return true;
  }

  override async deleteKey(key: string): Promise<void> {
    const k = normalizeKey(key, this.rootUri);
    this.assertWritable(k);
    this.data.delete(k);
  }

  /** Whether `key` is an object or has objects below it (`""`: whether the store holds anything). */
  override async exists(key: string): Promise<boolean> {
    const k = normalizeKey(key, this.rootUri);
    if (k === "") return this.data.objects.size > 0;
    return this.data.objects.has(k) || this.data.keysFrom(`${k}/`).length > 0;
  }

  /** Names of the objects and sub-prefixes directly below `prefix`, sorted. */
  override async listPrefix(prefix: string): Promise<string[]> {
    return this.children(prefix, false);
  }

  /** Names of the sub-prefixes directly below `prefix` that hold objects, sorted. */
  override async listDir(prefix: string): Promise<string[]> {
    return this.children(prefix, true);
  }

  private children(prefix: string, dirsOnly: boolean): string[] {
    const p = normalizeKey(prefix, this.rootUri);
    const start = p === "" ? "" : `${p}/`;
    const names = new Set<string>();
    for (const key of this.data.keysFrom(start)) {
      const rest = key.slice(start.length);
      const slash = rest.indexOf("/");
      if (slash >= 0) names.add(rest.slice(0, slash));
      else if (!dirsOnly) names.add(rest);
    }
    return [...names].sort();
  }

  /** Every key below `prefix` (full relative keys), sorted. */
  override async list(prefix = ""): Promise<string[]> {
    const p = normalizeKey(prefix, this.rootUri);
    return [...this.data.keysFrom(p === "" ? "" : `${p}/`)];
  }

  /** Deletes the object `prefix` and every object below it (`""`: everything). */
  override async deletePrefix(prefix: string): Promise<void> {
    const p = normalizeKey(prefix, this.rootUri);
    this.assertWritable(p);
    const doomed = p === "" ? [...this.data.keys()] : [p, ...this.data.keysFrom(`${p}/`)];
    for (const key of doomed) this.data.delete(key);
  }
}
