/**
 * Calls into the node store of an Icechunk session for the Icechunk store
 * (./icechunk.ts): failures worded as {@link StoreError}s naming the
 * store, and the reads and listings that merge the keys redirected under
 * `_zc_meta` (docs/format.md §11) with the native ones.
 *
 * @module
 */

import type { Store as IcechunkNodeStore } from "@earthmover/icechunk";
import { StoreError } from "../errors.js";
import { childOf, EMPTY_GROUP_DOCUMENT, isReservedKey, keyOfMetaName, META_ROOT } from "./icechunk-keys.js";
import { firstLine, isNodeNotFound } from "./icechunk-support.js";

/** The error of the store `uri` for a failure of Icechunk on `key` (a {@link StoreError} is kept as it is). */
export function icechunkError(uri: string, key: string, cause: unknown): StoreError {
  if (cause instanceof StoreError) return cause;
  return new StoreError(`${uri}: Icechunk refused '${key}': ${firstLine(cause)}`, { key, cause });
}

/** Runs `fn`, rethrowing its failure as {@link icechunkError} of `uri` and `key`. */
export async function callIcechunk<T>(uri: string, key: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (cause) {
    throw icechunkError(uri, key, cause);
  }
}

/** Bytes of the node key `key`, or `undefined` when Icechunk has no such node. */
export async function readNode(
  uri: string,
  store: IcechunkNodeStore,
  key: string,
): Promise<Uint8Array | undefined> {
  try {
    return (await store.get(key)) ?? undefined;
  } catch (cause) {
    if (isNodeNotFound(cause)) return undefined;
    throw icechunkError(uri, key, cause);
  }
}

/** Original keys of the redirected entries. */
export async function listMetaKeys(uri: string, store: IcechunkNodeStore): Promise<string[]> {
  const names = await callIcechunk(uri, META_ROOT, () => store.listDir(META_ROOT));
  return names.filter((n) => n !== "zarr.json").map(keyOfMetaName);
}

/**
 * Names of the immediate children of `prefix`, redirected keys included and
 * `_zc_meta` hidden, sorted; without `withObjects`, only those that can hold
 * objects (no `zarr.json`, no plain redirected keys).
 */
export async function listChildren(
  uri: string,
  store: IcechunkNodeStore,
  prefix: string,
  withObjects: boolean,
): Promise<string[]> {
  if (isReservedKey(prefix)) return [];
  const out = new Set<string>();
  for (const name of await callIcechunk(uri, prefix, () => store.listDir(prefix))) {
    if (prefix === "" && name === META_ROOT) continue;
    if (!withObjects && name === "zarr.json") continue;
    out.add(name);
  }
  for (const k of await listMetaKeys(uri, store)) {
    const child = childOf(k, prefix);
    if (child !== undefined && (withObjects || child.isPrefix)) out.add(child.name);
  }
  return [...out].sort();
}

/** Writes an empty group document at `key` (a `zarr.json` key) unless one exists. */
export async function ensureGroup(uri: string, store: IcechunkNodeStore, key: string): Promise<void> {
  if (!(await callIcechunk(uri, key, () => store.exists(key)))) {
    await callIcechunk(uri, key, () => store.set(key, Buffer.from(EMPTY_GROUP_DOCUMENT)));
  }
}
