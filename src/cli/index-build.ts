/**
 * `zcollection index build <url> --by a,b -o FILE [--filter EXPR]`: a
 * Parquet index (docs/format.md §12) with one row per run of consecutive rows
 * sharing the values of the `--by` variables (`runsOf`), written to FILE.
 *
 * @module
 */

import { Indexer, runsOf } from "../indexing/index.js";
import { openReadOnly } from "./inspect.js";
import { type CliIO, UsageError } from "./io.js";
import { progressBar } from "./progress.js";

/** Options of {@link indexBuild}. */
export interface IndexBuildOptions {
  /** Key variables (names or `grp/var` paths), each 1-D along the partitioning dimension. */
  by: readonly string[];
  /** The Parquet file: a path, a `file://` URL or a file URL on another store (`s3://...`). */
  output: string;
  /** Partition filter expression. */
  filter?: string;
}

/**
 * Builds the index and writes it, then prints one summary line:
 * `indexed P partition(s) by a, b: R row(s) written to FILE in T s`.
 *
 * @returns 0.
 * @throws UsageError (exit 1) naming a `--by` variable that the collection
 *   lacks or that does not run along its partitioning dimension;
 *   ExpressionError (exit 1) for a bad filter; CollectionNotFoundError,
 *   StoreError, SchemaError (exit 2).
 */
export async function indexBuild(url: string, opts: IndexBuildOptions, io: CliIO): Promise<number> {
  const started = performance.now();
  const col = await openReadOnly(url, io.signal);
  const names = opts.by.map((n) => n.replace(/^\/+/, ""));
  const all = col.schema.allVariables();
  const unknown = names.filter((n) => !all.has(n));
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown variable(s) ${unknown.map((n) => `'${n}'`).join(", ")} in --by; the collection has ${[...all.keys()].join(", ")}`,
    );
  }
  const dim = col.dimension;
  const notRows = names.filter((n) => all.get(n)?.dimensions.join(",") !== dim);
  if (notRows.length > 0) {
    throw new UsageError(
      `variable(s) ${notRows.map((n) => `'${n}'`).join(", ")} in --by are not 1-D along the partitioning dimension '${dim}'`,
    );
  }
  const bar = progressBar(io.stderr, "index");
  let scanned = 0;
  let index: Indexer;
  try {
    index = await Indexer.build(col, {
      builder: runsOf(names),
      filters: opts.filter ?? null,
      onProgress: (p) => {
        scanned = p.total;
        bar.update(p);
      },
      ...(io.signal ? { signal: io.signal } : {}),
    });
  } finally {
    bar.stop();
  }
  await index.write(opts.output, io.signal ? { signal: io.signal } : {});
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  io.stdout.write(
    `indexed ${scanned} partition(s) by ${names.join(", ")}: ${index.numRows} row(s) written to ${opts.output} in ${seconds} s\n`,
  );
  return 0;
}
