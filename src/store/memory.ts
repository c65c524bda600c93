/**
 * An in-process store (BEHAVIOUR §13.3), with object-store semantics.
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
import { type RangeQuery, Store } from "./store.js";

/** The objects of one named memory store, shared by all its handles. */
class MemoryData {
  readonly objects = new Map<string, Uint8Array>();
  private sorted: string[] | null = null;

  /** All keys, sorted (cached until the next change). */
  keys(): string[] {
    this.sorted ??= [...this.objects.keys()].sort();
    return this.sorted;
  }

  set(key: string, value: Uint8Array): void {
    if (!this.objects.has(key)) this.sorted = null;
    this.objects.set(key, value);
  }

  delete(key: string): void {
    if (this.objects.delete(key)) this.sorted = null;
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

  override async readBytes(key: string, opts?: { signal?: AbortSignal }): Promise<Uint8Array | undefined> {
    const k = normalizeKey(key, this.rootUri);
    opts?.signal?.throwIfAborted();
    return this.data.objects.get(k)?.slice();
  }

  override async readRange(
    key: string,
    range: RangeQuery,
    opts?: { signal?: AbortSignal },
  ): Promise<Uint8Array | undefined> {
    const k = normalizeKey(key, this.rootUri);
    checkRange(range, k, this.rootUri);
    opts?.signal?.throwIfAborted();
    const value = this.data.objects.get(k);
    if (value === undefined) return undefined;
    const { start, end } = resolveRange(range, value.length);
    return value.slice(start, end);
  }

  /** Stores a copy of `data`. @throws ReadOnlyError on a read-only store; StoreError for the root key. */
  override async writeBytes(key: string, data: Uint8Array): Promise<void> {
    const k = normalizeKey(key, this.rootUri);
    this.assertWritable(k);
    if (k === "") throw new StoreError(`cannot write the root of ${this.rootUri} as an object`, { key });
    this.data.set(k, data.slice());
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
