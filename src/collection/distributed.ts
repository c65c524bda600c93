/**
 * `map` and `update` on an executor (../executor/api.ts): one task per
 * partition, run by workers, and for `update` one commit here.
 *
 * `update` on a store with conditional writes:
 * 1. the operation's record is written and the lease of every target
 *    acquired — held (renewed) until the end, so that no other writer
 *    changes a partition between a worker's read and the publication;
 * 2. each task reads its partition, calls the user function and writes the
 *    result under `staging/<operation>/<attempt>/<partition>` (a fresh
 *    prefix per attempt: a retried task never writes over another
 *    attempt's files) — nothing is visible yet;
 * 3. once every task succeeded, each partition's staged content is
 *    published here through the staged-replace protocol (an intent, then
 *    the swap), and the operation ends; when a task failed for good,
 *    nothing is published and the staged content is deleted.
 *
 * @module
 */

import { Dataset } from "../data/dataset.js";
import { ReadOnlyError, SchemaError, StoreError } from "../errors.js";
import {
  type Executor,
  type ExecutorProgress,
  type FunctionRef,
  type Json,
  registerTaskHandler,
  type TaskSpec,
} from "../executor/api.js";
import { loadFunction, normalizeFunctionRef } from "../executor/functions.js";
import type { DatasetSchema } from "../schema/index.js";
import { randomHex } from "../store/keys.js";
import type { Store } from "../store/store.js";
import { mapConcurrent } from "../util/concurrency.js";
import { attach } from "./assemble.js";
import { bindToSchema } from "./bind.js";
import { Collection } from "./collection.js";
import { runOnJobBranch } from "./icechunk-job.js";
import { JournalLayout } from "./journal.js";
import { settleOperation } from "./mutations.js";
import {
  readImmutables,
  readPartition,
  selectPaths,
  type WritePartitionOptions,
  writePartition,
  writePartitionContent,
} from "./partition-io.js";
import { WriteOperation } from "./write-operation.js";

/** Where a task finds its collection: a URL workers can open, and the options of its store. */
export interface StoreRef {
  readonly url: string;
  readonly storageOptions?: Record<string, Json>;
}

/** Options of the executor-driven operations. */
export interface ExecutorRunOptions {
  signal?: AbortSignal | undefined;
  onProgress?: ((p: ExecutorProgress) => void) | undefined;
  /** Options of the store, sent to the workers (default: their environment's). */
  storageOptions?: Record<string, Json> | undefined;
}

/**
 * The reference tasks carry to `store`.
 *
 * @throws StoreError for a `memory://` store and an executor of other
 *   processes (they cannot see this process's memory).
 */
export function storeRef(store: Store, executor: Executor, storageOptions?: Record<string, Json>): StoreRef {
  if (store.rootUri.startsWith("memory://") && executor.description !== "in-process") {
    throw new StoreError(
      `${store.rootUri} lives in this process's memory: workers of ${executor.description} cannot reach it`,
      { key: store.rootUri },
    );
  }
  return { url: store.rootUri, ...(storageOptions ? { storageOptions } : {}) };
}

const OPENED = new Map<string, Promise<Collection>>();
const MAX_OPENED = 16;

/** Opens (once per process) the collection a task names. */
export function openForTask(ref: StoreRef, mode: "r" | "rw"): Promise<Collection> {
  const key = JSON.stringify([ref.url, mode, ref.storageOptions ?? null]);
  let opened = OPENED.get(key);
  if (opened === undefined) {
    // The planning process recovers; a worker must not touch another writer's journal.
    opened = Collection.open(ref.url, {
      mode,
      recover: false,
      ...(ref.storageOptions ? { storageOptions: ref.storageOptions } : {}),
    });
    opened.catch(() => OPENED.delete(key));
    OPENED.set(key, opened);
    // Each Icechunk operation has a branch of its own: keep the last few collections only.
    while (OPENED.size > MAX_OPENED) OPENED.delete(OPENED.keys().next().value as string);
  }
  return opened;
}

/** A partition with the immutable variables attached; `undefined` when it is not published. */
export async function readForTask(
  col: Collection,
  partition: string,
  variables: readonly string[] | null,
  signal: AbortSignal,
): Promise<Dataset | undefined> {
  const wanted = selectPaths(col.schema, variables ?? undefined);
  const ds = await readPartition(col.store, partition, col.schema, wanted, { signal });
  if (ds === undefined) return undefined;
  const immutables = await readImmutables(col.store, col.schema, wanted, { signal });
  return immutables.length === 0 ? ds : attach(ds, immutables, col.schema);
}

/** A fresh staging prefix for one attempt of a task of operation `operation` on `target`. */
export function attemptPrefix(store: Store, operation: string, target: string): string {
  return new JournalLayout(store).staged(`${operation}/${randomHex(6)}`, target);
}

/**
 * Writes a task's partition where the caller publishes it from. On a store
 * with conditional writes: under a fresh attempt prefix, returned as
 * `{ staged }` (./write-operation.ts publishes it). On Icechunk, where the
 * task's store is opened at the operation's job branch
 * (./icechunk-job.ts): the partition itself, in one commit, returned as
 * `{ written: true }`.
 */
export async function writeTaskResult(
  target: { readonly store: Store; readonly schema: DatasetSchema },
  operation: string,
  partition: string,
  ds: Dataset,
  opts: WritePartitionOptions & { signal: AbortSignal },
): Promise<Json> {
  const { store, schema } = target;
  if (store.transactional) {
    await store.session(() => writePartition(store, partition, ds, schema, opts), {
      message: `zcollection ${operation}: ${partition}`,
    });
    return { written: true };
  }
  const staged = attemptPrefix(store, operation, partition);
  await writePartitionContent(store, staged, ds, schema, opts);
  return { staged };
}

/**
 * A value as JSON: typed arrays and NDArrays become arrays, bigints numbers
 * (strings beyond 2^53), NaN and infinities null.
 */
export function toJson(value: unknown): Json {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<unknown>, toJson);
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === "object") {
    const data = (value as { data?: unknown; shape?: unknown }).data;
    if (data !== undefined && Array.isArray((value as { shape?: unknown }).shape)) return toJson(data);
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = toJson(v);
    return out;
  }
  return null;
}

registerTaskHandler("collection.map", async (task, { signal }): Promise<Json> => {
  const col = await openForTask(task.store as unknown as StoreRef, "r");
  const fn = await loadFunction<(ds: Dataset, partition: string) => unknown>(
    task.fn as unknown as FunctionRef,
  );
  const ds = await readForTask(col, task.partition, task.variables as string[] | null, signal);
  if (ds === undefined) return { missing: true };
  return { value: toJson(await fn(ds, task.partition)) };
});

registerTaskHandler("collection.update", async (task, { signal }): Promise<Json> => {
  const col = await openForTask(task.store as unknown as StoreRef, "rw");
  const fn = await loadFunction<(ds: Dataset, partition: string) => Dataset | Promise<Dataset>>(
    task.fn as unknown as FunctionRef,
  );
  const ds = await readForTask(col, task.partition, task.variables as string[] | null, signal);
  if (ds === undefined) return { staged: null };
  const result = await fn(ds, task.partition);
  if (!(result instanceof Dataset) && typeof (result as Dataset | undefined)?.allVariables !== "function") {
    throw new SchemaError(`update function must return a Dataset (partition '${task.partition}')`);
  }
  const bound = await bindToSchema(result, col.schema, col.store.rootUri, signal);
  return writeTaskResult(col, task.operation as string, task.partition, bound, {
    attrs: bound.attrs,
    signal,
  });
});

/** The tasks of `kind` over `paths`. */
function tasksOf(kind: string, paths: readonly string[], common: Record<string, Json>): TaskSpec[] {
  return paths.map((partition) => ({ kind, partition, ...common }));
}

/**
 * `collection.map(fn)` on an executor: `fn` (named by `ref`) runs on the
 * workers; its results travel as JSON.
 *
 * @returns partition path → result, in the order of `paths`.
 */
export async function mapOnExecutor(
  col: Collection,
  ref: FunctionRef,
  paths: readonly string[],
  variables: readonly string[] | undefined,
  executor: Executor,
  opts: ExecutorRunOptions = {},
): Promise<Map<string, Json>> {
  const tasks = tasksOf("collection.map", paths, {
    store: storeRef(col.store, executor, opts.storageOptions) as unknown as Json,
    fn: normalizeFunctionRef(ref) as unknown as Json,
    variables: variables === undefined ? null : [...variables],
  });
  const outcomes = await executor.run(tasks, { signal: opts.signal, onProgress: opts.onProgress });
  const out = new Map<string, Json>();
  for (const o of outcomes) {
    const r = o.result as { value?: Json; missing?: boolean };
    if (r.missing !== true) out.set(o.task.partition, r.value ?? null);
  }
  return out;
}

/**
 * `collection.update(fn)` on an executor (see the module comment).
 *
 * @returns the paths rewritten, in the order of `paths`.
 * On Icechunk the tasks commit on a job branch that becomes the
 * collection's branch at once (./icechunk-job.ts).
 *
 * @throws ReadOnlyError; ConflictError when another writer holds a
 *   partition past the wait, or (Icechunk) committed during the operation;
 *   the first task's error.
 */
export async function updateOnExecutor(
  col: Collection,
  ref: FunctionRef,
  paths: readonly string[],
  variables: readonly string[] | undefined,
  executor: Executor,
  opts: ExecutorRunOptions = {},
): Promise<string[]> {
  const store = col.store;
  if (col.readOnly) throw new ReadOnlyError(`collection at ${store.rootUri} is read-only`, store.rootUri);
  const fn = normalizeFunctionRef(ref);
  const storeArg = storeRef(store, executor, opts.storageOptions);
  if (paths.length === 0) return [];
  const common = { fn: fn as unknown as Json, variables: variables === undefined ? null : [...variables] };
  if (store.transactional) {
    await runOnJobBranch(
      store,
      {
        run: (url) =>
          executor.run(
            tasksOf("collection.update", paths, {
              ...common,
              store: { ...storeArg, url } as unknown as Json,
              operation: "update",
            }),
            { signal: opts.signal, onProgress: opts.onProgress },
          ),
      },
      { storageOptions: opts.storageOptions },
    );
    return [...paths];
  }
  const op = await WriteOperation.begin(store, { operation: "update", partitions: paths });
  return publishAfter(op, paths, opts.signal, async () => {
    op.markStaged();
    return executor.run(
      tasksOf("collection.update", paths, {
        ...common,
        store: storeArg as unknown as Json,
        operation: op.id,
      }),
      { signal: opts.signal, onProgress: opts.onProgress },
    );
  });
}

/**
 * Holds the leases of `targets`, runs the tasks, then publishes what each
 * staged (`{ staged }` results) and ends the operation — whatever happened.
 *
 * @returns the targets, in order.
 */
export async function publishAfter(
  op: WriteOperation,
  targets: readonly string[],
  signal: AbortSignal | undefined,
  run: () => Promise<ReadonlyArray<{ task: TaskSpec; result: Json }>>,
  catalog = false,
): Promise<string[]> {
  return settleOperation(op, signal, async () => {
    await mapConcurrent(targets, 16, (t, _i, inner) => op.hold(t, { signal: inner }), signal);
    const outcomes = await run();
    // Past this point the staged content is published even when aborted: each target is old or new.
    await mapConcurrent(outcomes, 8, async ({ task, result }) => {
      const staged = (result as { staged?: string | null }).staged;
      const target = task.partition;
      if (typeof staged !== "string") return;
      await op.withTarget(target, (h) => h.publishStaged(staged), catalog ? { catalogPath: target } : {});
    });
    return [...targets];
  });
}
