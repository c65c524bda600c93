/**
 * Atomic operations on local files, shared by {@link LocalStore} and the
 * Icechunk filesystem backend. Several processes may write one directory;
 * these are the only steps that stay correct between them (Node only:
 * LocalStore loads this module lazily, like `node:fs`, so that the package
 * root still bundles for browsers):
 *
 * - every write is atomic: the bytes go to a hidden temporary file in the
 *   target directory (`.<name>.<pid>.<random>.tmp`), which is then renamed
 *   over (or linked to) the target, so a reader sees the old object or the
 *   new one, never a torn one;
 * - a version (`etag`) identifies one write of a file: inode, modification
 *   time in nanoseconds and size (a rename keeps the inode of the new file);
 *   {@link contentVersion} adds a digest of the bytes, because inodes are
 *   reused and coarse clocks repeat modification times;
 * - a create-only write uses `link(2)`, which fails when the target exists
 *   — atomic across processes;
 * - a compare-and-swap holds an exclusive lock file (`.<name>.lock`, created
 *   by `link(2)`, naming its owner) beside the target while it compares the current version
 *   and renames the new bytes in; locks of a dead process of this host, and
 *   locks older than {@link LOCK_STALE_MS} (a process elsewhere that died
 *   inside the few system calls of the swap), are broken.
 *
 * The temporary and lock files are hidden (`.` prefix) and end in `.tmp` or
 * `.lock`: listings skip them.
 *
 * @module
 */

import { createHash, randomBytes } from "node:crypto";
import type { BigIntStats } from "node:fs";
import * as fs from "node:fs/promises";
import { hostname } from "node:os";
import * as path from "node:path";
import { isProcessAlive } from "../util/process-identity.js";

/** Age (ms) after which a compare-and-swap lock file is considered abandoned and removed. */
export const LOCK_STALE_MS = 30_000;

/** The etag of a file version: inode, mtime (ns) and size, base 36. */
export function etagOf(st: BigIntStats): string {
  return `${st.ino.toString(36)}-${st.mtimeNs.toString(36)}-${st.size.toString(36)}`;
}

/**
 * A version that also names the bytes: an {@link etagOf} plus a digest of
 * `data`. Inode numbers are reused as soon as a file is replaced and
 * modification times are only as fine as the kernel clock tick on many
 * systems, so two writes of the same size can share an etag (an ABA that
 * would let a stale compare-and-swap through); with the digest, a repeated
 * version means repeated bytes as well.
 */
export function contentVersion(etag: string, data: Uint8Array): string {
  return `${etag}-${createHash("sha256").update(data).digest("base64url").slice(0, 16)}`;
}

/** A hidden sibling of `target` with `suffix`. */
export function hiddenSibling(target: string, suffix: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${suffix}`);
}

/** Writes `data` to a hidden temporary file beside `target`; returns its path and etag. */
export async function writeTemporary(
  target: string,
  data: Uint8Array,
): Promise<{ tmp: string; etag: string }> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const tmp = hiddenSibling(target, `${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await fs.open(tmp, "wx");
  let etag: string;
  try {
    await handle.writeFile(data);
    // The inode and mtime survive rename() and link(): this is the new object's etag.
    etag = etagOf(await handle.stat({ bigint: true }));
  } catch (err) {
    await handle.close().catch(() => {});
    await fs.unlink(tmp).catch(() => {});
    throw err;
  }
  await handle.close();
  return { tmp, etag };
}

/** Writes `data` to `target` atomically (temporary file + rename); returns the new etag. */
export async function replaceAtomically(target: string, data: Uint8Array): Promise<string> {
  const { tmp, etag } = await writeTemporary(target, data);
  try {
    await fs.rename(tmp, target);
  } catch (err) {
    await fs.unlink(tmp).catch(() => {});
    throw err;
  }
  return etag;
}

/** Creates `target` only if absent; the etag of the new object, or `undefined` when it already existed. */
export async function createExclusively(target: string, data: Uint8Array): Promise<string | undefined> {
  const { tmp, etag } = await writeTemporary(target, data);
  try {
    await fs.link(tmp, target);
    return etag;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return undefined;
    throw err;
  } finally {
    await fs.unlink(tmp).catch(() => {});
  }
}

/**
 * Runs `fn` while holding the exclusive lock file of `target`
 * (`.<name>.lock`, created by `link(2)` with its owner `host pid` inside),
 * waiting up to `timeoutMs` for it.
 *
 * A lock older than {@link LOCK_STALE_MS}, or whose owner is a process of
 * this host that no longer runs (killed inside the swap), is broken, safely against other
 * waiters breaking it at the same time: it is first renamed aside, and
 * deleted only if what was moved is the stale lock that was seen (same
 * inode and time); a fresh lock moved by mistake is put back. On release the
 * lock is deleted only if it is still this holder's (same inode).
 *
 * @throws Error when the lock could not be taken in time; what `fn` throws.
 */
export async function withLock<T>(target: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const lock = hiddenSibling(target, "lock");
  const deadline = Date.now() + timeoutMs;
  let wait = 2;
  let mine: bigint;
  for (;;) {
    // The lock holds its owner (`host pid`), so that a lock left by a process
    // of this host that died inside the swap is broken at once.
    const { tmp } = await writeTemporary(lock, new TextEncoder().encode(`${hostname()} ${process.pid}`));
    try {
      await fs.link(tmp, lock);
      mine = (await fs.stat(tmp, { bigint: true })).ino;
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    } finally {
      await fs.unlink(tmp).catch(() => {});
    }
    const st = await fs.stat(lock, { bigint: true }).catch(() => undefined);
    if (st !== undefined && (Date.now() - Number(st.mtimeMs) > LOCK_STALE_MS || (await ownerGone(lock)))) {
      await breakStaleLock(lock, st);
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for the lock ${lock}`);
    await new Promise((r) => setTimeout(r, wait));
    wait = Math.min(wait * 2, 50);
  }
  try {
    return await fn();
  } finally {
    const st = await fs.stat(lock, { bigint: true }).catch(() => undefined);
    if (st?.ino === mine) await fs.unlink(lock).catch(() => {});
  }
}

/** Whether the lock file names a process of this host that no longer runs. */
async function ownerGone(lock: string): Promise<boolean> {
  const text = await fs.readFile(lock, "utf8").catch(() => "");
  const [host, pid] = text.split(" ");
  return (
    host === hostname() && pid !== undefined && Number(pid) !== process.pid && !isProcessAlive(Number(pid))
  );
}

/** Removes the lock file `lock` if it still is the stale one described by `stale`. */
async function breakStaleLock(lock: string, stale: BigIntStats): Promise<void> {
  const aside = `${lock}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await fs.rename(lock, aside);
  } catch {
    return; // already broken or released by someone else
  }
  const moved = await fs.stat(aside, { bigint: true }).catch(() => undefined);
  if (moved !== undefined && (moved.ino !== stale.ino || moved.mtimeNs !== stale.mtimeNs)) {
    // A fresh lock, taken between our stat and our rename: give it back (unless yet another was taken).
    await fs.link(aside, lock).catch(() => {});
  }
  await fs.unlink(aside).catch(() => {});
}
