import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { CodecStack, profile } from "../../src/codecs/index.js";
import { override } from "../../src/config.js";
import { CodecError } from "../../src/errors.js";
import { NDArray } from "../../src/ndarray.js";
import { CountingStore } from "../../src/store/counting.js";
import { MemoryStore } from "../../src/store/memory.js";
import { FRAMES_INLINE_BELOW_BYTES, shutdownCodecPool } from "../../src/zarr/compression/index.js";
import { poolStats } from "../../src/zarr/compression/pool.js";
import { readArray, writeArray } from "../../src/zarr/index.js";

after(() => shutdownCodecPool());

// 3000 rows of 200 float32 = 2.4 MB: above the threshold for decoding a whole array in one task.
const ROWS = 3000;
const WIDTH = 200;

function values(): Float32Array {
  const v = new Float32Array(ROWS * WIDTH);
  for (let i = 0; i < v.length; i++) v[i] = Math.sin(i / 97) * 100 + (i % 13);
  return v;
}

const asList = (a: ArrayLike<number>) => Array.from(a, (x) => (Number.isNaN(x) ? "NaN" : x));

async function written(
  layout: { chunks: number; shards?: number },
  codecs: CodecStack,
  fillValue: number | null = null,
): Promise<{ store: MemoryStore; data: Float32Array }> {
  const store = new MemoryStore();
  const data = values();
  await writeArray(store, "a", NDArray.from(data, { shape: [ROWS, WIDTH] }), {
    chunks: [layout.chunks, WIDTH],
    ...(layout.shards === undefined ? {} : { shards: [layout.shards, WIDTH] }),
    codecs,
    fillValue,
  });
  return { store, data };
}

const pooled = <T>(fn: () => Promise<T>) => override({ "codec.workers": 2 }, fn);
const inline = <T>(fn: () => Promise<T>) => override({ "codec.workers": 0 }, fn);

describe("reading row-chunked arrays in batches on the codec workers", () => {
  assert.ok(ROWS * WIDTH * 4 >= FRAMES_INLINE_BELOW_BYTES);
  const zstdCrc = new CodecStack({
    arrayToBytes: { name: "bytes" },
    bytesToBytes: [{ name: "zstd", configuration: { level: 1, checksum: false } }, { name: "crc32c" }],
  });
  const gzip = new CodecStack({ arrayToBytes: { name: "bytes" }, bytesToBytes: [{ name: "gzip" }] });
  for (const [name, layout, codecs] of [
    ["unsharded zstd, ragged last chunk", { chunks: 256 }, profile("local-fast")],
    ["sharded zstd, ragged last shard", { chunks: 256, shards: 1024 }, profile("local-fast")],
    ["sharded zstd + crc32c", { chunks: 100, shards: 800 }, zstdCrc],
    ["unsharded gzip", { chunks: 512 }, gzip],
  ] as const) {
    it(`${name}: a pool task per batch of chunks (at most one per worker), the same rows as on the calling thread`, async () => {
      const { store, data } = await written(layout, codecs);
      for (const sel of [null, [0, ROWS], [1, ROWS - 1], [700, 2600], [2999, 3000]] as const) {
        const selection = sel === null ? undefined : [[sel[0], sel[1]] as [number, number], null];
        const [a, b] = sel ?? [0, ROWS];
        const before = poolStats()?.completed ?? 0;
        const got = await pooled(() => readArray(store, "a", selection ? { selection } : {}));
        const tasks = (poolStats()?.completed ?? 0) - before;
        assert.deepEqual(got.shape, [b - a, WIDTH]);
        assert.deepEqual(got.data, data.subarray(a * WIDTH, b * WIDTH), JSON.stringify(sel));
        if ((b - a) * WIDTH * 4 >= FRAMES_INLINE_BELOW_BYTES) {
          // Chunks travel to the workers in batches of about the read's size / 2 workers, not one by one.
          assert.ok(tasks >= 1 && tasks <= 2, `${tasks} tasks for ${sel}`);
        }
        const same = await inline(() => readArray(store, "a", selection ? { selection } : {}));
        assert.deepEqual(same.data, got.data);
      }
    });
  }

  it("fills rows of missing chunks and shards with a non-zero fill value", async () => {
    const data = values();
    data.fill(Number.NaN, 256 * WIDTH, 512 * WIDTH); // an inner chunk of fill: not written
    data.fill(Number.NaN, 2048 * WIDTH); // the last shard: not written
    const store = new CountingStore(new MemoryStore());
    await writeArray(store, "f", NDArray.from(data, { shape: [ROWS, WIDTH] }), {
      chunks: [256, WIDTH],
      shards: [1024, WIDTH],
      codecs: profile("local-fast"),
      fillValue: Number.NaN,
    });
    assert.equal(store.counts.put, 2 + 1, "two shards and zarr.json");
    const got = await pooled(() => readArray(store, "f"));
    assert.deepEqual(asList(got.data as Float32Array), asList(data));
    const part = await pooled(() => readArray(store, "f", { selection: [[200, 2900], null] }));
    assert.deepEqual(asList(part.data as Float32Array), asList(data.subarray(200 * WIDTH, 2900 * WIDTH)));
  });

  it("reads an array whose chunks are all missing as fill", async () => {
    const store = new MemoryStore();
    await writeArray(store, "e", NDArray.full("float64", [ROWS, WIDTH], -1.5), {
      chunks: [500, WIDTH],
      shards: [1000, WIDTH],
      codecs: profile("cloud-balanced"),
      fillValue: -1.5,
    });
    const got = await pooled(() => readArray(store, "e"));
    assert.ok((got.data as Float64Array).every((v) => v === -1.5));
  });

  it("names the chunk a worker cannot decode", async () => {
    const { store } = await written({ chunks: 256 }, profile("local-fast"));
    const key = "a/c/5/0";
    const bytes = (await store.readBytes(key)) as Uint8Array;
    await store.writeBytes(key, bytes.subarray(0, bytes.length - 9));
    await assert.rejects(
      pooled(() => readArray(store, "a")),
      (e: unknown) =>
        e instanceof CodecError && e.key === key && /^zstd: cannot decode chunk 'a\/c\/5\/0'/.test(e.message),
    );
  });

  it("leaves arrays chunked along a second dimension to the chunk-by-chunk path", async () => {
    const store = new MemoryStore();
    const data = values();
    await writeArray(store, "x", NDArray.from(data, { shape: [ROWS, WIDTH] }), {
      chunks: [1000, 100],
      codecs: profile("local-fast"),
      fillValue: null,
    });
    const before = poolStats()?.completed ?? 0;
    const got = await pooled(() => readArray(store, "x"));
    assert.deepEqual(got.data, data);
    assert.equal((poolStats()?.completed ?? 0) - before, 6, "one pool task per chunk (3 x 2 chunks)");
  });
});
