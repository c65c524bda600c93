/**
 * A store that dies at its n-th mutation: that call and every later call
 * (reads included) fail, as if the process had been killed right there.
 * Wraps a real store, so what was written before the "crash" stays, and
 * recovery can then run on the inner store. Used to crash a write at every
 * instant in turn, deterministically.
 */
import { type RangeQuery, type SessionOptions, Store, type VersionedBytes } from "../../src/store/store.js";

/** The error every call fails with once the store died. */
export class Crash extends Error {
  constructor(at: number) {
    super(`simulated crash at mutation ${at}`);
    this.name = "Crash";
  }
}

export class DyingStore extends Store {
  readonly inner: Store;
  /** Mutations seen so far. */
  mutations = 0;
  /** The mutation that kills the store (1-based); Infinity: never. */
  readonly dieAt: number;

  /** Whether the store pretends it cannot rename (an object store: publication by copy). */
  readonly noRename: boolean;

  constructor(inner: Store, dieAt = Number.POSITIVE_INFINITY, opts: { noRename?: boolean } = {}) {
    super();
    this.inner = inner;
    this.dieAt = dieAt;
    this.noRename = opts.noRename ?? false;
  }

  get dead(): boolean {
    return this.mutations >= this.dieAt;
  }

  get rootUri(): string {
    return this.inner.rootUri;
  }
  get readOnly(): boolean {
    return this.inner.readOnly;
  }
  override get transactional(): boolean {
    return this.inner.transactional;
  }
  override get conditionalWrites(): boolean {
    return this.inner.conditionalWrites;
  }

  #read(): void {
    if (this.dead) throw new Crash(this.dieAt);
  }

  #mutate(): void {
    if (this.dead) throw new Crash(this.dieAt);
    this.mutations += 1;
    if (this.dead) throw new Crash(this.dieAt);
  }

  override async readBytes(key: string, opts?: { signal?: AbortSignal }): Promise<Uint8Array | undefined> {
    this.#read();
    return this.inner.readBytes(key, opts);
  }
  override async readRange(key: string, range: RangeQuery, opts?: { signal?: AbortSignal }) {
    this.#read();
    return this.inner.readRange(key, range, opts);
  }
  override async readVersioned(
    key: string,
    opts?: { signal?: AbortSignal },
  ): Promise<VersionedBytes | undefined> {
    this.#read();
    return this.inner.readVersioned(key, opts);
  }
  override async exists(key: string): Promise<boolean> {
    this.#read();
    return this.inner.exists(key);
  }
  override async listPrefix(prefix: string): Promise<string[]> {
    this.#read();
    return this.inner.listPrefix(prefix);
  }
  override async listDir(prefix: string): Promise<string[]> {
    this.#read();
    return this.inner.listDir(prefix);
  }
  override async list(prefix?: string): Promise<string[]> {
    this.#read();
    return this.inner.list(prefix);
  }
  override async writeBytes(key: string, data: Uint8Array): Promise<void> {
    this.#mutate();
    return this.inner.writeBytes(key, data);
  }
  override async writeConditional(key: string, data: Uint8Array, ifVersion: string | null) {
    this.#mutate();
    return this.inner.writeConditional(key, data, ifVersion);
  }
  override async deleteKey(key: string): Promise<void> {
    this.#mutate();
    return this.inner.deleteKey(key);
  }
  override async deletePrefix(prefix: string): Promise<void> {
    this.#mutate();
    return this.inner.deletePrefix(prefix);
  }
  override async renamePrefix(from: string, to: string): Promise<boolean> {
    if (this.noRename) {
      this.#read();
      return false;
    }
    this.#mutate();
    return this.inner.renamePrefix(from, to);
  }
  override async copyObject(from: string, to: string): Promise<void> {
    this.#mutate();
    return this.inner.copyObject(from, to);
  }
  override session<T>(fn: () => Promise<T>, opts?: SessionOptions): Promise<T> {
    return this.inner.session(fn, opts);
  }
}
