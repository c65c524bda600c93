import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { type CodecDescriptor, CodecStack, profile } from "../../src/codecs/index.js";
import { override } from "../../src/config.js";
import { CodecError } from "../../src/errors.js";
import { NDArray } from "../../src/ndarray.js";
import { CountingStore } from "../../src/store/counting.js";
import { MemoryStore } from "../../src/store/memory.js";
import {
  decodeChainInto,
  encodeChain,
  INLINE_BELOW_BYTES,
  shutdownCodecPool,
} from "../../src/zarr/compression/index.js";
import { poolStats } from "../../src/zarr/compression/pool.js";
import { setZstdBackend, zstdBackend } from "../../src/zarr/compression/zstd.js";
import { readArray, writeArray } from "../../src/zarr/index.js";

after(() => shutdownCodecPool());

const ctx = (key = "v/c/0") => ({ key, itemSize: 4 });
const ZSTD: CodecDescriptor[] = [{ name: "zstd", configuration: { level: 3, checksum: false } }];
const ZSTD_CRC: CodecDescriptor[] = [
  { name: "zstd", configuration: { level: 3, checksum: true } },
  { name: "crc32c" },
];
const GZIP: CodecDescriptor[] = [{ name: "gzip", configuration: { level: 5 } }];

function bytesOf(n: number, seed = 3): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = (i % 7 === 0 ? s >>> 24 : i & 0x3f) & 0xff;
  }
  return out;
}

/** A view of `n` bytes in the middle of a buffer filled with 0xee, to see writes outside it. */
function guarded(n: number): { target: Uint8Array; all: Uint8Array } {
  const all = new Uint8Array(n + 64).fill(0xee);
  return { target: all.subarray(32, 32 + n), all };
}

const untouchedOutside = (all: Uint8Array, n: number) =>
  all.subarray(0, 32).every((b) => b === 0xee) && all.subarray(32 + n).every((b) => b === 0xee);

describe("decodeChainInto", () => {
  for (const [name, chain] of [
    ["zstd", ZSTD],
    ["zstd + crc32c", ZSTD_CRC],
    ["gzip (decoded, then copied)", GZIP],
    ["no codec", []],
  ] as const) {
    it(`${name}: writes exactly the decoded bytes into the target and nothing around it`, async () => {
      const data = bytesOf(200_000);
      const enc = await encodeChain(chain, data, ctx());
      const { target, all } = guarded(data.length);
      await decodeChainInto(chain, enc, target, ctx());
      assert.deepEqual(target, data);
      assert.ok(untouchedOutside(all, data.length));
    });
  }

  it("with the WebAssembly zstd backend, decodes then copies with the same result", async () => {
    const data = bytesOf(100_000, 11);
    const enc = await encodeChain(ZSTD, data, ctx());
    setZstdBackend("wasm");
    try {
      assert.equal((await zstdBackend()).name, "wasm");
      const { target, all } = guarded(data.length);
      await override({ "codec.workers": 0 }, () => decodeChainInto(ZSTD, enc, target, ctx()));
      assert.deepEqual(target, data);
      assert.ok(untouchedOutside(all, data.length));
    } finally {
      setZstdBackend(undefined);
    }
  });

  it("decodes zstd on the calling thread even when the pool is enabled", async () => {
    if ((await zstdBackend()).name !== "napi") return; // the direct path needs the native backend
    const data = bytesOf(4 * INLINE_BELOW_BYTES, 5);
    const enc = await encodeChain(ZSTD, data, ctx());
    await override({ "codec.workers": 2 }, async () => {
      await encodeChain(ZSTD, data, ctx()); // make sure the pool exists
      const before = poolStats()?.completed;
      const { target } = guarded(data.length);
      await decodeChainInto(ZSTD, enc, target, ctx());
      assert.deepEqual(target, data);
      assert.equal(poolStats()?.completed, before);
    });
  });

  it("refuses a frame of another size with a CodecError naming the chunk, for every chain", async () => {
    const data = bytesOf(1000);
    for (const chain of [ZSTD, ZSTD_CRC, GZIP]) {
      const enc = await encodeChain(chain, data, ctx());
      for (const n of [999, 1001]) {
        await assert.rejects(
          decodeChainInto(chain, enc, new Uint8Array(n), ctx("a/c/3")),
          (e: unknown) =>
            e instanceof CodecError &&
            e.key === "a/c/3" &&
            e.message.includes(`decodes to 1000 bytes; expected ${n}`),
        );
      }
    }
  });

  it("verifies crc32c before writing anything and names the chunk", async () => {
    const data = bytesOf(100_000);
    const enc = await encodeChain(ZSTD_CRC, data, ctx());
    enc[enc.length - 1] = (enc[enc.length - 1] as number) ^ 1;
    const { target, all } = guarded(data.length);
    await assert.rejects(
      decodeChainInto(ZSTD_CRC, enc, target, ctx("b/c/1")),
      (e: unknown) =>
        e instanceof CodecError &&
        /^crc32c: cannot decode chunk 'b\/c\/1': checksum mismatch/.test(e.message),
    );
    assert.ok(all.every((b) => b === 0xee));
  });

  it("reports a corrupt frame as a zstd CodecError naming the chunk", async () => {
    const enc = await encodeChain(ZSTD, bytesOf(100_000), ctx());
    const bad = enc.slice(0, enc.length - 50);
    await assert.rejects(
      decodeChainInto(ZSTD, bad, new Uint8Array(100_000), ctx("c/c/2")),
      (e: unknown) => e instanceof CodecError && e.key === "c/c/2" && /^zstd: /.test(e.message),
    );
  });
});

// ---------------------------------------------------------------------------
// readArray: chunks decoded into the output match the element-by-element truth

/** Values 0..n-1 (as float32) in an array of `shape`. */
function ramp(shape: number[]): NDArray {
  const n = shape.reduce((a, b) => a * b, 1);
  return NDArray.from(
    Float32Array.from({ length: n }, (_, i) => i),
    { shape },
  );
}

/** The box `sel` of a C-order ramp of `shape`, element by element. */
function expected(shape: number[], sel: Array<[number, number]>): number[] {
  const out: number[] = [];
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const rec = (d: number, base: number) => {
    if (d === shape.length) {
      out.push(base);
      return;
    }
    const [a, b] = sel[d] as [number, number];
    for (let i = a; i < b; i++) rec(d + 1, base + i * (strides[d] as number));
  };
  rec(0, 0);
  return out;
}

const LAYOUTS: Array<{ name: string; shape: number[]; chunks: number[]; shards?: number[] }> = [
  { name: "rows, unsharded, ragged last chunk", shape: [50, 6], chunks: [8, 6] },
  { name: "rows, sharded, ragged last shard", shape: [50, 6], chunks: [8, 6], shards: [16, 6] },
  { name: "3-d, one row block per chunk", shape: [6, 4, 5], chunks: [1, 4, 5] },
  { name: "3-d, chunks split the middle dimension", shape: [6, 4, 5], chunks: [2, 2, 5], shards: [2, 4, 5] },
  { name: "chunks split the last dimension", shape: [12, 10], chunks: [4, 5] },
  { name: "chunk larger than the array", shape: [3, 2], chunks: [8, 2] },
];

const SELECTIONS = (shape: number[]): Array<Array<[number, number] | null>> => [
  shape.map(() => null),
  shape.map((n, d) => (d === 0 ? [1, n - 1] : null)),
  shape.map((n, d) => (d === shape.length - 1 ? [0, Math.max(1, n - 1)] : null)),
  shape.map((n, d) => (d === 1 ? [0, Math.min(2, n)] : null)),
  shape.map((n) => [Math.floor(n / 3), n]),
];

describe("readArray decodes whole, contiguous chunks into the output", () => {
  for (const layout of LAYOUTS) {
    for (const stack of [
      profile("local-fast"),
      new CodecStack({ arrayToBytes: { name: "bytes" }, bytesToBytes: [...ZSTD_CRC] }),
    ]) {
      it(`${layout.name}, ${stack.bytesToBytes.map((c) => c.name).join("+")}: every selection reads the written values`, async () => {
        const store = new MemoryStore();
        await writeArray(store, "a", ramp(layout.shape), {
          chunks: layout.chunks,
          ...(layout.shards ? { shards: layout.shards } : {}),
          codecs: stack,
          fillValue: null,
        });
        for (const s of SELECTIONS(layout.shape)) {
          const box = s.map((r, d) => r ?? [0, layout.shape[d] as number]) as Array<[number, number]>;
          const got = await readArray(store, "a", { selection: s });
          assert.deepEqual(
            got.shape,
            box.map(([a, b]) => b - a),
          );
          assert.deepEqual(
            Array.from(got.data as Float32Array),
            expected(layout.shape, box),
            JSON.stringify(s),
          );
        }
      });
    }
  }

  it("fills missing chunks and shards with the fill value around chunks decoded in place", async () => {
    const values = ramp([40, 3]);
    const data = values.data as Float32Array;
    data.fill(Number.NaN, 8, 16 * 3); // rows 8..15 all NaN: that inner chunk is not written
    data.fill(Number.NaN, 32 * 3); // rows 32..39: the whole second shard is not written
    const store = new CountingStore(new MemoryStore());
    await writeArray(store, "f", values, {
      chunks: [8, 3],
      shards: [32, 3],
      codecs: profile("cloud-balanced"),
      fillValue: Number.NaN,
    });
    assert.equal(store.counts.put, 2, "one shard + zarr.json");
    const got = Array.from((await readArray(store, "f")).data as Float32Array);
    assert.deepEqual(
      got.map((v) => (Number.isNaN(v) ? "NaN" : v)),
      Array.from(data).map((v) => (Number.isNaN(v) ? "NaN" : v)),
    );
  });

  it("reads big-endian and bool chunks through the codec pipeline", async () => {
    const store = new MemoryStore();
    const be = new CodecStack({
      arrayToBytes: { name: "bytes", configuration: { endian: "big" } },
      bytesToBytes: [...ZSTD],
    });
    await writeArray(store, "be", ramp([20, 4]), { chunks: [5, 4], codecs: be, fillValue: null });
    assert.deepEqual(
      Array.from((await readArray(store, "be")).data as Float32Array),
      expected(
        [20, 4],
        [
          [0, 20],
          [0, 4],
        ],
      ),
    );
    const flags = NDArray.from(
      Uint8Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? 1 : 0)),
      { shape: [30] },
    ).astype("bool");
    await writeArray(store, "b", flags, { chunks: [7], codecs: profile("local-fast"), fillValue: null });
    assert.deepEqual((await readArray(store, "b")).data, flags.data);
  });

  it("names the chunk of a corrupted chunk decoded in place", async () => {
    const store = new MemoryStore();
    await writeArray(store, "x", ramp([16, 4]), {
      chunks: [8, 4],
      codecs: profile("local-fast"),
      fillValue: null,
    });
    const key = "x/c/1/0";
    const bytes = await store.readBytes(key);
    assert.ok(bytes !== undefined);
    await store.writeBytes(key, bytes.slice(0, bytes.length - 3));
    await assert.rejects(readArray(store, "x"), (e: unknown) => e instanceof CodecError && e.key === key);
  });
});
