/**
 * `node dist/bench/many-partitions.js`: what one partition costs when a
 * collection holds many (issue 13, item 3). The cost of inserting or
 * reading one day must not grow with the number of days stored.
 *
 * Data: daily partitions (`Date("time", {resolution: "D"})`,
 * `year=1990/month=01/day=01`, …) of small along-track data, `--rows`
 * (default 3 000) rows per day evenly spread over the day: `time`
 * datetime64[ns], `latitude` and `longitude` float64 (a synthetic orbit),
 * `sla` float32 (seeded noise), the codecs of the default profile
 * (`cloud-balanced`: zstd 3, sharded; one shard and one inner chunk per
 * array here). Day `d` (0 = 1990-01-01) holds the same rows whatever the
 * size of the collection, so the one-day figures compare the same bytes.
 *
 * For each size N of `--sizes` (default 100,1000,10000), a catalog-enabled
 * `file://` collection is built with one `insert` of days 0…N−1 (timed,
 * counted). Then, in `--repeat` rounds interleaving the sizes (so that the
 * machine's load drifts over all sizes alike), each on a
 * {@link CountingStore} reset just before the timed call:
 * - `insert_one_day`: `insert` of the next new day (N, N+1, …) into the
 *   collection opened read-write;
 * - `open_cold`: `openCollection(mode "r")` on a fresh store;
 * and each of the following on a collection opened just before (not timed):
 * - `list_month`: `partitions({filters: "year == 1990 and month == 2"})`
 *   (from the catalog: one GET);
 * - `query_one_day`: `query` of 1990-02-15 (checked against the generated rows);
 * - `query_month`: `query` of February 1990 (28 days);
 * - `list_month_walk`, `query_one_day_walk`: the same with `fromStore`,
 *   listing by walking the store (what a collection without catalog does).
 * Last, `drop_month` (once per size): `dropPartitions` of March 1990.
 *
 * Per scenario: wall-clock seconds (best and median), process CPU seconds
 * (main thread and codec workers; less sensitive than wall time to other
 * jobs on a shared machine), store calls and bytes. Targets, printed as
 * PASS/FAIL lines: the one-day insert and one-day query (from the catalog)
 * make the same number of requests at every size, and their median time
 * (wall, and CPU) at the largest size is within `--tolerance` (default
 * 1.5×, noise on a shared 2-core machine) of the smallest.
 *
 * @module
 */

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createCollection, openCollection } from "../collection/index.js";
import * as config from "../config.js";
import { Dataset } from "../data/dataset.js";
import * as partitioning from "../partitioning/index.js";
import { type DatasetSchema, Schema } from "../schema/index.js";
import { CountingStore, type StoreCounts } from "../store/counting.js";
import { openStore } from "../store/open.js";
import { runWhenInvoked } from "./entry.js";

/** Options of {@link runManyPartitions}. */
export interface ManyPartitionsOptions {
  /** Collection sizes (numbers of daily partitions), default [100, 1000, 10000]. */
  sizes?: readonly number[];
  /** Rows per day (default 3 000). */
  rows?: number;
  /** Rounds of the repeated scenarios (default 5). */
  repeat?: number;
  /** Allowed ratio of the largest size's median to the smallest's for the flatness targets (default 1.5). */
  tolerance?: number;
  /** Also time the listings and the one-day query that walk the store (default true). */
  walk?: boolean;
  /** Directory for the collections (default a temporary one, removed afterwards). */
  dir?: string;
  /** Writes the results to this file as JSON. */
  json?: string;
  /** Receives each line of the report; default: nothing is printed. */
  log?: (line: string) => void;
}

/** One scenario at one size. */
export interface ManyPartitionsResult {
  /** Scenario name (`build`, `insert_one_day`, …). */
  readonly name: string;
  /** Number of partitions in the collection when the scenario ran (before it). */
  readonly partitions: number;
  /** Wall-clock seconds of each run. */
  readonly seconds: readonly number[];
  /** Process CPU seconds (user + system, all threads) of each run. */
  readonly cpuSeconds: readonly number[];
  /** Store calls and bytes of the first run (the same in every run unless noted). */
  readonly counts: StoreCounts;
  /** Rows or partitions the call returned. */
  readonly items: number;
}

/** A target checked at the end, printed as a PASS/FAIL line. */
export interface TargetCheck {
  readonly name: string;
  readonly pass: boolean;
  readonly detail: string;
}

/** Days since the epoch of 1990-01-01, day 0 of the bench. */
const DAY0 = Date.UTC(1990, 0, 1) / 86_400_000;
const DAY_NS = 86_400_000_000_000n;
/** 1990-02-15, day 45. */
const ONE_DAY_FILTER = "year == 1990 and month == 2 and day == 15";
const ONE_DAY_INDEX = 45;
const MONTH_FILTER = "year == 1990 and month == 2";
const DROP_FILTER = "year == 1990 and month == 3";

/** The schema of the bench's along-track days. */
export function alongTrackSchema(): DatasetSchema {
  return Schema()
    .withDimension("time", { chunks: 4096 })
    .withVariable("time", { dtype: "datetime64[ns]", dimensions: ["time"] })
    .withVariable("latitude", { dtype: "float64", dimensions: ["time"], attrs: { units: "degrees_north" } })
    .withVariable("longitude", { dtype: "float64", dimensions: ["time"], attrs: { units: "degrees_east" } })
    .withVariable("sla", {
      dtype: "float32",
      dimensions: ["time"],
      fillValue: Number.NaN,
      attrs: { units: "m" },
    })
    .build();
}

/**
 * Days `first … first + count − 1` of along-track data, `rows` rows each:
 * row i of day d at `d + floor(i × 86400 / rows)` seconds, a 6 745 s orbit
 * for latitude/longitude, and a per-day seeded noise for `sla` (the same
 * rows for a day whatever `first` and `count`).
 */
export function alongTrackDays(schema: DatasetSchema, first: number, count: number, rows: number): Dataset {
  const n = count * rows;
  const time = new BigInt64Array(n);
  const lat = new Float64Array(n);
  const lon = new Float64Array(n);
  const sla = new Float32Array(n);
  for (let d = 0; d < count; d++) {
    const day = first + d;
    const dayStart = BigInt(DAY0 + day) * DAY_NS;
    let state = (day * 2654435761) >>> 0;
    for (let i = 0; i < rows; i++) {
      const k = d * rows + i;
      const second = Math.floor((i * 86_400) / rows);
      time[k] = dayStart + BigInt(second) * 1_000_000_000n;
      const t = day * 86_400 + second;
      const phase = (2 * Math.PI * t) / 6745;
      lat[k] = 66 * Math.sin(phase);
      lon[k] = ((((t * 360) / 86_164 - (phase * 180) / Math.PI / 10) % 360) + 360) % 360;
      state = (state + 0x6d2b79f5) >>> 0;
      let x = state;
      x = Math.imul(x ^ (x >>> 15), x | 1);
      x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
      sla[k] = (((x ^ (x >>> 14)) >>> 0) / 4294967296 - 0.5) * 0.4;
    }
  }
  return Dataset.fromArrays(schema, { time, latitude: lat, longitude: lon, sla });
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function measure<T>(
  store: CountingStore,
  fn: () => Promise<T>,
): Promise<{ value: T; seconds: number; cpu: number; counts: StoreCounts }> {
  store.reset();
  const c0 = cpuSeconds();
  const t0 = performance.now();
  const value = await fn();
  const seconds = (performance.now() - t0) / 1000;
  return { value, seconds, cpu: cpuSeconds() - c0, counts: store.counts };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function requests(c: StoreCounts): number {
  return c.get + c.getRange + c.put + c.list + c.delete + c.exists;
}

function rowsOf(ds: Dataset | null): number {
  return ds === null ? 0 : (ds.getVariable("time").array.shape[0] as number);
}

/** Throws unless `ds` holds exactly the generated rows of `days`. */
function check(ds: Dataset | null, expected: Dataset, what: string): void {
  const n = rowsOf(expected);
  if (rowsOf(ds) !== n) throw new Error(`${what}: read ${rowsOf(ds)} rows, expected ${n}`);
  for (const name of ["time", "latitude", "sla"]) {
    const got = (ds as Dataset).getVariable(name).array.data as ArrayLike<unknown>;
    const want = expected.getVariable(name).array.data as ArrayLike<unknown>;
    for (let i = 0; i < n; i += 7) {
      if (got[i] !== want[i]) throw new Error(`${what}: ${name} of row ${i} differs from the inserted value`);
    }
  }
}

/** A built collection of one size. */
interface Sized {
  readonly size: number;
  readonly url: string;
  /** The next new day to insert. */
  nextDay: number;
  readonly results: Map<string, { seconds: number[]; cpu: number[]; counts?: StoreCounts; items: number }>;
}

function record(
  sized: Sized,
  name: string,
  run: { seconds: number; cpu: number; counts: StoreCounts },
  items: number,
): void {
  let r = sized.results.get(name);
  if (r === undefined) {
    r = { seconds: [], cpu: [], items };
    sized.results.set(name, r);
  }
  r.seconds.push(run.seconds);
  r.cpu.push(run.cpu);
  if (r.counts === undefined) r.counts = run.counts;
}

/**
 * Runs the benchmark (see the module comment).
 *
 * @returns one result per scenario and size, and the targets checked.
 * @throws RangeError for invalid sizes; Error when a query returns other rows than inserted.
 */
export async function runManyPartitions(
  opts: ManyPartitionsOptions = {},
): Promise<{ results: ManyPartitionsResult[]; targets: TargetCheck[] }> {
  const sizes = [...(opts.sizes ?? [100, 1000, 10_000])].sort((a, b) => a - b);
  if (sizes.length === 0 || sizes.some((s) => !Number.isSafeInteger(s) || s < 90)) {
    throw new RangeError(
      `sizes must be integers ≥ 90 (the bench reads February and drops March 1990); got ${sizes}`,
    );
  }
  const rows = opts.rows ?? 3000;
  const repeat = opts.repeat ?? 5;
  const tolerance = opts.tolerance ?? 1.5;
  const walk = opts.walk ?? true;
  const log = opts.log ?? (() => undefined);
  const schema = alongTrackSchema();
  const dayPartitioning = new partitioning.Date("time", { resolution: "D" });
  const baseDir = opts.dir ?? (await mkdtemp(join(tmpdir(), "zc-many-")));
  const started = performance.now();
  log(
    `many partitions: daily partitions of ${rows} rows (time datetime64[ns], latitude/longitude float64, ` +
      `sla float32: ${(rows * 28) / 1000} kB a day), sizes ${sizes.join(", ")}, catalog on, file:// under ${baseDir}; ` +
      `${availableParallelism()} cores, codec.workers=${config.get("codec.workers")}, ` +
      `partition.concurrency=${config.partitionConcurrency()}; load average ${loadavg()
        .map((x) => x.toFixed(2))
        .join(" ")}`,
  );
  const all: Sized[] = [];
  const loads: number[] = [loadavg()[0] as number];
  try {
    // 1. Build each collection with one insert.
    for (const size of sizes) {
      const sized: Sized = { size, url: join(baseDir, `days-${size}`), nextDay: size, results: new Map() };
      const store = new CountingStore(await openStore(sized.url));
      try {
        const collection = await createCollection(store, {
          schema,
          axis: "time",
          partitioning: dayPartitioning,
          catalogEnabled: true,
          overwrite: true,
        });
        const days = alongTrackDays(schema, 0, size, rows);
        const run = await measure(store, () => collection.insert(days));
        if (run.value.length !== size)
          throw new Error(`build wrote ${run.value.length} partitions, expected ${size}`);
        record(sized, "build", run, run.value.length);
        log(
          `built ${size} partitions in ${run.seconds.toFixed(1)} s (CPU ${run.cpu.toFixed(1)} s; ` +
            `${((run.seconds * 1000) / size).toFixed(2)} ms a partition; ${requests(run.counts)} requests)`,
        );
      } finally {
        await store.close();
      }
      all.push(sized);
      loads.push(loadavg()[0] as number);
    }

    // 2. Rounds interleaving the sizes.
    const oneDay = alongTrackDays(schema, ONE_DAY_INDEX, 1, rows);
    const february = alongTrackDays(schema, 31, 28, rows);
    for (let round = 0; round < repeat; round++) {
      for (const sized of all) {
        const writer = new CountingStore(await openStore(sized.url));
        try {
          const collection = await openCollection(writer, { mode: "rw" });
          const day = alongTrackDays(schema, sized.nextDay, 1, rows);
          const run = await measure(writer, () => collection.insert(day));
          sized.nextDay += 1;
          record(sized, "insert_one_day", run, run.value.length);
        } finally {
          await writer.close();
        }
        const fresh = new CountingStore(await openStore(sized.url, { readOnly: true }));
        try {
          const open = await measure(fresh, () => openCollection(fresh, { mode: "r" }));
          record(sized, "open_cold", open, 0);
          // Each read on a collection opened just before (not timed): nothing it may keep from an
          // earlier call helps it, as in a process that opens a collection and queries it once.
          const reader = () => openCollection(fresh, { mode: "r" });
          let c = await reader();
          const list = await measure(fresh, () => c.partitions({ filters: MONTH_FILTER }));
          if (list.value.length !== 28) throw new Error(`list_month found ${list.value.length} partitions`);
          record(sized, "list_month", list, list.value.length);
          c = await reader();
          const q1 = await measure(fresh, () => c.query({ filters: ONE_DAY_FILTER }));
          check(q1.value, oneDay, "query_one_day");
          record(sized, "query_one_day", q1, rowsOf(q1.value));
          c = await reader();
          const qm = await measure(fresh, () => c.query({ filters: MONTH_FILTER }));
          check(qm.value, february, "query_month");
          record(sized, "query_month", qm, rowsOf(qm.value));
          if (walk) {
            c = await reader();
            const lw = await measure(fresh, () => c.partitions({ filters: MONTH_FILTER, fromStore: true }));
            if (lw.value.length !== 28)
              throw new Error(`list_month_walk found ${lw.value.length} partitions`);
            record(sized, "list_month_walk", lw, lw.value.length);
            c = await reader();
            const qw = await measure(fresh, () => c.query({ filters: ONE_DAY_FILTER, fromStore: true }));
            check(qw.value, oneDay, "query_one_day_walk");
            record(sized, "query_one_day_walk", qw, rowsOf(qw.value));
          }
        } finally {
          await fresh.close();
        }
      }
      loads.push(loadavg()[0] as number);
    }

    // 3. Drop a month, once per size.
    for (const sized of all) {
      const writer = new CountingStore(await openStore(sized.url));
      try {
        const collection = await openCollection(writer, { mode: "rw" });
        const run = await measure(writer, () => collection.dropPartitions({ filters: DROP_FILTER }));
        if (run.value.length !== 31) throw new Error(`drop_month dropped ${run.value.length} partitions`);
        record(sized, "drop_month", run, run.value.length);
      } finally {
        await writer.close();
      }
    }
    loads.push(loadavg()[0] as number);
  } finally {
    if (opts.dir === undefined) await rm(baseDir, { recursive: true, force: true });
  }

  const results: ManyPartitionsResult[] = [];
  for (const sized of all) {
    for (const [name, r] of sized.results) {
      results.push({
        name,
        partitions: sized.size,
        seconds: r.seconds,
        cpuSeconds: r.cpu,
        counts: r.counts as StoreCounts,
        items: r.items,
      });
    }
  }
  const targets = checkTargets(results, sizes, tolerance);
  report(results, targets, log);
  log(
    `load average (1 min) during the run: ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)} ` +
      `on ${availableParallelism()} cores; whole bench ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
  if (opts.json !== undefined) {
    await writeFile(
      opts.json,
      `${JSON.stringify({ cores: availableParallelism(), loadavg: loads, rows, results, targets }, null, 2)}\n`,
    );
  }
  return { results, targets };
}

/** The flatness targets: same requests at every size, medians of the largest within `tolerance` of the smallest. */
function checkTargets(
  results: readonly ManyPartitionsResult[],
  sizes: readonly number[],
  tolerance: number,
): TargetCheck[] {
  const out: TargetCheck[] = [];
  const small = sizes[0] as number;
  const large = sizes[sizes.length - 1] as number;
  if (small === large) return out;
  for (const name of ["insert_one_day", "query_one_day"]) {
    const of = (size: number) => results.find((r) => r.name === name && r.partitions === size);
    const a = of(small);
    const b = of(large);
    if (a === undefined || b === undefined) continue;
    const reqs = sizes.map((s) => requests((of(s) as ManyPartitionsResult).counts));
    out.push({
      name: `${name}: same requests at ${sizes.join(", ")} partitions`,
      pass: reqs.every((r) => r === reqs[0]),
      detail: reqs.join(" / "),
    });
    const wall = median(b.seconds) / median(a.seconds);
    out.push({
      name: `${name}: median wall time at ${large} ≤ ${tolerance}× at ${small} partitions`,
      pass: wall <= tolerance,
      detail: `${(median(b.seconds) * 1000).toFixed(1)} / ${(median(a.seconds) * 1000).toFixed(1)} ms = ${wall.toFixed(2)}×`,
    });
    const cpu = median(b.cpuSeconds) / median(a.cpuSeconds);
    out.push({
      name: `${name}: median CPU time at ${large} ≤ ${tolerance}× at ${small} partitions`,
      pass: cpu <= tolerance,
      detail: `${(median(b.cpuSeconds) * 1000).toFixed(1)} / ${(median(a.cpuSeconds) * 1000).toFixed(1)} ms = ${cpu.toFixed(2)}×`,
    });
  }
  return out;
}

function report(
  results: readonly ManyPartitionsResult[],
  targets: readonly TargetCheck[],
  log: (line: string) => void,
): void {
  const ms = (s: number) => (s * 1000).toFixed(s < 1 ? 1 : 0);
  log(
    `${"scenario".padEnd(20)} ${"parts".padStart(6)} ${"best ms".padStart(9)} ${"median ms".padStart(9)} ${"CPU ms".padStart(8)} ` +
      `${"GET".padStart(6)} ${"PUT".padStart(6)} ${"LIST".padStart(5)} ${"DEL".padStart(6)} ${"EXIST".padStart(6)} ${"kB read".padStart(9)} ${"kB written".padStart(10)} ${"items".padStart(7)}`,
  );
  const order = [
    "build",
    "insert_one_day",
    "open_cold",
    "list_month",
    "query_one_day",
    "query_month",
    "list_month_walk",
    "query_one_day_walk",
    "drop_month",
  ];
  const sorted = [...results].sort(
    (a, b) => order.indexOf(a.name) - order.indexOf(b.name) || a.partitions - b.partitions,
  );
  for (const r of sorted) {
    const c = r.counts;
    log(
      `${r.name.padEnd(20)} ${String(r.partitions).padStart(6)} ${ms(Math.min(...r.seconds)).padStart(9)} ${ms(median(r.seconds)).padStart(9)} ` +
        `${ms(median(r.cpuSeconds)).padStart(8)} ${String(c.get + c.getRange).padStart(6)} ${String(c.put).padStart(6)} ` +
        `${String(c.list).padStart(5)} ${String(c.delete).padStart(6)} ${String(c.exists).padStart(6)} ` +
        `${(c.bytesRead / 1000).toFixed(1).padStart(9)} ${(c.bytesWritten / 1000).toFixed(1).padStart(10)} ${String(r.items).padStart(7)}`,
    );
  }
  for (const t of targets) log(`${t.pass ? "PASS" : "FAIL"} ${t.name}: ${t.detail}`);
}

function sizesOf(text: string): number[] {
  return text.split(",").map((s) => {
    const n = Number(s.trim().replace(/_/g, ""));
    if (!Number.isSafeInteger(n) || n <= 0)
      throw new RangeError(`--sizes takes positive integers; got '${s}'`);
    return n;
  });
}

function positive(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`${name} must be a positive number; got '${text}'`);
  return n;
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: "string" },
      rows: { type: "string" },
      repeat: { type: "string" },
      tolerance: { type: "string" },
      "no-walk": { type: "boolean" },
      dir: { type: "string" },
      json: { type: "string" },
    },
  });
  const opts: ManyPartitionsOptions = { log: (line) => console.log(line) };
  if (values.sizes !== undefined) opts.sizes = sizesOf(values.sizes);
  const rows = positive(values.rows, "--rows");
  const repeat = positive(values.repeat, "--repeat");
  const tolerance = positive(values.tolerance, "--tolerance");
  if (rows !== undefined) opts.rows = Math.floor(rows);
  if (repeat !== undefined) opts.repeat = Math.floor(repeat);
  if (tolerance !== undefined) opts.tolerance = tolerance;
  if (values["no-walk"] === true) opts.walk = false;
  if (values.dir !== undefined) opts.dir = values.dir;
  if (values.json !== undefined) opts.json = values.json;
  await runManyPartitions(opts);
}

runWhenInvoked("many-partitions", main);
