/**
 * How the chunks of a stored array are decoded, decided once per read from
 * its metadata: by a plain chunk pipeline or through its shards
 * ({@link arrayCodecs}), and whether a chunk's decoded bytes are its
 * elements exactly as laid out in memory ({@link rawByteChain}), in which
 * case a read decodes them straight into its output array. Shared by the
 * two read paths, ./read.ts and ./read-rows.ts.
 *
 * @module
 */

import type { CodecDescriptor } from "../codecs/index.js";
import { type DType, itemSize } from "../dtype.js";
import { CodecError } from "../errors.js";
import { ChunkPipeline } from "./codecs/pipeline.js";
import { BYTES_TO_BYTES_CODECS } from "./compression/index.js";
import type { ArrayMetadata } from "./metadata.js";
import { parseSharding, type ShardingCodec } from "./sharding.js";

/** How the chunks of an array are decoded: a plain pipeline or shards. */
export type ArrayCodecs =
  | { kind: "plain"; pipeline: ChunkPipeline }
  | { kind: "sharded"; sharding: ShardingCodec };

/** Whether typed arrays are little-endian on this platform. */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The bytes_to_bytes codecs of a chunk codec list whose decoded bytes are the
 * chunk's elements exactly as stored in memory (`bytes` in host byte order,
 * no array-to-array filter, a numeric or time dtype), or `null` when decoding
 * needs more than byte codecs. Chunks of such lists can be decoded straight
 * into the output array.
 */
export function rawByteChain(codecs: readonly CodecDescriptor[], dtype: DType): CodecDescriptor[] | null {
  if (dtype === "string" || dtype === "bool") return null;
  const [serializer, ...rest] = codecs;
  if (serializer?.name !== "bytes") return null;
  const endian = (serializer.configuration as { endian?: unknown } | undefined)?.endian ?? "little";
  if (itemSize(dtype) > 1 && (endian === "little") !== HOST_LITTLE_ENDIAN) return null;
  if (endian !== "little" && endian !== "big") return null;
  return rest.every((c) => BYTES_TO_BYTES_CODECS.includes(c.name)) ? rest : null;
}

/** The codec list of the chunks of an array: the inner codecs when sharded. */
export function chunkCodecs(meta: ArrayMetadata): readonly CodecDescriptor[] {
  const first = meta.codecs[0];
  if (first?.name !== "sharding_indexed") return meta.codecs;
  const inner = (first.configuration as { codecs?: unknown } | undefined)?.codecs;
  return Array.isArray(inner) ? (inner as CodecDescriptor[]) : [];
}

/**
 * The decoders of the chunks of an array.
 *
 * @param key the array's `zarr.json`, named in errors.
 * @throws CodecError for `sharding_indexed` combined with other codecs, or
 *   a codec or sharding configuration this library cannot decode.
 */
export function arrayCodecs(meta: ArrayMetadata, key: string): ArrayCodecs {
  const codecs = meta.codecs;
  const shardAt = codecs.findIndex((c) => c.name === "sharding_indexed");
  if (shardAt < 0)
    return { kind: "plain", pipeline: ChunkPipeline.fromCodecs(codecs, meta.dtype, meta.chunkShape, key) };
  if (codecs.length !== 1) {
    throw new CodecError(`unsupported codec list in ${key}: sharding_indexed combined with other codecs`, {
      key,
    });
  }
  return { kind: "sharded", sharding: parseSharding(codecs[0]!, meta.dtype, meta.chunkShape, key) };
}
