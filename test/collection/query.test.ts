import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { type Collection, createCollection, openCollection } from "../../src/collection/index.js";
import { Dataset } from "../../src/data/index.js";
import {
  CollectionExistsError,
  CollectionNotFoundError,
  ExpressionError,
  SchemaError,
} from "../../src/errors.js";
import { CountingStore } from "../../src/store/counting.js";
import { MemoryStore } from "../../src/store/memory.js";
import {
  numbers,
  RecordingStore,
  seqDataset,
  seqPartitioning,
  seqSchema,
} from "../helpers/collection-fixtures.js";

/** A collection over a recording probe holding `nums` (nested schema, immutables), the probe reset. */
async function filled(nums: readonly number[]): Promise<{ probe: RecordingStore; col: Collection }> {
  const probe = new RecordingStore(new MemoryStore());
  const schema = seqSchema({ nested: true });
  const col = await createCollection(probe, { schema, axis: "num", partitioning: seqPartitioning() });
  await col.insert(seqDataset(schema, nums, { nested: true }));
  probe.reset();
  return { probe, col };
}

const isNaNs = (xs: number[]) => xs.map((x) => (Number.isNaN(x) ? "NaN" : x));

let tmp: string;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), "zc-query-"));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("Collection.query", () => {
  it("concatenates partitions in the natural order of their keys (docs/behaviour.md §18 #4)", async () => {
    const { col } = await filled([10, 2, 1, 0]);
    assert.deepEqual(await col.partitions(), ["num=0", "num=1", "num=2", "num=10"]);
    const ds = await col.query();
    assert.ok(ds);
    assert.deepEqual(numbers(ds, "num"), [0, 1, 2, 10]);
    assert.deepEqual(numbers(ds, "value"), [30, 31, 32, 20, 21, 22, 10, 11, 12, 0, 1, 2]);
    assert.deepEqual(numbers(ds, "grp/sub/depth"), [103, 102, 101, 100]);
    assert.deepEqual(numbers(ds, "static"), [0.5, 1.5, 2.5]);
    // Several partitions: no partition key (only a one-partition result keeps its own).
    assert.deepEqual(ds.attrs, {});
    assert.deepEqual(ds.getGroup("grp/sub").attrs, { level: 2 });
  });

  it("filters by expression or predicate, and returns null when nothing matches", async () => {
    const { probe, col } = await filled([0, 1, 2, 3]);
    assert.deepEqual(numbers((await col.query({ filters: "num in (1, 3)" })) as Dataset, "num"), [1, 3]);
    assert.deepEqual(
      numbers((await col.query({ filters: (k) => Number(k.num) >= 2 })) as Dataset, "num"),
      [2, 3],
    );
    probe.reset();
    assert.equal(await col.query({ filters: "num > 100" }), null);
    // nothing but the listing is read
    assert.equal(probe.reads.length, 0);
    await assert.rejects(col.query({ filters: "cycle == 1" }), ExpressionError);
  });

  it("loads a subset of variables: short names, nested paths, unknown names ignored", async () => {
    const { col } = await filled([0, 1]);
    const sub = await col.query({ variables: ["value"] });
    assert.ok(sub);
    assert.deepEqual([...sub.allVariables().keys()], ["value"]);
    assert.deepEqual(numbers(sub, "value"), [0, 1, 2, 10, 11, 12]);
    const nested = await col.query({ variables: ["grp/sub/depth", "/grp/sub/coef", "static", "nope"] });
    assert.ok(nested);
    assert.deepEqual([...nested.allVariables().keys()].sort(), ["grp/sub/coef", "grp/sub/depth", "static"]);
    assert.deepEqual(numbers(nested, "grp/sub/depth"), [100, 101]);
    assert.deepEqual(numbers(nested, "grp/sub/coef"), [7, 8, 9]);
    const none = await col.query({ variables: [] });
    assert.ok(none);
    assert.deepEqual([...none.allVariables().keys()], []);
  });

  it("refuses a plain string as the variable list (docs/behaviour.md §18 #10)", async () => {
    const { col } = await filled([0]);
    await assert.rejects(
      col.query({ variables: "value" }),
      (err: unknown) => err instanceof SchemaError && /'value'/.test(err.message),
    );
  });

  it("fills a variable missing from some partitions with its fill value", async () => {
    const schema = seqSchema();
    const col = await createCollection(new MemoryStore(), {
      schema,
      axis: "num",
      partitioning: seqPartitioning(),
    });
    await col.insert(Dataset.fromArrays(schema, { num: new BigInt64Array([0n, 0n]) }));
    await col.insert(seqDataset(schema, [1]));
    const ds = await col.query();
    assert.ok(ds);
    assert.deepEqual(numbers(ds, "num"), [0, 0, 1]);
    assert.deepEqual(isNaNs(numbers(ds, "value")), ["NaN", "NaN", "NaN", "NaN", "NaN", "NaN", 0, 1, 2]);
    assert.deepEqual(ds.getVariable("value").shape, [3, 3]);
  });

  it("reports progress for each partition read", async () => {
    const { col } = await filled([0, 1, 2]);
    const seen: number[] = [];
    await col.query({ onProgress: (p) => seen.push(p.done * 10 + p.total) });
    assert.deepEqual(seen, [13, 23, 33]);
  });
});

describe("Collection.iterate and Collection.map", () => {
  it("iterate yields one partition at a time, reading the next only when asked", async () => {
    const { probe, col } = await filled([2, 0, 10, 1]);
    const order: string[] = [];
    const touched = () =>
      ["num=0", "num=1", "num=2", "num=10"].filter((p) => probe.reads.some((k) => k.startsWith(`${p}/`)));
    for await (const [path, ds] of col.iterate({ variables: ["num", "value"] })) {
      order.push(path);
      assert.deepEqual(touched(), order, `while at ${path}`);
      assert.deepEqual(numbers(ds, "num"), [Number(path.slice(4))]);
      assert.deepEqual(ds.getVariable("value").shape, [1, 3]);
    }
    assert.deepEqual(order, ["num=0", "num=1", "num=2", "num=10"]);
  });

  it("iterate attaches the immutable variables to every partition", async () => {
    const { col } = await filled([0, 1]);
    const statics: number[][] = [];
    for await (const [, ds] of col.iterate({ filters: "num >= 0" })) statics.push(numbers(ds, "static"));
    assert.deepEqual(statics, [
      [0.5, 1.5, 2.5],
      [0.5, 1.5, 2.5],
    ]);
  });

  it("map returns the results keyed by partition in natural order", async () => {
    const { col } = await filled([10, 2, 2, 1]);
    const out = await col.map(
      async (ds, path) =>
        `${path}:${numbers(ds, "value").reduce((a, b) => a + b, 0)}:${numbers(ds, "static")[0]}`,
    );
    assert.deepEqual(
      [...out],
      [
        ["num=1", "num=1:93:0.5"],
        ["num=2", "num=2:96:0.5"],
        ["num=10", "num=10:3:0.5"],
      ],
    );
    assert.deepEqual([...(await col.map(() => 1, { filters: "num > 100" }))], []);
  });

  it("map works on a read-only collection", async () => {
    const { probe, col } = await filled([0, 1]);
    const ro = await openCollection(col.store);
    assert.equal(ro.readOnly, true);
    assert.deepEqual(
      [...(await ro.map((ds) => numbers(ds, "num")))],
      [
        ["num=0", [0]],
        ["num=1", [1]],
      ],
    );
    assert.equal(probe.counts.put, 0);
  });
});

describe("Collection.update and Collection.dropPartitions", () => {
  it("update rewrites each partition with the result and removes the variables it lacks", async () => {
    const { probe, col } = await filled([0, 1, 2]);
    const paths = await col.update((ds) => ds.select(["num", "grp/sub/depth"]), { filters: "num >= 1" });
    assert.deepEqual(paths, ["num=1", "num=2"]);
    assert.deepEqual(await probe.inner.list("num=1/value"), []);
    assert.deepEqual(await probe.inner.list("num=0/value"), ["num=0/value/c/0/0", "num=0/value/zarr.json"]);
    const ds = await col.query();
    assert.ok(ds);
    assert.deepEqual(numbers(ds, "num"), [0, 1, 2]);
    assert.deepEqual(isNaNs(numbers(ds, "value")), [0, 1, 2, "NaN", "NaN", "NaN", "NaN", "NaN", "NaN"]);
    assert.deepEqual(numbers(ds, "grp/sub/depth"), [100, 101, 102]);
    // immutables are never written into partitions
    assert.equal(probe.writes.filter((k) => k.includes("static") || k.includes("coef")).length, 0);
    // the partition key attribute survives because the result kept the attrs it was given
    assert.deepEqual((await col.query({ filters: "num == 2" }))?.attrs, { _zc_partition_key: [["num", 2]] });
  });

  it("update with a variable subset rewrites the partition from that subset only (docs/behaviour.md §8.7)", async () => {
    const { probe, col } = await filled([0]);
    assert.deepEqual(await col.update((ds) => ds, { variables: ["value"] }), ["num=0"]);
    assert.deepEqual(
      (await probe.inner.list("num=0")).filter((k) => k.endsWith("zarr.json")),
      ["num=0/grp/sub/zarr.json", "num=0/grp/zarr.json", "num=0/value/zarr.json", "num=0/zarr.json"],
    );
  });

  it("update refuses a result that is not a Dataset, naming the partition", async () => {
    const { col } = await filled([0]);
    await assert.rejects(
      col.update(() => ({}) as Dataset),
      (err: unknown) => err instanceof SchemaError && /'num=0'/.test(err.message),
    );
  });

  it("dropPartitions drops the matching partitions, or every one without a filter", async () => {
    const { probe, col } = await filled([0, 1, 2, 10]);
    assert.deepEqual(await col.dropPartitions({ filters: "num >= 2" }), ["num=2", "num=10"]);
    assert.deepEqual(await col.partitions(), ["num=0", "num=1"]);
    assert.deepEqual(await probe.inner.list("num=10"), []);
    assert.deepEqual(await col.dropPartitions({ filters: "num > 100" }), []);
    assert.deepEqual(await col.dropPartitions(), ["num=0", "num=1"]);
    assert.deepEqual(await col.partitions(), []);
    assert.equal(await col.query(), null);
    // the immutables and the root config stay
    const left = await probe.inner.list();
    assert.ok(left.includes("_zcollection.json"));
    assert.ok(left.includes("_immutable/static/zarr.json"));
  });
});

describe("creating and opening collections", () => {
  it("create with overwrite removes the previous collection (docs/behaviour.md §18 #6); without it, refuses", async () => {
    const { probe, col } = await filled([0, 1]);
    await assert.rejects(
      createCollection(probe, { schema: col.schema, axis: "num", partitioning: seqPartitioning() }),
      CollectionExistsError,
    );
    const again = await createCollection(probe, {
      schema: seqSchema(),
      axis: "num",
      partitioning: seqPartitioning(),
      overwrite: true,
    });
    assert.deepEqual(await probe.inner.list(), ["_zcollection.json"]);
    assert.deepEqual(await again.partitions(), []);
    assert.equal(again.schema.hasVariable("grp/sub/depth"), false);
  });

  it("opening a missing local path fails without creating it (docs/behaviour.md §18 #13)", async () => {
    const missing = join(tmp, "absent", "collection");
    await assert.rejects(openCollection(missing), CollectionNotFoundError);
    await assert.rejects(
      openCollection(pathToFileURL(missing).href, { mode: "rw" }),
      CollectionNotFoundError,
    );
    assert.equal(existsSync(join(tmp, "absent")), false);
  });

  it("refuses an open mode other than r/rw with a TypeError before any I/O", async () => {
    const probe = new CountingStore(new MemoryStore());
    for (const mode of ["w", "a", "", "R"]) {
      await assert.rejects(
        openCollection(probe, { mode: mode as "r" }),
        (err: unknown) => err instanceof TypeError && err.message.includes(`'${mode}'`),
      );
    }
    assert.deepEqual(probe.counts, {
      get: 0,
      getRange: 0,
      put: 0,
      list: 0,
      delete: 0,
      exists: 0,
      bytesRead: 0,
      bytesWritten: 0,
    });
  });

  it("opens read-only by default and read-write on request", async () => {
    const { col } = await filled([0]);
    assert.equal((await openCollection(col.store)).readOnly, true);
    const rw = await openCollection(col.store, { mode: "rw" });
    assert.equal(rw.readOnly, false);
    assert.deepEqual(await rw.insert(seqDataset(rw.schema, [5], { nested: true })), ["num=5"]);
  });
});
