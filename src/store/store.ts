/**
 * The byte-store interface every backend implements (docs/behaviour.md §13).
 *
 * Stores know nothing of Zarr or collections: they map `/`-separated keys
 * (relative to the store root, no leading slash) to bytes. A missing key reads
 * as `undefined`, never as an exception. The zarrita-compatible methods
 * (`get`, `getRange`, `set`, `delete`) take absolute keys (`/a/b/zarr.json`)
 * and delegate to the relative-key methods, so a Store can be handed to
 * zarrita directly.
 *
 * @module
 */

import { ReadOnlyError, StoreError } from "../errors.js";

/** A byte range: `length` bytes from `offset`, or the last `suffixLength` bytes. */
export type RangeQuery = { offset: number; length: number } | { suffixLength: number };

/** An object's bytes with the version tag that conditional writes compare against. */
export interface VersionedBytes {
  readonly data: Uint8Array;
  /**
   * Opaque version tag of this write of the object: the ETag on S3, inode +
   * modification time + size on a local disk, a counter in memory.
   */
  readonly version: string;
}

/** Options of {@link Store.session}. */
export interface SessionOptions {
  /** Commit message (transactional stores only). */
  message?: string;
}

/** Options of {@link Store.readBytes} and {@link Store.readRange}. */
export interface ReadOptions {
  /** Aborts the read. */
  signal?: AbortSignal;
  /**
   * Memory to read into: called at most once, with the size of the object
   * (or range) once the store knows it and before any byte is read, it
   * returns a view of exactly that many bytes, which the store fills and
   * returns (a shorter prefix of it if the object shrank meanwhile). Lets a
   * reader recycle its buffers instead of having every object read into
   * new memory. The `file`, `memory` and `s3` stores use it; the others
   * (`http`, `icechunk`) return new memory: callers must accept either.
   *
   * @throws RangeError (from the read) when it returns a view of another length.
   */
  allocate?: (bytes: number) => Uint8Array;
}

/**
 * Memory for a read of `bytes` bytes: `opts.allocate`'s, or new memory
 * without one (for stores implementing {@link ReadOptions.allocate}).
 *
 * @throws RangeError when `allocate` returns a view of another length.
 */
export function readTarget(opts: ReadOptions | undefined, bytes: number): Uint8Array {
  if (opts?.allocate === undefined) return new Uint8Array(bytes);
  const out = opts.allocate(bytes);
  if (out.length !== bytes) throw new RangeError(`allocate(${bytes}) returned a view of ${out.length} bytes`);
  return out;
}

/**
 * A key → bytes store. Keys are relative (`year=2024/zarr.json`), `/`-separated,
 * without a leading slash; `""` is the root.
 */
export abstract class Store {
  /** Diagnostic URI of the root (`file:///data/c`, `s3://bucket/prefix`, `memory://name`). */
  abstract readonly rootUri: string;
  /** Whether writes and deletes are refused with {@link ReadOnlyError}. */
  abstract readonly readOnly: boolean;
  /** Whether {@link Store.session} commits or rolls back as one transaction (Icechunk only). */
  get transactional(): boolean {
    return false;
  }

  /** Bytes of `key`, or `undefined` when absent; into `opts.allocate`'s memory where the store supports it. */
  abstract readBytes(key: string, opts?: ReadOptions): Promise<Uint8Array | undefined>;

  /**
   * A byte range of `key`, or `undefined` when the key is absent. The
   * default implementation reads the whole object and slices it.
   */
  async readRange(key: string, range: RangeQuery, opts?: ReadOptions): Promise<Uint8Array | undefined> {
    const all = await this.readBytes(key, opts);
    if (all === undefined) return undefined;
    if ("suffixLength" in range) return all.subarray(Math.max(0, all.length - range.suffixLength));
    return all.subarray(range.offset, range.offset + range.length);
  }

  /**
   * Writes `data` at `key`, replacing any previous object; atomic per key
   * where the backend allows (a reader sees the old or the new bytes).
   *
   * @throws ReadOnlyError on a read-only store.
   */
  abstract writeBytes(key: string, data: Uint8Array): Promise<void>;

  /** Deletes one object; a missing key is not an error. @throws ReadOnlyError on a read-only store. */
  abstract deleteKey(key: string): Promise<void>;

  /** Whether `key` is an object, or a prefix with at least one object below it. */
  abstract exists(key: string): Promise<boolean>;

  /** Names (not paths) of the immediate children of `prefix` (objects and sub-prefixes), sorted. */
  abstract listPrefix(prefix: string): Promise<string[]>;

  /**
   * Names of the immediate children of `prefix` that can hold objects
   * (directories / sub-prefixes; not plain objects), sorted.
   */
  abstract listDir(prefix: string): Promise<string[]>;

  /** Every key below `prefix` (full relative keys), sorted. */
  abstract list(prefix?: string): Promise<string[]>;

  /** Deletes `prefix` (an object) and everything below it; missing is a no-op. @throws ReadOnlyError on a read-only store. */
  abstract deletePrefix(prefix: string): Promise<void>;

  // -- conditional writes (leases, journal, catalog compare-and-swap) -------

  /**
   * Whether {@link Store.readVersioned} and {@link Store.writeConditional}
   * are supported (local files, memory, S3). Transactional and read-only
   * stores do not need them and return false.
   */
  get conditionalWrites(): boolean {
    return false;
  }

  /**
   * Bytes of `key` with their version tag, or `undefined` when absent.
   *
   * @throws StoreError when the backend has no conditional writes.
   */
  async readVersioned(key: string, _opts?: { signal?: AbortSignal }): Promise<VersionedBytes | undefined> {
    throw new StoreError(`store ${this.rootUri} does not support conditional writes (reading '${key}')`, {
      key,
    });
  }

  /**
   * Writes `data` at `key` only if the object is absent (`ifVersion` null:
   * exclusive create) or still carries the version `ifVersion`
   * (compare-and-swap). The check and the write are one atomic step as seen
   * by every other writer of the store: `If-None-Match: *` / `If-Match` on
   * S3, `link(2)` / an exclusive lock file on a local disk.
   *
   * @returns the new version, or `undefined` when the condition failed
   *   (nothing written).
   * @throws ReadOnlyError on a read-only store; StoreError when the backend
   *   has no conditional writes.
   */
  async writeConditional(
    key: string,
    _data: Uint8Array,
    _ifVersion: string | null,
  ): Promise<string | undefined> {
    this.assertWritable(key);
    throw new StoreError(`store ${this.rootUri} does not support conditional writes (writing '${key}')`, {
      key,
    });
  }

  /**
   * Moves everything below `from` to `to` in one atomic step when the
   * backend can (a directory rename on a local disk, a re-keying in memory).
   * `to` must not exist; its parent is created.
   *
   * @returns false when the backend has no atomic move (object stores):
   *   nothing was done and the caller copies instead.
   * @throws ReadOnlyError on a read-only store; StoreError when the move fails.
   */
  async renamePrefix(from: string, _to: string): Promise<boolean> {
    this.assertWritable(from);
    return false;
  }

  /**
   * Copies the object `from` to `to` (replacing `to`). The default reads
   * and writes the bytes; S3 copies on the server.
   *
   * @throws StoreError when `from` is absent; ReadOnlyError on a read-only store.
   */
  async copyObject(from: string, to: string): Promise<void> {
    const bytes = await this.readBytes(from);
    if (bytes === undefined) {
      throw new StoreError(`cannot copy '${from}' in ${this.rootUri}: no such object`, { key: from });
    }
    await this.writeBytes(to, bytes);
  }

  /**
   * Runs `fn` as one unit of work. On transactional stores (Icechunk) the
   * changes made inside are committed when `fn` resolves and discarded when
   * it rejects; elsewhere this just runs `fn`.
   */
  async session<T>(fn: () => Promise<T>, _opts?: SessionOptions): Promise<T> {
    return fn();
  }

  /** Releases resources (connections, file handles). Idempotent. */
  async close(): Promise<void> {}

  // -- zarrita-compatible surface (absolute keys) ---------------------------

  /** zarrita `get`: bytes of an absolute key (`/a/zarr.json`) or `undefined`. */
  get(key: string, opts?: { signal?: AbortSignal }): Promise<Uint8Array | undefined> {
    return this.readBytes(stripSlash(key), opts);
  }

  /** zarrita `getRange`: a byte range of an absolute key or `undefined`. */
  getRange(key: string, range: RangeQuery, opts?: { signal?: AbortSignal }): Promise<Uint8Array | undefined> {
    return this.readRange(stripSlash(key), range, opts);
  }

  /** zarrita `set`. */
  set(key: string, value: Uint8Array): Promise<void> {
    return this.writeBytes(stripSlash(key), value);
  }

  /** zarrita `delete`. */
  delete(key: string): Promise<void> {
    return this.deleteKey(stripSlash(key));
  }

  /** Throws {@link ReadOnlyError} naming `key` when the store is read-only. */
  protected assertWritable(key: string): void {
    if (this.readOnly)
      throw new ReadOnlyError(`store ${this.rootUri} is read-only (refused write of '${key}')`, this.rootUri);
  }

  toString(): string {
    return this.rootUri;
  }
}

function stripSlash(key: string): string {
  return key.startsWith("/") ? key.slice(1) : key;
}

/**
 * Joins key parts: strips `/` from both ends of each part, drops empty parts,
 * joins with `/` (docs/behaviour.md §13.7: `("/a/", "/b/", "c/")` → `a/b/c`).
 */
export function joinPath(...parts: string[]): string {
  return parts
    .map((p) => p.replace(/^\/+|\/+$/g, ""))
    .filter((p) => p.length > 0)
    .join("/");
}

/** Parent of a key (`a/b/c/` → `a/b`, `a` → `""`), docs/behaviour.md §13.7. */
export function parentPath(path: string): string {
  const p = path.replace(/\/+$/, "");
  const i = p.lastIndexOf("/");
  return i < 0 ? "" : p.slice(0, i);
}

/** `path` relative to `base` (docs/behaviour.md §13.7); unchanged when not below it. */
export function relativePath(path: string, base: string): string {
  const p = path.replace(/^\/+|\/+$/g, "");
  const b = base.replace(/^\/+|\/+$/g, "");
  if (b === "") return p;
  if (p === b) return "";
  if (p.startsWith(`${b}/`)) return p.slice(b.length + 1);
  return p;
}
