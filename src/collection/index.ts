/**
 * Collections: create, open, insert, query, map, update, drop (docs/behaviour.md §8).
 *
 * @module
 */

export {
  Collection,
  type CreateOptions,
  createCollection,
  type Filters,
  type InsertOptions,
  type MapOptions,
  type OpenOptions,
  type OperationOptions,
  openCollection,
  type Progress,
  type ReadOptions,
  type RepairReport,
  type RowSelection,
} from "./collection.js";
export { RESERVED_NAMES, walkPartitions } from "./listing.js";
export { IMMUTABLE_DIR, PARTITION_KEY_ATTR } from "./partition-io.js";
export type { RecoveredOperation, RecoveryReport } from "./recovery.js";
export { ROOT_CONFIG_KEY, type RootConfig, readRootConfig, writeRootConfig } from "./root-config.js";
export { type VerifyFailure, type VerifyOptions, type VerifyReport, verifyPartitions } from "./verify.js";
