import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { profile } from "../../src/codecs/index.js";
import { CodecError } from "../../src/errors.js";
import { NDArray } from "../../src/ndarray.js";
import { CountingStore } from "../../src/store/counting.js";
import { MemoryStore } from "../../src/store/memory.js";
import { readArray, readArrayMetadata, writeArray } from "../../src/zarr/index.js";

/** 50 × 3 int32 ramp in shards of 32 rows (inner chunks of 8): shard 1 holds rows 32..49. */
async function sharded(): Promise<{ store: MemoryStore; data: Int32Array }> {
  const store = new MemoryStore();
  const data = Int32Array.from({ length: 50 * 3 }, (_, i) => i);
  await writeArray(store, "s", NDArray.from(data, { shape: [50, 3] }), {
    chunks: [8, 3],
    shards: [32, 3],
    codecs: profile("local-fast"),
    fillValue: null,
  });
  return { store, data };
}

const rows = (data: Int32Array, a: number, b: number) => Array.from(data.subarray(a * 3, b * 3));

describe("shard reads", () => {
  for (const [what, sel, whole, ranged] of [
    ["the whole array: both shards whole (the second one ends at the array's edge)", [0, 50], 2, 0],
    ["exactly the first shard", [0, 32], 1, 0],
    ["the first shard and part of the second", [0, 40], 1, 2],
    ["part of each shard", [10, 40], 0, 4],
    ["rows 32..50: the second shard, whole within the array", [32, 50], 1, 0],
  ] as const) {
    it(`${what}: ${whole} whole GET(s), ${ranged} ranged`, async () => {
      const { store, data } = await sharded();
      const probe = new CountingStore(store);
      const metadata = await readArrayMetadata(store, "s");
      assert.ok(metadata !== undefined);
      const got = await readArray(probe, "s", { metadata, selection: [[sel[0], sel[1]], null] });
      assert.deepEqual(Array.from(got.data as Int32Array), rows(data, sel[0], sel[1]));
      assert.equal(probe.counts.get, whole);
      assert.equal(probe.counts.getRange, ranged);
    });
  }

  it("reads a missing shard as fill without a second request", async () => {
    const { store, data } = await sharded();
    await store.deleteKey("s/c/1/0");
    const probe = new CountingStore(store);
    const got = Array.from((await readArray(probe, "s")).data as Int32Array);
    assert.deepEqual(got, [...rows(data, 0, 32), ...new Array<number>(18 * 3).fill(0)]);
    assert.equal(probe.counts.get, 3, "zarr.json + 2 shard GETs");
  });

  it("names a shard shorter than its index", async () => {
    const { store } = await sharded();
    await store.writeBytes("s/c/0/0", new Uint8Array(20));
    await assert.rejects(
      readArray(store, "s"),
      (e: unknown) =>
        e instanceof CodecError &&
        e.key === "s/c/0/0" &&
        /20 bytes, fewer than its index \(68\)/.test(e.message),
    );
  });

  it("names a shard whose index points past its end", async () => {
    const { store } = await sharded();
    const shard = (await store.readBytes("s/c/0/0")) as Uint8Array;
    const index = shard.subarray(shard.length - 68);
    const cut = new Uint8Array(10 + 68);
    cut.set(shard.subarray(0, 10));
    cut.set(index, 10);
    await store.writeBytes("s/c/0/0", cut);
    await assert.rejects(
      readArray(store, "s"),
      (e: unknown) => e instanceof CodecError && e.key === "s/c/0/0" && /out of range/.test(e.message),
    );
  });
});
