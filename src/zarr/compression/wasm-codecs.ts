/**
 * `zcollection/wasm-codecs`: opt-in WebAssembly codecs for browsers.
 *
 * Browser builds decode zstd with the small `fzstd` and leave numcodecs'
 * WebAssembly (≈ 1.3 MB: libzstd and c-blosc) out, so they neither encode
 * zstd nor code blosc. Importing this module brings numcodecs into the
 * bundle and registers it: zstd then encodes and decodes with WebAssembly,
 * and blosc works. Under Node it changes nothing that matters (Node loads
 * numcodecs by itself when neither Node's built-in zstd nor `zstd-napi` is there).
 *
 * @example
 * import "zcollection/wasm-codecs";   // before the first chunk is coded
 * import { createCollection } from "zcollection";
 *
 * @module
 */

import { registerWasmBlosc } from "./blosc.js";
import { registerWasmZstd } from "./zstd.js";

/**
 * Registers numcodecs' WebAssembly zstd and blosc for this thread (done once
 * on import; idempotent).
 */
export function enableWasmCodecs(): void {
  registerWasmZstd(() => import("numcodecs/zstd"));
  registerWasmBlosc(() => import("numcodecs/blosc"));
}

enableWasmCodecs();
