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
export { CodecStack, type CodecDescriptor } from "./codecs/index.js";
export * as config from "./config.js";
export * as merge from "./merge/index.js";
export { type MergeCallable, type MergeStrategy } from "./merge/index.js";
export * as partitioning from "./partitioning/index.js";
export { type Partitioning, type PartitionKey } from "./partitioning/index.js";

export * from "./errors.js";
export {
  type DType,
  type TimeUnit,
  type TypedArray,
  type TypedArrayFor,
  type Scalar,
  NAT,
  datetime64,
  formatDatetime64,
} from "./dtype.js";
export { NDArray, argsort, concat, take, uniqueRuns, type ArrayInput } from "./ndarray.js";
export * from "./schema/index.js";
export * from "./data/index.js";
export * from "./store/index.js";
export * from "./collection/index.js";
