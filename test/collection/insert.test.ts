import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Collection, createCollection, openCollection } from "../../src/collection/index.js";
import * as config from "../../src/config.js";
import { Dataset } from "../../src/data/index.js";
import { CollectionExistsError, ReadOnlyError, SchemaError } from "../../src/errors.js";
import { NDArray } from "../../src/ndarray.js";
import { Schema } from "../../src/schema/index.js";
import { MemoryStore } from "../../src/store/memory.js";
import {
  numbers,
  RecordingStore,
  seqDataset,
  seqPartitioning,
  seqSchema,
} from "../helpers/collection-fixtures.js";

async function setup(opts: { catalogEnabled?: boolean; nested?: boolean } = {}): Promise<{
  probe: RecordingStore;
  col: Collection;
}> {
  const probe = new RecordingStore(new MemoryStore());
  const col = await createCollection(probe, {
    schema: seqSchema({ nested: opts.nested ?? false }),
    axis: "num",
    partitioning: seqPartitioning(),
    catalogEnabled: opts.catalogEnabled ?? false,
  });
  probe.reset();
  return { probe, col };
}

describe("Collection.insert", () => {
  it("gathers the rows of a key that are not contiguous into one write, in stable order (docs/behaviour.md §18 #1)", async () => {
    const { probe, col } = await setup();
    const paths = await col.insert(seqDataset(col.schema, [1, 0, 1, 2, 0, 1]));
    assert.deepEqual(paths, ["num=1", "num=0", "num=2"]);
    for (const p of paths) assert.equal(probe.writes.filter((k) => k === `${p}/zarr.json`).length, 1, p);
    const ds = await col.query();
    assert.ok(ds);
    assert.deepEqual(numbers(ds, "num"), [0, 0, 1, 1, 1, 2]);
    // rows 1 and 4 (num=0), then 0, 2, 5 (num=1), then 3 (num=2)
    assert.deepEqual(
      numbers(ds, "value"),
      [10, 11, 12, 40, 41, 42, 0, 1, 2, 20, 21, 22, 50, 51, 52, 30, 31, 32],
    );
  });

  it("refuses a lossy cast with a SchemaError naming the variable before anything is written (docs/behaviour.md §18 #3)", async () => {
    const { probe, col } = await setup();
    const loose = Schema()
      .withDimension("num")
      .withDimension("x", { size: 3 })
      .withVariable("num", { dtype: "float64", dimensions: ["num"] })
      .withVariable("value", { dtype: "float32", dimensions: ["num", "x"] })
      .build();
    const before = await probe.inner.list();
    const fractional = Dataset.fromArrays(loose, {
      num: new Float64Array([0, 0.5]),
      value: NDArray.from(new Float32Array(6), { shape: [2, 3] }),
    });
    await assert.rejects(
      col.insert(fractional),
      (err: unknown) => err instanceof SchemaError && /'num'/.test(err.message),
    );
    const huge = Dataset.fromArrays(loose, {
      num: new Float64Array([0, 2 ** 70]),
      value: NDArray.from(new Float32Array(6), { shape: [2, 3] }),
    });
    await assert.rejects(
      col.insert(huge),
      (err: unknown) => err instanceof SchemaError && err.variable === "num",
    );
    assert.equal(probe.counts.put, 0);
    assert.deepEqual(await probe.inner.list(), before);
    // an exact cast is accepted: float64 integers into the int64 key column
    const exact = Dataset.fromArrays(loose, {
      num: new Float64Array([3, 3]),
      value: NDArray.from(Float32Array.from([1, 2, 3, 4, 5, 6]), { shape: [2, 3] }),
    });
    assert.deepEqual(await col.insert(exact), ["num=3"]);
    const ds = await col.query();
    assert.ok(ds);
    assert.equal(ds.getVariable("num").dtype, "int64");
    assert.deepEqual(numbers(ds, "num"), [3, 3]);
  });

  it("refuses a variable that is not in the schema, or declared on other dimensions", async () => {
    const { probe, col } = await setup();
    const extra = Schema()
      .withDimension("num")
      .withVariable("num", { dtype: "int64", dimensions: ["num"] })
      .withVariable("foo", { dtype: "int64", dimensions: ["num"] })
      .build();
    await assert.rejects(
      col.insert(Dataset.fromArrays(extra, { num: new BigInt64Array([1n]), foo: new BigInt64Array([1n]) })),
      (err: unknown) => err instanceof SchemaError && err.variable === "foo" && /'foo'/.test(err.message),
    );
    const transposed = Schema()
      .withDimension("num")
      .withDimension("x", { size: 3 })
      .withVariable("num", { dtype: "int64", dimensions: ["num"] })
      .withVariable("value", { dtype: "float32", dimensions: ["x", "num"] })
      .build();
    await assert.rejects(
      col.insert(
        Dataset.fromArrays(transposed, {
          num: new BigInt64Array([1n]),
          value: NDArray.from(new Float32Array(3), { shape: [3, 1] }),
        }),
      ),
      (err: unknown) => err instanceof SchemaError && err.variable === "value",
    );
    assert.equal(probe.counts.put, 0);
  });

  it("with overwrite: false refuses an existing partition (CollectionExistsError) but writes new ones", async () => {
    const { col } = await setup();
    await col.insert(seqDataset(col.schema, [0]));
    await assert.rejects(
      col.insert(seqDataset(col.schema, [0], { offset: 5 }), { overwrite: false }),
      (err: unknown) => err instanceof CollectionExistsError && /'num=0'/.test(err.message),
    );
    assert.deepEqual(await col.insert(seqDataset(col.schema, [4]), { overwrite: false }), ["num=4"]);
    const ds = await col.query();
    assert.ok(ds);
    assert.deepEqual(numbers(ds, "value"), [0, 1, 2, 0, 1, 2]);
  });

  it("on a read-only collection refuses insert, update, dropPartitions and repairCatalog before any write", async () => {
    const inner = new MemoryStore();
    const writable = await createCollection(inner, {
      schema: seqSchema(),
      axis: "num",
      partitioning: seqPartitioning(),
      catalogEnabled: true,
    });
    await writable.insert(seqDataset(writable.schema, [0, 1]));
    const probe = new RecordingStore(inner);
    const ro = await openCollection(probe, { mode: "r" });
    assert.equal(ro.readOnly, true);
    await assert.rejects(ro.insert(seqDataset(ro.schema, [2])), ReadOnlyError);
    await assert.rejects(
      ro.update((ds) => ds),
      ReadOnlyError,
    );
    await assert.rejects(ro.dropPartitions(), ReadOnlyError);
    await assert.rejects(ro.repairCatalog(), ReadOnlyError);
    assert.equal(probe.counts.put, 0);
    assert.equal(probe.counts.delete, 0);
    assert.deepEqual(await ro.partitions(), ["num=0", "num=1"]);
  });

  it("writes nothing for a zero-row dataset (only _immutable/ when it carries immutables)", async () => {
    const { probe, col } = await setup({ catalogEnabled: true });
    assert.deepEqual(await col.insert(seqDataset(col.schema, [], { staticValues: null })), []);
    assert.equal(probe.counts.put, 0);
    assert.deepEqual(await col.insert(seqDataset(col.schema, [])), []);
    assert.ok(probe.writes.includes("_immutable/static/zarr.json"));
    // besides _immutable/ and the write journal, only its implicit parent: the root group (docs/format.md §5.2)
    assert.deepEqual(
      probe.writes.filter((k) => !k.startsWith("_immutable/") && !k.startsWith("_zc_meta/")),
      ["zarr.json"],
    );
    assert.deepEqual(await col.partitions(), []);
    assert.equal(await col.query(), null);
  });

  it("writes immutables once, rewrites them when they change, keeps them when omitted (docs/behaviour.md §18 #2)", async () => {
    const { probe, col } = await setup({ nested: true });
    await col.insert(seqDataset(col.schema, [0], { nested: true }));
    assert.deepEqual(probe.writes.filter((k) => k.startsWith("_immutable/")).sort(), [
      "_immutable/grp/sub/coef/c/0",
      "_immutable/grp/sub/coef/zarr.json",
      "_immutable/grp/sub/zarr.json",
      "_immutable/grp/zarr.json",
      "_immutable/static/c/0",
      "_immutable/static/zarr.json",
      "_immutable/zarr.json",
    ]);

    probe.reset();
    await col.insert(seqDataset(col.schema, [1], { nested: true }));
    assert.deepEqual(
      probe.writes.filter((k) => k.startsWith("_immutable/")),
      [],
    );
    assert.ok(probe.writes.includes("num=1/zarr.json"));

    probe.reset();
    await col.insert(seqDataset(col.schema, [2], { nested: true, staticValues: [9, 8, 7] }));
    // A stored immutable variable is replaced through staging (docs/safety.md).
    assert.deepEqual(
      probe.writes
        .map((k) => k.replace(/^_zc_meta\/staging\/[^/]+\//, ""))
        .filter((k) => k.startsWith("_immutable/"))
        .sort(),
      ["_immutable/static/c/0", "_immutable/static/zarr.json"],
    );
    let ds = await col.query();
    assert.ok(ds);
    assert.deepEqual(numbers(ds, "static"), [9, 8, 7]);
    assert.deepEqual(numbers(ds, "grp/sub/coef"), [7, 8, 9]);

    probe.reset();
    await col.insert(seqDataset(col.schema, [3], { staticValues: null }));
    assert.deepEqual(
      probe.writes.filter((k) => k.startsWith("_immutable/")),
      [],
    );
    assert.deepEqual(
      probe.deletes.filter((k) => k.startsWith("_immutable")),
      [],
    );
    ds = await col.query();
    assert.ok(ds);
    assert.deepEqual(numbers(ds, "static"), [9, 8, 7]);
    assert.deepEqual(numbers(ds, "grp/sub/coef"), [7, 8, 9]);
    // partition num=3 has no nested data: its depth rows are the fill value -1
    assert.deepEqual(numbers(ds, "grp/sub/depth"), [100, 100, 100, -1]);
  });

  it("reports progress after each partition", async () => {
    const { col } = await setup();
    const seen: Array<{ done: number; total: number; partition?: string }> = [];
    const paths = await col.insert(seqDataset(col.schema, [5, 6, 7]), {
      onProgress: (p) => seen.push({ ...p }),
    });
    assert.deepEqual(
      seen.map((p) => [p.done, p.total]),
      [
        [1, 3],
        [2, 3],
        [3, 3],
      ],
    );
    assert.deepEqual(seen.map((p) => p.partition).sort(), [...paths].sort());
  });

  it("rejects with the abort reason when aborted before it starts, writing nothing", async () => {
    const { probe, col } = await setup();
    const ctl = new AbortController();
    const reason = new Error("stop now");
    ctl.abort(reason);
    await assert.rejects(
      col.insert(seqDataset(col.schema, [0, 1]), { signal: ctl.signal }),
      (err) => err === reason,
    );
    assert.equal(probe.counts.put, 0);
  });

  it("rejects with the abort reason when aborted mid-way; the collection still opens and lists only whole partitions", async () => {
    for (const concurrency of [1, 8]) {
      const { probe, col } = await setup();
      const ctl = new AbortController();
      const reason = new Error(`stop after one (${concurrency})`);
      await config.override({ "partition.concurrency": concurrency }, async () => {
        await assert.rejects(
          col.insert(seqDataset(col.schema, [0, 1, 2, 3, 4, 5]), {
            signal: ctl.signal,
            onProgress: () => ctl.abort(reason),
          }),
          (err) => err === reason,
        );
      });
      const reopened = await openCollection(probe.inner, { mode: "rw" });
      const listed = await reopened.partitions();
      if (concurrency === 1) assert.deepEqual(listed, ["num=0"]);
      else assert.ok(listed.length >= 1 && listed.length <= 6);
      const ds = await reopened.query();
      assert.ok(ds);
      assert.deepEqual(
        numbers(ds, "num"),
        listed.map((p) => Number(p.slice(4))),
      );
      // and it accepts the insert again
      assert.equal((await reopened.insert(seqDataset(reopened.schema, [0, 1, 2, 3, 4, 5]))).length, 6);
      assert.deepEqual(numbers((await reopened.query()) as Dataset, "num"), [0, 1, 2, 3, 4, 5]);
    }
  });
});
