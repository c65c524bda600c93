/**
 * Recycled chunk-sized memory for the trips to the codec workers and back.
 *
 * Writing a fresh multi-megabyte ArrayBuffer costs page faults and, later,
 * garbage collection of external memory: measured on the benchmark
 * collection, about as much CPU time as copying the same bytes several times
 * over. Chunk buffers that go to a worker come back with the result (the
 * worker hands its input back), and compressed chunks the caller has
 * finished with can be given back too; {@link takeBuffer} then serves the
 * next chunk from this memory instead of a fresh buffer.
 *
 * The cache is small (at most {@link MAX_CACHED_BUFFERS} buffers and
 * {@link MAX_CACHED_BYTES} bytes) and emptied after
 * {@link IDLE_RELEASE_MS} without use, so it holds no memory once the
 * library is idle.
 *
 * @module
 */

/** Requests below this many bytes are served fresh (and never cached): small buffers are cheap. */
export const MIN_CACHED_BYTES = 64 * 1024;
/** Most buffers kept for reuse. */
export const MAX_CACHED_BUFFERS = 32;
/** Most bytes kept for reuse. */
export const MAX_CACHED_BYTES = 256 * 1024 * 1024;
/** The cache is emptied after this long without a {@link takeBuffer}. */
export const IDLE_RELEASE_MS = 1000;

const cached: ArrayBuffer[] = [];
let cachedBytes = 0;
/** Buffers handed out by {@link takeBuffer} (their whole capacity is scratch memory). */
const issued = new WeakSet<ArrayBufferLike>();
let lastTake = 0;
let timer: ReturnType<typeof setTimeout> | undefined;

function scheduleRelease(): void {
  if (timer !== undefined) return;
  const t = setTimeout(() => {
    timer = undefined;
    if (Date.now() - lastTake >= IDLE_RELEASE_MS) {
      cached.length = 0;
      cachedBytes = 0;
    } else if (cached.length > 0) {
      scheduleRelease();
    }
  }, IDLE_RELEASE_MS);
  (t as { unref?: () => void }).unref?.();
  timer = t;
}

/**
 * `bytes` bytes of scratch memory (contents undefined) for data that will be
 * handed to the codec functions with `transfer: true`: a view at offset 0 on
 * a recycled buffer of at most twice that capacity, or on a fresh one.
 */
export function takeBuffer(bytes: number): Uint8Array {
  if (bytes < MIN_CACHED_BYTES) return new Uint8Array(bytes);
  lastTake = Date.now();
  let best = -1;
  for (let i = 0; i < cached.length; i++) {
    const cap = (cached[i] as ArrayBuffer).byteLength;
    if (cap >= bytes && cap <= 2 * bytes && (best < 0 || cap < (cached[best] as ArrayBuffer).byteLength))
      best = i;
  }
  let buffer: ArrayBuffer;
  if (best >= 0) {
    buffer = cached[best] as ArrayBuffer;
    cached[best] = cached[cached.length - 1] as ArrayBuffer;
    cached.pop();
    cachedBytes -= buffer.byteLength;
  } else {
    buffer = new ArrayBuffer(bytes);
  }
  issued.add(buffer);
  return new Uint8Array(buffer, 0, bytes);
}

/**
 * Gives memory back for reuse. The caller must own `buffer` exclusively and
 * never touch it again (nothing else may hold a view on it). Small, detached
 * or shared buffers are ignored, as are buffers beyond the cache's bounds.
 */
export function giveBuffer(buffer: ArrayBufferLike): void {
  if (!(buffer instanceof ArrayBuffer)) return;
  const n = buffer.byteLength;
  if (n < MIN_CACHED_BYTES || cached.length >= MAX_CACHED_BUFFERS || cachedBytes + n > MAX_CACHED_BYTES)
    return;
  if (cached.includes(buffer)) return;
  cached.push(buffer);
  cachedBytes += n;
  issued.add(buffer);
  scheduleRelease();
}

/** Whether the whole of `buffer` is scratch memory from {@link takeBuffer} (so it may move to a worker). */
export function isScratch(buffer: ArrayBufferLike): boolean {
  return issued.has(buffer);
}

/** Buffers and bytes currently cached (for tests and benchmarks). */
export function cacheStats(): { readonly buffers: number; readonly bytes: number } {
  return { buffers: cached.length, bytes: cachedBytes };
}

/**
 * Marks a buffer the caller received whole and owns (an encoded frame a
 * worker wrote into memory from {@link takeBuffer}: it comes back as a new
 * ArrayBuffer object) as scratch memory again.
 */
export function markScratch(buffer: ArrayBufferLike): void {
  if (buffer instanceof ArrayBuffer) issued.add(buffer);
}

/** Empties the cache at once. */
export function releaseBuffers(): void {
  cached.length = 0;
  cachedBytes = 0;
  if (timer !== undefined) clearTimeout(timer);
  timer = undefined;
}
