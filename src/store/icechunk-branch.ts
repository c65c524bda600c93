/**
 * Branch and commit operations of the Icechunk store (./icechunk.ts,
 * docs/behaviour.md §13.5): the session it reads and writes, transactions
 * run one at a time and committed as one snapshot (rebased over other
 * writers' commits, with a jittered backoff), mutations made outside a
 * transaction grouped into auto-commit batches, and the repository's tags
 * and branch references. Read-only checks stay with the store.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import type {
  Store as IcechunkNodeStore,
  Session as IcechunkSession,
  Repository,
} from "@earthmover/icechunk";
import { ConflictError, StoreError } from "../errors.js";
import { callIcechunk, ensureGroup, icechunkError } from "./icechunk-calls.js";
import { META_ROOT } from "./icechunk-keys.js";
import { describeChanges, firstLine } from "./icechunk-support.js";
import type { SessionOptions } from "./store.js";

/** Commit message of mutations made without an explicit message (docs/format.md §11). */
export const DEFAULT_COMMIT_MESSAGE = "zcollection mutation";

/** Commit message of the creation of the root and `_zc_meta` groups (docs/format.md §11). */
export const BOOTSTRAP_COMMIT_MESSAGE = "bootstrap";

/** Branch opened when none is given. */
export const DEFAULT_BRANCH = "main";

const MAX_COMMIT_ATTEMPTS = 40;

/** A change applied to the node store of the session being committed. */
export type Mutation = (store: IcechunkNodeStore) => Promise<void>;

interface PendingMutation {
  run: Mutation;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * The repository and current session of one Icechunk store: what it reads
 * ({@link BranchSession.current}), its transactions and commits, and the
 * repository's tags and branches. Errors name the store's `uri`.
 */
export class BranchSession {
  readonly #uri: string;
  readonly #branch: string | undefined;
  readonly #repo: Repository;
  #current: IcechunkSession;
  /** Serialises transactions (explicit sessions and auto-commit batches). */
  #tail: Promise<void> = Promise.resolve();
  /** True while the block of an explicit session runs: mutations join it. */
  #inTransaction = false;
  /** Mutations waiting to be applied and committed together (outside sessions). */
  #batch: PendingMutation[] | undefined;
  readonly #context = new AsyncLocalStorage<BranchSession>();

  /**
   * @param uri The store's URI, for messages.
   * @param branch The branch committed to, or `undefined` at a tag or snapshot.
   * @param repo The open repository.
   * @param session The session opened on it (read-only or writable).
   */
  constructor(uri: string, branch: string | undefined, repo: Repository, session: IcechunkSession) {
    this.#uri = uri;
    this.#branch = branch;
    this.#repo = repo;
    this.#current = session;
  }

  /** The session reads go to: replaced after each commit, refresh or discard. */
  get current(): IcechunkSession {
    return this.#current;
  }

  // -- tags and branches -----------------------------------------------------

  /** Creates the tag `name` at the current head of the branch and returns the tagged snapshot id. */
  async tag(name: string): Promise<string> {
    const branch = this.#branch ?? DEFAULT_BRANCH;
    try {
      const head = await this.#repo.lookupBranch(branch);
      await this.#repo.createTag(name, head);
      return head;
    } catch (cause) {
      throw new StoreError(`${this.#uri}: cannot create tag '${name}': ${firstLine(cause)}`, {
        key: name,
        cause,
      });
    }
  }

  /** The snapshot id `branch` (default: this session's) points to now. */
  async branchHead(branch: string = this.#branch ?? DEFAULT_BRANCH): Promise<string> {
    return callIcechunk(this.#uri, branch, () => this.#repo.lookupBranch(branch));
  }

  /** Creates the branch `name` pointing to `snapshotId`. */
  async createBranch(name: string, snapshotId: string): Promise<void> {
    await callIcechunk(this.#uri, name, () => this.#repo.createBranch(name, snapshotId));
  }

  /**
   * Moves this session's branch to `snapshotId` provided it still points to
   * `expected` (one compare-and-swap), then reads from the new head.
   *
   * @throws ConflictError when the branch no longer points to `expected`.
   */
  async moveBranch(snapshotId: string, expected: string): Promise<void> {
    const branch = this.#branch ?? DEFAULT_BRANCH;
    await this.exclusive(async () => {
      try {
        await this.#repo.resetBranch(branch, snapshotId, expected);
      } catch (cause) {
        const head = await this.#repo.lookupBranch(branch).catch(() => undefined);
        if (head !== undefined && head !== expected) {
          throw new ConflictError(
            `${this.#uri}: branch '${branch}' moved from ${expected} to ${head} while the work ` +
              "was done elsewhere (another writer committed); nothing of that work was published",
            this.#uri,
            { cause },
          );
        }
        throw icechunkError(this.#uri, branch, cause);
      }
      await this.#abandon();
    });
  }

  /** Deletes the branch `name`. */
  async deleteBranch(name: string): Promise<void> {
    await callIcechunk(this.#uri, name, () => this.#repo.deleteBranch(name));
  }

  /** Names of the repository's branches, sorted. */
  async branches(): Promise<string[]> {
    return (await callIcechunk(this.#uri, "", () => this.#repo.listBranches())).sort();
  }

  // -- transactions ----------------------------------------------------------

  /**
   * Creates the root `zarr.json` and `_zc_meta/zarr.json` groups if missing,
   * committed as {@link BOOTSTRAP_COMMIT_MESSAGE} (retried when another
   * process bootstraps at the same time).
   */
  async bootstrap(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const store = this.#current.store;
      await ensureGroup(this.#uri, store, "zarr.json");
      await ensureGroup(this.#uri, store, `${META_ROOT}/zarr.json`);
      if (!this.#current.hasUncommittedChanges) return;
      try {
        await this.#commit(BOOTSTRAP_COMMIT_MESSAGE);
        return;
      } catch (err) {
        // Another process bootstrapped at the same time: look again.
        if (attempt >= MAX_COMMIT_ATTEMPTS) throw err;
      }
    }
  }

  /**
   * Runs `fn` as one transaction committed with `opts.message` (default
   * {@link DEFAULT_COMMIT_MESSAGE}; no commit when nothing changed; changes
   * discarded and the rejection rethrown when `fn` rejects). Inside a
   * transaction of this session, just runs `fn`.
   */
  async session<T>(fn: () => Promise<T>, opts?: SessionOptions): Promise<T> {
    if (this.#inTransaction && this.#context.getStore() === this) return fn();
    return this.exclusive(async () => {
      await this.#refresh();
      this.#inTransaction = true;
      let result: T;
      try {
        result = await this.#context.run(this, fn);
      } catch (err) {
        this.#inTransaction = false;
        await this.#abandon();
        throw err;
      }
      this.#inTransaction = false;
      await this.#commit(opts?.message ?? DEFAULT_COMMIT_MESSAGE);
      return result;
    });
  }

  /** Waits for pending commits (at once inside a transaction). */
  async close(): Promise<void> {
    if (this.#inTransaction) return;
    await this.#tail;
  }

  /** Applies a mutation: inside a running session directly, otherwise in the next auto-commit batch. */
  mutate(run: Mutation): Promise<void> {
    if (this.#inTransaction) return run(this.#current.store);
    return new Promise<void>((resolve, reject) => {
      if (this.#batch === undefined) {
        const batch: PendingMutation[] = [];
        this.#batch = batch;
        void this.exclusive(async () => {
          this.#batch = undefined;
          await this.#flush(batch);
        });
      }
      this.#batch.push({ run, resolve, reject });
    });
  }

  async #flush(batch: PendingMutation[]): Promise<void> {
    const failures = new Map<PendingMutation, unknown>();
    try {
      await this.#refresh();
      for (const item of batch) {
        try {
          await item.run(this.#current.store);
        } catch (err) {
          failures.set(item, err);
        }
      }
      await this.#commit(DEFAULT_COMMIT_MESSAGE);
    } catch (err) {
      for (const item of batch) item.reject(failures.get(item) ?? err);
      return;
    }
    for (const item of batch) {
      if (failures.has(item)) item.reject(failures.get(item));
      else item.resolve();
    }
  }

  /** Runs `fn` after every transaction queued before it. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn);
    this.#tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Moves a session without changes to the branch head, so the transaction starts from the latest commit. */
  async #refresh(): Promise<void> {
    if (this.#current.hasUncommittedChanges) return;
    this.#current = await this.#reopen();
  }

  async #reopen(): Promise<IcechunkSession> {
    const branch = this.#branch ?? DEFAULT_BRANCH;
    try {
      return await this.#repo.writableSession(branch);
    } catch (cause) {
      throw new StoreError(`${this.#uri}: cannot open branch '${branch}': ${firstLine(cause)}`, {
        key: this.#uri,
        cause,
      });
    }
  }

  /**
   * Commits the pending changes, if any, rebasing over commits made by other
   * writers meanwhile; then starts a fresh session at the new head.
   *
   * @throws StoreError on a conflict or a storage failure (changes discarded).
   */
  async #commit(message: string): Promise<void> {
    const session = this.#current;
    if (!session.hasUncommittedChanges) return;
    for (let attempt = 1; ; attempt++) {
      try {
        await session.commit(message);
        break;
      } catch (cause) {
        const branchMoved = /conflict/i.test(firstLine(cause));
        if (branchMoved && attempt < MAX_COMMIT_ATTEMPTS) {
          try {
            await session.rebase();
          } catch (rebaseError) {
            const changed = await describeChanges(session);
            await this.#abandon();
            throw new ConflictError(
              `${this.#uri}: commit conflict on branch '${this.#branch}': another writer committed changes ` +
                `to the same nodes or chunks (${changed}); nothing was written: ${firstLine(rebaseError)}`,
              changed,
              { cause: rebaseError },
            );
          }
          // Several writers rebasing at once: back off before committing again.
          await new Promise((r) => setTimeout(r, Math.min(2000, 10 * 2 ** attempt) * (0.5 + Math.random())));
          continue;
        }
        if (branchMoved) {
          await this.#abandon();
          throw new ConflictError(
            `${this.#uri}: commit on branch '${this.#branch}' kept racing other writers (${attempt} attempts); ` +
              `nothing was written: ${firstLine(cause)}`,
            this.#uri,
            { cause },
          );
        }
        await this.#abandon();
        throw new StoreError(`${this.#uri}: commit failed on branch '${this.#branch}': ${firstLine(cause)}`, {
          key: this.#uri,
          cause,
        });
      }
    }
    this.#current = await this.#reopen();
  }

  /** Discards uncommitted changes and starts a fresh session at the branch head. */
  async #abandon(): Promise<void> {
    await this.#current.discardChanges().catch(() => undefined);
    this.#current = await this.#reopen();
  }
}
