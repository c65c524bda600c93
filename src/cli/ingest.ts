/**
 * `zcollection ingest <url> <files...>`: NetCDF products into a collection,
 * which is opened, or created from the first file when it does not exist.
 *
 * Plan, then write:
 * 1. Open the target read-write; when it does not exist, `--key` decides
 *   the partitioning and `--profile`/`--catalog` the new collection.
 * 2. Read every file (`openNetCDF`: group lifting, variable selection, CF
 *   decoding), add the key variables a sequence partitioning needs, and
 *   check it against the collection schema (or the schema of the first
 *   file): unknown variables, dimensions, lossy casts, partition keys. Any
 *   error names the file and stops the command before anything is written,
 *   so a bad file leaves the collection as it was.
 * 3. Create the collection if needed, then insert the files one dataset per
 *   file, in command-line order, with the merge strategy.
 *
 * Decoded datasets are kept in memory between the two passes up to
 * {@link KEEP_BYTES}; beyond that, files are read again for the write pass.
 *
 * @module
 */

import { basename } from "node:path";
import type { Collection } from "../collection/index.js";
import { createCollection, openCollection } from "../collection/index.js";
import * as config from "../config.js";
import { Dataset } from "../data/index.js";
import { type DType, isDatetime } from "../dtype.js";
import { isZCollectionError, SchemaError, StoreError } from "../errors.js";
import type { MergeCallable, MergeStrategy } from "../merge/index.js";
import * as merge from "../merge/index.js";
import { NDArray } from "../ndarray.js";
import type { OpenNetCDFOptions } from "../netcdf/index.js";
import { DatePartitioning, type Partitioning, type Resolution, Sequence } from "../partitioning/index.js";
import { type DatasetSchema, SchemaBuilder } from "../schema/index.js";
import { megabytes } from "./format.js";
import { type CliIO, UsageError } from "./io.js";
import { progressBar } from "./progress.js";

/** How rows are keyed into partitions. */
export type IngestKey = "date" | "cycle" | "cycle_pass";

/** The merge strategies the command line offers. */
export type IngestMerge = "replace" | "concat" | "time_series" | "upsert" | "upsert_within";

/** Options of {@link ingest}. */
export interface IngestOptions {
  /** Partitioning of a new collection; checked against an existing one. */
  key?: IngestKey;
  /** Date resolution for `key: "date"` (default `D`). */
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
  /** Decoded bytes kept in memory between the check and the write pass (default {@link KEEP_BYTES}). */
  keepBytes?: number;
  /**
   * A queue URL (`redis://host:port` or `postgres://host:port/db`): the partitions are written by the
   * `zcollection worker` processes of that queue (see ./ingest-tasks.ts).
   */
  executor?: string;
}

/** What an ingest did (the figures of its summary line). */
export interface IngestSummary {
  /** Files ingested. */
  files: number;
  /** Rows ingested (along the partition axis), over all files. */
  rows: number;
  /** Distinct partitions written. */
  partitions: number;
  /** Decoded bytes of the data ingested. */
  bytes: number;
  /** Wall-clock seconds of the whole command. */
  seconds: number;
}

/** Decoded bytes kept in memory between the check and the write pass. */
export const KEEP_BYTES = 512 * 1024 * 1024;

/** Prefixes the message of a library error with the file it concerns (unless it already names it). */
function naming(err: unknown, file: string): unknown {
  if (isZCollectionError(err)) {
    if (!err.message.includes(file)) err.message = `'${file}': ${err.message}`;
    return err;
  }
  if (err instanceof Error && err.name === "AbortError") return err;
  const message = err instanceof Error ? err.message : String(err);
  return new StoreError(`'${file}': cannot read the file: ${message}`, { key: file, cause: err });
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

/**
 * The datetime variable a date partitioning splits on: `wanted`, else the
 * root variable named like the axis, else `time`, else the only 1-D root
 * datetime variable along the axis.
 *
 * @throws SchemaError when there is none, or several to choose from.
 */
export function findTimeVariable(ds: Dataset, axis: string, wanted?: string): string {
  const isTime = (name: string) => {
    const v = ds.variables.get(name);
    return v !== undefined && isDatetime(v.dtype) && v.dimensions.length === 1 && v.dimensions[0] === axis;
  };
  if (wanted !== undefined) {
    if (!isTime(wanted)) {
      throw new SchemaError(`'${wanted}' is not a 1-D datetime variable along '${axis}'`, {
        variable: wanted,
      });
    }
    return wanted;
  }
  for (const name of [axis, "time"]) if (isTime(name)) return name;
  const candidates = [...ds.variables.keys()].filter(isTime);
  if (candidates.length === 1) return candidates[0] as string;
  throw new SchemaError(
    candidates.length === 0
      ? `no 1-D datetime variable along '${axis}' to partition by date`
      : `several datetime variables along '${axis}' (${candidates.join(", ")}): choose one with --time`,
    { dimension: axis },
  );
}

/** An integer from an attribute or 0-d/1-element value, or undefined. */
function integerOf(value: unknown): number | bigint | undefined {
  let v = value;
  if (Array.isArray(v) || ArrayBuffer.isView(v)) {
    const items = Array.from(v as ArrayLike<unknown>);
    if (items.length !== 1) return undefined;
    v = items[0];
  }
  if (typeof v === "bigint") return v;
  if (typeof v === "number") return Number.isInteger(v) ? v : undefined;
  if (typeof v === "string" && /^\s*[+-]?\d+\s*$/.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : BigInt(v.trim());
  }
  return undefined;
}

/**
 * `ds` with the integer key variables of a sequence partitioning: a root
 * variable of that name along `axis` is used as it is; a 0-d (or
 * one-element) variable or a global attribute of that name is repeated on
 * every row, as int32 (int64 beyond the int32 range, whatever the type of
 * the attribute or variable, so that files agree on the dtype).
 *
 * @throws SchemaError naming the key variable when the file has neither.
 */
export function withKeyVariables(
  ds: Dataset,
  schema: DatasetSchema,
  axis: string,
  names: readonly string[],
): {
  dataset: Dataset;
  schema: DatasetSchema;
} {
  const rows = ds.dimensions[axis];
  if (rows === undefined)
    throw new SchemaError(`the dataset has no dimension '${axis}'`, { dimension: axis });
  const added = new Map<string, NDArray>();
  for (const name of names) {
    const v = ds.variables.get(name);
    if (v !== undefined && v.dimensions.length === 1 && v.dimensions[0] === axis) continue;
    let value: number | bigint | undefined;
    let origin: string;
    if (v !== undefined && v.data !== null && (v.data as NDArray).size === 1) {
      value = integerOf((v.data as NDArray).at(0));
      origin = `variable '${name}'`;
    } else if (v !== undefined) {
      throw new SchemaError(`variable '${name}' is neither 1-D along '${axis}' nor a single value`, {
        variable: name,
      });
    } else {
      value = integerOf(ds.attrs[name]);
      origin = `global attribute '${name}'`;
      if (!(name in ds.attrs)) {
        throw new SchemaError(`no variable or global attribute '${name}' to partition by`, {
          variable: name,
        });
      }
    }
    if (value === undefined) {
      throw new SchemaError(`${origin} is not an integer: ${String(v?.data ?? ds.attrs[name])}`, {
        variable: name,
      });
    }
    const small = value >= -(2 ** 31) && value < 2 ** 31;
    const dtype: DType = small ? "int32" : "int64";
    added.set(name, NDArray.full(dtype, [rows], small ? Number(value) : BigInt(value)));
  }
  if (added.size === 0) return { dataset: ds, schema };
  const builder = SchemaBuilder.from(schema);
  for (const [name, data] of added) builder.withVariable(name, { dtype: data.dtype, dimensions: [axis] });
  const next = builder.build();
  const arrays = new Map<string, NDArray>();
  for (const [path, v] of ds.allVariables()) {
    if (!added.has(path) && v.data !== null) arrays.set(path, v.data as NDArray);
  }
  for (const [name, data] of added) arrays.set(name, data);
  return { dataset: Dataset.fromArrays(next, arrays, { attrs: ds.attrs }), schema: next };
}

/**
 * `ds` checked against `schema` (bound to its axis) and cast to its dtypes:
 * every variable must exist there with the same dimensions; a variable the
 * schema has and the file lacks is allowed.
 *
 * @throws SchemaError listing the variables not in the schema, or naming a
 *   variable whose dimensions or values do not fit (lossy cast, size).
 */
export function conform(ds: Dataset, schema: DatasetSchema): Dataset {
  const vars = ds.allVariables();
  const unknown = [...vars.keys()].filter((p) => !schema.hasVariable(p));
  if (unknown.length > 0) {
    const shown =
      unknown.slice(0, 10).join(", ") + (unknown.length > 10 ? ` ... (${unknown.length - 10} more)` : "");
    throw new SchemaError(
      `${unknown.length} variable(s) not in the collection schema: ${shown}`,
      unknown.length === 1 ? { variable: unknown[0] as string } : {},
    );
  }
  const arrays = new Map<string, NDArray>();
  for (const [path, v] of vars) {
    const vs = schema.getVariable(path);
    if (vs.dimensions.join(",") !== v.dimensions.join(",")) {
      throw new SchemaError(
        `variable '${path}' has dimensions (${v.dimensions.join(", ")}) but the collection declares (${vs.dimensions.join(", ")})`,
        { variable: path },
      );
    }
    if (v.data !== null) arrays.set(path, v.data as NDArray);
  }
  return Dataset.fromArrays(schema, arrays, { attrs: ds.attrs });
}

/** Reads one product as the options say. */
async function readProduct(file: string, opts: IngestOptions, signal?: AbortSignal) {
  const { openNetCDF } = await import("../netcdf/index.js");
  const o: OpenNetCDFOptions = {};
  if (opts.group !== undefined) o.group = opts.group;
  if (opts.variables !== undefined) o.variables = opts.variables;
  if (opts.excludeDimensions !== undefined) o.excludeDimensions = opts.excludeDimensions;
  if (opts.axis !== undefined) o.axis = opts.axis;
  if (signal !== undefined) o.signal = signal;
  return openNetCDF(file, o);
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
 * the axis (BEHAVIOUR §8.4), or else the datetime variable of a date
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

/** What the check pass learnt about one file. */
interface Planned {
  file: string;
  /** The checked dataset, or undefined when it did not fit in {@link KEEP_BYTES} (read again to write). */
  dataset: Dataset | undefined;
  rows: number;
  bytes: number;
  /** Partitions its rows go to. */
  paths: string[];
}

/** The outcome of the check pass: what to create (if needed) and write. */
interface Plan {
  files: Planned[];
  schema: DatasetSchema;
  axis: string;
  partitioning: Partitioning;
}

/** A short description of a partitioning for messages: its JSON. */
function describe(p: Partitioning): string {
  return JSON.stringify(p.toJSON());
}

/**
 * Opens the target read-write, or returns undefined when there is none
 * (then `--key` is required). Checks `--key` against an existing
 * collection's partitioning and warns that `--profile`/`--catalog` do not
 * apply to it.
 */
async function openTarget(url: string, opts: IngestOptions, io: CliIO): Promise<Collection | undefined> {
  let col: Collection;
  try {
    col = await openCollection(url, { mode: "rw", ...(io.signal ? { signal: io.signal } : {}) });
  } catch (err) {
    if (!isZCollectionError(err, "CollectionNotFoundError")) throw err;
    if (opts.key === undefined) {
      throw new UsageError(`no collection at '${url}': give --key date|cycle|cycle_pass to create one`);
    }
    return undefined;
  }
  if (opts.key !== undefined) {
    const current = col.partitioning;
    const date = current instanceof DatePartitioning ? current : undefined;
    const asked = partitioningFor(
      opts.key,
      col.axis,
      opts.time ?? date?.variable ?? "time",
      opts.resolution ?? date?.resolution ?? "D",
    );
    if (describe(asked) !== describe(current)) {
      throw new UsageError(
        `--key ${opts.key} asks for partitioning ${describe(asked)} but the collection at '${url}' uses ${describe(current)}`,
      );
    }
  }
  for (const [flag, given] of [
    ["--profile", opts.profile !== undefined],
    ["--catalog", opts.catalog === true],
  ] as const) {
    if (given) io.stderr.write(`warning: ${flag} is ignored: the collection at '${url}' exists\n`);
  }
  return col;
}

/**
 * Reads one file with its key variables; for an existing collection (or
 * the first file's settings) the axis must match.
 */
export async function prepare(
  file: string,
  opts: IngestOptions,
  known: { axis?: string; partitioning?: Partitioning },
  signal?: AbortSignal,
): Promise<{ dataset: Dataset; schema: DatasetSchema; axis: string }> {
  const opened = await readProduct(file, opts, signal);
  if (known.axis !== undefined && opened.axis !== known.axis) {
    throw new SchemaError(
      `the partition axis of the file is '${opened.axis}' but the collection's is '${known.axis}' (choose it with --axis)`,
      { dimension: opened.axis },
    );
  }
  const p = known.partitioning;
  const keys =
    p !== undefined
      ? p.name === "date"
        ? []
        : [...p.axis]
      : opts.key === "cycle"
        ? ["cycle_number"]
        : opts.key === "cycle_pass"
          ? ["cycle_number", "pass_number"]
          : [];
  const { dataset, schema } = withKeyVariables(opened.dataset, opened.schema, opened.axis, keys);
  return { dataset, schema, axis: opened.axis };
}

/**
 * The check pass: every file read, given its key variables, conformed to
 * the collection schema (the first file's for a new collection) and split
 * into partitions, before anything is written.
 *
 * @throws errors naming the file (see {@link naming}).
 */
async function planIngest(
  files: readonly string[],
  opts: IngestOptions,
  col: Collection | undefined,
  progress: (done: number, label: string) => void,
  signal?: AbortSignal,
): Promise<Plan> {
  const known: { axis?: string; partitioning?: Partitioning; schema?: DatasetSchema } =
    col === undefined ? {} : { axis: col.axis, partitioning: col.partitioning, schema: col.schema };
  let kept = 0;
  const planned: Planned[] = [];
  for (const [i, file] of files.entries()) {
    progress(i, `reading ${basename(file)}`);
    try {
      const { dataset, schema, axis } = await prepare(file, opts, known, signal);
      if (known.partitioning === undefined) {
        // First file of a new collection: it decides the schema, the axis and the partitioning.
        const time = opts.key === "date" ? findTimeVariable(dataset, axis, opts.time) : "";
        known.partitioning = partitioningFor(opts.key as IngestKey, axis, time, opts.resolution ?? "D");
        known.axis = axis;
        known.schema = schema.withPartitionAxis(axis);
      }
      const checked = conform(dataset, known.schema as DatasetSchema);
      const bytes = checked.nbytes;
      const keep = kept + bytes <= (opts.keepBytes ?? KEEP_BYTES);
      if (keep) kept += bytes;
      planned.push({
        file,
        dataset: keep ? checked : undefined,
        rows: checked.dimensions[axis] ?? 0,
        bytes,
        paths: [...new Set(known.partitioning.splitGrouped(checked).map((g) => g.path))],
      });
    } catch (err) {
      throw naming(err, file);
    }
  }
  return {
    files: planned,
    schema: known.schema as DatasetSchema,
    axis: known.axis as string,
    partitioning: known.partitioning as Partitioning,
  };
}

/** Warns when, with `replace`, a file of this run overwrites a partition an earlier file of the run wrote. */
function warnReplaced(plan: Plan, io: CliIO): void {
  const writer = new Map<string, string>();
  for (const p of plan.files) {
    for (const path of p.paths) {
      const previous = writer.get(path);
      if (previous !== undefined && previous !== p.file) {
        io.stderr.write(
          `warning: '${p.file}' replaces partition ${path} written from '${previous}' (--merge concat, time_series or upsert combine them)\n`,
        );
      }
      writer.set(path, p.file);
    }
  }
}

/**
 * Ingests `files` into the collection at `url` (see the module
 * documentation) and prints the summary line `ingested F file(s): R rows,
 * P partition(s) written, X MB decoded, S s`.
 *
 * @throws UsageError (exit 1) for options that contradict each other or the
 *   existing collection; SchemaError / StoreError / PartitionError naming
 *   the file (exit 2) for a file that cannot be read or does not fit, before
 *   anything is written.
 */
export async function ingest(
  url: string,
  files: readonly string[],
  opts: IngestOptions,
  io: CliIO,
): Promise<number> {
  const started = performance.now();
  const signal = io.signal;
  mergeStrategy(opts); // usage errors first
  for (const [flag, given] of [
    ["--resolution", opts.resolution !== undefined],
    ["--time", opts.time !== undefined],
  ] as const) {
    if (given && opts.key !== undefined && opts.key !== "date") {
      throw new UsageError(`${flag} applies to --key date only (got --key ${opts.key})`);
    }
  }
  const existing = await openTarget(url, opts, io);
  const bar = progressBar(io.stderr, "ingest");
  const total = files.length * 2;

  const work = async (): Promise<Omit<IngestSummary, "seconds">> => {
    const plan = await planIngest(
      files,
      opts,
      existing,
      (done, label) => bar.update({ done, total, label }),
      signal,
    );
    // Date partitions gather several products (passes of one day): by default a new product
    // replaces only the rows inside its own time window. One product per cycle/pass partition:
    // by default it replaces the partition.
    const mergeName = opts.merge ?? (plan.partitioning.name === "date" ? "time_series" : undefined);
    const strategy = mergeStrategy(
      { ...opts, merge: mergeName },
      compareVariable(plan.schema, plan.axis, plan.partitioning, mergeName),
    );
    if (strategy === undefined || strategy === "replace") warnReplaced(plan, io);

    const col =
      existing ??
      (await createCollection(url, {
        schema: plan.schema,
        axis: plan.axis,
        partitioning: plan.partitioning,
        ...(opts.catalog === true ? { catalogEnabled: true } : {}),
      }));
    const written = new Set<string>();
    if (opts.executor !== undefined) {
      const last = plan.files[plan.files.length - 1] as Planned;
      const { ingestOnExecutor } = await import("./ingest-tasks.js");
      const paths = await ingestOnExecutor(
        col,
        plan.files,
        async () =>
          last.dataset ?? conform((await prepare(last.file, opts, plan, signal)).dataset, col.schema),
        mergeName,
        opts,
        opts.executor,
        {
          signal,
          onProgress: (done, all, label) =>
            bar.update({ done: files.length + Math.round((done / all) * files.length), total, label }),
        },
      );
      for (const path of paths) written.add(path);
    }
    for (const [i, p] of (opts.executor === undefined ? plan.files : []).entries()) {
      let ds = p.dataset;
      if (ds === undefined) {
        try {
          ds = conform((await prepare(p.file, opts, plan, signal)).dataset, col.schema);
        } catch (err) {
          throw naming(err, p.file);
        }
      }
      p.dataset = undefined; // release the memory as we go
      const paths = await col.insert(ds, {
        ...(strategy === undefined ? {} : { merge: strategy }),
        ...(opts.fillMissing === true ? { fillMissing: true } : {}),
        onProgress: (q) =>
          bar.update({ done: files.length + i, total, label: `writing ${q.partition ?? ""}` }),
        ...(signal ? { signal } : {}),
      });
      for (const path of paths) written.add(path);
      bar.update({ done: files.length + i + 1, total, label: basename(p.file) });
    }
    return {
      files: plan.files.length,
      rows: plan.files.reduce((n, p) => n + p.rows, 0),
      partitions: written.size,
      bytes: plan.files.reduce((n, p) => n + p.bytes, 0),
    };
  };

  let done: Omit<IngestSummary, "seconds">;
  try {
    // A new collection's variables take their codecs from the profile in force when their schema is built.
    done = await (existing === undefined && opts.profile !== undefined
      ? config.override({ "codec.profile": opts.profile }, work)
      : work());
  } finally {
    bar.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  io.stdout.write(
    `ingested ${done.files} file(s): ${done.rows} rows, ${done.partitions} partition(s) written, ` +
      `${megabytes(done.bytes)} MB decoded, ${seconds.toFixed(2)} s\n`,
  );
  return 0;
}
