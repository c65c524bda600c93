/**
 * Executor-driven writes on an Icechunk store: the workers commit on a job
 * branch, and the collection's branch moves to the job's head in one
 * compare-and-swap once every task succeeded.
 *
 * The Node binding of Icechunk cannot hand a session to another process
 * (no session fork), so the workers cannot add to the caller's
 * transaction. The branch is the transaction instead:
 *
 * 1. **plan** (caller): note the head `H` of the collection's branch and
 *    create the branch `zc-job-<id>` at `H`; on it, commit what the tasks
 *    share — the parent groups of new partitions, the immutable variables
 *    — so that no two tasks create the same group (Icechunk would see two
 *    writers of one node as a conflict);
 * 2. **tasks** (workers): open the collection at
 *    `icechunk://<path>?branch=zc-job-<id>` and write their partition in
 *    one commit each; commits of other partitions made meanwhile are
 *    rebased over (disjoint nodes). A task run twice rewrites the same
 *    partition with the same content;
 * 3. **commit** (caller), after every task succeeded: the catalog on the
 *    job branch, then the collection's branch is moved from `H` to the
 *    job's head — readers see all partitions at once or none — and the job
 *    branch is deleted.
 *
 * When another writer committed on the collection's branch after `H`, the
 * move is refused with a ConflictError: nothing of the job is published,
 * the other writer's commit stands, and running the operation again is
 * safe. A failed or aborted operation deletes its job branch; the
 * collection's branch never saw it. A caller that dies leaves a
 * `zc-job-*` branch that readers of the collection never see;
 * {@link staleJobBranches} lists them for deletion.
 *
 * @module
 */

import { StoreError } from "../errors.js";
import type { Json } from "../executor/api.js";
import { randomHex } from "../store/keys.js";
import { openStore } from "../store/open.js";
import type { Store } from "../store/store.js";

/** Prefix of the job branches (`zc-job-<time>-<random>`). */
export const JOB_BRANCH_PREFIX = "zc-job-";

/** The branch operations of an Icechunk store that the protocol needs. */
export interface BranchingStore extends Store {
  readonly branch: string | undefined;
  branchHead(branch?: string): Promise<string>;
  createBranch(name: string, snapshotId: string): Promise<void>;
  moveBranch(snapshotId: string, expected: string): Promise<void>;
  deleteBranch(name: string): Promise<void>;
  branches(): Promise<string[]>;
}

/** Whether `store` is a transactional store with branches (Icechunk). */
export function isBranchingStore(store: Store): store is BranchingStore {
  const s = store as Partial<BranchingStore>;
  return (
    store.transactional &&
    typeof s.branchHead === "function" &&
    typeof s.createBranch === "function" &&
    typeof s.moveBranch === "function" &&
    typeof s.deleteBranch === "function"
  );
}

/** The steps of one job (see the module comment). */
export interface JobSteps<T> {
  /** Before the tasks, on the job branch, committed at once: shared groups, immutable variables. */
  prepare?: ((job: Store) => Promise<void>) | undefined;
  /** Runs the tasks; `url` opens the job branch (give it to the workers). */
  run: (url: string) => Promise<T>;
  /** After the tasks, on the job branch, committed at once: the catalog. */
  finish?: ((job: Store, result: T) => Promise<void>) | undefined;
}

/**
 * Runs one job on a branch of `store` and publishes it on the store's
 * branch (see the module comment).
 *
 * @returns what `steps.run` returned.
 * @throws StoreError when `store` has no branches or is opened at a tag or
 *   snapshot; ConflictError when the store's branch moved during the job
 *   (nothing published); whatever a step threw (nothing published).
 */
export async function runOnJobBranch<T>(
  store: Store,
  steps: JobSteps<T>,
  opts: { storageOptions?: Record<string, Json> | undefined } = {},
): Promise<T> {
  if (!isBranchingStore(store) || store.branch === undefined) {
    throw new StoreError(`${store.rootUri}: an executor needs a writable Icechunk branch`, {
      key: store.rootUri,
    });
  }
  const base = await store.branchHead();
  const name = `${JOB_BRANCH_PREFIX}${Date.now().toString(36)}-${randomHex(4)}`;
  await store.createBranch(name, base);
  const url = `${store.rootUri}?branch=${encodeURIComponent(name)}`;
  let job: Store | undefined;
  try {
    job = await openStore(url, opts.storageOptions ? { storageOptions: opts.storageOptions } : {});
    const onJob = job;
    if (steps.prepare) await onJob.session(() => (steps.prepare as (s: Store) => Promise<void>)(onJob));
    const result = await steps.run(url);
    if (steps.finish) await onJob.session(() => (steps.finish as JobSteps<T>["finish"] & {})(onJob, result));
    await store.moveBranch(await store.branchHead(name), base);
    return result;
  } finally {
    await job?.close();
    await store.deleteBranch(name).catch(() => undefined);
  }
}

/**
 * The job branches of the repository behind `store`: those of operations
 * running now, and those left by callers that died mid-operation (nothing
 * of them was published; delete them with `store.deleteBranch` once no
 * operation runs).
 */
export async function staleJobBranches(store: BranchingStore): Promise<string[]> {
  return (await store.branches()).filter((b) => b.startsWith(JOB_BRANCH_PREFIX));
}
