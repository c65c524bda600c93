/**
 * A BullMQ worker process (`zcollection worker <queue-url>`): takes the
 * jobs of the queue (on Redis or PostgreSQL) and runs them with the task
 * handlers of the library.
 *
 * @module
 */

import { UnrecoverableError } from "bullmq";
import { type Json, type TaskSpec, taskHandler, workerName } from "./api.js";
import { encodeError, isTransient } from "./errors.js";
import { openWorker, parseQueueUrl } from "./queue-url.js";

/** Options of {@link startWorker}. */
export interface WorkerOptions {
  /** Jobs run at once by this process (default 2). */
  concurrency?: number;
  /**
   * How long a job's lock lasts without renewal, in ms (default 10 000):
   * a worker that dies loses its jobs to another worker after about this long.
   */
  lockDurationMs?: number;
  /** Called when a job starts and ends (logging). */
  onJob?: (event: { state: "active" | "completed" | "failed"; task: TaskSpec; error?: string }) => void;
}

/** A running worker. */
export interface RunningWorker {
  /** `host:pid`. */
  readonly name: string;
  /**
   * Stops taking jobs and waits for the running ones, at most `timeoutMs`
   * (default 10 s; a worker whose server is gone would otherwise hang).
   */
  close(timeoutMs?: number): Promise<void>;
}

/**
 * Starts a worker on the queue at `url` (`redis://…` or `postgres://…`, see
 * {@link parseQueueUrl}), resolved once it is connected.
 *
 * Errors that would fail the same way again are not retried (BullMQ's
 * `UnrecoverableError`); store and network errors are.
 *
 * @throws TypeError for a malformed queue URL; the connection's error when
 *   the server cannot be reached (or, on PostgreSQL, BullMQ's tables cannot
 *   be created).
 */
export async function startWorker(url: string, opts: WorkerOptions = {}): Promise<RunningWorker> {
  const location = parseQueueUrl(url);
  const lockDuration = opts.lockDurationMs ?? 10_000;
  const worker = openWorker(
    location,
    async (job, _token, signal) => {
      const task = job.data as TaskSpec;
      opts.onJob?.({ state: "active", task });
      try {
        const handler = taskHandler(task.kind);
        const result = await handler(task, { signal: signal ?? new AbortController().signal });
        opts.onJob?.({ state: "completed", task });
        return { result: (result ?? null) as Json, worker: workerName() };
      } catch (err) {
        const text = encodeError(err);
        opts.onJob?.({ state: "failed", task, error: text });
        if (isTransient(err)) throw err instanceof Error ? err : new Error(text);
        throw new UnrecoverableError(text);
      }
    },
    {
      concurrency: opts.concurrency ?? 2,
      lockDuration,
      stalledInterval: Math.max(1000, Math.floor(lockDuration / 2)),
      maxStalledCount: 5,
    },
  );
  worker.on("error", () => {
    // Connection errors are retried (ioredis, BullMQ's PostgreSQL pool); they are reported by the
    // jobs that fail.
  });
  await worker.waitUntilReady();
  return {
    name: workerName(),
    async close(timeoutMs = 10_000) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        worker.close().catch(() => undefined),
        new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            // Its jobs are left locked: their locks expire and other workers run them again.
            worker.close(true).catch(() => undefined);
            resolve();
          }, timeoutMs);
        }),
      ]);
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
