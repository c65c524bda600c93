import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { cp, mkdtemp, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, describe, it } from "node:test";
import {
  type DType,
  formatDatetime64,
  isBigIntDType,
  type Scalar,
  type TimeUnit,
  timeUnit,
} from "../../src/dtype.js";
import { CodecError, isZCollectionError } from "../../src/errors.js";
import { decodeJson, type JsonValue } from "../../src/json.js";
import type { NDArray } from "../../src/ndarray.js";
import { LocalStore } from "../../src/store/local.js";
import {
  allIndices,
  chunkKey,
  gridShape,
  readArray,
  readArrayMetadata,
  readGroup,
} from "../../src/zarr/index.js";
import { assertSameScalar, canonicalSha256, utf32Sha256 } from "../helpers/zarr-cases.js";

const FIXTURES = join(import.meta.dirname, "../fixtures/zarr");

interface ManifestArray {
  data_type: JsonValue;
  shape: number[];
  chunk_grid_shape: number[];
  sharding_inner_chunk_shape: number[] | null;
  fill_value: JsonValue;
  dimension_names?: (string | null)[] | null;
  attributes: Record<string, JsonValue>;
  data_sha256: string;
  samples: { index: number[]; value: JsonValue }[];
  stored_keys?: string[];
}

interface Source {
  name: string;
  root: string;
  manifest: {
    arrays: Record<string, ManifestArray>;
    groups?: Record<string, { attributes: Record<string, JsonValue> }>;
  };
}

async function loadSources(): Promise<Source[]> {
  const out: Source[] = [];
  const zp = decodeJson(await readFile(join(FIXTURES, "zarr-python-v3/manifest.json")), "manifest.json");
  out.push({ name: "zarr-python", root: join(FIXTURES, "zarr-python-v3/v3.zarr"), manifest: zp as never });
  for (const f of (await readdir(join(FIXTURES, "zarrita-v3"))).filter((n) =>
    /^manifest\..*\.json$/.test(n),
  )) {
    const m = decodeJson(await readFile(join(FIXTURES, "zarrita-v3", f)), f);
    out.push({
      name: `zarrita (${f})`,
      root: join(FIXTURES, "zarrita-v3/v3/data.zarr"),
      manifest: m as never,
    });
  }
  return out;
}

const sources = await loadSources();

/** Data types this library deliberately does not read (docs/format.md §6.2 extras). */
function isUnsupportedType(dataType: JsonValue): boolean {
  const name = typeof dataType === "string" ? dataType : (dataType as { name?: string } | null)?.name;
  return name === "float16" || name === "complex64" || name === "complex128";
}

const TIMEDELTA_WORDS: Partial<Record<TimeUnit, string>> = {
  ns: "nanoseconds",
  us: "microseconds",
  ms: "milliseconds",
  s: "seconds",
  m: "minutes",
  h: "hours",
  D: "days",
};

/** A value as the manifests print samples (numpy's str for times, strings for non-finite floats). */
function sampleText(array: NDArray, value: Scalar): JsonValue {
  const dt = array.dtype;
  if (dt.startsWith("datetime64")) return formatDatetime64(value as bigint, timeUnit(dt));
  if (dt.startsWith("timedelta64")) {
    return value === -(2n ** 63n) ? "NaT" : `${value} ${TIMEDELTA_WORDS[timeUnit(dt)]}`;
  }
  if (typeof value === "number" && !Number.isFinite(value)) {
    return Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
  }
  return value as JsonValue;
}

function expectedFill(json: JsonValue, dtype: DType): Scalar {
  if (isBigIntDType(dtype) && typeof json === "number") return BigInt(json);
  if (json === "NaN") return Number.NaN;
  if (json === "Infinity") return Number.POSITIVE_INFINITY;
  if (json === "-Infinity") return Number.NEGATIVE_INFINITY;
  return json as Scalar;
}

for (const source of sources) {
  describe(`fixtures: ${source.name}`, () => {
    const store = new LocalStore(source.root, { readOnly: true });
    for (const [name, m] of Object.entries(source.manifest.arrays)) {
      const path = name.replace(/^\//, "");
      if (isUnsupportedType(m.data_type)) {
        it(`${name} is refused with an "unsupported data type" error`, async () => {
          await assert.rejects(
            readArray(store, path),
            (e: unknown) =>
              e instanceof CodecError &&
              e.key === `${path}/zarr.json` &&
              e.message.includes("unsupported data type") &&
              e.message.includes(`${path}/zarr.json`),
          );
        });
        continue;
      }
      it(`${name} reads as zarr-python does`, async () => {
        const meta = await readArrayMetadata(store, path);
        assert.ok(meta !== undefined, "zarr.json found");
        assert.deepEqual(meta.shape, m.shape);
        assert.deepEqual(meta.chunkShape, m.chunk_grid_shape);
        assertSameScalar(meta.fillValue, expectedFill(m.fill_value, meta.dtype), "fill value");
        assert.deepEqual(meta.attributes, m.attributes);
        if (m.dimension_names !== undefined && m.dimension_names !== null) {
          assert.deepEqual(meta.dimensionNames, m.dimension_names);
        }
        // Chunk keys: every stored object is a key of the grid, and those listed by zarr-python exist.
        const grid = allIndices(gridShape(meta.shape, meta.chunkShape)).map((c) =>
          chunkKey(meta.chunkKeyEncoding, c),
        );
        const dir = join(source.root, path);
        const onDisk = (await listFiles(dir)).filter((k) => k !== "zarr.json");
        for (const k of onDisk) assert.ok(grid.includes(k), `stored object ${k} is a chunk key of the grid`);
        if (m.stored_keys !== undefined) assert.deepEqual(onDisk.sort(), [...m.stored_keys].sort());

        const array = await readArray(store, path, { metadata: meta });
        assert.deepEqual(array.shape, m.shape);
        // zarr-python's fixed_length_utf32 arrays are hashed as numpy's raw `<U n` buffer.
        const lengthBytes = (m.data_type as { configuration?: { length_bytes?: number } } | null)
          ?.configuration?.length_bytes;
        const fixedUtf32 = (m.data_type as { name?: string } | null)?.name === "fixed_length_utf32";
        const hash = fixedUtf32 ? utf32Sha256(array, (lengthBytes as number) / 4) : canonicalSha256(array);
        assert.equal(hash, m.data_sha256, "data_sha256");
        for (const s of m.samples) {
          const v = array.get(...s.index);
          const expected = s.value;
          if (typeof expected === "number" && typeof v === "bigint") assert.equal(v, BigInt(expected));
          else assert.deepEqual(sampleText(array, v), expected, `sample at [${s.index}]`);
        }
      });
    }
    it("reads every group's attributes", async () => {
      for (const [name, g] of Object.entries(source.manifest.groups ?? {})) {
        const group = await readGroup(store, name.replace(/^\//, ""));
        assert.ok(group !== undefined, `group ${name}`);
        assert.deepEqual(group.attributes, g.attributes);
      }
    });
  });
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(relative(dir, p).split("\\").join("/"));
    }
  };
  await walk(dir);
  return out;
}

// ---------------------------------------------------------------------------
// corrupted copies: errors name the key; the source is never touched

describe("fixtures: corrupted copies", () => {
  const zp = join(FIXTURES, "zarr-python-v3/v3.zarr");
  let tmp = "";
  const sourceHashes = new Map<string, string>();

  async function hashTree(dir: string): Promise<string> {
    const h = createHash("sha256");
    for (const f of (await listFiles(dir)).sort()) {
      h.update(f);
      h.update(await readFile(join(dir, f)));
    }
    return h.digest("hex");
  }

  /** Copies fixture arrays into a fresh temp root and returns a store on it. */
  async function copy(...paths: string[]): Promise<LocalStore> {
    tmp = await mkdtemp(join(tmpdir(), "zc-fixture-"));
    for (const p of paths) {
      if (!sourceHashes.has(p)) sourceHashes.set(p, await hashTree(join(zp, p)));
      await cp(join(zp, p), join(tmp, p), { recursive: true });
    }
    return new LocalStore(tmp);
  }

  async function flipByte(file: string, at: number): Promise<void> {
    const b = await readFile(file);
    const i = at < 0 ? b.length + at : at;
    b[i] = (b[i] as number) ^ 0xff;
    await writeFile(file, b);
  }

  const isCodecErrorNaming = (key: string) => (e: unknown) =>
    e instanceof CodecError &&
    isZCollectionError(e, "StoreError") &&
    e.key === key &&
    e.message.includes(key);

  after(async () => {
    for (const [p, h] of sourceHashes) assert.equal(await hashTree(join(zp, p)), h, `fixture ${p} untouched`);
    if (tmp !== "") await rm(tmp, { recursive: true, force: true });
  });

  it("flipped bytes in a zstd chunk → CodecError naming the chunk", async () => {
    const store = await copy("codecs/zstd_l3");
    await flipByte(join(tmp, "codecs/zstd_l3/c/1/1"), 0);
    await assert.rejects(readArray(store, "codecs/zstd_l3"), isCodecErrorNaming("codecs/zstd_l3/c/1/1"));
  });

  it("a truncated raw chunk → CodecError naming the chunk", async () => {
    const store = await copy("codecs/bytes_only");
    await truncate(join(tmp, "codecs/bytes_only/c/0/2"), 100);
    await assert.rejects(
      readArray(store, "codecs/bytes_only"),
      isCodecErrorNaming("codecs/bytes_only/c/0/2"),
    );
  });

  it("a flipped byte under crc32c → checksum CodecError naming the chunk", async () => {
    const store = await copy("codecs/crc32c");
    await flipByte(join(tmp, "codecs/crc32c/c/2/0"), 10);
    await assert.rejects(readArray(store, "codecs/crc32c"), isCodecErrorNaming("codecs/crc32c/c/2/0"));
  });

  it("a corrupted shard index → checksum CodecError naming the shard", async () => {
    const store = await copy("sharding/int32_1d_missing");
    await flipByte(join(tmp, "sharding/int32_1d_missing/c/0"), -10);
    await assert.rejects(
      readArray(store, "sharding/int32_1d_missing"),
      (e: unknown) =>
        isCodecErrorNaming("sharding/int32_1d_missing/c/0")(e) && /checksum/.test((e as Error).message),
    );
  });

  it("a shard truncated to less than its index → CodecError naming the shard", async () => {
    const store = await copy("sharding/int32_1d_missing");
    await truncate(join(tmp, "sharding/int32_1d_missing/c/0"), 20);
    await assert.rejects(
      readArray(store, "sharding/int32_1d_missing"),
      isCodecErrorNaming("sharding/int32_1d_missing/c/0"),
    );
  });

  it("a flipped byte inside an inner chunk → CodecError naming the shard", async () => {
    const store = await copy("zcollection_like/cloud_balanced_ssh");
    await flipByte(join(tmp, "zcollection_like/cloud_balanced_ssh/c/0/0"), 5);
    await assert.rejects(
      readArray(store, "zcollection_like/cloud_balanced_ssh"),
      isCodecErrorNaming("zcollection_like/cloud_balanced_ssh/c/0/0"),
    );
  });

  it("invalid JSON, missing members and a wrong node_type in zarr.json → CodecError naming it", async () => {
    const store = await copy("codecs/zstd_l3");
    const key = "codecs/zstd_l3/zarr.json";
    const original = await readFile(join(tmp, key), "utf8");
    const cases: [string, RegExp][] = [
      ["{ not json", /invalid JSON/],
      [original.replace('"shape"', '"shapes"'), /shape/],
      [original.replace('"fill_value"', '"fill"'), /fill_value/],
      [original.replace('"node_type": "array"', '"node_type": "table"'), /node_type/],
      [original.replace('"zarr_format": 3', '"zarr_format": 2'), /zarr_format/],
      [original.replace('"regular"', '"rectilinear"'), /chunk_grid/],
    ];
    for (const [text, pattern] of cases) {
      await writeFile(join(tmp, key), text);
      await assert.rejects(
        readArray(store, "codecs/zstd_l3"),
        (e: unknown) => isCodecErrorNaming(key)(e) && pattern.test((e as Error).message),
        pattern.source,
      );
    }
  });

  it("an unsupported codec → CodecError naming the key and the codec", async () => {
    const store = await copy("codecs/zstd_l3");
    const key = "codecs/zstd_l3/zarr.json";
    const text = (await readFile(join(tmp, key), "utf8")).replace('"zstd"', '"lz5"');
    await writeFile(join(tmp, key), text);
    await assert.rejects(
      readArray(store, "codecs/zstd_l3"),
      (e: unknown) => isCodecErrorNaming(key)(e) && (e as Error).message.includes("'lz5'"),
    );
  });

  it("a group read as an array (and the reverse) → CodecError naming the key", async () => {
    const store = new LocalStore(zp, { readOnly: true });
    await assert.rejects(readArrayMetadata(store, "codecs"), isCodecErrorNaming("codecs/zarr.json"));
    await assert.rejects(readGroup(store, "codecs/zstd_l3"), isCodecErrorNaming("codecs/zstd_l3/zarr.json"));
    assert.equal(await readArrayMetadata(store, "codecs/nothing"), undefined);
    assert.equal(await readGroup(store, "nothing"), undefined);
  });
});
