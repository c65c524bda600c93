/**
 * {@link Indexer}: a table mapping key values (a cycle and pass number, a
 * station, a day...) to the row ranges of the partitions that hold them,
 * kept as one Parquet file (docs/format.md §12).
 *
 * @module
 */

import type * as arrow from "apache-arrow";
import type { Collection, Filters, Progress } from "../collection/index.js";
import type { Dataset } from "../data/dataset.js";
import { SchemaError } from "../errors.js";
import type { ExecutorOption, FunctionRef, Json } from "../executor/api.js";
import { isFunctionRef } from "../executor/functions.js";
import { concat, NDArray } from "../ndarray.js";
import type { IndexBuilder, IndexColumns } from "./builders.js";
import {
  columnsToArrow,
  type IndexColumn,
  type IndexScalar,
  mergeRanges,
  PARTITION_COLUMN,
  RESERVED_COLUMNS,
  rowTest,
  START_COLUMN,
  STOP_COLUMN,
  toColumnArray,
  toOffsets,
} from "./columns.js";
import { type IndexFileOptions, readIndexFile, writeIndexFile } from "./location.js";
import { decodeParquet, encodeParquet } from "./parquet.js";

/** Options of {@link Indexer.build}. */
export interface BuildOptions {
  /**
   * Computes the index rows of one partition: key columns plus `_start` and
   * `_stop` (integer row offsets within the partition, `[start, stop)`), all
   * of the same length. See {@link runsOf} for the common case.
   */
  builder: IndexBuilder | FunctionRef;
  /** Partition filter (expression or predicate); default every partition. */
  filters?: Filters;
  /** Variables to read (names or `grp/var` paths); default the builder's `variables`, else all. */
  variables?: Iterable<string>;
  /** Aborts the build (rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Called after each partition. */
  onProgress?: (p: Progress) => void;
  /**
   * Run the builder on an executor: a queue URL (`redis://…` or `postgres://…`, BullMQ
   * workers started with `zcollection worker`) or an Executor. The builder
   * must then be named as `{ module, export[, args] }` (e.g.
   * `{ module: "zcollection/indexing", export: "runsOf", args: [["cycle_number", "pass_number"]] }`).
   */
  executor?: ExecutorOption;
  /** Options of the collection's store, sent to the workers (default: their environment's). */
  storageOptions?: Record<string, Json>;
}

/** Predicates of {@link Indexer.lookup}: column → value (equality) or values (membership). */
export type LookupPredicates = Readonly<Record<string, IndexScalar | readonly IndexScalar[]>>;

/** What the builder returned for one partition, checked. @internal */
export interface Built {
  columns: IndexColumn[];
  rows: number;
}

/**
 * Checks a builder's result for `partition`: a record of 1-D columns of one
 * length, with integer `_start`/`_stop` (cast to int64) within `[0, rows]`.
 */
export function checkBuilt(result: IndexColumns, partition: string, rows: number | undefined): Built {
  const where = `partition '${partition}'`;
  if (typeof result !== "object" || result === null || Array.isArray(result) || ArrayBuffer.isView(result)) {
    throw new SchemaError(
      `the index builder returned ${String(result)} for ${where}; expected a record of columns`,
    );
  }
  if (Object.hasOwn(result, PARTITION_COLUMN)) {
    throw new SchemaError(
      `the index builder returned a '${PARTITION_COLUMN}' column for ${where}; the indexer adds it`,
      { variable: PARTITION_COLUMN },
    );
  }
  for (const name of [START_COLUMN, STOP_COLUMN]) {
    if (!Object.hasOwn(result, name)) {
      throw new SchemaError(`the index builder returned no '${name}' column for ${where}`, {
        variable: name,
      });
    }
  }
  const columns: IndexColumn[] = Object.entries(result).map(([name, value]) => {
    const data = toColumnArray(value, name, where);
    return {
      name,
      data: name === START_COLUMN || name === STOP_COLUMN ? toOffsets(data, name, where) : data,
    };
  });
  const first = columns[0] as IndexColumn;
  const n = first.data.size;
  for (const c of columns) {
    if (c.data.size !== n) {
      throw new SchemaError(
        `index column '${c.name}' of ${where} has ${c.data.size} rows but '${first.name}' has ${n}`,
        { variable: c.name },
      );
    }
  }
  const starts = columns.find((c) => c.name === START_COLUMN)?.data.data as BigInt64Array;
  const stops = columns.find((c) => c.name === STOP_COLUMN)?.data.data as BigInt64Array;
  for (let i = 0; i < n; i++) {
    const a = starts[i] as bigint;
    const b = stops[i] as bigint;
    if (a < 0n || b < a || (rows !== undefined && b > BigInt(rows))) {
      throw new SchemaError(
        `index row ${i} of ${where} has _start=${a}, _stop=${b}; expected 0 <= _start <= _stop <= ${rows ?? "the partition's rows"}`,
        { variable: b < a || a < 0n ? START_COLUMN : STOP_COLUMN },
      );
    }
  }
  return { columns, rows: n };
}

/** The index columns of every partition's rows, `_partition` last (docs/format.md §12). */
export function assemble(parts: ReadonlyMap<string, Built>): IndexColumn[] {
  let total = 0;
  for (const b of parts.values()) total += b.rows;
  if (total === 0) {
    // docs/format.md §12: an index from zero rows has exactly these three columns.
    return [
      { name: PARTITION_COLUMN, data: new NDArray("string", [0], []) },
      { name: START_COLUMN, data: new NDArray("int64", [0], new BigInt64Array(0)) },
      { name: STOP_COLUMN, data: new NDArray("int64", [0], new BigInt64Array(0)) },
    ];
  }
  const entries = [...parts];
  const [refPath, ref] = entries[0] as [string, Built];
  const layout = ref.columns.map((c) => c.name);
  const columns = layout.map((name, k) => {
    const dtype = (ref.columns[k] as IndexColumn).data.dtype;
    const arrays = entries.map(([path, b]) => {
      const c = b.columns.find((x) => x.name === name);
      if (c === undefined || b.columns.length !== layout.length) {
        const extra = b.columns.find((x) => !layout.includes(x.name));
        throw new SchemaError(
          `the index builder returned columns (${b.columns.map((x) => x.name).join(", ")}) for partition '${path}' ` +
            `but (${layout.join(", ")}) for '${refPath}'`,
          { variable: c === undefined ? name : (extra?.name ?? name) },
        );
      }
      if (c.data.dtype !== dtype) {
        throw new SchemaError(
          `index column '${name}' is ${c.data.dtype} for partition '${path}' but ${dtype} for '${refPath}'`,
          { variable: name },
        );
      }
      return c.data;
    });
    return { name, data: concat(arrays) };
  });
  const paths: string[] = [];
  for (const [path, b] of entries) for (let i = 0; i < b.rows; i++) paths.push(path);
  columns.push({ name: PARTITION_COLUMN, data: new NDArray("string", [paths.length], paths) });
  return columns;
}

/**
 * A Parquet index over a collection's partitions (docs/indexing.md;
 * docs/format.md §12): one row per indexed run of rows, with the user's key
 * columns, `_start` and `_stop` (int64 row offsets within the partition,
 * `[start, stop)`) and `_partition` (the partition path, last).
 *
 * @example
 * const index = await Indexer.build(collection, { builder: runsOf(["cycle_number", "pass_number"]) });
 * await index.write("s3://bucket/ssh/_indices/passes.parquet", { storageOptions });
 * const rows = (await Indexer.read("file:///data/passes.parquet")).lookup({ cycle_number: 14, pass_number: 192 });
 * // Map { "year=2021/month=04/day=03/hour=00" => [[600, 1143]], "year=2021/month=04/day=03/hour=01" => [[0, 57]] }
 */
export class Indexer {
  readonly #columns: readonly IndexColumn[];
  #table: arrow.Table | undefined;

  private constructor(columns: readonly IndexColumn[]) {
    this.#columns = columns;
  }

  /**
   * Wraps columns read from a file: `_partition` must hold strings,
   * `_start`/`_stop` integers (cast to int64).
   */
  static #fromColumns(columns: readonly IndexColumn[], source: string): Indexer {
    const seen = new Set<string>();
    for (const c of columns) {
      if (seen.has(c.name))
        throw new SchemaError(`index '${source}' has two columns '${c.name}'`, { variable: c.name });
      seen.add(c.name);
    }
    for (const name of RESERVED_COLUMNS) {
      if (!seen.has(name))
        throw new SchemaError(`index '${source}' has no '${name}' column`, { variable: name });
    }
    return new Indexer(
      columns.map((c) => {
        if (c.name === PARTITION_COLUMN && c.data.dtype !== "string") {
          throw new SchemaError(
            `column '${c.name}' of index '${source}' must hold strings; got ${c.data.dtype}`,
            {
              variable: c.name,
            },
          );
        }
        const offsets = c.name === START_COLUMN || c.name === STOP_COLUMN;
        return offsets ? { name: c.name, data: toOffsets(c.data, c.name, `index '${source}'`) } : c;
      }),
    );
  }

  /**
   * Builds an index: runs `builder` on each partition matching `filters`
   * (through `Collection.map`: at most config `partition.concurrency` at
   * once, reading only `variables`), checks what it returns and appends
   * `_partition`. Rows are in the collection's partition order (natural key
   * order), each partition's rows in builder order. An index built from
   * zero rows has exactly the columns `_partition`, `_start`, `_stop`
   * (docs/format.md §12).
   *
   * Column dtypes are the builder's (uint16 stays uint16); `_start`/`_stop`
   * become int64.
   *
   * @throws SchemaError naming the partition and column when the builder
   *   returns something other than a record of 1-D columns of one length,
   *   lacks `_start`/`_stop`, returns non-integer offsets or offsets outside
   *   `0 <= _start <= _stop <= rows`, returns `_partition`, or returns other
   *   columns or dtypes than for another partition; ExpressionError for a
   *   bad filter; the signal's reason when aborted; what the builder throws.
   */
  static async build(col: Collection, opts: BuildOptions): Promise<Indexer> {
    const builder = opts?.builder;
    if (opts?.executor !== undefined || isFunctionRef(builder)) {
      const { buildOnExecutor } = await import("./distributed.js");
      return new Indexer(assemble(await buildOnExecutor(col, opts)));
    }
    if (typeof builder !== "function") throw new TypeError("Indexer.build needs a `builder` function");
    const variables = opts.variables ?? builder.variables;
    const parts = await col.map(
      async (ds: Dataset, partition: string) =>
        checkBuilt(await builder(ds, partition), partition, ds.dimensionSize(col.dimension)),
      {
        filters: opts.filters ?? null,
        ...(variables === undefined ? {} : { variables }),
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      },
    );
    return new Indexer(assemble(parts));
  }

  /**
   * Reads an index file written by {@link Indexer.write}, pyarrow or DuckDB
   * (docs/format.md §12).
   *
   * @param path a local path, a `file://` URL, or the URL of a file on any
   *   store (`s3://bucket/prefix/index.parquet`, `memory://name/index.parquet`,
   *   `https://host/path/index.parquet`).
   * @throws StoreError when the file is absent or not Parquet; SchemaError
   *   naming the column when `_partition`, `_start` or `_stop` is missing or
   *   mistyped, or a column has an unsupported type or nulls.
   */
  static async read(path: string, opts: IndexFileOptions = {}): Promise<Indexer> {
    return Indexer.fromParquet(await readIndexFile(path, opts), path);
  }

  /**
   * An index from the bytes of a Parquet file (see {@link Indexer.read}).
   *
   * @param source names the file in error messages.
   */
  static async fromParquet(bytes: Uint8Array, source = "(bytes)"): Promise<Indexer> {
    return Indexer.#fromColumns(await decodeParquet(bytes, source), source);
  }

  /**
   * Writes the index as one Parquet file (docs/format.md §12; type mapping in
   * `src/indexing/parquet.ts`), replacing any file there.
   *
   * @param path as for {@link Indexer.read}; local parent directories are created.
   * @throws StoreError / ReadOnlyError when the store refuses the write.
   */
  async write(path: string, opts: IndexFileOptions = {}): Promise<void> {
    await writeIndexFile(path, await this.toParquet(), opts);
  }

  /** The bytes of the Parquet file {@link Indexer.write} writes. */
  toParquet(): Promise<Uint8Array> {
    return encodeParquet(this.#columns);
  }

  /** Names of the user key columns (not `_start`, `_stop`, `_partition`), in builder (file) order. */
  get keyColumns(): readonly string[] {
    return this.#columns.map((c) => c.name).filter((n) => !RESERVED_COLUMNS.includes(n));
  }

  /** Names of every column, in table order. */
  get columnNames(): readonly string[] {
    return this.#columns.map((c) => c.name);
  }

  /** Number of index rows. */
  get numRows(): number {
    return this.#columns[0]?.data.size ?? 0;
  }

  /**
   * The values of one column (1-D; `_start`/`_stop` int64, `_partition` string).
   *
   * @throws SchemaError naming an unknown column.
   */
  column(name: string): NDArray {
    const c = this.#columns.find((x) => x.name === name);
    if (c === undefined) throw this.#unknown(name);
    return c.data;
  }

  /**
   * The index as an apache-arrow Table, columns in order, each of its
   * column's type (Uint16, Int64, Float64, Utf8, Timestamp...; `_start` and
   * `_stop` Int64, `_partition` Utf8). Built on first use.
   */
  get table(): arrow.Table {
    this.#table ??= columnsToArrow(this.#columns);
    return this.#table;
  }

  #unknown(name: string): SchemaError {
    return new SchemaError(
      `unknown index column '${name}'; the index has ${this.#columns.map((c) => c.name).join(", ")}`,
      { variable: name },
    );
  }

  /**
   * The row ranges of the index rows matching every predicate: a scalar
   * means equality, an array membership (an empty array matches nothing),
   * and predicates on several columns combine with AND; `{}` matches every
   * row. Numbers and bigints compare by value whatever the column's integer
   * type; datetime columns also take ISO 8601 strings; NaN matches NaN.
   *
   * @returns partition path → its `[start, stop)` ranges, sorted, with
   *   overlapping or adjacent ranges merged and empty ones dropped;
   *   partitions in order of first appearance in the table (the
   *   collection's partition order for a built index). This is the `rows`
   *   option of `Collection.query` / `iterate`.
   * @throws SchemaError naming the column when it is not in the index (an
   *   index of zero rows, which may lack the key columns, matches nothing
   *   instead), or when a value's type does not fit the column (a string
   *   for a number column).
   */
  lookup(predicates: LookupPredicates): Map<string, Array<[number, number]>> {
    if (typeof predicates !== "object" || predicates === null || Array.isArray(predicates)) {
      throw new TypeError("lookup expects a record of column → value(s)");
    }
    const tests: Array<(i: number) => boolean> = [];
    for (const [name, wanted] of Object.entries(predicates)) {
      const c = this.#columns.find((x) => x.name === name);
      if (c === undefined) {
        if (this.numRows === 0) return new Map();
        throw this.#unknown(name);
      }
      tests.push(rowTest(c, wanted));
    }
    const partitions = this.column(PARTITION_COLUMN).data as string[];
    const starts = this.column(START_COLUMN).data as BigInt64Array;
    const stops = this.column(STOP_COLUMN).data as BigInt64Array;
    const found = new Map<string, Array<[number, number]>>();
    for (let i = 0; i < partitions.length; i++) {
      if (!tests.every((t) => t(i))) continue;
      const p = partitions[i] as string;
      let list = found.get(p);
      if (list === undefined) {
        list = [];
        found.set(p, list);
      }
      list.push([Number(starts[i]), Number(stops[i])]);
    }
    const out = new Map<string, Array<[number, number]>>();
    for (const [p, ranges] of found) {
      const merged = mergeRanges(ranges);
      if (merged.length > 0) out.set(p, merged);
    }
    return out;
  }

  /** One-line description. */
  toString(): string {
    const keys = this.keyColumns;
    return `<Indexer ${this.numRows} rows, keys (${keys.join(", ")})>`;
  }
}
