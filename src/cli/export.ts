/**
 * Where `zcollection query` writes: stdout, a text file (`--output FILE`
 * with table, CSV or JSON), or a Parquet or Arrow IPC file (`--format
 * parquet|arrow --output FILE`) readable by DuckDB, pandas, Polars and
 * pyarrow.
 *
 * The binary formats hold flat columns, written as the rows come (one
 * Parquet row group per {@link ROW_GROUP_ROWS} rows, one Arrow record batch
 * per partition or long-format slice), so memory stays
 * bounded. Every column is nullable. Type mapping:
 *
 * | dtype | Parquet | Arrow |
 * | --- | --- | --- |
 * | bool | BOOLEAN | Bool |
 * | int8 / int16 / int32 | INT32 (converted type INT_8 / INT_16 / —) | Int8 / Int16 / Int32 |
 * | uint8 / uint16 / uint32 | INT32 (converted type UINT_8 / UINT_16 / UINT_32) | Uint8 / Uint16 / Uint32 |
 * | int64 / uint64 | INT64 (— / UINT_64) | Int64 / Uint64 |
 * | float32 / float64 | FLOAT / DOUBLE | Float32 / Float64 |
 * | string | BYTE_ARRAY, UTF8 / STRING | Utf8 |
 * | datetime64[ms/us/ns] | INT64 TIMESTAMP of that unit | Timestamp of that unit |
 * | datetime64[s] and coarser | INT64 TIMESTAMP(MILLIS) | Timestamp(SECOND) |
 * | timedelta64[s/ms/us/ns] | INT64 | Duration of that unit |
 * | timedelta64[D/h/m] | INT64 | Duration(SECOND) |
 * | timedelta64[Y/M] | INT64 | Int64 |
 *
 * Timestamps are naive (no time zone, not UTC-adjusted), as numpy's
 * datetime64. NaT is null; floats keep NaN (as xarray's `to_dataframe()`
 * does: a NaN is a value, DuckDB and Polars tell it from null); a variable
 * missing from a partition is null there. Small and unsigned integers carry
 * Parquet's legacy converted types, not the INTEGER logical type, which
 * hyparquet-writer 0.17 encodes in a way DuckDB rejects. The Parquet
 * key-value metadata `zcollection:dtypes` and the Arrow field metadata
 * `zcollection:dtype` name each column's dtype (timedelta units, exact
 * datetime units).
 *
 * This module opens the output; the writers are ./export-parquet.ts and
 * ./export-arrow.ts, on the table of ./export-table.ts.
 *
 * @module
 */

import { closeSync, openSync, writeSync } from "node:fs";
import { type FileHandle, open, rm } from "node:fs/promises";
import { arrowExport } from "./export-arrow.js";
import { parquetExport } from "./export-parquet.js";
import type { ByteSink, TableColumns, TableExport } from "./export-table.js";
import { type CliIO, type TextSink, UsageError } from "./io.js";

export { DTYPE_METADATA_KEY } from "./export-arrow.js";
export { DTYPES_METADATA_KEY, ROW_GROUP_ROWS } from "./export-parquet.js";
export type { TableColumns, TableExport } from "./export-table.js";

/** The binary output formats of `query`. */
export const EXPORT_FORMATS = ["parquet", "arrow"] as const;

/** A binary output format of `query`. */
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Characters of text gathered before a write to an `--output` text file. */
const TEXT_BLOCK = 1 << 16;

/** Whether `format` is written as a binary table. */
export function isExportFormat(format: string): format is ExportFormat {
  return (EXPORT_FORMATS as readonly string[]).includes(format);
}

/** What `query` writes to: the streams (stdout replaced by a text file when asked) or a binary table. */
export interface QueryOutput {
  /** The streams text formats write to. */
  readonly io: CliIO;
  /** The binary table, for `parquet` and `arrow`. */
  readonly table: TableExport | undefined;
  /** Completes and closes the output. */
  close(): Promise<void>;
  /** Closes and removes a partial output file (after an error). */
  discard(): Promise<void>;
}

const FORMAT_NAMES: Record<ExportFormat, string> = { parquet: "Parquet", arrow: "Arrow IPC" };

/**
 * Checks where `format` output goes, before anything is read: binary
 * formats need `--output FILE`, or `--output -` with stdout not a terminal.
 *
 * @throws UsageError otherwise.
 */
export function checkOutput(format: string, output: string | undefined, io: CliIO): void {
  if (!isExportFormat(format)) return;
  if (output === undefined) {
    throw new UsageError(
      `--format ${format} writes a binary ${FORMAT_NAMES[format]} file: give --output FILE ` +
        "(or --output - to write to stdout redirected to a file or a pipe)",
    );
  }
  if (output === "-" && io.stdout.isTTY === true) {
    throw new UsageError(
      `refusing to write binary ${FORMAT_NAMES[format]} to a terminal: redirect stdout or give --output FILE`,
    );
  }
}

/**
 * Opens the output of `query` (see {@link checkOutput}): with `--output
 * FILE`, the file is created (or truncated) now.
 *
 * @throws UsageError as {@link checkOutput}; an `Error` from the file system
 *   when the file cannot be created.
 */
export async function openOutput(
  format: string,
  output: string | undefined,
  columns: TableColumns,
  io: CliIO,
): Promise<QueryOutput> {
  checkOutput(format, output, io);
  if (isExportFormat(format)) {
    const sink = output === "-" ? stdoutSink(io) : await fileSink(output as string);
    const table =
      format === "parquet" ? await parquetExport(columns, sink) : await arrowExport(columns, sink);
    return { io, table, close: () => table.close(), discard: () => table.discard() };
  }
  if (output === undefined || output === "-") {
    return { io, table: undefined, close: async () => {}, discard: async () => {} };
  }
  const fd = openSync(output, "w");
  // Text comes a row at a time: written in blocks of about TEXT_BLOCK characters.
  let buffered: string[] = [];
  let size = 0;
  const flush = () => {
    if (size > 0) writeSync(fd, buffered.join(""));
    buffered = [];
    size = 0;
  };
  let closed = false;
  const closeFile = () => {
    if (closed) return;
    closed = true;
    try {
      flush();
    } finally {
      closeSync(fd);
    }
  };
  const stdout: TextSink = {
    write: (text: string) => {
      buffered.push(text);
      size += text.length;
      if (size >= TEXT_BLOCK) flush();
    },
    isTTY: false,
  };
  return {
    io: { ...io, stdout },
    table: undefined,
    close: async () => closeFile(),
    discard: async () => {
      closeFile();
      await rm(output, { force: true });
    },
  };
}

async function fileSink(path: string): Promise<ByteSink> {
  const handle: FileHandle = await open(path, "w");
  let closed = false;
  const close = async () => {
    if (!closed) await handle.close();
    closed = true;
  };
  return {
    write: async (bytes) => {
      let at = 0;
      while (at < bytes.byteLength) {
        const { bytesWritten } = await handle.write(bytes, at, bytes.byteLength - at);
        at += bytesWritten;
      }
    },
    close,
    discard: async () => {
      await close();
      await rm(path, { force: true });
    },
  };
}

/** Stdout as a byte sink (the CLI's stdout is `process.stdout`, which takes bytes). */
function stdoutSink(io: CliIO): ByteSink {
  const out = io.stdout as unknown as { write(chunk: Uint8Array): unknown };
  return {
    write: async (bytes) => {
      out.write(bytes);
    },
    close: async () => {},
    discard: async () => {},
  };
}
