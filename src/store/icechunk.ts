/**
 * The Icechunk store (`icechunk://<path>`, docs/behaviour.md §13.5, docs/format.md §11):
 * a transactional, versioned {@link Store} on `@earthmover/icechunk`.
 *
 * The repository lives in a local directory, accessed through the
 * `node:fs` custom storage of `./icechunk-fs.ts` (the WASI build of the
 * package, used where the native binding cannot load, has no filesystem
 * storage of its own).
 *
 * What callers see:
 *
 * - **Keys.** Zarr keys (`zarr.json`, `.../zarr.json`, chunk keys under
 *   `c/`) are stored natively. Every other key (`_zcollection.json`,
 *   `_catalog/state.json`, ...) must hold UTF-8 text and is redirected to
 *   `_zc_meta/<key with "/" replaced by "__">/zarr.json` (docs/format.md §11). The
 *   redirection is invisible: `readBytes`, `exists`, `list`, `listPrefix`,
 *   `listDir` and `deletePrefix` behave as if those were plain keys, and the
 *   `_zc_meta` tree itself never appears.
 * - **Listings.** `listDir`/`listPrefix` ask Icechunk for the children of a
 *   node, so a group or array is listed under its parent only when the
 *   parent group's `zarr.json` exists (Icechunk has no implicit groups).
 *   The Zarr layer writes parent groups; a hierarchy written without them
 *   still reads, but does not list. `listDir` hides `zarr.json` entries.
 * - **Transactions.** {@link IcechunkStore.session} commits all writes made
 *   while its block runs as one snapshot (message: the `message` option, or
 *   `"zcollection mutation"`), only when something changed; when the block
 *   throws, the changes are discarded and the error rethrown. Outside a
 *   session every mutating call is committed before its promise resolves;
 *   calls issued concurrently are grouped into one commit. Each transaction
 *   starts from the branch head; when another writer committed in between,
 *   disjoint changes are rebased (with a jittered backoff between attempts),
 *   and overlapping ones (same node or chunk) fail with a
 *   {@link ConflictError} naming the nodes (nothing is written; the store
 *   stays usable).
 * - **Time travel.** `tag` or `snapshot` opens a read-only view of that
 *   version; `readOnly` opens the head of `branch` read-only. Writes on a
 *   read-only store throw {@link ReadOnlyError}.
 *
 * Caveat: with custom storage Icechunk keeps handles open, so an idle Node
 * process may not exit by itself; command-line programs end with
 * `process.exit()`. Loading the package prints `ExperimentalWarning: WASI`
 * where the WASI build is used.
 *
 * @module
 */

import type { Store as IcechunkNodeStore, Session as IcechunkSession, Storage } from "@earthmover/icechunk";
import { ReadOnlyError, StoreError } from "../errors.js";
import { BranchSession, DEFAULT_BRANCH, DEFAULT_COMMIT_MESSAGE } from "./icechunk-branch.js";
import {
  callIcechunk,
  ensureGroup,
  icechunkError,
  listChildren,
  listMetaKeys,
  readNode,
} from "./icechunk-calls.js";
import { fsStorageBackend } from "./icechunk-fs.js";
import {
  decodeMetaDocument,
  encodeMetaDocument,
  isReservedKey,
  isUnder,
  isZarrKey,
  META_ROOT,
  metaKeyFor,
  normalizeKey,
} from "./icechunk-keys.js";
import { loadIcechunkBinding } from "./icechunk-lazy.js";
import {
  firstLine,
  isNodeNotFound,
  metaKeyForRead,
  openRepository,
  versionTarget,
} from "./icechunk-support.js";
import { type RangeQuery, type ReadOptions, type SessionOptions, Store } from "./store.js";

export { BOOTSTRAP_COMMIT_MESSAGE, DEFAULT_COMMIT_MESSAGE } from "./icechunk-branch.js";

/** Options of {@link IcechunkStore.open}. */
export interface IcechunkStoreOptions {
  /** Open read-only (no bootstrap; writes throw {@link ReadOnlyError}). Default false. */
  readOnly?: boolean;
  /** Branch to read and commit to. Default `"main"`. */
  branch?: string;
  /** Open this tag, read-only (time travel). Exclusive with `branch` and `snapshot`. */
  tag?: string;
  /** Open this snapshot id, read-only (time travel). Exclusive with `branch` and `tag`. */
  snapshot?: string;
  /**
   * Backend options. The local-filesystem backend understands
   * `lockTimeoutMs` (number: how long a commit waits for the lock of the
   * repository's version file, default 10 000); other entries are ignored.
   */
  storageOptions?: Record<string, unknown>;
}

/**
 * A {@link Store} over an Icechunk repository in a local directory
 * (docs/behaviour.md §13.5). Create instances with {@link IcechunkStore.open}.
 */
export class IcechunkStore extends Store {
  /** `icechunk://<path>` with the path as given. */
  readonly rootUri: string;
  /** True when opened with `readOnly`, `tag` or `snapshot`. */
  readonly readOnly: boolean;
  /** The branch read and written, or `undefined` when opened at a tag or snapshot. */
  readonly branch: string | undefined;

  readonly #branchSession: BranchSession;

  private constructor(
    uri: string,
    readOnly: boolean,
    branch: string | undefined,
    branchSession: BranchSession,
  ) {
    super();
    this.rootUri = uri;
    this.readOnly = readOnly;
    this.branch = branch;
    this.#branchSession = branchSession;
  }

  /**
   * Opens the Icechunk repository in the directory `path`.
   *
   * Writable (the default): creates the directory and the repository when
   * absent, opens a writable session on `branch`, and creates the root
   * `zarr.json` and `_zc_meta/zarr.json` groups if missing, committed as
   * `"bootstrap"` (docs/format.md §11). With `readOnly`, `tag` or `snapshot`: opens a
   * read-only session at the head of `branch`, at the tag, or at the snapshot.
   *
   * @param path Local directory of the repository (`icechunk://` already stripped).
   * @throws StoreError when more than one of `branch`/`tag`/`snapshot` is given;
   *   when a read-only open finds no repository; when the directory is not empty
   *   and holds no repository; when the branch, tag or snapshot does not exist.
   */
  static async open(path: string, opts: IcechunkStoreOptions = {}): Promise<IcechunkStore> {
    const uri = `icechunk://${path}`;
    const given = (["branch", "tag", "snapshot"] as const).filter((k) => opts[k] !== undefined);
    if (given.length > 1) {
      throw new StoreError(`${uri}: give at most one of branch, tag and snapshot (got ${given.join(", ")})`, {
        key: uri,
      });
    }
    const timeTravel = opts.tag !== undefined || opts.snapshot !== undefined;
    const readOnly = (opts.readOnly ?? false) || timeTravel;
    const branch = timeTravel ? undefined : (opts.branch ?? DEFAULT_BRANCH);
    const lockTimeoutMs = opts.storageOptions?.lockTimeoutMs;
    const backend = fsStorageBackend(path, {
      readOnly,
      ...(typeof lockTimeoutMs === "number" ? { lockTimeoutMs } : {}),
    });
    // The generated typings omit the error-first argument the callbacks receive.
    const { Storage: Binding } = await loadIcechunkBinding();
    const storage = Binding.newCustom(backend as unknown as Parameters<typeof Storage.newCustom>[0]);

    const repo = await openRepository(storage, uri, readOnly);
    const target = versionTarget(opts, branch ?? DEFAULT_BRANCH);
    let session: IcechunkSession;
    try {
      session = readOnly
        ? await repo.readonlySession(target.select)
        : await repo.writableSession(branch ?? DEFAULT_BRANCH);
    } catch (cause) {
      throw new StoreError(`${uri}: cannot open ${target.label}: ${firstLine(cause)}`, { key: uri, cause });
    }
    const branchSession = new BranchSession(uri, branch, repo, session);
    const store = new IcechunkStore(uri, readOnly, branch, branchSession);
    if (!readOnly) await branchSession.bootstrap();
    return store;
  }

  /** Always true: {@link IcechunkStore.session} commits or discards as one transaction. */
  override get transactional(): boolean {
    return true;
  }

  /**
   * Id of the snapshot this store reads: the branch head as of the last
   * commit or open, or the tag's / requested snapshot (20-character base-32).
   */
  get snapshotId(): string {
    return this.#branchSession.current.snapshotId;
  }

  /**
   * Creates the tag `name` at the current head of the branch (the last
   * commit; writes still uncommitted in a running session are not part of
   * it) and returns the tagged snapshot id. Open it later with
   * `IcechunkStore.open(path, { tag: name })`.
   *
   * @throws ReadOnlyError on a read-only store; StoreError when the tag exists.
   */
  async tag(name: string): Promise<string> {
    if (this.readOnly)
      throw new ReadOnlyError(`store ${this.rootUri} is read-only (refused tag '${name}')`, this.rootUri);
    return this.#branchSession.tag(name);
  }

  // -- branches (work committed elsewhere, published at once) ----------------

  /**
   * The snapshot id `branch` (default: this store's) points to now, as
   * stored — not the one this store read last.
   *
   * @throws StoreError when the branch does not exist.
   */
  async branchHead(branch: string = this.branch ?? DEFAULT_BRANCH): Promise<string> {
    return this.#branchSession.branchHead(branch);
  }

  /**
   * Creates the branch `name` pointing to `snapshotId`. Open it with
   * `IcechunkStore.open(path, { branch: name })` or the URL
   * `icechunk://<path>?branch=<name>`.
   *
   * @throws ReadOnlyError on a read-only store; StoreError when it exists.
   */
  async createBranch(name: string, snapshotId: string): Promise<void> {
    this.#assertWritable(`branch '${name}'`);
    await this.#branchSession.createBranch(name, snapshotId);
  }

  /**
   * Moves this store's branch to `snapshotId` provided it still points to
   * `expected` — one compare-and-swap of the branch reference, so the
   * whole of what lies between becomes visible at once — then reads from
   * the new head.
   *
   * @throws ConflictError when the branch no longer points to `expected`
   *   (another writer committed: nothing moved); ReadOnlyError; StoreError.
   */
  async moveBranch(snapshotId: string, expected: string): Promise<void> {
    this.#assertWritable(`branch '${this.branch ?? DEFAULT_BRANCH}'`);
    await this.#branchSession.moveBranch(snapshotId, expected);
  }

  /**
   * Deletes the branch `name` (its snapshots stay until expired).
   *
   * @throws ReadOnlyError; StoreError when it does not exist.
   */
  async deleteBranch(name: string): Promise<void> {
    this.#assertWritable(`branch '${name}'`);
    await this.#branchSession.deleteBranch(name);
  }

  /** Names of the repository's branches. */
  async branches(): Promise<string[]> {
    return this.#branchSession.branches();
  }

  #assertWritable(what: string): void {
    if (this.readOnly)
      throw new ReadOnlyError(`store ${this.rootUri} is read-only (refused to change ${what})`, this.rootUri);
  }

  // -- reads -----------------------------------------------------------------

  /** Bytes of `key`, or `undefined` when absent (redirected keys are read from `_zc_meta`). */
  async readBytes(key: string, opts?: ReadOptions): Promise<Uint8Array | undefined> {
    opts?.signal?.throwIfAborted();
    key = normalizeKey(key);
    if (key === "" || isReservedKey(key)) return undefined;
    const store = this.#store;
    if (isZarrKey(key)) return readNode(this.rootUri, store, key);
    const doc = await readNode(this.rootUri, store, metaKeyForRead(key));
    if (doc === undefined) return undefined;
    return new TextEncoder().encode(decodeMetaDocument(new TextDecoder().decode(doc), key));
  }

  /** A byte range of `key` (Icechunk range read for Zarr keys), or `undefined` when absent. */
  override async readRange(
    key: string,
    range: RangeQuery,
    opts?: ReadOptions,
  ): Promise<Uint8Array | undefined> {
    key = normalizeKey(key);
    if (!isZarrKey(key) || isReservedKey(key)) return super.readRange(key, range, opts);
    opts?.signal?.throwIfAborted();
    try {
      return (await this.#store.getRange(key, range)) ?? undefined;
    } catch (cause) {
      if (isNodeNotFound(cause)) return undefined;
      throw new StoreError(`${this.rootUri}: cannot read '${key}': ${firstLine(cause)}`, { key, cause });
    }
  }

  /** Whether `key` is an object, or a prefix with at least one object below it (`""`: the store is not empty). */
  async exists(key: string): Promise<boolean> {
    key = normalizeKey(key);
    if (isReservedKey(key)) return false;
    const store = this.#store;
    if (isZarrKey(key) && (await this.#call(key, () => store.exists(key)))) return true;
    if (key !== "" && (await listMetaKeys(this.rootUri, this.#store)).some((k) => isUnder(k, key)))
      return true;
    return !(await this.#call(key, () => store.isEmpty(key)));
  }

  /** Every key below `prefix` (full keys, redirected keys included under their own names), sorted. */
  async list(prefix = ""): Promise<string[]> {
    prefix = normalizeKey(prefix);
    if (isReservedKey(prefix)) return [];
    const store = this.#store;
    let keys: string[];
    try {
      keys = await store.listPrefix(prefix);
    } catch (cause) {
      // Icechunk lists only below an existing node: walk everything instead.
      if (!/bad key prefix/i.test(firstLine(cause))) throw icechunkError(this.rootUri, prefix, cause);
      keys = await this.#call(prefix, () => store.list());
    }
    const out = new Set<string>();
    for (const k of keys) if (!isReservedKey(k) && isUnder(k, prefix)) out.add(k);
    for (const k of await listMetaKeys(this.rootUri, this.#store)) if (isUnder(k, prefix)) out.add(k);
    return [...out].sort();
  }

  /** Names of the immediate children of `prefix` (`zarr.json`, nodes, chunk names, redirected keys), sorted. */
  async listPrefix(prefix: string): Promise<string[]> {
    return listChildren(this.rootUri, this.#store, normalizeKey(prefix), true);
  }

  /** Names of the immediate children of `prefix` that can hold objects (no `zarr.json`, no plain redirected keys), sorted. */
  async listDir(prefix: string): Promise<string[]> {
    return listChildren(this.rootUri, this.#store, normalizeKey(prefix), false);
  }

  // -- writes ----------------------------------------------------------------

  /**
   * Writes `data` at `key`. Zarr keys go to Icechunk as they are (it checks
   * node documents and refuses chunks of missing arrays); other keys must be
   * UTF-8 text and are redirected (docs/format.md §11). Committed at once outside a
   * session.
   *
   * @throws ReadOnlyError on a read-only store; StoreError for a key under
   *   `_zc_meta`, a non-text payload, a key that cannot be redirected, a
   *   document or chunk Icechunk refuses, or a commit conflict.
   */
  async writeBytes(key: string, data: Uint8Array): Promise<void> {
    key = normalizeKey(key);
    this.assertWritable(key);
    if (key === "" || isReservedKey(key)) {
      throw new StoreError(`${this.rootUri}: cannot write '${key}': reserved key`, { key });
    }
    if (isZarrKey(key)) {
      const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      return this.#branchSession.mutate((store) => this.#call(key, () => store.set(key, bytes)));
    }
    const metaKey = metaKeyFor(key);
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(data);
    } catch (cause) {
      throw new StoreError(
        `${this.rootUri}: cannot write '${key}': Icechunk stores non-Zarr keys as text and these bytes are not UTF-8`,
        { key, cause },
      );
    }
    const doc = Buffer.from(encodeMetaDocument(text));
    return this.#branchSession.mutate(async (store) => {
      await ensureGroup(this.rootUri, store, `${META_ROOT}/zarr.json`);
      await this.#call(key, () => store.set(metaKey, doc));
    });
  }

  /** Deletes `key` (a Zarr key, or a redirected key); missing is a no-op. @throws ReadOnlyError on a read-only store. */
  async deleteKey(key: string): Promise<void> {
    key = normalizeKey(key);
    this.assertWritable(key);
    if (key === "" || isReservedKey(key)) return;
    const target = isZarrKey(key) ? key : metaKeyForRead(key);
    return this.#branchSession.mutate((store) => this.#call(key, () => store.delete(target)));
  }

  /**
   * Deletes `prefix` and everything below it, redirected keys included
   * (docs/behaviour.md §13.5); missing is a no-op. `""` empties the store and
   * recreates the empty root and `_zc_meta` groups.
   *
   * @throws ReadOnlyError on a read-only store.
   */
  async deletePrefix(prefix: string): Promise<void> {
    prefix = normalizeKey(prefix);
    this.assertWritable(prefix);
    if (isReservedKey(prefix)) return;
    return this.#branchSession.mutate(async (store) => {
      if (isZarrKey(prefix)) {
        await this.#call(prefix, () => store.delete(prefix));
      } else {
        await this.#call(prefix, () => store.deleteDir(prefix));
      }
      for (const k of await listMetaKeys(this.rootUri, store)) {
        if (isUnder(k, prefix)) await this.#call(k, () => store.delete(metaKeyForRead(k)));
      }
      if (prefix === "") {
        await ensureGroup(this.rootUri, store, "zarr.json");
        await ensureGroup(this.rootUri, store, `${META_ROOT}/zarr.json`);
      }
    });
  }

  // -- transactions ----------------------------------------------------------

  /**
   * Runs `fn` as one transaction: its writes are committed as one snapshot
   * when it resolves (message `opts.message`, default
   * {@link DEFAULT_COMMIT_MESSAGE}; no commit when nothing changed), and
   * discarded when it rejects (the rejection is rethrown). A session opened
   * inside `fn` joins this one; sessions started elsewhere wait their turn.
   * Writes issued from outside `fn` while it runs join the transaction.
   * On a read-only store this just runs `fn`.
   *
   * @throws ConflictError when the commit conflicts with another writer (the
   *   changes are discarded); StoreError on other commit failures.
   */
  override async session<T>(fn: () => Promise<T>, opts?: SessionOptions): Promise<T> {
    if (this.readOnly) return fn();
    return this.#branchSession.session(fn, opts);
  }

  /** Waits for pending commits. The repository needs no other release; idempotent. */
  override async close(): Promise<void> {
    await this.#branchSession.close();
  }

  // -- internals -------------------------------------------------------------

  /** The node store of the session reads go to now. */
  get #store(): IcechunkNodeStore {
    return this.#branchSession.current.store;
  }

  #call<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return callIcechunk(this.rootUri, key, fn);
  }
}
