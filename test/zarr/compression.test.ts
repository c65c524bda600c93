import assert from "node:assert/strict";
import { after, afterEach, describe, it } from "node:test";
import * as zstdNapi from "zstd-napi";
import { override } from "../../src/config.js";
import { CodecError, isZCollectionError } from "../../src/errors.js";
import { appendCrc32c, checkCrc32c, crc32c as crc32cRaw } from "../../src/zarr/compression/crc32c.js";
import {
  BYTES_TO_BYTES_CODECS,
  crc32c,
  decodeBytes,
  decodeChain,
  encodeBytes,
  encodeChain,
  shutdownCodecPool,
} from "../../src/zarr/compression/index.js";
import { xxh64 } from "../../src/zarr/compression/xxh64.js";
import { setZstdBackend, zstdBackend, zstdFrameHeader } from "../../src/zarr/compression/zstd.js";

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const ctx = (key = "var/c/0/0", itemSize = 4) => ({ key, itemSize });

/** Deterministic pseudo-random generator (LCG), values in [0, 1). */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
}

/** Altimetry-like float32 bytes: a smooth signal plus noise, so they compress but not trivially. */
function float32Bytes(n: number, seed = 1): Uint8Array {
  const r = prng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(i / 50) * 10 + Math.round(r() * 1000) / 1000;
  return new Uint8Array(a.buffer);
}
function int64Bytes(n: number, seed = 2): Uint8Array {
  const r = prng(seed);
  const a = new BigInt64Array(n);
  for (let i = 0; i < n; i++) a[i] = BigInt(Math.floor(r() * 2 ** 40)) * (i % 2 ? -1n : 1n);
  return new Uint8Array(a.buffer);
}
function randomBytes(n: number, seed = 3): Uint8Array {
  const r = prng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}

/** Bitwise CRC-32C, the textbook definition, to check the table-driven one. */
function crc32cBitwise(data: Uint8Array): number {
  let c = ~0;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

after(() => shutdownCodecPool());
afterEach(() => setZstdBackend(undefined));

describe("crc32c (Castagnoli)", () => {
  it("matches the standard check value and the RFC 3720 vectors", () => {
    assert.equal(crc32c(ascii("123456789")), 0xe3069283);
    assert.equal(crc32c(new Uint8Array(0)), 0);
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
    assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
  });
  it("agrees with the bitwise definition for every length 0..70 and unaligned views", () => {
    const data = randomBytes(80);
    for (let n = 0; n <= 70; n++) {
      for (const off of [0, 1, 3]) {
        const v = data.subarray(off, off + n);
        assert.equal(crc32c(v), crc32cBitwise(v), `length ${n} offset ${off}`);
      }
    }
  });
  it("can be computed incrementally", () => {
    const data = randomBytes(1000);
    assert.equal(crc32cRaw(data.subarray(13), crc32cRaw(data.subarray(0, 13))), crc32c(data));
  });
  it("appends 4 little-endian bytes and verifies them", () => {
    const out = appendCrc32c(ascii("123456789"));
    assert.deepEqual([...out.subarray(9)], [0x83, 0x92, 0x06, 0xe3]);
    const r = checkCrc32c(out);
    assert.ok(r);
    assert.equal(r.stored, 0xe3069283);
    assert.equal(r.computed, 0xe3069283);
    assert.equal(new TextDecoder().decode(r.payload), "123456789");
    assert.equal(checkCrc32c(new Uint8Array(3)), null);
  });
});

describe("xxh64 (zstd frame checksum of the portable backend)", () => {
  it("matches the reference values", () => {
    assert.equal(xxh64(new Uint8Array(0)), 0xef46db3751d8e999n);
    assert.equal(xxh64(ascii("a")), 0xd24ec4f1a98c6e5bn);
    assert.equal(xxh64(ascii("abc")), 0x44bc2cf5ad770999n);
    // Low 32 bits as written by the zstd command line tool (`zstd --check`) for 1000 × "x".
    assert.equal(xxh64(ascii("x".repeat(1000))) & 0xffffffffn, 0x9cb700e1n);
  });
});

const CODECS = [
  { name: "zstd", configuration: { level: 3, checksum: false } },
  { name: "zstd", configuration: { level: 1, checksum: true } },
  { name: "gzip", configuration: { level: 5 } },
  {
    name: "blosc",
    configuration: { cname: "lz4", clevel: 5, shuffle: "shuffle", typesize: 4, blocksize: 0 },
  },
  {
    name: "blosc",
    configuration: { cname: "zstd", clevel: 3, shuffle: "bitshuffle", typesize: 8, blocksize: 0 },
  },
  {
    name: "blosc",
    configuration: { cname: "zlib", clevel: 1, shuffle: "noshuffle", typesize: 1, blocksize: 0 },
  },
  { name: "crc32c" },
] as const;

describe("round trips on the calling thread", () => {
  const inputs: [string, (n: number) => Uint8Array, number][] = [
    ["float32", (n) => float32Bytes(n), 4],
    ["int64", (n) => int64Bytes(n), 8],
    ["bytes", (n) => randomBytes(n), 1],
  ];
  for (const codec of CODECS) {
    it(`${codec.name} ${JSON.stringify("configuration" in codec ? codec.configuration : {})}`, async () => {
      await override({ "codec.workers": 0 }, async () => {
        for (const [kind, make, itemSize] of inputs) {
          for (const elements of [0, 1, 3, 1000, 20_000]) {
            const data = kind === "bytes" ? make(elements === 1 ? 1 : elements * 4) : make(elements);
            const c = { key: `${kind}/${elements}`, itemSize };
            const enc = await encodeBytes(codec, data, c);
            const dec = await decodeBytes(codec, enc, c);
            assert.deepEqual(dec, data, `${kind} × ${elements}`);
          }
        }
      });
    });
  }
  it("chains encode in order and decode in reverse", async () => {
    const chain = [{ name: "zstd", configuration: { level: 3, checksum: false } }, { name: "crc32c" }];
    const data = float32Bytes(5000);
    const enc = await encodeChain(chain, data, ctx());
    // Outermost layer is the checksum of a zstd frame.
    const r = checkCrc32c(enc);
    assert.ok(r && r.stored === r.computed);
    assert.equal(zstdFrameHeader(enc)?.contentSize, data.length);
    assert.deepEqual(await decodeChain(chain, enc, ctx()), data);
    // Wrong order fails: the outer layer is not a zstd frame.
    await assert.rejects(decodeChain([{ name: "crc32c" }, { name: "zstd" }], enc, ctx()), CodecError);
  });
  it("an empty chain returns the input", async () => {
    const data = randomBytes(10);
    assert.equal(await encodeChain([], data, ctx()), data);
    assert.equal(await decodeChain([], data, ctx()), data);
  });
  it("lists the codec names", () => {
    assert.deepEqual([...BYTES_TO_BYTES_CODECS].sort(), ["blosc", "crc32c", "gzip", "zstd"]);
  });
  it("reads blosc typesize/shuffle defaults like zarr-python (shuffle, bitshuffle for 1-byte items)", async () => {
    const data = float32Bytes(2000);
    const shuffled = await encodeBytes({ name: "blosc", configuration: { cname: "lz4" } }, data, ctx("k", 4));
    const flags = shuffled[2] as number;
    assert.equal(flags & 0x5, 0x1, "byte shuffle flag");
    const bits = await encodeBytes({ name: "blosc", configuration: { cname: "lz4" } }, data, ctx("k", 1));
    assert.equal((bits[2] as number) & 0x5, 0x4, "bit shuffle flag");
  });
});

describe("zstd frames (docs/format.md §6.6)", () => {
  for (const backend of ["napi", "wasm"] as const) {
    it(`${backend}: one frame with the content size in its header`, async () => {
      setZstdBackend(backend);
      assert.equal((await zstdBackend()).name, backend);
      await override({ "codec.workers": 0 }, async () => {
        for (const n of [0, 1, 255, 256, 65_791, 65_792, 300_000]) {
          const data = randomBytes(n);
          const enc = await encodeBytes(
            { name: "zstd", configuration: { level: 3, checksum: false } },
            data,
            ctx(),
          );
          const h = zstdFrameHeader(enc);
          assert.ok(h, `frame header for ${n} bytes`);
          assert.ok((enc[4] as number) >> 6 !== 0 || ((enc[4] as number) & 0x20) !== 0, "FCS field present");
          assert.equal(h.contentSize, n);
          assert.equal(h.checksum, false);
        }
      });
    });
    it(`${backend}: checksum true sets the flag and is verified on decode`, async () => {
      setZstdBackend(backend);
      await override({ "codec.workers": 0 }, async () => {
        const codec = { name: "zstd", configuration: { level: 3, checksum: true } };
        const data = float32Bytes(10_000);
        const enc = await encodeBytes(codec, data, ctx());
        assert.equal(zstdFrameHeader(enc)?.checksum, true);
        assert.equal(zstdFrameHeader(enc)?.contentSize, data.length);
        // The native library checks what the portable one wrote, and conversely.
        assert.deepEqual(new Uint8Array(zstdNapi.decompress(enc)), data);
        const bad = enc.slice();
        bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 0xff;
        await assert.rejects(decodeBytes(codec, bad, ctx("v/c/9")), (err: unknown) => {
          assert.ok(err instanceof CodecError);
          assert.match(err.message, /v\/c\/9/);
          return true;
        });
      });
    });
  }
  it("each backend decodes the other's frames, with and without content size, and concatenated frames", async () => {
    await override({ "codec.workers": 0 }, async () => {
      const data = float32Bytes(50_000);
      const codec = { name: "zstd", configuration: { level: 5, checksum: false } };
      setZstdBackend("napi");
      const fromNapi = await encodeBytes(codec, data, ctx());
      setZstdBackend("wasm");
      const fromWasm = await encodeBytes(codec, data, ctx());
      assert.deepEqual(await decodeBytes(codec, fromNapi, ctx()), data);
      setZstdBackend("napi");
      assert.deepEqual(await decodeBytes(codec, fromWasm, ctx()), data);
      // A streamed frame has no content size: both backends stream-decode it.
      const streamed = new Uint8Array(
        zstdNapi.compress(data, { compressionLevel: 3, contentSizeFlag: false }),
      );
      assert.equal(zstdFrameHeader(streamed)?.contentSize, null);
      for (const b of ["napi", "wasm"] as const) {
        setZstdBackend(b);
        assert.deepEqual(await decodeBytes(codec, streamed, ctx()), data, b);
      }
      // Two frames back to back decode to the concatenation (napi).
      setZstdBackend("napi");
      const two = new Uint8Array(fromNapi.length + streamed.length);
      two.set(fromNapi);
      two.set(streamed, fromNapi.length);
      const both = await decodeBytes(codec, two, ctx());
      assert.equal(both.length, 2 * data.length);
      assert.deepEqual(both.subarray(data.length), data);
    });
  });
  it("level 0 means the default level and negative levels are accepted", async () => {
    await override({ "codec.workers": 0 }, async () => {
      const data = float32Bytes(20_000);
      const l0 = await encodeBytes({ name: "zstd", configuration: { level: 0 } }, data, ctx());
      const l3 = await encodeBytes({ name: "zstd", configuration: { level: 3 } }, data, ctx());
      assert.deepEqual(l0, l3);
      const fast = await encodeBytes({ name: "zstd", configuration: { level: -5 } }, data, ctx());
      assert.deepEqual(await decodeBytes({ name: "zstd" }, fast, ctx()), data);
    });
  });
});

describe("errors are CodecErrors naming the chunk", () => {
  const expectCodecError = (key: string, pattern: RegExp) => (err: unknown) => {
    assert.ok(err instanceof CodecError, `CodecError expected, got ${String(err)}`);
    assert.ok(isZCollectionError(err, "StoreError"));
    assert.equal(err.key, key);
    assert.ok(err.message.includes(`'${key}'`), err.message);
    assert.match(err.message, pattern);
    return true;
  };
  it("corrupted crc32c", async () => {
    const enc = await encodeBytes({ name: "crc32c" }, float32Bytes(100), ctx());
    enc[10] = (enc[10] as number) ^ 1;
    await assert.rejects(
      decodeBytes({ name: "crc32c" }, enc, ctx("sla/c/3")),
      expectCodecError("sla/c/3", /crc32c.*checksum mismatch/),
    );
    await assert.rejects(
      decodeBytes({ name: "crc32c" }, new Uint8Array(3), ctx("sla/c/4")),
      expectCodecError("sla/c/4", /too short/),
    );
  });
  for (const workers of [0, 2]) {
    it(`truncated or corrupt zstd, gzip and blosc input (codec.workers ${workers})`, async () => {
      await override({ "codec.workers": workers }, async () => {
        const data = float32Bytes(50_000);
        for (const codec of [{ name: "zstd" }, { name: "gzip" }, { name: "blosc" }]) {
          const enc = await encodeBytes(codec, data, ctx());
          const key = `time/c/${codec.name}`;
          for (const bad of [enc.subarray(0, enc.length - 10), enc.subarray(0, 20), enc.subarray(0, 3)]) {
            await assert.rejects(
              decodeBytes(codec, bad, ctx(key)),
              expectCodecError(key, new RegExp(codec.name)),
            );
          }
          await assert.rejects(decodeBytes(codec, new Uint8Array(0), ctx(key)), expectCodecError(key, /./));
        }
        await assert.rejects(
          decodeBytes({ name: "zstd" }, randomBytes(1000), ctx("x/c/1")),
          expectCodecError("x/c/1", /not a zstd frame/),
        );
      });
    });
  }
  it("truncated streamed zstd frames (no content size) and trailing garbage, both backends", async () => {
    await override({ "codec.workers": 0 }, async () => {
      const data = float32Bytes(100_000);
      const streamed = new Uint8Array(
        zstdNapi.compress(data, { compressionLevel: 3, contentSizeFlag: false }),
      );
      const garbage = new Uint8Array(streamed.length + 3);
      garbage.set(streamed);
      garbage.set([1, 2, 3], streamed.length);
      for (const b of ["napi", "wasm"] as const) {
        setZstdBackend(b);
        for (const bad of [
          streamed.subarray(0, streamed.length - 1),
          streamed.subarray(0, streamed.length >> 1),
          garbage,
        ]) {
          await assert.rejects(
            decodeBytes({ name: "zstd" }, bad, ctx("s/c/0")),
            expectCodecError("s/c/0", /^zstd: /),
          );
        }
      }
    });
  });
  it("unsupported codec name", async () => {
    await assert.rejects(
      encodeBytes({ name: "lz4" }, randomBytes(10), ctx("a/c/0")),
      expectCodecError("a/c/0", /'lz4'/),
    );
    await assert.rejects(
      decodeChain([{ name: "zstd" }, { name: "bz2" }], randomBytes(10), ctx("a/c/1")),
      expectCodecError("a/c/1", /unsupported bytes-to-bytes codec 'bz2'/),
    );
  });
  it("bad configurations", async () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ level: "3" }, "zstd", /zstd level/],
      [{ level: 23 }, "zstd", /zstd level/],
      [{ checksum: 1 }, "zstd", /zstd checksum/],
      [{ level: 10 }, "gzip", /gzip level/],
      [{ cname: "brotli" }, "blosc", /blosc cname "brotli"/],
      [{ shuffle: "byteshuffle" }, "blosc", /blosc shuffle/],
      [{ clevel: -1 }, "blosc", /blosc clevel/],
    ];
    for (const [configuration, name, pattern] of cases) {
      await assert.rejects(
        encodeBytes({ name, configuration }, randomBytes(10), ctx("b/c/0")),
        expectCodecError("b/c/0", pattern),
      );
    }
  });
  it("an aborted signal rejects with its reason", async () => {
    const ac = new AbortController();
    ac.abort(new Error("stop"));
    await assert.rejects(
      encodeBytes({ name: "zstd" }, randomBytes(10), { ...ctx(), signal: ac.signal }),
      /stop/,
    );
  });
});
