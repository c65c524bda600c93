/**
 * Partitionings and the partition filter language — `zcollection/partitioning`
 * (docs/behaviour.md §6, §7; docs/format.md §3.6, §4).
 *
 * `Date` is also exported as `DatePartitioning`, which does not shadow the
 * global `Date` in modules that import it by name.
 *
 * @module
 */

export { CATALOG_DIR, CATALOG_KEY, Catalog, type CatalogOptions, type CatalogState } from "./catalog.js";
export {
  type DateOptions,
  DatePartitioning as Date,
  DatePartitioning,
  RESOLUTIONS,
  type Resolution,
} from "./date.js";
export {
  compileFilter,
  type FilterInput,
  type FilterKey,
  type FilterPredicate,
  MAX_FILTER_DEPTH,
  MAX_FILTER_LENGTH,
} from "./filter.js";
export { GroupedSequence, type GroupedSequenceOptions } from "./grouped-sequence.js";
export { compareKeys, decodePath, parsePythonInt, sortPaths } from "./keys.js";
export {
  type DatePartitioningJSON,
  type GroupedSequencePartitioningJSON,
  keyToDict,
  type PartitionGroup,
  type Partitioning,
  type PartitioningJSON,
  type PartitionKey,
  type PartitionSlice,
  type SequencePartitioningJSON,
  type SplittableDataset,
  type SplittableVariable,
} from "./partitioning.js";
export { fromJSON } from "./registry.js";
export { Sequence, type SequenceOptions } from "./sequence.js";
