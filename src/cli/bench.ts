/**
 * `zcollection bench`: runs the collection benchmark (docs/behaviour.md §17) of
 * `src/bench/collection.ts`, loaded only when the command runs.
 *
 * @module
 */

import { stringifyJson } from "../json.js";
import { type CliIO, UsageError } from "./io.js";

/** Options of {@link bench}. */
export interface BenchCommandOptions {
  /** Store URL or path of the benchmark collection (default: a temporary directory). */
  store?: string;
  /**
   * `true`: print the results as JSON on stdout instead of the report;
   * a path: print the report and also write the JSON results there.
   */
  json?: boolean | string;
  partitions?: number;
  rows?: number;
  width?: number;
  profile?: string;
  seed?: number;
}

/**
 * Runs the benchmark and prints its report (or its JSON results).
 *
 * @throws UsageError (exit 1) for sizes the benchmark refuses (RangeError);
 *   store errors as thrown (exit 2).
 */
export async function bench(opts: BenchCommandOptions, io: CliIO): Promise<number> {
  const { runBench } = await import("../bench/collection.js");
  const toStdout = opts.json === true;
  let results: Awaited<ReturnType<typeof runBench>>;
  try {
    results = await runBench({
      ...(opts.store === undefined ? {} : { store: opts.store }),
      ...(typeof opts.json === "string" ? { json: opts.json } : {}),
      ...(opts.partitions === undefined ? {} : { partitions: opts.partitions }),
      ...(opts.rows === undefined ? {} : { rows: opts.rows }),
      ...(opts.width === undefined ? {} : { width: opts.width }),
      ...(opts.profile === undefined ? {} : { profile: opts.profile }),
      ...(opts.seed === undefined ? {} : { seed: opts.seed }),
      log: toStdout ? (line) => io.stderr.write(`${line}\n`) : (line) => io.stdout.write(`${line}\n`),
    });
  } catch (err) {
    if (err instanceof RangeError) throw new UsageError(err.message);
    throw err;
  }
  if (toStdout) io.stdout.write(`${stringifyJson(results, { indent: 2 })}\n`);
  return 0;
}
