/**
 * `zcollection ingest <url> <files...>`: NetCDF products into a collection,
 * which is opened, or created from the first file when it does not exist.
 *
 * Plan, then write:
 * 1. Check the flags (./ingest-options.ts), skip the files given twice,
 *   open the target read-write; when it does not exist, `--key` decides
 *   the partitioning and `--profile`/`--catalog` the new collection; when
 *   it exists, `--key`/`--resolution`/`--time` must agree with it.
 * 2. Read every file (`openNetCDF`: group lifting, variable selection, CF
 *   decoding, packed integers kept with `--keep-packed`), add the key
 *   variables a sequence partitioning needs, and check it against the
 *   collection schema (or the schema of the first file): unknown
 *   variables, dimensions, packing, lossy casts, partition keys
 *   (./ingest-data.ts). Any error names the file and stops the command
 *   before anything is written, so a bad file leaves the collection as it
 *   was.
 * 3. Create the collection if needed, then insert the files one dataset per
 *   file, in command-line order, with the merge strategy.
 * 4. Print the summary: rows new and replaced in the partitions written
 *   (./ingest-summary.ts).
 *
 * Progress goes to stderr: a bar on a terminal, else one line per file read
 * and per partition written (none with `--quiet`).
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
import type { Dataset } from "../data/index.js";
import { combineProductAttrs, SOURCE_PRODUCTS_ATTR } from "../data/product-attrs.js";
import { isZCollectionError, StoreError } from "../errors.js";
import type { Partitioning } from "../partitioning/index.js";
import type { DatasetSchema } from "../schema/index.js";
import { conform, findTimeVariable, prepare } from "./ingest-data.js";
import {
  checkFlagCombinations,
  checkPartitioningFlags,
  compareVariable,
  duplicateLine,
  type IngestKey,
  type IngestOptions,
  mergeStrategy,
  partitioningFor,
  uniqueFiles,
} from "./ingest-options.js";
import { type IngestSummary, rowFigures, storedRows, summaryLine } from "./ingest-summary.js";
import { type CliIO, UsageError } from "./io.js";
import { type WorkReporter, workProgress } from "./progress.js";

export { conform, findTimeVariable, prepare, withKeyVariables } from "./ingest-data.js";
export {
  compareVariable,
  type IngestKey,
  type IngestMerge,
  type IngestOptions,
  mergeStrategy,
  partitioningFor,
} from "./ingest-options.js";
export type { IngestSummary } from "./ingest-summary.js";

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

/**
 * Opens the target read-write, or returns undefined when there is none
 * (then `--key` is required). Checks `--key`, `--resolution` and `--time`
 * against an existing collection's partitioning and warns that
 * `--profile`/`--catalog` do not apply to it.
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
  checkPartitioningFlags(opts, col.partitioning, url);
  for (const [flag, given] of [
    ["--profile", opts.profile !== undefined],
    ["--catalog", opts.catalog === true],
  ] as const) {
    if (given) io.stderr.write(`warning: ${flag} is ignored: the collection at '${url}' exists\n`);
  }
  return col;
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
  progress: WorkReporter,
  signal?: AbortSignal,
): Promise<Plan> {
  const known: { axis?: string; partitioning?: Partitioning; schema?: DatasetSchema } =
    col === undefined ? {} : { axis: col.axis, partitioning: col.partitioning, schema: col.schema };
  let kept = 0;
  const planned: Planned[] = [];
  // A new collection's root attributes: what every file agrees on, not the first file's orbit number.
  const fileAttrs: Array<Readonly<Record<string, unknown>>> = [];
  for (const [i, file] of files.entries()) {
    progress.update({ done: i, total: files.length * 2, label: `reading ${basename(file)}` });
    try {
      const { dataset, schema, axis } = await prepare(file, opts, known, signal);
      if (known.partitioning === undefined) {
        // First file of a new collection: it decides the schema, the axis and the partitioning.
        const time = opts.key === "date" ? findTimeVariable(dataset, axis, opts.time) : "";
        known.partitioning = partitioningFor(opts.key as IngestKey, axis, time, opts.resolution ?? "D");
        known.axis = axis;
        known.schema = schema.withPartitionAxis(axis);
      }
      if (col === undefined) fileAttrs.push(dataset.attrs);
      const checked = conform(dataset, known.schema as DatasetSchema);
      const bytes = checked.nbytes;
      const keep = kept + bytes <= (opts.keepBytes ?? KEEP_BYTES);
      if (keep) kept += bytes;
      const p: Planned = {
        file,
        dataset: keep ? checked : undefined,
        rows: checked.dimensions[axis] ?? 0,
        bytes,
        paths: [...new Set(known.partitioning.splitGrouped(checked).map((g) => g.path))],
      };
      planned.push(p);
      progress.line(`read ${file}: ${p.rows} rows, ${p.paths.length} partition(s)`);
    } catch (err) {
      throw naming(err, file);
    }
  }
  const { [SOURCE_PRODUCTS_ATTR]: _products, ...agreed } = combineProductAttrs(...fileAttrs);
  return {
    files: planned,
    schema:
      col === undefined
        ? ((known.schema as DatasetSchema).copyWith({ attrs: agreed }) as DatasetSchema)
        : col.schema,
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

/** The write pass: the planned files into `col`, one insert per file (or on the executor's workers). */
async function writePlan(
  col: Collection,
  plan: Plan,
  opts: IngestOptions,
  mergeName: IngestOptions["merge"],
  progress: WorkReporter,
  signal: AbortSignal | undefined,
): Promise<Omit<IngestSummary, "seconds" | "files" | "bytes">> {
  const strategy = mergeStrategy(
    { ...opts, merge: mergeName },
    compareVariable(plan.schema, plan.axis, plan.partitioning, mergeName),
  );
  const n = plan.files.length;
  const total = n * 2;
  const rowsRead = plan.files.reduce((k, p) => k + p.rows, 0);
  const before = new Map<string, number>();
  const countBefore = async (paths: readonly string[]) => {
    const fresh = paths.filter((p) => !before.has(p));
    for (const [p, rows] of await storedRows(col, fresh, signal)) before.set(p, rows);
  };
  const written = new Set<string>();
  if (opts.executor !== undefined) {
    await countBefore(plan.files.flatMap((p) => p.paths));
    const last = plan.files[n - 1] as Planned;
    const { ingestOnExecutor } = await import("./ingest-tasks.js");
    const paths = await ingestOnExecutor(
      col,
      plan.files,
      async () => last.dataset ?? conform((await prepare(last.file, opts, plan, signal)).dataset, col.schema),
      mergeName,
      opts,
      opts.executor,
      {
        signal,
        onProgress: (done, all, label) => {
          progress.update({ done: n + Math.round((done / all) * n), total, label });
          progress.line(`wrote ${label}`);
        },
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
    await countBefore(p.paths);
    const paths = await col
      .insert(ds, {
        ...(strategy === undefined ? {} : { merge: strategy }),
        ...(opts.fillMissing === true ? { fillMissing: true } : {}),
        onProgress: (q) => {
          progress.update({ done: n + i, total, label: `writing ${q.partition ?? ""}` });
          if (q.partition !== undefined) progress.line(`wrote ${q.partition} from ${p.file}`);
        },
        ...(signal ? { signal } : {}),
      })
      .catch((err: unknown) => {
        // A product that does not fit the stored partitions (missing variables...): name it.
        throw isZCollectionError(err, "SchemaError") ? naming(err, p.file) : err;
      });
    for (const path of paths) written.add(path);
    progress.update({ done: n + i + 1, total, label: basename(p.file) });
  }
  const after = await storedRows(col, before.keys(), signal);
  return { ...rowFigures(rowsRead, before, after), partitions: written.size };
}

/**
 * Ingests `files` into the collection at `url` (see the module
 * documentation) and prints the summary line (./ingest-summary.ts):
 * `ingested F file(s): N new rows, R rows replaced, P partition(s) written,
 * X MB decoded, S s`. A file given twice is ingested once (a line on stderr
 * says so).
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
  checkFlagCombinations(opts); // usage errors first
  const unique = uniqueFiles(files);
  for (const d of unique.duplicates) io.stderr.write(`${duplicateLine(d)}\n`);
  const existing = await openTarget(url, opts, io);
  const progress = workProgress(io.stderr, "ingest", opts.quiet === true ? { quiet: true } : {});

  const work = async (): Promise<Omit<IngestSummary, "seconds">> => {
    const plan = await planIngest(unique.files, opts, existing, progress, signal);
    // Date partitions gather several products (passes of one day): by default a new product
    // replaces only the rows inside its own time window. One product per cycle/pass partition:
    // by default it replaces the partition.
    const mergeName = opts.merge ?? (plan.partitioning.name === "date" ? "time_series" : undefined);
    if (mergeName === undefined || mergeName === "replace") warnReplaced(plan, io);
    // Usage errors of the merge (nothing to compare rows by) before the collection is created.
    compareVariable(plan.schema, plan.axis, plan.partitioning, mergeName);
    const col =
      existing ??
      (await createCollection(url, {
        schema: plan.schema,
        axis: plan.axis,
        partitioning: plan.partitioning,
        ...(opts.catalog === true ? { catalogEnabled: true } : {}),
      }));
    const figures = await writePlan(col, plan, opts, mergeName, progress, signal);
    return { ...figures, files: plan.files.length, bytes: plan.files.reduce((k, p) => k + p.bytes, 0) };
  };

  let done: Omit<IngestSummary, "seconds">;
  try {
    // A new collection's variables take their codecs from the profile in force when their schema is built.
    done = await (existing === undefined && opts.profile !== undefined
      ? config.override({ "codec.profile": opts.profile }, work)
      : work());
  } finally {
    progress.stop();
  }
  io.stdout.write(`${summaryLine({ ...done, seconds: (performance.now() - started) / 1000 })}\n`);
  return 0;
}
