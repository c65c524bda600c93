import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Collection, createCollection, openCollection } from "../../src/collection/index.js";
import { Dataset } from "../../src/data/index.js";
import { ReadOnlyError, SchemaError } from "../../src/errors.js";
import { encodeJson } from "../../src/json.js";
import { CATALOG_KEY, Catalog, catalogChecksum } from "../../src/partitioning/catalog.js";
import { Sequence } from "../../src/partitioning/index.js";
import { Schema } from "../../src/schema/index.js";
import { CountingStore } from "../../src/store/counting.js";
import { MemoryStore } from "../../src/store/memory.js";
import type { Store } from "../../src/store/store.js";
import {
  captureWarnings,
  numbers,
  seqDataset,
  seqPartitioning,
  seqSchema,
  text,
} from "../helpers/collection-fixtures.js";

const EMPTY = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const ABC = "sha256:880553fca8fcea94e325ee2cfb48e5a985cc797f39a14cc6d3cedecfeb2ae4d2";
const NUM012 = "sha256:c573171e87962375c826dabe7bfb411995fb5302ed3ca7862fa727ba2e44ee50";

async function catalogDoc(store: Store): Promise<string> {
  return text(store, CATALOG_KEY);
}

/** A catalog-enabled Sequence collection over a fresh memory store holding partitions `nums`. */
async function withCatalog(nums: readonly number[] = [0, 1, 2]): Promise<Collection> {
  const schema = seqSchema();
  const col = await createCollection(new MemoryStore(), {
    schema,
    axis: "num",
    partitioning: seqPartitioning(),
    catalogEnabled: true,
  });
  if (nums.length > 0) await col.insert(seqDataset(schema, nums));
  return col;
}

describe("catalog checksum and document (docs/format.md §9)", () => {
  it("hashes the sorted unique paths, each followed by a newline", async () => {
    assert.equal(await catalogChecksum([]), EMPTY);
    assert.equal(await catalogChecksum(["a", "b", "c"]), ABC);
    assert.equal(await catalogChecksum(["c", "a", "b", "a"]), ABC);
    assert.equal(await catalogChecksum(["num=0", "num=1", "num=2"]), NUM012);
  });

  it("writes compact JSON with the keys format_version, paths, checksum in that order", async () => {
    const store = new MemoryStore();
    const cat = new Catalog(store);
    assert.deepEqual(await cat.write(["num=2", "num=0", "num=1", "num=0"]), ["num=0", "num=1", "num=2"]);
    assert.equal(
      await catalogDoc(store),
      `{"format_version":1,"paths":["num=0","num=1","num=2"],"checksum":"${NUM012}"}`,
    );
    assert.deepEqual(await store.list(), [CATALOG_KEY]);
  });

  it("adds, removes and drops", async () => {
    const store = new MemoryStore();
    const cat = new Catalog(store);
    assert.equal(await cat.exists(), false);
    assert.equal(await cat.read(), undefined);
    assert.deepEqual(await cat.add(["b"]), ["b"]);
    assert.deepEqual(await cat.add(["c", "a", "b"]), ["a", "b", "c"]);
    assert.deepEqual(await cat.remove(["b", "zz"]), ["a", "c"]);
    assert.deepEqual(await cat.read(), {
      paths: ["a", "c"],
      checksum: await catalogChecksum(["a", "c"]),
      valid: true,
    });
    assert.deepEqual(await cat.remove(["a", "c"]), []);
    assert.equal(await catalogDoc(store), `{"format_version":1,"paths":[],"checksum":"${EMPTY}"}`);
    await cat.drop();
    assert.equal(await cat.exists(), false);
    assert.deepEqual(await store.list(), []);
  });

  it("swaps against what it wrote last without reading, and reads when another writer came in between", async () => {
    const store = new CountingStore(new MemoryStore());
    const a = new Catalog(store);
    const b = new Catalog(store);
    await a.add(["p1"]);
    store.reset();
    assert.deepEqual(await a.add(["p2"]), ["p1", "p2"]);
    assert.equal(store.counts.get, 0, "no read: the swap against its own last write succeeded");
    assert.equal(store.counts.put, 1);
    assert.deepEqual(await b.add(["p3"]), ["p1", "p2", "p3"]);
    store.reset();
    // a's last write is stale now: its swap fails, then it reads and keeps b's partition.
    assert.deepEqual(await a.remove(["p1"]), ["p2", "p3"]);
    assert.equal(store.counts.get, 1);
    assert.equal(store.counts.put, 2, "the failed swap, then the one that landed");
    assert.deepEqual((await b.read())?.paths, ["p2", "p3"]);
    // A catalog deleted behind its back is recreated with the new paths only (docs/format.md §9).
    await store.deleteKey(CATALOG_KEY);
    assert.deepEqual(await a.add(["p4"]), ["p4"]);
  });

  it("parses a document read again only when its bytes changed", async () => {
    const store = new MemoryStore();
    const cat = new Catalog(store);
    await cat.write(["year=2024/month=01", "year=2024/month=02"]);
    const first = await cat.read();
    assert.equal(await cat.read(), first, "the same bytes: the same state");
    // Another writer's document of the same length, one path changed.
    await new Catalog(store).write(["year=2024/month=01", "year=2024/month=03"]);
    const second = await cat.read();
    assert.deepEqual(second?.paths, ["year=2024/month=01", "year=2024/month=03"]);
    assert.equal(second?.valid, true);
    await store.deleteKey(CATALOG_KEY);
    assert.equal(await cat.read(), undefined);
  });

  it("treats invalid JSON or UTF-8 as missing; recomputes a missing checksum; a missing paths list is empty", async () => {
    const store = new MemoryStore();
    const cat = new Catalog(store);
    await store.writeBytes(CATALOG_KEY, new TextEncoder().encode('{"paths": ["a", '));
    assert.equal(await cat.read(), undefined);
    await store.writeBytes(CATALOG_KEY, new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
    assert.equal(await cat.read(), undefined);
    await store.writeBytes(CATALOG_KEY, new TextEncoder().encode("[1, 2]"));
    assert.equal(await cat.read(), undefined);
    await store.writeBytes(CATALOG_KEY, new TextEncoder().encode('{"paths": ["b", "a"]}'));
    assert.deepEqual(await cat.read(), {
      paths: ["a", "b"],
      checksum: await catalogChecksum(["a", "b"]),
      valid: true,
    });
    await store.writeBytes(CATALOG_KEY, new TextEncoder().encode('{"format_version": 1, "checksum": ""}'));
    assert.deepEqual(await cat.read(), { paths: [], checksum: EMPTY, valid: true });
    // add() on an unreadable catalog starts from an empty list
    await store.writeBytes(CATALOG_KEY, new TextEncoder().encode("not json"));
    assert.deepEqual(await cat.add(["x"]), ["x"]);
  });

  it("reports a stored checksum that does not match the paths", async () => {
    const store = new MemoryStore();
    await store.writeBytes(
      CATALOG_KEY,
      encodeJson({ format_version: 1, paths: ["num=0", "num=1"], checksum: NUM012 }),
    );
    assert.deepEqual(await new Catalog(store).read(), {
      paths: ["num=0", "num=1"],
      checksum: NUM012,
      valid: false,
    });
  });
});

describe("catalog-enabled collections (docs/behaviour.md §10, §18 #7)", () => {
  it("writes the catalog of the fixture partitions at insert, and the docs/format.md §9 example byte for byte", async () => {
    const col = await withCatalog([2, 0, 1]);
    assert.equal(
      await catalogDoc(col.store),
      `{"format_version":1,"paths":["num=0","num=1","num=2"],"checksum":"${NUM012}"}`,
    );
  });

  it("keeps the catalog in string order while partitions() is in natural order", async () => {
    const col = await withCatalog([10, 2, 1]);
    assert.deepEqual(JSON.parse(await catalogDoc(col.store)).paths, ["num=1", "num=10", "num=2"]);
    assert.deepEqual(await col.partitions(), ["num=1", "num=2", "num=10"]);
  });

  it("lists from the catalog without walking: a partition deleted by hand is still listed, and query skips it", async () => {
    const col = await withCatalog();
    await col.store.deletePrefix("num=1");
    const probe = new CountingStore(col.store);
    const reopened = await openCollection(probe, { mode: "r" });
    assert.deepEqual(await reopened.partitions(), ["num=0", "num=1", "num=2"]);
    assert.equal(probe.counts.list, 0);
    const ds = await reopened.query();
    assert.ok(ds);
    assert.deepEqual(numbers(ds, "num"), [0, 2]);
    assert.deepEqual(numbers(ds, "value"), [0, 1, 2, 20, 21, 22]);
  });

  it("falls back to a walk, with a warning, when the catalog fails its checksum", async () => {
    const col = await withCatalog();
    await col.store.writeBytes(
      CATALOG_KEY,
      encodeJson({ format_version: 1, paths: ["num=0", "num=7"], checksum: NUM012 }),
    );
    const { result, warnings } = await captureWarnings(() => col.partitions());
    assert.deepEqual(result, ["num=0", "num=1", "num=2"]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] as string, /^ZCollectionWarning: catalog of memory:\/\/.* fails its checksum/);
  });

  it("does not trust a tampered catalog when an insert or a drop updates it", async () => {
    const col = await withCatalog();
    await col.store.writeBytes(
      CATALOG_KEY,
      encodeJson({ format_version: 1, paths: ["num=0", "num=7"], checksum: NUM012 }),
    );
    await captureWarnings(() => col.insert(seqDataset(col.schema, [5])));
    assert.deepEqual(JSON.parse(await catalogDoc(col.store)).paths, ["num=0", "num=1", "num=2", "num=5"]);
    await col.store.writeBytes(
      CATALOG_KEY,
      encodeJson({ format_version: 1, paths: ["num=9"], checksum: NUM012 }),
    );
    await captureWarnings(() => col.dropPartitions({ filters: "num == 0" }));
    const { result, warnings } = await captureWarnings(() => col.partitions());
    assert.deepEqual(result, ["num=1", "num=2", "num=5"]);
    assert.deepEqual(warnings, []);
  });

  it("repairCatalog rewrites the catalog from a walk and returns the paths in string order", async () => {
    const col = await withCatalog([0, 1, 2, 10]);
    await col.store.writeBytes(CATALOG_KEY, encodeJson({ format_version: 1, paths: ["num=3"] }));
    assert.deepEqual(await col.partitions(), ["num=3"]);
    assert.deepEqual(await col.repairCatalog(), ["num=0", "num=1", "num=10", "num=2"]);
    assert.deepEqual(await col.partitions(), ["num=0", "num=1", "num=2", "num=10"]);
    assert.equal(
      await catalogDoc(col.store),
      `{"format_version":1,"paths":["num=0","num=1","num=10","num=2"],"checksum":"${await catalogChecksum(["num=0", "num=1", "num=2", "num=10"])}"}`,
    );
  });

  it("repairCatalog refuses a collection without catalog (SchemaError) and a read-only one", async () => {
    const store = new MemoryStore();
    const plain = await createCollection(store, {
      schema: seqSchema(),
      axis: "num",
      partitioning: seqPartitioning(),
      catalogEnabled: false,
    });
    await assert.rejects(
      plain.repairCatalog(),
      (err: unknown) => err instanceof SchemaError && /catalog/.test(err.message),
    );
    assert.equal(await store.exists(CATALOG_KEY), false);
    // the catalog check comes before the read-only check (docs/behaviour.md §8.9)
    await assert.rejects(
      openCollection(store).then((c) => c.repairCatalog()),
      SchemaError,
    );
    const col = await withCatalog();
    const ro = await openCollection(col.store, { mode: "r" });
    await assert.rejects(ro.repairCatalog(), ReadOnlyError);
  });

  it("dropPartitions removes the dropped paths from the catalog", async () => {
    const col = await withCatalog([0, 1, 2, 3]);
    assert.deepEqual(await col.dropPartitions({ filters: "num >= 2" }), ["num=2", "num=3"]);
    assert.deepEqual(JSON.parse(await catalogDoc(col.store)), {
      format_version: 1,
      paths: ["num=0", "num=1"],
      checksum: await catalogChecksum(["num=0", "num=1"]),
    });
    assert.deepEqual(await col.dropPartitions(), ["num=0", "num=1"]);
    assert.deepEqual(JSON.parse(await catalogDoc(col.store)).paths, []);
    assert.deepEqual(await col.partitions(), []);
  });

  it("recreates a deleted catalog at the next insert with only the new paths; repair restores the rest", async () => {
    const col = await withCatalog([0, 1]);
    await col.store.deleteKey(CATALOG_KEY);
    // without the file, the listing walks the store
    assert.deepEqual(await col.partitions(), ["num=0", "num=1"]);
    await col.insert(seqDataset(col.schema, [4]));
    assert.deepEqual(JSON.parse(await catalogDoc(col.store)).paths, ["num=4"]);
    assert.deepEqual(await col.partitions(), ["num=4"]);
    assert.deepEqual(await col.repairCatalog(), ["num=0", "num=1", "num=4"]);
    assert.deepEqual(await col.partitions(), ["num=0", "num=1", "num=4"]);
  });

  it("update does not touch the catalog", async () => {
    const col = await withCatalog([0, 1]);
    const before = await catalogDoc(col.store);
    await col.store.writeBytes(
      CATALOG_KEY,
      new TextEncoder().encode(before.replace('"num=1"', '"num=1","num=8"')),
    );
    const tampered = await catalogDoc(col.store);
    await captureWarnings(() => col.update((ds) => ds));
    assert.equal(await catalogDoc(col.store), tampered);
  });

  it("a cold open of 1 000 partitions costs at most 3 GETs and no LIST", async () => {
    const schema = Schema()
      .withDimension("num", { chunks: 1 })
      .withVariable("num", { dtype: "int32", dimensions: ["num"] })
      .build();
    const inner = new MemoryStore();
    const col = await createCollection(inner, {
      schema,
      axis: "num",
      partitioning: new Sequence(["num"], { dimension: "num" }),
      catalogEnabled: true,
    });
    const nums = Int32Array.from({ length: 1000 }, (_, i) => 999 - i);
    const written = await col.insert(Dataset.fromArrays(schema, { num: nums }));
    assert.equal(written.length, 1000);

    const probe = new CountingStore(inner);
    const cold = await openCollection(probe);
    const paths = await cold.partitions();
    const c = probe.counts;
    assert.ok(c.get <= 3, `GETs: ${c.get}`);
    assert.equal(c.list, 0);
    assert.equal(c.getRange, 0);
    assert.equal(c.exists, 0);
    assert.equal(paths.length, 1000);
    assert.deepEqual(paths.slice(0, 3), ["num=0", "num=1", "num=2"]);
    assert.equal(paths[999], "num=999");
  });
});
