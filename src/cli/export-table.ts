/**
 * What the binary writers of `zcollection query` (./export-parquet.ts,
 * ./export-arrow.ts) share with ./export.ts: the table being written, the
 * byte sink under it, and access to the columns of a batch.
 *
 * @module
 */

import type { DType } from "../dtype.js";
import type { NDArray } from "../ndarray.js";

/** The columns of an output table: names and dtypes, in order. */
export interface TableColumns {
  readonly header: readonly string[];
  readonly dtypes: readonly DType[];
}

/** A table being written, batch after batch. */
export interface TableExport {
  /**
   * Appends the first `rows` rows of `columns` (1-D arrays, in the order of
   * the header; `undefined`: a column missing from this batch, written as nulls).
   */
  write(columns: ReadonlyArray<NDArray | undefined>, rows: number): Promise<void>;
  /** Completes the file (footer) and closes it. */
  close(): Promise<void>;
  /** Closes and removes a partial file (after an error). */
  discard(): Promise<void>;
}

/** Bytes out: a file or stdout. */
export interface ByteSink {
  /** Appends `bytes`. */
  write(bytes: Uint8Array): Promise<void>;
  /** Closes the sink. */
  close(): Promise<void>;
  /** Closes and removes a partial file. */
  discard(): Promise<void>;
}

/** `a` in the column's dtype (reads return the schema's dtype; this is insurance). */
export function as(a: NDArray | undefined, dtype: DType): NDArray | undefined {
  return a === undefined || a.dtype === dtype ? a : a.astype(dtype);
}

/** The first `rows` values of a 1-D array's storage. */
export function head(a: NDArray, rows: number): ArrayLike<unknown> {
  const data = a.data as unknown as { length: number; slice(s: number, e: number): ArrayLike<unknown> };
  return data.length === rows ? (data as unknown as ArrayLike<unknown>) : data.slice(0, rows);
}
