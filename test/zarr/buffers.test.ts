import assert from "node:assert/strict";
import { after, beforeEach, describe, it, mock } from "node:test";
import { override } from "../../src/config.js";
import {
  cacheStats,
  giveBuffer,
  giveSharedBuffer,
  IDLE_RELEASE_MS,
  isScratch,
  MAX_CACHED_BUFFERS,
  MIN_CACHED_BYTES,
  releaseBuffers,
  sharedCacheStats,
  takeBuffer,
  takeSharedBuffer,
} from "../../src/zarr/compression/buffers.js";
import {
  decodeChain,
  decodeFrames,
  encodeChain,
  type Frame,
  shutdownCodecPool,
} from "../../src/zarr/compression/index.js";
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
    assert.equal(b.buffer.byteLength, MIN_CACHED_BYTES + 4096, "rounded up to a sixteenth of 64 KiB");
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

describe("shared scratch memory", () => {
  it("serves shared memory, reused only by requests it fits within 1.25 times", () => {
    const a = takeSharedBuffer(4 * MIN_CACHED_BYTES + 1);
    assert.ok(a.buffer instanceof SharedArrayBuffer);
    assert.equal(a.length, 4 * MIN_CACHED_BYTES + 1);
    assert.ok(isScratch(a.buffer));
    giveSharedBuffer(a.buffer);
    assert.equal(sharedCacheStats().buffers, 1);
    assert.notEqual(takeSharedBuffer(3 * MIN_CACHED_BYTES).buffer, a.buffer, "too small a request for it");
    assert.equal(
      takeSharedBuffer(4 * MIN_CACHED_BYTES + 100).buffer,
      a.buffer,
      "a request of about its size",
    );
    assert.deepEqual(sharedCacheStats(), { buffers: 0, bytes: 0 });
  });

  it("keeps only its own buffers, and serves small requests with plain memory", () => {
    giveSharedBuffer(new SharedArrayBuffer(MIN_CACHED_BYTES * 2));
    giveSharedBuffer(new ArrayBuffer(MIN_CACHED_BYTES * 2));
    assert.deepEqual(sharedCacheStats(), { buffers: 0, bytes: 0 });
    assert.ok(takeSharedBuffer(MIN_CACHED_BYTES - 1).buffer instanceof ArrayBuffer);
  });

  it("is read in place by several workers and given back once all are done", async () => {
    await override({ "codec.workers": 2 }, async () => {
      // One object of 8 zstd frames of 1 MiB each: enough for decodeFrames to split it in two tasks.
      const frameBytes = 1024 * 1024;
      const plains = Array.from({ length: 8 }, (_, i) => fillBytes(new Uint8Array(frameBytes), i + 1));
      const encoded = await Promise.all(plains.map((p) => encodeChain(ZSTD, p, ctx())));
      const total = encoded.reduce((n, e) => n + e.length, 0);
      const source = takeSharedBuffer(total);
      const frames: Frame[] = [];
      let offset = 0;
      for (const [i, e] of encoded.entries()) {
        source.set(e, offset);
        const at = i * frameBytes;
        frames.push({
          source: 0,
          offset,
          length: e.length,
          size: frameBytes,
          from: 0,
          to: frameBytes,
          at,
          key: `v/c/${i}`,
        });
        offset += e.length;
      }
      const out = new Uint8Array(new SharedArrayBuffer(8 * frameBytes));
      const before = poolStats()?.completed ?? 0;
      await decodeFrames(ZSTD, [source], frames, out.length, {
        itemSize: 4,
        transfer: true,
        into: out,
        maxTasks: 2,
      });
      assert.equal((poolStats()?.completed ?? 0) - before, 2, "split between two workers");
      for (const [i, p] of plains.entries())
        assert.deepEqual(out.subarray(i * frameBytes, (i + 1) * frameBytes), p);
      assert.equal(source.length, total, "shared, not transferred");
      assert.deepEqual(sharedCacheStats(), { buffers: 1, bytes: source.buffer.byteLength }, "given back");
      assert.equal(takeSharedBuffer(total).buffer, source.buffer, "the next read of that size reuses it");
    });
  });

  it("is given back when decoding fails, after every task has ended", async () => {
    await override({ "codec.workers": 2 }, async () => {
      const frameBytes = 1024 * 1024;
      const good = await encodeChain(ZSTD, fillBytes(new Uint8Array(frameBytes)), ctx());
      const source = takeSharedBuffer(good.length * 8);
      const frames: Frame[] = [];
      for (let i = 0; i < 8; i++) {
        source.set(good, i * good.length);
        frames.push({
          source: 0,
          offset: i * good.length,
          length: good.length,
          size: frameBytes,
          from: 0,
          to: frameBytes,
          at: i * frameBytes,
          key: `v/c/${i}`,
        });
      }
      source.fill(0, 7 * good.length, 7 * good.length + 8); // the last frame's header
      const out = new Uint8Array(new SharedArrayBuffer(8 * frameBytes));
      await assert.rejects(
        decodeFrames(ZSTD, [source], frames, out.length, {
          itemSize: 4,
          transfer: true,
          into: out,
          maxTasks: 2,
        }),
        (err: Error) => err.name === "CodecError" && err.message.includes("v/c/7"),
      );
      assert.equal(sharedCacheStats().buffers, 1);
    });
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
