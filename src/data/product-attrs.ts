/**
 * The root attributes of data gathered from several products (files): a
 * partition fed by several NetCDF files, a merge of new rows into a stored
 * partition, a query spanning partitions.
 *
 * The rule ({@link combineProductAttrs}): the result keeps only the
 * attributes every side holds **with the same value**; what differs (an
 * orbit number, a granule name, a creation time) or what one side lacks is
 * dropped, because the result no longer has a single value for it. The
 * products that contributed are listed in {@link SOURCE_PRODUCTS_ATTR}
 * (`source_products`: file names, in order of first contribution, each
 * once), which each product gets when it is read for an ingest
 * ({@link withSourceProduct}). The rule looks at attributes only, not at
 * rows: a product whose rows a later merge removed entirely (a reprocessed
 * version replacing them with `time_series`) stays listed, and what it
 * disagreed on stays dropped.
 *
 * Python zcollection does not do this: an insert writes the inserted
 * dataset's attributes whatever the merge (docs/behaviour.md §8.4 step 8), and a
 * query returns the first partition's (§8.5 step 4), so that a day
 * partition of several swaths claims the last swath's orbit number and a
 * query over months carries the first month's partition key. Values shared
 * by every product (title, institution, conventions) come out the same
 * either way.
 *
 * @module
 */

import { type AttrValue, attrsEqual } from "../schema/attrs.js";
import { type Dataset, rebuildDataset } from "./dataset.js";

/**
 * Root attribute listing the products (file names) whose rows a partition
 * or a result holds: a list of strings, in order of first contribution,
 * without repeats.
 */
export const SOURCE_PRODUCTS_ATTR = "source_products";

/**
 * Attributes that describe one partition, not its data: never carried over
 * by {@link combineProductAttrs} (the writer sets them again). Same name
 * as `PARTITION_KEY_ATTR` of the collection layer (docs/format.md §5.1).
 */
const PER_PARTITION = new Set(["_zc_partition_key"]);

/** Read-only attributes as found on a dataset or a stored group. */
export type AttrsLike = Readonly<Record<string, unknown>>;

/**
 * The product names an attribute mapping lists under
 * {@link SOURCE_PRODUCTS_ATTR} (a single string counts as a list of one),
 * or `undefined` when it lists none — data whose provenance is unknown.
 */
export function sourceProducts(attrs: AttrsLike): string[] | undefined {
  const value = attrs[SOURCE_PRODUCTS_ATTR];
  if (typeof value === "string") return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return [...(value as string[])];
  return undefined;
}

/**
 * The attributes data gathered from several sources keeps (see the module
 * documentation), in the order of the first mapping:
 *
 * - an attribute is kept when every mapping holds it with the same value
 *   (deep equality of JSON values, NaN equal to NaN, an integer equal to
 *   the same bigint);
 * - {@link SOURCE_PRODUCTS_ATTR} is the union of every mapping's list, in
 *   order, each name once — left out when one mapping lists no products
 *   (its provenance is unknown: a partition written before products were
 *   recorded, a dataset built in memory);
 * - `_zc_partition_key` is never kept (it names one partition).
 *
 * One mapping: a copy of it without `_zc_partition_key`. None: `{}`.
 */
export function combineProductAttrs(...sources: readonly AttrsLike[]): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  const [first, ...others] = sources;
  if (first === undefined) return out;
  for (const [key, value] of Object.entries(first)) {
    if (key === SOURCE_PRODUCTS_ATTR || PER_PARTITION.has(key) || value === undefined) continue;
    if (others.every((o) => Object.hasOwn(o, key) && attrsEqual(value, o[key]))) {
      out[key] = value as AttrValue;
    }
  }
  const lists = sources.map(sourceProducts);
  if (lists.every((l): l is string[] => l !== undefined)) {
    out[SOURCE_PRODUCTS_ATTR] = [...new Set(lists.flat())];
  }
  return out;
}

/**
 * `attrs` with {@link SOURCE_PRODUCTS_ATTR} set to `[product]` (a list
 * the product itself may carry is replaced: this product is the source).
 */
export function productAttrs(attrs: AttrsLike, product: string): Record<string, unknown> {
  return { ...attrs, [SOURCE_PRODUCTS_ATTR]: [product] };
}

/**
 * A copy of `ds` (same variables and groups) whose root attributes are
 * exactly `attrs`.
 *
 * @throws SchemaError for values JSON cannot hold.
 */
export function withRootAttrs(ds: Dataset, attrs: AttrsLike): Dataset {
  const out = rebuildDataset(ds, (v) => v);
  for (const key of Object.keys(out.attrs)) delete out.attrs[key];
  out.updateAttributes(attrs);
  return out;
}

/**
 * A copy of `ds` recording that its rows come from `product` (a file
 * name): its attributes with `source_products: [product]`
 * ({@link productAttrs}).
 */
export function withSourceProduct(ds: Dataset, product: string): Dataset {
  return withRootAttrs(ds, productAttrs(ds.attrs, product));
}

/**
 * A copy of `merged` (rows of both `existing` and `inserted`) with the
 * attributes both agree on ({@link combineProductAttrs}).
 */
export function withCombinedAttrs(merged: Dataset, existing: Dataset, inserted: Dataset): Dataset {
  return withRootAttrs(merged, combineProductAttrs(existing.attrs, inserted.attrs));
}
