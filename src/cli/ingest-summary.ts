/**
 * What `zcollection ingest` reports: the rows the collection gained or
 * had replaced (counted in the partitions written, before and after, so
 * that the figures are those of the merge, not of the files read), and the
 * summary line.
 *
 * @module
 */

import type { Collection } from "../collection/index.js";
import { joinPath } from "../store/store.js";
import { readArrayMetadata } from "../zarr/index.js";
import { megabytes } from "./format.js";

/** What an ingest did (the figures of its summary line). */
export interface IngestSummary {
  /** Files ingested (duplicates skipped). */
  files: number;
  /** Rows read from the files (along the partition axis). */
  rowsRead: number;
  /** Rows the written partitions gained: the rows stored that replaced none. */
  newRows: number;
  /** Rows read that took the place of stored rows (an upsert of the same rows: all of them). */
  replacedRows: number;
  /** Stored rows removed without a row to replace them (a shorter partition replacing a longer one). */
  removedRows: number;
  /** Distinct partitions written. */
  partitions: number;
  /** Decoded bytes of the data ingested. */
  bytes: number;
  /** Wall-clock seconds of the whole command. */
  seconds: number;
}

/**
 * Rows along the partitioning dimension in each of `paths` (0 for a
 * partition not stored), read from the metadata of the first partitioned
 * variable each partition has: one small read per partition.
 */
export async function storedRows(
  col: Collection,
  paths: Iterable<string>,
  signal?: AbortSignal,
): Promise<Map<string, number>> {
  const candidates = [...col.schema.allVariables()]
    .filter(([, v]) => !v.immutable && v.dimensions[0] === col.dimension)
    .map(([p]) => p);
  const out = new Map<string, number>();
  for (const path of paths) {
    let rows = 0;
    for (const variable of candidates) {
      const meta = await readArrayMetadata(col.store, joinPath(path, variable), signal ? { signal } : {});
      if (meta !== undefined) {
        rows = meta.shape[0] ?? 0;
        break;
      }
    }
    out.set(path, rows);
  }
  return out;
}

/**
 * The row figures of a summary from the rows read and the rows the written
 * partitions held before and after: the net change is split into new rows
 * (a gain) or removed rows (a loss), and the rows read that are not new
 * took the place of stored rows.
 */
export function rowFigures(
  rowsRead: number,
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
): Pick<IngestSummary, "rowsRead" | "newRows" | "replacedRows" | "removedRows"> {
  let delta = 0;
  for (const [path, rows] of after) delta += rows - (before.get(path) ?? 0);
  const newRows = Math.max(0, delta);
  return {
    rowsRead,
    newRows,
    replacedRows: Math.max(0, rowsRead - newRows),
    removedRows: Math.max(0, -delta),
  };
}

/**
 * `ingested F file(s): N new rows, R rows replaced[, D stored rows removed],
 * P partition(s) written, X MB decoded, S s`.
 */
export function summaryLine(s: IngestSummary): string {
  const removed = s.removedRows > 0 ? `, ${s.removedRows} stored rows removed` : "";
  return (
    `ingested ${s.files} file(s): ${s.newRows} new rows, ${s.replacedRows} rows replaced${removed}, ` +
    `${s.partitions} partition(s) written, ${megabytes(s.bytes)} MB decoded, ${s.seconds.toFixed(2)} s`
  );
}
