/**
 * The schema of a collection: dimensions, variables, groups and their JSON
 * form in `_zcollection.json` (docs/behaviour.md §4, docs/format.md §3.2–3.8).
 *
 * @module
 */

export { type Attrs, type AttrValue, attrsEqual, cleanAttrs, copyAttrs } from "./attrs.js";
export { Schema, SchemaBuilder, type WithVariableOptions } from "./builder.js";
export {
  DatasetSchema,
  type DatasetSchemaJSON,
  type DatasetSchemaOptions,
  FORMAT_VERSION,
  groupPaths,
  isRootPath,
  type RoleFilter,
} from "./dataset.js";
export { Dimension, type DimensionJSON, type DimensionOptions } from "./dimension.js";
export {
  castFillValue,
  decodeFillValue,
  encodeFillValue,
  type FillValue,
  type FillValueJSON,
  fillValuesEqual,
} from "./fill.js";
export {
  FrozenMap,
  GroupSchema,
  type GroupSchemaJSON,
  type GroupSchemaOptions,
  type GroupSchemaParts,
  type NamedItems,
  type VariableEntry,
} from "./group.js";
export { normalizeGroupPath, splitPath, variableKey } from "./path.js";
export {
  parseRole,
  VariableRole,
  VariableSchema,
  type VariableSchemaJSON,
  type VariableSchemaOptions,
} from "./variable.js";
