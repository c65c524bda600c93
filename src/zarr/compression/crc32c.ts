/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), slicing-by-8.
 *
 * Used by the `crc32c` bytes-to-bytes codec (docs/format.md §6.6: 4-byte
 * little-endian checksum appended to the chunk) and by shard indexes
 * (docs/format.md §6.4). Pure JavaScript, no dependency; works in browsers.
 *
 * @module
 */

const POLY = 0x82f63b78;

/** 8 tables of 256 entries: `T[k * 256 + b]` is the CRC of byte `b` followed by `k` zero bytes. */
const TABLES: Int32Array = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n] as number;
    for (let k = 1; k < 8; k++) {
      c = (t[c & 0xff] as number) ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/**
 * CRC-32C of `data` as an unsigned 32-bit integer.
 *
 * `crc32c(b, crc32c(a))` equals `crc32c(a ++ b)`, so a checksum can be
 * computed over several pieces.
 *
 * @param data - bytes to checksum (any view; its offset is honoured).
 * @param previous - the CRC of the bytes preceding `data` (0 to start).
 * @example crc32c(new TextEncoder().encode("123456789")) === 0xe3069283
 */
export function crc32c(data: Uint8Array, previous = 0): number {
  const t = TABLES;
  let crc = ~previous;
  let i = 0;
  const n = data.length;
  const end8 = n - (n % 8);
  while (i < end8) {
    const lo =
      crc ^
      ((data[i] as number) |
        ((data[i + 1] as number) << 8) |
        ((data[i + 2] as number) << 16) |
        ((data[i + 3] as number) << 24));
    crc =
      (t[1792 + (lo & 0xff)] as number) ^
      (t[1536 + ((lo >>> 8) & 0xff)] as number) ^
      (t[1280 + ((lo >>> 16) & 0xff)] as number) ^
      (t[1024 + (lo >>> 24)] as number) ^
      (t[768 + (data[i + 4] as number)] as number) ^
      (t[512 + (data[i + 5] as number)] as number) ^
      (t[256 + (data[i + 6] as number)] as number) ^
      (t[data[i + 7] as number] as number);
    i += 8;
  }
  while (i < n) {
    crc = (t[(crc ^ (data[i] as number)) & 0xff] as number) ^ (crc >>> 8);
    i++;
  }
  return ~crc >>> 0;
}

/** `data` followed by its CRC-32C as 4 little-endian bytes (a new buffer). */
export function appendCrc32c(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 4);
  out.set(data);
  const c = crc32c(data);
  out[data.length] = c & 0xff;
  out[data.length + 1] = (c >>> 8) & 0xff;
  out[data.length + 2] = (c >>> 16) & 0xff;
  out[data.length + 3] = c >>> 24;
  return out;
}

/** Result of {@link checkCrc32c}: the payload (a view, no copy), the stored and the computed checksums. */
export interface Crc32cCheck {
  readonly payload: Uint8Array;
  readonly stored: number;
  readonly computed: number;
}

/**
 * Splits `data` into payload and trailing 4-byte little-endian CRC-32C and
 * computes the checksum of the payload. Returns `null` when `data` is
 * shorter than 4 bytes.
 */
export function checkCrc32c(data: Uint8Array): Crc32cCheck | null {
  if (data.length < 4) return null;
  const n = data.length - 4;
  const payload = data.subarray(0, n);
  const stored =
    ((data[n] as number) |
      ((data[n + 1] as number) << 8) |
      ((data[n + 2] as number) << 16) |
      ((data[n + 3] as number) << 24)) >>>
    0;
  return { payload, stored, computed: crc32c(payload) };
}
