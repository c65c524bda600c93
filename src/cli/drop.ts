/**
 * `zcollection drop` (docs/behaviour.md §16): delete the partitions matching a
 * filter, after a confirmation unless `--yes`.
 *
 * @module
 */

import { createInterface } from "node:readline";
import { openCollection } from "../collection/index.js";
import type { CliIO } from "./io.js";
import { workProgress } from "./progress.js";

/** Partitions listed in the confirmation prompt before `... (K more)`. */
export const PREVIEW_LIMIT = 10;

/** Options of {@link drop}. */
export interface DropOptions {
  /** Partition filter expression (required on the command line). */
  filter: string;
  /** Skip the confirmation. */
  yes?: boolean;
  /** No progress on stderr (`--quiet`). */
  quiet?: boolean;
}

/**
 * One line from `input` without its line break; `""` at end of input or
 * when `signal` aborts. Stops reading as soon as the line is complete.
 */
export function readLine(input: NodeJS.ReadableStream, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input, terminal: false });
    let done = false;
    const finish = (line: string) => {
      if (done) return;
      done = true;
      signal?.removeEventListener("abort", onAbort);
      rl.close();
      resolve(line);
    };
    const onAbort = () => finish("");
    if (signal?.aborted) return finish("");
    signal?.addEventListener("abort", onAbort);
    rl.once("line", finish);
    rl.once("close", () => finish(""));
  });
}

/** The confirmation text: `about to drop N partition(s):`, up to 10 paths, `... (K more)`, `proceed? [y/N] `. */
export function dropPrompt(paths: readonly string[]): string {
  let text = `about to drop ${paths.length} partition(s):\n`;
  for (const p of paths.slice(0, PREVIEW_LIMIT)) text += `  ${p}\n`;
  if (paths.length > PREVIEW_LIMIT) text += `  ... (${paths.length - PREVIEW_LIMIT} more)\n`;
  return `${text}proceed? [y/N] `;
}

/**
 * Lists the matching partitions; none → `no partitions match` (exit 0).
 * Without `yes`, prints {@link dropPrompt} and reads one answer from stdin:
 * `y`/`yes` (trimmed, any case) proceeds, anything else (end of input
 * included) prints `aborted` and returns 1. The drop evaluates the filter
 * again, then `dropped N partition(s)` is printed. Progress goes to
 * stderr: a bar on a terminal, else a line `dropped <partition>` per
 * partition (nothing with `quiet`).
 *
 * @throws CollectionNotFoundError / StoreError / ReadOnlyError (exit 2); ExpressionError (exit 1).
 */
export async function drop(url: string, opts: DropOptions, io: CliIO): Promise<number> {
  const signal = io.signal;
  const col = await openCollection(url, { mode: "rw", ...(signal ? { signal } : {}) });
  const targets = await col.partitions({ filters: opts.filter, ...(signal ? { signal } : {}) });
  if (targets.length === 0) {
    io.stdout.write("no partitions match\n");
    return 0;
  }
  if (opts.yes !== true) {
    io.stdout.write(dropPrompt(targets));
    const reply = (await readLine(io.stdin, signal)).trim().toLowerCase();
    if (reply !== "y" && reply !== "yes") {
      io.stdout.write("aborted\n");
      return 1;
    }
  }
  const bar = workProgress(io.stderr, "drop", opts.quiet === true ? { quiet: true } : {});
  let dropped: string[];
  try {
    dropped = await col.dropPartitions({
      filters: opts.filter,
      onProgress: (p) => {
        bar.update(p);
        if (p.partition !== undefined) bar.line(`dropped ${p.partition}`);
      },
      ...(signal ? { signal } : {}),
    });
  } finally {
    bar.stop();
  }
  io.stdout.write(`dropped ${dropped.length} partition(s)\n`);
  return 0;
}
