/**
 * `node dist/bench/latency.js`: the collection scenarios behind an object
 * store's latency and bandwidth (issue 13, item 4), against the ideal for
 * that latency.
 *
 * The store is wrapped in a {@link LatencyStore}: every request lasts at
 * least `--latency` ms, payloads share one link of `--bandwidth` MB/s, at
 * most `--concurrency` requests are in flight (a client's connection
 * pool). Under it, a `memory://` store by default (`--store URL` for
 * another), so that what is measured is the library and the model, not a
 * disk.
 *
 * Dataset: the collection benchmark's (`npm run bench`, BENCHMARKS.md)
 * scaled down by default: `--partitions` (12) monthly partitions of
 * `--rows` (50 000) rows, `time` datetime64[s] and `ssh(time, x_ac)`
 * float32 standard normal with `x_ac` of `--width` (24), codecs of the
 * default profile (`cloud-balanced`: zstd 3, sharded).
 *
 * The collection has a catalog (`--no-catalog`: without, listing walks the
 * store). Scenarios, each `--repeat` times (default 3), the store counted
 * from just before the timed call:
 * - `insert`: `insert` of the whole dataset into a new collection;
 * - `insert_one_partition`: `insert` of one more partition (January 2025,
 *   the rows of January 2024 a year later) into it;
 * - `query_one_partition`: `query({filters: "year == 2024 and month == 1"})`
 *   on the collection opened read-only (the open is not timed);
 * - `query_full`: `query()` (the 13 partitions).
 * First without the wrapper (`local`: the compute and memory-store time;
 * after one unrecorded warm-up run), then for each latency of `--latency`
 * (a comma-separated list). `--partition-concurrency N` sets config
 * `partition.concurrency` (default 8) for the whole run.
 *
 * Ideal for a scenario: `requests ÷ concurrency × latency + bytes ÷
 * bandwidth`, with the requests and bytes the scenario made. Target
 * (PASS/FAIL line): median time ≤ 1.5× the ideal (`--target`). The ideal
 * leaves compute out: also reported, the ratio to max(ideal, local) — what
 * perfect overlap of network and compute would give on this machine —, the
 * time in round trips (seconds ÷ latency), the mean requests in flight
 * (time requests spent on a connection ÷ elapsed time) and the most at once.
 *
 * @module
 */

import { availableParallelism, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { createCollection, openCollection } from "../collection/index.js";
import * as config from "../config.js";
import { Dataset } from "../data/dataset.js";
import { NDArray } from "../ndarray.js";
import * as partitioning from "../partitioning/index.js";
import { Schema } from "../schema/index.js";
import { LatencyStore } from "../store/latency.js";
import { openStore } from "../store/open.js";
import type { Store } from "../store/store.js";
import { monthlyTimes } from "./collection.js";
import { runWhenInvoked } from "./entry.js";
import { normalFloat32 } from "./zarr.js";

/** Options of {@link runLatencyBench}. */
export interface LatencyBenchOptions {
  /** Latencies to run, in ms (default [20]). */
  latencies?: readonly number[];
  /** Link bandwidth in MB/s (10^6 bytes; default 100). */
  bandwidthMBps?: number;
  /** Requests in flight at most (default 16). */
  concurrency?: number;
  /** Monthly partitions (default 12, at most 12). */
  partitions?: number;
  /** Rows per partition (default 50 000). */
  rows?: number;
  /** Width of `ssh` (default 24). */
  width?: number;
  /** Runs of each scenario (default 3). */
  repeat?: number;
  /** Inner store URL (default `memory://`, a fresh store per insert). */
  store?: string;
  /** Allowed ratio to the ideal (default 1.5). */
  target?: number;
  /** Create the collection with a catalog (default true: listing is one GET, as on an object store one wants). */
  catalog?: boolean;
  /** Receives each line of the report. */
  log?: (line: string) => void;
}

/** One scenario at one latency. */
export interface LatencyResult {
  readonly scenario: string;
  /** ms per request; 0 for the run without the wrapper. */
  readonly latencyMs: number;
  readonly seconds: readonly number[];
  /** Requests, bytes read and written of the first run. */
  readonly requests: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  /** Uncompressed bytes of the data inserted or read. */
  readonly dataBytes: number;
  /** Ideal seconds for the requests and bytes (0 without the wrapper). */
  readonly idealSeconds: number;
  /** Median seconds of the same scenario without the wrapper (compute and memory store). */
  readonly localSeconds: number;
  /** Mean requests in flight over the runs. */
  readonly meanInFlight: number;
  /** Most requests in flight at once. */
  readonly peakInFlight: number;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/**
 * Runs the benchmark (see the module comment).
 *
 * @returns one result per scenario and latency (latency 0: without the wrapper).
 */
export async function runLatencyBench(opts: LatencyBenchOptions = {}): Promise<LatencyResult[]> {
  const latencies = opts.latencies ?? [20];
  const bandwidth = (opts.bandwidthMBps ?? 100) * 1e6;
  const concurrency = opts.concurrency ?? 16;
  const months = opts.partitions ?? 12;
  const rows = opts.rows ?? 50_000;
  const width = opts.width ?? 24;
  const repeat = opts.repeat ?? 3;
  const url = opts.store ?? "memory://";
  const target = opts.target ?? 1.5;
  const catalog = opts.catalog ?? true;
  const log = opts.log ?? (() => undefined);
  if (months < 1 || months > 12) throw new RangeError(`partitions must be 1…12; got ${months}`);
  const schema = Schema()
    .withDimension("time", { chunks: 4096 })
    .withDimension("x_ac", { size: width, chunks: width })
    .withVariable("time", { dtype: "datetime64[s]", dimensions: ["time"] })
    .withVariable("ssh", { dtype: "float32", dimensions: ["time", "x_ac"] })
    .build();
  const times = monthlyTimes(months, rows);
  const ssh = normalFloat32(months * rows * width, 0);
  const dataset = Dataset.fromArrays(schema, {
    time: times,
    ssh: NDArray.from(ssh, { shape: [months * rows, width] }),
  });
  const totalBytes = times.byteLength + ssh.byteLength;
  // One more partition: January 2025, the rows of January 2024 a year (366 days) later.
  const nextTimes = times.slice(0, rows).map((t) => t + 366n * 86_400n);
  const nextPartition = Dataset.fromArrays(schema, {
    time: nextTimes,
    ssh: NDArray.from(ssh.subarray(0, rows * width), { shape: [rows, width] }),
  });
  const loads = [loadavg()[0] as number];
  log(
    `latency bench: ${months} monthly partitions x ${rows} rows, ssh float32 x ${width} + time = ` +
      `${(totalBytes / 1e6).toFixed(1)} MB; inner store ${url}; link ${bandwidth / 1e6} MB/s, ` +
      `${concurrency} connections; latencies ${latencies.join(", ")} ms; catalog ${catalog ? "on" : "off"}; ` +
      `${availableParallelism()} cores, ` +
      `codec.workers=${config.get("codec.workers")}, partition.concurrency=${config.partitionConcurrency()}; ` +
      `load average ${loadavg()
        .map((x) => x.toFixed(2))
        .join(" ")}`,
  );

  const results: LatencyResult[] = [];
  const local = new Map<string, number>();
  // The first latency (0) runs once more first, unrecorded: worker threads started, code compiled.
  for (const [index, latency] of [0, 0, ...latencies].entries()) {
    const warmUp = index === 0;
    const wrap = (inner: Store): Store =>
      latency === 0 ? inner : new LatencyStore(inner, { latencyMs: latency, bandwidth, concurrency });
    const runs = new Map<string, { seconds: number[]; busy: number; peak: number; first?: LatencyResult }>();
    const note = (scenario: string, store: Store, seconds: number, dataBytes: number) => {
      let r = runs.get(scenario);
      if (r === undefined) {
        r = { seconds: [], busy: 0, peak: 0 };
        runs.set(scenario, r);
      }
      r.seconds.push(seconds);
      if (store instanceof LatencyStore) {
        const s = store.stats;
        r.busy += s.busyMs / 1000;
        r.peak = Math.max(r.peak, s.peakInFlight);
        r.first ??= {
          scenario,
          latencyMs: latency,
          seconds: [],
          requests: s.requests,
          bytesRead: s.bytesRead,
          bytesWritten: s.bytesWritten,
          dataBytes,
          idealSeconds: store.idealSeconds(s.requests, s.bytesRead + s.bytesWritten),
          localSeconds: 0,
          meanInFlight: 0,
          peakInFlight: 0,
        };
      } else {
        r.first ??= {
          scenario,
          latencyMs: 0,
          seconds: [],
          requests: 0,
          bytesRead: 0,
          bytesWritten: 0,
          dataBytes,
          idealSeconds: 0,
          localSeconds: 0,
          meanInFlight: 0,
          peakInFlight: 0,
        };
      }
    };
    const reset = (store: Store) => {
      if (store instanceof LatencyStore) store.reset();
    };
    for (let run = 0; run < (warmUp ? 1 : repeat); run++) {
      const inner = await openStore(url);
      const store = wrap(inner);
      try {
        const collection = await createCollection(store, {
          schema,
          axis: "time",
          partitioning: new partitioning.Date("time", { resolution: "M" }),
          catalogEnabled: catalog,
          overwrite: true,
        });
        reset(store);
        let t0 = performance.now();
        const written = await collection.insert(dataset);
        note("insert", store, (performance.now() - t0) / 1000, totalBytes);
        if (written.length !== months) throw new Error(`insert wrote ${written.length} partitions`);
        reset(store);
        t0 = performance.now();
        const added = await collection.insert(nextPartition);
        note("insert_one_partition", store, (performance.now() - t0) / 1000, totalBytes / months);
        if (added.length !== 1) throw new Error(`insert_one_partition wrote ${added.length} partitions`);

        const reader = await openCollection(wrap(inner), { mode: "r" });
        const readStore = reader.store;
        reset(readStore);
        t0 = performance.now();
        const one = await reader.query({ filters: "year == 2024 and month == 1" });
        note("query_one_partition", readStore, (performance.now() - t0) / 1000, totalBytes / months);
        if (one?.getVariable("time").array.shape[0] !== rows)
          throw new Error("query_one_partition: wrong rows");
        reset(readStore);
        t0 = performance.now();
        const all = await reader.query();
        note("query_full", readStore, (performance.now() - t0) / 1000, totalBytes + totalBytes / months);
        const t = all?.getVariable("time").array.data as BigInt64Array | undefined;
        if (t?.length !== (months + 1) * rows || t[months * rows - 1] !== times[times.length - 1])
          throw new Error("query_full: wrong rows");
      } finally {
        if (!url.startsWith("memory://")) await inner.close();
      }
    }
    if (warmUp) continue;
    for (const [scenario, r] of runs) {
      const first = r.first as LatencyResult;
      const elapsed = r.seconds.reduce((a, b) => a + b, 0);
      if (latency === 0) local.set(scenario, median(r.seconds));
      results.push({
        ...first,
        seconds: r.seconds,
        localSeconds: local.get(scenario) ?? 0,
        meanInFlight: latency === 0 ? 0 : r.busy / elapsed,
        peakInFlight: r.peak,
      });
    }
    loads.push(loadavg()[0] as number);
  }
  report(results, target, log);
  log(
    `load average (1 min) during the run: ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)} ` +
      `on ${availableParallelism()} cores`,
  );
  return results;
}

function report(results: readonly LatencyResult[], target: number, log: (line: string) => void): void {
  const dash = (r: LatencyResult, text: () => string) => (r.latencyMs === 0 ? "-" : text());
  log(
    `${"scenario".padEnd(20)} ${"lat ms".padStart(6)} ${"best s".padStart(7)} ${"median s".padStart(8)} ${"MB/s".padStart(6)} ` +
      `${"requests".padStart(8)} ${"MB moved".padStart(8)} ${"ideal s".padStart(7)} ${"ratio".padStart(6)} ` +
      `${"local s".padStart(7)} ${"vs max".padStart(6)} ${"RTTs".padStart(5)} ${"in flight".padStart(9)} ${"peak".padStart(4)}`,
  );
  for (const r of results) {
    const med = median(r.seconds);
    const bound = Math.max(r.idealSeconds, r.localSeconds);
    log(
      `${r.scenario.padEnd(20)} ${String(r.latencyMs).padStart(6)} ${Math.min(...r.seconds)
        .toFixed(3)
        .padStart(7)} ` +
        `${med.toFixed(3).padStart(8)} ${(r.dataBytes / 1e6 / med).toFixed(0).padStart(6)} ` +
        `${dash(r, () => String(r.requests)).padStart(8)} ` +
        `${dash(r, () => ((r.bytesRead + r.bytesWritten) / 1e6).toFixed(1)).padStart(8)} ` +
        `${dash(r, () => r.idealSeconds.toFixed(3)).padStart(7)} ` +
        `${dash(r, () => `${(med / r.idealSeconds).toFixed(2)}x`).padStart(6)} ` +
        `${dash(r, () => r.localSeconds.toFixed(3)).padStart(7)} ` +
        `${dash(r, () => `${(med / bound).toFixed(2)}x`).padStart(6)} ` +
        `${dash(r, () => (med / (r.latencyMs / 1000)).toFixed(1)).padStart(5)} ` +
        `${dash(r, () => r.meanInFlight.toFixed(1)).padStart(9)} ${dash(r, () => String(r.peakInFlight)).padStart(4)}`,
    );
  }
  log(
    "ideal = requests ÷ connections × latency + MB moved ÷ bandwidth; local = the same scenario without the " +
      "wrapper; vs max = median ÷ max(ideal, local) (network and compute perfectly overlapped); RTTs = median ÷ " +
      "latency; in flight = mean requests holding a connection",
  );
  for (const r of results) {
    if (r.latencyMs === 0) continue;
    const ratio = median(r.seconds) / r.idealSeconds;
    log(
      `${ratio <= target ? "PASS" : "FAIL"} ${r.scenario} at ${r.latencyMs} ms: median ${median(r.seconds).toFixed(3)} s ` +
        `≤ ${target}× the ideal ${r.idealSeconds.toFixed(3)} s: ${ratio.toFixed(2)}× ` +
        `(${(median(r.seconds) / Math.max(r.idealSeconds, r.localSeconds)).toFixed(2)}× max(ideal, local))`,
    );
  }
}

function numbers(text: string, name: string): number[] {
  return text.split(",").map((s) => {
    const n = Number(s.trim());
    if (!Number.isFinite(n) || n <= 0) throw new RangeError(`${name} takes positive numbers; got '${s}'`);
    return n;
  });
}

function one(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const [n, ...rest] = numbers(text, name);
  if (rest.length > 0) throw new RangeError(`${name} takes one number; got '${text}'`);
  return n;
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      latency: { type: "string" },
      bandwidth: { type: "string" },
      concurrency: { type: "string" },
      partitions: { type: "string" },
      rows: { type: "string" },
      width: { type: "string" },
      repeat: { type: "string" },
      store: { type: "string" },
      target: { type: "string" },
      "no-catalog": { type: "boolean" },
      "partition-concurrency": { type: "string" },
    },
  });
  const opts: LatencyBenchOptions = { log: (line) => console.log(line) };
  if (values.latency !== undefined) opts.latencies = numbers(values.latency, "--latency");
  const ints: Array<[keyof LatencyBenchOptions, string | undefined, string]> = [
    ["concurrency", values.concurrency, "--concurrency"],
    ["partitions", values.partitions, "--partitions"],
    ["rows", values.rows, "--rows"],
    ["width", values.width, "--width"],
    ["repeat", values.repeat, "--repeat"],
  ];
  for (const [key, text, name] of ints) {
    const n = one(text, name);
    if (n === undefined) continue;
    if (!Number.isSafeInteger(n)) throw new RangeError(`${name} must be an integer; got '${text}'`);
    (opts as Record<string, unknown>)[key] = n;
  }
  const bw = one(values.bandwidth, "--bandwidth");
  if (bw !== undefined) opts.bandwidthMBps = bw;
  const target = one(values.target, "--target");
  if (target !== undefined) opts.target = target;
  if (values.store !== undefined) opts.store = values.store;
  if (values["no-catalog"] === true) opts.catalog = false;
  const pc = one(values["partition-concurrency"], "--partition-concurrency");
  if (pc !== undefined) config.set({ "partition.concurrency": pc });
  await runLatencyBench(opts);
}

runWhenInvoked("latency", main);
