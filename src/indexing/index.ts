/**
 * Parquet indexes over a collection (docs/indexing.md; docs/format.md §12): the
 * `zcollection/indexing` subpath, also the `indexing` namespace of the root.
 *
 * An index maps key values to the rows holding them: one row per run of
 * rows (`_start`, `_stop` within the partition `_partition`), computed by a
 * builder function over each partition, kept as one Parquet file that
 * pyarrow, DuckDB or Polars read too.
 *
 * @example
 * import { openCollection } from "zcollection";
 * import { Indexer, runsOf } from "zcollection/indexing";
 *
 * const col = await openCollection("file:///data/s6");
 * const index = await Indexer.build(col, { builder: runsOf(["cycle_number", "pass_number"]) });
 * await index.write("file:///data/s6/_indices/passes.parquet");
 * const rows = index.lookup({ cycle_number: 14, pass_number: [191, 192] });  // partition → [start, stop) ranges
 *
 * @module
 */

export { type IndexBuilder, type IndexColumns, runsOf } from "./builders.js";
export {
  type IndexColumn,
  type IndexColumnInput,
  type IndexScalar,
  PARTITION_COLUMN,
  RESERVED_COLUMNS,
  START_COLUMN,
  STOP_COLUMN,
} from "./columns.js";
export { type BuildOptions, Indexer, type LookupPredicates } from "./indexer.js";
export { type IndexFileLocation, type IndexFileOptions, splitIndexUrl } from "./location.js";
export { DTYPES_METADATA_KEY } from "./parquet.js";
