/**
 * What the read-only commands read: a collection or a view, found by the
 * document at the URL's root (`_zcollection.json` or
 * `_zcollection_view.json`).
 *
 * @module
 */

import { type Collection, openCollection } from "../collection/index.js";
import type { ReadOptions } from "../collection/options.js";
import type { Dataset } from "../data/index.js";
import type { DatasetSchema } from "../schema/index.js";
import { openStore } from "../store/open.js";
import { VIEW_CONFIG_KEY, View } from "../view/index.js";

/** A collection or a view, read the same way. */
export interface ReadSource {
  /** The collection whose partitions are listed: the collection itself, or the view's base. */
  readonly collection: Collection;
  /** The view, when the URL is one. */
  readonly view: View | undefined;
  /** What a read returns: the collection's schema, or the base's with the overlay variables. */
  readonly schema: DatasetSchema;
  /** The partitioning dimension. */
  readonly dimension: string;
  /** One partition at a time. */
  iterate(opts: ReadOptions): AsyncIterable<[string, Dataset]>;
}

/**
 * Opens `url` read-only as a collection or, when it holds a view document,
 * as a view over its recorded base (or `base` when given).
 *
 * @throws CollectionNotFoundError "no _zcollection.json at <url>" when the
 *   URL holds neither.
 */
export async function openSource(
  url: string,
  opts: { signal?: AbortSignal; base?: string } = {},
): Promise<ReadSource> {
  const store = await openStore(url, { readOnly: true });
  if (await store.exists(VIEW_CONFIG_KEY)) {
    const view = await View.open(store, {
      readOnly: true,
      ...(opts.base === undefined ? {} : { base: opts.base }),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    return {
      collection: view.base,
      view,
      schema: view.schema,
      dimension: view.base.dimension,
      iterate: (o) => view.iterate(o),
    };
  }
  const col = await openCollection(store, { mode: "r", ...(opts.signal ? { signal: opts.signal } : {}) });
  return {
    collection: col,
    view: undefined,
    schema: col.schema,
    dimension: col.dimension,
    iterate: (o) => col.iterate(o),
  };
}
