/**
 * Bounded concurrency for I/O and codec work.
 *
 * @module
 */

/**
 * Maps `items` through the async `fn` with at most `limit` calls in flight,
 * keeping the input order in the result.
 *
 * On the first rejection no further item is started, the signal handed to
 * the calls in flight is aborted (with that error as its reason), and the
 * returned promise rejects with that first error only once every call in
 * flight has settled: nothing a call started is still running when the
 * caller sees the failure.
 *
 * @param limit values below 1 are treated as 1.
 * @param signal checked before each call, and forwarded to the calls (the
 *   third argument of `fn` aborts when it does); an aborted signal rejects
 *   with its reason.
 */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number, signal: AbortSignal) => Promise<R>,
  signal?: AbortSignal,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  const n = items.length;
  if (n === 0) return results;
  const width = Math.max(1, Math.min(Math.floor(limit) || 1, n));
  const inner = new AbortController();
  // AbortSignal.any follows `signal` without piling listeners on it (nested
  // calls share one outer signal).
  const combined = signal === undefined ? inner.signal : anySignal(signal, inner.signal);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < n) {
      const i = next++;
      try {
        signal?.throwIfAborted();
        results[i] = await fn(items[i] as T, i, combined);
      } catch (err) {
        if (failure === undefined) {
          failure = { error: err };
          inner.abort(err);
        }
        return;
      }
    }
  };
  const workers: Promise<void>[] = [];
  for (let w = 0; w < width; w++) workers.push(worker());
  await Promise.all(workers);
  if (failure !== undefined) throw failure.error;
  return results;
}

/** A signal aborted when either is (AbortSignal.any where the runtime has it). */
function anySignal(a: AbortSignal, b: AbortSignal): AbortSignal {
  const any = (AbortSignal as { any?: (signals: AbortSignal[]) => AbortSignal }).any;
  if (any !== undefined) return any([a, b]);
  const c = new AbortController();
  const forward = (s: AbortSignal) => () => c.abort(s.reason);
  if (a.aborted) c.abort(a.reason);
  else if (b.aborted) c.abort(b.reason);
  else {
    a.addEventListener("abort", forward(a), { once: true });
    b.addEventListener("abort", forward(b), { once: true });
  }
  return c.signal;
}

/** Runs async tasks with at most a fixed number in flight (see {@link createLimiter}). */
export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

/**
 * A limiter shared by several producers: each call runs `task` as soon as
 * fewer than `limit` tasks are running, in call order.
 *
 * @param limit values below 1 are treated as 1.
 */
export function createLimiter(limit: number): Limiter {
  const width = Math.max(1, Math.floor(limit) || 1);
  let active = 0;
  const queue: (() => void)[] = [];
  const release = () => {
    active--;
    const next = queue.shift();
    if (next !== undefined) next();
  };
  return <T>(task: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const run = () => {
        active++;
        let p: Promise<T>;
        try {
          p = task();
        } catch (err) {
          p = Promise.reject(err);
        }
        p.then(resolve, reject).finally(release);
      };
      if (active < width) run();
      else queue.push(run);
    });
}
