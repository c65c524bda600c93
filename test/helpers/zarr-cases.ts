/**
 * Round-trip cases of the Zarr array layer, reusable over any Store
 * (memory here; file, S3 and Icechunk in the store tests): every dtype ×
 * {unsharded, sharded} × {bytes only, zstd, gzip, blosc, crc32c}, with
 * partial edge chunks and shards, all-fill chunks and shards, non-default
 * fill values (NaN, int64 min, NaT, uint64 max).
 *
 * Also the canonical value dump of the fixtures README (SHA-256 oracle).
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { type CodecDescriptor, CodecStack } from "../../src/codecs/index.js";
import { type DType, isBigIntDType, NAT, type Scalar } from "../../src/dtype.js";
import { NDArray, shapeSize } from "../../src/ndarray.js";
import type { Store } from "../../src/store/store.js";
import { readArray, readArrayMetadata, writeArray } from "../../src/zarr/index.js";

/** SHA-256 (hex) of the canonical dump of an array's values (fixtures/README.md). */
export function canonicalSha256(array: NDArray): string {
  const hash = createHash("sha256");
  const d = array.data;
  if (array.dtype === "string") {
    const enc = new TextEncoder();
    for (const s of d as string[]) {
      const b = enc.encode(s);
      const len = Buffer.alloc(4);
      len.writeUInt32LE(b.length);
      hash.update(len);
      hash.update(b);
    }
    return hash.digest("hex");
  }
  if (array.dtype === "float32" || array.dtype === "float64") {
    const f = (d as Float32Array | Float64Array).slice();
    const bits = array.dtype === "float32" ? new Uint32Array(f.buffer) : new BigUint64Array(f.buffer);
    for (let i = 0; i < f.length; i++) {
      if (Number.isNaN(f[i])) {
        if (bits instanceof Uint32Array) bits[i] = 0x7fc00000;
        else bits[i] = 0x7ff8000000000000n;
      }
    }
    hash.update(new Uint8Array(f.buffer));
    return hash.digest("hex");
  }
  const t = d as Exclude<typeof d, string[]>;
  hash.update(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
  return hash.digest("hex");
}

/**
 * SHA-256 (hex) of a string array as numpy holds it in a fixed-width `<U n`
 * array: each element as `width` UTF-32LE code points, NUL-padded (the
 * `sha256_utf32` of the pyzcollection fixtures, the `data_sha256` of
 * zarr-python's `fixed_length_utf32` arrays in the zarr fixtures).
 *
 * @throws when an element has more than `width` code points.
 */
export function utf32Sha256(array: NDArray, width: number): string {
  assert.equal(array.dtype, "string");
  const strings = array.data as string[];
  const buf = Buffer.alloc(strings.length * width * 4);
  strings.forEach((s, i) => {
    const points = [...s];
    assert.ok(points.length <= width, `element ${i} (${JSON.stringify(s)}) is wider than ${width}`);
    points.forEach((ch, k) => {
      buf.writeUInt32LE(ch.codePointAt(0) as number, (i * width + k) * 4);
    });
  });
  return createHash("sha256").update(buf).digest("hex");
}

/** One write/read round trip. */
export interface RoundTripCase {
  /** Unique test name. */
  readonly name: string;
  readonly dtype: DType;
  readonly data: NDArray;
  readonly chunks: readonly (number | null)[];
  readonly shards?: readonly (number | null)[];
  readonly codecs: CodecStack;
  readonly fillValue: Scalar | null;
  /** The fill value as decoded from zarr.json. */
  readonly expectedFill: Scalar;
  /** Chunk (or shard) keys that must exist after the write, sorted, relative to the array. */
  readonly expectedKeys: readonly string[];
  /** Dimension names written (none for 0-d arrays). */
  readonly dimensionNames: readonly string[];
}

/** The dtypes covered by the round trips. */
export const ROUND_TRIP_DTYPES: readonly DType[] = [
  "bool",
  "int8",
  "int16",
  "int32",
  "int64",
  "uint8",
  "uint16",
  "uint32",
  "uint64",
  "float32",
  "float64",
  "datetime64[ns]",
  "datetime64[s]",
  "timedelta64[ms]",
  "string",
];

/** The bytes-to-bytes chains covered. */
export const ROUND_TRIP_COMPRESSORS: Readonly<Record<string, readonly CodecDescriptor[]>> = {
  bytes: [],
  zstd: [{ name: "zstd", configuration: { level: 3, checksum: false } }],
  gzip: [{ name: "gzip", configuration: { level: 5 } }],
  blosc: [{ name: "blosc", configuration: { cname: "lz4", clevel: 5, shuffle: "shuffle" } }],
  crc32c: [{ name: "crc32c" }],
};

const SHAPE = [45, 7] as const;
const CHUNKS = [8, 3] as const;
const SHARDS = [16, 6] as const;
/** Rows entirely equal to the fill value: chunk rows 2 and 3, shard row 1. */
const FILL_ROWS: readonly [number, number] = [16, 32];

/** The fill value used for each dtype in the round trips (non-default where it matters). */
function fillFor(dtype: DType): { given: Scalar | null; decoded: Scalar } {
  switch (dtype) {
    case "float32":
    case "float64":
      return { given: Number.NaN, decoded: Number.NaN };
    case "int64":
      return { given: NAT, decoded: NAT };
    case "uint64":
      return { given: 2n ** 64n - 1n, decoded: 2n ** 64n - 1n };
    case "int16":
      return { given: -9999, decoded: -9999 };
    case "bool":
      return { given: null, decoded: false };
    case "string":
      return { given: null, decoded: "" };
    default:
      return dtype.startsWith("datetime64") || dtype.startsWith("timedelta64")
        ? { given: null, decoded: NAT }
        : { given: 7, decoded: 7 };
  }
}

/** Deterministic values (never equal to the fill) for element `i`. */
function valueFor(dtype: DType, i: number): Scalar {
  const r = ((i * 2654435761) >>> 0) % 1000;
  switch (dtype) {
    case "bool":
      return true;
    case "int8":
      return (r % 200) - 100 === 7 ? 8 : (r % 200) - 100;
    case "uint8":
      return r % 200 === 7 ? 8 : r % 200;
    case "float32":
      return Math.fround((r - 500) / 8);
    case "float64":
      return (r - 500) / 3;
    case "string":
      return i % 5 === 0 ? "héllo ☃" : `s${r}`;
    case "int64":
      return BigInt(r - 500) * 10n ** 12n;
    case "uint64":
      return BigInt(r) * 10n ** 15n;
    default:
      if (isBigIntDType(dtype)) return BigInt(r) * 1_000_000_007n + 1n;
      {
        const v = r - (dtype.startsWith("u") ? 0 : 300);
        return v === 7 ? 8 : v;
      }
  }
}

function makeData(dtype: DType, fill: Scalar): NDArray {
  const [rows, cols] = SHAPE;
  const values: Scalar[] = [];
  for (let i = 0; i < rows * cols; i++) {
    const row = Math.floor(i / cols);
    values.push(row >= FILL_ROWS[0] && row < FILL_ROWS[1] ? fill : valueFor(dtype, i));
  }
  return NDArray.from(values as never, { shape: [rows, cols], dtype });
}

/** Keys of the blocks of `block` (chunk or shard shape) holding at least one non-fill row. */
function expectedKeysFor(block: readonly number[]): string[] {
  const keys: string[] = [];
  const [rows, cols] = SHAPE;
  for (let i = 0; i * (block[0] as number) < rows; i++) {
    const r0 = i * (block[0] as number);
    const r1 = Math.min(rows, r0 + (block[0] as number));
    const allFill = r0 >= FILL_ROWS[0] && r1 <= FILL_ROWS[1];
    if (allFill) continue;
    for (let j = 0; j * (block[1] as number) < cols; j++) keys.push(`c/${i}/${j}`);
  }
  return keys.sort();
}

function stackFor(compressor: string, sharded: boolean): CodecStack {
  return new CodecStack({
    arrayToBytes: { name: "bytes", configuration: { endian: "little" } },
    bytesToBytes: ROUND_TRIP_COMPRESSORS[compressor] ?? [],
    sharded,
    shardTargetBytes: sharded ? 134217728 : null,
  });
}

/**
 * Every round-trip case: shape (45, 7), chunks (8, 3) (partial last chunk
 * along both axes), sharded cases with explicit shards (16, 6) (partial last
 * shards, inner chunks beyond the array), rows 16..31 equal to the fill value.
 */
export function roundTripCases(): RoundTripCase[] {
  const cases: RoundTripCase[] = [];
  for (const dtype of ROUND_TRIP_DTYPES) {
    const fill = fillFor(dtype);
    const data = makeData(dtype, fill.decoded);
    for (const sharded of [false, true]) {
      for (const compressor of Object.keys(ROUND_TRIP_COMPRESSORS)) {
        cases.push({
          name: `${dtype} ${sharded ? "sharded" : "unsharded"} ${compressor}`,
          dtype,
          data,
          chunks: CHUNKS,
          ...(sharded ? { shards: SHARDS } : {}),
          codecs: stackFor(compressor, sharded),
          fillValue: fill.given,
          expectedFill: fill.decoded,
          expectedKeys: expectedKeysFor(sharded ? SHARDS : CHUNKS),
          dimensionNames: ["time", "x"],
        });
      }
    }
  }
  const local = stackFor("zstd", false);
  const cloud = stackFor("zstd", true);
  cases.push(
    {
      name: "float64 0-d",
      dtype: "float64",
      data: NDArray.from(new Float64Array([3.25]), { shape: [] }),
      chunks: [],
      codecs: cloud,
      fillValue: Number.NaN,
      expectedFill: Number.NaN,
      expectedKeys: ["c"],
      dimensionNames: [],
    },
    {
      name: "datetime64[ns] 0-d equal to its NaT fill",
      dtype: "datetime64[ns]",
      data: NDArray.from(new BigInt64Array([NAT]), { shape: [], dtype: "datetime64[ns]" }),
      chunks: [],
      codecs: local,
      fillValue: null,
      expectedFill: NAT,
      expectedKeys: [],
      dimensionNames: [],
    },
    {
      name: "int32 entirely fill, sharded",
      dtype: "int32",
      data: NDArray.full("int32", [40, 3], -1),
      chunks: [4, null],
      shards: [20, null],
      codecs: cloud,
      fillValue: -1,
      expectedFill: -1,
      expectedKeys: [],
      dimensionNames: ["time", "x"],
    },
    {
      name: "string 1-d with an empty chunk",
      dtype: "string",
      data: NDArray.from(["a", "", "", "", "dé"]),
      chunks: [2],
      codecs: local,
      fillValue: null,
      expectedFill: "",
      expectedKeys: ["c/0", "c/2"],
      dimensionNames: ["time"],
    },
  );
  return cases;
}

/** Asserts two scalars are equal, NaN equal to NaN. */
export function assertSameScalar(actual: Scalar, expected: Scalar, what: string): void {
  if (typeof expected === "number" && Number.isNaN(expected)) {
    assert.ok(
      typeof actual === "number" && Number.isNaN(actual),
      `${what}: expected NaN, got ${String(actual)}`,
    );
  } else {
    assert.equal(actual, expected, what);
  }
}

/**
 * Writes a case at `path` of `store`, checks the stored keys, the metadata
 * and the values read back (canonical SHA-256 and element by element).
 */
export async function runRoundTrip(store: Store, path: string, c: RoundTripCase): Promise<void> {
  const meta = await writeArray(store, path, c.data, {
    dimensionNames: c.dimensionNames,
    chunks: c.chunks,
    ...(c.shards === undefined ? {} : { shards: c.shards }),
    codecs: c.codecs,
    fillValue: c.fillValue as never,
    attributes: { case: c.name },
  });
  const keys = (await store.list(path)).map((k) => k.slice(path.length + 1)).filter((k) => k !== "zarr.json");
  assert.deepEqual(keys.sort(), [...c.expectedKeys], "stored chunk keys");
  const read = await readArrayMetadata(store, path);
  assert.ok(read !== undefined);
  assert.deepEqual(read.shape, c.data.shape);
  assert.equal(read.dtype, c.dtype);
  assert.deepEqual(
    read.chunkShape,
    (c.shards ?? c.chunks).map((v, d) => v ?? (c.data.shape[d] as number)),
  );
  assert.deepEqual(read.dimensionNames, c.dimensionNames.length === 0 ? undefined : c.dimensionNames);
  assert.deepEqual(read.attributes, { case: c.name });
  assertSameScalar(read.fillValue, c.expectedFill, "fill value");
  assertSameScalar(meta.fillValue, c.expectedFill, "returned fill value");
  const back = await readArray(store, path);
  assert.equal(back.dtype, c.dtype);
  assert.deepEqual(back.shape, c.data.shape);
  assert.equal(canonicalSha256(back), canonicalSha256(c.data));
  for (let i = 0; i < shapeSize(c.data.shape); i++) {
    assertSameScalar(back.at(i), c.data.at(i), `element ${i}`);
  }
}
