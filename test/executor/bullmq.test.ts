/**
 * The BullMQ executor with a real Redis and three `zcollection worker`
 * processes (from the build): ingest of a bundled product, map, update,
 * View.update and Indexer.build over 57 partitions, a worker killed mid-run,
 * a task failing for good.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { type Collection, openCollection } from "../../src/collection/index.js";
import type { Dataset } from "../../src/data/dataset.js";
import { StoreError } from "../../src/errors.js";
import { Indexer, runsOf } from "../../src/indexing/index.js";
import type { NDArray } from "../../src/ndarray.js";
import { VariableSchema } from "../../src/schema/index.js";
import { View } from "../../src/view/index.js";
import { type RedisServer, startRedis, startWorkerProcess, type WorkerProcess } from "../helpers/redis.js";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "../..");
const CLI = join(ROOT, "dist/cli/main.js");
const JA1 = join(ROOT, "examples/data/JA1_GPN_2PeP001_002_20020115_060706_20020115_070316.nc");
const FNS = join(import.meta.dirname, "fns.mjs");
const INGEST = ["--key", "date", "--resolution", "m", "--exclude-dimension", "meas_ind", "--catalog"];

function lon(ds: Dataset): Float64Array {
  return (ds.getVariable("lon").data as NDArray).data as Float64Array;
}

/** Workers that reported completing a task of `kind`. */
function workersThatRan(workers: readonly WorkerProcess[], kind: string): number {
  return workers.filter((w) => w.log.some((l) => l.startsWith(`completed ${kind} `))).length;
}

describe("executor: BullMQ on Redis, three worker processes", {
  skip: !existsSync(CLI) && "dist/ not built",
}, () => {
  let redis: RedisServer;
  let workers: WorkerProcess[] = [];
  let dir: string;
  let col: Collection;

  before(async () => {
    redis = await startRedis();
    workers = await Promise.all([1, 2, 3].map(() => startWorkerProcess(redis.url, 2)));
    dir = await mkdtemp(join(tmpdir(), "zc-exec-bullmq-"));
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("ingest --executor writes what a local ingest writes, on several workers, one commit", async () => {
    const distributed = join(dir, "ja1");
    const local = join(dir, "ja1-local");
    const [a, b] = await Promise.all([
      run(process.execPath, [CLI, "ingest", distributed, JA1, ...INGEST, "--executor", redis.url]),
      run(process.execPath, [CLI, "ingest", local, JA1, ...INGEST]),
    ]);
    assert.match(a.stdout, /ingested 1 file\(s\): 2240 new rows, 0 rows replaced, 57 partition\(s\) written/);
    assert.match(b.stdout, /ingested 1 file\(s\): 2240 new rows, 0 rows replaced, 57 partition\(s\) written/);
    col = await openCollection(distributed, { mode: "rw" });
    const reference = await openCollection(local);
    assert.deepEqual(await col.partitions(), await reference.partitions());
    assert.deepEqual(await col.partitions({ fromStore: true }), await col.partitions());
    const x = await col.query();
    const y = await reference.query();
    assert.ok(x && y);
    for (const [path, v] of y.allVariables()) {
      const mine = x.allVariables().get(path)?.data as NDArray | undefined;
      assert.deepEqual(mine?.data, (v.data as NDArray).data, path);
    }
    assert.ok(workersThatRan(workers, "ingest.partition") >= 2, "tasks ran on several workers");
    assert.deepEqual(await readdir(join(distributed, "_zc_meta", "journal")).catch(() => []), []);
  });

  it("map runs on several processes and equals the local map", async () => {
    const { summary } = (await import(FNS)) as { summary: (ds: Dataset, p: string) => { pid: number } };
    const local = await col.map((ds, p) => ({ ...summary(ds, p), pid: 0 }));
    const remote = await col.map<{ pid: number }>(
      { module: FNS, export: "summary" },
      { executor: redis.url },
    );
    assert.equal(remote.size, 57);
    const pids = new Set([...remote.values()].map((r) => r.pid));
    assert.ok(pids.size >= 2, `results came from ${pids.size} process(es)`);
    assert.ok(!pids.has(process.pid));
    for (const [p, r] of local) assert.deepEqual({ ...remote.get(p), pid: 0 }, r, p);
  });

  it("a worker killed mid-update: its tasks run elsewhere, every partition is updated exactly once", async () => {
    const before = await col.query({ variables: ["lon"] });
    let killed = false;
    let midRun: Promise<Dataset | null> | undefined;
    const written = await col.update(
      { module: FNS, export: "slowAddOne" },
      {
        executor: redis.url,
        onProgress: (p) => {
          if (!killed && p.done >= 6) {
            killed = true;
            workers[0]?.child.kill("SIGKILL");
            // While tasks run, readers still see the old data: workers only stage, the commit publishes.
            midRun = openCollection(join(dir, "ja1")).then((c) => c.query({ variables: ["lon"] }));
          }
        },
      },
    );
    assert.ok(killed);
    assert.deepEqual(
      lon((await midRun) as Dataset),
      lon(before as Dataset),
      "nothing published before the commit",
    );
    assert.equal(written.length, 57);
    const after = await col.query({ variables: ["lon"] });
    const a = lon(before as Dataset);
    const b = lon(after as Dataset);
    for (let i = 0; i < a.length; i++)
      if (!Number.isNaN(a[i])) assert.equal(b[i], (a[i] as number) + 1, `row ${i}`);
    assert.deepEqual(await readdir(join(dir, "ja1", "_zc_meta", "journal")).catch(() => []), []);
    assert.deepEqual(await readdir(join(dir, "ja1", "_zc_meta", "staging")).catch(() => []), []);
    // Replace the dead worker for what follows.
    workers[0] = await startWorkerProcess(redis.url, 2);
  });

  it("a task failing for good fails the update with its error; nothing is published", async () => {
    const before = await col.query({ variables: ["lon"] });
    await assert.rejects(
      col.update({ module: FNS, export: "failOnMinute10" }, { executor: redis.url }),
      (e: unknown) => e instanceof RangeError && /bad partition on purpose.*minute=10/.test(e.message),
    );
    const after = await col.query({ variables: ["lon"] });
    assert.deepEqual(lon(after as Dataset), lon(before as Dataset));
    // The operation's leases are released: a local update runs at once.
    await col.update((ds) => ds, { filters: "minute == 11" });
  });

  it("View.update and Indexer.build on the workers equal the local results", async () => {
    const view = await View.create(join(dir, "view"), {
      base: await openCollection(join(dir, "ja1")),
      variables: [new VariableSchema("lon_deg", { dtype: "int16", dimensions: ["time"], fillValue: -32768 })],
    });
    assert.equal(
      (await view.update({ module: FNS, export: "lonDegrees" }, { executor: redis.url })).length,
      57,
    );
    const ds = await view.query({ variables: ["lon", "lon_deg"] });
    assert.ok(ds);
    const deg = (ds.getVariable("lon_deg").data as NDArray).data as Int16Array;
    for (const [i, v] of lon(ds).entries()) assert.equal(deg[i], Number.isNaN(v) ? -32768 : Math.round(v));

    const local = await Indexer.build(col, { builder: runsOf(["surface_type"]) });
    const remote = await Indexer.build(col, {
      builder: { module: "zcollection/indexing", export: "runsOf", args: [["surface_type"]] },
      executor: redis.url,
    });
    assert.deepEqual(
      remote.table.toArray().map((r) => r.toJSON()),
      local.table.toArray().map((r) => r.toJSON()),
    );
  });

  it("a memory:// collection cannot go to other processes", async () => {
    const { createCollection } = await import("../../src/collection/index.js");
    const mem = await createCollection("memory://exec-test", {
      schema: col.schema,
      axis: col.axis,
      partitioning: col.partitioning,
    });
    await assert.rejects(
      mem.map({ module: FNS, export: "summary" }, { executor: redis.url }),
      (e: unknown) => e instanceof StoreError && /memory.*cannot reach it/.test(e.message),
    );
  });
});
