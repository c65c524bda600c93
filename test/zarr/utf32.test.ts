/**
 * zarr-python's `fixed_length_utf32` strings (src/zarr/codecs/utf32.ts):
 * element decoding as numpy does it, the pipeline hook, and whole arrays read
 * from hand-written `zarr.json` documents. Python-written collections are in
 * test/collection/python-interop.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CodecError } from "../../src/errors.js";
import { MemoryStore } from "../../src/store/memory.js";
import { ChunkPipeline } from "../../src/zarr/codecs/pipeline.js";
import {
  bindFixedLengthUtf32,
  decodeFixedUtf32,
  encodeFixedUtf32,
  fitFixedUtf32,
} from "../../src/zarr/codecs/utf32.js";
import { readArray, readArrayMetadata } from "../../src/zarr/index.js";

/** UTF-32 bytes of code points, `width` per element, in the given byte order. */
function utf32(elements: number[][], width: number, little = true): Uint8Array {
  const out = new Uint8Array(elements.length * width * 4);
  const view = new DataView(out.buffer);
  elements.forEach((cps, i) => {
    cps.forEach((cp, k) => {
      view.setUint32((i * width + k) * 4, cp, little);
    });
  });
  return out;
}

const cps = (s: string) => [...s].map((c) => c.codePointAt(0) as number);

describe("fixed_length_utf32 elements", () => {
  it("decodes like numpy: trailing NULs stripped, inner NULs kept, astral code points whole", () => {
    const values = ["abc", "", "ünï", "🌊-b", "a\0b"];
    for (const little of [true, false]) {
      const bytes = utf32(values.map(cps), 4, little);
      assert.deepEqual(decodeFixedUtf32(bytes, 5, 16, little ? "little" : "big", "k"), values);
    }
  });

  it("decodes width 0 (every element empty) and keeps lone surrogates", () => {
    assert.deepEqual(decodeFixedUtf32(new Uint8Array(0), 3, 0, "little", "k"), ["", "", ""]);
    assert.deepEqual(decodeFixedUtf32(utf32([[0xd800, 0x41]], 2), 1, 8, "little", "k"), ["\ud800A"]);
  });

  it("decodes long elements (more code units than one String.fromCharCode call takes)", () => {
    const long = "é🌊".repeat(3000);
    const bytes = utf32([cps(long)], 6000);
    assert.deepEqual(decodeFixedUtf32(bytes, 1, 24000, "little", "k"), [long]);
  });

  it("refuses a wrong byte count or a value above U+10FFFF, naming the chunk", () => {
    assert.throws(
      () => decodeFixedUtf32(new Uint8Array(12), 2, 8, "little", "a/c/0"),
      (e: unknown) => e instanceof CodecError && e.key === "a/c/0" && /expected 16/.test(e.message),
    );
    assert.throws(
      () => decodeFixedUtf32(utf32([[0x110000]], 1), 1, 4, "little", "a/c/1"),
      (e: unknown) => e instanceof CodecError && e.key === "a/c/1" && /0x110000/.test(e.message),
    );
  });

  it("encodes NUL-padded, refusing a string wider than the element", () => {
    const values = ["🌊x", "", "abc"];
    const bytes = encodeFixedUtf32(values, 12, "big", "k");
    assert.deepEqual(bytes, utf32(values.map(cps), 3, false));
    assert.deepEqual(decodeFixedUtf32(bytes, 3, 12, "big", "k"), values);
    assert.throws(() => encodeFixedUtf32(["abcd"], 12, "little", "a/c/2"), /more than 3 code points/);
  });

  it("fits a fill value to the width", () => {
    assert.equal(fitFixedUtf32("🌊é!", 8), "🌊é");
    assert.equal(fitFixedUtf32("a\0\0", 12), "a");
    assert.equal(fitFixedUtf32("abc", 0), "");
  });
});

describe("fixed_length_utf32 chunk pipeline", () => {
  it("runs bytes (+ zstd) over string chunks once the width is bound; refuses bytes without it", async () => {
    const codecs = bindFixedLengthUtf32(
      [
        { name: "bytes", configuration: { endian: "little" } },
        { name: "zstd", configuration: { level: 3 } },
      ],
      28,
    );
    const pipeline = ChunkPipeline.fromCodecs(codecs, "string", [4], "s/zarr.json");
    const chunk = ["Ушуайя", "", "東京", "🌊-buoy"];
    const encoded = await pipeline.encode([...chunk], { key: "s/c/0" });
    assert.deepEqual(await pipeline.decode(encoded, { key: "s/c/0" }), chunk);
    assert.throws(
      () => ChunkPipeline.fromCodecs([{ name: "bytes" }], "string", [4], "s/zarr.json"),
      /cannot serialise variable-length strings/,
    );
  });
});

describe("fixed_length_utf32 arrays", () => {
  it("reads a big-endian array with a missing chunk as the fill value", async () => {
    const store = new MemoryStore();
    const doc = {
      shape: [5],
      data_type: { name: "fixed_length_utf32", configuration: { length_bytes: 12 } },
      chunk_grid: { name: "regular", configuration: { chunk_shape: [2] } },
      chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
      fill_value: "—",
      codecs: [{ name: "bytes", configuration: { endian: "big" } }],
      attributes: {},
      zarr_format: 3,
      node_type: "array",
    };
    await store.writeBytes("s/zarr.json", new TextEncoder().encode(JSON.stringify(doc)));
    await store.writeBytes("s/c/0", encodeFixedUtf32(["abc", ""], 12, "big", "k"));
    // c/1 absent; c/2 is the partial last chunk, padded with NULs like zarr-python writes it.
    await store.writeBytes("s/c/2", encodeFixedUtf32(["🌊", ""], 12, "big", "k"));
    const meta = await readArrayMetadata(store, "s");
    assert.ok(meta);
    assert.equal(meta.dtype, "string");
    const a = await readArray(store, "s", { metadata: meta });
    assert.deepEqual(a.data, ["abc", "", "—", "—", "🌊"]);
    const part = await readArray(store, "s", { selection: [[1, 4]] });
    assert.deepEqual(part.data, ["", "—", "—"]);
  });
});
