/**
 * `npm run bench`: the collection benchmark of docs/behaviour.md §17 next to the
 * machine's limit for the same bytes, measured in the same run.
 *
 * Dataset (docs/behaviour.md §17, default sizes): `time` datetime64[s] (dimension
 * `time`, chunks 4096) and `ssh(time, x_ac)` float32 standard normal from a
 * seeded generator (`x_ac` size = chunks = width), both with the codecs of
 * the chosen profile (default `cloud-balanced`: zstd 3, sharded), Date
 * partitioning with resolution M. Unlike Python's harness, each of the
 * `partitions` months (from 2024-01) holds exactly `rows` timestamps spread
 * evenly over the month, so the collection has exactly `partitions`
 * partitions of `rows` rows.
 *
 * Scenarios (in order; each on a {@link CountingStore} reset just before the
 * timed call, so the counts are those of the timed call only):
 * 1. `insert_full_dataset`: create (overwrite) the collection, time `insert`.
 * 2. `open_collection_cold`: fresh read-only store, time `openCollection(mode "r")`.
 * 3. `query_one_partition_full`: fresh read-only store, time
 *    `query({filters: "year == 2024 and month == 1"})`.
 * 4. `query_full`: same store, time `query()`.
 * 5. `insert_replace_existing`: insert the same rows again into the stored
 *    partitions (each staged, then swapped in; docs/safety.md).
 * 6. `insert_upsert_existing`: the same with `merge.upsert` (each partition
 *    read, merged, staged, swapped in); its limit is a query then an
 *    insert of the same bytes: `1 / (1 / query + 1 / insert)`.
 *
 * Machine limit (see {@link machineLimit}): raw zstd level 3 on all cores
 * (the codec worker pool, one task per inner chunk) and raw file write/read
 * through the page cache. Insert limit: compress every byte, then write the
 * compressed bytes, one after the other:
 * `1 / (1 / compressMBps + ratio / writeMBps)` MB/s of uncompressed data.
 * Query limit: `1 / (ratio / readMBps + 1 / decompressMBps)`. The limit is
 * measured before and after the scenarios (the machine may be shared; a
 * temporary collection is deleted first, so that the kernel is not busy
 * writing it back) and the ratios use the better of the two, component by
 * component: a conservative ratio. MB = 10^6 bytes of uncompressed data
 * throughout.
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_PROFILE, type ProfileName, profile, profileNames } from "../codecs/index.js";
import { createCollection, openCollection } from "../collection/index.js";
import * as config from "../config.js";
import { Dataset } from "../data/dataset.js";
import * as merge from "../merge/index.js";
import { NDArray } from "../ndarray.js";
import * as partitioning from "../partitioning/index.js";
import { Schema } from "../schema/index.js";
import { CountingStore, type StoreCounts } from "../store/counting.js";
import { openStore, parseStoreUrl } from "../store/open.js";
import { zstdBackend } from "../zarr/compression/zstd.js";
import { positiveIntegerOption, runWhenInvoked } from "./entry.js";
import { probeQuery } from "./query-probe.js";
import { queryTargets } from "./query-targets.js";
import { rawFileThroughput, rawZstdThroughput } from "./raw.js";
import { normalFloat32 } from "./zarr.js";

/** One benchmark figure; its JSON form is docs/format.md §12's `{"name","seconds","counts","extra"}`. */
export interface BenchResult {
  /** Scenario name (`insert_full_dataset`, ...). */
  readonly name: string;
  /** Wall-clock seconds of the timed call. */
  readonly seconds: number;
  /**
   * Store calls of the timed call: `get` (whole and ranged reads), `put`,
   * `list`, `delete`, `exists` (see {@link CountingStore}).
   */
  readonly counts: Readonly<Record<string, number>>;
  /** Further figures: bytes, MB/s, the machine limit and the ratio to it, ... */
  readonly extra: Readonly<Record<string, number | string>>;
}

/** Options of {@link runBench}. */
export interface BenchOptions {
  /** Store URL or path of the collection; default a temporary directory under `os.tmpdir()`, removed afterwards. */
  store?: string;
  /** Number of monthly partitions (default 12). */
  partitions?: number;
  /** Rows per partition (default 50 000). */
  rows?: number;
  /** Width of `ssh` (size of `x_ac`, default 240). */
  width?: number;
  /** Codec profile name (default `cloud-balanced`). */
  profile?: string;
  /** Seed of the `ssh` generator (default 0). */
  seed?: number;
  /**
   * Minimum time in milliseconds each machine-limit measurement runs per
   * direction (0 = one pass). Default: 10 ms per MB of data, between 100
   * and 1000 (1000 for the default dataset; small test runs stay quick).
   */
  limitMillis?: number;
  /** Writes the results to this file as JSON (2-space indent, docs/format.md §12). */
  json?: string;
  /** Receives each line of the human-readable report; default: nothing is printed. */
  log?: (line: string) => void;
}

/** The machine limit for a number of bytes: raw zstd on all cores and raw file I/O. */
export interface MachineLimit {
  /** Uncompressed MB/s of zstd compression on all cores. */
  readonly compressMBps: number;
  /** Uncompressed MB/s of zstd decompression on all cores. */
  readonly decompressMBps: number;
  /** Compressed / uncompressed size. */
  readonly ratio: number;
  /** File write MB/s (bytes written). */
  readonly writeMBps: number;
  /** File read MB/s (bytes read). */
  readonly readMBps: number;
  /** Insert limit: `1 / (1/compressMBps + ratio/writeMBps)`, uncompressed MB/s. */
  readonly insertMBps: number;
  /** Query limit: `1 / (ratio/readMBps + 1/decompressMBps)`, uncompressed MB/s. */
  readonly queryMBps: number;
  /** Worker threads used for zstd. */
  readonly threads: number;
  /** zstd implementation (`napi` or `wasm`). */
  readonly backend: string;
}

const MONTH_FILTER = "year == 2024 and month == 1";
/** The partition MONTH_FILTER selects. */
const ONE_PARTITION = "year=2024/month=01/";

function positiveInt(value: number | undefined, fallback: number, what: string): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v <= 0)
    throw new RangeError(`${what} must be a positive integer; got ${v}`);
  return v;
}

/**
 * `rows` timestamps (seconds since the epoch) per month for `months` months
 * from 2024-01: in month m, `start + floor(i × length / rows)`.
 */
export function monthlyTimes(months: number, rows: number): BigInt64Array {
  const out = new BigInt64Array(months * rows);
  for (let m = 0; m < months; m++) {
    const start = Date.UTC(2024, m, 1) / 1000;
    const length = Date.UTC(2024, m + 1, 1) / 1000 - start;
    for (let i = 0; i < rows; i++) out[m * rows + i] = BigInt(start + Math.floor((i * length) / rows));
  }
  return out;
}

/**
 * Measures the machine limit on `bytes` (docs/behaviour.md §17 dataset bytes):
 * zstd level 3 with one pool task per `chunkBytes` on `threads` workers,
 * then writing and reading a file of the compressed size in `dir`.
 */
export async function machineLimit(
  bytes: Uint8Array,
  opts: { dir: string; chunkBytes: number; threads?: number; minMillis?: number },
): Promise<MachineLimit> {
  const threads = opts.threads ?? availableParallelism();
  const minMillis = opts.minMillis ?? 1000;
  const zstd = await rawZstdThroughput(bytes, { level: 3, threads, chunkBytes: opts.chunkBytes, minMillis });
  const compressed = bytes.subarray(0, Math.max(1, Math.round(bytes.length * zstd.ratio)));
  const file = await rawFileThroughput(opts.dir, compressed, minMillis);
  const ratio = zstd.ratio;
  return {
    compressMBps: zstd.compressMBps,
    decompressMBps: zstd.decompressMBps,
    ratio,
    writeMBps: file.writeMBps,
    readMBps: file.readMBps,
    insertMBps: 1 / (1 / zstd.compressMBps + ratio / file.writeMBps),
    queryMBps: 1 / (ratio / file.readMBps + 1 / zstd.decompressMBps),
    threads: zstd.threads,
    backend: zstd.backend,
  };
}

function countsOf(c: StoreCounts): Record<string, number> {
  return { get: c.get + c.getRange, put: c.put, list: c.list, delete: c.delete, exists: c.exists };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, seconds: (performance.now() - t0) / 1000 };
}

function rowsOf(ds: Dataset | null): number {
  return ds === null ? 0 : (ds.getVariable("time").array.shape[0] as number);
}

/** Throws when `ds` does not hold rows `[first, first + n)` of the inserted data (sampled). */
function verify(
  ds: Dataset | null,
  what: string,
  first: number,
  n: number,
  times: BigInt64Array,
  ssh: Float32Array,
  width: number,
): void {
  if (rowsOf(ds) !== n) throw new Error(`${what}: read ${rowsOf(ds)} rows, expected ${n}`);
  const t = (ds as Dataset).getVariable("time").array.data as BigInt64Array;
  const v = (ds as Dataset).getVariable("ssh").array.data as Float32Array;
  const step = Math.max(1, Math.floor(n / 997));
  for (let i = 0; i < n; i += step) {
    if (t[i] !== times[first + i])
      throw new Error(`${what}: time of row ${i} differs from the inserted value`);
    const j = i * width + (i % width);
    if (v[j] !== ssh[first * width + j])
      throw new Error(`${what}: ssh of row ${i} differs from the inserted value`);
  }
}

/** A writable directory on the file system of `url` when it is local, else the temporary directory. */
function localDirOf(url: string): string | undefined {
  try {
    const loc = parseStoreUrl(url);
    return loc.kind === "local" ? loc.path : undefined;
  } catch {
    return undefined;
  }
}

/** `sync(1)`: flushes dirty pages to disk (no-op where the command is missing). */
function flushFileSystem(): void {
  try {
    execFileSync("sync", { stdio: "ignore" });
  } catch {
    // not available: the queries then share the disk with the write-back
  }
}

/**
 * Runs the benchmark: builds the dataset, measures the machine limit on its
 * bytes, then the four scenarios of docs/behaviour.md §17 and two writes into the
 * stored partitions; checks that the queries
 * return the inserted values.
 *
 * @returns the six scenarios, then `machine_limit_insert` and
 *   `machine_limit_query` (seconds the limit needs for the same bytes).
 * @throws RangeError for a non-positive size or an unknown profile; Error
 *   when a query returns other values than inserted; store errors as thrown.
 */
export async function runBench(opts: BenchOptions = {}): Promise<BenchResult[]> {
  const months = positiveInt(opts.partitions, 12, "partitions");
  const rows = positiveInt(opts.rows, 50_000, "rows");
  const width = positiveInt(opts.width, 240, "width");
  const profileName = (opts.profile ?? DEFAULT_PROFILE) as ProfileName;
  if (!profileNames().includes(profileName)) {
    throw new RangeError(`unknown codec profile '${profileName}'; available: ${profileNames().join(", ")}`);
  }
  if (months > 12) throw new RangeError(`partitions must be at most 12 (months of 2024); got ${months}`);
  const log = opts.log ?? (() => undefined);
  const codecs = profile(profileName);
  const schema = Schema()
    .withDimension("time", { chunks: 4096 })
    .withDimension("x_ac", { size: width, chunks: width })
    .withVariable("time", { dtype: "datetime64[s]", dimensions: ["time"], codecs })
    .withVariable("ssh", { dtype: "float32", dimensions: ["time", "x_ac"], codecs })
    .build();
  const total = months * rows;
  const times = monthlyTimes(months, rows);
  const ssh = normalFloat32(total * width, opts.seed ?? 0);
  const dataset = Dataset.fromArrays(schema, {
    time: times,
    ssh: NDArray.from(ssh, { shape: [total, width] }),
  });
  const totalBytes = times.byteLength + ssh.byteLength;
  const partBytes = totalBytes / months;
  const mb = (b: number) => b / 1e6;

  const tempDir = opts.store === undefined ? await mkdtemp(join(tmpdir(), "zc-bench-")) : undefined;
  const url = opts.store ?? join(tempDir as string, "collection");
  const limitDir = tempDir ?? (localDirOf(url) === undefined ? tmpdir() : dirname(localDirOf(url) as string));
  const workers = config.get("codec.workers");
  log(
    `dataset: ${months} monthly partitions (2024-01..) x ${rows} rows evenly spaced in each month, ` +
      `ssh float32 x ${width} + time datetime64[s] = ${mb(totalBytes).toFixed(1)} MB; profile ${profileName}; ` +
      `store ${url}; codec.workers=${workers}, partition.concurrency=${config.partitionConcurrency()}, ` +
      `zstd ${(await zstdBackend()).name}`,
  );
  const limitBytes = new Uint8Array(ssh.buffer, ssh.byteOffset, ssh.byteLength);
  const measureLimit = () =>
    machineLimit(limitBytes, {
      dir: limitDir,
      chunkBytes: 4096 * width * 4,
      minMillis: opts.limitMillis ?? Math.min(1000, Math.max(100, mb(totalBytes) * 10)),
    });
  try {
    const before = await measureLimit();
    const timings: Timing[] = [];
    let partitionObjects = 0;

    // 1. insert
    const writeStore = new CountingStore(await openStore(url));
    try {
      const collection = await createCollection(writeStore, {
        schema,
        axis: "time",
        partitioning: new partitioning.Date("time", { resolution: "M" }),
        overwrite: true,
      });
      writeStore.reset();
      const ins = await timed(() => collection.insert(dataset));
      if (ins.value.length !== months) {
        throw new Error(`insert wrote ${ins.value.length} partitions, expected ${months}`);
      }
      timings.push({
        name: "insert_full_dataset",
        seconds: ins.seconds,
        counts: writeStore.counts,
        bytes: totalBytes,
        kind: "insert",
        more: { partitions: ins.value.length },
      });
    } finally {
      await writeStore.close();
    }
    // Let the kernel write back the inserted bytes before the read scenarios, so that they measure
    // reads rather than contention with the insert's write-back (as a later, separate query would).
    flushFileSystem();

    // 2. cold open
    const openProbe = new CountingStore(await openStore(url, { readOnly: true }));
    try {
      const open = await timed(() => openCollection(openProbe, { mode: "r" }));
      timings.push({ name: "open_collection_cold", seconds: open.seconds, counts: openProbe.counts });
    } finally {
      await openProbe.close();
    }

    // 3. and 4. queries
    const readStore = new CountingStore(await openStore(url, { readOnly: true }));
    try {
      const reader = await openCollection(readStore, { mode: "r" });
      readStore.reset();
      const one = await timed(() => reader.query({ filters: MONTH_FILTER }));
      timings.push({
        name: "query_one_partition_full",
        seconds: one.seconds,
        counts: readStore.counts,
        bytes: partBytes,
        kind: "query",
        more: { rows: rowsOf(one.value) },
      });
      verify(one.value, "query_one_partition_full", 0, rows, times, ssh, width);
      readStore.reset();
      const all = await timed(() => reader.query());
      timings.push({
        name: "query_full",
        seconds: all.seconds,
        counts: readStore.counts,
        bytes: totalBytes,
        kind: "query",
        more: { rows: rowsOf(all.value) },
      });
      verify(all.value, "query_full", 0, total, times, ssh, width);
      partitionObjects = (await readStore.inner.list(ONE_PARTITION)).length;
    } finally {
      await readStore.close();
    }
    // The same query in a process of its own: no generated data in its heap, and its peak memory.
    const probe = await probeQuery(url);
    if (probe.rows !== total) throw new Error(`query_full in its own process returned ${probe.rows} rows`);
    timings.push({
      name: "query_full_fresh_process",
      seconds: probe.seconds,
      counts: probe.counts as unknown as StoreCounts,
      bytes: totalBytes,
      kind: "query",
      more: {
        rows: probe.rows,
        result_MB: mb(probe.resultBytes),
        peak_growth_MB: mb(probe.maxRssBytes - probe.rssBeforeBytes),
        rss_before_MB: mb(probe.rssBeforeBytes),
      },
    });

    // 5. and 6. writes into the stored partitions: a replacement (staged, then swapped in) and an
    // upsert (read, merge, staged, swapped in) of the same rows (docs/safety.md).
    for (const [name, opts] of [
      ["insert_replace_existing", {}],
      ["insert_upsert_existing", { merge: merge.upsert }],
    ] as const) {
      flushFileSystem();
      const store = new CountingStore(await openStore(url));
      try {
        const collection = await openCollection(store, { mode: "rw" });
        store.reset();
        const run = await timed(() => collection.insert(dataset, opts));
        if (run.value.length !== months) throw new Error(`${name} wrote ${run.value.length} partitions`);
        timings.push({
          name,
          seconds: run.seconds,
          counts: store.counts,
          bytes: totalBytes,
          kind: "merge" in opts ? "merge" : "insert",
          more: { partitions: run.value.length },
        });
      } finally {
        await store.close();
      }
    }

    // Written-back pages of the collection would slow the second measurement down.
    if (tempDir !== undefined) await rm(url, { recursive: true, force: true });
    const after = await measureLimit();
    const limit = bestLimit(before, after);
    const results: BenchResult[] = timings.map((t) => {
      const extra: Record<string, number | string> = { ...t.more };
      if (t.bytes !== undefined) {
        extra.megabytes = mb(t.bytes);
        extra.MBps = mb(t.bytes) / t.seconds;
      }
      if (t.kind !== undefined && t.bytes !== undefined) {
        const limitMBps =
          t.kind === "insert"
            ? limit.insertMBps
            : t.kind === "query"
              ? limit.queryMBps
              : 1 / (1 / limit.insertMBps + 1 / limit.queryMBps);
        extra.limit_MBps = limitMBps;
        extra.ratio_to_limit = mb(t.bytes) / t.seconds / limitMBps;
      }
      extra.bytes_read = t.counts.bytesRead;
      extra.bytes_written = t.counts.bytesWritten;
      return { name: t.name, seconds: t.seconds, counts: countsOf(t.counts), extra };
    });
    for (const kind of ["insert", "query"] as const) {
      const of = (l: MachineLimit) => (kind === "insert" ? l.insertMBps : l.queryMBps);
      results.push({
        name: `machine_limit_${kind}`,
        seconds: mb(totalBytes) / of(limit),
        counts: {},
        extra: {
          megabytes: mb(totalBytes),
          MBps: of(limit),
          MBps_before: of(before),
          MBps_after: of(after),
          compress_MBps: limit.compressMBps,
          decompress_MBps: limit.decompressMBps,
          zstd_ratio: limit.ratio,
          file_write_MBps: limit.writeMBps,
          file_read_MBps: limit.readMBps,
          threads: limit.threads,
          backend: limit.backend,
        },
      });
    }
    report(results, before, after, limit, log);
    for (const t of queryTargets(results, partitionObjects)) log(`${t.pass ? "PASS" : "FAIL"} ${t.line}`);
    if (opts.json !== undefined) await writeFile(opts.json, `${JSON.stringify(results, null, 2)}\n`);
    return results;
  } finally {
    if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
  }
}

/** A timed scenario before its ratio to the limit is known. */
interface Timing {
  name: string;
  seconds: number;
  counts: StoreCounts;
  /** Uncompressed bytes moved. */
  bytes?: number;
  /** Which limit applies. */
  /** Which limit applies: insert, query, or merge (read, then write: both in sequence). */
  kind?: "insert" | "query" | "merge";
  more?: Record<string, number | string>;
}

/** The better of two measurements of the limit, component by component (limits recomputed from them). */
function bestLimit(a: MachineLimit, b: MachineLimit): MachineLimit {
  const compressMBps = Math.max(a.compressMBps, b.compressMBps);
  const decompressMBps = Math.max(a.decompressMBps, b.decompressMBps);
  const writeMBps = Math.max(a.writeMBps, b.writeMBps);
  const readMBps = Math.max(a.readMBps, b.readMBps);
  const ratio = (a.ratio + b.ratio) / 2;
  return {
    compressMBps,
    decompressMBps,
    ratio,
    writeMBps,
    readMBps,
    insertMBps: 1 / (1 / compressMBps + ratio / writeMBps),
    queryMBps: 1 / (ratio / readMBps + 1 / decompressMBps),
    threads: a.threads,
    backend: a.backend,
  };
}

function report(
  results: readonly BenchResult[],
  before: MachineLimit,
  after: MachineLimit,
  limit: MachineLimit,
  log: (line: string) => void,
): void {
  const num = (v: number | string | undefined, digits: number, width: number) =>
    (typeof v === "number" ? v.toFixed(digits) : "-").padStart(width);
  const f = (v: number) => v.toFixed(0);
  for (const [when, l] of [
    ["before", before],
    ["after ", after],
  ] as const) {
    log(
      `machine limit ${when} the scenarios: zstd ${l.backend} level 3 on ${l.threads} threads (ratio ${l.ratio.toFixed(3)}) ` +
        `compress ${f(l.compressMBps)} MB/s, decompress ${f(l.decompressMBps)} MB/s; ` +
        `file write ${f(l.writeMBps)} MB/s, read ${f(l.readMBps)} MB/s`,
    );
  }
  log(
    `limit (better of both): insert = 1/(1/compress + ratio/write) = ${f(limit.insertMBps)} MB/s; ` +
      `query = 1/(ratio/read + 1/decompress) = ${f(limit.queryMBps)} MB/s (MB = 10^6 bytes of uncompressed data)`,
  );
  log(
    `${"scenario".padEnd(28)} ${"seconds".padStart(8)} ${"MB/s".padStart(7)} ${"limit".padStart(6)} ${"ratio".padStart(6)} ${"GET".padStart(5)} ${"PUT".padStart(5)} ${"LIST".padStart(5)}`,
  );
  for (const r of results) {
    if (r.name.startsWith("machine_limit")) continue;
    log(
      `${r.name.padEnd(28)} ${r.seconds.toFixed(3).padStart(8)} ${num(r.extra.MBps, 0, 7)} ${num(r.extra.limit_MBps, 0, 6)} ${(typeof r.extra.ratio_to_limit === "number" ? `${r.extra.ratio_to_limit.toFixed(2)}x` : "-").padStart(6)} ${String(r.counts.get).padStart(5)} ${String(r.counts.put).padStart(5)} ${String(r.counts.list).padStart(5)}`,
    );
  }
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      store: { type: "string" },
      json: { type: "string" },
      partitions: { type: "string" },
      rows: { type: "string" },
      width: { type: "string" },
      profile: { type: "string" },
      seed: { type: "string" },
    },
  });
  const opts: BenchOptions = { log: (line) => console.log(line) };
  if (values.store !== undefined) opts.store = values.store;
  if (values.json !== undefined) opts.json = values.json;
  if (values.profile !== undefined) opts.profile = values.profile;
  const partitions = positiveIntegerOption(values.partitions, "--partitions");
  const rows = positiveIntegerOption(values.rows, "--rows");
  const width = positiveIntegerOption(values.width, "--width");
  if (partitions !== undefined) opts.partitions = partitions;
  if (rows !== undefined) opts.rows = rows;
  if (width !== undefined) opts.width = width;
  if (values.seed !== undefined) {
    const seed = Number(values.seed);
    if (!Number.isSafeInteger(seed) || seed < 0)
      throw new RangeError(`--seed must be a non-negative integer; got '${values.seed}'`);
    opts.seed = seed;
  }
  await runBench(opts);
}

runWhenInvoked("collection", main);
