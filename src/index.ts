/**
 * zcollection — a dataset stored as a collection of partitions, each a Zarr
 * v3 group; the TypeScript counterpart of CNES's Python zcollection v3 with
 * the same on-disk format.
 *
 * Everything is importable from the package root; `codecs`, `merge`,
 * `partitioning` and `config` are also namespaces here and subpath exports
 * (`zcollection/partitioning`, ...). The root import loads no Node-only
 * module: local files, S3 and Icechunk backends are loaded when first used,
 * and NetCDF ingest lives in `zcollection/netcdf`.
 *
 * @module
 */

export * as codecs from "./codecs/index.js";
export { type CodecDescriptor, CodecStack } from "./codecs/index.js";
export * from "./collection/index.js";
export * as config from "./config.js";
export * from "./data/index.js";
export {
  type DType,
  datetime64,
  formatDatetime64,
  NAT,
  type Scalar,
  type TimeUnit,
  type TypedArray,
  type TypedArrayFor,
} from "./dtype.js";
export * from "./errors.js";
export * as indexing from "./indexing/index.js";
export { Indexer, runsOf } from "./indexing/index.js";
export type { MergeCallable, MergeStrategy } from "./merge/index.js";
export * as merge from "./merge/index.js";
export { type ArrayInput, argsort, concat, NDArray, take, uniqueRuns } from "./ndarray.js";
export type { Partitioning, PartitionKey } from "./partitioning/index.js";
export * as partitioning from "./partitioning/index.js";
export * from "./schema/index.js";
export * from "./store/index.js";
export * as view from "./view/index.js";
export { View, ViewReference } from "./view/index.js";
