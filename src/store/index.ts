/**
 * The store layer (docs/behaviour.md §13): the abstract {@link Store}, its backends,
 * a counting wrapper and {@link openStore}.
 *
 * Importing this module loads no Node-only module and no SDK: LocalStore
 * loads `node:fs` and ObjectStore the AWS SDK on first use, and the
 * Icechunk backend is imported by `openStore` only for `icechunk://` URLs.
 *
 * @module
 */

export { CountingStore, type StoreCounts } from "./counting.js";
export { type FetchLike, HttpStore, type HttpStoreOptions, parseHttpStoreOptions } from "./http.js";
export { IcechunkStore, type IcechunkStoreOptions } from "./icechunk-lazy.js";
export { isTransientName, LocalStore, type LocalStoreOptions } from "./local.js";
export { MemoryStore, type MemoryStoreOptions } from "./memory.js";
export { type OpenStoreOptions, openStore, parseStoreUrl, type StoreLocation } from "./open.js";
export {
  ObjectStore,
  type ObjectStoreOptions,
  parseS3StorageOptions,
  parseS3Url,
  type S3Credentials,
  type S3StorageOptions,
} from "./s3.js";
export {
  joinPath,
  parentPath,
  type RangeQuery,
  relativePath,
  type SessionOptions,
  Store,
  type VersionedBytes,
} from "./store.js";
