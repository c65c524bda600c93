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
 * zstd's worst-case frame size for `size` input bytes (`ZSTD_COMPRESSBOUND`
 * of zstd.h): a target of this size always holds the frame.
 */
export function zstdCompressBound(size: number): number {
  const small = 128 * 1024;
  return size + Math.floor(size / 256) + (size < small ? Math.floor((small - size) / 2048) : 0);
}

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

/** One frame of a zstd input, as found by {@link zstdFrameSpans}. */
export interface ZstdFrameSpan {
  /** Offset of the frame's first byte (its magic number). */
  readonly start: number;
  /** Offset just past its last byte (the checksum when present). */
  readonly end: number;
  /** Content size declared by its header; `null` when it declares none. 0 for skippable frames. */
  readonly contentSize: number | null;
  /** A skippable frame (RFC 8878 §3.1.2): metadata that decodes to nothing. */
  readonly skippable: boolean;
}

/** Largest decoded size of one block (RFC 8878 §3.1.1.2.3, `Block_Maximum_Size`). */
const BLOCK_MAX = 128 * 1024;

/**
 * Splits `data` into its zstd frames by walking frame headers and block
 * headers only (nothing is decompressed): the frames must tile the input
 * exactly. For decoders that stop silently at the end of a truncated frame
 * or ignore what follows the first frame (`node:zlib`).
 *
 * @throws Error for a truncated frame, bytes after the last frame that are
 *   not a frame, a reserved block type, or a declared content size its
 *   blocks cannot hold.
 */
export function zstdFrameSpans(data: Uint8Array): ZstdFrameSpan[] {
  const spans: ZstdFrameSpan[] = [];
  const u8 = (i: number) => data[i] as number;
  let p = 0;
  while (p < data.length) {
    const start = p;
    if (
      data.length - p >= 8 &&
      (u8(p) & 0xf0) === 0x50 &&
      u8(p + 1) === 0x2a &&
      u8(p + 2) === 0x4d &&
      u8(p + 3) === 0x18
    ) {
      const size = (u8(p + 4) | (u8(p + 5) << 8) | (u8(p + 6) << 16) | (u8(p + 7) << 24)) >>> 0;
      p += 8 + size;
      if (p > data.length) throw new Error("truncated zstd skippable frame");
      spans.push({ start, end: p, contentSize: 0, skippable: true });
      continue;
    }
    const header = zstdFrameHeader(data.subarray(p));
    if (header === null) {
      throw new Error(
        start === 0
          ? "not a zstd frame (bad magic number or header)"
          : `${data.length - start} bytes after the last zstd frame are not a zstd frame`,
      );
    }
    p += header.headerSize;
    let capacity = 0;
    for (;;) {
      if (p + 3 > data.length) throw new Error("truncated zstd frame (block header missing)");
      const v = u8(p) | (u8(p + 1) << 8) | (u8(p + 2) << 16);
      const last = (v & 1) === 1;
      const type = (v >>> 1) & 3;
      const size = v >>> 3;
      if (type === 3) throw new Error("corrupt zstd frame (reserved block type)");
      if (type === 2 && size > BLOCK_MAX) throw new Error("corrupt zstd frame (oversized block)");
      p += 3 + (type === 1 ? 1 : size);
      capacity += type === 2 ? BLOCK_MAX : size;
      if (p > data.length) throw new Error("truncated zstd frame (block cut short)");
      if (last) break;
    }
    if (header.checksum) {
      p += 4;
      if (p > data.length) throw new Error("truncated zstd frame (checksum missing)");
    }
    if (header.contentSize !== null && header.contentSize > capacity) {
      throw new Error(
        `corrupt zstd frame (declares ${header.contentSize} bytes, its blocks hold at most ${capacity})`,
      );
    }
    spans.push({ start, end: p, contentSize: header.contentSize, skippable: false });
  }
  return spans;
}
