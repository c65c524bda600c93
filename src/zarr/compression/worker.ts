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
import { decodeParsed, encodeParsed, messageOf, type ParsedCodec, StageError } from "./codecs.js";

/** One pool task: a direction, a validated chain and the input bytes. */
export interface PoolTask {
  readonly op: "encode" | "decode";
  readonly chain: readonly ParsedCodec[];
  readonly data: Uint8Array;
}

/** A codec failure reported by a worker. */
export interface PoolFailure {
  readonly failed: true;
  readonly codec: string;
  readonly op: "encode" | "decode" | "configure";
  readonly message: string;
}

/** Runs one task; returns the output bytes (moved, not copied) or a {@link PoolFailure}. */
export default async function runTask(task: PoolTask): Promise<unknown> {
  try {
    const out =
      task.op === "encode"
        ? await encodeParsed(task.chain, task.data)
        : await decodeParsed(task.chain, task.data);
    // Move a buffer we own exclusively and that has no slack; copy otherwise.
    const own =
      out.byteOffset === 0 && out.byteLength === out.buffer.byteLength && out.buffer !== task.data.buffer
        ? out
        : out.slice();
    return Piscina.move(own);
  } catch (err) {
    const failure: PoolFailure =
      err instanceof StageError
        ? { failed: true, codec: err.codec, op: err.op, message: err.message }
        : { failed: true, codec: task.chain[0]?.name ?? "?", op: task.op, message: messageOf(err) };
    return failure;
  }
}
