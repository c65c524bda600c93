/**
 * Filesystem plumbing of the local store (./local.ts): `node:fs/promises`
 * and ./fs-atomic.ts loaded on first use (so that importing the store loads
 * no Node-only module), the error codes and open flags it relies on, key
 * paths, and its error messages.
 *
 * @module
 */

import type * as FsPromises from "node:fs/promises";
import { StoreError } from "../errors.js";
import { importNodeOnly } from "../util/node-only.js";
import { errorMessage, isAbortError } from "./keys.js";

/** The `node:fs/promises` module. */
export type Fs = typeof FsPromises;
let fsModule: Promise<Fs> | undefined;

/** `node:fs/promises`, loaded on first call. */
export function loadFs(): Promise<Fs> {
  fsModule ??= importNodeOnly<typeof FsPromises>("node:fs/promises");
  return fsModule;
}

type Atomic = typeof import("./fs-atomic.js");
let atomicModule: Promise<Atomic> | undefined;

/** ./fs-atomic.ts (atomic replace, create-only, locks, versions), loaded on first call. */
export function loadAtomic(): Promise<Atomic> {
  atomicModule ??= importNodeOnly<Atomic>(new URL("./fs-atomic.js", import.meta.url).href);
  return atomicModule;
}

/**
 * `O_RDONLY | O_NOFOLLOW`: opening a symbolic link fails (ELOOP; EMLINK on
 * FreeBSD) instead of following it, so that a link is only followed after
 * its target was checked. (No `O_NOFOLLOW` on Windows: plain read.)
 */
export function readNoFollow(fs: Fs): number {
  return fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0);
}

/** Codes of an `O_NOFOLLOW` open of a symbolic link. */
export const IS_LINK = new Set(["ELOOP", "EMLINK"]);

/** Error codes meaning "nothing there" for a read. */
export const MISSING = new Set(["ENOENT", "ENOTDIR", "EISDIR"]);

/** The `code` of a Node system error, if any. */
export function code(err: unknown): string | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === "string" ? c : undefined;
}

/** Filesystem path of the normalised key `key` below the directory `root`. */
export function keyPath(root: string, key: string): string {
  if (key === "") return root;
  return root.endsWith("/") ? `${root}${key}` : `${root}/${key}`;
}

/**
 * Throws the {@link StoreError} of a failed `op` on `key` (`file`: its
 * path) in the store `rootUri`; an abort error is rethrown as it is.
 */
export function failure(rootUri: string, file: string, op: string, key: string, err: unknown): never {
  if (isAbortError(err)) throw err;
  throw new StoreError(`cannot ${op} '${key}' in ${rootUri}: ${errorMessage(err)}`, {
    key: file,
    cause: err,
  });
}

/** Whether `path` is (or links to) a directory; false when it cannot be stat'ed. */
export async function isDirectory(fs: Fs, path: string): Promise<boolean> {
  try {
    return (await fs.stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** A plain `Uint8Array` over a Buffer's bytes (copied only when the Buffer is a slice of a shared pool). */
export function plain(buf: Uint8Array): Uint8Array {
  if (buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength) {
    return new Uint8Array(buf.buffer, 0, buf.byteLength);
  }
  return new Uint8Array(buf);
}
