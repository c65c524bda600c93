/**
 * The bytes-to-bytes codecs themselves, run in the calling thread: parse a
 * descriptor once, then encode or decode. Shared by the main thread (inline
 * path) and the pool workers. Failures are {@link StageError}s carrying the
 * codec name; the public API turns them into `CodecError`s naming the chunk.
 *
 * @module
 */

import type { CodecDescriptor } from "../../codecs/index.js";
import { type BloscParams, bloscDecode, bloscEncode, bloscParams } from "./blosc.js";
import { appendCrc32c, checkCrc32c } from "./crc32c.js";
import { gzipDecode, gzipEncode } from "./gzip.js";
import { zstdBackend, zstdFrameHeader } from "./zstd.js";

/** Names of the bytes-to-bytes codecs implemented here. */
export const NAMES: readonly string[] = Object.freeze(["zstd", "gzip", "blosc", "crc32c"]);

/** A validated codec descriptor. */
export type ParsedCodec =
  | { readonly name: "zstd"; readonly level: number; readonly checksum: boolean }
  | { readonly name: "gzip"; readonly level: number }
  | { readonly name: "blosc"; readonly params: BloscParams }
  | { readonly name: "crc32c" };

/** A codec failure: which codec, which direction, and why. Plain data so that it crosses threads. */
export class StageError extends Error {
  constructor(
    readonly codec: string,
    readonly op: "encode" | "decode" | "configure",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "StageError";
  }
}

function intIn(v: unknown, lo: number, hi: number): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= lo && v <= hi;
}

/**
 * Validates one descriptor.
 *
 * @throws StageError (op `configure`) for an unknown codec or a bad configuration.
 */
export function parseCodec(codec: CodecDescriptor, itemSize: number): ParsedCodec {
  const c = codec.configuration ?? {};
  const bad = (msg: string): never => {
    throw new StageError(codec.name, "configure", msg);
  };
  switch (codec.name) {
    case "zstd": {
      const level = c.level ?? 0;
      // zstd accepts negative "fast" levels down to -131072 and up to 22.
      if (!intIn(level, -131072, 22))
        bad(`invalid zstd level ${JSON.stringify(level)} (expected an integer <= 22)`);
      const checksum = c.checksum ?? false;
      if (typeof checksum !== "boolean")
        bad(`invalid zstd checksum ${JSON.stringify(checksum)} (expected a boolean)`);
      return { name: "zstd", level: level as number, checksum: checksum as boolean };
    }
    case "gzip": {
      const level = c.level ?? 5;
      if (!intIn(level, 0, 9)) bad(`invalid gzip level ${JSON.stringify(level)} (expected an integer 0-9)`);
      return { name: "gzip", level: level as number };
    }
    case "blosc":
      try {
        return { name: "blosc", params: bloscParams(c, itemSize) };
      } catch (err) {
        return bad((err as Error).message);
      }
    case "crc32c":
      return { name: "crc32c" };
    default:
      return bad(`unsupported bytes-to-bytes codec '${codec.name}' (supported: ${NAMES.join(", ")})`);
  }
}

const hex = (n: number): string => `0x${n.toString(16).padStart(8, "0")}`;

/** Encodes with one parsed codec. @throws StageError */
export async function encodeOne(p: ParsedCodec, data: Uint8Array): Promise<Uint8Array> {
  try {
    switch (p.name) {
      case "zstd":
        return await (await zstdBackend()).compress(data, p.level, p.checksum);
      case "gzip":
        return await gzipEncode(data, p.level);
      case "blosc":
        return await bloscEncode(data, p.params);
      case "crc32c":
        return appendCrc32c(data);
    }
  } catch (err) {
    if (err instanceof StageError) throw err;
    throw new StageError(p.name, "encode", messageOf(err), { cause: err });
  }
}

/** Decodes with one parsed codec; crc32c is verified. @throws StageError */
export async function decodeOne(p: ParsedCodec, data: Uint8Array): Promise<Uint8Array> {
  try {
    switch (p.name) {
      case "zstd": {
        if (zstdFrameHeader(data) === null) {
          throw new Error(
            data.length < 5
              ? `input too short (${data.length} bytes)`
              : "not a zstd frame (bad magic number or header)",
          );
        }
        return await (await zstdBackend()).decompress(data);
      }
      case "gzip":
        return await gzipDecode(data);
      case "blosc":
        return await bloscDecode(data);
      case "crc32c": {
        const r = checkCrc32c(data);
        if (r === null)
          throw new StageError("crc32c", "decode", `input too short for a checksum (${data.length} bytes)`);
        if (r.stored !== r.computed) {
          throw new StageError(
            "crc32c",
            "decode",
            `checksum mismatch: stored ${hex(r.stored)}, computed ${hex(r.computed)}`,
          );
        }
        return r.payload;
      }
    }
  } catch (err) {
    if (err instanceof StageError) throw err;
    throw new StageError(p.name, "decode", messageOf(err), { cause: err });
  }
}

/** Encodes through a parsed chain, in order. @throws StageError */
export async function encodeParsed(chain: readonly ParsedCodec[], data: Uint8Array): Promise<Uint8Array> {
  let d = data;
  for (const p of chain) d = await encodeOne(p, d);
  return d;
}

/** Decodes through a parsed chain, in reverse order. @throws StageError */
export async function decodeParsed(chain: readonly ParsedCodec[], data: Uint8Array): Promise<Uint8Array> {
  let d = data;
  for (let i = chain.length - 1; i >= 0; i--) d = await decodeOne(chain[i] as ParsedCodec, d);
  return d;
}

/**
 * Encodes straight into `target` when the chain is exactly one zstd codec
 * and this thread's backend can write into caller memory (see
 * `ZstdBackend.compressInto`): returns the frame's size, or -1 having done
 * nothing (another chain or backend, or `target` below the compress bound).
 *
 * @throws StageError
 */
export async function encodeParsedInto(
  chain: readonly ParsedCodec[],
  data: Uint8Array,
  target: Uint8Array,
): Promise<number> {
  const zstd = chain[0];
  if (chain.length !== 1 || zstd?.name !== "zstd") return -1;
  const backend = await zstdBackend();
  if (backend.compressInto === undefined) return -1;
  try {
    return backend.compressInto(data, zstd.level, zstd.checksum, target);
  } catch (err) {
    throw new StageError("zstd", "encode", messageOf(err), { cause: err });
  }
}

/**
 * Decodes straight into `target` when the chain is one zstd codec, possibly
 * under crc32c layers, and this thread's zstd backend can write into caller
 * memory: the checksums are verified, then the frame is decompressed into
 * `target` (exactly `target.length` bytes, else StageError). Returns false,
 * having done nothing, for any other chain or backend.
 *
 * @throws StageError
 */
export async function decodeParsedInto(
  chain: readonly ParsedCodec[],
  data: Uint8Array,
  target: Uint8Array,
): Promise<boolean> {
  if (chain[0]?.name !== "zstd" || chain.slice(1).some((p) => p.name !== "crc32c")) return false;
  const backend = await zstdBackend();
  if (backend.decompressInto === undefined) return false;
  let d = data;
  for (let i = chain.length - 1; i >= 1; i--) d = await decodeOne(chain[i] as ParsedCodec, d);
  const zstd = chain[0];
  try {
    if (zstdFrameHeader(d) !== null && backend.decompressInto(d, target)) return true;
  } catch (err) {
    throw new StageError("zstd", "decode", messageOf(err), { cause: err });
  }
  const out = await decodeOne(zstd, d);
  if (out.length !== target.length) {
    throw new StageError("zstd", "decode", `decodes to ${out.length} bytes; expected ${target.length}`);
  }
  target.set(out);
  return true;
}

/**
 * Where one encoded chunk goes in a larger output: bytes `[from, to)` of its
 * decoded form (`size` bytes in all) are written at offset `at`.
 */
export interface FramePlacement {
  readonly size: number;
  readonly from: number;
  readonly to: number;
  readonly at: number;
}

/**
 * Decodes `data` through a parsed chain and writes the placed part into
 * `out`: straight into it when the whole frame is wanted (see
 * {@link decodeParsedInto}), else through a temporary buffer.
 *
 * @throws StageError, also when the decoded size is not `place.size`.
 */
export async function decodeFrameInto(
  chain: readonly ParsedCodec[],
  data: Uint8Array,
  place: FramePlacement,
  out: Uint8Array,
): Promise<void> {
  const target = out.subarray(place.at, place.at + place.to - place.from);
  if (place.from === 0 && place.to === place.size) {
    if (await decodeParsedInto(chain, data, target)) return;
  }
  const full = await decodeParsed(chain, data);
  if (full.length !== place.size) {
    const outer = [...chain].reverse().find((p) => p.name !== "crc32c")?.name ?? "crc32c";
    throw new StageError(outer, "decode", `decodes to ${full.length} bytes; expected ${place.size}`);
  }
  target.set(full.subarray(place.from, place.to));
}

/** A readable message from anything thrown (wasm modules throw strings or odd objects). */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === "string") return err;
  try {
    return String(err);
  } catch {
    return "unknown error";
  }
}
