/**
 * `collection.insert(dataset, { executor })`: the rows are staged in the
 * store, merged by tasks (on three `zcollection worker` processes over a
 * real Redis, or in this process), published in one commit. What is stored
 * equals what the plain insert stores, byte for byte; a worker killed
 * mid-run changes nothing; a failing task, `overwrite: false` on an
 * existing partition and a merge function leave the store as it was.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Collection, createCollection } from "../../src/collection/index.js";
import { Dataset } from "../../src/data/index.js";
import { concatRows } from "../../src/data/rows.js";
import { datetime64 } from "../../src/dtype.js";
import { CollectionExistsError, SchemaError, StoreError } from "../../src/errors.js";
import type { ExecutorOption } from "../../src/executor/api.js";
import { NDArray } from "../../src/ndarray.js";
import { DatePartitioning } from "../../src/partitioning/index.js";
import type { DatasetSchema } from "../../src/schema/index.js";
import { MemoryStore } from "../../src/store/memory.js";
import { timeSchema } from "../helpers/collection-fixtures.js";
import { type RedisServer, startRedis, startWorkerProcess, type WorkerProcess } from "../helpers/redis.js";

const CLI = join(import.meta.dirname, "../../dist/cli/main.js");
const BASE = datetime64("2024-01-01T00:00:00", "s");

/**
 * Rows of {@link timeSchema} from hour `from` (inclusive) to `to`
 * (exclusive) of 2024-01-01, one every `step` seconds: `v = offset + k/4`,
 * `m = [k + offset, -k]`, `c = immutable`.
 */
function rows(
  schema: DatasetSchema,
  from: number,
  to: number,
  step: number,
  offset: number,
  immutable = [1, 2],
): Dataset {
  const n = ((to - from) * 3600) / step;
  return Dataset.fromArrays(schema, {
    time: BigInt64Array.from({ length: n }, (_, k) => BASE + BigInt(from * 3600 + k * step)),
    v: Float64Array.from({ length: n }, (_, k) => offset + k / 4),
    m: NDArray.from(
      Int32Array.from({ length: 2 * n }, (_, i) => (i % 2 === 0 ? (i >> 1) + offset : -(i >> 1))),
      {
        shape: [n, 2],
      },
    ),
    c: Float32Array.from(immutable),
  });
}

function create(path: string | MemoryStore): Promise<Collection> {
  return createCollection(path, {
    schema: timeSchema("datetime64[s]"),
    axis: "time",
    partitioning: new DatePartitioning("time", { resolution: "h" }),
    catalogEnabled: true,
  });
}

/** Every file below `dir` but the write protocol's (`_zc_meta/`): relative path → bytes. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== "_zc_meta") await walk(full);
      } else {
        out.set(relative(dir, full), (await readFile(full)).toString("base64"));
      }
    }
  };
  await walk(dir);
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The stored files of two collections are the same, byte for byte. */
async function assertSameFiles(a: string, b: string): Promise<void> {
  const [x, y] = await Promise.all([snapshot(a), snapshot(b)]);
  assert.deepEqual([...x.keys()], [...y.keys()]);
  for (const [k, v] of x) assert.equal(v, y.get(k), k);
}

/** The bytes of every variable of a query result. */
function bytesOf(ds: Dataset | null): Record<string, string> {
  assert.ok(ds);
  const out: Record<string, string> = {};
  for (const [path, v] of ds.allVariables()) {
    const data = (v.data as NDArray).data as ArrayBufferView;
    out[path] = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64");
  }
  return out;
}

/** Nothing of the operations is left in the journal or in staging. */
async function assertNoLeftovers(dir: string): Promise<void> {
  assert.deepEqual(await readdir(join(dir, "_zc_meta", "journal")).catch(() => []), []);
  assert.deepEqual(await readdir(join(dir, "_zc_meta", "staging")).catch(() => []), []);
}

/**
 * The scenarios every executor runs: `dir` holds a collection written on
 * `executor`, `refDir` the same inserts done by the plain insert.
 */
function refusals(executor: () => ExecutorOption, dirOf: () => string, colOf: () => Collection): void {
  it("a failing task rejects with its error class; the stored partitions and the catalog are unchanged", async () => {
    const col = colOf();
    // A stored partition without its axis variable: the upsert of that partition fails (SchemaError).
    await rm(join(dirOf(), "year=2024/month=01/day=01/hour=05/time"), { recursive: true });
    const before = await snapshot(dirOf());
    await assert.rejects(
      col.insert(rows(col.schema, 2, 9, 120, 5000, [7, 8]), { executor: executor(), merge: "upsert" }),
      (e: unknown) =>
        e instanceof SchemaError && /upsert merge requires axis variable 'time'/.test(e.message),
    );
    assert.deepEqual(await snapshot(dirOf()), before, "nothing published, no immutable, no catalog change");
    await assertNoLeftovers(dirOf());
    await col.dropPartitions({ filters: "day == 1 and hour == 5" });
  });

  it("overwrite: false on an existing partition is a CollectionExistsError; nothing is written", async () => {
    const col = colOf();
    const before = await snapshot(dirOf());
    // Hour 0 (stored) and hours 60, 61 (new): the new ones may not appear either.
    const mixed = concatRows(
      [rows(col.schema, 0, 1, 600, 9000, [3, 4]), rows(col.schema, 60, 62, 600, 9000, [3, 4])],
      "time",
    );
    await assert.rejects(
      col.insert(mixed, { executor: executor(), overwrite: false }),
      (e: unknown) => e instanceof CollectionExistsError && /hour=00.*overwrite: false/.test(e.message),
    );
    assert.deepEqual(await snapshot(dirOf()), before);
    await assertNoLeftovers(dirOf());
    // New partitions only: accepted.
    const written = await col.insert(rows(col.schema, 60, 62, 600, 9000), {
      executor: executor(),
      overwrite: false,
    });
    assert.deepEqual(written, ["year=2024/month=01/day=03/hour=12", "year=2024/month=01/day=03/hour=13"]);
  });

  it("a merge function with an executor is a TypeError naming the option, before anything is written", async () => {
    const col = colOf();
    const before = await snapshot(dirOf());
    await assert.rejects(
      col.insert(rows(col.schema, 0, 2, 600, 1), { executor: executor(), merge: (_e, i) => i }),
      (e: unknown) => e instanceof TypeError && /merge option by name/.test(e.message),
    );
    assert.deepEqual(await snapshot(dirOf()), before);
  });
}

// The two suites run side by side (the BullMQ one mostly waits for the killed worker's job locks to
// expire); the tests of each run in order.
describe("insert with an executor", { concurrency: 2 }, () => {
  describe("insert on BullMQ: Redis, three worker processes", {
    concurrency: 1,
    skip: !existsSync(CLI) && "dist/ not built",
  }, () => {
    let redis: RedisServer;
    let workers: WorkerProcess[] = [];
    let dir: string;
    let col: Collection;
    let ref: Collection;

    before(async () => {
      [redis, dir] = await Promise.all([startRedis(), mkdtemp(join(tmpdir(), "zc-exec-insert-"))]);
      workers = await Promise.all([1, 2, 3].map(() => startWorkerProcess(redis.url, 2)));
      [col, ref] = await Promise.all([create(join(dir, "col")), create(join(dir, "ref"))]);
    });
    after(async () => {
      await Promise.all(workers.map((w) => w.stop()));
      await redis?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it("36 partitions on the workers: exactly the inserted rows, the plain insert's files, one commit", async () => {
      const ds = rows(col.schema, 0, 36, 120, 0);
      const seen = new Set<string>();
      let progress = 0;
      const written = await col.insert(ds, {
        executor: redis.url,
        onProgress: (p) => {
          progress = p.done;
          seen.add((p as { worker?: string }).worker ?? "");
        },
      });
      assert.equal(progress, 36);
      assert.deepEqual(written, await ref.insert(ds));
      assert.equal(written.length, 36);
      assert.ok(seen.size >= 2, `tasks ran on ${seen.size} process(es)`);
      assert.ok(![...seen].some((w) => w.endsWith(`:${process.pid}`)), "not in this process");
      assert.deepEqual(bytesOf(await col.query()), bytesOf(ds));
      assert.deepEqual(await col.partitions(), await col.partitions({ fromStore: true }));
      await assertSameFiles(join(dir, "col"), join(dir, "ref"));
      await assertNoLeftovers(join(dir, "col"));
    });

    it("merge 'upsert' into stored partitions merges as the plain insert does", async () => {
      // Hours 30–41: 6 stored partitions (each inserted time matches a stored one), 6 new ones.
      const ds = rows(col.schema, 30, 42, 240, 1000, [5, 6]);
      const written = await col.insert(ds, { executor: redis.url, merge: "upsert" });
      assert.deepEqual(written, await ref.insert(ds, { merge: "upsert" }));
      assert.deepEqual(bytesOf(await col.query()), bytesOf(await ref.query()));
      await assertSameFiles(join(dir, "col"), join(dir, "ref"));
      assert.ok(
        workers.filter((w) => w.log.some((l) => l.startsWith("completed collection.insert "))).length >= 2,
      );
    });

    it("a worker killed mid-task: its task runs again elsewhere, every partition merged exactly once (concat)", async () => {
      const ds = rows(col.schema, 0, 36, 300, 2000);
      const victim = workers[0] as WorkerProcess;
      let killedOn: string | undefined;
      // Killed as soon as it reports starting a task of this insert.
      const onData = (chunk: string) => {
        const m = /^active collection\.insert (\S+)$/m.exec(chunk);
        if (killedOn !== undefined || m === null) return;
        killedOn = m[1];
        victim.child.kill("SIGKILL");
      };
      victim.child.stderr?.on("data", onData);
      const written = await col.insert(ds, { executor: redis.url, merge: "concat" });
      assert.ok(killedOn !== undefined, "the killed worker had started a task");
      assert.equal(written.length, 36);
      assert.deepEqual(written, await ref.insert(ds, { merge: "concat" }));
      assert.deepEqual(bytesOf(await col.query()), bytesOf(await ref.query()), "no partition merged twice");
      await assertSameFiles(join(dir, "col"), join(dir, "ref"));
      await assertNoLeftovers(join(dir, "col"));
      if (!victim.log.includes(`completed collection.insert ${killedOn}`)) {
        // Not finished when killed: another worker ran it (its log line may lag a little).
        const elsewhere = () =>
          workers.slice(1).some((w) => w.log.includes(`completed collection.insert ${killedOn}`));
        for (let i = 0; i < 40 && !elsewhere(); i++) await new Promise((r) => setTimeout(r, 50));
        assert.ok(elsewhere(), `${killedOn} ran again on another worker`);
      }
      // The next tests run on the two workers left.
    });

    refusals(
      () => redis.url,
      () => join(dir, "col"),
      () => col,
    );

    it("a memory:// collection cannot go to other processes", async () => {
      const mem = await create(new MemoryStore());
      await assert.rejects(
        mem.insert(rows(mem.schema, 0, 2, 600, 0), { executor: redis.url }),
        (e: unknown) => e instanceof StoreError && /memory.*cannot reach it/.test(e.message),
      );
      assert.deepEqual(await mem.partitions({ fromStore: true }), []);
    });
  });

  describe("insert on the in-process executor", { concurrency: 1 }, () => {
    let dir: string;
    let col: Collection;
    let ref: Collection;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), "zc-exec-insert-local-"));
      [col, ref] = await Promise.all([create(join(dir, "col")), create(join(dir, "ref"))]);
    });
    after(() => rm(dir, { recursive: true, force: true }));

    it("stores what the plain insert stores, plain then merged (upsert, concat, time_series)", async () => {
      const first = rows(col.schema, 0, 16, 240, 0);
      assert.deepEqual(await col.insert(first, { executor: "in-process" }), await ref.insert(first));
      assert.deepEqual(bytesOf(await col.query()), bytesOf(first));
      for (const [ds, merge] of [
        [rows(col.schema, 12, 20, 480, 1000, [5, 6]), "upsert"],
        [rows(col.schema, 0, 6, 600, 2000), "concat"],
        [rows(col.schema, 14, 22, 600, 3000), "time_series"],
      ] as const) {
        assert.deepEqual(
          await col.insert(ds, { executor: "in-process", merge }),
          await ref.insert(ds, { merge }),
        );
        assert.deepEqual(bytesOf(await col.query()), bytesOf(await ref.query()), merge);
      }
      await assertSameFiles(join(dir, "col"), join(dir, "ref"));
      await assertNoLeftovers(join(dir, "col"));
    });

    refusals(
      () => "in-process",
      () => join(dir, "col"),
      () => col,
    );

    it("abort while the tasks run: rejects with the reason, nothing published, nothing left", async () => {
      const before = await snapshot(join(dir, "col"));
      const controller = new AbortController();
      const reason = new Error("stop on purpose");
      let progress = 0;
      await assert.rejects(
        col.insert(rows(col.schema, 30, 40, 600, 7000, [9, 9]), {
          executor: "in-process",
          merge: "concat",
          signal: controller.signal,
          onProgress: (p) => {
            progress = p.done;
            controller.abort(reason);
          },
        }),
        (e: unknown) => e === reason,
      );
      assert.ok(progress >= 1 && progress < 10, `${progress} task(s) finished`);
      assert.deepEqual(await snapshot(join(dir, "col")), before);
      await assertNoLeftovers(join(dir, "col"));
    });

    it("memory:// works in this process", async () => {
      const [a, b] = await Promise.all([create(new MemoryStore()), create(new MemoryStore())]);
      const ds = rows(a.schema, 0, 4, 600, 0);
      assert.deepEqual(await a.insert(ds, { executor: "in-process" }), await b.insert(ds));
      const upsert = rows(a.schema, 2, 6, 300, 10);
      await a.insert(upsert, { executor: "in-process", merge: "upsert" });
      await b.insert(upsert, { merge: "upsert" });
      assert.deepEqual(bytesOf(await a.query()), bytesOf(await b.query()));
    });

    it("a transactional store without branches is refused with a StoreError before anything is written", async () => {
      class Transactional extends MemoryStore {
        override get transactional(): boolean {
          return true;
        }
      }
      const store = new Transactional();
      const ice = await create(store);
      const before = await store.list("");
      await assert.rejects(
        ice.insert(rows(ice.schema, 0, 2, 600, 0), { executor: "in-process" }),
        (e: unknown) =>
          e instanceof StoreError && /an executor needs a writable Icechunk branch/.test(e.message),
      );
      assert.deepEqual(await store.list(""), before);
    });
  });
});
