import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { createCollection, openCollection } from "../../src/collection/index.js";
import { rebuildDataset } from "../../src/data/index.js";
import { ReadOnlyError } from "../../src/errors.js";
import { NDArray } from "../../src/ndarray.js";
import { CATALOG_KEY } from "../../src/partitioning/catalog.js";
import { openStore } from "../../src/store/open.js";
import { numbers, seqDataset, seqPartitioning, seqSchema } from "../helpers/collection-fixtures.js";
import { type MotoServer, startMoto } from "../helpers/moto.js";

/**
 * create → insert 3 partitions (nested group, immutables) → query with a
 * filter → update → drop → reopen read-only by URL, with exact values at
 * every step.
 */
async function scenario(url: string, storageOptions?: Record<string, unknown>): Promise<void> {
  const so = storageOptions === undefined ? {} : { storageOptions };
  const schema = seqSchema({ nested: true });
  const col = await createCollection(url, {
    schema,
    axis: "num",
    partitioning: seqPartitioning(),
    catalogEnabled: true,
    ...so,
  });
  assert.equal(col.readOnly, false);
  assert.deepEqual(await col.partitions(), []);
  assert.deepEqual(await col.insert(seqDataset(schema, [0, 1, 1, 2], { nested: true })), [
    "num=0",
    "num=1",
    "num=2",
  ]);
  assert.deepEqual(await col.partitions(), ["num=0", "num=1", "num=2"]);

  const q = await col.query({ filters: "num >= 1" });
  assert.ok(q);
  assert.deepEqual(numbers(q, "num"), [1, 1, 2]);
  assert.deepEqual(numbers(q, "value"), [10, 11, 12, 20, 21, 22, 30, 31, 32]);
  assert.deepEqual(numbers(q, "grp/sub/depth"), [101, 102, 103]);
  assert.deepEqual(numbers(q, "static"), [0.5, 1.5, 2.5]);
  assert.deepEqual(numbers(q, "grp/sub/coef"), [7, 8, 9]);
  assert.deepEqual(q.getGroup("grp").attrs, { kind: "g" });

  const updated = await col.update(
    (ds) =>
      rebuildDataset(ds, (v, path) => {
        if (path !== "value") return v;
        const a = v.array;
        return v.withData(
          NDArray.from(
            (a.data as Float32Array).map((x) => x * 2),
            { shape: a.shape },
          ),
        );
      }),
    { filters: "num == 1" },
  );
  assert.deepEqual(updated, ["num=1"]);
  assert.deepEqual(await col.dropPartitions({ filters: "num == 0" }), ["num=0"]);
  assert.deepEqual(await col.partitions(), ["num=1", "num=2"]);
  await col.store.close();

  const ro = await openCollection(url, { mode: "r", ...so });
  try {
    assert.equal(ro.readOnly, true);
    assert.deepEqual(await ro.partitions(), ["num=1", "num=2"]);
    const all = await ro.query();
    assert.ok(all);
    assert.deepEqual(numbers(all, "num"), [1, 1, 2]);
    assert.deepEqual(numbers(all, "value"), [20, 22, 24, 40, 42, 44, 30, 31, 32]);
    assert.deepEqual(numbers(all, "grp/sub/depth"), [101, 102, 103]);
    assert.deepEqual(numbers(all, "static"), [0.5, 1.5, 2.5]);
    assert.deepEqual(numbers(all, "grp/sub/coef"), [7, 8, 9]);
    assert.deepEqual(all.attrs, {}, "two partitions: no partition key");
    const catalog = JSON.parse(new TextDecoder().decode(await ro.store.readBytes(CATALOG_KEY)));
    assert.deepEqual(catalog.paths, ["num=1", "num=2"]);
    await assert.rejects(ro.insert(seqDataset(schema, [5], { nested: true })), ReadOnlyError);
    assert.deepEqual(await ro.partitions(), ["num=1", "num=2"]);
  } finally {
    await ro.store.close();
  }
}

let tmp: string;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), "zc-stores-"));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("the same collection scenario on every store", () => {
  it("memory://", async () => {
    await scenario(`memory://zc-stores-${process.pid}`);
  });

  it("file:// (a temporary directory)", async () => {
    const dir = join(tmp, "local collection");
    await scenario(pathToFileURL(dir).href);
    // and by bare path
    const ro = await openCollection(dir);
    assert.deepEqual(await ro.partitions(), ["num=1", "num=2"]);
  });

  it("icechunk:// (a temporary directory)", async () => {
    const dir = join(tmp, "icechunk");
    await scenario(`icechunk://${dir}`);
    const store = await openStore(`icechunk://${dir}`, { readOnly: true });
    try {
      // the root config lives under _zc_meta (docs/format.md §11), and is read back through the key mapping
      assert.ok(await store.exists("_zcollection.json"));
      assert.deepEqual(
        (await store.listDir("")).filter((n) => !n.startsWith("_")),
        ["num=1", "num=2"],
      );
    } finally {
      await store.close();
    }
  });

  describe("s3:// (moto)", () => {
    let moto: MotoServer;
    before(async () => {
      moto = await startMoto({ bucket: "zc-collection" });
    });
    after(async () => {
      await moto?.stop();
    });

    it("runs the scenario below a prefix", async () => {
      await scenario(`s3://${moto.bucket}/collections/one`, moto.storageOptions);
      const store = await openStore(`s3://${moto.bucket}/collections`, {
        readOnly: true,
        storageOptions: moto.storageOptions,
      });
      try {
        assert.deepEqual(await store.listDir(""), ["one"]);
      } finally {
        await store.close();
      }
    });
  });
});
