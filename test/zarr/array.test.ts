import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { autoCodecs, CodecStack, profile } from "../../src/codecs/index.js";
import { NAT } from "../../src/dtype.js";
import { CodecError, SchemaError, StoreError } from "../../src/errors.js";
import { NDArray } from "../../src/ndarray.js";
import { CountingStore } from "../../src/store/counting.js";
import { MemoryStore } from "../../src/store/memory.js";
import { crc32c } from "../../src/zarr/compression/index.js";
import {
  arrayLayout,
  ensureParentGroups,
  readArray,
  readArrayMetadata,
  readGroup,
  writeArray,
  writeGroup,
} from "../../src/zarr/index.js";
import { canonicalSha256 } from "../helpers/zarr-cases.js";

const text = async (store: MemoryStore, key: string) => new TextDecoder().decode(await store.readBytes(key));
const keysUnder = async (store: MemoryStore, path: string) =>
  (await store.list(path)).map((k) => k.slice(path.length + 1)).sort();

const FORMAT_6_1 = `{
  "shape": [
    2,
    3
  ],
  "data_type": "float32",
  "chunk_grid": {
    "name": "regular",
    "configuration": {
      "chunk_shape": [
        4,
        3
      ]
    }
  },
  "chunk_key_encoding": {
    "name": "default",
    "configuration": {
      "separator": "/"
    }
  },
  "fill_value": 0.0,
  "codecs": [
    {
      "name": "bytes",
      "configuration": {
        "endian": "little"
      }
    },
    {
      "name": "zstd",
      "configuration": {
        "level": 3,
        "checksum": true
      }
    }
  ],
  "attributes": {},
  "dimension_names": [
    "num",
    "x"
  ],
  "zarr_format": 3,
  "node_type": "array",
  "storage_transformers": []
}`;

describe("writeArray: the examples of docs/format.md", () => {
  it("docs/format.md §6.1: sequence partition num=0, value float32 (2, 3), chunks [4, 3], cloud-balanced too small to shard", async () => {
    const store = new MemoryStore();
    const value = NDArray.from(new Float32Array([1, 2, 3, 4, 5, 6]), { shape: [2, 3] });
    await writeArray(store, "num=0/value", value, {
      dimensionNames: ["num", "x"],
      chunks: [4, 3],
      codecs: profile("cloud-balanced"),
      fillValue: null,
    });
    assert.equal(await text(store, "num=0/value/zarr.json"), FORMAT_6_1);
    assert.deepEqual(await keysUnder(store, "num=0/value"), ["c/0/0", "zarr.json"]);
    // The num column of the same partition is all zeros = default fill: no chunk object.
    await writeArray(store, "num=0/num", NDArray.from(new BigInt64Array(2)), {
      dimensionNames: ["num"],
      chunks: [4],
      codecs: profile("cloud-balanced"),
      fillValue: null,
    });
    assert.deepEqual(await keysUnder(store, "num=0/num"), ["zarr.json"]);
    assert.deepEqual((await readArray(store, "num=0/num")).data, new BigInt64Array(2));
    const back = await readArray(store, "num=0/value");
    assert.deepEqual(back.data, new Float32Array([1, 2, 3, 4, 5, 6]));
  });

  it("docs/format.md §6.4: 4096 rows, chunks 128 × 8, cloud-balanced → one shard c/0/0 with 32 inner chunks [128, 8]", async () => {
    const store = new MemoryStore();
    const ssh = NDArray.from(
      Float32Array.from({ length: 4096 * 8 }, (_, i) => Math.sin(i)),
      { shape: [4096, 8] },
    );
    const meta = await writeArray(store, "p/ssh", ssh, {
      dimensionNames: ["time", "x_ac"],
      chunks: [128, 8],
      codecs: profile("cloud-balanced"),
      fillValue: Number.NaN,
    });
    assert.deepEqual(meta.chunkShape, [4096, 8]);
    assert.deepEqual(await keysUnder(store, "p/ssh"), ["c/0/0", "zarr.json"]);
    const doc = JSON.parse(await text(store, "p/ssh/zarr.json"));
    assert.deepEqual(doc.chunk_grid.configuration.chunk_shape, [4096, 8]);
    assert.equal(doc.codecs.length, 1);
    assert.equal(doc.codecs[0].name, "sharding_indexed");
    assert.deepEqual(doc.codecs[0].configuration.chunk_shape, [128, 8]);
    assert.deepEqual(doc.codecs[0].configuration.index_codecs, [
      { name: "bytes", configuration: { endian: "little" } },
      { name: "crc32c" },
    ]);
    assert.equal(doc.codecs[0].configuration.index_location, "end");
    // Shard layout: inner chunks, then 32 × (offset, nbytes) little-endian, then the index crc32c.
    const shard = (await store.readBytes("p/ssh/c/0/0")) as Uint8Array;
    const index = shard.subarray(shard.length - 16 * 32 - 4, shard.length - 4);
    const view = new DataView(shard.buffer, shard.byteOffset, shard.byteLength);
    assert.equal(view.getUint32(shard.length - 4, true), crc32c(index));
    let expectedOffset = 0n;
    for (let i = 0; i < 32; i++) {
      const off = view.getBigUint64(shard.length - 16 * 32 - 4 + 16 * i, true);
      const len = view.getBigUint64(shard.length - 16 * 32 - 4 + 16 * i + 8, true);
      assert.equal(off, expectedOffset, `inner chunk ${i} offset`);
      expectedOffset += len;
    }
    assert.equal(Number(expectedOffset), shard.length - 16 * 32 - 4);
    assert.equal(canonicalSha256(await readArray(store, "p/ssh")), canonicalSha256(ssh));
  });
});

describe("writeArray: sharding details", () => {
  it("skips empty inner chunks, never writes inner chunks beyond the array, skips all-empty shards", async () => {
    const store = new MemoryStore();
    // 1-D, 50 rows, chunks 4, explicit shards 16 → shards c/0..c/3; rows 16..31 are fill (shard c/1 absent).
    const values = Float64Array.from({ length: 50 }, (_, i) =>
      (i >= 16 && i < 32) || i === 5 ? Number.NaN : i,
    );
    await writeArray(store, "a", NDArray.from(values), {
      chunks: [4],
      shards: [16],
      codecs: profile("local-fast"),
      fillValue: Number.NaN,
    });
    assert.deepEqual(await keysUnder(store, "a"), ["c/0", "c/2", "c/3", "zarr.json"]);
    // Last shard c/3 covers rows 48..63: inner chunk 0 (rows 48..51) written, 1..3 beyond the array.
    const last = (await store.readBytes("a/c/3")) as Uint8Array;
    const view = new DataView(last.buffer, last.byteOffset, last.byteLength);
    const at = last.length - 4 * 16 - 4;
    assert.equal(view.getBigUint64(at, true), 0n);
    for (let i = 1; i < 4; i++) {
      assert.equal(view.getBigUint64(at + 16 * i, true), 2n ** 64n - 1n);
      assert.equal(view.getBigUint64(at + 16 * i + 8, true), 2n ** 64n - 1n);
    }
    const back = await readArray(store, "a");
    assert.equal(canonicalSha256(back), canonicalSha256(NDArray.from(values)));
  });

  it("reads a covered shard with one GET, others with ranged GETs: the index tail, then one merged range of the inner chunks needed", async () => {
    const inner = new MemoryStore();
    const data = NDArray.from(
      Int32Array.from({ length: 64 * 10 }, (_, i) => i),
      { shape: [64, 10] },
    );
    await writeArray(inner, "s", data, {
      chunks: [8, 10],
      shards: [64, 10],
      codecs: profile("local-fast"),
      fillValue: null,
    });
    const store = new CountingStore(inner);
    const whole = await readArray(store, "s");
    assert.deepEqual(whole.data, data.data);
    assert.equal(store.counts.get, 2, "zarr.json + the whole shard");
    assert.equal(store.counts.getRange, 0);
    store.reset();
    const most = await readArray(store, "s", { selection: [[0, 60], null] });
    assert.deepEqual(Array.from(most.data as Int32Array), Array.from(data.data as Int32Array).slice(0, 600));
    assert.equal(store.counts.get, 1, "zarr.json");
    assert.equal(store.counts.getRange, 2, "index + one merged data range");
    const metadata = await readArrayMetadata(store, "s");
    store.reset();
    const rows = await readArray(store, "s", {
      selection: [[17, 20], null],
      ...(metadata ? { metadata } : {}),
    });
    assert.equal(store.counts.get, 0);
    assert.deepEqual(rows.shape, [3, 10]);
    assert.deepEqual(
      Array.from(rows.data as Int32Array),
      Array.from({ length: 30 }, (_, i) => 170 + i),
    );
    assert.equal(store.counts.getRange, 2, "index + the single inner chunk");
    assert.ok(store.counts.bytesRead < 16 * 8 + 4 + 8 * 10 * 4 * 2, `read ${store.counts.bytesRead} bytes`);
  });

  it("explicit shards override the profile along a dimension and must be multiples of the chunk", () => {
    const layout = arrayLayout("v", [4096, 8], "float32", {
      chunks: [128, 8],
      shards: [1024, null],
      codecs: profile("cloud-balanced"),
    });
    assert.deepEqual(layout.shards, [1024, 8]);
    assert.deepEqual(layout.gridChunks, [1024, 8]);
    // Explicit shards also apply to an unsharded profile.
    const local = arrayLayout("v", [100], "int64", {
      chunks: [10],
      shards: [50],
      codecs: profile("local-fast"),
    });
    assert.deepEqual(local.shards, [50]);
    assert.equal(local.codecs[0]?.name, "sharding_indexed");
    // A shard equal to the chunk is no sharding.
    assert.equal(
      arrayLayout("v", [100], "int64", { chunks: [10], shards: [10], codecs: profile() }).shards,
      null,
    );
    assert.throws(
      () =>
        arrayLayout("part/ssh", [4096, 8], "float32", {
          chunks: [128, 8],
          shards: [200, null],
          codecs: profile(),
          dimensionNames: ["time", "x_ac"],
        }),
      (e: unknown) =>
        e instanceof SchemaError &&
        e.dimension === "time" &&
        e.message.includes("'time'") &&
        e.message.includes("part/ssh"),
    );
  });

  it("profile decisions follow docs/behaviour.md §12.3 and stay valid Zarr when a chunk exceeds its dimension", () => {
    assert.deepEqual(
      arrayLayout("v", [50000, 240], "float32", { chunks: [4096, 240], codecs: profile() }).shards,
      [32768, 240],
    );
    assert.equal(arrayLayout("v", [2], "int64", { chunks: [4], codecs: profile() }).shards, null);
    assert.equal(
      arrayLayout("v", [50000, 240], "float32", { chunks: [4096, null], codecs: profile("local-fast") })
        .shards,
      null,
    );
    // x: chunk 4096 > size 2000 while rows grow: the profile's 2000 is rounded up to 4096.
    const corner = arrayLayout("v", [1_000_000, 2000], "uint8", { chunks: [64, 4096], codecs: profile() });
    assert.ok(corner.shards !== null);
    assert.equal(corner.shards[1], 4096);
    assert.equal((corner.shards[0] as number) % 64, 0);
  });

  it("null chunks mean the full extent, never clipped; bad chunks name the dimension", () => {
    assert.deepEqual(
      arrayLayout("v", [7, 3], "int8", { chunks: [null, 5], codecs: profile("local-fast") }).chunks,
      [7, 5],
    );
    assert.deepEqual(
      arrayLayout("v", [0], "int8", { chunks: [null], codecs: profile("local-fast") }).chunks,
      [1],
    );
    assert.throws(
      () =>
        arrayLayout("v", [7, 3], "int8", { chunks: [0, 5], codecs: profile(), dimensionNames: ["a", "b"] }),
      (e: unknown) => e instanceof SchemaError && e.dimension === "a",
    );
    assert.throws(() => arrayLayout("v", [7, 3], "int8", { chunks: [7], codecs: profile() }), SchemaError);
  });
});

describe("writeArray/readArray: special arrays", () => {
  it("0-d arrays use the key c and omit dimension_names", async () => {
    const store = new MemoryStore();
    await writeArray(store, "s", NDArray.from(new Float64Array([3.25]), { shape: [] }), {
      chunks: [],
      codecs: profile(),
      fillValue: null,
      dimensionNames: [],
    });
    assert.deepEqual(await keysUnder(store, "s"), ["c", "zarr.json"]);
    assert.ok(!(await text(store, "s/zarr.json")).includes("dimension_names"));
    const back = await readArray(store, "s");
    assert.deepEqual(back.shape, []);
    assert.equal(back.get(), 3.25);
  });

  it("empty arrays write only zarr.json and read back empty", async () => {
    const store = new MemoryStore();
    await writeArray(store, "e", NDArray.from(new Int32Array(0), { shape: [0, 4] }), {
      chunks: [null, 4],
      codecs: profile(),
      fillValue: null,
    });
    assert.deepEqual(await keysUnder(store, "e"), ["zarr.json"]);
    const back = await readArray(store, "e");
    assert.deepEqual(back.shape, [0, 4]);
    assert.deepEqual((await readArrayMetadata(store, "e"))?.chunkShape, [1, 4]);
  });

  it("variable-length strings with the default stack use vlen-utf8, unsharded", async () => {
    const store = new MemoryStore();
    const words = ["", "a", "héllo ☃", "日本", "x".repeat(1000)];
    await writeArray(store, "w", NDArray.from(words), {
      chunks: [2],
      codecs: autoCodecs("string"),
      fillValue: null,
    });
    const doc = JSON.parse(await text(store, "w/zarr.json"));
    assert.equal(doc.data_type, "string");
    assert.deepEqual(doc.codecs[0], { name: "vlen-utf8", configuration: {} });
    assert.deepEqual((await readArray(store, "w")).data, words);
    // A bytes serializer in the stack is replaced by vlen-utf8 for strings.
    await writeArray(store, "w2", NDArray.from(words), { chunks: [2], codecs: profile(), fillValue: "" });
    assert.equal(
      JSON.parse(await text(store, "w2/zarr.json")).codecs[0].configuration.codecs[0].name,
      "vlen-utf8",
    );
    assert.deepEqual((await readArray(store, "w2")).data, words);
  });

  it("a float fill of 0.0 is compared bitwise: a chunk of -0.0 is written and reads back as -0.0", async () => {
    const store = new MemoryStore();
    await writeArray(store, "z", NDArray.from(new Float32Array([0, 0, -0, -0])), {
      chunks: [2],
      codecs: profile("local-fast"),
      fillValue: 0,
    });
    assert.deepEqual(await keysUnder(store, "z"), ["c/1", "zarr.json"]);
    const back = (await readArray(store, "z")).data as Float32Array;
    assert.ok(Object.is(back[0], 0) && Object.is(back[3], -0));
    await writeArray(store, "z64", NDArray.from(new Float64Array([-0, 0, 0, 0, 1.5, 0])), {
      chunks: [2],
      codecs: profile("local-fast"),
      fillValue: 0,
    });
    assert.deepEqual(await keysUnder(store, "z64"), ["c/0", "c/2", "zarr.json"]);
    assert.ok(Object.is((await readArray(store, "z64")).data[0], -0));
  });

  it("datetime64 with NaT fill: all-NaT chunks are not stored; values stay bigint", async () => {
    const store = new MemoryStore();
    const t = new BigInt64Array([NAT, NAT, 1_700_000_000n, NAT]);
    await writeArray(store, "t", NDArray.from(t, { dtype: "datetime64[s]" }), {
      chunks: [2],
      codecs: profile("local-fast"),
      fillValue: null,
    });
    assert.deepEqual(await keysUnder(store, "t"), ["c/1", "zarr.json"]);
    const back = await readArray(store, "t");
    assert.equal(back.dtype, "datetime64[s]");
    assert.deepEqual(back.data, t);
  });

  it("big-endian bytes and transpose filters round trip, and the stored bytes follow them", async () => {
    const store = new MemoryStore();
    const data = NDArray.from(
      Int16Array.from({ length: 12 }, (_, i) => i + 1),
      { shape: [3, 4] },
    );
    const stack = new CodecStack({
      arrayToArray: [{ name: "transpose", configuration: { order: [1, 0] } }],
      arrayToBytes: { name: "bytes", configuration: { endian: "big" } },
    });
    await writeArray(store, "bt", data, { chunks: [3, 4], codecs: stack, fillValue: null });
    const raw = (await store.readBytes("bt/c/0/0")) as Uint8Array;
    // Column-major, big-endian: 1, 5, 9, 2, ...
    assert.deepEqual(Array.from(raw.subarray(0, 8)), [0, 1, 0, 5, 0, 9, 0, 2]);
    assert.deepEqual((await readArray(store, "bt")).data, data.data);
  });

  it("selections read a box of the array (clamped)", async () => {
    const store = new MemoryStore();
    const data = NDArray.from(
      Uint16Array.from({ length: 13 * 7 }, (_, i) => i),
      { shape: [13, 7] },
    );
    await writeArray(store, "b", data, { chunks: [5, 3], codecs: profile("local-fast"), fillValue: 7 });
    const box = await readArray(store, "b", {
      selection: [
        [4, 11],
        [2, 100],
      ],
    });
    assert.deepEqual(box.shape, [7, 5]);
    for (let r = 0; r < 7; r++) for (let c = 0; c < 5; c++) assert.equal(box.get(r, c), (r + 4) * 7 + c + 2);
  });
});

describe("writeArray: contract", () => {
  it("writes chunks first and zarr.json last", async () => {
    const order: string[] = [];
    class Recording extends MemoryStore {
      override async writeBytes(key: string, data: Uint8Array): Promise<void> {
        order.push(key);
        return super.writeBytes(key, data);
      }
    }
    const store = new Recording();
    const data = NDArray.from(Float32Array.from({ length: 100 }, (_, i) => i + 1));
    await writeArray(store, "x/v", data, {
      chunks: [10],
      codecs: profile("local-fast"),
      fillValue: null,
      concurrency: 4,
    });
    assert.equal(order.length, 11);
    assert.equal(order.at(-1), "x/v/zarr.json");
  });

  it("overwrite: true removes stale chunks of a previous array", async () => {
    const store = new MemoryStore();
    const opts = { chunks: [2], codecs: profile("local-fast"), fillValue: 0 } as const;
    await writeArray(store, "o", NDArray.from(new Int8Array([1, 2, 3, 4, 5, 6])), opts);
    await writeArray(store, "o", NDArray.from(new Int8Array([0, 0, 9, 9])), { ...opts, overwrite: true });
    assert.deepEqual(await keysUnder(store, "o"), ["c/1", "zarr.json"]);
    assert.deepEqual((await readArray(store, "o")).data, new Int8Array([0, 0, 9, 9]));
  });

  it("an aborted signal stops the write before zarr.json", async () => {
    const store = new MemoryStore();
    const controller = new AbortController();
    class Aborting extends MemoryStore {
      override async writeBytes(key: string, data: Uint8Array): Promise<void> {
        await store.writeBytes(key, data);
        controller.abort(new Error("stop"));
      }
    }
    const data = NDArray.from(Float32Array.from({ length: 100 }, (_, i) => i + 1));
    await assert.rejects(
      writeArray(new Aborting(), "v", data, {
        chunks: [10],
        codecs: profile("local-fast"),
        fillValue: null,
        concurrency: 1,
        signal: controller.signal,
      }),
      /stop/,
    );
    assert.equal(await store.readBytes("v/zarr.json"), undefined);
    assert.ok((await store.list("v")).length < 10);
    await assert.rejects(readArray(store, "v", { signal: AbortSignal.abort(new Error("gone")) }), /gone/);
  });

  it("fill values that do not fit the data type and unsupported codecs are refused naming the array", async () => {
    const store = new MemoryStore();
    const data = NDArray.from(new Int8Array([1, 2]));
    await assert.rejects(
      writeArray(store, "p/v", data, { chunks: [2], codecs: profile(), fillValue: 1000 }),
      (e: unknown) => e instanceof SchemaError && e.message.includes("'p/v'"),
    );
    await assert.rejects(
      writeArray(store, "p/v", data, {
        chunks: [2],
        codecs: profile(null, { compressor: { name: "lz4" } }),
        fillValue: 0,
      }),
      (e: unknown) => e instanceof CodecError && e.message.includes("'lz4'") && e.message.includes("'p/v'"),
    );
    assert.deepEqual(await store.list(""), []);
  });

  it("readArray of a missing array is a StoreError naming the key", async () => {
    await assert.rejects(
      readArray(new MemoryStore(), "no/such"),
      (e: unknown) => e instanceof StoreError && (e as StoreError).key === "no/such/zarr.json",
    );
  });

  it("honours a numpy.datetime64 scale_factor on read", async () => {
    const store = new MemoryStore();
    await writeArray(store, "t", NDArray.from(new BigInt64Array([1n, 2n, NAT]), { dtype: "datetime64[s]" }), {
      chunks: [3],
      codecs: profile("local-fast"),
      fillValue: null,
    });
    const doc = (await text(store, "t/zarr.json")).replace('"scale_factor": 1', '"scale_factor": 10');
    await store.writeBytes("t/zarr.json", new TextEncoder().encode(doc));
    assert.deepEqual((await readArray(store, "t")).data, new BigInt64Array([10n, 20n, NAT]));
  });
});

describe("groups (docs/format.md §5)", () => {
  it("writeGroup creates absent ancestors with empty attributes and never rewrites existing ones", async () => {
    const store = new MemoryStore();
    await writeGroup(store, "year=2024", { kept: 1 });
    await writeGroup(store, "year=2024/month=03", {
      _zc_partition_key: [
        ["year", 2024],
        ["month", 3],
      ],
    });
    assert.deepEqual(await readGroup(store, ""), { attributes: {} });
    assert.deepEqual(await readGroup(store, "year=2024"), { attributes: { kept: 1 } });
    assert.deepEqual(await readGroup(store, "year=2024/month=03"), {
      attributes: {
        _zc_partition_key: [
          ["year", 2024],
          ["month", 3],
        ],
      },
    });
    assert.equal(
      await text(store, "year=2024/month=03/zarr.json"),
      '{\n  "attributes": {\n    "_zc_partition_key": [\n      [\n        "year",\n        2024\n      ],\n      [\n        "month",\n        3\n      ]\n    ]\n  },\n  "zarr_format": 3,\n  "node_type": "group"\n}',
    );
  });

  it("overwrite deletes the group's subtree first; without it the children stay", async () => {
    const store = new MemoryStore();
    await writeGroup(store, "p", {});
    await writeArray(store, "p/v", NDArray.from(new Int8Array([1])), {
      chunks: [1],
      codecs: profile(),
      fillValue: null,
    });
    await writeGroup(store, "p", { a: 1 });
    assert.ok(await store.exists("p/v/zarr.json"));
    await writeGroup(store, "p", { b: 2 }, { overwrite: true });
    assert.deepEqual(await store.list("p"), ["p/zarr.json"]);
    assert.deepEqual(await readGroup(store, "p"), { attributes: { b: 2 } });
  });

  it("refuses to turn an array into a group without overwrite", async () => {
    const store = new MemoryStore();
    await writeArray(store, "v", NDArray.from(new Int8Array([1])), {
      chunks: [1],
      codecs: profile(),
      fillValue: null,
    });
    await assert.rejects(
      writeGroup(store, "v", {}),
      (e: unknown) => e instanceof StoreError && (e as StoreError).key === "v/zarr.json",
    );
  });

  it("ensureParentGroups writes only the missing ancestors", async () => {
    const inner = new MemoryStore();
    await writeGroup(inner, "a", { x: 1 });
    const store = new CountingStore(inner);
    await ensureParentGroups(store, "a/b/c/v");
    assert.deepEqual((await inner.list("")).sort(), [
      "a/b/c/zarr.json",
      "a/b/zarr.json",
      "a/zarr.json",
      "zarr.json",
    ]);
    assert.deepEqual(await readGroup(inner, "a"), { attributes: { x: 1 } });
    assert.equal(store.counts.put, 2);
  });
});
