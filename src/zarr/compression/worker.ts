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
  decodeParsed,
  encodeParsed,
  encodeParsedInto,
  messageOf,
  type ParsedCodec,
  StageError,
} from "./codecs.js";

/** One pool task: a direction, a validated chain and the input bytes. */
export interface PoolTask {
  readonly op: "encode" | "decode";
  readonly chain: readonly ParsedCodec[];
  readonly data: Uint8Array;
  /** Memory the encoded frame may be written to (a one-zstd chain, napi backend); handed back otherwise. */
  readonly target?: ArrayBuffer;
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
}

/**
 * Runs one task; returns a {@link PoolResult} whose output bytes and spare
 * buffers (the input's, the unused target) are moved, not copied, or a
 * {@link PoolFailure}.
 */
export default async function runTask(task: PoolTask): Promise<unknown> {
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
    const result: PoolResult = { data: own, spares, inTarget };
    // piscina's Transferable protocol: the value, and what to transfer with it.
    const moved = {
      [Piscina.transferableSymbol]: [own.buffer, ...spares],
      [Piscina.valueSymbol]: result,
    } as unknown as Parameters<typeof Piscina.move>[0];
    return Piscina.move(moved);
  } catch (err) {
    const failure: PoolFailure =
      err instanceof StageError
        ? { failed: true, codec: err.codec, op: err.op, message: err.message }
        : { failed: true, codec: task.chain[0]?.name ?? "?", op: task.op, message: messageOf(err) };
    return failure;
  }
}
