/**
 * The `bytes` serializer (Zarr v3 core): raw element bytes in C order,
 * little- or big-endian for multi-byte types (docs/format.md §6.6 step 2).
 *
 * @module
 */

import { type AnyStorage, type DType, itemSize, storageConstructor, type TypedArray } from "../../dtype.js";
import { CodecError } from "../../errors.js";

/** Byte order of the `bytes` codec. */
export type Endian = "little" | "big";

/** Whether the platform stores typed arrays little-endian (every supported platform does). */
const HOST_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The `bytes` codec configuration for `dtype` as zarr-python writes it: no
 * configuration for 1-byte types, `{endian}` otherwise (docs/format.md §6.2).
 */
export function bytesCodecDescriptor(
  dtype: DType,
  endian: Endian = "little",
): {
  name: "bytes";
  configuration?: { endian: Endian };
} {
  return itemSize(dtype) === 1 ? { name: "bytes" } : { name: "bytes", configuration: { endian } };
}

/** Reads the `endian` of a `bytes` configuration (default little). @throws CodecError naming `key`. */
export function parseEndian(
  configuration: Readonly<Record<string, unknown>> | undefined,
  key: string,
): Endian {
  const e = configuration?.endian ?? "little";
  if (e !== "little" && e !== "big")
    throw new CodecError(`invalid bytes codec endian ${String(e)} in ${key}`, { key });
  return e;
}

/**
 * Encodes a typed array to bytes. The result may share memory with `data`
 * (little-endian, no copy) — callers hand in storage they own.
 *
 * @throws CodecError naming `key` for string storage (needs `vlen-utf8`).
 */
export function encodeBytesCodec(data: AnyStorage, endian: Endian, key: string): Uint8Array {
  if (Array.isArray(data)) {
    throw new CodecError(`the bytes codec cannot encode variable-length strings (${key}); use vlen-utf8`, {
      key,
    });
  }
  const typed = data as TypedArray;
  const bytes = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  const size = typed.BYTES_PER_ELEMENT;
  if (size === 1 || (endian === "little") === HOST_LITTLE) return bytes;
  return swapBytes(bytes, size);
}

/**
 * Decodes `length` elements of `dtype` from bytes (a fresh or aligned view;
 * bool bytes are normalised to 0/1).
 *
 * @throws CodecError naming `key` when the byte count is not `length × itemsize`.
 */
export function decodeBytesCodec(
  bytes: Uint8Array,
  dtype: DType,
  length: number,
  endian: Endian,
  key: string,
): AnyStorage {
  const size = itemSize(dtype);
  if (dtype === "string") {
    throw new CodecError(`the bytes codec cannot decode variable-length strings (${key})`, { key });
  }
  if (bytes.length !== length * size) {
    throw new CodecError(`chunk ${key} decodes to ${bytes.length} bytes; expected ${length * size}`, { key });
  }
  const Ctor = storageConstructor(dtype) as unknown as {
    new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray;
    new (length: number): TypedArray;
  };
  let src = bytes;
  if (size > 1 && (endian === "little") !== HOST_LITTLE) src = swapBytes(bytes, size);
  else if (bytes.byteOffset % size !== 0) src = bytes.slice();
  const out = new Ctor(src.buffer, src.byteOffset, length);
  if (dtype === "bool") {
    const b = out as Uint8Array;
    for (let i = 0; i < b.length; i++) if ((b[i] as number) > 1) b[i] = 1;
  }
  return out;
}

function swapBytes(bytes: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += size) {
    for (let k = 0; k < size; k++) out[i + k] = bytes[i + size - 1 - k] as number;
  }
  return out;
}
