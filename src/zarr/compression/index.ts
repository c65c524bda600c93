/**
 * Bytes-to-bytes codecs of Zarr v3 chunks (docs/format.md §6.6): `zstd`, `gzip`,
 * `blosc`, `crc32c`, run off the main thread by a worker pool when that pays.
 *
 * This is the contract the Zarr array layer codes against: it calls
 * {@link encodeChain}/{@link decodeChain} (or the single-codec forms) for the
 * `bytes_to_bytes` part of every chunk's codec list, and {@link crc32c} for
 * shard indexes.
 *
 * Runtimes: under Node, zstd uses Node's built-in zstd (`node:zlib`, Node ≥
 * 22.15), else the `zstd-napi` binding when it is installed, else
 * WebAssembly ({@link zstdBackendName} tells which); gzip uses `node:zlib`;
 * chunks of 64 KiB or more go to a pool of `config.get("codec.workers")` worker threads
 * (0 or 1 = everything on the calling thread: a single worker would add a
 * thread hop and a copy without adding codec throughput). If the pool cannot
 * start, coding falls back to the calling thread. Every Node-only module is
 * loaded lazily and hidden from bundlers, so a browser bundle can import this
 * module and code with the portable fallbacks (numcodecs WebAssembly
 * zstd/blosc, fflate gzip) on the calling thread.
 *
 * @module
 */

import type { CodecDescriptor } from "../../codecs/index.js";
import { get as getConfig } from "../../config.js";
import { CodecError } from "../../errors.js";
import { giveBuffer, giveSharedBuffer, isScratch, markScratch, takeBuffer } from "./buffers.js";
import {
  decodeFrameInto,
  decodeParsed,
  decodeParsedInto,
  encodeParsed,
  type FramePlacement,
  messageOf,
  NAMES,
  type ParsedCodec,
  parseCodec,
  StageError,
} from "./codecs.js";
import { crc32c as crc32cImpl } from "./crc32c.js";
import { IS_NODE, importNodeOnly } from "./runtime.js";
import type { FrameRef } from "./worker.js";
import { type ZstdBackendName, zstdCompressBound, zstdFrameHeader } from "./zstd.js";

export { type ZstdBackendName, zstdBackendName } from "./zstd.js";

/** Names of bytes_to_bytes codecs handled here: "zstd", "gzip", "blosc", "crc32c". */
export const BYTES_TO_BYTES_CODECS: readonly string[] = NAMES;

/** What the codec functions need to know about the chunk at hand. */
export interface ByteCodecContext {
  /** Store key of the chunk (or shard), named in every error message. */
  key: string;
  /** Size in bytes of one array element (blosc's default shuffle depends on it). */
  itemSize: number;
  /**
   * Checked before coding starts; a task waiting in (or running on) the pool
   * is abandoned when it fires. The promise then rejects with the signal's reason.
   */
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

/** Chunks smaller than this (uncompressed bytes) are coded on the calling thread: the hop costs more. */
export const INLINE_BELOW_BYTES = 64 * 1024;

type PoolModule = typeof import("./pool.js");
let poolModule: Promise<PoolModule | null> | undefined;
let poolBroken = false;

function loadPool(): Promise<PoolModule | null> {
  // Not a literal import: bundlers must not pull piscina and node:* into browser builds.
  poolModule ??= IS_NODE ? importNodeOnly<PoolModule>("./pool.js").catch(() => null) : Promise.resolve(null);
  return poolModule;
}

/** Uncompressed size of the work: the input for encode, the zstd frame's content size when known for decode. */
function workBytes(op: "encode" | "decode", chain: readonly ParsedCodec[], data: Uint8Array): number {
  if (op === "encode") return data.length;
  // The outermost layer is the last codec; a crc32c trailer leaves the frame below it at offset 0.
  let outer = chain.length - 1;
  while (outer >= 0 && chain[outer]?.name === "crc32c") outer--;
  if (chain[outer]?.name === "zstd") {
    const size = zstdFrameHeader(data)?.contentSize;
    if (typeof size === "number") return Math.max(size, data.length);
  }
  return data.length;
}

/** Number of pool threads to use for this task; 0 = run on the calling thread. */
function poolThreads(op: "encode" | "decode", chain: readonly ParsedCodec[], data: Uint8Array): number {
  if (!IS_NODE || poolBroken) return 0;
  const workers = Math.floor(getConfig("codec.workers"));
  if (!(workers >= 2)) return 0;
  if (chain.every((c) => c.name === "crc32c")) return 0;
  return workBytes(op, chain, data) >= INLINE_BELOW_BYTES ? workers : 0;
}

/** Whether `buffer` is shared memory (where the runtime has it). */
function isShared(buffer: ArrayBufferLike): boolean {
  return typeof SharedArrayBuffer !== "undefined" && buffer instanceof SharedArrayBuffer;
}

/**
 * A transferable copy of `data` (in recycled memory), unless the caller
 * handed it over and its buffer is whole or scratch memory from
 * `takeBuffer` (whose whole capacity may move), or `data` itself when it
 * lies in shared memory (read by the workers in place).
 */
function transferable(data: Uint8Array, handedOver: boolean): Uint8Array {
  // Shared memory goes to the workers as it is: they read it in place.
  if (isShared(data.buffer)) return data;
  const whole =
    data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
  if (handedOver && (whole || isScratch(data.buffer))) return data;
  const copy = takeBuffer(data.byteLength);
  copy.set(data);
  return copy;
}

/** Memory a worker may write a one-zstd chain's frame into, so that it need not allocate it. */
function encodeTarget(op: "encode" | "decode", chain: readonly ParsedCodec[], data: Uint8Array) {
  if (op !== "encode" || chain.length !== 1 || chain[0]?.name !== "zstd") return undefined;
  return takeBuffer(zstdCompressBound(data.length)).buffer as ArrayBuffer;
}

async function run(
  op: "encode" | "decode",
  chain: readonly ParsedCodec[],
  data: Uint8Array,
  ctx: ByteCodecContext,
): Promise<Uint8Array> {
  checkAborted(ctx.signal);
  if (chain.length === 0) return data;
  const threads = poolThreads(op, chain, data);
  if (threads > 0) {
    const pool = await loadPool();
    if (pool !== null) {
      const length = data.byteLength;
      let outcome: Awaited<ReturnType<PoolModule["runInPool"]>> | undefined;
      try {
        outcome = await pool.runInPool(
          threads,
          op,
          chain,
          transferable(data, ctx.transfer === true),
          ctx.signal,
          encodeTarget(op, chain, data),
        );
      } catch (err) {
        checkAborted(ctx.signal);
        // The pool itself failed (a worker cannot start or died): code on this thread from now on,
        // unless the input was handed over to the dead worker.
        poolBroken = true;
        if (data.byteLength !== length) throw toCodecError(err, ctx, op);
      }
      if (outcome !== undefined) {
        if (outcome.ok) {
          // Transferred out and back: nothing else can reference these buffers.
          for (const spare of outcome.spares) giveBuffer(spare);
          // A frame written into the target is scratch memory the caller may give back.
          if (outcome.inTarget) markScratch(outcome.data.buffer);
          return outcome.data;
        }
        const f = outcome.failure;
        throw toCodecError(new StageError(f.codec, f.op, f.message), ctx, op);
      }
    }
  }
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

/**
 * Decodes a whole bytes_to_bytes chain into `target`, which receives exactly
 * `target.length` bytes. A chain of one `zstd` codec (possibly under
 * `crc32c`) decodes on the calling thread straight into `target` when the
 * zstd backend can write into caller memory (`zstd-napi`; not Node's
 * built-in zstd, whose chains go to the pool like any other): zstd decompresses at about the speed of the
 * two copies a pool worker would need (input out, output back), so the hop
 * would cost as much as it saves. Any other chain is decoded as by
 * {@link decodeChain} (pool included) and copied into `target`.
 *
 * @throws CodecError naming `ctx.key` and the failing codec, also when the
 *   decoded size differs from `target.length`.
 */
export async function decodeChainInto(
  codecs: readonly CodecDescriptor[],
  data: Uint8Array,
  target: Uint8Array,
  ctx: ByteCodecContext,
): Promise<void> {
  const chain = parseChain(codecs, ctx);
  checkAborted(ctx.signal);
  try {
    if (await decodeParsedInto(chain, data, target)) return;
  } catch (err) {
    throw toCodecError(err, ctx, "decode");
  }
  const out = await run("decode", chain, data, ctx);
  if (out.length !== target.length) {
    throw new CodecError(
      `cannot decode chunk '${ctx.key}': decodes to ${out.length} bytes; expected ${target.length}`,
      { key: ctx.key },
    );
  }
  target.set(out);
}

/**
 * One encoded chunk for {@link decodeFrames}: `length` bytes at `offset` in
 * `sources[source]`; bytes `[from, to)` of its decoded form (`size` bytes)
 * go to offset `at` of the output.
 */
export interface Frame extends FramePlacement {
  readonly source: number;
  readonly offset: number;
  readonly length: number;
  /** Store key of the chunk or shard, named in errors. */
  readonly key: string;
}

/** Frames smaller in total than this (decoded bytes) are decoded on the calling thread. */
export const FRAMES_INLINE_BELOW_BYTES = 1024 * 1024;

/** Decoded bytes below which splitting frames between workers costs more than it saves. */
const SPLIT_MIN_BYTES = 4 * 1024 * 1024;

/**
 * Whether decoding `outBytes` would go to the worker pool (Node,
 * `codec.workers` >= 2, pool not broken, at least
 * {@link FRAMES_INLINE_BELOW_BYTES}): then an output in shared memory lets
 * several workers decode straight into it (see {@link decodeFrames}).
 */
export function framesUsePool(outBytes: number): boolean {
  return (
    IS_NODE &&
    !poolBroken &&
    Math.floor(getConfig("codec.workers")) >= 2 &&
    outBytes >= FRAMES_INLINE_BELOW_BYTES
  );
}

/**
 * Decodes `frames` of one bytes_to_bytes chain, held in `sources` (objects
 * or ranges as read from a store), into `ctx.into` when given (exactly
 * `outBytes` long; left untouched where no frame goes) or into one new
 * buffer of `outBytes` (zero where no frame goes): the output of a whole
 * array read at once.
 *
 * With the worker pool enabled (Node, `codec.workers` >= 2) and at least
 * {@link FRAMES_INLINE_BELOW_BYTES} to decode, workers do it all — decoding,
 * and the page faults of the output — so that the calling thread neither
 * decodes nor copies and arrays read at once decode on several cores:
 * - `ctx.into` in a SharedArrayBuffer: the frames are split between up to
 *   `codec.workers` tasks (and `ctx.maxTasks`; by source, else by copying
 *   each task's bytes of a shared source), each decoding its frames in
 *   place;
 * - otherwise one task decodes into a new buffer it moves back (copied into
 *   `ctx.into` when given).
 * Without the pool the frames are decoded on the calling thread (zstd
 * straight into place). With `ctx.transfer`, sources that are whole buffers
 * (or scratch memory) go to the workers without a copy and are detached:
 * pass only bytes nothing else uses.
 *
 * @throws CodecError naming the failing frame's key and codec, also when a
 *   frame decodes to another size than `size`; RangeError when `ctx.into`
 *   is not `outBytes` long.
 */
export async function decodeFrames(
  codecs: readonly CodecDescriptor[],
  sources: readonly Uint8Array[],
  frames: readonly Frame[],
  outBytes: number,
  ctx: FramesContext,
): Promise<Uint8Array> {
  try {
    return await decodeFramesOnce(codecs, sources, frames, outBytes, ctx);
  } finally {
    // Handed-over shared scratch memory is free again once every task reading it is done.
    if (ctx.transfer === true) for (const src of new Set(sources.map((s) => s.buffer))) giveSharedBuffer(src);
  }
}

/** What {@link decodeFrames} is given besides its frames. */
interface FramesContext {
  readonly itemSize: number;
  readonly signal?: AbortSignal;
  readonly transfer?: boolean;
  readonly into?: Uint8Array;
  readonly maxTasks?: number;
}

async function decodeFramesOnce(
  codecs: readonly CodecDescriptor[],
  sources: readonly Uint8Array[],
  frames: readonly Frame[],
  outBytes: number,
  ctx: FramesContext,
): Promise<Uint8Array> {
  const first = { key: frames[0]?.key ?? "", itemSize: ctx.itemSize };
  const into = ctx.into;
  if (into !== undefined && into.length !== outBytes) {
    throw new RangeError(`decodeFrames: output of ${into.length} bytes for ${outBytes} decoded bytes`);
  }
  const chain = parseChain(codecs, first);
  checkAborted(ctx.signal);
  const workers = Math.floor(getConfig("codec.workers"));
  const decoded = frames.reduce((n, f) => n + f.to - f.from, 0);
  const pool = chain.length > 0 && framesUsePool(decoded) ? await loadPool() : null;
  if (pool !== null) {
    const shared = into !== undefined && into.buffer instanceof SharedArrayBuffer ? into : undefined;
    const tasks =
      shared === undefined
        ? [framesTask(sources, frames, ctx.transfer === true)]
        : splitFrames(
            sources,
            frames,
            Math.min(workers, Math.floor(decoded / SPLIT_MIN_BYTES), ctx.maxTasks ?? workers),
            ctx.transfer === true,
          );
    const target =
      shared === undefined
        ? undefined
        : { buffer: shared.buffer as SharedArrayBuffer, byteOffset: shared.byteOffset };
    let outcomes: Awaited<ReturnType<PoolModule["runFramesInPool"]>>[] | undefined;
    const runs = tasks.map((t) =>
      pool.runFramesInPool(workers, chain, t.buffers, t.refs, outBytes, ctx.signal, target),
    );
    try {
      outcomes = await Promise.all(runs);
    } catch (err) {
      // No task may still read shared sources once this call returns (they are given back).
      await Promise.allSettled(runs);
      checkAborted(ctx.signal);
      // The pool itself failed: decode on this thread from now on, unless sources went with it.
      poolBroken = true;
      if (sources.some((src) => src.byteLength === 0)) throw toCodecError(err, first, "decode");
    }
    if (outcomes !== undefined) {
      for (const [t, outcome] of outcomes.entries()) {
        if (outcome.ok) continue;
        const f = outcome.failure;
        const key = frames[(tasks[t] as FramesTaskInput).frameIndex[f.frame ?? 0] ?? 0]?.key ?? first.key;
        throw toCodecError(
          new StageError(f.codec, f.op, f.message),
          { key, itemSize: ctx.itemSize },
          "decode",
        );
      }
      // The sources come back, transferred out and back: nothing else references them.
      for (const outcome of outcomes) if (outcome.ok) for (const spare of outcome.spares) giveBuffer(spare);
      if (shared !== undefined) return shared;
      const data = (outcomes[0] as { data: Uint8Array }).data;
      if (into === undefined) return data;
      into.set(data);
      return into;
    }
  }
  const out = into ?? new Uint8Array(outBytes);
  for (const f of frames) {
    checkAborted(ctx.signal);
    const data = (sources[f.source] as Uint8Array).subarray(f.offset, f.offset + f.length);
    try {
      await decodeFrameInto(chain, data, f, out);
    } catch (err) {
      throw toCodecError(err, { key: f.key, itemSize: ctx.itemSize }, "decode");
    }
  }
  return out;
}

/** One pool task of {@link decodeFrames}: its buffers (transferred), frame references, and their indexes in the call's frames. */
interface FramesTaskInput {
  readonly buffers: ArrayBufferLike[];
  readonly refs: FrameRef[];
  readonly frameIndex: number[];
}

/** All `frames` as one task. */
function framesTask(
  sources: readonly Uint8Array[],
  frames: readonly Frame[],
  transfer: boolean,
): FramesTaskInput {
  const moved = sources.map((src) => transferable(src, transfer));
  return {
    buffers: moved.map((m) => m.buffer),
    refs: frames.map((f) => ({
      buffer: f.source,
      offset: (moved[f.source] as Uint8Array).byteOffset + f.offset,
      length: f.length,
      size: f.size,
      from: f.from,
      to: f.to,
      at: f.at,
    })),
    frameIndex: frames.map((_, i) => i),
  };
}

/**
 * `frames` split into at most `parts` tasks of about the same decoded size,
 * in source order. A source all of whose frames fall in one task goes to it
 * as {@link transferable} makes it; a source shared by several tasks is
 * copied, each task getting the byte span of its own frames.
 */
function splitFrames(
  sources: readonly Uint8Array[],
  frames: readonly Frame[],
  parts: number,
  transfer: boolean,
): FramesTaskInput[] {
  if (parts < 2 || frames.length < 2) return [framesTask(sources, frames, transfer)];
  const order = frames
    .map((_, i) => i)
    .sort((a, b) => {
      const fa = frames[a] as Frame;
      const fb = frames[b] as Frame;
      return fa.source - fb.source || fa.offset - fb.offset;
    });
  const total = frames.reduce((n, f) => n + f.to - f.from, 0);
  const groups: number[][] = [[]];
  let filled = 0;
  for (const i of order) {
    const f = frames[i] as Frame;
    const group = groups[groups.length - 1] as number[];
    if (group.length > 0 && groups.length < parts && filled >= (total * groups.length) / parts)
      groups.push([i]);
    else group.push(i);
    filled += f.to - f.from;
  }
  const owners = new Map<number, Set<number>>();
  groups.forEach((g, k) => {
    for (const i of g) {
      const s = (frames[i] as Frame).source;
      owners.set(s, (owners.get(s) ?? new Set()).add(k));
    }
  });
  return groups.map((g) => {
    const buffers: ArrayBufferLike[] = [];
    const slot = new Map<number, { index: number; base: number }>();
    const refs = g.map((i) => {
      const f = frames[i] as Frame;
      let place = slot.get(f.source);
      if (place === undefined) {
        const src = sources[f.source] as Uint8Array;
        if ((owners.get(f.source) as Set<number>).size === 1 || isShared(src.buffer)) {
          // One task's source, or shared memory every task reads in place: no copy.
          const moved = transferable(src, transfer);
          place = { index: buffers.length, base: moved.byteOffset };
          buffers.push(moved.buffer);
        } else {
          const mine = g.map((j) => frames[j] as Frame).filter((h) => h.source === f.source);
          const lo = Math.min(...mine.map((h) => h.offset));
          const hi = Math.max(...mine.map((h) => h.offset + h.length));
          const copy = takeBuffer(hi - lo);
          copy.set(src.subarray(lo, hi));
          place = { index: buffers.length, base: copy.byteOffset - lo };
          buffers.push(copy.buffer as ArrayBuffer);
        }
        slot.set(f.source, place);
      }
      return {
        buffer: place.index,
        offset: place.base + f.offset,
        length: f.length,
        size: f.size,
        from: f.from,
        to: f.to,
        at: f.at,
      };
    });
    return { buffers, refs, frameIndex: g };
  });
}

/** Synchronous CRC-32C (Castagnoli) of bytes, used for shard indexes (docs/format.md §6.4). */
export function crc32c(data: Uint8Array): number {
  return crc32cImpl(data);
}

/**
 * The zstd backend the codec worker threads use (see {@link zstdBackendName}
 * for the calling thread's), starting the pool if needed; `null` when
 * coding runs on the calling thread only (browsers, `codec.workers` below 2,
 * a pool that cannot start).
 */
export async function workerZstdBackendName(): Promise<ZstdBackendName | null> {
  const workers = Math.floor(getConfig("codec.workers"));
  if (!IS_NODE || poolBroken || !(workers >= 2)) return null;
  const pool = await loadPool();
  if (pool === null) return null;
  try {
    return await pool.poolZstdBackend(workers);
  } catch {
    return null;
  }
}

/** Stops the worker pool (idempotent); lets the process exit. */
export async function shutdownCodecPool(): Promise<void> {
  const pending = poolModule;
  if (pending === undefined) return;
  const pool = await pending;
  await pool?.closePool();
  poolBroken = false;
}
