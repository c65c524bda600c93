/**
 * The `zlib` zstd backend: Node's built-in Zstandard (`node:zlib`
 * `zstdCompressSync` / `zstdDecompressSync`, Node ≥ 22.15 and ≥ 23.8),
 * libzstd compiled into Node itself — native speed without installing or
 * compiling anything.
 *
 * What this module adds around `node:zlib`:
 * - frames always carry the content size (`pledgedSrcSize`) and, on request,
 *   the content checksum, like the other backends;
 * - `node:zlib` stops silently at the end of a truncated frame and decodes
 *   only the first of concatenated frames (ignoring what follows): the input
 *   is first split into frames by walking block headers
 *   ({@link zstdFrameSpans}), which rejects truncated input and trailing
 *   garbage, and each frame is decoded on its own;
 * - outputs are plain `Uint8Array`s over an ArrayBuffer of their own (a
 *   worker can transfer them): one output chunk sized to the result, copied
 *   only when `node:zlib` returns a view on a larger buffer.
 *
 * `node:zlib` is loaded on first use through `importNodeOnly`: browser
 * bundles never see it (this small module is in them, and returns `null`).
 *
 * @module
 */

import { IS_NODE, importNodeOnly } from "./runtime.js";
import type { ZstdBackend } from "./zstd.js";
import { zstdCompressBound, zstdFrameSpans } from "./zstd-header.js";

/** The part of `node:zlib` used here (not in `@types/node` 20). */
interface ZlibZstd {
  zstdCompressSync(
    data: Uint8Array,
    options: { chunkSize?: number; pledgedSrcSize?: number; params?: Record<number, number> },
  ): Uint8Array;
  zstdDecompressSync(data: Uint8Array, options?: { chunkSize?: number }): Uint8Array;
  constants: {
    ZSTD_c_compressionLevel: number;
    ZSTD_c_checksumFlag: number;
    ZSTD_c_contentSizeFlag: number;
    ZSTD_c_targetLength: number;
  };
}

/** zstd's level range (`ZSTD_minCLevel()` = -(1 << 17), `ZSTD_maxCLevel()` = 22). */
const MIN_LEVEL = -131072;
const MAX_LEVEL = 22;
/** `node:zlib`'s smallest output chunk (`Z_MIN_CHUNK`). */
const MIN_CHUNK = 64;
/** Output chunks above this are not allocated in one piece ahead of decoding (a header may lie). */
const MAX_CHUNK = 256 * 1024 * 1024;

/** `b` itself when it owns its whole ArrayBuffer, else a copy that does; never a Buffer. */
function owned(b: Uint8Array): Uint8Array {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength) {
    return new Uint8Array(b.buffer, 0, b.byteLength);
  }
  const out = new Uint8Array(b.byteLength);
  out.set(b);
  return out;
}

/**
 * `node:zlib` parameters for zstd level `level`. 0 is zstd's default level
 * (3), as in the other backends. `node:zlib` takes a parameter of -1 for
 * "not set" (level 3), so level -1 is written as what libzstd makes of it:
 * level -2's parameters with an acceleration (target length) of 1.
 */
function levelParams(C: ZlibZstd["constants"], level: number): Record<number, number> {
  const l = Math.min(MAX_LEVEL, Math.max(MIN_LEVEL, level));
  if (l === -1) return { [C.ZSTD_c_compressionLevel]: -2, [C.ZSTD_c_targetLength]: 1 };
  return { [C.ZSTD_c_compressionLevel]: l };
}

function zlibBackend(z: ZlibZstd): ZstdBackend {
  const C = z.constants;
  const decodeFrame = (frame: Uint8Array, size: number | null): Uint8Array => {
    const options = size === null ? {} : { chunkSize: Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, size)) };
    const out = z.zstdDecompressSync(frame, options);
    if (size !== null && out.length !== size) {
      throw new Error(`frame content size ${size} but ${out.length} bytes decoded`);
    }
    return owned(out);
  };
  return {
    name: "zlib",
    compress(data, level, checksum) {
      const frame = z.zstdCompressSync(data, {
        // One output chunk: no concatenation of pieces.
        chunkSize: Math.max(MIN_CHUNK, zstdCompressBound(data.length)),
        pledgedSrcSize: data.length,
        params: {
          ...levelParams(C, level),
          [C.ZSTD_c_checksumFlag]: checksum ? 1 : 0,
          [C.ZSTD_c_contentSizeFlag]: 1,
        },
      });
      return owned(frame);
    },
    decompress(data) {
      const spans = zstdFrameSpans(data).filter((s) => !s.skippable);
      if (spans.length === 1) {
        const s = spans[0] as (typeof spans)[number];
        return decodeFrame(data.subarray(s.start, s.end), s.contentSize);
      }
      const parts = spans.map((s) => decodeFrame(data.subarray(s.start, s.end), s.contentSize));
      const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let o = 0;
      for (const p of parts) {
        out.set(p, o);
        o += p.length;
      }
      return out;
    },
  };
}

let zlib: Promise<ZstdBackend | null> | undefined;

/**
 * The backend on Node's built-in zstd when the runtime has it (Node ≥ 22.15
 * or ≥ 23.8), else `null` (older Node, browsers).
 */
export function zlibZstdBackend(): Promise<ZstdBackend | null> {
  zlib ??= (async () => {
    if (!IS_NODE) return null;
    try {
      const z = await importNodeOnly<Partial<ZlibZstd>>("node:zlib");
      if (typeof z.zstdCompressSync !== "function" || typeof z.zstdDecompressSync !== "function") return null;
      if (z.constants?.ZSTD_c_compressionLevel === undefined || z.constants.ZSTD_c_targetLength === undefined)
        return null;
      return zlibBackend(z as ZlibZstd);
    } catch {
      return null;
    }
  })();
  return zlib;
}
