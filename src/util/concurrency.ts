/**
 * Bounded concurrency for I/O and codec work.
 *
 * @module
 */

/**
 * Maps `items` through the async `fn` with at most `limit` calls in flight,
 * keeping the input order in the result. The first rejection rejects the
 * returned promise; items not yet started are then skipped (calls already in
 * flight run to completion but their results are dropped).
 *
 * @param limit values below 1 are treated as 1.
 * @param signal checked before each call; an aborted signal rejects with its reason.
 */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
  signal?: AbortSignal,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  const n = items.length;
  if (n === 0) return results;
  const width = Math.max(1, Math.min(Math.floor(limit) || 1, n));
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < n) {
      const i = next++;
      signal?.throwIfAborted();
      try {
        results[i] = await fn(items[i] as T, i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const workers: Promise<void>[] = [];
  for (let w = 0; w < width; w++) workers.push(worker());
  await Promise.all(workers);
  return results;
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
