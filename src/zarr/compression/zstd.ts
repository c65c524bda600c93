/**
 * Zstandard for the `zstd` bytes-to-bytes codec (docs/format.md §6.6): one standard
 * frame with the content size in its header, configuration
 * `{level, checksum}`.
 *
 * Four backends, chosen once per thread (main thread and each codec worker
 * alike), the first available in this order:
 * - `zlib`: Node's built-in zstd (`node:zlib`, Node ≥ 22.15 / ≥ 23.8), native
 *   speed with nothing to install (`zstd-zlib.ts`);
 * - `napi`: the native `zstd-napi` binding, when the user installed it (an
 *   optional peer dependency, compiled at install: for Node < 22.15), used
 *   through its low-level contexts to avoid intermediate copies;
 * - `wasm`: numcodecs' WebAssembly zstd, the fallback that needs nothing
 *   (numcodecs comes with zarrita). It cannot write a frame checksum, so we
 *   add it ourselves (XXH64 low 32 bits). Loaded through a specifier bundlers
 *   do not follow: its 1.3 MB never reaches a browser bundle;
 * - `fzstd`: outside Node (browsers), a small pure-JavaScript decoder
 *   (`zstd-fzstd.ts`); browser builds decode zstd but do not encode it,
 *   unless `wasm-codecs.ts` (`zcollection/wasm-codecs`) registers the
 *   WebAssembly backend.
 *
 * All write standard frames any zstd decoder reads (each backend's frames
 * decode with every other one; the bytes may differ between libzstd
 * versions), decode frames with or without a content size (streaming) and
 * verify frame checksums when present. {@link zstdBackendName} tells which
 * one runs.
 *
 * @module
 */

import { IS_NODE, importNodeOnly, nodeRequire } from "./runtime.js";
import { xxh64 } from "./xxh64.js";
import { fzstdZstdBackend } from "./zstd-fzstd.js";
import { zlibZstdBackend } from "./zstd-zlib.js";

export {
  type ZstdFrameHeader,
  type ZstdFrameSpan,
  zstdCompressBound,
  zstdFrameHeader,
  zstdFrameSpans,
} from "./zstd-header.js";
export { zlibZstdBackend } from "./zstd-zlib.js";

/**
 * Which implementation codes zstd: `zlib` (Node's built-in zstd), `napi`
 * (the `zstd-napi` binding), `wasm` (numcodecs' WebAssembly) or `fzstd`
 * (the browser's decode-only JavaScript decoder).
 */
export type ZstdBackendName = "zlib" | "napi" | "wasm" | "fzstd";

/** Every {@link ZstdBackendName}, in the order of preference. */
export const ZSTD_BACKEND_NAMES: readonly ZstdBackendName[] = Object.freeze([
  "zlib",
  "napi",
  "wasm",
  "fzstd",
]);

/** A zstd implementation: synchronous once loaded. */
export interface ZstdBackend {
  readonly name: ZstdBackendName;
  /** One frame with content size; `checksum` adds the 4-byte content checksum. */
  compress(data: Uint8Array, level: number, checksum: boolean): Uint8Array | Promise<Uint8Array>;
  /**
   * Like {@link compress}, writing the frame at the start of `target`;
   * returns its size, or -1 (writing nothing) when `target` is smaller than
   * zstd's compress bound of `data` ({@link zstdCompressBound}). Only
   * backends that can write into caller memory have it.
   */
  compressInto?(data: Uint8Array, level: number, checksum: boolean, target: Uint8Array): number;
  /** Decodes one or more concatenated frames. Throws on corrupt or truncated input. */
  decompress(data: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /**
   * Decodes a single frame whose header gives a content size of exactly
   * `target.length` bytes straight into `target` (no intermediate buffer).
   * Returns false, writing nothing, for anything else (several frames, no
   * content size, another size). Throws on corrupt or truncated input.
   * Only backends that can write into caller memory have it.
   */
  decompressInto?(data: Uint8Array, target: Uint8Array): boolean;
}

/**
 * Turns a single-frame, checksum-less zstd frame of `content` into one with a
 * content checksum: sets the header flag and appends the low 32 bits of
 * XXH64(content), little-endian.
 */
export function addZstdChecksum(frame: Uint8Array, content: Uint8Array): Uint8Array {
  const out = new Uint8Array(frame.length + 4);
  out.set(frame);
  out[4] = (out[4] as number) | 0x04;
  const c = Number(xxh64(content) & 0xffffffffn);
  const n = frame.length;
  out[n] = c & 0xff;
  out[n + 1] = (c >>> 8) & 0xff;
  out[n + 2] = (c >>> 16) & 0xff;
  out[n + 3] = c >>> 24;
  return out;
}

// ---------------------------------------------------------------- napi backend

interface NapiCCtx {
  setParameter(param: number, value: number): void;
  reset(directive: number): void;
  compress2(dst: Uint8Array, src: Uint8Array): number;
}
interface NapiDCtx {
  decompress(dst: Uint8Array, src: Uint8Array): number;
  decompressStream(dst: Uint8Array, src: Uint8Array): [number, number, number];
  reset(directive: number): void;
}
interface NapiBinding {
  CCtx: new () => NapiCCtx;
  DCtx: new () => NapiDCtx;
  CParameter: { compressionLevel: number; checksumFlag: number; contentSizeFlag: number };
  ResetDirective: { sessionOnly: number; parameters: number; sessionAndParameters: number };
  compressBound(size: number): number;
  getFrameContentSize(frame: Uint8Array): number | null;
  findFrameCompressedSize(frame: Uint8Array): number;
  dStreamOutSize(): number;
  maxCLevel(): number;
  minCLevel(): number;
}

function napiBackend(b: NapiBinding): ZstdBackend {
  let cctx: NapiCCtx | undefined;
  let dctx: NapiDCtx | undefined;
  let scratch = new Uint8Array(0);
  const maxLevel = b.maxCLevel();
  const minLevel = b.minCLevel();
  const configured = (level: number, checksum: boolean): NapiCCtx => {
    cctx ??= new b.CCtx();
    cctx.reset(b.ResetDirective.sessionAndParameters);
    cctx.setParameter(b.CParameter.compressionLevel, Math.min(maxLevel, Math.max(minLevel, level)));
    cctx.setParameter(b.CParameter.checksumFlag, checksum ? 1 : 0);
    cctx.setParameter(b.CParameter.contentSizeFlag, 1);
    return cctx;
  };
  return {
    name: "napi",
    compressInto(data, level, checksum, target) {
      if (target.length < b.compressBound(data.length)) return -1;
      const c = configured(level, checksum);
      return c.compress2(target, data);
    },
    compress(data, level, checksum) {
      const c = configured(level, checksum);
      const bound = b.compressBound(data.length);
      if (scratch.length < bound) scratch = new Uint8Array(Math.max(bound, scratch.length * 2));
      const n = c.compress2(scratch, data);
      // An exact-size copy with its own ArrayBuffer (transferable, no slack).
      const out = scratch.slice(0, n);
      // Do not keep a huge scratch buffer alive after an exceptional chunk.
      if (scratch.length > 64 * 1024 * 1024) scratch = new Uint8Array(0);
      return out;
    },
    decompressInto(data, target) {
      const size = b.getFrameContentSize(data);
      if (size !== target.length || b.findFrameCompressedSize(data) !== data.length) return false;
      dctx ??= new b.DCtx();
      const n = dctx.decompress(target, data);
      if (n !== size) throw new Error(`frame content size ${size} but ${n} bytes decoded`);
      return true;
    },
    decompress(data) {
      dctx ??= new b.DCtx();
      let total = 0;
      let rest = data;
      let known = true;
      while (rest.length > 0) {
        const size = b.getFrameContentSize(rest);
        if (size === null) {
          known = false;
          break;
        }
        total += size;
        rest = rest.subarray(b.findFrameCompressedSize(rest));
      }
      if (known) {
        const out = allocUninit(total);
        const n = dctx.decompress(out, data);
        if (n !== total) throw new Error(`frame content size ${total} but ${n} bytes decoded`);
        return out;
      }
      // Streaming decompression: frames without content size.
      dctx.reset(b.ResetDirective.sessionOnly);
      const parts: Uint8Array[] = [];
      let produced = 0;
      let input = data;
      let pending = 1;
      const step = b.dStreamOutSize();
      while (input.length > 0 || pending !== 0) {
        const chunk = allocUninit(Math.max(step, input.length * 4));
        const [ret, written, consumed] = dctx.decompressStream(chunk, input);
        if (written === 0 && consumed === 0) throw new Error("truncated zstd frame (no progress)");
        if (written > 0) parts.push(chunk.subarray(0, written));
        produced += written;
        input = input.subarray(consumed);
        pending = ret;
        if (input.length === 0 && ret !== 0 && written < chunk.length)
          throw new Error("truncated zstd frame");
      }
      const out = allocUninit(produced);
      let o = 0;
      for (const p of parts) {
        out.set(p, o);
        o += p.length;
      }
      return out;
    },
  };
}

/** A fresh, exact-size Uint8Array over its own ArrayBuffer; not zero-filled under Node. */
export function allocUninit(size: number): Uint8Array {
  const B = (globalThis as { Buffer?: { allocUnsafeSlow(n: number): Uint8Array } }).Buffer;
  if (B !== undefined && size > 0) {
    const buf = B.allocUnsafeSlow(size);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  }
  return new Uint8Array(size);
}

// ---------------------------------------------------------------- wasm backend

interface WasmCodec {
  encode(data: Uint8Array): Promise<Uint8Array>;
  decode(data: Uint8Array): Promise<Uint8Array>;
}

type WasmZstdClass = { fromConfig(c: { level: number; id: string }): WasmCodec };
let wasmModule: Promise<WasmZstdClass> | undefined;
let wasmLoader: (() => Promise<{ default: unknown }>) | undefined;

/**
 * Makes numcodecs' WebAssembly zstd available outside Node (browsers), where
 * it then encodes and decodes instead of the decode-only `fzstd`: `load`
 * must import `numcodecs/zstd` with a literal specifier, so that the
 * bundler includes it (see `wasm-codecs.ts`). Resets this thread's choice.
 */
export function registerWasmZstd(load: () => Promise<{ default: unknown }>): void {
  wasmLoader = load;
  wasmModule = undefined;
  preferred = undefined;
}

/**
 * The WebAssembly backend (numcodecs), Node's fallback. Its module is loaded
 * through a specifier hidden from bundlers, so it is Node-only in practice.
 */
export function wasmZstdBackend(): ZstdBackend {
  const codecs = new Map<number, Promise<WasmCodec>>();
  const codec = (level: number): Promise<WasmCodec> => {
    let c = codecs.get(level);
    if (c === undefined) {
      // Not a literal import: browser bundles must not carry numcodecs' 1.3 MB of WebAssembly.
      const load = wasmLoader ?? (() => importNodeOnly<{ default: unknown }>("numcodecs/zstd"));
      wasmModule ??= load().then((m) => m.default as WasmZstdClass);
      c = wasmModule.then((m) => m.fromConfig({ level, id: "zstd" }));
      codecs.set(level, c);
    }
    return c;
  };
  return {
    name: "wasm",
    async compress(data, level, checksum) {
      // numcodecs maps levels <= 0 to 1 (no negative "fast" levels); 0 means the default, 3.
      const frame = await (await codec(level === 0 ? 3 : level)).encode(data);
      return checksum ? addZstdChecksum(frame, data) : frame;
    },
    async decompress(data) {
      return (await codec(3)).decode(data);
    },
  };
}

let napi: Promise<ZstdBackend | null> | undefined;

/** The native backend when `zstd-napi` loads (Node only), else `null`. */
export function napiZstdBackend(): Promise<ZstdBackend | null> {
  napi ??= (async () => {
    const req = await nodeRequire();
    if (req === null) return null;
    try {
      return napiBackend(req("zstd-napi/binding.js") as NapiBinding);
    } catch {
      return null;
    }
  })();
  return napi;
}

let preferred: Promise<ZstdBackend> | undefined;
let forced: ZstdBackendName | undefined;

function isBackendName(v: unknown): v is ZstdBackendName {
  return typeof v === "string" && (ZSTD_BACKEND_NAMES as readonly string[]).includes(v);
}

/**
 * The backend in use in this thread. Under Node: Node's built-in zstd when
 * the runtime has it, else `zstd-napi` when it can be loaded, else
 * WebAssembly. Elsewhere (browsers): the `fzstd` decoder, or WebAssembly once
 * {@link registerWasmZstd} was called.
 *
 * {@link setZstdBackend}, or else the environment variable
 * `ZCOLLECTION_ZSTD` (`zlib`, `napi`, `wasm` or `fzstd`; read once per
 * thread), makes the choice start at that backend: one that is not
 * available falls through to the next in the order above (`wasm` always is).
 */
export function zstdBackend(): Promise<ZstdBackend> {
  preferred ??= (async () => {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
    const fromEnv = env?.ZCOLLECTION_ZSTD;
    const want = forced ?? (isBackendName(fromEnv) ? fromEnv : undefined);
    if (want === "fzstd" || (want === undefined && !IS_NODE && wasmLoader === undefined)) {
      return fzstdZstdBackend();
    }
    if (want === undefined || want === "zlib") {
      const z = await zlibZstdBackend();
      if (z !== null) return z;
    }
    if (want !== "wasm") {
      const n = await napiZstdBackend();
      if (n !== null) return n;
    }
    return wasmZstdBackend();
  })();
  return preferred;
}

/**
 * Name of the zstd implementation this thread codes with (see
 * {@link zstdBackend} for the order): `"zlib"` (Node's built-in zstd, Node ≥
 * 22.15), `"napi"` (the optional `zstd-napi` package), `"wasm"` (numcodecs'
 * WebAssembly, the fallback) or `"fzstd"` (browsers, decode only). The codec
 * worker threads choose the same way, and follow {@link setZstdBackend}.
 */
export async function zstdBackendName(): Promise<ZstdBackendName> {
  return (await zstdBackend()).name;
}

/**
 * Makes this thread's choice start at backend `name` (`undefined` =
 * automatic); an unavailable one falls through to the next (see
 * {@link zstdBackend}). The codec worker pool applies the calling thread's
 * setting to every task. For tests and benchmarks.
 */
export function setZstdBackend(name: ZstdBackendName | undefined): void {
  forced = name;
  preferred = undefined;
}

/** The backend set by {@link setZstdBackend} in this thread, `undefined` when automatic. */
export function forcedZstdBackend(): ZstdBackendName | undefined {
  return forced;
}
