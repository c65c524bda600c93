/**
 * `zcollection verify`: read and decode every chunk of a collection (every
 * partition, or those matching `--filter`, and `_immutable/`), report the
 * damaged ones, exit 2 when any is.
 *
 * Registered in `buildProgram` (./program.ts); this module loads only when
 * the command runs, so `--help` stays quick.
 *
 * @module
 */

import type { VerifyReport } from "../collection/verify.js";
import { stringifyJson } from "../json.js";
import { megabytes, oneLine } from "./format.js";
import { type CliIO, EXIT_ERROR, EXIT_OK } from "./io.js";

/** Options of {@link verify}. */
export interface VerifyCommandOptions {
  /** Partition filter expression (docs/behaviour.md §7); default every partition. */
  filter?: string;
  /** Print the report as a JSON object (2-space indent) instead of text. */
  json?: boolean;
}

/** One line per failure: `<partition>/<array> chunk <key>: <error>` (`<partition> chunk zarr.json: ...` for a partition's own document). */
export function failureLines(report: VerifyReport): string[] {
  return report.failures.map((f) => {
    const where = f.array === "" ? f.partition : `${f.partition}/${f.array}`;
    return `${where} chunk ${f.chunk}: ${oneLine(f.error)}`;
  });
}

/** `verified N chunks in M arrays of P partitions (X MB): K failures`. */
export function summaryLine(report: VerifyReport): string {
  const n = report.failures.length;
  return (
    `verified ${report.chunks} chunks in ${report.arrays} arrays of ${report.partitions} partitions ` +
    `(${megabytes(report.bytes)} MB): ${n} failure${n === 1 ? "" : "s"}`
  );
}

/**
 * Opens the collection at `url` read-only, verifies the matching partitions
 * (with a progress bar on a terminal's stderr) and prints, on stdout, one
 * line per failure ({@link failureLines}) then the {@link summaryLine}, or
 * with `json` the report as a JSON object.
 *
 * @returns 0 when every chunk decodes, 2 ({@link EXIT_ERROR}) when anything fails.
 * @throws CollectionNotFoundError / StoreError (exit 2); ExpressionError for
 *   a bad filter (exit 1); the abort reason on Ctrl-C (exit 1).
 */
export async function verify(url: string, opts: VerifyCommandOptions, io: CliIO): Promise<number> {
  const signal = io.signal;
  const [{ openCollection }, { verifyPartitions }, { progressBar }] = await Promise.all([
    import("../collection/index.js"),
    import("../collection/verify.js"),
    import("./progress.js"),
  ]);
  const col = await openCollection(url, { mode: "r", ...(signal ? { signal } : {}) });
  const paths = await col.partitions({ filters: opts.filter ?? null, ...(signal ? { signal } : {}) });
  const bar = progressBar(io.stderr, "verify");
  let report: VerifyReport;
  try {
    report = await verifyPartitions(col.store, col.schema, paths, {
      axis: col.axis,
      onProgress: (p) => bar.update(p),
      ...(signal ? { signal } : {}),
    });
  } finally {
    bar.stop();
  }
  if (opts.json === true) {
    io.stdout.write(`${stringifyJson(report, { indent: 2 })}\n`);
  } else {
    for (const line of failureLines(report)) io.stdout.write(`${line}\n`);
    io.stdout.write(`${summaryLine(report)}\n`);
  }
  return report.failures.length === 0 ? EXIT_OK : EXIT_ERROR;
}
