/**
 * A local-filesystem object backend for Icechunk's custom storage
 * (`Storage.newCustom`), used by {@link IcechunkStore} (docs/behaviour.md §13.5).
 *
 * The WASI build of `@earthmover/icechunk` has no filesystem storage of its
 * own (DEPENDENCIES.md, Icechunk row), so the object operations Icechunk needs
 * are implemented here over `node:fs`, with the guarantees of an object store:
 *
 * - every write is atomic: the bytes go to a hidden temporary file in the
 *   target directory, which is then renamed over (or linked to) the target, so
 *   a reader sees the old object or the new one, never a torn one;
 * - a version (`etag`) identifies one write of an object: inode, modification
 *   time in nanoseconds and size (a rename keeps the inode of the new file, so
 *   each write yields a new etag);
 * - a create-only write (`previousVersion` without etag nor generation) uses
 *   `link()`, which fails when the target exists;
 * - a compare-and-swap write (`previousVersion.etag`) holds an exclusive lock
 *   file (`open(..., "wx")`) beside the target while it compares the current
 *   etag and renames the new bytes in; stale locks (older than
 *   {@link LOCK_STALE_MS}) are broken;
 * - a missing object is reported by throwing an `Error` whose message
 *   contains `ObjectNotFound`, which Icechunk maps to its "not found" error.
 *
 * Hidden names (starting with `.`) are the backend's own temporaries and
 * locks: listings skip them. Icechunk never names objects that way.
 *
 * @module
 */

import type { BigIntStats, Dirent } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { createExclusively, etagOf, LOCK_STALE_MS, replaceAtomically, withLock } from "./fs-atomic.js";

/** Version of an object as Icechunk sees it (mirrors `StorageVersionInfo`). */
export interface FsVersionInfo {
  etag?: string | null;
  generation?: string | null;
}

/** Result of a versioned write (mirrors `StorageVersionedUpdateResult`). */
export interface FsVersionedUpdateResult {
  /** `"updated"` or `"not_on_latest_version"`. */
  kind: "updated" | "not_on_latest_version";
  newVersion?: { etag: string };
}

/** Arguments of `getObjectRange`: `[rangeStart, rangeEnd)` bytes of `path`, or all of it. */
export interface FsGetObjectRangeArgs {
  path: string;
  rangeStart?: number | null;
  rangeEnd?: number | null;
}

/** Arguments of `putObject`. `previousVersion`: absent = overwrite; `{}` = create only; `{etag}` = compare-and-swap. */
export interface FsPutObjectArgs {
  path: string;
  data: Uint8Array;
  contentType?: string | null;
  metadata?: Array<{ key: string; value: string }>;
  previousVersion?: FsVersionInfo | null;
}

/** Arguments of `copyObject`: copy `from` to `to` if `from` still has `version`. */
export interface FsCopyObjectArgs {
  from: string;
  to: string;
  contentType?: string | null;
  version: FsVersionInfo;
}

/** Arguments of `deleteBatch`: delete `<prefix>/<id>` for each item. */
export interface FsDeleteBatchArgs {
  prefix: string;
  batch: Array<{ id: string; size: number }>;
}

/** Arguments of `getObjectConditional`. */
export interface FsGetObjectConditionalArgs {
  path: string;
  previousVersion?: FsVersionInfo | null;
}

/** One object found by `listObjects`; `id` is relative to the listed prefix. */
export interface FsListInfo {
  id: string;
  createdAt: Date;
  sizeBytes: number;
}

/**
 * The callbacks handed to `Storage.newCustom`. Icechunk calls them with the
 * Node error-first convention: the first argument is always `null`.
 */
export interface FsStorageBackend {
  canWrite(err: null): Promise<boolean>;
  getObjectRange(err: null, args: FsGetObjectRangeArgs): Promise<{ data: Buffer; version: { etag: string } }>;
  putObject(err: null, args: FsPutObjectArgs): Promise<FsVersionedUpdateResult>;
  copyObject(err: null, args: FsCopyObjectArgs): Promise<FsVersionedUpdateResult>;
  listObjects(err: null, prefix: string): Promise<FsListInfo[]>;
  deleteBatch(err: null, args: FsDeleteBatchArgs): Promise<{ deletedObjects: number; deletedBytes: number }>;
  getObjectLastModified(err: null, path: string): Promise<Date>;
  getObjectConditional(
    err: null,
    args: FsGetObjectConditionalArgs,
  ): Promise<
    { kind: "modified"; data: Buffer; newVersion: { etag: string } } | { kind: "on_latest_version" }
  >;
}

/** Options of {@link fsStorageBackend}. */
export interface FsStorageOptions {
  /** Refuse every mutation (`canWrite` answers false). Default false. */
  readOnly?: boolean;
  /** How long a compare-and-swap waits for the lock of an object, in ms. Default 10 000. */
  lockTimeoutMs?: number;
}

export { LOCK_STALE_MS };

/**
 * Builds the custom-storage callbacks for an Icechunk repository stored in
 * the directory `root` (created on the first write).
 *
 * Object paths from Icechunk are `/`-separated and relative; a path that
 * would leave `root` is refused.
 */
export function fsStorageBackend(root: string, options: FsStorageOptions = {}): FsStorageBackend {
  const base = path.resolve(root);
  const readOnly = options.readOnly ?? false;
  const lockTimeoutMs = options.lockTimeoutMs ?? 10_000;

  const resolve = (key: string): string => {
    const p = path.resolve(base, key.replace(/^\/+/, ""));
    if (p !== base && !p.startsWith(base + path.sep))
      throw new Error(`object path escapes the repository: '${key}'`);
    return p;
  };
  const assertWritable = (key: string): void => {
    if (readOnly) throw new Error(`read-only Icechunk storage at ${base}: refused to write '${key}'`);
  };

  return {
    async canWrite() {
      return !readOnly;
    },

    async getObjectRange(_err, { path: key, rangeStart, rangeEnd }) {
      const handle = await openForRead(resolve(key), key);
      try {
        const st = await handle.stat({ bigint: true });
        const size = Number(st.size);
        const start = Math.min(rangeStart ?? 0, size);
        const end = Math.max(start, Math.min(rangeEnd ?? size, size));
        return { data: await readFully(handle, start, end - start), version: { etag: etagOf(st) } };
      } finally {
        await handle.close();
      }
    },

    async putObject(_err, { path: key, data, previousVersion }) {
      assertWritable(key);
      const target = resolve(key);
      if (previousVersion == null) {
        return { kind: "updated", newVersion: { etag: await replaceAtomically(target, data) } };
      }
      if (previousVersion.etag == null && previousVersion.generation == null) {
        const etag = await createExclusively(target, data);
        return etag === undefined
          ? { kind: "not_on_latest_version" }
          : { kind: "updated", newVersion: { etag } };
      }
      return withLock(target, lockTimeoutMs, async () => {
        const current = await statOrUndefined(target);
        if (current === undefined || !sameVersion(current, previousVersion))
          return { kind: "not_on_latest_version" };
        return { kind: "updated", newVersion: { etag: await replaceAtomically(target, data) } };
      });
    },

    async copyObject(_err, { from, to, version }) {
      assertWritable(to);
      const handle = await openForRead(resolve(from), from);
      let data: Buffer;
      try {
        const st = await handle.stat({ bigint: true });
        if ((version.etag != null || version.generation != null) && !sameVersion(st, version)) {
          return { kind: "not_on_latest_version" };
        }
        data = await readFully(handle, 0, Number(st.size));
      } finally {
        await handle.close();
      }
      return { kind: "updated", newVersion: { etag: await replaceAtomically(resolve(to), data) } };
    },

    async listObjects(_err, prefix) {
      const dir = resolve(prefix.replace(/\/+$/, ""));
      const out: FsListInfo[] = [];
      await walk(dir, "", out);
      return out;
    },

    async deleteBatch(_err, { prefix, batch }) {
      let deletedObjects = 0;
      let deletedBytes = 0;
      for (const { id, size } of batch) {
        const key = prefix === "" ? id : `${prefix.replace(/\/+$/, "")}/${id}`;
        assertWritable(key);
        try {
          await fs.unlink(resolve(key));
          deletedObjects += 1;
          deletedBytes += size;
        } catch (err) {
          if (!isMissing(err)) throw err;
        }
      }
      return { deletedObjects, deletedBytes };
    },

    async getObjectLastModified(_err, key) {
      const st = await statOrUndefined(resolve(key));
      if (st === undefined) throw notFound(key);
      return st.mtime;
    },

    async getObjectConditional(_err, { path: key, previousVersion }) {
      const handle = await openForRead(resolve(key), key);
      try {
        const st = await handle.stat({ bigint: true });
        if (previousVersion != null && previousVersion.etag != null && sameVersion(st, previousVersion)) {
          return { kind: "on_latest_version" };
        }
        return {
          kind: "modified",
          data: await readFully(handle, 0, Number(st.size)),
          newVersion: { etag: etagOf(st) },
        };
      } finally {
        await handle.close();
      }
    },
  };
}

function sameVersion(st: BigIntStats, version: FsVersionInfo): boolean {
  const expected = version.etag ?? version.generation;
  return expected != null && expected === etagOf(st);
}

function notFound(key: string): Error {
  return new Error(`ObjectNotFound: '${key}'`);
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

async function openForRead(file: string, key: string): Promise<fs.FileHandle> {
  try {
    return await fs.open(file, "r");
  } catch (err) {
    if (isMissing(err) || (err as NodeJS.ErrnoException).code === "EISDIR") throw notFound(key);
    throw err;
  }
}

async function statOrUndefined(file: string): Promise<BigIntStats | undefined> {
  try {
    const st = await fs.stat(file, { bigint: true });
    return st.isFile() ? st : undefined;
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

async function readFully(handle: fs.FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === length ? buf : buf.subarray(0, done);
}

async function walk(dir: string, rel: string, out: FsListInfo[]): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isMissing(err)) return;
    throw err;
  }
  for (const entry of entries) {
    if (entry.name.startsWith(".")) continue;
    const id = rel === "" ? entry.name : `${rel}/${entry.name}`;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      await walk(full, id, out);
    } else if (entry.isFile()) {
      const st = await fs.stat(full).catch(() => undefined);
      if (st !== undefined) out.push({ id, createdAt: st.mtime, sizeBytes: st.size });
    }
  }
}
