/**
 * Worker-thread entry of the codec pool (loaded by piscina, see `pool.ts`).
 * Runs a parsed bytes-to-bytes chain and moves the result's ArrayBuffer back
 * to the calling thread. Codec failures come back as plain data (error
 * classes do not survive the thread boundary) and are turned into
 * `CodecError`s by the caller.
 *
 * @module
 */

import { Piscina } from "piscina";
import {
  decodeFrameInto,
  decodeParsed,
  encodeParsed,
  encodeParsedInto,
  type FramePlacement,
  messageOf,
  type ParsedCodec,
  StageError,
} from "./codecs.js";
import { forcedZstdBackend, setZstdBackend, type ZstdBackendName, zstdBackendName } from "./zstd.js";

/** One pool task: a direction, a validated chain and the input bytes. */
export interface PoolTask {
  readonly op: "encode" | "decode";
  readonly chain: readonly ParsedCodec[];
  readonly data: Uint8Array;
  /** Memory the encoded frame may be written to (a one-zstd chain, napi backend); handed back otherwise. */
  readonly target?: ArrayBuffer;
  /** The calling thread's {@link setZstdBackend} choice, applied here too (absent = automatic). */
  readonly zstd?: ZstdBackendName;
}

/** One frame of a {@link FramesTask}: `length` bytes at `offset` in `buffers[buffer]`, and where they go. */
export interface FrameRef extends FramePlacement {
  readonly buffer: number;
  readonly offset: number;
  readonly length: number;
}

/**
 * Decode many frames of one chain into one new output buffer of `outBytes`
 * (zero-filled where no frame goes), or straight into `target` when given.
 */
export interface FramesTask {
  readonly op: "frames";
  readonly chain: readonly ParsedCodec[];
  /** Transferred ArrayBuffers (handed back as spares), or SharedArrayBuffers read in place. */
  readonly buffers: readonly ArrayBufferLike[];
  readonly frames: readonly FrameRef[];
  readonly outBytes: number;
  /**
   * Shared memory the frames are decoded into: `outBytes` bytes at
   * `byteOffset` of `buffer` (the calling thread's output array, which
   * several tasks fill at once, each its own frames). Nothing is moved back.
   */
  readonly target?: { readonly buffer: SharedArrayBuffer; readonly byteOffset: number };
  /** As {@link PoolTask.zstd}. */
  readonly zstd?: ZstdBackendName;
}

/** Asks a worker which zstd backend it codes with (answered with a {@link ZstdBackendName}). */
export interface BackendTask {
  readonly op: "backend";
  /** As {@link PoolTask.zstd}. */
  readonly zstd?: ZstdBackendName;
}

/** A successful task: the output, and the buffers of the task the worker hands back for reuse. */
export interface PoolResult {
  readonly data: Uint8Array;
  readonly spares: readonly ArrayBuffer[];
  /** Whether `data` lies in the task's target buffer. */
  readonly inTarget: boolean;
}

/** A codec failure reported by a worker. */
export interface PoolFailure {
  readonly failed: true;
  readonly codec: string;
  readonly op: "encode" | "decode" | "configure";
  readonly message: string;
  /** Index of the failing frame of a {@link FramesTask}. */
  readonly frame?: number;
}

function failureOf(err: unknown, codec: string, op: "encode" | "decode", frame?: number): PoolFailure {
  const base =
    err instanceof StageError
      ? { failed: true as const, codec: err.codec, op: err.op, message: err.message }
      : { failed: true as const, codec, op, message: messageOf(err) };
  return frame === undefined ? base : { ...base, frame };
}

function move(result: PoolResult, transfer: readonly ArrayBuffer[]): unknown {
  // piscina's Transferable protocol: the value, and what to transfer with it.
  const moved = {
    [Piscina.transferableSymbol]: transfer,
    [Piscina.valueSymbol]: result,
  } as unknown as Parameters<typeof Piscina.move>[0];
  return Piscina.move(moved);
}

async function runFrames(task: FramesTask): Promise<unknown> {
  const shared = task.target;
  const out =
    shared === undefined
      ? new Uint8Array(task.outBytes)
      : new Uint8Array(shared.buffer, shared.byteOffset, task.outBytes);
  for (const [i, f] of task.frames.entries()) {
    try {
      const data = new Uint8Array(task.buffers[f.buffer] as ArrayBufferLike, f.offset, f.length);
      await decodeFrameInto(task.chain, data, f, out);
    } catch (err) {
      return failureOf(err, task.chain[0]?.name ?? "?", "decode", i);
    }
  }
  // Shared memory stays with the caller, which gives it back once every task reading it is done.
  const spares = task.buffers.filter((b): b is ArrayBuffer => b instanceof ArrayBuffer && b.byteLength > 0);
  if (shared !== undefined) return move({ data: new Uint8Array(0), spares, inTarget: true }, spares);
  return move({ data: out, spares, inTarget: false }, [out.buffer as ArrayBuffer, ...spares]);
}

/**
 * Runs one task; returns a {@link PoolResult} whose output bytes and spare
 * buffers (the input's, the unused target) are moved, not copied, or a
 * {@link PoolFailure}; for a {@link BackendTask}, the zstd backend's name.
 */
export default async function runTask(task: PoolTask | FramesTask | BackendTask): Promise<unknown> {
  // Follow the calling thread's forced zstd backend (tests, benchmarks); automatic otherwise.
  if (task.zstd !== forcedZstdBackend()) setZstdBackend(task.zstd);
  if (task.op === "backend") return zstdBackendName();
  if (task.op === "frames") return runFrames(task);
  try {
    let out: Uint8Array | undefined;
    if (task.op === "encode" && task.target !== undefined) {
      const n = await encodeParsedInto(task.chain, task.data, new Uint8Array(task.target));
      if (n >= 0) out = new Uint8Array(task.target, 0, n);
    }
    out ??=
      task.op === "encode"
        ? await encodeParsed(task.chain, task.data)
        : await decodeParsed(task.chain, task.data);
    // Move a buffer we own exclusively (the target, or one without slack); copy otherwise.
    const inTarget = task.target !== undefined && out.buffer === task.target;
    const own =
      inTarget ||
      (out.byteOffset === 0 && out.byteLength === out.buffer.byteLength && out.buffer !== task.data.buffer)
        ? out
        : out.slice();
    const spares: ArrayBuffer[] = [];
    const input = task.data.buffer;
    if (input instanceof ArrayBuffer && input.byteLength > 0 && input !== own.buffer) spares.push(input);
    if (task.target !== undefined && !inTarget && task.target.byteLength > 0) spares.push(task.target);
    return move({ data: own, spares, inTarget }, [own.buffer as ArrayBuffer, ...spares]);
  } catch (err) {
    return failureOf(err, task.chain[0]?.name ?? "?", task.op);
  }
}
