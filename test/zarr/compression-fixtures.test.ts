import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { CodecDescriptor } from "../../src/codecs/index.js";
import { override } from "../../src/config.js";
import { CodecError } from "../../src/errors.js";
import { crc32c, decodeChain, shutdownCodecPool } from "../../src/zarr/compression/index.js";
import { setZstdBackend } from "../../src/zarr/compression/zstd.js";

const FIXTURES = join(import.meta.dirname, "../fixtures/zarr/zarr-python-v3");
const ARRAYS = [
  "zstd_l3",
  "zstd_l3_checksum",
  "gzip_l5",
  "blosc_lz4_shuffle",
  "blosc_noshuffle",
  "blosc_zstd_bitshuffle",
  "crc32c",
  "zstd_crc32c",
  "gzip_crc32c_big",
  "f64_zstd_l3",
  "f64_gzip_l5",
  "f64_blosc_lz4_shuffle",
];

interface ManifestEntry {
  data_type: "int32" | "float64";
  shape: [number, number];
  chunk_grid_shape: [number, number];
  codecs: CodecDescriptor[];
  fill_value: number;
  data_sha256: string;
  samples: { index: [number, number]; value: number }[];
  stored_keys: string[];
}

const manifest = JSON.parse(readFileSync(join(FIXTURES, "manifest.json"), "utf8")) as {
  arrays: Record<string, ManifestEntry>;
};

/**
 * Decodes every stored chunk of a 2-d fixture array with the bytes-to-bytes
 * codecs only, undoes the `bytes` serializer by hand and assembles the array
 * in C order, little-endian (the manifest's canonical dump).
 */
async function assemble(name: string, m: ManifestEntry): Promise<Uint8Array> {
  const [rows, cols] = m.shape;
  const [cr, cc] = m.chunk_grid_shape;
  const itemSize = m.data_type === "int32" ? 4 : 8;
  const serializer = m.codecs[0];
  assert.equal(serializer?.name, "bytes");
  const bigEndian = serializer?.configuration?.endian === "big";
  const chain = m.codecs.slice(1);
  const out = new Uint8Array(rows * cols * itemSize); // fill value 0 everywhere
  for (const key of m.stored_keys) {
    const [, i, j] = key.split("/").map(Number) as [unknown, number, number];
    const raw = readFileSync(join(FIXTURES, "v3.zarr/codecs", name, key));
    const chunk = await decodeChain(chain, raw, { key: `codecs/${name}/${key}`, itemSize });
    assert.equal(chunk.length, cr * cc * itemSize, `${name}/${key}: decoded size`);
    for (let r = 0; r < cr && i * cr + r < rows; r++) {
      for (let c = 0; c < cc && j * cc + c < cols; c++) {
        const src = (r * cc + c) * itemSize;
        const dst = ((i * cr + r) * cols + j * cc + c) * itemSize;
        for (let b = 0; b < itemSize; b++)
          out[dst + b] = chunk[src + (bigEndian ? itemSize - 1 - b : b)] as number;
      }
    }
  }
  return out;
}

after(() => shutdownCodecPool());

describe("zarr-python fixtures: raw chunk files decode to the manifest's values", {
  skip: !existsSync(FIXTURES),
}, () => {
  for (const backend of ["napi", "wasm"] as const) {
    for (const name of ARRAYS) {
      it(`${name} (${backend} zstd)`, async () => {
        const m = manifest.arrays[`/codecs/${name}`];
        assert.ok(m, `manifest entry for ${name}`);
        setZstdBackend(backend);
        try {
          const bytes = await override({ "codec.workers": 0 }, () => assemble(name, m));
          assert.equal(createHash("sha256").update(bytes).digest("hex"), m.data_sha256);
          const view = new DataView(bytes.buffer);
          for (const s of m.samples) {
            const at = (s.index[0] * m.shape[1] + s.index[1]) * (m.data_type === "int32" ? 4 : 8);
            const v: number = m.data_type === "int32" ? view.getInt32(at, true) : view.getFloat64(at, true);
            assert.equal(v, s.value, `${name}[${s.index}]`);
          }
        } finally {
          setZstdBackend(undefined);
        }
      });
    }
  }
  it("crc32c trailers written by zarr-python match ours", () => {
    for (const name of ["crc32c", "zstd_crc32c", "gzip_crc32c_big"]) {
      for (const key of ["c/0/0", "c/2/2"]) {
        const raw = readFileSync(join(FIXTURES, "v3.zarr/codecs", name, key));
        const stored = raw.readUInt32LE(raw.length - 4);
        assert.equal(crc32c(raw.subarray(0, raw.length - 4)), stored, `${name}/${key}`);
      }
    }
  });
  it("a flipped bit in a fixture chunk is a CodecError naming the chunk", async () => {
    const raw = new Uint8Array(readFileSync(join(FIXTURES, "v3.zarr/codecs/zstd_crc32c/c/1/1")));
    raw[20] = (raw[20] as number) ^ 0x10;
    await assert.rejects(
      decodeChain([{ name: "zstd" }, { name: "crc32c" }], raw, {
        key: "codecs/zstd_crc32c/c/1/1",
        itemSize: 4,
      }),
      (err: unknown) =>
        err instanceof CodecError &&
        /crc32c: cannot decode chunk 'codecs\/zstd_crc32c\/c\/1\/1': checksum mismatch/.test(err.message),
    );
  });
});
