/**
 * The BullMQ executor: an operation's tasks become jobs of a BullMQ queue
 * on Redis or PostgreSQL, run by `zcollection worker` processes on any number of
 * machines; the operation waits for all of them, then commits in the
 * calling process.
 *
 * BullMQ gives what the tasks need: durable jobs, retries with backoff, and
 * stalled-job recovery — a worker killed mid-task loses its job lock and
 * the job runs again elsewhere. A task is idempotent (it stages, the
 * operation publishes the staged content of the one attempt that
 * completed), so a second run is harmless. Errors that would fail the same
 * way again (a bad file, a schema mismatch, a failing user function) are
 * not retried.
 *
 * Queue URL: `redis://[user:password@]host:port[/db][?queue=name]` or
 * `postgres://[user:password@]host:port/database[?queue=name&schema=name]`
 * (default queue `zcollection`; see ./queue-url.ts).
 *
 * @module
 */

import { randomBytes } from "node:crypto";
import { Job } from "bullmq";
import type { Executor, Json, RunOptions, TaskOutcome, TaskSpec } from "./api.js";
import { decodeError } from "./errors.js";
import {
  type AnyQueue,
  type AnyQueueEvents,
  openQueue,
  openQueueEvents,
  parseQueueUrl,
  type QueueLocation,
} from "./queue-url.js";

export {
  DEFAULT_QUEUE,
  type PostgresQueueLocation,
  parseQueueUrl,
  type QueueLocation,
  type RedisQueueLocation,
} from "./queue-url.js";

/** Retries of a task whose worker failed with a transient error. */
const ATTEMPTS = 4;

/** How long a failed or aborted operation waits for its running tasks to end (ms). */
const SETTLE_MS = 60_000;

/** How often unfinished jobs are checked besides the queue's events (ms). */
const POLL_MS = 2000;

/**
 * The same on PostgreSQL (ms), whose queue events miss some when workers
 * finish jobs at the same time (an event committed after a later one is
 * not read).
 */
const POLL_MS_POSTGRES = 1000;

/** Unfinished jobs read at once by a check. */
const POLL_BATCH = 64;

/** What a worker returns for a job (see ./worker.ts). */
interface JobReturn {
  result: Json;
  worker: string;
}

/** See the module comment. */
export class BullMQExecutor implements Executor {
  readonly description: string;
  readonly #location: QueueLocation;
  readonly #queue: AnyQueue;
  #events: AnyQueueEvents | undefined;
  readonly #pollMs: number;

  private constructor(location: QueueLocation) {
    this.#location = location;
    this.description = location.display;
    this.#queue = openQueue(location);
    this.#pollMs = location.backend === "postgres" ? POLL_MS_POSTGRES : POLL_MS;
  }

  /**
   * Connects to the queue at `url` (see {@link parseQueueUrl}); on
   * PostgreSQL, creates BullMQ's tables when the schema has none.
   *
   * @throws TypeError for a malformed URL; the connection's error when the
   *   server cannot be reached.
   */
  static async connect(url: string): Promise<BullMQExecutor> {
    const executor = new BullMQExecutor(parseQueueUrl(url));
    await executor.#queue.waitUntilReady();
    return executor;
  }

  async #eventsReady(): Promise<AnyQueueEvents> {
    if (this.#events === undefined) {
      this.#events = openQueueEvents(this.#location);
      await this.#events.waitUntilReady();
    }
    return this.#events;
  }

  /**
   * @see Executor.run. Jobs are named `<operation>.<n>` (BullMQ ids may not
   * contain `:`), kept for an hour once done.
   */
  async run(tasks: readonly TaskSpec[], opts: RunOptions = {}): Promise<TaskOutcome[]> {
    opts.signal?.throwIfAborted();
    if (tasks.length === 0) return [];
    const events = await this.#eventsReady();
    const op = `${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
    const ids = tasks.map((_, i) => `${op}.${i}`);
    const index = new Map(ids.map((id, i) => [id, i]));
    const outcomes: Array<TaskOutcome | undefined> = new Array(tasks.length);
    let done = 0;

    return new Promise<TaskOutcome[]>((resolve, reject) => {
      let settled = false;
      const finish = (error?: unknown) => {
        if (settled) return;
        settled = true;
        clearInterval(poller);
        events.off("completed", onCompleted);
        events.off("failed", onFailed);
        opts.signal?.removeEventListener("abort", onAbort);
        if (error === undefined) {
          resolve(outcomes as TaskOutcome[]);
          return;
        }
        // Withdraw what has not started and wait for what runs (it only stages; the caller then
        // discards the staged content): nothing of this operation is written after the rejection.
        const pending = ids.filter((_, i) => outcomes[i] === undefined);
        void this.#withdraw(pending)
          .then(() => this.#whileActive(pending))
          .finally(() => reject(error));
      };
      const complete = (id: string, value: unknown) => {
        const i = index.get(id);
        if (i === undefined || outcomes[i] !== undefined || settled) return;
        const ret = (typeof value === "string" ? JSON.parse(value) : value) as JobReturn | null;
        if (ret === null || typeof ret !== "object") return; // not delivered yet: the next check gets it
        const task = tasks[i] as TaskSpec;
        outcomes[i] = { task, result: ret.result, worker: ret.worker };
        done += 1;
        opts.onProgress?.({ done, total: tasks.length, partition: task.partition, worker: ret.worker });
        if (done === tasks.length) finish();
      };
      /** Reads whether job `id` ended, in one atomic call; true when it did. */
      const check = async (id: string): Promise<boolean> => {
        const [status, value] = (await this.#queue.backend.isFinished(id, true)) as [number, string?];
        if (settled) return false;
        if (status === 1 && value != null) complete(id, value);
        else if (status === 2) finish(decodeError(value || `task ${id} failed`));
        return status === 1 || status === 2;
      };
      const onCompleted = (args: { jobId: string; returnvalue: unknown }) => {
        if (index.has(args.jobId)) complete(args.jobId, args.returnvalue);
      };
      const onFailed = (args: { jobId: string }) => {
        // Also sent for attempts that will be retried: the job's state tells.
        if (index.has(args.jobId)) check(args.jobId).catch((err) => finish(err));
      };
      const onAbort = () => finish(opts.signal?.reason);
      // The queue's events may miss some (a lost connection; on PostgreSQL, events committed out of
      // order): the oldest unfinished jobs are read from time to time, the next ones at once while
      // most of those read had ended, so that lost events cost a read each, not a poll period each.
      let polling = false;
      const poll = async () => {
        if (polling) return;
        polling = true;
        try {
          let from = 0;
          while (!settled) {
            const pending: string[] = [];
            for (let i = from; i < ids.length && pending.length < POLL_BATCH; i++)
              if (outcomes[i] === undefined) pending.push(ids[i] as string);
            if (pending.length === 0) break;
            const ended = (await Promise.all(pending.map(check))).filter(Boolean).length;
            if (ended * 2 < pending.length) break;
            from = (index.get(pending[pending.length - 1] as string) as number) + 1;
          }
        } finally {
          polling = false;
        }
      };
      const poller = setInterval(() => poll().catch((err) => finish(err)), this.#pollMs);
      events.on("completed", onCompleted);
      events.on("failed", onFailed);
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      this.#queue
        .addBulk(
          tasks.map((task, i) => ({
            name: task.kind,
            data: task,
            opts: {
              jobId: ids[i] as string,
              attempts: ATTEMPTS,
              backoff: { type: "exponential", delay: 500 },
              removeOnComplete: { age: 3600 },
              removeOnFail: { age: 24 * 3600 },
            },
          })),
        )
        .catch((err) => finish(err));
    });
  }

  /** Removes the jobs among `ids` that have not started (active ones cannot be). */
  async #withdraw(ids: readonly string[]): Promise<void> {
    await Promise.allSettled(ids.map((id) => this.#queue.remove(id)));
  }

  /**
   * Waits until none of `ids` runs any more (at most {@link SETTLE_MS}); jobs
   * that were waiting are withdrawn again, in case a retry put them back.
   */
  async #whileActive(ids: readonly string[]): Promise<void> {
    const deadline = Date.now() + SETTLE_MS;
    let left = [...ids];
    while (left.length > 0 && Date.now() < deadline) {
      const states = await Promise.all(
        left.map(async (id) => {
          const job = await Job.fromId(this.#queue, id).catch(() => undefined);
          return job === undefined ? "gone" : await job.getState().catch(() => "unknown");
        }),
      );
      left = left.filter(
        (_, i) => states[i] === "active" || states[i] === "waiting" || states[i] === "delayed",
      );
      if (left.length === 0) break;
      await this.#withdraw(left);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Counts of the queue's jobs by state (diagnostics, tests). */
  jobCounts(): Promise<Record<string, number>> {
    return this.#queue.getJobCounts();
  }

  /** Closes the connections. */
  async close(): Promise<void> {
    await Promise.allSettled([this.#events?.close(), this.#queue.close()]);
  }
}
