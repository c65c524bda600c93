import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { profile } from "../../src/codecs/index.js";
import { createCollection, openCollection } from "../../src/collection/index.js";
import { Dataset } from "../../src/data/index.js";
import { NAT } from "../../src/dtype.js";
import { decodeJson, type JsonValue, parseJson } from "../../src/json.js";
import { NDArray } from "../../src/ndarray.js";
import * as partitioning from "../../src/partitioning/index.js";
import { Schema } from "../../src/schema/index.js";
import { MemoryStore } from "../../src/store/memory.js";
import { readArray } from "../../src/zarr/index.js";
import {
  isoTimes,
  numbers,
  seqDataset,
  seqPartitioning,
  seqSchema,
  text,
} from "../helpers/collection-fixtures.js";
import { canonicalSha256 } from "../helpers/zarr-cases.js";

type Obj = { [key: string]: JsonValue };

async function json(store: MemoryStore, key: string): Promise<Obj> {
  return parseJson(await text(store, key), key) as Obj;
}

const DEFAULT_CODECS = {
  array_to_array: [],
  array_to_bytes: { name: "bytes", configuration: { endian: "little" } },
  bytes_to_bytes: [{ name: "zstd", configuration: { level: 3, checksum: true } }],
  sharded: true,
  shard_target_bytes: 134217728,
};

const UNSHARDED_ZARR_CODECS = [
  { name: "bytes", configuration: { endian: "little" } },
  { name: "zstd", configuration: { level: 3, checksum: true } },
];

async function fixtureCollection(opts: { catalogEnabled?: boolean; nested?: boolean } = {}) {
  const store = new MemoryStore();
  const schema = seqSchema({ nested: opts.nested ?? false });
  const col = await createCollection(store, {
    schema,
    axis: "num",
    partitioning: seqPartitioning(),
    catalogEnabled: opts.catalogEnabled ?? false,
  });
  return { store, schema, col };
}

describe("_zcollection.json (docs/format.md §3)", () => {
  it("writes the docs/format.md §3.1 example: keys in order, values, 2-space indentation", async () => {
    const { store } = await fixtureCollection();
    assert.deepEqual(await store.list(), ["_zcollection.json"]);
    const raw = await text(store, "_zcollection.json");
    assert.ok(raw.startsWith('{\n  "format_version": 1,\n  "axis": "num",\n  "partitioning": {\n    "name"'));
    assert.equal(raw.match(/"format_version": 1\b/g)?.length, 2);
    const doc = parseJson(raw) as Obj;
    assert.deepEqual(Object.keys(doc), ["format_version", "axis", "partitioning", "catalog", "schema"]);
    assert.equal(doc.format_version, 1);
    assert.equal(doc.axis, "num");
    assert.deepEqual(Object.keys(doc.partitioning as Obj), ["name", "variables", "dimension"]);
    assert.deepEqual(doc.partitioning, { name: "sequence", variables: ["num"], dimension: "num" });
    assert.deepEqual(doc.catalog, { enabled: false });

    const schema = doc.schema as Obj;
    assert.deepEqual(Object.keys(schema), [
      "name",
      "dimensions",
      "variables",
      "groups",
      "attrs",
      "format_version",
    ]);
    assert.equal(schema.name, "/");
    assert.deepEqual(schema.groups, []);
    assert.deepEqual(schema.attrs, {});
    assert.equal(schema.format_version, 1);
    const dims = schema.dimensions as Obj[];
    for (const d of dims) assert.deepEqual(Object.keys(d), ["name", "size", "chunks", "shards"]);
    assert.deepEqual(dims, [
      { name: "num", size: null, chunks: 4, shards: null },
      { name: "x", size: 3, chunks: 3, shards: null },
    ]);

    const vars = schema.variables as Obj[];
    for (const v of vars) {
      assert.deepEqual(Object.keys(v), [
        "name",
        "dtype",
        "dimensions",
        "fill_value",
        "codecs",
        "attrs",
        "role",
        "immutable",
      ]);
      assert.deepEqual(Object.keys(v.codecs as Obj), [
        "array_to_array",
        "array_to_bytes",
        "bytes_to_bytes",
        "sharded",
        "shard_target_bytes",
      ]);
    }
    assert.deepEqual(vars, [
      {
        name: "num",
        dtype: "<i8",
        dimensions: ["num"],
        fill_value: null,
        codecs: DEFAULT_CODECS,
        attrs: {},
        role: "user",
        immutable: false,
      },
      {
        name: "value",
        dtype: "<f4",
        dimensions: ["num", "x"],
        fill_value: "NaN",
        codecs: DEFAULT_CODECS,
        attrs: { units: "m" },
        role: "user",
        immutable: false,
      },
      {
        name: "static",
        dtype: "<f4",
        dimensions: ["x"],
        fill_value: null,
        codecs: DEFAULT_CODECS,
        attrs: {},
        role: "user",
        immutable: true,
      },
    ]);
    // the default profile is what the codecs module calls cloud-balanced
    assert.deepEqual(profile("cloud-balanced").toJSON(), DEFAULT_CODECS);
  });

  it("reads the document back into the same schema, partitioning and flags", async () => {
    const { store } = await fixtureCollection({ catalogEnabled: true });
    const col = await openCollection(store);
    assert.equal(col.axis, "num");
    assert.equal(col.catalogEnabled, true);
    assert.deepEqual(col.partitioning.toJSON(), { name: "sequence", variables: ["num"], dimension: "num" });
    const flags = [...col.schema.allVariables()].map(([p, v]) => [p, v.immutable, v.dtype]);
    assert.deepEqual(flags, [
      ["num", false, "int64"],
      ["value", false, "float32"],
      ["static", true, "float32"],
    ]);
    assert.ok(Number.isNaN(col.schema.getVariable("value").fillValue));
  });

  it("writes 64-bit fill values digit-exact and NaT datetimes as null (docs/format.md §2, §3.4)", async () => {
    const store = new MemoryStore();
    const schema = Schema()
      .withDimension("time", { chunks: 2 })
      .withVariable("time", { dtype: "datetime64[ns]", dimensions: ["time"], fillValue: NAT })
      .withVariable("i", { dtype: "int64", dimensions: ["time"], fillValue: NAT })
      .withVariable("u", { dtype: "uint64", dimensions: ["time"], fillValue: 2n ** 64n - 1n })
      .withVariable("f", { dtype: "float32", dimensions: ["time"] })
      .build();
    const col = await createCollection(store, {
      schema,
      axis: "time",
      partitioning: new partitioning.Date("time", { resolution: "M" }),
    });
    const raw = await text(store, "_zcollection.json");
    assert.deepEqual(
      raw
        .split("\n")
        .filter((l) => l.includes('"fill_value"'))
        .map((l) => l.trim()),
      [
        '"fill_value": null,',
        '"fill_value": -9223372036854775808,',
        '"fill_value": 18446744073709551615,',
        '"fill_value": null,',
      ],
    );
    const back = await openCollection(store);
    assert.equal(back.schema.getVariable("i").fillValue, -(2n ** 63n));
    assert.equal(back.schema.getVariable("u").fillValue, 2n ** 64n - 1n);

    await col.insert(
      Dataset.fromArrays(schema, {
        time: new BigInt64Array([1n, 2n]),
        i: new BigInt64Array([1n, 2n]),
        u: new BigUint64Array([1n, 2n]),
        f: new Float32Array([1, 2]),
      }),
    );
    const fill = async (v: string) =>
      (await text(store, `year=1970/month=01/${v}/zarr.json`))
        .split("\n")
        .find((l) => l.includes('"fill_value"'))
        ?.trim();
    assert.equal(await fill("time"), '"fill_value": -9223372036854775808,');
    assert.equal(await fill("i"), '"fill_value": -9223372036854775808,');
    assert.equal(await fill("u"), '"fill_value": 18446744073709551615,');
    assert.equal(await fill("f"), '"fill_value": 0.0,');
  });
});

describe("partition documents (docs/format.md §1, §5, §6)", () => {
  it("writes the partition group with the key pairs, and implicit root and intermediate groups", async () => {
    const store = new MemoryStore();
    const schema = Schema()
      .withDimension("time")
      .withVariable("time", { dtype: "datetime64[s]", dimensions: ["time"] })
      .withAttribute("title", "demo")
      .build();
    const col = await createCollection(store, {
      schema,
      axis: "time",
      partitioning: new partitioning.Date("time", { resolution: "M" }),
    });
    assert.deepEqual(await store.list(), ["_zcollection.json"]);
    await col.insert(
      Dataset.fromArrays(schema, {
        time: BigInt64Array.from([Date.UTC(2024, 2, 5), Date.UTC(2024, 3, 1)], (ms) => BigInt(ms / 1000)),
      }),
    );
    assert.deepEqual(await store.list(), [
      "_zcollection.json",
      "year=2024/month=03/time/c/0",
      "year=2024/month=03/time/zarr.json",
      "year=2024/month=03/zarr.json",
      "year=2024/month=04/time/c/0",
      "year=2024/month=04/time/zarr.json",
      "year=2024/month=04/zarr.json",
      "year=2024/zarr.json",
      "zarr.json",
    ]);
    const group = await json(store, "year=2024/month=03/zarr.json");
    assert.deepEqual(Object.keys(group), ["attributes", "zarr_format", "node_type"]);
    assert.deepEqual(Object.keys(group.attributes as Obj), ["title", "_zc_partition_key"]);
    assert.deepEqual(group, {
      attributes: {
        title: "demo",
        _zc_partition_key: [
          ["year", 2024],
          ["month", 3],
        ],
      },
      zarr_format: 3,
      node_type: "group",
    });
    const implicit = '{\n  "attributes": {},\n  "zarr_format": 3,\n  "node_type": "group"\n}';
    assert.equal(await text(store, "zarr.json"), implicit);
    assert.equal(await text(store, "year=2024/zarr.json"), implicit);
    // a dropped partition leaves its ancestors behind (docs/format.md §1 timeline)
    await col.dropPartitions({ filters: "month == 3" });
    assert.deepEqual(
      (await store.list()).filter((k) => k.endsWith("zarr.json")),
      [
        "year=2024/month=04/time/zarr.json",
        "year=2024/month=04/zarr.json",
        "year=2024/zarr.json",
        "zarr.json",
      ],
    );
  });

  it("writes the array document of the docs/format.md §6.1 example (num=0, 2 rows), key by key", async () => {
    const { store, schema, col } = await fixtureCollection();
    await col.insert(seqDataset(schema, [0, 0, 1, 2, 2, 2]));
    const doc = await json(store, "num=0/value/zarr.json");
    assert.deepEqual(Object.keys(doc), [
      "shape",
      "data_type",
      "chunk_grid",
      "chunk_key_encoding",
      "fill_value",
      "codecs",
      "attributes",
      "dimension_names",
      "zarr_format",
      "node_type",
      "storage_transformers",
    ]);
    assert.deepEqual(doc, {
      shape: [2, 3],
      data_type: "float32",
      chunk_grid: { name: "regular", configuration: { chunk_shape: [4, 3] } },
      chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
      fill_value: "NaN",
      codecs: UNSHARDED_ZARR_CODECS,
      attributes: { units: "m" },
      dimension_names: ["num", "x"],
      zarr_format: 3,
      node_type: "array",
      storage_transformers: [],
    });
    // chunk lengths are never clipped; 3 rows of num=2 still use one [4, 3] chunk
    assert.deepEqual((await json(store, "num=2/value/zarr.json")).shape, [3, 3]);
    assert.deepEqual(
      (await store.list("num=2")).filter((k) => k.includes("/c/")),
      ["num=2/num/c/0", "num=2/value/c/0/0"],
    );
  });

  it("does not store an all-fill chunk and reads it back as fill values", async () => {
    const { store, schema, col } = await fixtureCollection();
    await col.insert(seqDataset(schema, [0, 0, 1]));
    // num=0: the key column is all zeros = the default fill 0
    assert.deepEqual(await store.list("num=0/num"), ["num=0/num/zarr.json"]);
    assert.deepEqual(await store.list("num=1/num"), ["num=1/num/c/0", "num=1/num/zarr.json"]);
    assert.deepEqual(numbers((await col.query({ filters: "num == 0" })) as Dataset, "num"), [0, 0]);
  });

  it("keeps immutable variables out of partitions, under _immutable/ with plain intermediate groups (docs/format.md §8)", async () => {
    const { store, schema, col } = await fixtureCollection({ nested: true });
    await col.insert(seqDataset(schema, [0, 1], { nested: true }));
    const keys = await store.list();
    assert.deepEqual(
      keys.filter((k) => k.startsWith("_immutable/")),
      [
        "_immutable/grp/sub/coef/c/0",
        "_immutable/grp/sub/coef/zarr.json",
        "_immutable/grp/sub/zarr.json",
        "_immutable/grp/zarr.json",
        "_immutable/static/c/0",
        "_immutable/static/zarr.json",
        "_immutable/zarr.json",
      ],
    );
    assert.deepEqual(
      keys.filter((k) => k.startsWith("num=0/")),
      [
        "num=0/grp/sub/depth/c/0",
        "num=0/grp/sub/depth/zarr.json",
        "num=0/grp/sub/zarr.json",
        "num=0/grp/zarr.json",
        "num=0/num/zarr.json",
        "num=0/value/c/0/0",
        "num=0/value/zarr.json",
        "num=0/zarr.json",
      ],
    );
    const plain = { attributes: {}, zarr_format: 3, node_type: "group" };
    assert.deepEqual(await json(store, "_immutable/zarr.json"), plain);
    assert.deepEqual(await json(store, "_immutable/grp/zarr.json"), plain);
    assert.deepEqual(await json(store, "_immutable/grp/sub/zarr.json"), plain);
    // inside partitions, nested groups carry the schema group attributes
    assert.deepEqual((await json(store, "num=0/grp/zarr.json")).attributes, { kind: "g" });
    assert.deepEqual((await json(store, "num=0/grp/sub/zarr.json")).attributes, { level: 2 });
    const coef = await json(store, "_immutable/grp/sub/coef/zarr.json");
    assert.equal(coef.data_type, "int32");
    assert.deepEqual(coef.shape, [3]);
    assert.deepEqual(coef.dimension_names, ["x"]);
    assert.deepEqual(coef.chunk_grid, { name: "regular", configuration: { chunk_shape: [3] } });
    assert.deepEqual((await readArray(store, "_immutable/grp/sub/coef")).toArray(), [7, 8, 9]);
  });

  it("shards a 4096-row partition with chunks 128 x 8 under cloud-balanced into one object c/0/0", async () => {
    const store = new MemoryStore();
    const schema = Schema()
      .withDimension("time", { chunks: 128 })
      .withDimension("x_ac", { size: 8, chunks: 8 })
      .withVariable("cycle", { dtype: "int32", dimensions: ["time"] })
      .withVariable("ssh", { dtype: "float32", dimensions: ["time", "x_ac"], fillValue: Number.NaN })
      .build();
    const col = await createCollection(store, {
      schema,
      axis: "time",
      partitioning: new partitioning.Sequence(["cycle"], { dimension: "time" }),
    });
    const ssh = Float32Array.from({ length: 4096 * 8 }, (_, i) => i / 8);
    await col.insert(
      Dataset.fromArrays(schema, {
        cycle: new Int32Array(4096).fill(7),
        ssh: NDArray.from(ssh, { shape: [4096, 8] }),
      }),
    );
    assert.deepEqual(await store.list("cycle=7/ssh"), ["cycle=7/ssh/c/0/0", "cycle=7/ssh/zarr.json"]);
    const doc = await json(store, "cycle=7/ssh/zarr.json");
    assert.deepEqual(doc.shape, [4096, 8]);
    assert.deepEqual(doc.chunk_grid, { name: "regular", configuration: { chunk_shape: [4096, 8] } });
    assert.deepEqual(doc.codecs, [
      {
        name: "sharding_indexed",
        configuration: {
          chunk_shape: [128, 8],
          codecs: UNSHARDED_ZARR_CODECS,
          index_codecs: [{ name: "bytes", configuration: { endian: "little" } }, { name: "crc32c" }],
          index_location: "end",
        },
      },
    ]);
    // 32 inner chunks: the index is 32 × 16 bytes + 4 bytes of crc32c at the end
    const shard = (await store.readBytes("cycle=7/ssh/c/0/0")) as Uint8Array;
    const index = new DataView(shard.buffer, shard.byteOffset + shard.length - 516, 512);
    const [offset, nbytes] = [index.getBigUint64(0, true), index.getBigUint64(8, true)];
    assert.equal(offset, 0n);
    assert.ok(nbytes > 0n && nbytes < BigInt(shard.length));
    const ds = await col.query();
    assert.ok(ds);
    assert.equal(
      canonicalSha256(ds.getVariable("ssh").array),
      canonicalSha256(NDArray.from(ssh, { shape: [4096, 8] })),
    );
  });
});

describe("a partition written by zarr-python (fixtures/zarr-python-v3 zcollection_like)", () => {
  const FIXTURE = join(import.meta.dirname, "../fixtures/zarr/zarr-python-v3/v3.zarr/zcollection_like");

  async function copyInto(store: MemoryStore, prefix: string): Promise<void> {
    const entries = await readdir(FIXTURE, { recursive: true, withFileTypes: true });
    for (const e of entries) {
      if (!e.isFile()) continue;
      const full = join(e.parentPath, e.name);
      await store.writeBytes(`${prefix}/${relative(FIXTURE, full)}`, new Uint8Array(await readFile(full)));
    }
  }

  it("queries the Python arrays (sharded and unsharded) through a collection built around them", async () => {
    const manifest = decodeJson(
      await readFile(join(import.meta.dirname, "../fixtures/zarr/zarr-python-v3/manifest.json")),
      "manifest.json",
    ) as { arrays: Record<string, { data_sha256: string }> };
    const store = new MemoryStore();
    const schema = Schema()
      .withDimension("num_lines", { chunks: 16 })
      .withDimension("num_pixels", { size: 10, chunks: 10 })
      .withVariable("cloud_balanced_time", { dtype: "datetime64[ns]", dimensions: ["num_lines"] })
      .withVariable("cloud_balanced_ssh", {
        dtype: "float32",
        dimensions: ["num_lines", "num_pixels"],
        fillValue: Number.NaN,
      })
      .withVariable("local_fast_ssh", {
        dtype: "float32",
        dimensions: ["num_lines", "num_pixels"],
        fillValue: Number.NaN,
      })
      .build();
    const col = await createCollection(store, {
      schema,
      axis: "num_lines",
      partitioning: new partitioning.Sequence(["half"], { dimension: "num_lines" }),
    });
    await copyInto(store, "half=1");
    await copyInto(store, "half=10");
    // the Python group carries no _zc_partition_key: listing goes by path
    assert.deepEqual(await col.partitions(), ["half=1", "half=10"]);

    const one = await col.query({ filters: "half == 1" });
    assert.ok(one);
    for (const name of ["cloud_balanced_time", "cloud_balanced_ssh", "local_fast_ssh"]) {
      const expected = manifest.arrays[`/zcollection_like/${name}`]?.data_sha256;
      assert.equal(canonicalSha256(one.getVariable(name).array), expected, name);
    }
    assert.deepEqual(one.attrs, {
      description:
        "arrays created exactly the way zcollection v3 io/partition.py does (profiles local-fast and cloud-balanced; codec descriptors bytes(little) + zstd(3, checksum false))",
      Conventions: "CF-1.8",
    });
    assert.deepEqual(isoTimes(one, "cloud_balanced_time", 0).slice(0, 2), [
      "2024-03-01T00:00:00",
      "2024-03-01T01:00:00",
    ]);
    assert.equal(one.getVariable("cloud_balanced_ssh").array.get(63, 9), Math.fround(63.9));

    const both = await col.query({ variables: ["local_fast_ssh"] });
    assert.ok(both);
    assert.deepEqual([...both.variables.keys()], ["local_fast_ssh"]);
    assert.deepEqual(both.getVariable("local_fast_ssh").shape, [128, 10]);
    assert.equal(both.getVariable("local_fast_ssh").array.get(64 + 32, 0), 32);
  });
});
