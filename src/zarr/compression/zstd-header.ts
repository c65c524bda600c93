/**
 * Parsing of zstd frame headers (RFC 8878 §3.1.1.1), shared by every zstd
 * backend: content size, checksum flag, header size.
 *
 * @module
 */

/** What a zstd frame header says (RFC 8878 §3.1.1.1). */
export interface ZstdFrameHeader {
  /** Decompressed size, `null` when the header does not say. */
  readonly contentSize: number | null;
  /** Whether a 4-byte content checksum follows the last block. */
  readonly checksum: boolean;
  /** Size of the header in bytes, magic number included. */
  readonly headerSize: number;
}

const MAGIC = [0x28, 0xb5, 0x2f, 0xfd] as const;

/**
 * Parses the header of the zstd frame at the start of `data`; `null` when
 * `data` does not start with a complete zstd frame header.
 */
export function zstdFrameHeader(data: Uint8Array): ZstdFrameHeader | null {
  if (data.length < 5) return null;
  for (let i = 0; i < 4; i++) if (data[i] !== MAGIC[i]) return null;
  const fhd = data[4] as number;
  const fcsFlag = fhd >>> 6;
  const singleSegment = (fhd >>> 5) & 1;
  const checksum = ((fhd >>> 2) & 1) === 1;
  const dictIdSize = [0, 1, 2, 4][fhd & 3] as number;
  const fcsSize = fcsFlag === 0 ? singleSegment : ([0, 2, 4, 8][fcsFlag] as number);
  let p = 5 + (singleSegment ? 0 : 1) + dictIdSize;
  const headerSize = p + fcsSize;
  if (data.length < headerSize) return null;
  let contentSize: number | null = null;
  if (fcsSize === 1) contentSize = data[p] as number;
  else if (fcsSize === 2) contentSize = ((data[p] as number) | ((data[p + 1] as number) << 8)) + 256;
  else if (fcsSize === 4)
    contentSize =
      ((data[p] as number) |
        ((data[p + 1] as number) << 8) |
        ((data[p + 2] as number) << 16) |
        ((data[p + 3] as number) << 24)) >>>
      0;
  else if (fcsSize === 8) {
    let v = 0;
    for (let k = 7; k >= 0; k--) v = v * 256 + (data[p + k] as number);
    contentSize = v;
  }
  p += fcsSize;
  return { contentSize, checksum, headerSize };
}
