/**
 * The BullMQ executor: an operation's tasks become jobs of a BullMQ queue
 * on Redis, run by `zcollection worker` processes on any number of
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
 * Queue URL: `redis://[user:password@]host:port[/db][?queue=name]`
 * (default queue `zcollection`).
 *
 * @module
 */

import { randomBytes } from "node:crypto";
import { type ConnectionOptions, Job, Queue, QueueEvents } from "bullmq";
import type { Executor, Json, RunOptions, TaskOutcome, TaskSpec } from "./api.js";
import { decodeError } from "./errors.js";

/** Default queue name. */
export const DEFAULT_QUEUE = "zcollection";

/** Retries of a task whose worker failed with a transient error. */
const ATTEMPTS = 4;

/** How long a failed or aborted operation waits for its running tasks to end (ms). */
const SETTLE_MS = 60_000;

/** How often unfinished jobs are checked besides the queue's events (ms). */
const POLL_MS = 2000;

/** Where a queue lives, parsed from its URL. */
export interface QueueLocation {
  /** Redis connection options. */
  readonly connection: ConnectionOptions;
  /** The queue name. */
  readonly queue: string;
  /** The URL without credentials, for messages. */
  readonly display: string;
}

/**
 * Parses a queue URL.
 *
 * @throws TypeError for another scheme (`postgres://` is named as not yet
 *   supported) or a malformed URL.
 */
export function parseQueueUrl(url: string): QueueLocation {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError(`not a queue URL: '${url}' (expected redis://host:port[/db][?queue=name])`);
  }
  if (u.protocol === "postgres:" || u.protocol === "postgresql:") {
    throw new TypeError(
      `queue URL '${url}': the PostgreSQL backend is not supported yet; use redis://host:port`,
    );
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") {
    throw new TypeError(`queue URL '${url}': expected redis://host:port[/db][?queue=name]`);
  }
  const db = u.pathname.replace(/^\/+/, "");
  if (db !== "" && !/^\d+$/.test(db))
    throw new TypeError(`queue URL '${url}': the path must be a database number`);
  const queue = u.searchParams.get("queue") ?? DEFAULT_QUEUE;
  if (queue.includes(":")) throw new TypeError(`queue URL '${url}': a queue name may not contain ':'`);
  const connection: ConnectionOptions = {
    host: u.hostname || "127.0.0.1",
    port: u.port === "" ? 6379 : Number(u.port),
    ...(db === "" ? {} : { db: Number(db) }),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === "rediss:" ? { tls: {} } : {}),
    // Required by BullMQ's blocking connections; harmless for the others.
    maxRetriesPerRequest: null,
  };
  return {
    connection,
    queue,
    display: `${u.protocol}//${u.host}${u.pathname}${u.search}`,
  };
}

/** What a worker returns for a job (see ./worker.ts). */
interface JobReturn {
  result: Json;
  worker: string;
}

/** See the module comment. */
export class BullMQExecutor implements Executor {
  readonly description: string;
  readonly #location: QueueLocation;
  readonly #queue: Queue;
  #events: QueueEvents | undefined;

  private constructor(location: QueueLocation) {
    this.#location = location;
    this.description = location.display;
    this.#queue = new Queue(location.queue, { connection: location.connection });
  }

  /** Connects to the queue at `url` (see {@link parseQueueUrl}). */
  static async connect(url: string): Promise<BullMQExecutor> {
    const executor = new BullMQExecutor(parseQueueUrl(url));
    await executor.#queue.waitUntilReady();
    return executor;
  }

  async #eventsReady(): Promise<QueueEvents> {
    if (this.#events === undefined) {
      this.#events = new QueueEvents(this.#location.queue, { connection: this.#location.connection });
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
      const check = async (id: string) => {
        // The state first, then the job: a job read before it completed has no return value yet.
        const state = await this.#queue.getJobState(id);
        if (settled || (state !== "completed" && state !== "failed")) return;
        const job = await Job.fromId(this.#queue, id);
        if (job === undefined || settled) return;
        if (state === "completed" && job.returnvalue != null) complete(id, job.returnvalue);
        else if (state === "failed") finish(decodeError(job.failedReason ?? `task ${id} failed`));
      };
      const onCompleted = (args: { jobId: string; returnvalue: string }) => {
        if (index.has(args.jobId)) complete(args.jobId, args.returnvalue);
      };
      const onFailed = (args: { jobId: string }) => {
        // Also sent for attempts that will be retried: the job's state tells.
        if (index.has(args.jobId)) check(args.jobId).catch((err) => finish(err));
      };
      const onAbort = () => finish(opts.signal?.reason);
      const poller = setInterval(() => {
        const pending = ids.filter((_, i) => outcomes[i] === undefined).slice(0, 64);
        Promise.all(pending.map(check)).catch((err) => finish(err));
      }, POLL_MS);
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
