/**
 * zarr-python's `fixed_length_utf32` data type (numpy `<U n`), read into our
 * `string` dtype (JS `string[]`).
 *
 * An element is `length_bytes / 4` UTF-32 code units in the byte order of the
 * `bytes` codec, padded with U+0000; the padding is stripped on decode, as
 * numpy does (`"ab\0\0"` is `"ab"`; a NUL inside a string is kept). The
 * Python zcollection writes its `str` variables this way (schema dtype
 * `"<U0"`), with `length_bytes` = 4 × the widest string of each insert.
 *
 * Hook: {@link bindFixedLengthUtf32} runs when `zarr.json` is parsed
 * (../metadata.ts). It copies `length_bytes` into the configuration of the
 * array's `bytes` serializer — in the plain codec list and in the inner codecs
 * of `sharding_indexed`, never in the shard index codecs — so that the chunk
 * pipeline (./pipeline.ts), which only sees the codecs and the in-memory
 * dtype, knows the element width: `bytes` over `string` means fixed-width
 * UTF-32, `vlen-utf8` over `string` variable-length UTF-8.
 *
 * We read this encoding but do not choose it when writing: see
 * `effectiveCodecs` in ./pipeline.ts for why string arrays are always written
 * with the `string` data type and the `vlen-utf8` codec.
 *
 * @module
 */

import type { CodecDescriptor } from "../../codecs/index.js";
import { isFixedUtf32Length } from "../../dtype.js";
import { CodecError } from "../../errors.js";
import type { Endian } from "./bytes.js";

/** Key of the `bytes` configuration that carries the element width once bound (never written to a store). */
const LENGTH_KEY = "length_bytes";

/**
 * The element width carried by a `bytes` serializer configuration bound by
 * {@link bindFixedLengthUtf32}, or `undefined` for a plain `bytes` codec
 * (or an invalid width).
 */
export function boundLengthBytes(
  configuration: Readonly<Record<string, unknown>> | undefined,
): number | undefined {
  const n = configuration?.[LENGTH_KEY];
  return isFixedUtf32Length(n) ? n : undefined;
}

/**
 * The codec list of a `fixed_length_utf32` array with `length_bytes` added to
 * the configuration of its `bytes` serializer (also inside
 * `sharding_indexed`'s inner codecs; the index codecs are left alone).
 * Other codecs are returned as they are; the input is not modified.
 */
export function bindFixedLengthUtf32(
  codecs: readonly CodecDescriptor[],
  lengthBytes: number,
): CodecDescriptor[] {
  return codecs.map((codec) => {
    if (codec.name === "bytes") {
      return { name: "bytes", configuration: { ...(codec.configuration ?? {}), [LENGTH_KEY]: lengthBytes } };
    }
    if (codec.name === "sharding_indexed" && codec.configuration !== undefined) {
      const inner = codec.configuration.codecs;
      if (!Array.isArray(inner)) return codec;
      const bound = inner.map((c: unknown) => {
        if (c === "bytes") return { name: "bytes", configuration: { [LENGTH_KEY]: lengthBytes } };
        if (typeof c === "object" && c !== null && (c as CodecDescriptor).name === "bytes") {
          const cfg = (c as CodecDescriptor).configuration ?? {};
          return { name: "bytes", configuration: { ...cfg, [LENGTH_KEY]: lengthBytes } };
        }
        return c;
      });
      return { name: codec.name, configuration: { ...codec.configuration, codecs: bound } };
    }
    return codec;
  });
}

/**
 * A fill value as numpy holds it in a `<U n` array of `lengthBytes / 4`
 * code points: cut to that many code points, trailing NULs stripped.
 */
export function fitFixedUtf32(value: string, lengthBytes: number): string {
  const width = lengthBytes / 4;
  let out = "";
  let k = 0;
  for (const ch of value) {
    if (k === width) break;
    out += ch;
    k++;
  }
  return out.replace(/\0+$/, "");
}

/** UTF-16 code units to a string, in slices small enough for `String.fromCharCode`'s arguments. */
function unitsToString(units: Uint16Array, n: number): string {
  const SLICE = 4096;
  if (n <= SLICE) return String.fromCharCode(...units.subarray(0, n));
  let s = "";
  for (let i = 0; i < n; i += SLICE) s += String.fromCharCode(...units.subarray(i, Math.min(n, i + SLICE)));
  return s;
}

/**
 * Decodes `count` elements of `lengthBytes` bytes each (UTF-32 in `endian`
 * byte order, NUL-padded) into strings, trailing NULs stripped. Code points
 * of the surrogate range are kept as lone surrogates (numpy allows them).
 *
 * @throws CodecError naming `key` when the byte count is not
 *   `count × lengthBytes` or a unit is above U+10FFFF.
 */
export function decodeFixedUtf32(
  bytes: Uint8Array,
  count: number,
  lengthBytes: number,
  endian: Endian,
  key: string,
): string[] {
  if (bytes.length !== count * lengthBytes) {
    throw new CodecError(
      `chunk ${key} decodes to ${bytes.length} bytes; expected ${count * lengthBytes} ` +
        `(${count} fixed_length_utf32 elements of ${lengthBytes} bytes)`,
      { key },
    );
  }
  const out = new Array<string>(count);
  if (lengthBytes === 0) return out.fill("");
  const width = lengthBytes / 4;
  const little = endian === "little";
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const units = new Uint16Array(width * 2);
  for (let i = 0; i < count; i++) {
    const base = i * lengthBytes;
    let end = width;
    while (end > 0 && view.getUint32(base + (end - 1) * 4, little) === 0) end--;
    let n = 0;
    for (let k = 0; k < end; k++) {
      const cp = view.getUint32(base + k * 4, little);
      if (cp < 0x10000) {
        units[n++] = cp;
      } else if (cp <= 0x10ffff) {
        const v = cp - 0x10000;
        units[n++] = 0xd800 + (v >> 10);
        units[n++] = 0xdc00 + (v & 0x3ff);
      } else {
        throw new CodecError(
          `corrupted fixed_length_utf32 chunk ${key}: element ${i} holds 0x${cp.toString(16)}, not a Unicode code point`,
          { key },
        );
      }
    }
    out[i] = n === 0 ? "" : unitsToString(units, n);
  }
  return out;
}

/**
 * Encodes strings as `fixed_length_utf32` elements of `lengthBytes` bytes
 * (NUL-padded, `endian` byte order).
 *
 * @throws CodecError naming `key` when a string has more code points than
 *   `lengthBytes / 4` (numpy would truncate it silently; we refuse).
 */
export function encodeFixedUtf32(
  data: readonly string[],
  lengthBytes: number,
  endian: Endian,
  key: string,
): Uint8Array {
  const width = lengthBytes / 4;
  const little = endian === "little";
  const out = new Uint8Array(data.length * lengthBytes);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) {
    const base = i * lengthBytes;
    let k = 0;
    for (const ch of data[i] as string) {
      if (k === width) {
        throw new CodecError(
          `cannot encode chunk ${key}: element ${i} has more than ${width} code points (fixed_length_utf32 of ${lengthBytes} bytes)`,
          { key },
        );
      }
      view.setUint32(base + k * 4, ch.codePointAt(0) as number, little);
      k++;
    }
  }
  return out;
}
