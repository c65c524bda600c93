/**
 * The view document `_zcollection_view.json` (docs/format.md §10) and the rules a
 * view schema obeys (docs/behaviour.md §11.1).
 *
 * @module
 */

import type { Collection } from "../collection/collection.js";
import { CollectionNotFoundError, SchemaError } from "../errors.js";
import { decodeJson, encodeJson, type JsonValue } from "../json.js";
import { DatasetSchema, type VariableSchema } from "../schema/index.js";
import type { Store } from "../store/store.js";
import { ViewReference } from "./reference.js";

/** Key of the view document at the view's root (docs/format.md §10). */
export const VIEW_CONFIG_KEY = "_zcollection_view.json";

/** `format_version` written in the view document (not checked on read, docs/format.md §10). */
export const VIEW_FORMAT_VERSION = 1;

/** The decoded view document. */
export interface ViewConfig {
  /** The base collection as recorded. */
  reference: ViewReference;
  /** The overlay schema: the base's root dimensions and the overlay variables (docs/format.md §10). */
  schema: DatasetSchema;
}

/**
 * The overlay schema of a view over `base`: a copy of the base's root
 * dimensions and `variables` at the root, each mutable, no groups, no
 * attributes (docs/format.md §10).
 *
 * @throws SchemaError when a variable has the name of a base root variable
 *   ("collides with a base-collection variable"), uses a dimension that is
 *   not a base root dimension, or appears twice (docs/behaviour.md §11.1).
 */
export function buildViewSchema(base: Collection, variables: readonly VariableSchema[]): DatasetSchema {
  const rootDims = base.schema.dimensions;
  const seen = new Set<string>();
  for (const v of variables) {
    if (base.schema.variables.has(v.name)) {
      throw new SchemaError(`view variable '${v.name}' collides with a base-collection variable`, {
        variable: v.name,
      });
    }
    if (seen.has(v.name)) {
      throw new SchemaError(`view variable '${v.name}' is given twice`, { variable: v.name });
    }
    seen.add(v.name);
    for (const d of v.dimensions) {
      if (!rootDims.has(d)) {
        throw new SchemaError(
          `view variable '${v.name}' references unknown dimension '${d}'; the base's root dimensions are ` +
            `[${[...rootDims.keys()].join(", ")}]`,
          { variable: v.name, dimension: d },
        );
      }
    }
  }
  return new DatasetSchema({
    dimensions: [...rootDims.values()],
    variables: variables.map((v) => (v.immutable ? v.withImmutable(false) : v)),
  });
}

/** Writes the view document (compact JSON, key order of docs/format.md §10). */
export async function writeViewConfig(store: Store, config: ViewConfig): Promise<void> {
  const doc = {
    format_version: VIEW_FORMAT_VERSION,
    reference: config.reference.toJSON(),
    schema: config.schema.toJSON(),
  };
  await store.writeBytes(VIEW_CONFIG_KEY, encodeJson(doc));
}

/**
 * Reads the view document.
 *
 * @throws CollectionNotFoundError "no view config at <uri>" when absent
 *   (docs/behaviour.md §11.2); SchemaError when it is not a view document.
 */
export async function readViewConfig(store: Store, opts: { signal?: AbortSignal } = {}): Promise<ViewConfig> {
  const bytes = await store.readBytes(VIEW_CONFIG_KEY, opts);
  if (bytes === undefined) {
    throw new CollectionNotFoundError(`no view config at ${store.rootUri}`, store.rootUri);
  }
  const where = `${store.rootUri}/${VIEW_CONFIG_KEY}`;
  const doc = decodeJson(bytes, where);
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new SchemaError(`${where} must hold a JSON object`);
  }
  const obj = doc as { [key: string]: JsonValue };
  for (const key of ["reference", "schema"]) {
    if (!(key in obj)) throw new SchemaError(`${where} lacks the required key '${key}'`);
  }
  return { reference: ViewReference.fromJSON(obj.reference), schema: DatasetSchema.fromJSON(obj.schema) };
}

/** Whether `store` holds a view document at its root. */
export function isView(store: Store): Promise<boolean> {
  return store.exists(VIEW_CONFIG_KEY);
}
