/**
 * The collection root config `_zcollection.json` (docs/format.md §3): written once by
 * `createCollection`, read by every open.
 *
 * @module
 */

import { CollectionNotFoundError, SchemaError } from "../errors.js";
import { decodeJson, encodeJson, type JsonValue } from "../json.js";
import { type Partitioning, fromJSON as partitioningFromJSON } from "../partitioning/index.js";
import { DatasetSchema } from "../schema/index.js";
import type { Store } from "../store/store.js";

/** Key of the root config. */
export const ROOT_CONFIG_KEY = "_zcollection.json";

/** Top-level `format_version` written (and ignored on read, docs/format.md §3.8). */
export const FORMAT_VERSION = 1;

/** The decoded root config. */
export interface RootConfig {
  /** The partition axis (a root dimension name). */
  axis: string;
  partitioning: Partitioning;
  /** Whether `_catalog/state.json` is maintained. */
  catalogEnabled: boolean;
  /** The bound schema (immutable flags as stored). */
  schema: DatasetSchema;
}

/**
 * Writes `_zcollection.json` with the keys of docs/format.md §3.1 in order, 2-space
 * indentation, exact int64 fill values.
 */
export async function writeRootConfig(store: Store, config: RootConfig): Promise<void> {
  const doc = {
    format_version: FORMAT_VERSION,
    axis: config.axis,
    partitioning: config.partitioning.toJSON(),
    catalog: { enabled: config.catalogEnabled },
    schema: config.schema.toJSON(),
  };
  await store.writeBytes(ROOT_CONFIG_KEY, encodeJson(doc, { indent: 2 }));
}

/**
 * Reads `_zcollection.json`.
 *
 * @throws CollectionNotFoundError when it is absent ("no _zcollection.json at <uri>").
 * @throws SchemaError naming the file when it is not valid JSON or lacks `axis`, `partitioning` or `schema`;
 *   FormatVersionError for an unsupported schema version; PartitionError for an unknown partitioning.
 */
export async function readRootConfig(store: Store, opts?: { signal?: AbortSignal }): Promise<RootConfig> {
  const bytes = await store.readBytes(ROOT_CONFIG_KEY, opts);
  if (bytes === undefined) {
    throw new CollectionNotFoundError(`no ${ROOT_CONFIG_KEY} at ${store.rootUri}`, store.rootUri);
  }
  const where = `${store.rootUri}/${ROOT_CONFIG_KEY}`;
  const doc = decodeJson(bytes, where);
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new SchemaError(`${where} must hold a JSON object`);
  }
  const obj = doc as { [key: string]: JsonValue };
  for (const key of ["axis", "partitioning", "schema"]) {
    if (!(key in obj)) throw new SchemaError(`${where} lacks the required key '${key}'`);
  }
  if (typeof obj.axis !== "string") throw new SchemaError(`${where}: 'axis' must be a string`);
  const catalog = obj.catalog;
  const catalogEnabled =
    typeof catalog === "object" && catalog !== null && !Array.isArray(catalog) && catalog.enabled === true;
  return {
    axis: obj.axis,
    partitioning: partitioningFromJSON(obj.partitioning),
    catalogEnabled,
    schema: DatasetSchema.fromJSON(obj.schema),
  };
}
