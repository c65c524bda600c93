/**
 * Writing a new collection (`Collection.create`): the checks, the removal
 * of the collection it overwrites, its root config; and the store a
 * collection is created or opened in (a Store, or a URL to open). Used by
 * `Collection`; knows nothing of it.
 *
 * @module
 */

import * as config from "../config.js";
import { CollectionExistsError, ReadOnlyError } from "../errors.js";
import { type OpenStoreOptions, openStore } from "../store/open.js";
import type { Store } from "../store/store.js";
import type { CreateOptions } from "./options.js";
import { ROOT_CONFIG_KEY, type RootConfig, writeRootConfig } from "./root-config.js";

/** Whether `value` is a Store (else a URL or path to open). */
export function isStore(value: unknown): value is Store {
  return typeof value === "object" && value !== null && typeof (value as Store).readBytes === "function";
}

/** `path` itself when a Store, else the store it names, opened with `opts`. */
export async function storeAt(path: string | Store, opts: OpenStoreOptions): Promise<Store> {
  return isStore(path) ? path : openStore(path, opts);
}

/**
 * Writes the root config of a new collection in `store` (docs/format.md
 * §3) and nothing else; with `overwrite`, everything an existing
 * collection there holds is removed first, its config last.
 *
 * @returns the root config written (the schema bound to `axis`).
 * @throws ReadOnlyError for a read-only store; CollectionExistsError when a
 *   collection exists and `overwrite` is not set; SchemaError when the
 *   schema cannot be bound to `axis` (docs/behaviour.md §4.6).
 */
export async function writeNewCollection(store: Store, opts: CreateOptions): Promise<RootConfig> {
  if (store.readOnly) throw new ReadOnlyError(`store ${store.rootUri} is read-only`, store.rootUri);
  const exists = await store.exists(ROOT_CONFIG_KEY);
  if (exists && opts.overwrite !== true) {
    throw new CollectionExistsError(`a collection already exists at ${store.rootUri}`, store.rootUri);
  }
  const schema = opts.schema.withPartitionAxis(opts.axis);
  const root: RootConfig = {
    axis: opts.axis,
    partitioning: opts.partitioning,
    catalogEnabled: opts.catalogEnabled ?? config.get("catalog.enabled"),
    schema,
  };
  await store.session(
    async () => {
      if (exists) {
        // docs/behaviour.md §18 #6: overwrite removes the previous collection; the config goes last.
        for (const name of await store.listPrefix("")) {
          if (name !== ROOT_CONFIG_KEY) await store.deletePrefix(name);
        }
      }
      await writeRootConfig(store, root);
    },
    { message: "create collection" },
  );
  return root;
}
