/**
 * Writer leases: at most one live writer per name (a partition path) across
 * every process of every host that shares a store.
 *
 * A lease is a small JSON object created with an exclusive write
 * ({@link Store.writeConditional} with `null`: `link(2)` on a local disk,
 * `If-None-Match: *` on S3). It records its owner (host, pid, a per-process
 * token, the operation) and an expiry; the owner renews it by
 * compare-and-swap every third of its time to live. A lease is *stale* when
 * it expired, or when its owner is a process of this host that no longer
 * runs (so a writer killed with SIGKILL is replaced at once on its own
 * host, and after the time to live elsewhere). A stale lease is taken over
 * by compare-and-swap against the version that was read, so that of two
 * writers racing for it exactly one wins.
 *
 * What a lease cannot do: stop a writer that was paused longer than the time
 * to live (it may still write after another took over). Holders therefore
 * call {@link Lease.confirm} right before each irreversible step.
 *
 * @module
 */

import { ConflictError, StoreError } from "../errors.js";
import { isOwnerGone, processIdentity } from "../util/process-identity.js";
import { randomHex } from "./keys.js";
import type { Store, VersionedBytes } from "./store.js";

/** The lease document (compact JSON). */
export interface LeaseDocument {
  readonly format_version: 1;
  /** Host name of the owner. */
  readonly host: string;
  /** Process id of the owner on its host. */
  readonly pid: number;
  /** Random token of the owner process. */
  readonly token: string;
  /** What the owner is doing, e.g. `insert 3f2a9c…`. */
  readonly operation: string;
  /** When the lease was acquired (ISO 8601). */
  readonly acquired: string;
  /**
   * Random per acquisition: tells this holder's document from any other,
   * also when a retried conditional write reported a failure although the
   * first attempt had landed.
   */
  readonly nonce: string;
  /** Milliseconds since the epoch after which the lease is stale unless renewed. */
  readonly expires: number;
}

/** Options of {@link LeaseKeeper}. */
export interface LeaseKeeperOptions {
  /** Key prefix of the lease objects (e.g. `_zc_meta/leases`). */
  prefix: string;
  /** Time to live of a lease, in ms; renewed every third of it. */
  ttlMs: number;
  /** How long {@link LeaseKeeper.acquire} waits for a live holder, in ms (0: fail at once). */
  waitMs: number;
  /** What the owner does, recorded in the lease (`insert <id>`). */
  operation: string;
}

/** Describes a holder for messages: `host:pid (operation)`. */
export function describeHolder(doc: Pick<LeaseDocument, "host" | "pid" | "operation">): string {
  return `${doc.host}:${doc.pid} (${doc.operation})`;
}

/** Whether a lease document no longer protects anything. */
export function isStale(
  doc: Pick<LeaseDocument, "expires" | "host" | "pid" | "token">,
  now = Date.now(),
): boolean {
  return doc.expires <= now || isOwnerGone(doc);
}

/** Parses a lease document; `undefined` when it is not one (a garbled lease is stale). */
export function parseLease(bytes: Uint8Array): LeaseDocument | undefined {
  try {
    const doc = JSON.parse(new TextDecoder().decode(bytes)) as Partial<LeaseDocument>;
    if (
      typeof doc.host === "string" &&
      typeof doc.pid === "number" &&
      typeof doc.token === "string" &&
      typeof doc.operation === "string" &&
      typeof doc.expires === "number"
    ) {
      return doc as LeaseDocument;
    }
  } catch {
    // not JSON: treated as stale
  }
  return undefined;
}

/** One held lease. Obtain it from {@link LeaseKeeper.acquire}. */
export class Lease {
  /** The name leased (a partition path). */
  readonly name: string;
  /** The lease object's key. */
  readonly key: string;
  /** The stale holder this lease replaced, when it was taken over (the caller settles its unfinished work). */
  readonly tookOver: LeaseDocument | undefined;
  #version: string;
  #doc: LeaseDocument;
  #lost: string | undefined;
  #released = false;
  #chain: Promise<unknown> = Promise.resolve();
  readonly #keeper: LeaseKeeper;

  /** @internal */
  constructor(
    keeper: LeaseKeeper,
    name: string,
    key: string,
    version: string,
    doc: LeaseDocument,
    tookOver: LeaseDocument | undefined,
  ) {
    this.#keeper = keeper;
    this.name = name;
    this.key = key;
    this.#version = version;
    this.#doc = doc;
    this.tookOver = tookOver;
  }

  /** Whether the lease is still believed held (not released, renewal not failed). */
  get held(): boolean {
    return !this.#released && this.#lost === undefined;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn, fn);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  #conflict(): ConflictError {
    return new ConflictError(
      `lost the lease on '${this.name}' in ${this.#keeper.store.rootUri}: ${this.#lost ?? "released"}; ` +
        "nothing more is written under it",
      this.name,
    );
  }

  /**
   * Renews the lease (compare-and-swap of a later expiry). A failed swap
   * marks it lost; a store error is retried at the next renewal while the
   * lease has not expired.
   */
  renew(): Promise<void> {
    return this.#serial(async () => {
      if (!this.held) return;
      const doc: LeaseDocument = { ...this.#doc, expires: Date.now() + this.#keeper.ttlMs };
      try {
        let version = await this.#keeper.store.writeConditional(this.key, encodeLease(doc), this.#version);
        if (version === undefined) {
          const current = await this.#keeper.store.readVersioned(this.key);
          const held = current === undefined ? undefined : parseLease(current.data);
          if (held?.nonce === doc.nonce && held.expires === doc.expires) version = current?.version;
        }
        if (version === undefined) {
          this.#lost = "another writer took it over";
          return;
        }
        this.#version = version;
        this.#doc = doc;
      } catch (err) {
        if (Date.now() >= this.#doc.expires) this.#lost = `it expired (renewal failed: ${String(err)})`;
      }
    });
  }

  /**
   * Checks, by reading the lease object, that this process still holds the
   * lease, renewing it first when less than a third of its time is left.
   *
   * @throws ConflictError when it was lost.
   */
  async confirm(): Promise<void> {
    if (this.held && this.#doc.expires - Date.now() < this.#keeper.ttlMs / 3) await this.renew();
    await this.#serial(async () => {
      if (!this.held) return;
      const current = await this.#keeper.store.readVersioned(this.key);
      if (current?.version !== this.#version) this.#lost = "another writer took it over";
    });
    if (!this.held) throw this.#conflict();
  }

  /**
   * Deletes the lease object if this process still holds it. Idempotent.
   * (Between the check and the delete no one can take over a lease that
   * has not expired.)
   */
  release(): Promise<void> {
    return this.#serial(async () => {
      if (this.#released) return;
      this.#released = true;
      this.#keeper.forget(this);
      if (this.#lost !== undefined) return;
      const current = await this.#keeper.store.readVersioned(this.key);
      if (current?.version === this.#version) await this.#keeper.store.deleteKey(this.key);
    });
  }
}

function encodeLease(doc: LeaseDocument): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(doc));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Acquires, renews and releases the leases of one operation. Renewal runs
 * on one timer for all held leases (unref'd: it never keeps a process
 * alive); {@link LeaseKeeper.close} stops it and releases what is left.
 */
export class LeaseKeeper {
  readonly store: Store;
  readonly ttlMs: number;
  readonly waitMs: number;
  readonly #prefix: string;
  readonly #operation: string;
  readonly #held = new Set<Lease>();
  #timer: ReturnType<typeof setInterval> | undefined;

  /** @throws StoreError when the store has no conditional writes. */
  constructor(store: Store, opts: LeaseKeeperOptions) {
    if (!store.conditionalWrites) {
      throw new StoreError(`store ${store.rootUri} cannot hold writer leases (no conditional writes)`, {
        key: store.rootUri,
      });
    }
    this.store = store;
    this.ttlMs = opts.ttlMs;
    this.waitMs = opts.waitMs;
    this.#prefix = opts.prefix;
    this.#operation = opts.operation;
  }

  /** The key of the lease of `name`. */
  keyOf(name: string): string {
    return `${this.#prefix}/${name}.lease`;
  }

  #document(): LeaseDocument {
    const me = processIdentity();
    return {
      format_version: 1,
      host: me.host,
      pid: me.pid,
      token: me.token,
      operation: this.#operation,
      acquired: new Date().toISOString(),
      nonce: randomHex(8),
      expires: Date.now() + this.ttlMs,
    };
  }

  /**
   * Acquires the lease of `name`, waiting up to `waitMs` while a live
   * writer holds it, and taking over a stale one.
   *
   * @throws ConflictError naming `name` and the holder when the wait times out;
   *   the signal's reason when aborted; StoreError on a store failure.
   */
  async acquire(name: string, opts: { signal?: AbortSignal } = {}): Promise<Lease> {
    const key = this.keyOf(name);
    const deadline = Date.now() + this.waitMs;
    let pause = 20;
    const readOpts = opts.signal ? { signal: opts.signal } : {};
    // Most targets have no lease: create it outright (one round trip, the create is atomic), and
    // read the one that is there only when that fails.
    opts.signal?.throwIfAborted();
    const first = this.#document();
    const created = await this.store.writeConditional(key, encodeLease(first), null);
    if (created !== undefined) return this.#hold(name, key, created, first, undefined);
    let seen: { current: VersionedBytes | undefined } | undefined = {
      current: await this.store.readVersioned(key, readOpts),
    };
    // A retried request whose first attempt created it: ours after all.
    const ours = seen.current === undefined ? undefined : parseLease(seen.current.data);
    if (seen.current !== undefined && ours?.nonce === first.nonce && ours.expires === first.expires)
      return this.#hold(name, key, seen.current.version, first, undefined);
    for (;;) {
      opts.signal?.throwIfAborted();
      const current = seen === undefined ? await this.store.readVersioned(key, readOpts) : seen.current;
      seen = undefined;
      const doc = this.#document();
      const bytes = encodeLease(doc);
      let holder: LeaseDocument | undefined;
      if (current === undefined) {
        const version = await this.store.writeConditional(key, bytes, null);
        if (version !== undefined) return this.#hold(name, key, version, doc, undefined);
        const mine = await this.#landed(key, doc);
        if (mine !== undefined) return this.#hold(name, key, mine, doc, undefined);
        continue; // created meanwhile: look again
      }
      holder = parseLease(current.data);
      if (holder === undefined || isStale(holder)) {
        const version =
          (await this.store.writeConditional(key, bytes, current.version)) ?? (await this.#landed(key, doc));
        if (version !== undefined) return this.#hold(name, key, version, doc, holder ?? staleUnknown());
        continue; // someone else took it over first
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new ConflictError(
          `'${name}' in ${this.store.rootUri} is being written by ${describeHolder(holder)}` +
            (this.waitMs > 0 ? ` (waited ${Math.round(this.waitMs / 1000)} s)` : "") +
            "; try again later",
          name,
          { holder: describeHolder(holder) },
        );
      }
      await sleep(Math.min(left, pause * (0.5 + Math.random())), opts.signal);
      pause = Math.min(pause * 2, 500);
    }
  }

  /**
   * The version of `key` when it holds exactly `doc` (our write landed
   * although the store reported the condition failed: a retried request
   * whose first attempt succeeded), else `undefined`.
   */
  async #landed(key: string, doc: LeaseDocument): Promise<string | undefined> {
    const current = await this.store.readVersioned(key);
    if (current === undefined) return undefined;
    const held = parseLease(current.data);
    return held?.nonce === doc.nonce && held.expires === doc.expires ? current.version : undefined;
  }

  #hold(
    name: string,
    key: string,
    version: string,
    doc: LeaseDocument,
    tookOver: LeaseDocument | undefined,
  ): Lease {
    const lease = new Lease(this, name, key, version, doc, tookOver);
    this.#held.add(lease);
    if (this.#timer === undefined) {
      this.#timer = setInterval(
        () => {
          for (const l of this.#held) {
            if (l.held) void l.renew();
            else this.forget(l); // lost: nothing to renew any more
          }
        },
        Math.max(10, this.ttlMs / 3),
      );
      (this.#timer as { unref?: () => void }).unref?.();
    }
    return lease;
  }

  /** @internal Called by {@link Lease.release}. */
  forget(lease: Lease): void {
    this.#held.delete(lease);
    if (this.#held.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Releases every lease still held and stops renewing. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#held].map((l) => l.release()));
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/** Stand-in for a garbled lease document that was taken over. */
function staleUnknown(): LeaseDocument {
  return {
    format_version: 1,
    host: "?",
    pid: 0,
    token: "",
    operation: "unknown",
    acquired: "",
    nonce: "",
    expires: 0,
  };
}
