/**
 * The partition catalog `_catalog/state.json` (FORMAT §9, BEHAVIOUR §10):
 * the sorted list of partition paths plus a SHA-256 checksum, so that a cold
 * open lists partitions with one GET and no LIST.
 *
 * Unlike Python, the checksum is verified on read (BEHAVIOUR §18 #7): a
 * mismatch makes {@link Catalog.read} report the catalog as untrustworthy and
 * callers fall back to a walk.
 *
 * @module
 */

import { ConflictError } from "../errors.js";
import { decodeJson, encodeJson } from "../json.js";
import type { Store } from "../store/store.js";

/** Key of the catalog document. */
export const CATALOG_KEY = "_catalog/state.json";
/** Prefix of the catalog. */
export const CATALOG_DIR = "_catalog";

/** What {@link Catalog.read} found. */
export interface CatalogState {
  /** Partition paths, sorted (string order) and unique. */
  readonly paths: readonly string[];
  /** `"sha256:<hex>"` as stored (or recomputed when absent). */
  readonly checksum: string;
  /** Whether the stored checksum matches the paths. */
  readonly valid: boolean;
}

/** Sorted (code-point order), de-duplicated copy of `paths` (FORMAT §4.3). */
export function sortUnique(paths: Iterable<string>): string[] {
  return [...new Set(paths)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * `"sha256:"` + hex SHA-256 over the sorted unique paths, each followed by
 * `"\n"` (FORMAT §9). Uses Web Crypto (Node ≥ 20 and browsers).
 */
export async function catalogChecksum(paths: Iterable<string>): Promise<string> {
  const text = sortUnique(paths)
    .map((p) => `${p}\n`)
    .join("");
  const digest = await globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  return `sha256:${hex}`;
}

/**
 * Parses a catalog document (FORMAT §9 read rules): `undefined` when it is
 * not valid JSON/UTF-8 or not an object; `paths` missing → `[]`; checksum
 * missing → recomputed (then `valid`).
 */
export async function parseCatalog(bytes: Uint8Array): Promise<CatalogState | undefined> {
  let doc: unknown;
  try {
    doc = decodeJson(bytes, CATALOG_KEY);
  } catch {
    return undefined;
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return undefined;
  const raw = (doc as { paths?: unknown }).paths;
  const paths = Array.isArray(raw) ? raw.filter((p): p is string => typeof p === "string") : [];
  const expected = await catalogChecksum(paths);
  const stored = (doc as { checksum?: unknown }).checksum;
  if (typeof stored !== "string" || stored === "")
    return { paths: sortUnique(paths), checksum: expected, valid: true };
  return { paths: sortUnique(paths), checksum: stored, valid: stored === expected };
}

/** The catalog document of sorted unique `paths` (compact JSON, FORMAT §9 key order). */
async function encodeCatalog(sorted: string[]): Promise<Uint8Array> {
  return encodeJson({ format_version: 1, paths: sorted, checksum: await catalogChecksum(sorted) });
}

/** Options of {@link Catalog}. */
export interface CatalogOptions {
  /**
   * Lists the partitions by walking the store. When given, {@link Catalog.add}
   * and {@link Catalog.remove} start from the walk instead of the stored
   * paths when the stored checksum does not match them, so that an update
   * never re-signs a tampered list (BEHAVIOUR §18 #7).
   */
  walk?: () => Promise<Iterable<string>>;
}

/** Reads and writes `_catalog/state.json` of one collection store. */
export class Catalog {
  readonly #walk: (() => Promise<Iterable<string>>) | undefined;

  constructor(
    readonly store: Store,
    opts: CatalogOptions = {},
  ) {
    this.#walk = opts.walk;
  }

  /** Whether the catalog document exists. */
  exists(): Promise<boolean> {
    return this.store.exists(CATALOG_KEY);
  }

  /**
   * The stored state, or `undefined` when the document is missing or is not
   * valid JSON/UTF-8 (FORMAT §9 read rules). `paths` missing → `[]`; checksum
   * missing → recomputed (then `valid`).
   */
  async read(opts?: { signal?: AbortSignal }): Promise<CatalogState | undefined> {
    const bytes = await this.store.readBytes(CATALOG_KEY, opts);
    return bytes === undefined ? undefined : parseCatalog(bytes);
  }

  /**
   * Writes exactly `paths` (sorted, unique, with checksum) as one atomic
   * store write; compact JSON, key order `format_version`, `paths`, `checksum`.
   */
  async write(paths: Iterable<string>): Promise<string[]> {
    const sorted = sortUnique(paths);
    await this.store.writeBytes(CATALOG_KEY, await encodeCatalog(sorted));
    return sorted;
  }

  /**
   * The paths updates start from: `[]` when the document is missing or
   * unreadable (FORMAT §9: a deleted catalog is recreated with the new paths
   * only); the walk when the checksum fails and a walker was given; else
   * the stored paths.
   */
  async #start(state: CatalogState | undefined): Promise<string[]> {
    if (state === undefined) return [];
    if (!state.valid && this.#walk !== undefined) return [...(await this.#walk())];
    return [...state.paths];
  }

  /**
   * Read-modify-write of the catalog: `change` receives the current paths
   * (see {@link Catalog.add} for what "current" is) and returns the new
   * ones. On stores with conditional writes the write is a compare-and-swap
   * against the version read, retried (re-reading, calling `change` again)
   * while other writers update the catalog in between, so concurrent
   * writers never lose each other's partitions. Elsewhere (Icechunk, inside
   * its transaction) it is a plain read then write.
   *
   * @returns the paths written.
   * @throws ConflictError when the swap kept failing for `attempts` tries.
   */
  async update(change: (current: string[]) => Iterable<string>, attempts = 100): Promise<string[]> {
    if (!this.store.conditionalWrites) {
      return this.write(change(await this.#start(await this.read())));
    }
    let pause = 5;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const current = await this.store.readVersioned(CATALOG_KEY);
      const state = current === undefined ? undefined : await parseCatalog(current.data);
      const next = sortUnique(change(await this.#start(state)));
      const version = await this.store.writeConditional(
        CATALOG_KEY,
        await encodeCatalog(next),
        current?.version ?? null,
      );
      if (version !== undefined) return next;
      await new Promise((r) => setTimeout(r, pause * (0.5 + Math.random())));
      pause = Math.min(pause * 2, 200);
    }
    throw new ConflictError(
      `${CATALOG_KEY} of ${this.store.rootUri} kept changing under ${attempts} update attempts`,
      CATALOG_KEY,
    );
  }

  /** Adds paths: `current ∪ paths`. */
  add(paths: Iterable<string>): Promise<string[]> {
    const extra = [...paths];
    return this.update((current) => [...current, ...extra]);
  }

  /** Removes paths: `current − paths`. */
  remove(paths: Iterable<string>): Promise<string[]> {
    const drop = new Set(paths);
    return this.update((current) => current.filter((p) => !drop.has(p)));
  }

  /** Deletes the `_catalog` prefix. */
  drop(): Promise<void> {
    return this.store.deletePrefix(CATALOG_DIR);
  }
}
