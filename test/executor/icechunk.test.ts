/**
 * Executor-driven writes on Icechunk (src/collection/icechunk-job.ts): the
 * workers commit on a job branch, the collection's branch moves to it at
 * once. Three `zcollection worker` processes on a real Redis; a worker
 * killed mid-run; another writer committing meanwhile (conflict: nothing
 * of the job published, the other commit kept); a failing task; and the
 * same operations through the in-process executor equal to the plain ones.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { JOB_BRANCH_PREFIX } from "../../src/collection/icechunk-job.js";
import { type Collection, createCollection, openCollection } from "../../src/collection/index.js";
import { Dataset } from "../../src/data/index.js";
import { datetime64 } from "../../src/dtype.js";
import { ConflictError } from "../../src/errors.js";
import { NDArray } from "../../src/ndarray.js";
import { DatePartitioning } from "../../src/partitioning/index.js";
import type { DatasetSchema } from "../../src/schema/index.js";
import type { IcechunkStore } from "../../src/store/icechunk.js";
import { timeSchema } from "../helpers/collection-fixtures.js";
import { type RedisServer, startRedis, startWorkerProcess, type WorkerProcess } from "../helpers/redis.js";

const CLI = join(import.meta.dirname, "../../dist/cli/main.js");
const FNS = join(import.meta.dirname, "fns.mjs");
const BASE = datetime64("2024-01-01T00:00:00", "s");

/** `hours` hourly partitions of 2024-01-01, 6 rows each: `v = offset + k`, `m = [k, -k]`. */
function rows(schema: DatasetSchema, from: number, hours: number, offset: number): Dataset {
  const n = hours * 6;
  return Dataset.fromArrays(schema, {
    time: BigInt64Array.from({ length: n }, (_, k) => BASE + BigInt(from * 3600 + k * 600)),
    v: Float64Array.from({ length: n }, (_, k) => offset + k),
    m: NDArray.from(
      Int32Array.from({ length: 2 * n }, (_, i) => (i % 2 === 0 ? i >> 1 : -(i >> 1))),
      { shape: [n, 2] },
    ),
    c: Float32Array.from([1, 2]),
  });
}

function create(url: string): Promise<Collection> {
  return createCollection(url, {
    schema: timeSchema("datetime64[s]"),
    axis: "time",
    partitioning: new DatePartitioning("time", { resolution: "h" }),
    catalogEnabled: true,
  });
}

function v(ds: Dataset | null): number[] {
  assert.ok(ds);
  return Array.from((ds.getVariable("v").data as NDArray).data as Float64Array);
}

async function jobBranches(col: Collection): Promise<string[]> {
  return (await (col.store as IcechunkStore).branches()).filter((b) => b.startsWith(JOB_BRANCH_PREFIX));
}

describe("executor on Icechunk: job branch, one move of the collection's branch", {
  skip: !existsSync(CLI) && "dist/ not built",
}, () => {
  let redis: RedisServer;
  let workers: WorkerProcess[] = [];
  let dir: string;

  before(async () => {
    redis = await startRedis();
    workers = await Promise.all([1, 2, 3].map(() => startWorkerProcess(redis.url, 1)));
    dir = await mkdtemp(join(tmpdir(), "zc-exec-icechunk-"));
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("insert and upsert through the in-process executor store what the plain insert stores", async () => {
    const a = await create(`icechunk://${join(dir, "a")}`);
    const b = await create(`icechunk://${join(dir, "b")}`);
    await a.insert(rows(a.schema, 0, 6, 0), { executor: "in-process" });
    await b.insert(rows(b.schema, 0, 6, 0));
    await a.insert(rows(a.schema, 3, 6, 100), { executor: "in-process", merge: "upsert" });
    await b.insert(rows(b.schema, 3, 6, 100), { merge: "upsert" });
    assert.deepEqual(await a.partitions(), await b.partitions());
    assert.deepEqual(await a.partitions({ fromStore: true }), await a.partitions());
    assert.deepEqual(v(await a.query()), v(await b.query()));
    assert.deepEqual(await jobBranches(a), []);
  });

  let col: Collection;
  const url = () => `icechunk://${join(dir, "shared")}`;

  it("update on three workers, one killed mid-run: every partition once, published at once", async () => {
    col = await create(url());
    await col.insert(rows(col.schema, 0, 24, 0));
    const before = v(await col.query());
    const head = (col.store as IcechunkStore).snapshotId;
    let killed = false;
    let midRun: Promise<number[]> | undefined;
    const seen = new Set<string>();
    const written = await col.update(
      { module: FNS, export: "slowAddOneToV" },
      {
        executor: redis.url,
        onProgress: (p) => {
          const worker = (p as { worker?: string }).worker;
          if (worker) seen.add(worker);
          if (!killed && p.done >= 4) {
            killed = true;
            workers[0]?.child.kill("SIGKILL");
            // Readers of the collection's branch see nothing of the job before its end.
            midRun = openCollection(url()).then(async (c) => v(await c.query()));
          }
        },
      },
    );
    assert.ok(killed);
    assert.equal(written.length, 24);
    assert.deepEqual(await midRun, before, "nothing published before the move");
    assert.ok(seen.size >= 2, `tasks ran on ${seen.size} worker(s)`);
    assert.notEqual((col.store as IcechunkStore).snapshotId, head);
    assert.deepEqual(
      v(await col.query()),
      before.map((x) => x + 1),
    );
    assert.deepEqual(await jobBranches(col), []);
    workers[0] = await startWorkerProcess(redis.url, 1);
  });

  it("another writer commits during the job: ConflictError, its commit kept, nothing of the job published", async () => {
    const before = v(await col.query());
    const other = await openCollection(url(), { mode: "rw" });
    const flag = join(dir, "go");
    const job = col.update({ module: FNS, export: "addOneToVAfter", args: [flag] }, { executor: redis.url });
    const refused = assert.rejects(
      job,
      (e: unknown) =>
        e instanceof ConflictError && /moved from .* nothing of that work was published/.test(e.message),
    );
    // The tasks wait for the flag: the other writer commits first, for sure.
    await other.insert(rows(other.schema, 30, 1, 1000));
    await writeFile(flag, "");
    await refused;
    const now = await openCollection(url());
    assert.deepEqual(v(await now.query({ filters: "hour < 24 and day == 1" })), before);
    assert.deepEqual(
      v(await now.query({ filters: "day == 2" })),
      Array.from({ length: 6 }, (_, k) => 1000 + k),
    );
    assert.deepEqual(await jobBranches(col), []);
  });

  it("a task failing for good: its error, nothing published, no job branch left", async () => {
    const reader = await openCollection(url());
    const before = v(await reader.query());
    await assert.rejects(
      col.update({ module: FNS, export: "failOnHour10V" }, { executor: redis.url }),
      (e: unknown) => e instanceof RangeError && /bad partition on purpose.*hour=10/.test(e.message),
    );
    assert.deepEqual(v(await (await openCollection(url())).query()), before);
    assert.deepEqual(await jobBranches(col), []);
  });
});
