/**
 * Recycled memory for the trips to the codec workers and back.
 *
 * Writing a fresh multi-megabyte buffer costs page faults and, later,
 * garbage collection of external memory: measured on the benchmark
 * collection, about as much CPU time as copying the same bytes several times
 * over. Two caches serve the next request from memory already used:
 * - ArrayBuffers ({@link takeBuffer}, {@link giveBuffer}): chunk buffers
 *   that go to a worker (transferred) come back with the result (the worker
 *   hands its input back), and compressed chunks the caller has finished
 *   with can be given back too;
 * - SharedArrayBuffers ({@link takeSharedBuffer}, {@link giveSharedBuffer}):
 *   objects read from a store for the workers to decode, which every worker
 *   can read at once (a shard split between two workers is not copied) and
 *   which the caller gives back once they are all done.
 *
 * Each cache is small (at most {@link MAX_CACHED_BUFFERS} buffers and
 * {@link MAX_CACHED_BYTES} bytes) and emptied after {@link IDLE_RELEASE_MS}
 * without use, so it holds no memory once the library is idle.
 *
 * @module
 */

/** Requests below this many bytes are served fresh (and never cached): small buffers are cheap. */
export const MIN_CACHED_BYTES = 64 * 1024;
/** Most buffers kept for reuse, per cache. */
export const MAX_CACHED_BUFFERS = 32;
/** Most bytes kept for reuse, per cache. */
export const MAX_CACHED_BYTES = 256 * 1024 * 1024;
/** A cache is emptied after this long without a take from it. */
export const IDLE_RELEASE_MS = 1000;

/** Buffers handed out by a cache (their whole capacity is scratch memory). */
const issued = new WeakSet<ArrayBufferLike>();

/**
 * The capacity of a new buffer for `bytes`: rounded up to a sixteenth of
 * the power of two below it (at most 6.25 % more; whole 4 KiB pages), so that objects of
 * nearly the same size — the shards of one array, a few bytes apart once
 * compressed — fit each other's buffers.
 */
function capacityFor(bytes: number): number {
  const step = Math.max(4096, 2 ** (Math.floor(Math.log2(bytes)) - 4));
  return Math.ceil(bytes / step) * step;
}

/** One cache of buffers of one kind. */
class ScratchCache<B extends ArrayBuffer | SharedArrayBuffer> {
  readonly #make: (bytes: number) => B;
  /** Largest capacity served, as a multiple of the request. */
  readonly #slack: number;
  readonly #cached: B[] = [];
  #bytes = 0;
  #lastTake = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(make: (bytes: number) => B, slack: number) {
    this.#make = make;
    this.#slack = slack;
  }

  take(bytes: number): B {
    this.#lastTake = Date.now();
    const cached = this.#cached;
    let best = -1;
    for (let i = 0; i < cached.length; i++) {
      const cap = (cached[i] as B).byteLength;
      if (cap >= bytes && cap <= this.#slack * bytes && (best < 0 || cap < (cached[best] as B).byteLength))
        best = i;
    }
    let buffer: B;
    if (best >= 0) {
      buffer = cached[best] as B;
      cached[best] = cached[cached.length - 1] as B;
      cached.pop();
      this.#bytes -= buffer.byteLength;
    } else {
      buffer = this.#make(capacityFor(bytes));
    }
    issued.add(buffer);
    return buffer;
  }

  give(buffer: B): void {
    const n = buffer.byteLength;
    if (
      n < MIN_CACHED_BYTES ||
      this.#cached.length >= MAX_CACHED_BUFFERS ||
      this.#bytes + n > MAX_CACHED_BYTES
    )
      return;
    if (this.#cached.includes(buffer)) return;
    this.#cached.push(buffer);
    this.#bytes += n;
    issued.add(buffer);
    this.#scheduleRelease();
  }

  stats(): { readonly buffers: number; readonly bytes: number } {
    return { buffers: this.#cached.length, bytes: this.#bytes };
  }

  release(): void {
    this.#cached.length = 0;
    this.#bytes = 0;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #scheduleRelease(): void {
    if (this.#timer !== undefined) return;
    const t = setTimeout(() => {
      this.#timer = undefined;
      if (Date.now() - this.#lastTake >= IDLE_RELEASE_MS) this.release();
      else if (this.#cached.length > 0) this.#scheduleRelease();
    }, IDLE_RELEASE_MS);
    (t as { unref?: () => void }).unref?.();
    this.#timer = t;
  }
}

const plain = new ScratchCache((n) => new ArrayBuffer(n), 2);
// Objects read for decoding come in a few sizes (an array's full and last shards): a tighter fit
// keeps a small object from holding a large one's buffer, which would then be allocated again.
const shared = new ScratchCache((n) => new SharedArrayBuffer(n), 1.25);

/**
 * `bytes` bytes of scratch memory (contents undefined) for data that will be
 * handed to the codec functions with `transfer: true`: a view at offset 0 on
 * a recycled buffer of at most twice that capacity, or on a fresh one.
 */
export function takeBuffer(bytes: number): Uint8Array {
  if (bytes < MIN_CACHED_BYTES) return new Uint8Array(bytes);
  return new Uint8Array(plain.take(bytes), 0, bytes);
}

/**
 * Gives memory back for reuse. The caller must own `buffer` exclusively and
 * never touch it again (nothing else may hold a view on it). Small, detached
 * or shared buffers are ignored, as are buffers beyond the cache's bounds.
 */
export function giveBuffer(buffer: ArrayBufferLike): void {
  if (buffer instanceof ArrayBuffer) plain.give(buffer);
}

/**
 * `bytes` bytes of shared scratch memory (contents undefined) for encoded
 * data the codec workers will read without it being copied or transferred
 * (`decodeFrames` with `transfer: true` gives it back once every worker is
 * done): a view at offset 0 on a recycled SharedArrayBuffer of at most 1.25 times
 * that capacity, or on a fresh one. Plain memory where SharedArrayBuffer is
 * missing (a browser page without cross-origin isolation) and for small
 * requests.
 */
export function takeSharedBuffer(bytes: number): Uint8Array {
  if (bytes < MIN_CACHED_BYTES || typeof SharedArrayBuffer === "undefined") return takeBuffer(bytes);
  return new Uint8Array(shared.take(bytes), 0, bytes);
}

/**
 * Gives shared memory from {@link takeSharedBuffer} back for reuse, under
 * the rule of {@link giveBuffer}: no view on it may be used again, here or
 * in a worker. Other buffers are ignored.
 */
export function giveSharedBuffer(buffer: ArrayBufferLike): void {
  if (typeof SharedArrayBuffer !== "undefined" && buffer instanceof SharedArrayBuffer && issued.has(buffer))
    shared.give(buffer);
}

/** Whether the whole of `buffer` is scratch memory from this module's caches (so it may move to a worker, or be given back). */
export function isScratch(buffer: ArrayBufferLike): boolean {
  return issued.has(buffer);
}

/** ArrayBuffers and bytes currently cached (for tests and benchmarks). */
export function cacheStats(): { readonly buffers: number; readonly bytes: number } {
  return plain.stats();
}

/** SharedArrayBuffers and bytes currently cached (for tests and benchmarks). */
export function sharedCacheStats(): { readonly buffers: number; readonly bytes: number } {
  return shared.stats();
}

/**
 * Marks a buffer the caller received whole and owns (an encoded frame a
 * worker wrote into memory from {@link takeBuffer}: it comes back as a new
 * ArrayBuffer object) as scratch memory again.
 */
export function markScratch(buffer: ArrayBufferLike): void {
  if (buffer instanceof ArrayBuffer) issued.add(buffer);
}

/** Empties both caches at once. */
export function releaseBuffers(): void {
  plain.release();
  shared.release();
}
