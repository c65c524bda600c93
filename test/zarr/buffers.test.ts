import assert from "node:assert/strict";
import { after, beforeEach, describe, it, mock } from "node:test";
import { override } from "../../src/config.js";
import {
  cacheStats,
  giveBuffer,
  IDLE_RELEASE_MS,
  isScratch,
  MAX_CACHED_BUFFERS,
  MIN_CACHED_BYTES,
  releaseBuffers,
  takeBuffer,
} from "../../src/zarr/compression/buffers.js";
import { decodeChain, encodeChain, shutdownCodecPool } from "../../src/zarr/compression/index.js";
import { poolStats } from "../../src/zarr/compression/pool.js";
import { zstdBackend } from "../../src/zarr/compression/zstd.js";

after(() => shutdownCodecPool());
beforeEach(() => releaseBuffers());

const ZSTD = [{ name: "zstd", configuration: { level: 3, checksum: false } }];
const ctx = (key = "v/c/0") => ({ key, itemSize: 4 });

function fillBytes(view: Uint8Array, seed = 1): Uint8Array {
  let s = seed;
  for (let i = 0; i < view.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    view[i] = i % 5 === 0 ? s >>> 24 : i & 0x1f;
  }
  return view;
}

describe("scratch buffer cache", () => {
  it("serves small requests fresh and never caches them", () => {
    const small = takeBuffer(MIN_CACHED_BYTES - 1);
    assert.equal(small.length, MIN_CACHED_BYTES - 1);
    assert.equal(isScratch(small.buffer), false);
    giveBuffer(new ArrayBuffer(MIN_CACHED_BYTES - 1));
    assert.deepEqual(cacheStats(), { buffers: 0, bytes: 0 });
  });

  it("reuses a given buffer for a request it fits within twice, smallest first", () => {
    const big = new ArrayBuffer(4 * MIN_CACHED_BYTES);
    const mid = new ArrayBuffer(2 * MIN_CACHED_BYTES);
    giveBuffer(big);
    giveBuffer(mid);
    giveBuffer(mid); // twice: kept once
    assert.deepEqual(cacheStats(), { buffers: 2, bytes: 6 * MIN_CACHED_BYTES });
    const a = takeBuffer(MIN_CACHED_BYTES + 10);
    assert.equal(a.buffer, mid, "the smallest buffer that fits");
    assert.equal(a.byteOffset, 0);
    assert.equal(a.length, MIN_CACHED_BYTES + 10);
    assert.ok(isScratch(a.buffer));
    const b = takeBuffer(MIN_CACHED_BYTES + 10);
    assert.notEqual(b.buffer, big, "more than twice the request: not used");
    assert.equal(b.buffer.byteLength, MIN_CACHED_BYTES + 10);
    assert.ok(isScratch(b.buffer));
    assert.equal(takeBuffer(3 * MIN_CACHED_BYTES).buffer, big);
    assert.deepEqual(cacheStats(), { buffers: 0, bytes: 0 });
  });

  it("keeps at most MAX_CACHED_BUFFERS and ignores shared memory", () => {
    for (let i = 0; i < MAX_CACHED_BUFFERS + 5; i++) giveBuffer(new ArrayBuffer(MIN_CACHED_BYTES));
    assert.equal(cacheStats().buffers, MAX_CACHED_BUFFERS);
    releaseBuffers();
    giveBuffer(new SharedArrayBuffer(MIN_CACHED_BYTES));
    assert.equal(cacheStats().buffers, 0);
  });

  it("empties itself once unused for IDLE_RELEASE_MS", () => {
    mock.timers.enable({ apis: ["setTimeout", "Date"], now: 1_000_000 });
    try {
      giveBuffer(new ArrayBuffer(MIN_CACHED_BYTES));
      takeBuffer(10 * MIN_CACHED_BYTES); // a use, served fresh
      giveBuffer(new ArrayBuffer(MIN_CACHED_BYTES));
      mock.timers.tick(IDLE_RELEASE_MS - 1);
      assert.equal(cacheStats().buffers, 2);
      mock.timers.tick(1);
      assert.deepEqual(cacheStats(), { buffers: 0, bytes: 0 });
    } finally {
      mock.timers.reset();
    }
  });
});

describe("codec workers hand chunk memory back", () => {
  it("moves a handed-over scratch view with its whole buffer and gets the buffer back", async () => {
    await override({ "codec.workers": 2 }, async () => {
      const view = fillBytes(takeBuffer(300_000)).subarray(0, 250_000);
      const expected = view.slice();
      const before = poolStats()?.completed ?? 0;
      const enc = await encodeChain(ZSTD, view, { ...ctx(), transfer: true });
      assert.equal(poolStats()?.completed, before + 1, "encoded in a worker");
      assert.equal(view.byteLength, 0, "moved, not copied");
      assert.deepEqual(await decodeChain(ZSTD, enc, ctx()), expected);
      // The input came back (the decode's input copy too); the next chunk of that size reuses it.
      assert.ok(cacheStats().buffers >= 1);
      assert.ok(isScratch(takeBuffer(250_000).buffer));
    });
  });

  it("writes a zstd frame into scratch memory when the native backend is loaded", async () => {
    if ((await zstdBackend()).name !== "napi") return;
    await override({ "codec.workers": 2 }, async () => {
      const data = fillBytes(new Uint8Array(200_000), 9);
      const enc = await encodeChain(ZSTD, data, ctx());
      assert.ok(isScratch(enc.buffer), "the frame sits in a target buffer sent with the task");
      assert.equal(enc.byteOffset, 0);
      assert.deepEqual(data, fillBytes(new Uint8Array(200_000), 9), "input copied, not moved");
      const inline = await override({ "codec.workers": 0 }, () => encodeChain(ZSTD, data, ctx()));
      assert.deepEqual(enc, inline, "same frame as on the calling thread");
    });
  });
});
