/**
 * `zcollection worker <queue-url>`: a process that runs the tasks other
 * processes put on a BullMQ queue (`--executor <queue-url>` of `ingest`, the
 * `executor` option of the library's operations), until Ctrl-C or SIGTERM.
 * The queue lives in Redis (`redis://`) or PostgreSQL (`postgres://`).
 *
 * Every worker must reach what the tasks name: the collections' stores
 * (`file://` paths on a shared file system, `s3://` with credentials in its
 * environment, `icechunk://` directories on a shared file system), the input files of `ingest`, and the modules of user
 * functions.
 *
 * @module
 */

import type { CliIO } from "./io.js";

/** Options of {@link worker}. */
export interface WorkerCliOptions {
  /** Tasks run at once by this process (default 2). */
  concurrency?: number;
  /** Print a line per task on stderr. */
  verbose?: boolean;
}

/** Loads every task handler, so that this process can run any task. */
export async function loadTaskHandlers(): Promise<void> {
  await Promise.all([
    import("../collection/distributed.js"),
    import("../collection/distributed-insert.js"),
    import("../view/distributed.js"),
    import("../indexing/distributed.js"),
    import("./ingest-tasks.js"),
  ]);
}

/**
 * Runs a worker on the queue at `url` until `io.signal` aborts, then lets
 * the running tasks finish (at most 10 s) and returns 0.
 *
 * @throws TypeError (exit 2) for a malformed queue URL; connection errors.
 */
export async function worker(url: string, opts: WorkerCliOptions, io: CliIO): Promise<number> {
  await loadTaskHandlers();
  const { startWorker } = await import("../executor/worker.js");
  const running = await startWorker(url, {
    concurrency: opts.concurrency ?? 2,
    ...(opts.verbose === true
      ? {
          onJob: (e: { state: string; task: { kind: string; partition: string }; error?: string }) =>
            io.stderr.write(
              `${e.state} ${e.task.kind} ${e.task.partition}${e.error ? `: ${e.error}` : ""}\n`,
            ),
        }
      : {}),
  });
  const { parseQueueUrl } = await import("../executor/queue-url.js");
  io.stdout.write(`worker ${running.name} ready on ${parseQueueUrl(url).display}\n`);
  await new Promise<void>((resolve) => {
    if (io.signal === undefined) return;
    if (io.signal.aborted) resolve();
    else io.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await running.close(10_000);
  io.stdout.write(`worker ${running.name} stopped\n`);
  return 0;
}
