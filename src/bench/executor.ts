/**
 * `node dist/bench/executor.js`: the cost and the scaling of the BullMQ
 * executor on this machine, against the same work in one process.
 *
 * Needs `redis-server` on the PATH (started on a free port, persistence
 * off, stopped at the end) and the build (`dist/`; workers run
 * `dist/cli/main.js worker`).
 *
 * Scenarios, each timed on its own:
 * - `ingest`: `zcollection ingest` of the bundled Jason-1 product with
 *   minute partitions (57 partitions of ~40 rows; per-task work is small:
 *   reading the NetCDF file, staging a tiny partition), without an
 *   executor, then with `--executor` on 1, 2 and 4 workers;
 * - `update`: `collection.update(addOne)` over a generated collection of
 *   `partitions` daily partitions × `rows` rows × `width` float32 (read,
 *   add 1, write), in process, then on 1, 2 and 4 workers;
 * - `task`: `map(nothing)` over the 57 small partitions — the cost of a task
 *   itself (queueing, a worker's read of a small partition, the result).
 *
 * Workers run with `--concurrency 1`; the machine's cores are printed.
 *
 * @module
 */

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { createCollection, openCollection } from "../collection/index.js";
import { Dataset } from "../data/dataset.js";
import { NDArray } from "../ndarray.js";
import * as partitioning from "../partitioning/index.js";
import { Schema } from "../schema/index.js";
import { addOne } from "./executor-fns.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLI = join(ROOT, "dist/cli/main.js");
const FNS = new URL("./executor-fns.js", import.meta.url).href;
const JA1 = join(ROOT, "examples/data/JA1_GPN_2PeP001_002_20020115_060706_20020115_070316.nc");

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function startRedis(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    {
      stdio: "ignore",
    },
  );
  for (let i = 0; i < 200; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: "127.0.0.1", port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (up) return { url: `redis://127.0.0.1:${port}`, child };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGKILL");
  throw new Error("redis-server did not start (is it installed?)");
}

async function startWorkers(url: string, n: number): Promise<ChildProcess[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const child = spawn(process.execPath, [CLI, "worker", url, "--concurrency", "1"], {
        stdio: ["ignore", "pipe", "ignore"],
      });
      await new Promise<void>((resolve, reject) => {
        child.stdout?.on("data", (d) => {
          if (String(d).includes(" ready on ")) resolve();
        });
        child.once("exit", (code) => reject(new Error(`worker exited with ${code}`)));
      });
      return child;
    }),
  );
}

async function stopWorkers(workers: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          w.once("exit", () => resolve());
          w.kill("SIGTERM");
          setTimeout(() => w.kill("SIGKILL"), 12_000).unref();
        }),
    ),
  );
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

/** One result line. */
interface Row {
  scenario: string;
  executor: string;
  seconds: number;
  tasks: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      partitions: { type: "string", default: "24" },
      rows: { type: "string", default: "20000" },
      width: { type: "string", default: "64" },
      workers: { type: "string", default: "1,2,4" },
      json: { type: "boolean", default: false },
    },
  });
  const partitions = Number(values.partitions);
  const rows = Number(values.rows);
  const width = Number(values.width);
  const counts = String(values.workers).split(",").map(Number);
  const dir = await mkdtemp(join(tmpdir(), "zc-bench-executor-"));
  const redis = await startRedis();
  const results: Row[] = [];
  const log = (r: Row) => {
    results.push(r);
    if (!values.json) {
      console.log(
        `${r.scenario.padEnd(7)} ${r.executor.padEnd(12)} ${r.seconds.toFixed(2).padStart(7)} s  ` +
          `${((r.seconds / r.tasks) * 1000).toFixed(1).padStart(7)} ms/task`,
      );
    }
  };
  try {
    console.log(
      `cores: ${availableParallelism()}, load average ${loadavg()
        .map((x) => x.toFixed(1))
        .join(" ")}; update data: ${partitions} partitions × ${rows} rows × ${width} float32 ` +
        `(${((partitions * rows * width * 4) / 1e6).toFixed(0)} MB)`,
    );
    // ingest
    const ingestArgs = (to: string) => [
      "ingest",
      to,
      JA1,
      "--key",
      "date",
      "--resolution",
      "m",
      "--exclude-dimension",
      "meas_ind",
    ];
    log({
      scenario: "ingest",
      executor: "none",
      seconds: await timed(() => run(process.execPath, [CLI, ...ingestArgs(join(dir, "ja1-local"))])),
      tasks: 57,
    });
    for (const n of counts) {
      const workers = await startWorkers(redis.url, n);
      const seconds = await timed(() =>
        run(process.execPath, [CLI, ...ingestArgs(join(dir, `ja1-${n}`)), "--executor", redis.url]),
      );
      log({ scenario: "ingest", executor: `bullmq × ${n}`, seconds, tasks: 57 });
      const small = await openCollection(join(dir, `ja1-${n}`));
      log({
        scenario: "task",
        executor: `bullmq × ${n}`,
        seconds: await timed(() => small.map({ module: FNS, export: "nothing" }, { executor: redis.url })),
        tasks: 57,
      });
      await stopWorkers(workers);
    }
    const small = await openCollection(join(dir, "ja1-local"));
    log({
      scenario: "task",
      executor: "in-process",
      seconds: await timed(() => small.map({ module: FNS, export: "nothing" }, { executor: "in-process" })),
      tasks: 57,
    });

    // update
    const schema = Schema()
      .withDimension("time", { chunks: 4096 })
      .withDimension("x_ac", { size: width, chunks: width })
      .withVariable("time", { dtype: "datetime64[s]", dimensions: ["time"] })
      .withVariable("ssh", { dtype: "float32", dimensions: ["time", "x_ac"] })
      .build();
    const total = partitions * rows;
    const day0 = BigInt(Date.UTC(2024, 0, 1) / 1000);
    const time = new BigInt64Array(total).map(
      (_, i) => day0 + BigInt(Math.floor(i / rows)) * 86400n + BigInt(i % rows),
    );
    const ssh = new Float32Array(total * width).map((_, i) => (i % 1000) / 10);
    const col = await createCollection(join(dir, "grid"), {
      schema,
      axis: "time",
      partitioning: new partitioning.Date("time", { resolution: "D" }),
    });
    await col.insert(
      Dataset.fromArrays(schema, {
        time: NDArray.from(time, { dtype: "datetime64[s]" }),
        ssh: NDArray.from(ssh, { shape: [total, width] }),
      }),
    );
    const rw = await openCollection(join(dir, "grid"), { mode: "rw" });
    log({
      scenario: "update",
      executor: "none",
      seconds: await timed(() => rw.update(addOne)),
      tasks: partitions,
    });
    for (const n of counts) {
      const workers = await startWorkers(redis.url, n);
      log({
        scenario: "update",
        executor: `bullmq × ${n}`,
        seconds: await timed(() => rw.update({ module: FNS, export: "addOne" }, { executor: redis.url })),
        tasks: partitions,
      });
      await stopWorkers(workers);
    }
    if (values.json) console.log(JSON.stringify(results, null, 2));
  } finally {
    redis.child.kill("SIGTERM");
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
