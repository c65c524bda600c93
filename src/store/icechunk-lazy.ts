/**
 * `IcechunkStore` as the package root exports it: the same name and
 * `open()` as the class in `./icechunk.js`, which (with `@earthmover/icechunk`
 * and `node:fs`) is only loaded when a store is opened. The root import thus
 * stays light and browser-safe.
 *
 * @module
 */

import { importNodeOnly } from "../util/node-only.js";
import type { IcechunkStore as IcechunkStoreImpl, IcechunkStoreOptions } from "./icechunk.js";

export type { IcechunkStoreOptions };

/** An Icechunk-backed store (see `zcollection/node` for the class itself). */
export type IcechunkStore = IcechunkStoreImpl;

/**
 * Opens or creates the Icechunk repository at a local `path` (FORMAT §11;
 * BEHAVIOUR §13.5): `branch` (default main), or `tag` / `snapshot` for a
 * read-only view of a past version. Loads the Icechunk backend on first use.
 *
 * @throws StoreError when the repository cannot be opened; see the class for details.
 */
export const IcechunkStore: {
  open(path: string, opts?: IcechunkStoreOptions): Promise<IcechunkStoreImpl>;
  [Symbol.hasInstance](value: unknown): boolean;
} = {
  async open(path: string, opts?: IcechunkStoreOptions): Promise<IcechunkStoreImpl> {
    const { IcechunkStore: Impl } = await importNodeOnly<typeof import("./icechunk.js")>(
      new URL("./icechunk.js", import.meta.url).href,
    );
    return Impl.open(path, opts);
  },
  [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && value.constructor?.name === "IcechunkStore";
  },
};
