/**
 * A process-wide bound on the encoded bytes that reads hold between
 * fetching them and decoding them. A query of many partitions starts many
 * reads at once (`partition.concurrency`), and each would otherwise fetch
 * its chunks or shards as fast as the store delivers them, while the codec
 * workers decode at a fraction of that speed: the encoded bytes of most of
 * the collection would sit in memory next to the result. With this budget
 * a read waits before fetching until the bytes decoded since let it in.
 *
 * The budget is {@link READ_BUDGET_PER_WORKER} per codec worker (at least
 * two workers' worth): enough fetched work queued for every worker to stay
 * busy, with requests of several tens of MB (whole shards) or many small
 * ones (chunks over a high-latency store) in flight.
 *
 * @module
 */

import { get as getConfig } from "../config.js";

/** Bytes of the budget per codec worker (`codec.workers`). */
export const READ_BUDGET_PER_WORKER = 40 * 1024 * 1024;

let inFlight = 0;
const waiting: Array<{ bytes: number; wake: () => void }> = [];

/** A byte count as the budget holds it: a non-negative integer. */
function wholeBytes(bytes: number): number {
  return Math.max(0, Math.ceil(bytes));
}

function capacity(): number {
  return Math.max(2, Math.floor(getConfig("codec.workers"))) * READ_BUDGET_PER_WORKER;
}

function admit(): void {
  while (waiting.length > 0) {
    const next = waiting[0] as { bytes: number; wake: () => void };
    // A request larger than the whole budget goes alone.
    if (inFlight > 0 && inFlight + next.bytes > capacity()) return;
    waiting.shift();
    inFlight += next.bytes;
    next.wake();
  }
}

/** Bytes taken from the read budget: give them back once, or correct the amount once it is known. */
export interface ReadBudgetTicket {
  /** Sets the bytes held to `bytes` (e.g. the size actually fetched), letting waiting reads in if smaller. */
  resize(bytes: number): void;
  /** Gives the bytes back (once; later calls do nothing). */
  release(): void;
}

/**
 * Waits until `bytes` (an estimate of what is about to be fetched: the
 * decoded size, which encoded data rarely exceeds) fit in the budget, in
 * the order of the calls, and takes them.
 *
 * @throws the signal's reason when `signal` aborts while waiting.
 */
export async function takeReadBudget(bytes: number, signal?: AbortSignal): Promise<ReadBudgetTicket> {
  signal?.throwIfAborted();
  let amount = wholeBytes(bytes);
  await new Promise<void>((resolve, reject) => {
    const entry = { bytes: amount, wake: resolve };
    waiting.push(entry);
    admit();
    if (signal === undefined || !waiting.includes(entry)) return;
    const onAbort = () => {
      const at = waiting.indexOf(entry);
      if (at < 0) return;
      waiting.splice(at, 1);
      admit();
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    entry.wake = () => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    };
  });
  let given = false;
  return {
    resize(next: number) {
      if (given) return;
      const size = wholeBytes(next);
      inFlight += size - amount;
      amount = size;
      admit();
    },
    release() {
      if (given) return;
      given = true;
      inFlight -= amount;
      admit();
    },
  };
}

/** Bytes taken from the budget now (for tests and benchmarks). */
export function readBudgetInUse(): number {
  return inFlight;
}

/** Whether {@link takeReadBudget} of `bytes` would be granted at once. */
export function readBudgetAdmits(bytes: number): boolean {
  return waiting.length === 0 && (inFlight === 0 || inFlight + wholeBytes(bytes) <= capacity());
}
