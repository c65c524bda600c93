/**
 * The Zarr v3 array layer: `zarr.json` metadata, chunk codecs, sharding, and
 * whole-array write/read on a store (docs/format.md §5, §6).
 *
 * @module
 */

export { bytesCodecDescriptor, type Endian } from "./codecs/bytes.js";
export {
  ARRAY_TO_ARRAY_CODECS,
  ARRAY_TO_BYTES_CODECS,
  type ChunkContext,
  ChunkPipeline,
  effectiveCodecs,
} from "./codecs/pipeline.js";
export { decodeVlenUtf8, encodeVlenUtf8 } from "./codecs/vlen.js";
export { allIndices, copyBox, gridShape, isAllFill } from "./grid.js";
export { ensureParentGroups, readGroup, writeGroup } from "./group.js";
export { type ArrayLayout, arrayLayout } from "./layout.js";
export {
  type ArrayMetadata,
  type ArrayMetadataInput,
  arrayMetadataText,
  type ChunkKeyEncoding,
  chunkKey,
  DEFAULT_CHUNK_KEY_ENCODING,
  decodeFillValue,
  defaultFillValue,
  encodeArrayMetadata,
  encodeFillValue,
  encodeGroupMetadata,
  type GroupMetadata,
  metadataKey,
  type NodeMetadata,
  normalizeFillValue,
  parseNodeDocument,
  parseNodeMetadata,
  pythonFloatRepr,
} from "./metadata.js";
export { type ReadArrayOptions, readArray, readArrayMetadata } from "./read.js";
export {
  normalizeRowRanges,
  planRowSpans,
  type RowRange,
  type RowSpan,
  readArrayRanges,
} from "./read-selection.js";
export type { ShardIndexCache } from "./shard-read.js";
export {
  assembleShard,
  DEFAULT_INDEX_CODECS,
  decodeShardIndex,
  EMPTY,
  type IndexLocation,
  parseSharding,
  planShardReads,
  type RangeRead,
  type ShardIndex,
  type ShardingCodec,
  shardingDescriptor,
} from "./sharding.js";
export {
  type ChunkFailure,
  VERIFY_RANGE_BYTES,
  type VerifyArrayOptions,
  type VerifyArrayResult,
  verifyArray,
} from "./verify.js";
export { type WriteArrayOptions, writeArray } from "./write.js";
