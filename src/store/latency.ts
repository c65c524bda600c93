/**
 * A store wrapper that makes a fast store behave like a remote object store:
 * a fixed latency per request, a bandwidth cap shared by all transfers, and
 * a cap on requests in flight (a client's connection pool). For benchmarks
 * (issue 13: throughput against the ideal for a latency); it adds nothing
 * to what is stored.
 *
 * The model, per call:
 * 1. wait for one of `concurrency` connections (FIFO);
 * 2. the inner store is called, and the call lasts at least `latencyMs`
 *    from then (the inner store's own time counts toward it);
 * 3. the payload (bytes read or written) then crosses one shared link of
 *    `bandwidth` bytes per second, transfers taking turns in arrival order;
 * 4. the connection is released.
 * So `n` requests of `b` bytes in all, issued with enough parallelism,
 * take about `n ÷ concurrency × latency + b ÷ bandwidth`. A listing
 * returning more than `listPageSize` names costs one further latency per
 * page (S3 pages of 1 000 keys, read one after the other). Everything else
 * (`session`, `close`, flags, renames) is the inner store's: a rename on a
 * local inner store stays atomic and costs one request.
 *
 * @module
 */

import {
  type RangeQuery,
  type ReadOptions,
  type SessionOptions,
  Store,
  type VersionedBytes,
} from "./store.js";

/** Options of {@link LatencyStore}. */
export interface LatencyOptions {
  /** Milliseconds each request lasts at least, before its payload moves (default 20). */
  latencyMs?: number;
  /** Bytes per second of the link shared by every transfer, both directions (default: unlimited). */
  bandwidth?: number;
  /** Requests in flight at most; more wait in arrival order (default 16). */
  concurrency?: number;
  /** Names per listing page; each further page costs one more latency (default 1 000). */
  listPageSize?: number;
}

/** What a {@link LatencyStore} saw since creation or the last reset. */
export interface LatencyStats {
  /** Requests made (every call, a further listing page counts as one more). */
  requests: number;
  /** Bytes returned by reads. */
  bytesRead: number;
  /** Bytes passed to writes. */
  bytesWritten: number;
  /** Sum over requests of their time holding a connection, in ms. */
  busyMs: number;
  /** Sum over requests of their time waiting for a connection, in ms. */
  queuedMs: number;
  /** Most requests in flight at once. */
  peakInFlight: number;
}

function zero(): LatencyStats {
  return { requests: 0, bytesRead: 0, bytesWritten: 0, busyMs: 0, queuedMs: 0, peakInFlight: 0 };
}

/**
 * Timers waiting on each signal. One abort listener per signal, whatever the
 * number of requests waiting on it (a query's requests share its signal).
 */
const waiting = new WeakMap<AbortSignal, Set<() => void>>();

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    let timers: Set<() => void> | undefined;
    const cancel = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      timers?.delete(cancel);
      resolve();
    }, ms);
    if (signal !== undefined) {
      timers = waiting.get(signal);
      if (timers === undefined) {
        const all = new Set<() => void>();
        waiting.set(signal, all);
        signal.addEventListener(
          "abort",
          () => {
            for (const stop of all) stop();
            all.clear();
          },
          { once: true },
        );
        timers = all;
      }
      timers.add(cancel);
    }
  });
}

/**
 * Forwards every call to `inner` through the latency, bandwidth and
 * connection model of the module comment, and counts requests and bytes.
 *
 * @example
 * const remote = new LatencyStore(await openStore("memory://"), { latencyMs: 20, bandwidth: 100e6 });
 * await collection.query();
 * console.log(remote.stats.requests);
 */
export class LatencyStore extends Store {
  /** The wrapped store. */
  readonly inner: Store;
  /** Milliseconds per request. */
  readonly latencyMs: number;
  /** Bytes per second of the shared link (Infinity: unlimited). */
  readonly bandwidth: number;
  /** Requests in flight at most. */
  readonly concurrency: number;
  /** Names per listing page. */
  readonly listPageSize: number;
  #tally: LatencyStats = zero();
  #inFlight = 0;
  readonly #waiting: Array<() => void> = [];
  /** When the shared link finishes its last accepted transfer (performance.now() ms). */
  #linkFreeAt = 0;

  /** @throws RangeError for a negative latency, a non-positive bandwidth, concurrency or page size. */
  constructor(inner: Store, opts: LatencyOptions = {}) {
    super();
    this.inner = inner;
    this.latencyMs = opts.latencyMs ?? 20;
    this.bandwidth = opts.bandwidth ?? Number.POSITIVE_INFINITY;
    this.concurrency = opts.concurrency ?? 16;
    this.listPageSize = opts.listPageSize ?? 1000;
    if (!(this.latencyMs >= 0)) throw new RangeError(`latencyMs must be ≥ 0; got ${opts.latencyMs}`);
    if (!(this.bandwidth > 0)) throw new RangeError(`bandwidth must be > 0 bytes/s; got ${opts.bandwidth}`);
    if (!Number.isSafeInteger(this.concurrency) || this.concurrency < 1)
      throw new RangeError(`concurrency must be a positive integer; got ${opts.concurrency}`);
    if (!Number.isSafeInteger(this.listPageSize) || this.listPageSize < 1)
      throw new RangeError(`listPageSize must be a positive integer; got ${opts.listPageSize}`);
  }

  /** The inner store's root URI. */
  get rootUri(): string {
    return this.inner.rootUri;
  }

  /** The inner store's read-only flag. */
  get readOnly(): boolean {
    return this.inner.readOnly;
  }

  /** The inner store's transactional flag. */
  override get transactional(): boolean {
    return this.inner.transactional;
  }

  override get conditionalWrites(): boolean {
    return this.inner.conditionalWrites;
  }

  /** A snapshot of the counters. */
  get stats(): LatencyStats {
    return { ...this.#tally };
  }

  /** Sets every counter back to zero (requests in flight keep their connection). */
  reset(): void {
    this.#tally = zero();
  }

  /**
   * The time the model gives `requests` requests moving `bytes` bytes when
   * all connections are kept busy: `requests ÷ concurrency × latency +
   * bytes ÷ bandwidth`, in seconds.
   */
  idealSeconds(requests: number, bytes: number): number {
    const transfer = Number.isFinite(this.bandwidth) ? bytes / this.bandwidth : 0;
    return (requests / this.concurrency) * (this.latencyMs / 1000) + transfer;
  }

  async #acquire(): Promise<void> {
    if (this.#inFlight < this.concurrency) {
      this.#inFlight++;
    } else {
      // The releasing request hands its connection over: #inFlight stays the same.
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    if (this.#inFlight > this.#tally.peakInFlight) this.#tally.peakInFlight = this.#inFlight;
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.#inFlight--;
    else next();
  }

  /** Milliseconds until the shared link has moved `bytes` more bytes, accepted now. */
  #transfer(bytes: number): number {
    if (bytes <= 0 || !Number.isFinite(this.bandwidth)) return 0;
    const now = performance.now();
    const start = Math.max(now, this.#linkFreeAt);
    this.#linkFreeAt = start + (bytes / this.bandwidth) * 1000;
    return this.#linkFreeAt - now;
  }

  /**
   * One request: a connection, `call` on the inner store, the latency (and
   * `extraRounds` more), then the payload `size(result)` over the link.
   */
  async #request<T>(
    call: () => Promise<T>,
    size: (result: T) => { read?: number; written?: number; extraRounds?: number },
    signal?: AbortSignal,
  ): Promise<T> {
    signal?.throwIfAborted();
    const queued = performance.now();
    await this.#acquire();
    const t0 = performance.now();
    this.#tally.queuedMs += t0 - queued;
    this.#tally.requests++;
    try {
      let result: T;
      try {
        result = await call();
      } catch (err) {
        // A failed request costs its round trip too.
        await delay(t0 + this.latencyMs - performance.now(), signal).catch(() => undefined);
        throw err;
      }
      const moved = size(result);
      const rounds = 1 + (moved.extraRounds ?? 0);
      this.#tally.requests += moved.extraRounds ?? 0;
      await delay(t0 + rounds * this.latencyMs - performance.now(), signal);
      const bytes = (moved.read ?? 0) + (moved.written ?? 0);
      this.#tally.bytesRead += moved.read ?? 0;
      this.#tally.bytesWritten += moved.written ?? 0;
      await delay(this.#transfer(bytes), signal);
      return result;
    } finally {
      this.#tally.busyMs += performance.now() - t0;
      this.#release();
    }
  }

  #pages(names: readonly string[]): { extraRounds: number } {
    return { extraRounds: Math.max(0, Math.ceil(names.length / this.listPageSize) - 1) };
  }

  override readBytes(key: string, opts?: ReadOptions): Promise<Uint8Array | undefined> {
    return this.#request(
      () => this.inner.readBytes(key, opts),
      (out) => ({ read: out?.length ?? 0 }),
      opts?.signal,
    );
  }

  override readRange(key: string, range: RangeQuery, opts?: ReadOptions): Promise<Uint8Array | undefined> {
    return this.#request(
      () => this.inner.readRange(key, range, opts),
      (out) => ({ read: out?.length ?? 0 }),
      opts?.signal,
    );
  }

  override writeBytes(key: string, data: Uint8Array): Promise<void> {
    return this.#request(
      () => this.inner.writeBytes(key, data),
      () => ({ written: data.length }),
    );
  }

  override deleteKey(key: string): Promise<void> {
    return this.#request(
      () => this.inner.deleteKey(key),
      () => ({}),
    );
  }

  override exists(key: string): Promise<boolean> {
    return this.#request(
      () => this.inner.exists(key),
      () => ({}),
    );
  }

  override listPrefix(prefix: string): Promise<string[]> {
    return this.#request(
      () => this.inner.listPrefix(prefix),
      (names) => this.#pages(names),
    );
  }

  override listDir(prefix: string): Promise<string[]> {
    return this.#request(
      () => this.inner.listDir(prefix),
      (names) => this.#pages(names),
    );
  }

  override list(prefix?: string): Promise<string[]> {
    return this.#request(
      () => this.inner.list(prefix),
      (names) => this.#pages(names),
    );
  }

  override deletePrefix(prefix: string): Promise<void> {
    return this.#request(
      () => this.inner.deletePrefix(prefix),
      () => ({}),
    );
  }

  override readVersioned(key: string, opts?: { signal?: AbortSignal }): Promise<VersionedBytes | undefined> {
    return this.#request(
      () => this.inner.readVersioned(key, opts),
      (out) => ({ read: out?.data.length ?? 0 }),
      opts?.signal,
    );
  }

  override writeConditional(
    key: string,
    data: Uint8Array,
    ifVersion: string | null,
  ): Promise<string | undefined> {
    return this.#request(
      () => this.inner.writeConditional(key, data, ifVersion),
      () => ({ written: data.length }),
    );
  }

  override renamePrefix(from: string, to: string): Promise<boolean> {
    return this.#request(
      () => this.inner.renamePrefix(from, to),
      () => ({}),
    );
  }

  override copyObject(from: string, to: string): Promise<void> {
    return this.#request(
      () => this.inner.copyObject(from, to),
      () => ({}),
    );
  }

  override session<T>(fn: () => Promise<T>, opts?: SessionOptions): Promise<T> {
    return this.inner.session(fn, opts);
  }

  override close(): Promise<void> {
    return this.inner.close();
  }
}
