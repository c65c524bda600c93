/**
 * `zcollection query`: print the rows of the matching partitions as an
 * aligned table, CSV or JSON.
 *
 * Rows run along the partitioning dimension, partitions in natural key
 * order. Columns are the variables whose first dimension is the
 * partitioning dimension (root variables by name, nested ones as
 * `grp/var`), in schema order or in the order of `--variables`. Variables
 * that do not span the partitioning dimension first (immutable variables
 * such as a fixed coordinate) have no value per row and are left out.
 *
 * Gridded data, or `--long`, gives the long format of xarray's
 * `to_dataframe()` instead: one row per cell, a column per dimension (see
 * `long-format.ts`). `--format parquet|arrow --output FILE` writes the rows
 * as a Parquet or Arrow IPC file (see `export.ts`).
 *
 * Partitions are read one at a time and reading stops once `--limit` rows
 * are out, so memory stays bounded by one partition. With `--index FILE
 * --where col=v`, only the rows the index selects are read (the chunks
 * holding them, by ranged reads).
 *
 * @module
 */

import type { RowSelection } from "../collection/index.js";
import type { Variable } from "../data/index.js";
import type { DatasetSchema } from "../schema/index.js";
import { checkedPartitions } from "./consistency.js";
import { checkOutput, isExportFormat, openOutput } from "./export.js";
import { Column, csvLine, jsonRow, renderTable, TABLE_CELL_WIDTH, truncate } from "./format.js";
import { type CliIO, UsageError } from "./io.js";
import { planLayout } from "./long-format.js";
import { progressBar } from "./progress.js";
import { openSource } from "./source.js";

/** Output formats of {@link query}. */
export type QueryFormat = "table" | "csv" | "json" | "parquet" | "arrow";

/** Rows shown by a table when `--limit` is not given. */
export const DEFAULT_TABLE_LIMIT = 20;

/** Options of {@link query}. */
export interface QueryOptions {
  /** Partition filter expression. */
  filter?: string;
  /** Variables to print (names or `grp/var` paths), in this order. */
  variables?: readonly string[];
  /** Default `table`. */
  format?: QueryFormat;
  /** At most this many rows (default 20 for a table, all for CSV and JSON). */
  limit?: number;
  /** A Parquet index file (path or store URL) selecting the rows to print, with {@link QueryOptions.where}. */
  index?: string;
  /** `column=value[,value…]` conditions on the index's key columns (AND across conditions). */
  where?: readonly string[];
  /** CSV and JSON numbers as the table shows them (float32 to 7 significant digits) instead of full precision. */
  round?: boolean;
  /** Print one line per variable (valid count, min, max, mean, units) instead of the rows: see `summary.ts`. */
  summary?: boolean;
  /** `true`: long format (a row per cell); `false`: a row per index of the partitioning dimension; default: long for gridded data (see `long-format.ts`). */
  long?: boolean;
  /** Write to this file instead of stdout (required for `parquet` and `arrow`; `-`: stdout). */
  output?: string;
}

/**
 * Parses `--where` conditions: `col=v` is equality, `col=a,b,c` membership;
 * numbers are numbers, anything else a string (ISO dates for datetime columns).
 *
 * @throws UsageError naming a condition without `=` or without a value.
 */
export function parseWhere(conditions: readonly string[]): Record<string, Array<number | string>> {
  const out: Record<string, Array<number | string>> = {};
  for (const c of conditions) {
    const eq = c.indexOf("=");
    const column = c.slice(0, eq).trim();
    const values = c
      .slice(eq + 1)
      .split(",")
      .map((v) => v.trim())
      .filter((v) => v !== "");
    if (eq <= 0 || column === "" || values.length === 0) {
      throw new UsageError(`--where '${c}': expected column=value or column=value,value`);
    }
    out[column] = [
      ...(out[column] ?? []),
      ...values.map((v) => (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v) ? Number(v) : v)),
    ];
  }
  return out;
}

/**
 * The rows the index file `indexPath` (path or store URL) selects for the
 * `--where` conditions (see {@link parseWhere}; AND across conditions).
 *
 * @throws UsageError for a bad condition, or one on a column that is not a
 *   key column of the index; the errors of reading the index.
 */
export async function indexedRows(
  indexPath: string,
  where: readonly string[] | undefined,
  signal: AbortSignal | undefined,
): Promise<RowSelection> {
  const { Indexer } = await import("../indexing/index.js");
  const index = await Indexer.read(indexPath, signal ? { signal } : {});
  const predicates = parseWhere(where ?? []);
  const unknown = Object.keys(predicates).filter((c) => !index.keyColumns.includes(c));
  if (unknown.length > 0) {
    throw new UsageError(
      `--where names ${unknown.map((c) => `'${c}'`).join(", ")}, not a key column of ${indexPath} ` +
        `(its key columns: ${index.keyColumns.join(", ")})`,
    );
  }
  return index.lookup(predicates);
}

/**
 * The variable paths printed as columns, in order, from the schema of a
 * collection or a view (base and overlay variables).
 *
 * @throws UsageError naming the variables that are not in the schema
 *   (whether the others fit the output's layout is `planLayout`'s call).
 */
export function selectColumns(
  source: { readonly schema: DatasetSchema; readonly dimension: string },
  wanted?: readonly string[],
): string[] {
  const dim = source.dimension;
  const all = source.schema.allVariables();
  if (wanted === undefined || wanted.length === 0) {
    return [...all].filter(([, v]) => v.dimensions[0] === dim).map(([path]) => path);
  }
  const names = wanted.map((n) => n.replace(/^\/+/, ""));
  const unknown = names.filter((n) => !all.has(n));
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown variable(s) ${unknown.map((n) => `'${n}'`).join(", ")} in --variables; the collection has ${[...all.keys()].join(", ")}`,
    );
  }
  return [...new Set(names)];
}

/**
 * The columns of one partition, in the order of `paths`; `undefined` for a
 * variable the partition does not hold (printed empty, or `null` in JSON).
 */
function columnsOf(
  vars: ReadonlyMap<string, Variable>,
  paths: readonly string[],
  round = false,
): Array<Column | undefined> {
  return paths.map((path) => {
    const v = vars.get(path);
    return v === undefined || v.data === null ? undefined : Column.of(path, v, { round });
  });
}

/** Writes rows as they come (CSV, JSON) or gathers them (table). */
interface RowSink {
  row(columns: ReadonlyArray<Column | undefined>, i: number): void;
  end(more: boolean): void;
}

function csvSink(io: CliIO, header: readonly string[]): RowSink {
  let started = false;
  const start = () => {
    if (!started) io.stdout.write(`${csvLine(header)}\n`);
    started = true;
  };
  return {
    row(columns, i) {
      start();
      io.stdout.write(`${csvLine(columns.map((c) => c?.cell(i, "csv") ?? ""))}\n`);
    },
    end: start,
  };
}

function jsonSink(io: CliIO, header: readonly string[]): RowSink {
  let first = true;
  return {
    row(columns, i) {
      io.stdout.write(`${first ? "[\n" : ",\n"}${jsonRow(header, columns, i)}`);
      first = false;
    },
    end() {
      io.stdout.write(first ? "[]\n" : "\n]\n");
    },
  };
}

function tableSink(io: CliIO, header: readonly string[], limit: number): RowSink {
  const rows: string[][] = [];
  const right = header.map(() => true);
  return {
    row(columns, i) {
      rows.push(
        columns.map((c, k) => {
          if (c === undefined) return "";
          if (!c.numeric) right[k] = false;
          return truncate(c.cell(i, "table"), TABLE_CELL_WIDTH);
        }),
      );
    },
    end(more) {
      if (rows.length === 0) {
        io.stdout.write("(no rows)\n");
        return;
      }
      io.stdout.write(renderTable(header, rows, right));
      if (more) io.stdout.write(`(first ${limit} rows shown; use --limit to see more)\n`);
    },
  };
}

/**
 * Prints the rows of the partitions matching `filter` of a collection, or
 * of a view (its base's variables and its overlay variables).
 *
 * - `table`: a header, a rule, aligned columns (numbers right-aligned),
 *   datetimes in ISO 8601, N-D rows as `[a, b, c, …]`, long cells cut with
 *   `…`; a closing note when more rows exist than `limit` (default 20).
 * - `csv`: a header line and one line per row (RFC 4180 quoting); N-D rows
 *   as `[a, b, c]` in full.
 * - `json`: an array of row objects, one per line; int64 values as numbers
 *   when within ±(2^53 − 1), strings otherwise; NaN, ±Infinity and NaT as
 *   `null`; datetimes as ISO strings; N-D rows as nested arrays.
 * - `parquet`, `arrow`: a file (`--output`) of flat columns, in long format
 *   when the variables have more dimensions than the partitioning one.
 *
 * With `--output FILE`, the text formats write to the file as well; a file
 * left by a failed query is removed.
 *
 * @throws UsageError (exit 1) for a bad `--variables` list, a layout or an
 *   output that does not fit (see `planLayout`, `checkOutput`); ExpressionError
 *   (exit 1) for a bad filter; CollectionNotFoundError / StoreError (exit 2).
 */
export async function query(url: string, opts: QueryOptions, io: CliIO): Promise<number> {
  if (opts.summary === true) return (await import("./summary.js")).summary(url, opts, io);
  const format = opts.format ?? "table";
  checkOutput(format, opts.output, io);
  if ((opts.index === undefined) !== (opts.where === undefined || opts.where.length === 0)) {
    throw new UsageError("--index and --where go together: --index FILE --where column=value");
  }
  const source = await openSource(url, io.signal ? { signal: io.signal } : {});
  const paths = selectColumns(source, opts.variables);
  const layout = planLayout(source.schema, source.dimension, paths, {
    ...(opts.long === undefined ? {} : { long: opts.long }),
    flat: isExportFormat(format),
    format,
  });
  let rows: RowSelection | undefined;
  if (opts.index !== undefined) rows = await indexedRows(opts.index, opts.where, io.signal);
  const { fromStore } = await checkedPartitions(source.collection, url, opts.filter, io);
  const limit = opts.limit ?? (format === "table" ? DEFAULT_TABLE_LIMIT : Number.POSITIVE_INFINITY);
  const output = await openOutput(format, opts.output, layout, io);
  const out = output.io;
  const header = layout.header;
  const sink =
    format === "csv"
      ? csvSink(out, header)
      : format === "json"
        ? jsonSink(out, header)
        : tableSink(out, header, limit);
  const bar = progressBar(io.stderr, "query");
  let written = 0;
  let more = false;
  try {
    const signal = io.signal;
    const partitions = source.iterate({
      filters: opts.filter ?? null,
      variables: layout.read,
      fromStore,
      ...(rows === undefined ? {} : { rows }),
      onProgress: (p) => bar.update(p),
      ...(signal ? { signal } : {}),
    });
    outer: for await (const [, ds] of partitions) {
      for (const slice of layout.slices(ds)) {
        const columns = columnsOf(slice, header, opts.round === true);
        const rows = columns.find((c) => c !== undefined)?.length ?? 0;
        if (output.table !== undefined) {
          const n = Math.min(rows, limit - written);
          const arrays = columns.map((c) => c?.array);
          await output.table.write(arrays, n);
          written += n;
          if (written >= limit) break outer;
          continue;
        }
        for (let i = 0; i < rows; i++) {
          if (written >= limit) {
            more = true;
            break outer;
          }
          sink.row(columns, i);
          written += 1;
        }
      }
    }
  } catch (err) {
    await output.discard();
    throw err;
  } finally {
    bar.stop();
  }
  if (output.table === undefined) sink.end(more);
  await output.close();
  return 0;
}
