/**
 * The PASS/FAIL lines of `npm run bench` for reads (targets of the
 * performance work, checked on every run rather than in unit tests, where
 * timings are noise):
 * - the full query, in a process of its own, reaches at least
 *   {@link QUERY_LIMIT_TARGET} of the machine's limit for its bytes;
 * - its peak memory grows by at most {@link PEAK_MEMORY_TARGET} × the
 *   bytes of its result (decoded straight into the result: no second copy);
 * - the one-partition query makes no more GETs than the partition has
 *   objects to read (its group document, one document per array, one GET
 *   per shard or chunk).
 *
 * @module
 */

import type { BenchResult } from "./collection.js";

/** Least ratio of the full query's throughput to the machine limit. */
export const QUERY_LIMIT_TARGET = 0.9;
/** Most growth of the resident set during the full query, per byte of its result. */
export const PEAK_MEMORY_TARGET = 1.25;

/** A checked target. */
export interface Target {
  readonly pass: boolean;
  readonly line: string;
}

/**
 * The read targets of a run, from its results (`query_full_fresh_process`,
 * `query_one_partition_full`) and the number of objects of the partition
 * the one-partition query reads.
 */
export function queryTargets(results: readonly BenchResult[], partitionObjects: number): Target[] {
  const by = (name: string) => results.find((r) => r.name === name);
  const targets: Target[] = [];
  const fresh = by("query_full_fresh_process");
  if (fresh !== undefined) {
    const ratio = fresh.extra.ratio_to_limit as number;
    targets.push({
      pass: ratio >= QUERY_LIMIT_TARGET,
      line: `query_full (own process): ${ratio.toFixed(2)}x the machine limit (target >= ${QUERY_LIMIT_TARGET}x)`,
    });
    const growth = fresh.extra.peak_growth_MB as number;
    const result = fresh.extra.result_MB as number;
    targets.push({
      pass: growth <= PEAK_MEMORY_TARGET * result,
      line:
        `query_full peak memory: +${growth.toFixed(0)} MB for a ${result.toFixed(0)} MB result = ` +
        `${(growth / result).toFixed(2)}x (target <= ${PEAK_MEMORY_TARGET}x)`,
    });
  }
  const one = by("query_one_partition_full");
  if (one !== undefined) {
    const gets = one.counts.get ?? 0;
    targets.push({
      pass: gets <= partitionObjects,
      line:
        `query_one_partition_full: ${gets} GETs for a partition of ${partitionObjects} objects ` +
        "(target: one GET each: group document, array documents, shards or chunks)",
    });
  }
  return targets;
}
