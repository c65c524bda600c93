/**
 * A query timed in a process of its own, with its peak memory: what a
 * user's script or `zcollection query` sees. Inside the benchmark process
 * the query shares the heap with the generated dataset (hundreds of MB the
 * garbage collector keeps scanning) and its peak memory cannot be told
 * apart from the dataset's, so `npm run bench` runs this script as a child
 * (`probeQuery`) and reports its figures next to the in-process ones.
 *
 * The child opens the collection read-only, starts the codec pool (so
 * that thread start-up is not counted: a long-lived process pays it once),
 * notes its resident set size, times one `query`, then reports as one JSON
 * line: seconds, store requests, the bytes of the result, the resident set
 * before the query and the process's peak.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { openCollection } from "../collection/index.js";
import type { Dataset } from "../data/dataset.js";
import type { TypedArray } from "../dtype.js";
import { NDArray } from "../ndarray.js";
import { CountingStore } from "../store/counting.js";
import { openStore } from "../store/open.js";
import { workerZstdBackendName } from "../zarr/compression/index.js";
import { runWhenInvoked } from "./entry.js";

/** What the child reports. */
export interface QueryProbe {
  /** Wall-clock seconds of `query()`. */
  readonly seconds: number;
  /** Store calls of the query (`get`, `list`, ...). */
  readonly counts: Record<string, number>;
  /** Bytes of the result's arrays. */
  readonly resultBytes: number;
  /** Rows of the result along its first variable's first axis. */
  readonly rows: number;
  /** Resident set size just before the query, bytes. */
  readonly rssBeforeBytes: number;
  /** Peak resident set size of the process, bytes (`VmHWM` on Linux). */
  readonly maxRssBytes: number;
}

/** Bytes held by the typed arrays of `ds` (strings are not counted). */
function resultBytes(ds: Dataset | null): number {
  let n = 0;
  for (const v of ds?.allVariables().values() ?? []) {
    if (v.data instanceof NDArray && !Array.isArray(v.data.data)) n += (v.data.data as TypedArray).byteLength;
  }
  return n;
}

/**
 * The process's peak resident set size, bytes: `VmHWM` of /proc/self/status
 * where there is one. Not `process.resourceUsage().maxRSS` there: Linux
 * carries the parent's peak over `fork` + `exec` into it, so a child of the
 * benchmark process would report the benchmark's own memory.
 */
function peakRss(): number {
  try {
    const status = readFileSync("/proc/self/status", "utf8");
    const kB = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
    if (kB !== undefined) return Number(kB) * 1024;
  } catch {
    // Not Linux: the resource usage is the best there is.
  }
  return process.resourceUsage().maxRSS * 1024;
}

async function child(argv: string[]): Promise<void> {
  const [url, filters] = argv;
  if (url === undefined) throw new RangeError("usage: query-probe.js URL [FILTER]");
  const store = new CountingStore(await openStore(url, { readOnly: true }));
  const collection = await openCollection(store, { mode: "r" });
  await workerZstdBackendName();
  const rssBeforeBytes = process.memoryUsage().rss;
  store.reset();
  const t0 = performance.now();
  const ds = await collection.query(filters === undefined || filters === "" ? {} : { filters });
  const seconds = (performance.now() - t0) / 1000;
  const first = ds?.allVariables().values().next().value;
  const probe: QueryProbe = {
    seconds,
    counts: { ...store.counts } as unknown as Record<string, number>,
    resultBytes: resultBytes(ds),
    rows: first?.shape[0] ?? 0,
    rssBeforeBytes,
    maxRssBytes: peakRss(),
  };
  process.stdout.write(`${JSON.stringify(probe)}\n`);
}

/**
 * Runs one `query` of the collection at `url` (with `filters`, if any) in a
 * new Node process and returns what it measured.
 *
 * @throws Error with the child's stderr when it fails.
 */
export async function probeQuery(url: string, filters?: string): Promise<QueryProbe> {
  const fromSource = import.meta.url.endsWith(".ts");
  const script = fileURLToPath(
    new URL(fromSource ? "./query-probe.ts" : "./query-probe.js", import.meta.url),
  );
  const args = [
    ...(fromSource ? process.execArgv : []),
    script,
    url,
    ...(filters === undefined ? [] : [filters]),
  ];
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    proc.stdout.on("data", (b: Buffer) => {
      out += b.toString();
    });
    proc.stderr.on("data", (b: Buffer) => {
      err += b.toString();
    });
    proc.on("error", reject);
    proc.on("close", (code) => {
      const line = out.trim().split("\n").pop() ?? "";
      if (code !== 0 || line === "") reject(new Error(`query probe exited with ${code}: ${err.trim()}`));
      else resolve(JSON.parse(line) as QueryProbe);
    });
  });
}

runWhenInvoked("query-probe", child);
