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
    if (bytes === undefined) return undefined;
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

  /**
   * Writes exactly `paths` (sorted, unique, with checksum) as one atomic
   * store write; compact JSON, key order `format_version`, `paths`, `checksum`.
   */
  async write(paths: Iterable<string>): Promise<string[]> {
    const sorted = sortUnique(paths);
    const doc = { format_version: 1, paths: sorted, checksum: await catalogChecksum(sorted) };
    await this.store.writeBytes(CATALOG_KEY, encodeJson(doc));
    return sorted;
  }

  /**
   * The paths updates start from: `[]` when the document is missing or
   * unreadable (FORMAT §9: a deleted catalog is recreated with the new paths
   * only); the walk when the checksum fails and a walker was given; else
   * the stored paths.
   */
  async #current(): Promise<string[]> {
    const state = await this.read();
    if (state === undefined) return [];
    if (!state.valid && this.#walk !== undefined) return [...(await this.#walk())];
    return [...state.paths];
  }

  /** Adds paths: `write(current ∪ paths)` (see {@link CatalogOptions.walk} for what "current" is). */
  async add(paths: Iterable<string>): Promise<string[]> {
    return this.write([...(await this.#current()), ...paths]);
  }

  /** Removes paths: `write(current − paths)`. */
  async remove(paths: Iterable<string>): Promise<string[]> {
    const drop = new Set(paths);
    return this.write((await this.#current()).filter((p) => !drop.has(p)));
  }

  /** Deletes the `_catalog` prefix. */
  drop(): Promise<void> {
    return this.store.deletePrefix(CATALOG_DIR);
  }
}
