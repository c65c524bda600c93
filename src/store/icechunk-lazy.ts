/**
 * `IcechunkStore` as the package root exports it: the same name and
 * `open()` as the class in `./icechunk.js`, which (with `@earthmover/icechunk`
 * and `node:fs`) is only loaded when a store is opened. The root import thus
 * stays light and browser-safe. Where Icechunk falls back to its WebAssembly
 * build, Node's WASI warning is replaced by one note (../util/wasi-note.ts).
 *
 * @module
 */

import { importNodeOnly } from "../util/node-only.js";
import { importWithWasiNote } from "../util/wasi-note.js";
import type { IcechunkStore as IcechunkStoreImpl, IcechunkStoreOptions } from "./icechunk.js";

export type { IcechunkStoreOptions };

/** An Icechunk-backed store (see `zcollection/node` for the class itself). */
export type IcechunkStore = IcechunkStoreImpl;

/**
 * Opens or creates the Icechunk repository at a local `path` (docs/format.md §11;
 * docs/behaviour.md §13.5): `branch` (default main), or `tag` / `snapshot` for a
 * read-only view of a past version. Loads the Icechunk backend on first use.
 *
 * @throws StoreError when the repository cannot be opened; see the class for details.
 */
export const IcechunkStore: {
  open(path: string, opts?: IcechunkStoreOptions): Promise<IcechunkStoreImpl>;
  [Symbol.hasInstance](value: unknown): boolean;
} = {
  async open(path: string, opts?: IcechunkStoreOptions): Promise<IcechunkStoreImpl> {
    // Node's WASI warning, where Icechunk falls back to WebAssembly, becomes one note of ours.
    const { IcechunkStore: Impl } = await importWithWasiNote(() =>
      importNodeOnly<typeof import("./icechunk.js")>(new URL("./icechunk.js", import.meta.url).href),
    );
    return Impl.open(path, opts);
  },
  [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && value.constructor?.name === "IcechunkStore";
  },
};

let binding: Promise<typeof import("@earthmover/icechunk")> | undefined;

/**
 * The `@earthmover/icechunk` package, loaded on first call (its native
 * binding, or its WebAssembly build with one note instead of Node's WASI
 * warning: ../util/wasi-note.ts). For the modules that use the package's
 * values, so that importing them (`zcollection/node`) loads nothing until
 * a repository is opened.
 */
export function loadIcechunkBinding(): Promise<typeof import("@earthmover/icechunk")> {
  binding ??= importWithWasiNote(() =>
    importNodeOnly<typeof import("@earthmover/icechunk")>("@earthmover/icechunk"),
  ).catch((err: unknown) => {
    binding = undefined; // let a later call try again
    throw err;
  });
  return binding;
}
