/**
 * The BullMQ executor on BullMQ's PostgreSQL backend, with a real
 * PostgreSQL server and three `zcollection worker` processes (from the
 * build): update over 30 partitions on several workers, a worker killed
 * mid-run, a task failing for good. And the queue URL parser.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Collection, createCollection } from "../../src/collection/index.js";
import { Dataset } from "../../src/data/index.js";
import { datetime64 } from "../../src/dtype.js";
import type { ExecutorProgress } from "../../src/executor/api.js";
import { parseQueueUrl } from "../../src/executor/queue-url.js";
import type { NDArray } from "../../src/ndarray.js";
import { DatePartitioning } from "../../src/partitioning/index.js";
import { Schema } from "../../src/schema/index.js";
import { type PostgresServer, startPostgres } from "../helpers/postgres.js";
import { startWorkerProcess, type WorkerProcess } from "../helpers/redis.js";

const CLI = join(import.meta.dirname, "../../dist/cli/main.js");
const FNS = join(import.meta.dirname, "fns.mjs");
/** Partitions (minutes) of the collection, 4 rows each. */
const MINUTES = 30;

function lon(ds: Dataset | null): Float64Array {
  assert.ok(ds);
  return (ds.getVariable("lon").data as NDArray).data as Float64Array;
}

describe("queue URLs", () => {
  it("redis://: host, port, database, queue, TLS; no credentials shown", () => {
    assert.deepEqual(parseQueueUrl("redis://u:p%40ss@h:7000/3?queue=q1"), {
      backend: "redis",
      connection: {
        host: "h",
        port: 7000,
        db: 3,
        username: "u",
        password: "p@ss",
        maxRetriesPerRequest: null,
      },
      queue: "q1",
      display: "redis://h:7000/3?queue=q1",
    });
    const plain = parseQueueUrl("rediss://h");
    assert.equal(plain.queue, "zcollection");
    assert.deepEqual(plain.connection, { host: "h", port: 6379, tls: {}, maxRetriesPerRequest: null });
  });

  it("postgres://: the driver's connection string, schema, migrate; no credentials shown", () => {
    assert.deepEqual(
      parseQueueUrl("postgres://u:secret@db.example:5433/jobs?queue=q1&schema=zc_1&sslmode=require"),
      {
        backend: "postgres",
        connection: {
          connectionString: "postgres://u:secret@db.example:5433/jobs?sslmode=require",
          migrate: true,
          schema: "zc_1",
        },
        queue: "q1",
        display: "postgres://db.example:5433/jobs?queue=q1&schema=zc_1&sslmode=require",
      },
    );
    const plain = parseQueueUrl("postgresql://h/db?password=x");
    assert.equal(plain.queue, "zcollection");
    assert.deepEqual(plain.connection, { connectionString: "postgresql://h/db?password=x", migrate: true });
    assert.equal(plain.display, "postgresql://h/db");
  });

  it("malformed URLs are TypeErrors", () => {
    const bad: Array<[string, RegExp]> = [
      ["queue-host:6379", /expected redis:\/\/.* or postgres:\/\//],
      ["not a url", /not a queue URL/],
      ["amqp://h:5672", /expected redis:\/\/.* or postgres:\/\//],
      ["redis://h:6379/abc", /the path must be a database number/],
      ["redis://h:6379?queue=a:b", /a queue name may not contain ':'/],
      ["postgres://h:5432", /the path must be a database name/],
      ["postgres://h:5432/a/b", /the path must be a database name/],
      ["postgres:///db", /no host/],
      ["postgres://h/db?queue=a:b", /a queue name may not contain ':'/],
      ["postgres://h/db?queue=", /empty queue name/],
      ["postgres://h/db?schema=a;drop", /the schema must be a plain identifier/],
    ];
    for (const [url, message] of bad)
      assert.throws(
        () => parseQueueUrl(url),
        (e: unknown) => e instanceof TypeError && message.test(e.message),
        url,
      );
  });
});

describe("executor: BullMQ on PostgreSQL, three worker processes", {
  skip: !existsSync(CLI) && "dist/ not built",
}, () => {
  let server: PostgresServer;
  let url: string;
  let workers: WorkerProcess[] = [];
  let dir: string;
  let col: Collection;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "zc-exec-pg-"));
    const schema = Schema()
      .withDimension("time", { chunks: 8 })
      .withVariable("time", { dtype: "datetime64[s]", dimensions: ["time"] })
      .withVariable("lon", { dtype: "float64", dimensions: ["time"], fillValue: Number.NaN })
      .build();
    const [pg, created] = await Promise.all([
      startPostgres(),
      createCollection(join(dir, "col"), {
        schema,
        axis: "time",
        partitioning: new DatePartitioning("time", { resolution: "m" }),
      }),
    ]);
    server = pg;
    col = created;
    const t0 = datetime64("2024-01-01T00:00:00", "s");
    const rows = MINUTES * 4;
    await col.insert(
      Dataset.fromArrays(schema, {
        time: BigInt64Array.from({ length: rows }, (_, i) => t0 + BigInt(i * 15)),
        lon: Float64Array.from({ length: rows }, (_, i) => i * 0.25),
      }),
    );
    assert.equal((await col.partitions()).length, MINUTES);
    url = `${server.url}?queue=zc-test&schema=zc_test`;
    // All at once on a new database: one of them creates BullMQ's tables, the others wait for it.
    workers = await Promise.all([1, 2, 3].map(() => startWorkerProcess(url, 1)));
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("update runs on several worker processes and writes the exact values", async () => {
    const before = lon(await col.query({ variables: ["lon"] }));
    const seen = new Set<string>();
    const written = await col.update(
      { module: FNS, export: "addOne" },
      {
        executor: url,
        onProgress: (p) => {
          // An executor's progress names the process that ran the task.
          const { worker } = p as ExecutorProgress;
          if (worker !== undefined) seen.add(worker);
        },
      },
    );
    assert.equal(written.length, MINUTES);
    assert.ok(seen.size >= 2, `results came from ${seen.size} worker(s): ${[...seen].join(", ")}`);
    assert.ok(![...seen].some((w) => w.endsWith(`:${process.pid}`)), "not run by this process");
    assert.deepEqual(
      lon(await col.query({ variables: ["lon"] })),
      before.map((v) => v + 1),
    );
  });

  it("a worker killed mid-update: its tasks run elsewhere, every partition is updated exactly once", async () => {
    const before = lon(await col.query({ variables: ["lon"] }));
    let killed = false;
    const written = await col.update(
      { module: FNS, export: "slowAddOne" },
      {
        executor: url,
        onProgress: (p) => {
          if (!killed && p.done >= 4) {
            killed = true;
            workers[0]?.child.kill("SIGKILL");
          }
        },
      },
    );
    assert.ok(killed);
    // The task the killed worker was running (if it was) ran again on another one.
    const last = workers[0]?.log.at(-1) ?? "";
    if (last.startsWith("active ")) {
      const task = last.slice("active ".length);
      assert.ok(
        workers.slice(1).some((w) => w.log.includes(`completed ${task}`)),
        `${task} completed elsewhere`,
      );
    }
    assert.equal(written.length, MINUTES);
    assert.deepEqual(new Set(written).size, MINUTES);
    assert.deepEqual(
      lon(await col.query({ variables: ["lon"] })),
      before.map((v) => v + 1),
    );
    assert.deepEqual(await readdir(join(dir, "col", "_zc_meta", "journal")).catch(() => []), []);
    assert.deepEqual(await readdir(join(dir, "col", "_zc_meta", "staging")).catch(() => []), []);
  });

  it("a task failing for good fails the update with its error class; nothing is published", async () => {
    const before = lon(await col.query({ variables: ["lon"] }));
    await assert.rejects(
      col.update({ module: FNS, export: "failOnMinute10" }, { executor: url }),
      (e: unknown) => e instanceof RangeError && /bad partition on purpose.*minute=10/.test(e.message),
    );
    assert.deepEqual(lon(await col.query({ variables: ["lon"] })), before);
  });
});
