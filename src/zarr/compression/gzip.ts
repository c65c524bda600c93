/**
 * The `gzip` bytes-to-bytes codec (docs/format.md §6.6: one gzip member),
 * configuration `{level}` (0–9, default 5 like zarr-python).
 *
 * Node: `node:zlib` (native zlib, loaded lazily). Elsewhere (browsers):
 * `fflate` (pure JavaScript, a few kB once tree-shaken).
 *
 * @module
 */

import { IS_NODE, importNodeOnly } from "./runtime.js";

interface GzipImpl {
  gzip(data: Uint8Array, level: number): Uint8Array;
  gunzip(data: Uint8Array): Uint8Array;
}

let impl: Promise<GzipImpl> | undefined;

function load(): Promise<GzipImpl> {
  impl ??= (async (): Promise<GzipImpl> => {
    if (IS_NODE) {
      const zlib = await importNodeOnly<typeof import("node:zlib")>("node:zlib");
      const own = (b: Uint8Array): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      return {
        gzip: (d, level) => own(zlib.gzipSync(d, { level })),
        gunzip: (d) => own(zlib.gunzipSync(d)),
      };
    }
    const { gunzipSync, gzipSync } = await import("./gzip-fflate.js");
    return {
      gzip: (d, level) => gzipSync(d, { level: level as 0 }),
      gunzip: (d) => gunzipSync(d),
    };
  })();
  return impl;
}

/** Compresses `data` into one gzip member at `level` (0–9). */
export async function gzipEncode(data: Uint8Array, level: number): Promise<Uint8Array> {
  return (await load()).gzip(data, level);
}

/** Decompresses gzip member(s). Throws on corrupt or truncated input. */
export async function gzipDecode(data: Uint8Array): Promise<Uint8Array> {
  return (await load()).gunzip(data);
}
