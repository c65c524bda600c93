/**
 * A store over a local directory (BEHAVIOUR §13.2, §18 #13).
 *
 * Node-only: `node:fs/promises` is loaded on first use, so importing this
 * module costs nothing and does not break a browser bundle that never
 * touches the filesystem.
 *
 * @module
 */

import type { Dirent } from "node:fs";
import type * as FsPromises from "node:fs/promises";
import { StoreError } from "../errors.js";
import { importNodeOnly } from "../util/node-only.js";
import {
  checkRange,
  errorMessage,
  isAbortError,
  normalizeKey,
  randomHex,
  resolveRange,
  sortedUnique,
} from "./keys.js";
import { type RangeQuery, Store } from "./store.js";

type Fs = typeof FsPromises;
let fsModule: Promise<Fs> | undefined;
function loadFs(): Promise<Fs> {
  fsModule ??= importNodeOnly<typeof FsPromises>("node:fs/promises");
  return fsModule;
}

/** Error codes meaning "nothing there" for a read. */
const MISSING = new Set(["ENOENT", "ENOTDIR", "EISDIR"]);

function code(err: unknown): string | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === "string" ? c : undefined;
}

/**
 * Whether a file name is a transient artefact of an interrupted atomic write
 * (`<name>.<random>.tmp` from this store, `<name>.tmp` from Python's
 * LocalStore, `<stem>.<hex>.partial` from zarr-python): listings skip them
 * (FORMAT §1, §13 reader rule 6).
 */
export function isTransientName(name: string): boolean {
  return name.endsWith(".tmp") || name.endsWith(".partial");
}

/** Options of {@link LocalStore}. */
export interface LocalStoreOptions {
  /** Refuse writes and deletes with ReadOnlyError (default false). */
  readOnly?: boolean;
}

/**
 * Keys are files below a root directory; `/` in a key is a directory level.
 *
 * - Opening never creates anything (BEHAVIOUR §18 #13): the root directory
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
 *
 * @example
 * const store = new LocalStore("/data/collection", { readOnly: true });
 * const cfg = await store.readBytes("_zcollection.json");
 */
export class LocalStore extends Store {
  /** `file://` + the root path as given (relative paths stay relative, BEHAVIOUR §13.2). */
  readonly rootUri: string;
  readonly readOnly: boolean;
  /** The root directory as given (trailing separators removed). */
  readonly root: string;

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
  }

  /** Filesystem path of a normalised key. */
  private path(key: string): string {
    if (key === "") return this.root;
    return this.root.endsWith("/") ? `${this.root}${key}` : `${this.root}/${key}`;
  }

  private fail(op: string, key: string, err: unknown): never {
    if (isAbortError(err)) throw err;
    throw new StoreError(`cannot ${op} '${key}' in ${this.rootUri}: ${errorMessage(err)}`, {
      key: this.path(key),
      cause: err,
    });
  }

  override async readBytes(key: string, opts?: { signal?: AbortSignal }): Promise<Uint8Array | undefined> {
    const k = normalizeKey(key, this.rootUri);
    opts?.signal?.throwIfAborted();
    const fs = await loadFs();
    try {
      return plain(await fs.readFile(this.path(k), { signal: opts?.signal }));
    } catch (err) {
      if (MISSING.has(code(err) ?? "")) return undefined;
      return this.fail("read", k, err);
    }
  }

  /** Reads only the requested bytes through a file handle (never the whole file). */
  override async readRange(
    key: string,
    range: RangeQuery,
    opts?: { signal?: AbortSignal },
  ): Promise<Uint8Array | undefined> {
    const k = normalizeKey(key, this.rootUri);
    checkRange(range, k, this.rootUri);
    opts?.signal?.throwIfAborted();
    const fs = await loadFs();
    let handle: FsPromises.FileHandle;
    try {
      handle = await fs.open(this.path(k), "r");
    } catch (err) {
      if (MISSING.has(code(err) ?? "")) return undefined;
      return this.fail("read", k, err);
    }
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) return undefined;
      const { start, end } = resolveRange(range, stat.size);
      const out = new Uint8Array(end - start);
      let done = 0;
      while (done < out.length) {
        opts?.signal?.throwIfAborted();
        const { bytesRead } = await handle.read(out, done, out.length - done, start + done);
        if (bytesRead === 0) break; // truncated concurrently
        done += bytesRead;
      }
      return done === out.length ? out : out.slice(0, done);
    } catch (err) {
      if (MISSING.has(code(err) ?? "")) return undefined;
      return this.fail("read", k, err);
    } finally {
      await handle.close();
    }
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
    const fs = await loadFs();
    try {
      await fs.stat(this.path(k));
      return true;
    } catch (err) {
      if (MISSING.has(code(err) ?? "")) return false;
      return this.fail("stat", k, err);
    }
  }

  private async entries(prefix: string): Promise<Dirent[]> {
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

  /** Directory names directly below `prefix` (symbolic links followed), sorted; `[]` when missing. */
  override async listDir(prefix: string): Promise<string[]> {
    const p = normalizeKey(prefix, this.rootUri);
    const fs = await loadFs();
    const names: string[] = [];
    for (const e of await this.entries(p)) {
      if (e.isDirectory()) names.push(e.name);
      else if (
        e.isSymbolicLink() &&
        (await isDirectory(fs, this.path(p === "" ? e.name : `${p}/${e.name}`)))
      ) {
        names.push(e.name);
      }
    }
    return sortedUnique(names);
  }

  /** Every file key below the directory `prefix` (full relative keys, transient files skipped), sorted. */
  override async list(prefix = ""): Promise<string[]> {
    const p = normalizeKey(prefix, this.rootUri);
    const out: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      const subdirs: string[] = [];
      for (const e of await this.entries(dir)) {
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
    const fs = await loadFs();
    const targets = p === "" ? (await this.entries("")).map((e) => e.name) : [p];
    try {
      await Promise.all(targets.map((t) => fs.rm(this.path(t), { recursive: true, force: true })));
    } catch (err) {
      return this.fail("delete", p, err);
    }
  }
}

async function isDirectory(fs: Fs, path: string): Promise<boolean> {
  try {
    return (await fs.stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** A plain `Uint8Array` over a Buffer's bytes (copied only when the Buffer is a slice of a shared pool). */
function plain(buf: Uint8Array): Uint8Array {
  if (buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength) {
    return new Uint8Array(buf.buffer, 0, buf.byteLength);
  }
  return new Uint8Array(buf);
}
