import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import * as zc from "../../src/index.js";

// The names of the API contract, as users import them from the package root.
describe("public API surface", () => {
  it("exports every root name of the contract", () => {
    for (const name of [
      "NDArray",
      "datetime64",
      "formatDatetime64",
      "Schema",
      "SchemaBuilder",
      "Dimension",
      "VariableSchema",
      "GroupSchema",
      "DatasetSchema",
      "VariableRole",
      "Variable",
      "Group",
      "Dataset",
      "openStore",
      "createCollection",
      "openCollection",
      "Collection",
      "Store",
      "LocalStore",
      "MemoryStore",
      "ObjectStore",
      "IcechunkStore",
      "HttpStore",
      "ZCollectionError",
      "SchemaError",
      "StoreError",
      "CollectionExistsError",
      "CollectionNotFoundError",
      "ReadOnlyError",
      "ExpressionError",
      "PartitionError",
      "isZCollectionError",
    ]) {
      assert.ok(name in zc, name);
    }
  });
  it("exports the namespaces with their members", () => {
    assert.equal(typeof zc.codecs.profile, "function");
    assert.deepEqual(zc.codecs.profileNames(), ["local-fast", "cloud-balanced", "cloud-cold"]);
    assert.equal(zc.codecs.DEFAULT_PROFILE, "cloud-balanced");
    assert.equal(typeof zc.codecs.autoCodecs, "function");
    assert.equal(typeof zc.codecs.CodecStack.fromJSON, "function");
    for (const m of ["replace", "concat", "timeSeries", "upsert", "upsertWithin"] as const) {
      assert.equal(typeof zc.merge[m], "function", m);
    }
    for (const p of ["Date", "Sequence", "GroupedSequence", "compileFilter", "fromJSON"] as const) {
      assert.equal(typeof zc.partitioning[p], "function", p);
    }
    assert.equal(zc.config.get("partition.concurrency"), 8);
  });
  it("runs the contract's calls end to end on memory://", async () => {
    const schema = zc
      .Schema()
      .withDimension("num", { size: null, chunks: 4 })
      .withDimension("x", { size: 3, chunks: 3 })
      .withVariable("num", { dtype: "int64", dimensions: ["num"] })
      .withVariable("value", { dtype: "float32", dimensions: ["num", "x"], fillValue: Number.NaN })
      .withVariable("static", { dtype: "float32", dimensions: ["x"], group: "/aux" })
      .build();
    const store = await zc.openStore("memory://api-surface");
    const col = await zc.createCollection(store, {
      schema,
      axis: "num",
      partitioning: new zc.partitioning.Sequence(["num"], { dimension: "num" }),
      catalogEnabled: true,
    });
    const ds = zc.Dataset.fromArrays(schema, {
      num: new BigInt64Array([0n, 0n, 10n, 2n]),
      value: zc.NDArray.from(
        new Float32Array(12).map((_, i) => i),
        { shape: [4, 3] },
      ),
      "/aux/static": new Float32Array([1, 2, 3]),
    });
    assert.deepEqual(await col.insert(ds), ["num=0", "num=10", "num=2"]);
    const ro = await zc.openCollection(store, { mode: "r" });
    assert.deepEqual(await ro.partitions(), ["num=0", "num=2", "num=10"]);
    assert.deepEqual(await ro.partitions({ filters: "num > 1" }), ["num=2", "num=10"]);
    const q = await ro.query({ variables: ["num", "/aux/static"] });
    assert.deepEqual(q?.getVariable("num").array.toArray(), [0n, 0n, 2n, 10n]);
    assert.deepEqual(q?.getVariable("/aux/static").array.toArray(), [1, 2, 3]);
    const sums = await ro.map((d) =>
      (d.getVariable("value").array.data as Float32Array).reduce((a, b) => a + b, 0),
    );
    assert.deepEqual(
      [...sums],
      [
        ["num=0", 15],
        ["num=2", 30],
        ["num=10", 21],
      ],
    );
    await assert.rejects(ro.insert(ds), zc.ReadOnlyError);
    const rw = await zc.openCollection(store, { mode: "rw" });
    assert.deepEqual(await rw.dropPartitions({ filters: "num == 10" }), ["num=10"]);
    assert.deepEqual(await rw.repairCatalog(), ["num=0", "num=2"]);
    const ice = zc.IcechunkStore;
    assert.equal(typeof ice.open, "function");
  });
});

describe("subpath exports of the built package", () => {
  const root = join(import.meta.dirname, "../..");
  it("resolves zcollection/{codecs,merge,partitioning,config,store,netcdf,node}", async (t) => {
    if (!existsSync(join(root, "dist/index.js"))) {
      t.skip("dist/ not built (npm test builds first)");
      return;
    }
    const script = `
      const names = ["codecs", "merge", "partitioning", "config", "store", "netcdf", "node"];
      const out = {};
      for (const n of names) out[n] = Object.keys(await import("zcollection/" + n)).length;
      const root = await import("zcollection");
      out.root = typeof root.createCollection;
      console.log(JSON.stringify(out));`;
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], {
      cwd: root,
    });
    const counts = JSON.parse(stdout) as Record<string, number | string>;
    assert.equal(counts.root, "function");
    for (const n of ["codecs", "merge", "partitioning", "config", "store", "netcdf", "node"]) {
      assert.ok((counts[n] as number) > 0, n);
    }
  });
});
