/**
 * Listing a collection's partitions: from its catalog when the catalog is
 * enabled, valid and lists only partition paths, else by walking the store
 * (docs/format.md §4.4). Used by `Collection`; knows nothing of it.
 *
 * @module
 */

import { type Catalog, catalogLines } from "../partitioning/catalog.js";
import {
  compileFilter,
  type FilterInput,
  keyToDict,
  type Partitioning,
  sortPaths,
} from "../partitioning/index.js";
import type { Store } from "../store/store.js";
import { emitWarning } from "./assemble.js";
import { CatalogReader, fixedComponents, walkPartitions } from "./listing.js";
import type { Filters } from "./options.js";

/** Lists the partitions of one collection (the catalog's trust is remembered between listings). */
export class PartitionLister {
  readonly #store: Store;
  readonly #partitioning: Partitioning;
  /** The collection's catalog; `undefined` when it has none (catalog not enabled). */
  readonly #catalog: Catalog | undefined;
  /** Reads partition paths (exactly as the partitioning encodes keys) for listings. */
  readonly #reader: CatalogReader;
  /** Checksum of the last catalog found to list only partition paths (checked again when it changes). */
  #trusted: string | undefined;

  constructor(store: Store, partitioning: Partitioning, catalog: Catalog | undefined) {
    this.#store = store;
    this.#partitioning = partitioning;
    this.#catalog = catalog;
    this.#reader = new CatalogReader(partitioning);
  }

  /**
   * Partition paths matching `filters`, in the natural order of their keys:
   * the catalog's when it is trusted (one GET, no LIST), else — or with
   * `fromStore` — those of a walk of the store (what `Collection.partitions`
   * documents).
   *
   * @throws ExpressionError for an invalid filter, or one naming an unknown key component.
   */
  async list(opts: { filters?: Filters; signal?: AbortSignal; fromStore?: boolean } = {}): Promise<string[]> {
    const predicate = compileFilter(opts.filters as FilterInput);
    const listed = opts.fromStore === true ? undefined : await this.#catalogPaths(opts.signal);
    if (listed !== undefined) return this.#reader.select(listed, opts.filters, predicate);
    // A filter fixing key components (`year == 2024 and month == 3`) prunes the walk to them.
    const fixed = fixedComponents(opts.filters, this.#partitioning.axis);
    const walkOpts = {
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(fixed === undefined ? {} : { fixed }),
    };
    const all = await walkPartitions(this.#store, this.#partitioning, walkOpts);
    const out: string[] = [];
    for (const path of all) {
      let key: ReturnType<Partitioning["decode"]>;
      try {
        key = this.#partitioning.decode(path);
      } catch {
        continue; // not a partition path (docs/format.md §4.2 listing rule)
      }
      if (predicate(keyToDict(key))) out.push(path);
    }
    return sortPaths(out, this.#partitioning);
  }

  /** Every partition path (string order): the trusted catalog's, else a walk's. */
  async listAll(signal?: AbortSignal): Promise<string[]> {
    const listed = await this.#catalogPaths(signal);
    if (listed !== undefined) return [...listed];
    return walkPartitions(this.#store, this.#partitioning, signal ? { signal } : {});
  }

  /** Whether `path` is exactly how the partitioning encodes some key. */
  isPartitionPath(path: string): boolean {
    return this.#reader.read(path);
  }

  /**
   * The catalog's paths (string order) when the catalog is enabled, its
   * checksum valid and every path in it exactly a partition path of this
   * collection's partitioning (checked once per catalog checksum); else
   * `undefined`, after a warning when the catalog is there but not
   * trusted: the caller walks the store.
   */
  async #catalogPaths(signal?: AbortSignal): Promise<readonly string[] | undefined> {
    if (this.#catalog === undefined) return undefined;
    const state = await this.#catalog.read(signal ? { signal } : {});
    if (state?.valid) {
      const foreign =
        state.checksum === this.#trusted
          ? undefined
          : this.#reader.firstForeign(state.paths, catalogLines(state.paths));
      if (foreign === undefined) {
        this.#trusted = state.checksum;
        return state.paths;
      }
      emitWarning(
        `catalog of ${this.#store.rootUri} lists '${foreign.slice(0, 200)}', which is not a partition path of ` +
          `this collection's ${this.#partitioning.name} partitioning; listing partitions by walking the store ` +
          "(run `zcollection repair` to rewrite the catalog)",
      );
    } else if (state !== undefined) {
      emitWarning(
        `catalog of ${this.#store.rootUri} fails its checksum; listing partitions by walking the store`,
      );
    }
    return undefined;
  }
}
