/**
 * A corrupt or absurd `zarr.json` (a shape too large to allocate, a chunk
 * grid of billions of chunks) is a StoreError naming the array, before any
 * allocation — not a bare RangeError or an exhausted heap.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createCollection } from "../../src/collection/index.js";
import { StoreError } from "../../src/errors.js";
import { MemoryStore } from "../../src/store/memory.js";
import { readArray } from "../../src/zarr/index.js";
import { seqDataset, seqPartitioning, seqSchema } from "../helpers/collection-fixtures.js";

function arrayDocument(shape: number[], chunks: number[]): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({
      zarr_format: 3,
      node_type: "array",
      shape,
      data_type: "float32",
      chunk_grid: { name: "regular", configuration: { chunk_shape: chunks } },
      chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
      fill_value: "NaN",
      codecs: [{ name: "bytes", configuration: { endian: "little" } }],
      attributes: {},
    }),
  );
}

describe("absurd array documents", () => {
  it("a shape too large to allocate is a StoreError naming the array", async () => {
    const store = new MemoryStore();
    await store.writeBytes("p/v/zarr.json", arrayDocument([4_000_000_000, 4], [1_000_000, 4]));
    await assert.rejects(readArray(store, "p/v"), (err) => {
      assert.ok(err instanceof StoreError, String(err));
      assert.match(err.message, /array 'p\/v' of shape \[4000000000, 4\] \(float32\) needs .* bytes/);
      assert.equal(err.key, "p/v/zarr.json");
      return true;
    });
  });

  it("a chunk grid of billions of chunks is a StoreError naming the array", async () => {
    const store = new MemoryStore();
    await store.writeBytes("p/v/zarr.json", arrayDocument([100_000_000, 1], [1, 1]));
    await assert.rejects(
      readArray(store, "p/v"),
      /array 'p\/v' of shape \[100000000, 1\] has 1\.000e\+8 chunks/,
    );
  });

  it("a query over a partition with such an array fails with that StoreError, and the other partitions are untouched", async () => {
    const store = new MemoryStore();
    const col = await createCollection(store, {
      schema: seqSchema(),
      axis: "num",
      partitioning: seqPartitioning(),
    });
    await col.insert(seqDataset(col.schema, [1, 2]));
    await store.writeBytes("num=2/value/zarr.json", arrayDocument([3_000_000_000, 3], [1_000_000, 3]));
    await assert.rejects(col.query(), (err) => err instanceof StoreError && /num=2\/value/.test(err.message));
    const one = await col.query({ filters: "num == 1" });
    assert.equal(one?.getVariable("num").shape[0], 1);
  });
});
