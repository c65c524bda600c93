/**
 * The `sharding_indexed` codec (docs/format.md §6.4, §6.6): a shard object holds the
 * encoded inner chunks followed (or preceded) by an index of N × (offset,
 * nbytes) uint64 pairs, N = inner chunks per shard in C order, with
 * (2^64−1, 2^64−1) for an absent inner chunk, protected by a CRC-32C.
 *
 * Writing: inner chunks in C order, index at the end, index codecs
 * `bytes(little)` + `crc32c` (zarr-python's defaults). Reading: any index
 * location, with or without the checksum (verified when present), and a
 * read plan that fetches only the byte ranges of the inner chunks needed,
 * merging neighbours.
 *
 * @module
 */

import type { CodecDescriptor } from "../codecs/index.js";
import type { DType } from "../dtype.js";
import { CodecError } from "../errors.js";
import { shapeSize } from "../ndarray.js";
import { crc32c } from "./codecs/compressors.js";
import { ChunkPipeline } from "./codecs/pipeline.js";
import { parseCodecDescriptor } from "./metadata.js";

/** Where the shard index sits in a shard object. */
export type IndexLocation = "start" | "end";

/** A parsed `sharding_indexed` configuration for one array. */
export interface ShardingCodec {
  /** Shape of the shard (the array's `chunk_grid` chunk shape). */
  readonly shardShape: readonly number[];
  /** Inner chunk shape. */
  readonly innerShape: readonly number[];
  /** Inner chunks per shard along each dimension. */
  readonly chunksPerShard: readonly number[];
  /** N: inner chunks per shard. */
  readonly count: number;
  /** Pipeline of the inner chunks. */
  readonly inner: ChunkPipeline;
  readonly indexLocation: IndexLocation;
  /** Whether the index is followed by its CRC-32C. */
  readonly indexChecksum: boolean;
  /** Byte order of the index integers. */
  readonly indexLittleEndian: boolean;
  /** Size of the encoded index in bytes (16·N, + 4 with the checksum). */
  readonly indexSize: number;
}

/** The index codecs written by this library (zarr-python's defaults). */
export const DEFAULT_INDEX_CODECS: readonly CodecDescriptor[] = [
  { name: "bytes", configuration: { endian: "little" } },
  { name: "crc32c" },
];

/** Marker of an absent inner chunk in a decoded index. */
export const EMPTY = -1;

/**
 * The `sharding_indexed` descriptor written in `zarr.json` (docs/format.md §6.4).
 *
 * @param innerShape inner chunk shape.
 * @param codecs inner codecs (filters, serializer, compressors).
 */
export function shardingDescriptor(
  innerShape: readonly number[],
  codecs: readonly CodecDescriptor[],
): CodecDescriptor {
  return {
    name: "sharding_indexed",
    configuration: {
      chunk_shape: [...innerShape],
      codecs: [...codecs],
      index_codecs: [...DEFAULT_INDEX_CODECS],
      index_location: "end",
    },
  };
}

/**
 * Parses a `sharding_indexed` codec for shards of `shardShape`.
 *
 * @param key the array's `zarr.json` key, named in errors.
 * @throws CodecError naming `key` when the inner chunk shape does not divide
 *   the shard shape, the index codecs are not `bytes` (+ `crc32c`), or the
 *   inner codecs are unsupported.
 */
export function parseSharding(
  descriptor: CodecDescriptor,
  dtype: DType,
  shardShape: readonly number[],
  key: string,
): ShardingCodec {
  const fail = (what: string): never => {
    throw new CodecError(`invalid sharding_indexed codec in ${key}: ${what}`, { key });
  };
  const cfg = (descriptor.configuration ?? {}) as Record<string, unknown>;
  const inner = cfg.chunk_shape;
  if (
    !Array.isArray(inner) ||
    inner.length !== shardShape.length ||
    !inner.every((c) => typeof c === "number" && Number.isSafeInteger(c) && c > 0)
  ) {
    return fail(`chunk_shape must be ${shardShape.length} positive integers`);
  }
  const innerShape = inner as number[];
  innerShape.forEach((c, d) => {
    if ((shardShape[d] as number) % c !== 0) {
      fail(`inner chunk ${c} does not divide the shard extent ${shardShape[d]} along dimension ${d}`);
    }
  });
  const codecsJson = cfg.codecs;
  if (!Array.isArray(codecsJson)) return fail("codecs must be a list");
  const codecs = codecsJson.map((c) => parseCodecDescriptor(c as never, fail));
  if (codecs.some((c) => c.name === "sharding_indexed")) {
    throw new CodecError(`unsupported codec 'sharding_indexed' nested in a shard in ${key}`, { key });
  }
  const pipeline = ChunkPipeline.fromCodecs(codecs, dtype, innerShape, key);

  const indexCodecsJson = cfg.index_codecs ?? DEFAULT_INDEX_CODECS;
  if (!Array.isArray(indexCodecsJson)) return fail("index_codecs must be a list");
  const indexCodecs = indexCodecsJson.map((c) => parseCodecDescriptor(c as never, fail));
  const first = indexCodecs[0];
  if (first === undefined || first.name !== "bytes") return fail("index_codecs must start with bytes");
  const endian = first.configuration?.endian ?? "little";
  if (endian !== "little" && endian !== "big") return fail(`invalid index endian ${String(endian)}`);
  const rest = indexCodecs.slice(1);
  if (rest.length > 1 || (rest.length === 1 && rest[0]?.name !== "crc32c")) {
    throw new CodecError(
      `unsupported shard index codecs ${rest.map((c) => `'${c.name}'`).join(", ")} in ${key} (only crc32c)`,
      { key },
    );
  }
  const location = cfg.index_location ?? "end";
  if (location !== "start" && location !== "end") return fail(`invalid index_location ${String(location)}`);

  const chunksPerShard = shardShape.map((s, d) => s / (innerShape[d] as number));
  const count = shapeSize(chunksPerShard);
  const indexChecksum = rest.length === 1;
  return {
    shardShape,
    innerShape,
    chunksPerShard,
    count,
    inner: pipeline,
    indexLocation: location,
    indexChecksum,
    indexLittleEndian: endian === "little",
    indexSize: 16 * count + (indexChecksum ? 4 : 0),
  };
}

/** A decoded shard index: byte offset and length of each inner chunk, {@link EMPTY} when absent. */
export interface ShardIndex {
  readonly offsets: Float64Array;
  readonly lengths: Float64Array;
}

const MAX_U64 = 0xffffffffffffffffn;

/**
 * Decodes the index bytes of a shard (exactly {@link ShardingCodec.indexSize}
 * bytes), verifying the CRC-32C when the codec has one.
 *
 * @param key the shard's key, named in errors.
 * @throws CodecError naming `key` for a wrong size, a checksum mismatch, a
 *   half-empty entry or offsets beyond 2^53.
 */
export function decodeShardIndex(bytes: Uint8Array, sharding: ShardingCodec, key: string): ShardIndex {
  if (bytes.length !== sharding.indexSize) {
    throw new CodecError(
      `corrupted shard ${key}: index of ${bytes.length} bytes; expected ${sharding.indexSize}`,
      {
        key,
      },
    );
  }
  const n = sharding.count;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (sharding.indexChecksum) {
    const stored = view.getUint32(16 * n, true);
    const actual = crc32c(bytes.subarray(0, 16 * n));
    if (stored !== actual) {
      throw new CodecError(`corrupted shard ${key}: index checksum mismatch (crc32c)`, { key });
    }
  }
  const le = sharding.indexLittleEndian;
  const offsets = new Float64Array(n);
  const lengths = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const off = view.getBigUint64(16 * i, le);
    const len = view.getBigUint64(16 * i + 8, le);
    if (off === MAX_U64 && len === MAX_U64) {
      offsets[i] = EMPTY;
      lengths[i] = EMPTY;
      continue;
    }
    if (off === MAX_U64 || len === MAX_U64 || off + len > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new CodecError(
        `corrupted shard ${key}: invalid index entry ${i} (offset ${off}, nbytes ${len})`,
        { key },
      );
    }
    offsets[i] = Number(off);
    lengths[i] = Number(len);
  }
  return { offsets, lengths };
}

/**
 * Assembles a shard object from the encoded inner chunks (C order of the
 * inner grid; `undefined` = empty): chunk bytes in order, then the index
 * (bytes little-endian) and its CRC-32C. Returns `undefined` when every
 * inner chunk is empty (the shard is not written, docs/format.md §6.6).
 */
export function assembleShard(
  chunks: readonly (Uint8Array | undefined)[],
  count: number,
): Uint8Array | undefined {
  let total = 0;
  let any = false;
  for (const c of chunks) {
    if (c !== undefined) {
      total += c.length;
      any = true;
    }
  }
  if (!any) return undefined;
  const indexBytes = 16 * count;
  const out = new Uint8Array(total + indexBytes + 4);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const c = chunks[i];
    const at = total + 16 * i;
    if (c === undefined) {
      view.setBigUint64(at, MAX_U64, true);
      view.setBigUint64(at + 8, MAX_U64, true);
      continue;
    }
    out.set(c, offset);
    view.setBigUint64(at, BigInt(offset), true);
    view.setBigUint64(at + 8, BigInt(c.length), true);
    offset += c.length;
  }
  view.setUint32(total + indexBytes, crc32c(out.subarray(total, total + indexBytes)), true);
  return out;
}

/** One ranged GET of a read plan and the inner chunks it serves. */
export interface RangeRead {
  /** First byte (absolute in the shard object). */
  readonly offset: number;
  /** Number of bytes. */
  readonly length: number;
  /** Inner chunk positions (C order in the shard) served by this range. */
  readonly chunks: readonly number[];
}

/**
 * Plans the ranged GETs that fetch the inner chunks `wanted` (positions in
 * the shard's C order) of a shard: absent chunks are skipped, chunks are
 * sorted by offset and neighbours closer than `maxGap` bytes share one range.
 * Pure: no I/O.
 */
export function planShardReads(index: ShardIndex, wanted: readonly number[], maxGap = 1 << 16): RangeRead[] {
  const present = wanted.filter((i) => index.offsets[i] !== EMPTY);
  present.sort((a, b) => (index.offsets[a] as number) - (index.offsets[b] as number));
  const plan: RangeRead[] = [];
  let cur: { offset: number; end: number; chunks: number[] } | undefined;
  for (const i of present) {
    const off = index.offsets[i] as number;
    const end = off + (index.lengths[i] as number);
    if (cur !== undefined && off - cur.end <= maxGap && off >= cur.offset) {
      cur.end = Math.max(cur.end, end);
      cur.chunks.push(i);
      continue;
    }
    if (cur !== undefined)
      plan.push({ offset: cur.offset, length: cur.end - cur.offset, chunks: cur.chunks });
    cur = { offset: off, end, chunks: [i] };
  }
  if (cur !== undefined) plan.push({ offset: cur.offset, length: cur.end - cur.offset, chunks: cur.chunks });
  return plan;
}
