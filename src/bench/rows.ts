/**
 * `node dist/bench/rows.js`: what reading only the rows an index selects
 * (`collection.query({ rows })`) saves over reading their whole partition.
 *
 * Data: the two Sentinel-6A products bundled in `examples/data/` (cycle 14,
 * passes 191 and 192, 600 one-second records each, group `/data_01` lifted
 * to the root, 111 variables in `/` and `/ku`), with `cycle_number` and
 * `pass_number` variables added from their global attributes, stored as one
 * day partition (`Date(["time"], {resolution: "D"})`), `time` in chunks of
 * `--chunks` rows and the codecs of the default profile (`cloud-balanced`:
 * zstd 3, sharded; here one shard per variable). `--passes N` (N > 2)
 * makes a fuller day of N products: the real ones followed by copies of
 * them shifted by 600 s each (pass numbers 193, 194, …), the last ending
 * before midnight (N ≤ 139).
 *
 * The row range of each pass comes from the stored `pass_number` variable
 * (consecutive equal values: what an index built on it returns). Then, on a
 * {@link CountingStore} reset before each timed call:
 * - `query_partition`: `query({ filters })` of the whole day partition;
 * - `query_rows_pass`: `query({ rows })` of the first pass only;
 * each `--repeat` times (interleaved); the rows read are checked against
 * the same rows cut from the whole partition, value by value.
 *
 * Stores: a temporary `file://` directory (or `--store URL`), and with
 * `--moto` also a local S3 server (`moto_server` spawned on a free port of
 * 127.0.0.1 and stopped by PID).
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type Collection, createCollection, openCollection } from "../collection/index.js";
import { Dataset } from "../data/dataset.js";
import { concatRows, takeRows } from "../data/rows.js";
import { NDArray } from "../ndarray.js";
import { openNetCDF } from "../netcdf/index.js";
import { DatePartitioning } from "../partitioning/index.js";
import { type DatasetSchema, SchemaBuilder } from "../schema/index.js";
import { CountingStore, type StoreCounts } from "../store/counting.js";
import { openStore } from "../store/open.js";
import type { RangeQuery } from "../store/store.js";
import { positiveIntegerOption, runWhenInvoked } from "./entry.js";

/** The two Sentinel-6A products of `examples/data/` (consecutive passes of one day). */
export const S6A_PRODUCTS: readonly string[] = [
  "S6A_P4_2__HR_RED__NR_014_191_20210403T004056_20210403T005056_F00.nc",
  "S6A_P4_2__HR_RED__NR_014_192_20210403T005056_20210403T010056_F00.nc",
];

/** `examples/data/` of this package (from `src/bench` and `dist/bench` alike). */
export function defaultDataDir(): string {
  return fileURLToPath(new URL("../../examples/data/", import.meta.url));
}

/** A day of along-track products ready to insert. */
export interface AlongTrackDay {
  /** Every product, concatenated along `time`, with `cycle_number` and `pass_number`. */
  readonly dataset: Dataset;
  /** The products' schema with `time` rechunked and the two key variables. */
  readonly schema: DatasetSchema;
  /** The partition axis (`time`). */
  readonly axis: string;
  /** `Date(["time"], {resolution: "D"})` along the axis. */
  readonly partitioning: DatePartitioning;
}

/** Options of {@link alongTrackDay}. */
export interface AlongTrackDayOptions {
  /** Rows per chunk (inner chunk when sharded) along `time`. */
  chunks: number;
  /** Rows per shard along `time` (a multiple of `chunks`); default: the codec profile decides. */
  shards?: number | null;
  /**
   * Products in the day (default: one per file): beyond the files, copies
   * of them in turn, each shifted by the time the files span (600 s for the
   * two S6A products) and numbered after the last pass.
   */
  passes?: number;
}

/** An integer global attribute of a product. */
function intAttr(ds: Dataset, name: string, file: string): number {
  const v = ds.attrs[name];
  const n = Array.isArray(v) || ArrayBuffer.isView(v) ? Number((v as ArrayLike<unknown>)[0]) : Number(v);
  if (!Number.isSafeInteger(n)) throw new Error(`${file}: no integer global attribute '${name}'`);
  return n;
}

/**
 * Reads Sentinel-6A products (`/data_01` lifted to the root), adds
 * `cycle_number` and `pass_number` (int16 along `time`, from the global
 * attributes) and rechunks `time`, as one dataset ready for one insert into
 * a day partition.
 *
 * @throws Error when a product lacks the attributes or the products do not
 *   share a structure; NetCDF and schema errors as thrown.
 */
export async function alongTrackDay(
  files: readonly string[],
  opts: AlongTrackDayOptions,
): Promise<AlongTrackDay> {
  const products = [];
  for (const file of files) products.push({ file, ...(await openNetCDF(file, { group: "/data_01" })) });
  const first = products[0];
  if (first === undefined) throw new Error("no product given");
  const axis = first.axis;
  const schema = SchemaBuilder.from(first.schema)
    .withDimension(axis, { chunks: opts.chunks, shards: opts.shards ?? null })
    .withVariable("cycle_number", { dtype: "int16", dimensions: [axis] })
    .withVariable("pass_number", { dtype: "int16", dimensions: [axis] })
    .build();
  const passes = opts.passes ?? products.length;
  const times = products.map((p) => p.dataset.getVariable("time").array.data as BigInt64Array);
  const start = times[0]?.[0] ?? 0n;
  const last = times[times.length - 1] as BigInt64Array;
  // The time the products span, one step past the last record: the shift of each round of copies.
  const step = (last[last.length - 1] as bigint) - (last[last.length - 2] as bigint);
  const span = (last[last.length - 1] as bigint) + step - start;
  const lastProduct = products[products.length - 1] as (typeof products)[number];
  const lastPass = intAttr(lastProduct.dataset, "pass_number", lastProduct.file);
  const parts: Dataset[] = [];
  for (let k = 0; k < passes; k++) {
    const p = products[k % products.length] as (typeof products)[number];
    const round = Math.floor(k / products.length);
    const rows = p.dataset.getVariable("time").shape[0] as number;
    const arrays = new Map<string, NDArray>();
    for (const [path, v] of p.dataset.allVariables()) arrays.set(path, v.array);
    if (round > 0) {
      const time = arrays.get("time") as NDArray;
      const shift = BigInt(round) * span;
      const shifted = (time.data as BigInt64Array).map((x) => x + shift);
      arrays.set("time", new NDArray(time.dtype, time.shape, shifted as never));
    }
    const pass =
      k < products.length ? intAttr(p.dataset, "pass_number", p.file) : lastPass + k - products.length + 1;
    const cycle = intAttr(p.dataset, "cycle_number", p.file);
    const data = Dataset.fromArrays(
      schema,
      {
        ...Object.fromEntries(arrays),
        cycle_number: new Int16Array(rows).fill(cycle),
        pass_number: new Int16Array(rows).fill(pass),
      },
      { attrs: first.dataset.attrs },
    );
    parts.push(data);
  }
  return {
    dataset: parts.length === 1 ? (parts[0] as Dataset) : concatRows(parts, axis),
    schema,
    axis,
    partitioning: new DatePartitioning("time", { resolution: "D", dimension: axis }),
  };
}

/** Runs of equal consecutive values: value → `[start, stop)` ranges, in order of appearance. */
export function runsOf(values: ArrayLike<number | bigint>): Map<number, Array<[number, number]>> {
  const out = new Map<number, Array<[number, number]>>();
  let i = 0;
  while (i < values.length) {
    const v = Number(values[i]);
    let j = i + 1;
    while (j < values.length && Number(values[j]) === v) j++;
    let list = out.get(v);
    if (list === undefined) {
      list = [];
      out.set(v, list);
    }
    list.push([i, j]);
    i = j;
  }
  return out;
}

/**
 * The rows of each value of an integer variable, by partition — what an
 * index on that variable returns: value → partition path → ranges.
 */
export async function rowsByValue(
  collection: Collection,
  variable: string,
): Promise<Map<number, Map<string, Array<[number, number]>>>> {
  const out = new Map<number, Map<string, Array<[number, number]>>>();
  for await (const [path, ds] of collection.iterate({ variables: [variable] })) {
    for (const [value, ranges] of runsOf(ds.getVariable(variable).array.data as ArrayLike<number>)) {
      let byPath = out.get(value);
      if (byPath === undefined) {
        byPath = new Map();
        out.set(value, byPath);
      }
      byPath.set(path, ranges);
    }
  }
  return out;
}

/**
 * Throws unless `got` holds exactly the rows `ranges` of `whole` (every
 * variable, same dtype and shape, values compared with `Object.is`).
 */
export function checkSameRows(
  got: Dataset | null,
  whole: Dataset | null,
  dim: string,
  ranges: ReadonlyArray<readonly [number, number]>,
): void {
  if (got === null || whole === null) throw new Error("a query returned nothing");
  const indices: number[] = [];
  for (const [a, b] of ranges) for (let i = a; i < b; i++) indices.push(i);
  const want = takeRows(whole, dim, indices);
  const g = got.allVariables();
  for (const [path, v] of want.allVariables()) {
    const a = g.get(path)?.array;
    const b = v.array;
    if (a === undefined) throw new Error(`variable '${path}' missing from the rows read`);
    if (a.dtype !== b.dtype || a.shape.join(",") !== b.shape.join(",")) {
      throw new Error(`variable '${path}': ${a.dtype} [${a.shape}] read, ${b.dtype} [${b.shape}] expected`);
    }
    const x = a.data as ArrayLike<unknown>;
    const y = b.data as ArrayLike<unknown>;
    for (let i = 0; i < x.length; i++) {
      if (!Object.is(x[i], y[i])) throw new Error(`variable '${path}': element ${i} differs`);
    }
  }
  if (g.size !== want.allVariables().size) throw new Error("the rows read hold other variables");
}

/**
 * A {@link CountingStore} that also counts the bytes of the `zarr.json`
 * documents read and of the shard indexes read alone (suffix ranges).
 */
class ProbeStore extends CountingStore {
  /** Bytes of `zarr.json` documents read since the last reset. */
  metadataBytes = 0;
  /** Bytes of shard indexes read by ranged reads since the last reset. */
  indexBytes = 0;

  override async readBytes(key: string, opts?: { signal?: AbortSignal }): Promise<Uint8Array | undefined> {
    const out = await super.readBytes(key, opts);
    if (out !== undefined && key.endsWith("zarr.json")) this.metadataBytes += out.length;
    return out;
  }

  override async readRange(
    key: string,
    range: RangeQuery,
    opts?: { signal?: AbortSignal },
  ): Promise<Uint8Array | undefined> {
    const out = await super.readRange(key, range, opts);
    if (out !== undefined && "suffixLength" in range) this.indexBytes += out.length;
    return out;
  }

  override reset(): void {
    super.reset();
    this.metadataBytes = 0;
    this.indexBytes = 0;
  }
}

/** One measured scenario. */
export interface RowsBenchResult {
  /** `query_partition` or `query_rows_pass`. */
  readonly name: string;
  /** `file` or `s3`. */
  readonly store: string;
  /** Rows returned. */
  readonly rows: number;
  /** Best and median wall-clock seconds over the repeats. */
  readonly seconds: { readonly best: number; readonly median: number };
  /** Store calls and bytes of one call (they do not vary between repeats). */
  readonly counts: StoreCounts;
  /** Of `counts.bytesRead`, the bytes of `zarr.json` documents. */
  readonly metadataBytes: number;
  /** Of `counts.bytesRead`, the bytes of shard indexes read alone (the rest is chunk data, or whole shards). */
  readonly indexBytes: number;
}

/** Options of {@link runRowsBench}. */
export interface RowsBenchOptions {
  /** Store URL of the collection; default a temporary directory, removed afterwards. */
  store?: string;
  /** `storageOptions` of the store. */
  storageOptions?: Record<string, unknown>;
  /** Label of the store in the results (default `file`). */
  label?: string;
  /** Where the products are (default {@link defaultDataDir}). */
  data?: string;
  /** Rows per (inner) chunk along `time` (default 256). */
  chunks?: number;
  /** Rows per shard along `time`; default: the profile decides. */
  shards?: number | null;
  /** Products in the day (default 2: the real ones). */
  passes?: number;
  /** Timed calls per scenario (default 5). */
  repeat?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/**
 * Builds the day partition at `store`, finds the rows of the first pass
 * from the stored `pass_number`, and times a whole-partition query against
 * a rows query of that pass (see the module documentation).
 *
 * @returns the two scenarios, `query_partition` first.
 * @throws Error when the rows read differ from the same rows of the whole
 *   partition; store, NetCDF and schema errors as thrown.
 */
export async function runRowsBench(opts: RowsBenchOptions = {}): Promise<RowsBenchResult[]> {
  const log = opts.log ?? (() => undefined);
  const dir = opts.store === undefined ? await mkdtemp(join(tmpdir(), "zc-bench-rows-")) : undefined;
  const url = opts.store ?? `file://${dir}`;
  const storageOptions = opts.storageOptions === undefined ? {} : { storageOptions: opts.storageOptions };
  const label = opts.label ?? "file";
  const repeat = opts.repeat ?? 5;
  try {
    const data = opts.data ?? defaultDataDir();
    const day = await alongTrackDay(
      S6A_PRODUCTS.map((f) => join(data, f)),
      {
        chunks: opts.chunks ?? 256,
        shards: opts.shards ?? null,
        ...(opts.passes ? { passes: opts.passes } : {}),
      },
    );
    const writer = await createCollection(url, {
      schema: day.schema,
      axis: day.axis,
      partitioning: day.partitioning,
      overwrite: true,
      ...storageOptions,
    });
    const written = await writer.insert(day.dataset);
    const partition = written[0] as string;
    const probe = new ProbeStore(await openStore(url, { readOnly: true, ...storageOptions }));
    const col = await openCollection(probe, { mode: "r" });
    const byPass = await rowsByValue(col, "pass_number");
    const [pass, where] = [...byPass][0] as [number, Map<string, Array<[number, number]>>];
    const ranges = where.get(partition) ?? [];
    const total = day.dataset.getVariable("time").shape[0] as number;
    log(
      `${label}: ${url}, partition ${partition}: ${total} rows, ${written.length} partition(s); ` +
        `pass ${pass}: rows ${ranges.map(([a, b]) => `[${a}, ${b})`).join(", ")}`,
    );
    const filters = partition
      .split("/")
      .map((c) => {
        const [k, v] = c.split("=");
        return `${k} == ${Number(v)}`;
      })
      .join(" and ");
    const scenarios = [
      { name: "query_partition", run: () => col.query({ filters }) },
      { name: "query_rows_pass", run: () => col.query({ rows: new Map([[partition, ranges]]) }) },
    ];
    const seconds = scenarios.map(() => [] as number[]);
    const counts: StoreCounts[] = [];
    const metadataBytes: number[] = [];
    const indexBytes: number[] = [];
    const rows: number[] = [];
    let whole: Dataset | null = null;
    for (let r = 0; r < repeat; r++) {
      for (const [i, s] of scenarios.entries()) {
        probe.reset();
        const t0 = performance.now();
        const ds = await s.run();
        (seconds[i] as number[]).push((performance.now() - t0) / 1000);
        counts[i] = probe.counts;
        metadataBytes[i] = probe.metadataBytes;
        indexBytes[i] = probe.indexBytes;
        rows[i] = ds === null ? 0 : (ds.getVariable("time").shape[0] as number);
        if (i === 0) whole = ds;
        else if (r === 0) checkSameRows(ds, whole, day.axis, ranges);
      }
    }
    return scenarios.map((s, i) => ({
      name: s.name,
      store: label,
      rows: rows[i] as number,
      seconds: { best: Math.min(...(seconds[i] as number[])), median: median(seconds[i] as number[]) },
      counts: counts[i] as StoreCounts,
      metadataBytes: metadataBytes[i] as number,
      indexBytes: indexBytes[i] as number,
    }));
  } finally {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }
}

/** A TCP port free on 127.0.0.1 when asked. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() =>
        typeof addr === "object" && addr !== null ? resolve(addr.port) : reject(new Error("no port")),
      );
    });
  });
}

/** Spawns `moto_server` on a free port, waits for it, creates `bucket`; returns its S3 options and a stop function. */
async function startMoto(
  bucket: string,
): Promise<{ storageOptions: Record<string, unknown>; stop: () => void }> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: "ignore",
  });
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined)
      process.kill(child.pid);
  };
  process.once("exit", stop);
  const failed = new Promise<never>((_, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`moto_server exited (code ${code})`)));
  });
  failed.catch(() => undefined);
  const deadline = Date.now() + 20_000;
  for (;;) {
    const up = await Promise.race([
      fetch(endpoint).then(
        async (r) => {
          await r.body?.cancel();
          return true;
        },
        () => false,
      ),
      failed,
    ]);
    if (up) break;
    if (Date.now() > deadline) {
      stop();
      throw new Error(`moto_server did not answer on ${endpoint}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const res = await fetch(`${endpoint}/${bucket}`, { method: "PUT" });
  await res.body?.cancel();
  if (!res.ok) throw new Error(`cannot create bucket ${bucket}: HTTP ${res.status}`);
  const storageOptions = {
    endpoint,
    region: "us-east-1",
    accessKeyId: "testing",
    secretAccessKey: "testing",
    forcePathStyle: true,
  };
  return { storageOptions, stop };
}

function report(results: readonly RowsBenchResult[], log: (line: string) => void): void {
  log("store scenario          rows   best s  median s  GET  ranged GET  bytes read  (zarr.json)  (indexes)");
  for (const r of results) {
    log(
      `${r.store.padEnd(5)} ${r.name.padEnd(16)} ${String(r.rows).padStart(6)} ${r.seconds.best.toFixed(4).padStart(8)} ` +
        `${r.seconds.median.toFixed(4).padStart(9)} ${String(r.counts.get).padStart(4)} ${String(r.counts.getRange).padStart(11)} ` +
        `${String(r.counts.bytesRead).padStart(11)}  ${String(r.metadataBytes).padStart(11)}  ${String(r.indexBytes).padStart(10)}`,
    );
  }
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      store: { type: "string" },
      data: { type: "string" },
      chunks: { type: "string" },
      shards: { type: "string" },
      passes: { type: "string" },
      repeat: { type: "string" },
      moto: { type: "boolean" },
      json: { type: "boolean" },
    },
  });
  const log = (line: string) => console.log(line);
  const base: RowsBenchOptions = { log };
  if (values.data !== undefined) base.data = values.data;
  const chunks = positiveIntegerOption(values.chunks, "--chunks");
  const shards = positiveIntegerOption(values.shards, "--shards");
  const passes = positiveIntegerOption(values.passes, "--passes");
  const repeat = positiveIntegerOption(values.repeat, "--repeat");
  if (chunks !== undefined) base.chunks = chunks;
  if (shards !== undefined) base.shards = shards;
  if (passes !== undefined) base.passes = passes;
  if (repeat !== undefined) base.repeat = repeat;
  log(
    `node ${process.version}, ${availableParallelism()} cores; chunks ${base.chunks ?? 256} rows along time`,
  );
  const results = await runRowsBench({
    ...base,
    ...(values.store === undefined ? {} : { store: values.store }),
  });
  if (values.moto === true) {
    const moto = await startMoto("bench");
    try {
      results.push(
        ...(await runRowsBench({
          ...base,
          store: "s3://bench/rows",
          storageOptions: moto.storageOptions,
          label: "s3",
        })),
      );
    } finally {
      moto.stop();
    }
  }
  if (values.json === true) console.log(JSON.stringify(results, null, 2));
  else report(results, log);
}

runWhenInvoked("rows", main);
