/**
 * The options of `zcollection ingest` and their checks, before anything is
 * read: flags that contradict each other or the existing collection, the
 * merge strategy, and the input files given more than once.
 *
 * @module
 */

import { resolve } from "node:path";
import type { MergeCallable, MergeStrategy } from "../merge/index.js";
import * as merge from "../merge/index.js";
import { DatePartitioning, type Partitioning, type Resolution, Sequence } from "../partitioning/index.js";
import type { DatasetSchema } from "../schema/index.js";
import { UsageError } from "./io.js";

/** How rows are keyed into partitions. */
export type IngestKey = "date" | "cycle" | "cycle_pass";

/** The merge strategies the command line offers. */
export type IngestMerge = "replace" | "concat" | "time_series" | "upsert" | "upsert_within";

/** Options of `ingest` (./ingest.ts). */
export interface IngestOptions {
  /** Partitioning of a new collection; checked against an existing one. */
  key?: IngestKey;
  /** Date resolution for `key: "date"` (default `D`); checked against an existing collection. */
  resolution?: Resolution;
  /** The datetime variable of `key: "date"` (default: the 1-D datetime variable along the axis). */
  time?: string;
  /** The partition dimension (default: the one `openNetCDF` infers from each file). */
  axis?: string;
  /** The NetCDF group lifted to the root (`/data_01`). */
  group?: string;
  /** Variables to keep (default: all). */
  variables?: readonly string[];
  /** Drop every variable using one of these dimensions. */
  excludeDimensions?: readonly string[];
  /**
   * Store packed integer variables (CF `scale_factor`/`add_offset`) as their
   * packed integers, the CF attributes kept, instead of unpacking them to
   * float64 (`--keep-packed`).
   */
  keepPacked?: boolean;
  /** How rows landing in an existing partition combine with it (default `replace`). */
  merge?: IngestMerge;
  /** Tolerance of `upsert_within` (`500ms`, or a number in the axis unit). */
  tolerance?: string;
  /** Codec profile of a new collection. */
  profile?: string;
  /** Maintain a catalog in a new collection. */
  catalog?: boolean;
  /**
   * Fill the collection's variables a product lacks with their fill value
   * (default: refuse a product lacking variables that a stored partition
   * holds, since writing it would delete their values).
   */
  fillMissing?: boolean;
  /** Decoded bytes kept in memory between the check and the write pass (default `KEEP_BYTES` of ./ingest.ts). */
  keepBytes?: number;
  /**
   * A queue URL (`redis://host:port` or `postgres://host:port/db`): the partitions are written by the
   * `zcollection worker` processes of that queue (see ./ingest-tasks.ts).
   */
  executor?: string;
  /** No progress lines on stderr (`--quiet`); warnings and errors are still printed. */
  quiet?: boolean;
}

/** The partitioning named by `--key` for rows along `axis`. */
export function partitioningFor(
  key: IngestKey,
  axis: string,
  timeVariable: string,
  resolution: Resolution,
): Partitioning {
  switch (key) {
    case "date":
      return new DatePartitioning(timeVariable, { resolution, dimension: axis });
    case "cycle":
      return new Sequence(["cycle_number"], { dimension: axis });
    case "cycle_pass":
      return new Sequence(["cycle_number", "pass_number"], { dimension: axis });
  }
}

/** The flags of `ingest` that create a partitioning. */
export interface PartitioningFlags {
  key: IngestKey;
  /** For `key: "date"`. */
  resolution?: Resolution;
  /** For `key: "date"`: the datetime variable. */
  time?: string;
}

/**
 * The `--key`, `--resolution` and `--time` that create `p`, or undefined
 * for a partitioning the command line cannot create (a sequence of other
 * variables...).
 */
export function partitioningFlags(p: Partitioning): PartitioningFlags | undefined {
  if (p instanceof DatePartitioning) return { key: "date", resolution: p.resolution, time: p.variable };
  if (p.name !== "sequence") return undefined;
  const vars = p.axis.join(",");
  if (vars === "cycle_number") return { key: "cycle" };
  if (vars === "cycle_number,pass_number") return { key: "cycle_pass" };
  return undefined;
}

/** `p` in the words of the command line: `--key date --resolution D --time time`, or its JSON. */
export function describePartitioning(p: Partitioning): string {
  const flags = partitioningFlags(p);
  if (flags === undefined) return `partitioning ${JSON.stringify(p.toJSON())}`;
  let text = `--key ${flags.key}`;
  if (flags.resolution !== undefined) text += ` --resolution ${flags.resolution}`;
  if (flags.time !== undefined) text += ` --time ${flags.time}`;
  return text;
}

/**
 * Checks `--key`, `--resolution` and `--time` against the partitioning of
 * the existing collection at `url`: a flag left out takes the collection's
 * value; a flag given must agree with it.
 *
 * @throws UsageError naming the values given and the collection's, e.g.
 *   `the collection at 'cols/x' is partitioned with --key date --resolution D --time time, not --resolution M`.
 */
export function checkPartitioningFlags(
  opts: Pick<IngestOptions, "key" | "resolution" | "time">,
  existing: Partitioning,
  url: string,
): void {
  const have = partitioningFlags(existing);
  const wrong: string[] = [];
  if (opts.key !== undefined && opts.key !== have?.key) wrong.push(`--key ${opts.key}`);
  if (opts.resolution !== undefined && opts.resolution !== have?.resolution) {
    wrong.push(`--resolution ${opts.resolution}`);
  }
  if (opts.time !== undefined && opts.time !== have?.time) wrong.push(`--time ${opts.time}`);
  if (wrong.length > 0) {
    throw new UsageError(
      `the collection at '${url}' is partitioned with ${describePartitioning(existing)}, not ${wrong.join(" ")}`,
    );
  }
}

/**
 * Checks the flags that cannot go together, whatever the collection.
 *
 * @throws UsageError for `--resolution`/`--time` with another `--key` than
 *   date, and the merge options refused
 *   by {@link mergeStrategy}.
 */
export function checkFlagCombinations(opts: IngestOptions): void {
  mergeStrategy(opts);
  for (const [flag, given] of [
    ["--resolution", opts.resolution !== undefined],
    ["--time", opts.time !== undefined],
  ] as const) {
    if (given && opts.key !== undefined && opts.key !== "date") {
      throw new UsageError(`${flag} applies to --key date only (got --key ${opts.key})`);
    }
  }
}

/** A file given more than once, and the argument that is ingested instead. */
export interface Duplicate {
  /** The argument skipped. */
  readonly file: string;
  /** The earlier argument naming the same file. */
  readonly same: string;
}

/**
 * The input files without repetitions, in the order first given: two
 * arguments are the same file when they resolve to the same absolute path
 * (`a.nc`, `./a.nc`, `/cwd/a.nc`); URLs (`s3://...`) when they are equal.
 */
export function uniqueFiles(files: readonly string[]): { files: string[]; duplicates: Duplicate[] } {
  const seen = new Map<string, string>();
  const unique: string[] = [];
  const duplicates: Duplicate[] = [];
  for (const file of files) {
    const identity = /^[a-z][a-z0-9+.-]*:\/\//i.test(file) ? file : resolve(file);
    const same = seen.get(identity);
    if (same === undefined) {
      seen.set(identity, file);
      unique.push(file);
    } else duplicates.push({ file, same });
  }
  return { files: unique, duplicates };
}

/** The stderr line reporting a skipped duplicate. */
export function duplicateLine(d: Duplicate): string {
  return d.file === d.same
    ? `skipped duplicate '${d.file}' (already given)`
    : `skipped duplicate '${d.file}' (same file as '${d.same}')`;
}

/**
 * The merge strategy of the options, as a function comparing the rows by
 * `compare` (the variable `time_series` and the upserts match rows on).
 * Without a strategy the library default applies (the new rows replace the
 * partition); `ingest` passes `time_series` by default for date partitionings.
 *
 * @throws UsageError for `upsert_within` without `--tolerance`, a tolerance
 *   with another strategy, or an unreadable tolerance.
 */
export function mergeStrategy(
  opts: Pick<IngestOptions, "merge" | "tolerance">,
  compare?: string,
): MergeStrategy | undefined {
  if (opts.tolerance !== undefined && opts.merge !== "upsert_within") {
    throw new UsageError(
      `--tolerance applies to --merge upsert_within only (got --merge ${opts.merge ?? "replace"})`,
    );
  }
  const on =
    (fn: MergeCallable): MergeCallable =>
    (existing, inserted, o) =>
      fn(existing, inserted, compare === undefined ? o : { ...o, axis: compare });
  switch (opts.merge) {
    case undefined:
    case "replace":
    case "concat":
      return opts.merge;
    case "time_series":
      return on(merge.timeSeries);
    case "upsert":
      return on(merge.upsert);
    case "upsert_within": {
      if (opts.tolerance === undefined)
        throw new UsageError("--merge upsert_within needs --tolerance (e.g. 500ms)");
      const t = opts.tolerance.trim();
      try {
        return on(merge.upsertWithin(/^[+-]?\d+(\.\d+)?$/.test(t) ? Number(t) : t));
      } catch (err) {
        throw new UsageError(`--tolerance: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}

/**
 * The variable the merge strategies compare: the root variable named like
 * the axis (docs/behaviour.md §8.4), or else the datetime variable of a date
 * partitioning (swaths whose axis is a bare dimension such as `NUMROWS`).
 *
 * @throws UsageError when `time_series`/`upsert` have nothing to compare.
 */
export function compareVariable(
  schema: DatasetSchema,
  axis: string,
  partitioning: Partitioning,
  strategy: IngestMerge | undefined,
): string | undefined {
  if (strategy !== "time_series" && strategy !== "upsert" && strategy !== "upsert_within") return undefined;
  const isRow = (name: string) => {
    const v = schema.variables.get(name);
    return v !== undefined && v.dimensions.length === 1 && v.dimensions[0] === axis;
  };
  if (isRow(axis)) return axis;
  if (partitioning instanceof DatePartitioning && isRow(partitioning.variable)) return partitioning.variable;
  throw new UsageError(
    `--merge ${strategy} compares rows by a 1-D variable along '${axis}'; the collection has neither '${axis}' nor a date partitioning variable`,
  );
}
