/**
 * The worker-thread pool running bytes-to-bytes chains off the main thread
 * (Node only; imported lazily by `index.ts`). One piscina pool of
 * `codec.workers` threads, created on first use and recreated when that
 * setting changes. Idle workers are unref'd by piscina, so an idle pool never
 * keeps the process alive; {@link closePool} stops it.
 *
 * The worker entry is `worker.js` next to this file, or `worker.ts` when this
 * module itself runs from TypeScript sources (tests under tsx: worker threads
 * inherit the `--import tsx` loader).
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { Piscina } from "piscina";
import type { ParsedCodec } from "./codecs.js";
import type { BackendTask, FrameRef, FramesTask, PoolFailure, PoolResult, PoolTask } from "./worker.js";
import { forcedZstdBackend, type ZstdBackendName } from "./zstd.js";

type Task = PoolTask | FramesTask | BackendTask;

const WORKER_FILE = fileURLToPath(
  new URL(import.meta.url.endsWith(".ts") ? "./worker.ts" : "./worker.js", import.meta.url),
);

/**
 * The workers' Node flags: inherited from this thread (Node then copies its
 * options without re-checking them), except when `--input-type` is among
 * them (`node --input-type=module -e …`): a worker inheriting it does not
 * start, so the list is passed without it. Passing the list in every case
 * would fail under Node 24's test runner, which gives test processes flags
 * a worker refuses (`--stack-trace-limit`, `--tls-cipher-list`…).
 */
function workerExecArgv(): string[] | undefined {
  const argv = process.execArgv;
  return argv.some((a) => a.startsWith("--input-type"))
    ? argv.filter((a) => !a.startsWith("--input-type"))
    : undefined;
}

let pool: Piscina<Task, unknown> | undefined;

function getPool(threads: number): Piscina<Task, unknown> {
  if (pool !== undefined && pool.maxThreads === threads) return pool;
  const old = pool;
  pool = new Piscina<Task, unknown>({
    filename: WORKER_FILE,
    minThreads: threads,
    maxThreads: threads,
    // Workers above minThreads would exit after this; idle ones are unref'd anyway.
    idleTimeout: 10_000,
    // Our tasks await (wasm init), so let workers run their event loop between tasks.
    atomics: "async",
    execArgv: workerExecArgv(),
  });
  // A worker failing outside a task (cannot start, crashes) must not crash the process: the
  // pending task rejects and the caller falls back to the calling thread.
  pool.on("error", () => undefined);
  // Let queued work on the old pool finish, then stop its threads.
  if (old !== undefined) void old.close().catch(() => undefined);
  return pool;
}

/**
 * Output of a pool task: the bytes and the task's buffers handed back for
 * reuse (`spares`: the input's, an unused target), or the codec failure the
 * worker reported.
 */
export type PoolOutcome =
  | {
      readonly ok: true;
      readonly data: Uint8Array;
      readonly spares: readonly ArrayBuffer[];
      readonly inTarget: boolean;
    }
  | { readonly ok: false; readonly failure: PoolFailure };

/**
 * Runs `chain` on `data` in a worker. `data`'s ArrayBuffer (and `target`,
 * memory an encoded frame may be written to) is transferred (detached
 * here): the caller passes buffers nothing else uses.
 *
 * @throws whatever piscina throws when the pool itself fails (worker cannot
 * start, abort): callers fall back to the calling thread or propagate.
 */
export async function runInPool(
  threads: number,
  op: "encode" | "decode",
  chain: readonly ParsedCodec[],
  data: Uint8Array,
  signal: AbortSignal | undefined,
  target?: ArrayBuffer,
): Promise<PoolOutcome> {
  const p = getPool(threads);
  const transferList = data.buffer instanceof ArrayBuffer ? [data.buffer] : [];
  if (target !== undefined) transferList.push(target);
  const zstd = forcedZstdBackend();
  const base: PoolTask = zstd === undefined ? { op, chain, data } : { op, chain, data, zstd };
  const task: PoolTask = target === undefined ? base : { ...base, target };
  const result = (await p.run(task, { transferList, signal: signal ?? null })) as PoolResult | PoolFailure;
  if ("failed" in result) return { ok: false, failure: result };
  return { ok: true, data: result.data, spares: result.spares, inTarget: result.inTarget };
}

/**
 * Decodes `frames` (views on `buffers`, which are transferred: detached
 * here) through `chain` in a worker, into one new buffer of `outBytes`, or
 * into `target` (shared memory, written in place: the outcome's `data` is
 * then empty and `inTarget` true); the buffers come back as `spares`. A
 * failure names the frame's index.
 *
 * @throws whatever piscina throws when the pool itself fails.
 */
export async function runFramesInPool(
  threads: number,
  chain: readonly ParsedCodec[],
  buffers: readonly ArrayBufferLike[],
  frames: readonly FrameRef[],
  outBytes: number,
  signal: AbortSignal | undefined,
  target?: FramesTask["target"],
): Promise<PoolOutcome> {
  const zstd = forcedZstdBackend();
  const base: FramesTask = { op: "frames", chain, buffers, frames, outBytes };
  const withTarget: FramesTask = target === undefined ? base : { ...base, target };
  const task: FramesTask = zstd === undefined ? withTarget : { ...withTarget, zstd };
  const result = (await getPool(threads).run(task, {
    // Shared memory is read in place, not transferred.
    transferList: buffers.filter((b): b is ArrayBuffer => b instanceof ArrayBuffer),
    signal: signal ?? null,
  })) as PoolResult | PoolFailure;
  if ("failed" in result) return { ok: false, failure: result };
  return { ok: true, data: result.data, spares: result.spares, inTarget: result.inTarget };
}

/**
 * The zstd backend a worker of a pool of `threads` threads codes with
 * (starting the pool if needed). Workers choose as the calling thread does
 * and follow its `setZstdBackend` setting.
 *
 * @throws whatever piscina throws when the pool itself fails.
 */
export async function poolZstdBackend(threads: number): Promise<ZstdBackendName> {
  const zstd = forcedZstdBackend();
  const task: BackendTask = zstd === undefined ? { op: "backend" } : { op: "backend", zstd };
  return (await getPool(threads).run(task)) as ZstdBackendName;
}

/** Size of the live pool and how many tasks it has completed; `null` when no pool runs. */
export function poolStats(): { readonly threads: number; readonly completed: number } | null {
  return pool === undefined ? null : { threads: pool.maxThreads, completed: pool.completed };
}

/** Stops the pool (idempotent). Queued tasks are finished first. */
export async function closePool(): Promise<void> {
  const p = pool;
  pool = undefined;
  if (p !== undefined) await p.close();
}
