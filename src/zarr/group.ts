/**
 * Zarr v3 group documents (docs/format.md §5): writing and reading a group's
 * `zarr.json`, and creating the ancestor groups an array or group needs.
 * Kept apart from the array I/O because a group holds no chunks: only its
 * document and the guarantee that every ancestor has one (docs/format.md §5.2).
 *
 * @module
 */

import { CodecError, StoreError } from "../errors.js";
import type { JsonValue } from "../json.js";
import type { Store } from "../store/store.js";
import { encodeGroupMetadata, metadataKey, parseNodeMetadata } from "./metadata.js";

/**
 * Writes the group `zarr.json` at `path` (`""` = root) with `attributes`
 * (docs/format.md §5.1) and creates every ancestor group that is absent (docs/format.md
 * §5.2; existing ancestors are never rewritten).
 *
 * @param opts.overwrite delete everything under `path` first (docs/format.md §5.3;
 *   for the root `""` that is the whole store). Without it an existing group
 *   document is replaced (its children stay).
 * @throws StoreError naming the key when an array exists at `path` and
 *   `overwrite` is not set.
 */
export async function writeGroup(
  store: Store,
  path: string,
  attributes: Readonly<Record<string, unknown>>,
  opts: { overwrite?: boolean } = {},
): Promise<void> {
  const key = metadataKey(path);
  if (opts.overwrite) {
    await store.deletePrefix(path);
  } else {
    const existing = await store.readBytes(key);
    if (existing !== undefined && parseNodeMetadata(existing, key).nodeType === "array") {
      throw new StoreError(`cannot write a group at '${path}': ${key} describes an array`, { key });
    }
  }
  await ensureParentGroups(store, path);
  await store.writeBytes(key, encodeGroupMetadata(attributes));
}

/**
 * Reads the group at `path`.
 *
 * @returns `undefined` when `zarr.json` is absent.
 * @throws CodecError naming the key when the document is invalid or describes an array.
 */
export async function readGroup(
  store: Store,
  path: string,
): Promise<{ attributes: Record<string, JsonValue> } | undefined> {
  const key = metadataKey(path);
  const bytes = await store.readBytes(key);
  if (bytes === undefined) return undefined;
  const node = parseNodeMetadata(bytes, key);
  if (node.nodeType !== "group") throw new CodecError(`${key} describes an array, not a group`, { key });
  return { attributes: node.attributes };
}

/** Ancestor documents being checked or created, per store and key. */
const creating = new WeakMap<Store, Map<string, Promise<void>>>();

/**
 * Creates `{"attributes": {}, ...}` group documents for every ancestor of
 * `path` (root included, `path` itself excluded) whose `zarr.json` is absent
 * (docs/format.md §5.2). Never rewrites an existing ancestor. Concurrent calls on
 * the same store share the check and the write of a common ancestor (e.g.
 * the root while partitions are written in parallel): one `exists`, at most
 * one PUT.
 */
export async function ensureParentGroups(store: Store, path: string): Promise<void> {
  const parts = path.split("/").filter((p) => p.length > 0);
  const ancestors: string[] = [];
  for (let i = 0; i < parts.length; i++) ancestors.push(parts.slice(0, i).join("/"));
  let pending = creating.get(store);
  if (pending === undefined) {
    pending = new Map();
    creating.set(store, pending);
  }
  const inFlight = pending;
  await Promise.all(
    ancestors.map((a) => {
      const key = metadataKey(a);
      const running = inFlight.get(key);
      if (running !== undefined) return running;
      const task = (async () => {
        if (!(await store.exists(key))) await store.writeBytes(key, encodeGroupMetadata({}));
      })();
      inFlight.set(key, task);
      const forget = () => {
        if (inFlight.get(key) === task) inFlight.delete(key);
      };
      task.then(forget, forget);
      return task;
    }),
  );
}
