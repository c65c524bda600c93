/**
 * The browser's zstd backend: decoding with `fzstd` (pure JavaScript,
 * ≈ 8 kB gzipped) instead of numcodecs' 1.3 MB WebAssembly build of libzstd.
 *
 * `fzstd` decodes only, and skips frame checksums: this backend verifies
 * them itself (low 32 bits of XXH64 of the content, RFC 8878 §3.1.1) for
 * single-frame input, which is what every chunk of the format is. Encoding
 * throws an error naming the limitation: browser builds read collections;
 * write them from Node (native or WebAssembly zstd).
 *
 * `fzstd` is imported on first use, so Node never loads it unless this
 * backend is forced (tests).
 *
 * @module
 */

import { xxh64 } from "./xxh64.js";
import type { ZstdBackend } from "./zstd.js";
import { zstdFrameHeader } from "./zstd-header.js";

type Fzstd = typeof import("fzstd");
let fzstdModule: Promise<Fzstd> | undefined;

function load(): Promise<Fzstd> {
  fzstdModule ??= import("fzstd");
  return fzstdModule;
}

/**
 * Checks the content checksum of a single-frame input whose header has one.
 * Inputs of several frames (the output longer than the first frame
 * declares, or no declared size) are not checked: the trailing 4 bytes would
 * be the last frame's checksum only.
 *
 * @throws Error on a mismatch.
 */
function verifyChecksum(frame: Uint8Array, content: Uint8Array): void {
  const header = zstdFrameHeader(frame);
  if (header === null || !header.checksum || header.contentSize !== content.length) return;
  const n = frame.length;
  if (n < header.headerSize + 4) throw new Error("truncated zstd frame (no room for its checksum)");
  const stored =
    ((frame[n - 4] as number) |
      ((frame[n - 3] as number) << 8) |
      ((frame[n - 2] as number) << 16) |
      ((frame[n - 1] as number) << 24)) >>>
    0;
  const computed = Number(xxh64(content) & 0xffffffffn);
  if (stored !== computed) {
    throw new Error(
      `zstd frame checksum mismatch: stored 0x${stored.toString(16).padStart(8, "0")}, ` +
        `computed 0x${computed.toString(16).padStart(8, "0")}`,
    );
  }
}

/** The error of every encode in browser builds. */
export function noZstdEncoder(): Error {
  return new Error(
    "zstd encoding is not available in this runtime: the browser build decodes zstd only (fzstd); " +
      "write collections from Node",
  );
}

/**
 * A decode-only zstd backend on `fzstd`, with frame checksums verified.
 * Several concatenated frames decode too (their checksums unverified).
 */
export function fzstdZstdBackend(): ZstdBackend {
  return {
    name: "fzstd",
    compress() {
      throw noZstdEncoder();
    },
    async decompress(data) {
      const { decompress } = await load();
      const out = decompress(data);
      verifyChecksum(data, out);
      return out;
    },
  };
}
