/**
 * The bytes-to-bytes codecs (zstd, gzip, blosc, crc32c) the array pipeline
 * uses, re-exported from the compression module.
 *
 * @module
 */
export {
  BYTES_TO_BYTES_CODECS,
  type ByteCodecContext,
  crc32c,
  decodeChain,
  encodeChain,
} from "../compression/index.js";
