/**
 * A store over a local directory (docs/behaviour.md §13.2, §18 #13).
 *
 * Node-only: `node:fs/promises` is loaded on first use (./local-fs.ts), so
 * importing this module costs nothing and does not break a browser bundle
 * that never touches the filesystem. The symbolic-link checks that keep
 * keys inside the root are in ./local-confine.ts.
 *
 * @module
 */

import type { Dirent } from "node:fs";
import { StoreError } from "../errors.js";
import { checkRange, normalizeKey, randomHex, resolveRange, sortedUnique } from "./keys.js";
import { RootConfinement } from "./local-confine.js";
import {
  code,
  type Fs,
  failure,
  IS_LINK,
  isDirectory,
  keyPath,
  loadAtomic,
  loadFs,
  MISSING,
  plain,
  readNoFollow,
} from "./local-fs.js";
import { type RangeQuery, type ReadOptions, readTarget, Store, type VersionedBytes } from "./store.js";

/** How long a compare-and-swap waits for the lock of an object, in ms. */
const LOCK_TIMEOUT_MS = 35_000; // longer than LOCK_STALE_MS: an abandoned lock is broken before the wait ends

/**
 * Whether a file name is a transient artefact of an interrupted atomic write
 * (`<name>.<random>.tmp` from this store, `<name>.tmp` from Python's
 * LocalStore, `<stem>.<hex>.partial` from zarr-python) or the lock file of a
 * compare-and-swap (`.<name>.lock`): listings skip them (docs/format.md §1, §13
 * reader rule 6).
 */
export function isTransientName(name: string): boolean {
  return (
    name.endsWith(".tmp") || name.endsWith(".partial") || (name.startsWith(".") && name.endsWith(".lock"))
  );
}

/** Options of {@link LocalStore}. */
export interface LocalStoreOptions {
  /** Refuse writes and deletes with ReadOnlyError (default false). */
  readOnly?: boolean;
}

/**
 * Keys are files below a root directory; `/` in a key is a directory level.
 *
 * - Opening never creates anything (docs/behaviour.md §18 #13): the root directory
 *   appears with the first write.
 * - {@link LocalStore.writeBytes} is atomic per key: the bytes go to a sibling
 *   `<name>.<16 hex>.tmp` which is then renamed over the target, so a reader
 *   sees the old or the new object, never a torn one. Parent directories are
 *   created on demand.
 * - Listings skip `*.tmp` and `*.partial` files (transient files of
 *   interrupted writes); a key whose name ends that way is therefore
 *   readable but not listed.
 * - {@link LocalStore.exists} is true for a file or a directory (even an
 *   empty one: directories left behind by deletes are harmless because
 *   partition discovery requires `zarr.json`).
 * - Conditional writes ({@link LocalStore.writeConditional}): create-only
 *   with `link(2)`, compare-and-swap under an exclusive lock file
 *   `.<name>.lock` (skipped by listings), versions from inode, modification
 *   time, size and a digest of the bytes (./fs-atomic.ts) — atomic across
 *   processes sharing the directory. {@link LocalStore.renamePrefix} is one
 *   `rename(2)` of a directory.
 * - Symbolic links are never followed out of the root: a key whose
 *   directory resolves (`realpath`) outside the real root is refused with a
 *   StoreError, for reads, writes, deletes and renames alike; a key that is
 *   itself a link is read only when its target lies inside; `listDir` skips
 *   links that lead outside. Links that stay inside keep working.
 *
 * @example
 * const store = new LocalStore("/data/collection", { readOnly: true });
 * const cfg = await store.readBytes("_zcollection.json");
 */
export class LocalStore extends Store {
  /** `file://` + the root path as given (relative paths stay relative, docs/behaviour.md §13.2). */
  readonly rootUri: string;
  readonly readOnly: boolean;
  /** The root directory as given (trailing separators removed). */
  readonly root: string;
  /** The symbolic-link checks of keys (./local-confine.ts). */
  readonly #confinement: RootConfinement;

  /**
   * @param root - directory path (absolute or relative to the working directory).
   * @throws StoreError when `root` is empty.
   */
  constructor(root: string, opts: LocalStoreOptions = {}) {
    super();
    if (typeof root !== "string" || root === "") throw new StoreError("LocalStore needs a directory path");
    this.root = root.length > 1 ? root.replace(/[/\\]+$/, "") || root.slice(0, 1) : root;
    this.rootUri = `file://${this.root}`;
    this.readOnly = opts.readOnly ?? false;
    this.#confinement = new RootConfinement(this.root, this.rootUri);
  }

  /** Filesystem path of a normalised key. */
  private path(key: string): string {
    return keyPath(this.root, key);
  }

  private fail(op: string, key: string, err: unknown): never {
    return failure(this.rootUri, this.path(key), op, key, err);
  }

  override async readBytes(key: string, opts?: ReadOptions): Promise<Uint8Array | undefined> {
    const k = normalizeKey(key, this.rootUri);
    opts?.signal?.throwIfAborted();
    await this.#confinement.confine(k, "read");
    const fs = await loadFs();
    if (opts?.allocate !== undefined) {
      const read = await this.#readThroughHandle(fs, k, undefined, opts);
      if (read !== "not a file") return read;
    }
    try {
      return plain(await fs.readFile(this.path(k), { flag: readNoFollow(fs), signal: opts?.signal }));
    } catch (err) {
      if (MISSING.has(code(err) ?? "")) return undefined;
      if (!IS_LINK.has(code(err) ?? "")) return this.fail("read", k, err);
    }
    // The key is a symbolic link: read it only if it leads to a file inside the root.
    const handle = await this.#confinement.openForRead(fs, k);
    if (handle === undefined) return undefined;
    try {
      return plain(await handle.readFile({ signal: opts?.signal }));
    } catch (err) {
      if (MISSING.has(code(err) ?? "")) return undefined;
      return this.fail("read", k, err);
    } finally {
      await handle.close();
    }
  }

  /**
   * `range` of the file of `k` (all of it when `undefined`), read through one
   * handle with as few `read` calls as the kernel allows, into
   * `opts.allocate`'s memory or new memory; `"not a file"` for a directory.
   */
  async #readThroughHandle(
    fs: Fs,
    k: string,
    range: RangeQuery | undefined,
    opts: ReadOptions | undefined,
  ): Promise<Uint8Array | undefined | "not a file"> {
    const handle = await this.#confinement.openForRead(fs, k);
    if (handle === undefined) return undefined;
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) return "not a file";
      const { start, end } =
        range === undefined ? { start: 0, end: stat.size } : resolveRange(range, stat.size);
      const out = readTarget(opts, end - start);
      let done = 0;
      while (done < out.length) {
        opts?.signal?.throwIfAborted();
        const { bytesRead } = await handle.read(out, done, out.length - done, start + done);
        if (bytesRead === 0) break; // truncated concurrently
        done += bytesRead;
      }
      return done === out.length ? out : out.subarray(0, done);
    } catch (err) {
      if (MISSING.has(code(err) ?? "")) return undefined;
      if (err instanceof RangeError) throw err;
      return this.fail("read", k, err);
    } finally {
      await handle.close();
    }
  }

  /** Always true on a writable store: see ./fs-atomic.ts for how. */
  override get conditionalWrites(): boolean {
    return !this.readOnly;
  }

  /**
   * Bytes and version of `key`, read through one file handle (so the two
   * match): inode, modification time and size, with a digest of the bytes
   * (see `contentVersion` in ./fs-atomic.ts).
   */
  override async readVersioned(
    key: string,
    opts?: { signal?: AbortSignal },
  ): Promise<VersionedBytes | undefined> {
    const k = normalizeKey(key, this.rootUri);
    opts?.signal?.throwIfAborted();
    await this.#confinement.confine(k, "read");
    const fs = await loadFs();
    try {
      return await this.#readVersioned(fs, k);
    } catch (err) {
      if (err instanceof StoreError) throw err;
      return this.fail("read", k, err);
    }
  }

  async #readVersioned(fs: Fs, k: string): Promise<VersionedBytes | undefined> {
    const atomic = await loadAtomic();
    const handle = await this.#confinement.openForRead(fs, k);
    if (handle === undefined) return undefined;
    try {
      const stat = await handle.stat({ bigint: true });
      if (!stat.isFile()) return undefined;
      const data = plain(await handle.readFile());
      return { data, version: atomic.contentVersion(atomic.etagOf(stat), data) };
    } finally {
      await handle.close();
    }
  }

  /**
   * Create-only (`ifVersion` null: `link(2)` of a temporary file, which
   * fails when the target exists) or compare-and-swap (under the exclusive
   * lock file `.<name>.lock`: compare the version, rename the new bytes in).
   * Atomic against every conditional writer of the directory, in any
   * process; a plain {@link LocalStore.writeBytes} is not serialised with
   * them (as on S3, it simply replaces the object).
   *
   * @returns the new version, or `undefined` when the condition failed.
   * @throws ReadOnlyError; StoreError (e.g. a lock held by a live writer for more than 35 s).
   */
  override async writeConditional(
    key: string,
    data: Uint8Array,
    ifVersion: string | null,
  ): Promise<string | undefined> {
    const k = normalizeKey(key, this.rootUri);
    this.assertWritable(k);
    if (k === "") throw new StoreError(`cannot write the root of ${this.rootUri} as an object`, { key });
    await this.#confinement.confine(k, "write");
    const [fs, atomic] = await Promise.all([loadFs(), loadAtomic()]);
    const target = this.path(k);
    try {
      if (ifVersion === null) {
        const etag = await atomic.createExclusively(target, data);
        return etag === undefined ? undefined : atomic.contentVersion(etag, data);
      }
      return await atomic.withLock(target, LOCK_TIMEOUT_MS, async () => {
        const current = await this.#readVersioned(fs, k);
        if (current?.version !== ifVersion) return undefined;
        return atomic.contentVersion(await atomic.replaceAtomically(target, data), data);
      });
    } catch (err) {
      if (err instanceof StoreError) throw err;
      return this.fail("write", k, err);
    }
  }

  /**
   * Moves the directory (or file) `from` to `to` with one `rename(2)`,
   * creating `to`'s parent directory: other processes see the whole tree at
   * one place or the other.
   *
   * A missing `from` is an error, not a no-op (nor `false`, which would send
   * a caller to copy): a staged replacement must never publish nothing.
   * `to` must not exist (an empty directory counts as existing, as for
   * {@link LocalStore.exists}); the check precedes the rename, but a
   * non-empty directory created meanwhile still makes the rename fail.
   *
   * @returns true.
   * @throws StoreError when `from` is missing or the root, `to` exists or
   *   lies below `from`, or either resolves outside the root; ReadOnlyError.
   */
  override async renamePrefix(from: string, to: string): Promise<boolean> {
    const f = normalizeKey(from, this.rootUri);
    const t = normalizeKey(to, this.rootUri);
    this.assertWritable(f);
    if (f === "" || t === "")
      throw new StoreError(`cannot rename the root of ${this.rootUri}`, { key: from });
    await this.#confinement.confine(f, "rename");
    await this.#confinement.confine(t, "rename");
    const fs = await loadFs();
    try {
      await fs.lstat(this.path(f));
    } catch (err) {
      if (!MISSING.has(code(err) ?? "")) return this.fail("rename", f, err);
      throw new StoreError(`cannot rename '${f}' in ${this.rootUri}: no such object or prefix`, {
        key: from,
      });
    }
    if (t === f || t.startsWith(`${f}/`)) {
      throw new StoreError(`cannot rename '${f}' into itself ('${t}') in ${this.rootUri}`, { key: to });
    }
    if (await this.exists(t)) {
      throw new StoreError(`cannot rename '${f}' to '${t}' in ${this.rootUri}: the target exists`, {
        key: t,
      });
    }
    try {
      await fs.mkdir(this.path(t.slice(0, Math.max(0, t.lastIndexOf("/")))), { recursive: true });
      await fs.rename(this.path(f), this.path(t));
    } catch (err) {
      return this.fail("rename", f, err);
    } finally {
      this.#confinement.forget();
    }
    return true;
  }

  /** Reads only the requested bytes through a file handle (never the whole file). */
  override async readRange(
    key: string,
    range: RangeQuery,
    opts?: ReadOptions,
  ): Promise<Uint8Array | undefined> {
    const k = normalizeKey(key, this.rootUri);
    checkRange(range, k, this.rootUri);
    opts?.signal?.throwIfAborted();
    await this.#confinement.confine(k, "read");
    const fs = await loadFs();
    const read = await this.#readThroughHandle(fs, k, range, opts);
    return read === "not a file" ? undefined : read;
  }

  /**
   * Atomic replace: writes `<file>.<random>.tmp` in the target directory then
   * renames it over `<file>`; creates parent directories as needed.
   *
   * @throws ReadOnlyError on a read-only store; StoreError when the key is
   *   the root, a directory, or below a file.
   */
  override async writeBytes(key: string, data: Uint8Array): Promise<void> {
    const k = normalizeKey(key, this.rootUri);
    this.assertWritable(k);
    if (k === "") throw new StoreError(`cannot write the root of ${this.rootUri} as an object`, { key });
    await this.#confinement.confine(k, "write");
    const fs = await loadFs();
    const target = this.path(k);
    const tmp = `${target}.${randomHex(8)}.tmp`;
    try {
      try {
        await fs.writeFile(tmp, data);
      } catch (err) {
        if (code(err) !== "ENOENT") throw err;
        await fs.mkdir(this.path(k.slice(0, Math.max(0, k.lastIndexOf("/")))), { recursive: true });
        await fs.writeFile(tmp, data);
      }
      await fs.rename(tmp, target);
    } catch (err) {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      return this.fail("write", k, err);
    }
  }

  /** Removes one file; a missing key, or a key that is a directory, is left alone. */
  override async deleteKey(key: string): Promise<void> {
    const k = normalizeKey(key, this.rootUri);
    this.assertWritable(k);
    if (k === "") return;
    await this.#confinement.confine(k, "delete");
    const fs = await loadFs();
    try {
      await fs.unlink(this.path(k));
    } catch (err) {
      const c = code(err);
      if (c === "ENOENT" || c === "ENOTDIR") return;
      // unlink(2) on a directory: EISDIR on Linux, EPERM on macOS.
      if ((c === "EISDIR" || c === "EPERM") && (await isDirectory(fs, this.path(k)))) return;
      return this.fail("delete", k, err);
    }
  }

  /** Whether `key` is a file or a directory (`""`: whether the root exists). */
  override async exists(key: string): Promise<boolean> {
    const k = normalizeKey(key, this.rootUri);
    await this.#confinement.confine(k, "stat");
    const fs = await loadFs();
    try {
      await fs.stat(this.path(k));
      return true;
    } catch (err) {
      if (MISSING.has(code(err) ?? "")) return false;
      return this.fail("stat", k, err);
    }
  }

  /** Entries of the directory `prefix`; `confined`: already known to lie inside the root. */
  private async entries(prefix: string, confined = false): Promise<Dirent[]> {
    if (!confined) await this.#confinement.confineDir(prefix, "list");
    const fs = await loadFs();
    try {
      return await fs.readdir(this.path(prefix), { withFileTypes: true });
    } catch (err) {
      if (MISSING.has(code(err) ?? "")) return [];
      return this.fail("list", prefix, err);
    }
  }

  /** File and directory names directly below `prefix`, sorted; `[]` when missing. */
  override async listPrefix(prefix: string): Promise<string[]> {
    const p = normalizeKey(prefix, this.rootUri);
    const names: string[] = [];
    for (const e of await this.entries(p)) {
      if (!(e.isFile() && isTransientName(e.name))) names.push(e.name);
    }
    return sortedUnique(names);
  }

  /**
   * Directory names directly below `prefix` (symbolic links to directories
   * inside the root included, links leading outside skipped), sorted; `[]`
   * when missing.
   */
  override async listDir(prefix: string): Promise<string[]> {
    const p = normalizeKey(prefix, this.rootUri);
    const fs = await loadFs();
    const names: string[] = [];
    for (const e of await this.entries(p)) {
      if (e.isDirectory()) names.push(e.name);
      else if (e.isSymbolicLink()) {
        const child = p === "" ? e.name : `${p}/${e.name}`;
        if (!(await isDirectory(fs, this.path(child)))) continue;
        try {
          await this.#confinement.confineDir(child, "list");
          names.push(e.name);
        } catch {
          // a link out of the root: not part of the store
        }
      }
    }
    return sortedUnique(names);
  }

  /** Every file key below the directory `prefix` (full relative keys, transient files skipped), sorted. */
  override async list(prefix = ""): Promise<string[]> {
    const p = normalizeKey(prefix, this.rootUri);
    const out: string[] = [];
    // Only real sub-directories are walked (not links): below a confined directory, they are inside too.
    const walk = async (dir: string): Promise<void> => {
      const subdirs: string[] = [];
      for (const e of await this.entries(dir, dir !== p)) {
        const key = dir === "" ? e.name : `${dir}/${e.name}`;
        if (e.isDirectory()) subdirs.push(key);
        else if (!isTransientName(e.name)) out.push(key);
      }
      await Promise.all(subdirs.map(walk));
    };
    await walk(p);
    return out.sort();
  }

  /**
   * Removes the file or directory tree `prefix`; `""` empties the root
   * (which itself is kept). Missing is a no-op.
   *
   * @throws ReadOnlyError on a read-only store.
   */
  override async deletePrefix(prefix: string): Promise<void> {
    const p = normalizeKey(prefix, this.rootUri);
    this.assertWritable(p);
    await this.#confinement.confine(p, "delete");
    const fs = await loadFs();
    const targets = p === "" ? (await this.entries("")).map((e) => e.name) : [p];
    try {
      await Promise.all(targets.map((t) => fs.rm(this.path(t), { recursive: true, force: true })));
    } catch (err) {
      return this.fail("delete", p, err);
    } finally {
      this.#confinement.forget();
    }
  }
}
