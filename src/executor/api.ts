/**
 * The contract between the operations that fan out over partitions
 * (`insert` of files, `map`, `update`, `View.update`, `Indexer.build`) and
 * the executors that run their tasks: in this process, or on BullMQ workers
 * on other machines.
 *
 * An operation is planned as a list of **tasks**, plain JSON documents, one
 * per partition, each independent of the others and idempotent (running it
 * twice leaves the store as running it once: writing tasks only stage
 * content, which the operation publishes). The executor runs them, retries
 * the ones whose worker died, and returns one result per task; the
 * operation then **commits** once (publishes the staged partitions, updates
 * the catalog, writes the index file).
 *
 * User code cannot travel to another process: functions are named by a
 * {@link FunctionRef} (module specifier and export), which every worker
 * imports.
 *
 * This module imports nothing of the library but its utilities, so that
 * every layer may use it.
 *
 * @module
 */

import { processIdentity } from "../util/process-identity.js";

/** A JSON value (what tasks and their results are made of). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A function every worker can import: `export` of the module `module`.
 * With `args`, the export is a factory called with them to obtain the
 * function (e.g. `{ module: "zcollection/indexing", export: "runsOf",
 * args: [["cycle_number", "pass_number"]] }`).
 *
 * Relative specifiers (`./recompute.mjs`) are resolved against the current
 * directory of the process that plans the operation, so workers must see
 * the same path (a shared file system) — or use a package name or a
 * `file://` / `https://` URL.
 */
export interface FunctionRef {
  readonly module: string;
  readonly export: string;
  readonly args?: readonly Json[];
}

/** One task: what to do with one partition. `kind` selects the handler. */
export interface TaskSpec {
  /** The handler, e.g. `collection.update`. */
  readonly kind: string;
  /** What the task works on, for progress and messages (usually a partition path). */
  readonly partition: string;
  /** The handler's arguments. */
  readonly [key: string]: Json;
}

/** What a task returned, and where it ran. */
export interface TaskOutcome {
  readonly task: TaskSpec;
  readonly result: Json;
  /** `host:pid` of the process that ran it. */
  readonly worker: string;
}

/** Progress of an operation run by an executor. */
export interface ExecutorProgress {
  done: number;
  total: number;
  partition?: string;
  /** `host:pid` of the process that ran the task just finished. */
  worker?: string;
}

/** Options of {@link Executor.run}. */
export interface RunOptions {
  /** Stops the operation: tasks not started are withdrawn; the call rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
  onProgress?: ((p: ExecutorProgress) => void) | undefined;
  /** Tasks run at once (in-process executor only; workers set their own concurrency). */
  concurrency?: number | undefined;
}

/**
 * Runs tasks. Implementations: {@link InProcessExecutor} (this process) and
 * the BullMQ executor (`redis://…` or `postgres://…`).
 */
export interface Executor {
  /** Where tasks run: `in-process`, or the queue's URL without credentials. */
  readonly description: string;
  /**
   * Runs every task and resolves with their outcomes in task order, once
   * all succeeded.
   *
   * @throws the error of the first task that failed for good (after the
   *   executor's retries), with the task's partition in its message; the
   *   signal's reason when aborted.
   */
  run(tasks: readonly TaskSpec[], opts?: RunOptions): Promise<TaskOutcome[]>;
  /** Releases connections (the in-process executor has none). */
  close(): Promise<void>;
}

/**
 * The `executor` option of the operations that fan out over partitions: an
 * Executor, a queue URL (`redis://host:port[/db][?queue=name]` or `postgres://host:port/db[?queue=name]`: BullMQ
 * workers started with `zcollection worker`), or `"in-process"`.
 */
export type ExecutorOption = Executor | string;

/** A task handler: runs one task in a worker (or in this process). */
export type TaskHandler = (task: TaskSpec, ctx: { signal: AbortSignal }) => Promise<Json>;

const HANDLERS = new Map<string, TaskHandler>();

/** Registers the handler of `kind` (called by the modules defining them). */
export function registerTaskHandler(kind: string, handler: TaskHandler): void {
  HANDLERS.set(kind, handler);
}

/**
 * The handler of `kind`. Handlers are registered by the modules that plan
 * their tasks (so they exist wherever a task is planned) and by the worker
 * command, which loads them all.
 *
 * @throws Error naming the kind when no handler is registered.
 */
export function taskHandler(kind: string): TaskHandler {
  const handler = HANDLERS.get(kind);
  if (handler === undefined) {
    throw new Error(`no handler for tasks of kind '${kind}' in this process (is it a zcollection worker?)`);
  }
  return handler;
}

/** `host:pid` of this process. */
export function workerName(): string {
  const me = processIdentity();
  return `${me.host}:${me.pid}`;
}
