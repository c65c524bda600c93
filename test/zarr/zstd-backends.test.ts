/**
 * The zstd backends (node:zlib → zstd-napi → WebAssembly, fzstd in
 * browsers): which one is chosen, in the main thread and in the codec
 * workers; the WebAssembly fallback forced on real chunks; and frames
 * written by every backend decoded by every other one. Backends the runtime
 * lacks are skipped (node:zlib's zstd needs Node ≥ 22.15; run this file
 * with such a Node too).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { after, afterEach, describe, it } from "node:test";
import * as zlib from "node:zlib";
import { profile } from "../../src/codecs/index.js";
import { override } from "../../src/config.js";
import { NDArray } from "../../src/ndarray.js";
import { MemoryStore } from "../../src/store/memory.js";
import {
  decodeBytes,
  encodeBytes,
  shutdownCodecPool,
  workerZstdBackendName,
  zstdBackendName,
} from "../../src/zarr/compression/index.js";
import {
  napiZstdBackend,
  setZstdBackend,
  wasmZstdBackend,
  type ZstdBackend,
  type ZstdBackendName,
  zlibZstdBackend,
  zstdFrameHeader,
  zstdFrameSpans,
} from "../../src/zarr/compression/zstd.js";
import { fzstdZstdBackend } from "../../src/zarr/compression/zstd-fzstd.js";
import { readArray, writeArray } from "../../src/zarr/index.js";
import { ZLIB_FRAMES, zlibFixtureData } from "./zstd-zlib-frames.js";

const ROOT = join(import.meta.dirname, "../..");
const HAS_ZLIB = typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === "function";
const HAS_NAPI = (() => {
  try {
    createRequire(import.meta.url)("zstd-napi/binding.js");
    return true;
  } catch {
    return false;
  }
})();
/** What the automatic choice must be on this runtime. */
const EXPECTED: ZstdBackendName = HAS_ZLIB ? "zlib" : HAS_NAPI ? "napi" : "wasm";

/** Altimetry-like float32 bytes: a smooth signal plus quantised noise. */
function float32Bytes(n: number, seed = 1): Uint8Array {
  let s = seed >>> 0;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    a[i] = Math.sin(i / 50) * 10 + Math.round((s / 2 ** 32) * 1000) / 1000;
  }
  return new Uint8Array(a.buffer);
}

/** Smooth, quantised float32 bytes: compressible enough for levels to matter. */
function smoothBytes(n: number): Uint8Array {
  const a = Float32Array.from(
    { length: n },
    (_, i) => Math.round(Math.sin(i / 50) * 1000) / 100 + (i % 7) / 4,
  );
  return new Uint8Array(a.buffer);
}

const fromBase64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "base64"));
const ctx = (key = "v/c/0") => ({ key, itemSize: 4 });

/** Every backend this runtime has: the encoders, and the decoders (fzstd decodes everywhere). */
async function backends(): Promise<{ encoders: ZstdBackend[]; decoders: ZstdBackend[] }> {
  const encoders = [await zlibZstdBackend(), await napiZstdBackend(), wasmZstdBackend()].filter(
    (b): b is ZstdBackend => b !== null,
  );
  return { encoders, decoders: [...encoders, fzstdZstdBackend()] };
}

after(() => shutdownCodecPool());
afterEach(() => setZstdBackend(undefined));

describe("zstd backend choice", () => {
  it(`picks node:zlib, then zstd-napi, then wasm (here: ${EXPECTED}), in the workers too`, async () => {
    assert.equal((await zlibZstdBackend()) !== null, HAS_ZLIB);
    assert.equal((await napiZstdBackend()) !== null, HAS_NAPI);
    assert.equal(await zstdBackendName(), EXPECTED);
    await override({ "codec.workers": 2 }, async () => {
      assert.equal(await workerZstdBackendName(), EXPECTED);
    });
    await override({ "codec.workers": 0 }, async () => {
      assert.equal(await workerZstdBackendName(), null, "no pool, no worker backend");
    });
  });

  it("setZstdBackend starts the order at the named backend, in the calling thread and the workers", async () => {
    const cases: [ZstdBackendName, ZstdBackendName][] = [
      ["zlib", EXPECTED],
      ["napi", HAS_NAPI ? "napi" : "wasm"],
      ["wasm", "wasm"],
    ];
    for (const [forced, expected] of cases) {
      setZstdBackend(forced);
      assert.equal(await zstdBackendName(), expected, `forced ${forced}`);
      await override({ "codec.workers": 2 }, async () => {
        assert.equal(await workerZstdBackendName(), expected, `workers, forced ${forced}`);
      });
    }
    setZstdBackend(undefined);
    await override({ "codec.workers": 2 }, async () => {
      assert.equal(await workerZstdBackendName(), EXPECTED, "workers back to automatic");
    });
  });

  it("ZCOLLECTION_ZSTD=wasm forces WebAssembly in a new process and its workers; chunks round trip", () => {
    const script = `
      import { set } from "./src/config.js";
      import { NDArray } from "./src/ndarray.js";
      import { MemoryStore } from "./src/store/memory.js";
      import { profile } from "./src/codecs/index.js";
      import { shutdownCodecPool, workerZstdBackendName, zstdBackendName } from "./src/zarr/compression/index.js";
      import { readArray, writeArray } from "./src/zarr/index.js";
      set({ "codec.workers": 2 });
      const values = Float32Array.from({ length: 8192 * 40 }, (_, i) => Math.sin(i / 30) + (i % 11) / 7);
      const store = new MemoryStore();
      await writeArray(store, "a", NDArray.from(values, { shape: [8192, 40] }), { chunks: [2048, 40], codecs: profile("local-fast"), fillValue: 0 });
      const back = (await readArray(store, "a")).data;
      const same = back.length === values.length && values.every((v, i) => back[i] === v);
      console.log(await zstdBackendName(), await workerZstdBackendName(), same);
      await shutdownCodecPool();
    `;
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, ZCOLLECTION_ZSTD: "wasm" },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), "wasm wasm true");
  });
});

describe("the WebAssembly backend forced on real chunks", () => {
  const rows = 12_000;
  const width = 60;
  const values = Float32Array.from({ length: rows * width }, (_, i) => Math.sin(i / 70) * 5 + (i % 13) / 9);
  const array = NDArray.from(values, { shape: [rows, width] });
  const chunkKeys = ["c/0/0", "c/1/0", "c/2/0"];

  for (const workers of [0, 2]) {
    it(`writes and reads an array with wasm zstd (codec.workers ${workers}); every backend decodes its chunks`, async () => {
      const store = new MemoryStore();
      setZstdBackend("wasm");
      await override({ "codec.workers": workers }, async () => {
        assert.equal(await zstdBackendName(), "wasm");
        if (workers >= 2) assert.equal(await workerZstdBackendName(), "wasm");
        // local-fast: zstd 3 with the frame checksum, 4096-row chunks of 983 kB (pooled when workers >= 2).
        await writeArray(store, "ssh", array, {
          chunks: [4096, width],
          codecs: profile("local-fast"),
          fillValue: 0,
        });
        assert.deepEqual((await readArray(store, "ssh")).data, values);
      });
      setZstdBackend(undefined);
      const { decoders } = await backends();
      for (const key of chunkKeys) {
        const frame = await store.readBytes(`ssh/${key}`);
        assert.ok(frame, key);
        const h = zstdFrameHeader(frame);
        assert.equal(h?.checksum, true, `${key}: checksum flag`);
        const n = h?.contentSize ?? -1;
        const first = 4096 * width * 4 * chunkKeys.indexOf(key);
        for (const d of decoders) {
          const out = await d.decompress(frame);
          assert.equal(out.length, n, `${key} by ${d.name}`);
          const expected = new Uint8Array(values.buffer, first, Math.min(n, values.byteLength - first));
          assert.deepEqual(out.subarray(0, expected.length), expected, `${key} by ${d.name}`);
        }
      }
    });
  }

  it("reads with wasm zstd an array written by the automatic backend, in the workers too", async () => {
    const store = new MemoryStore();
    await writeArray(store, "ssh", array, {
      chunks: [4096, width],
      codecs: profile("local-fast"),
      fillValue: 0,
    });
    for (const workers of [0, 2]) {
      setZstdBackend("wasm");
      await override({ "codec.workers": workers }, async () => {
        assert.deepEqual((await readArray(store, "ssh")).data, values, `codec.workers ${workers}`);
      });
    }
  });
});

describe("frames of every backend decode with every other one", () => {
  it("all levels, with and without checksum, 0 B to several blocks", async () => {
    const { encoders, decoders } = await backends();
    for (const n of [0, 1, 1000, 300_000]) {
      const data = float32Bytes(Math.ceil(n / 4)).subarray(0, n);
      for (const enc of encoders) {
        for (const level of [-5, -1, 0, 1, 3, 9, 19]) {
          for (const checksum of [false, true]) {
            const what = `${enc.name} level ${level} checksum ${checksum} ${n} B`;
            const frame = await enc.compress(data, level, checksum);
            const h = zstdFrameHeader(frame);
            assert.equal(h?.contentSize, n, `${what}: content size in the header`);
            assert.equal(h?.checksum, checksum, `${what}: checksum flag`);
            assert.deepEqual(
              zstdFrameSpans(frame).map((s) => [s.start, s.end]),
              [[0, frame.length]],
              `${what}: one frame`,
            );
            for (const dec of decoders) {
              assert.deepEqual(await dec.decompress(frame), data, `${what} decoded by ${dec.name}`);
            }
          }
        }
      }
    }
  });

  it("outputs are plain Uint8Arrays owning their memory (transferable between threads)", async () => {
    const { encoders } = await backends();
    for (const b of encoders) {
      for (const n of [10, 5000, 300_000]) {
        const data = float32Bytes(Math.ceil(n / 4)).subarray(0, n);
        for (const out of [
          await b.compress(data, 3, true),
          await b.decompress(await b.compress(data, 3, false)),
        ]) {
          assert.equal(Object.getPrototypeOf(out), Uint8Array.prototype, `${b.name} ${n} B`);
          if (b.name !== "wasm") {
            assert.equal(out.byteOffset, 0, `${b.name} ${n} B`);
            assert.equal(out.buffer.byteLength, out.length, `${b.name} ${n} B: no slack`);
          }
        }
      }
    }
  });

  it("level handling: 0 is the default (3), levels are honoured, -1 is not zlib's 'unset'", async () => {
    const data = smoothBytes(50_000);
    const { encoders } = await backends();
    for (const b of encoders) {
      const size = async (level: number) => (await b.compress(data, level, false)).length;
      assert.deepEqual(
        await b.compress(data, 0, false),
        await b.compress(data, 3, false),
        `${b.name}: 0 = 3`,
      );
      assert.ok((await size(19)) < (await size(1)), `${b.name}: level 19 beats level 1`);
      if (b.name === "wasm") continue; // numcodecs clamps levels below 1 to 1
      const [m5, m2, m1, z] = [await size(-5), await size(-2), await size(-1), await size(0)];
      assert.ok(m5 > m2 && m2 > m1 && m1 > z, `${b.name}: fast levels -5 ${m5}, -2 ${m2}, -1 ${m1}, 0 ${z}`);
    }
    const [zl, napi] = [await zlibZstdBackend(), await napiZstdBackend()];
    if (zl !== null && napi !== null) {
      // Same libzstd algorithm, possibly another version: the same sizes within 1 %.
      for (const level of [-5, -1, 1, 3, 9]) {
        const [a, b] = [await zl.compress(data, level, false), await napi.compress(data, level, false)];
        assert.ok(
          Math.abs(a.length - b.length) <= b.length / 100,
          `level ${level}: zlib ${a.length}, napi ${b.length}`,
        );
      }
    }
  });

  it("frames written by node:zlib (Node 22.15, fixture) decode with every backend", async () => {
    const data = zlibFixtureData();
    const { decoders } = await backends();
    for (const [name, f] of Object.entries(ZLIB_FRAMES)) {
      const frame = fromBase64(f.base64);
      assert.equal(zstdFrameHeader(frame)?.checksum, f.checksum, name);
      for (const d of decoders) assert.deepEqual(await d.decompress(frame), data, `${name} by ${d.name}`);
      // And through the codec API with the automatic backend, pool or not.
      for (const workers of [0, 2]) {
        await override({ "codec.workers": workers }, async () => {
          assert.deepEqual(
            await decodeBytes({ name: "zstd" }, frame, ctx()),
            data,
            `${name}, workers ${workers}`,
          );
        });
      }
      const z = await zlibZstdBackend();
      if (z !== null) {
        // This runtime's node:zlib writes the same frame when its libzstd is the fixture's.
        const again = await z.compress(data, f.level, f.checksum);
        if (process.versions.zstd === "1.5.6") assert.deepEqual(again, frame, name);
      }
    }
  });

  it("a corrupted checksum is rejected by every decoder", async () => {
    const data = float32Bytes(20_000);
    const { encoders, decoders } = await backends();
    for (const enc of encoders) {
      const bad = (await enc.compress(data, 3, true)).slice();
      bad[bad.length - 2] = (bad[bad.length - 2] as number) ^ 0x40;
      for (const dec of decoders) {
        await assert.rejects(async () => dec.decompress(bad), `${enc.name} frame, ${dec.name} decoder`);
      }
    }
  });
});

describe("node:zlib's zstd: what it lets through is caught", {
  skip: !HAS_ZLIB && "no zstd in node:zlib",
}, () => {
  const data = float32Bytes(100_000);
  const get = async () => (await zlibZstdBackend()) as ZstdBackend;

  it("truncated frames are errors, not short output", async () => {
    const z = await get();
    for (const checksum of [false, true]) {
      const frame = await z.compress(data, 3, checksum);
      for (let cut = 1; cut < frame.length; cut += Math.max(1, Math.floor(frame.length / 97))) {
        await assert.rejects(
          async () => z.decompress(frame.subarray(0, frame.length - cut)),
          /truncated|not a zstd/,
        );
      }
      await assert.rejects(async () => z.decompress(frame.subarray(0, frame.length - 1)), /truncated/);
    }
  });

  it("bytes after the last frame are errors; concatenated and skippable frames decode", async () => {
    const z = await get();
    const frame = await z.compress(data, 3, true);
    for (const extra of [1, 3, 30]) {
      const junk = new Uint8Array(frame.length + extra);
      junk.set(frame);
      junk.fill(7, frame.length);
      await assert.rejects(async () => z.decompress(junk), /after the last zstd frame|truncated/);
    }
    const other = await z.compress(data.subarray(0, 1000), 9, false);
    const skippable = Uint8Array.of(0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3);
    const all = new Uint8Array([...frame, ...skippable, ...other, ...skippable]);
    assert.deepEqual(await z.decompress(all), new Uint8Array([...data, ...data.subarray(0, 1000)]));
  });

  it("frames without a content size (streamed) decode, through the codec API too", async () => {
    const z = await get();
    const C = (zlib as unknown as { constants: Record<string, number> }).constants;
    const stream = (
      zlib as unknown as { createZstdCompress(o: object): NodeJS.ReadWriteStream }
    ).createZstdCompress({ params: { [C.ZSTD_c_checksumFlag as number]: 1 } });
    const parts: Buffer[] = [];
    stream.on("data", (b: Buffer) => parts.push(b));
    const done = new Promise((resolve) => stream.on("end", resolve));
    stream.write(data.subarray(0, 50_000));
    stream.end(data.subarray(50_000));
    await done;
    const streamed = new Uint8Array(Buffer.concat(parts));
    assert.equal(zstdFrameHeader(streamed)?.contentSize, null);
    assert.deepEqual(await z.decompress(streamed), data);
    assert.deepEqual(await decodeBytes({ name: "zstd" }, streamed, ctx()), data);
    await assert.rejects(
      decodeBytes({ name: "zstd" }, streamed.subarray(0, streamed.length - 5), ctx("s/c/1")),
      /zstd: cannot decode chunk 's\/c\/1'/,
    );
  });

  it("encodes through the codec API and the pool with node:zlib", async () => {
    for (const workers of [0, 2]) {
      await override({ "codec.workers": workers }, async () => {
        const codec = { name: "zstd", configuration: { level: 5, checksum: true } };
        const enc = await encodeBytes(codec, data, ctx());
        assert.equal(zstdFrameHeader(enc)?.checksum, true);
        const napi = await napiZstdBackend();
        if (napi !== null) assert.deepEqual(await napi.decompress(enc), data);
        assert.deepEqual(await decodeBytes(codec, enc, ctx()), data);
      });
    }
  });
});

describe("zstdFrameSpans (frame walker used with node:zlib)", () => {
  it("splits concatenated frames and rejects every truncation", async () => {
    const w = wasmZstdBackend();
    const a = await w.compress(float32Bytes(40_000), 3, true);
    const b = await w.compress(float32Bytes(10, 2), 1, false);
    const both = new Uint8Array([...a, ...b]);
    assert.deepEqual(
      zstdFrameSpans(both).map((s) => [s.start, s.end, s.contentSize]),
      [
        [0, a.length, 160_000],
        [a.length, both.length, 40],
      ],
    );
    for (let n = 1; n < a.length; n += 37)
      assert.throws(() => zstdFrameSpans(a.subarray(0, n)), `cut at ${n}`);
    assert.throws(() => zstdFrameSpans(Uint8Array.of(1, 2, 3, 4, 5, 6)), /not a zstd frame/);
  });
});
