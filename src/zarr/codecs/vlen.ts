/**
 * The `vlen-utf8` serializer (and `vlen-bytes` for reading): a chunk is a
 * uint32 LE item count, then per item a uint32 LE byte length and the bytes
 * (docs/format.md §6.6).
 *
 * @module
 */

import { CodecError } from "../../errors.js";

const encoder = new TextEncoder();

/** Encodes strings as `vlen-utf8`. */
export function encodeVlenUtf8(data: readonly string[]): Uint8Array {
  const parts = data.map((s) => encoder.encode(s));
  let total = 4;
  for (const p of parts) total += 4 + p.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length, true);
  let o = 4;
  for (const p of parts) {
    view.setUint32(o, p.length, true);
    out.set(p, o + 4);
    o += 4 + p.length;
  }
  return out;
}

/**
 * Decodes a `vlen-utf8` (or `vlen-bytes`, read as UTF-8) chunk of `length` items.
 *
 * @throws CodecError naming `key` when the count differs, a length runs past
 *   the end, bytes are left over or the UTF-8 is invalid.
 */
export function decodeVlenUtf8(bytes: Uint8Array, length: number, key: string): string[] {
  const fail = (what: string): never => {
    throw new CodecError(`corrupted vlen-utf8 chunk ${key}: ${what}`, { key });
  };
  if (bytes.length < 4) fail("shorter than its header");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(0, true);
  if (count !== length) fail(`holds ${count} items; expected ${length}`);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const out: string[] = new Array(count);
  let o = 4;
  for (let i = 0; i < count; i++) {
    if (o + 4 > bytes.length) fail(`item ${i} runs past the end`);
    const n = view.getUint32(o, true);
    o += 4;
    if (o + n > bytes.length) fail(`item ${i} runs past the end`);
    try {
      out[i] = decoder.decode(bytes.subarray(o, o + n));
    } catch {
      fail(`item ${i} is not valid UTF-8`);
    }
    o += n;
  }
  if (o !== bytes.length) fail(`${bytes.length - o} trailing bytes`);
  return out;
}
