/**
 * Progress on stderr: a bar drawn with cli-progress when stderr is a
 * terminal; otherwise (pipes, log files, tests) nothing for read commands
 * ({@link progressBar}), and one plain line per file or partition for the
 * commands that write ({@link workProgress}: ingest, drop).
 *
 * @module
 */

import cliProgress from "cli-progress";
import type { Progress } from "../collection/index.js";
import type { TextSink } from "./io.js";

/** Receives progress reports and clears the bar when done. */
export interface ProgressReporter {
  /** Starts the bar on the first call, then moves it. */
  update(p: Progress & { label?: string }): void;
  /** Removes the bar from the terminal (idempotent). */
  stop(): void;
}

const SILENT: ProgressReporter = {
  update() {},
  stop() {},
};

/**
 * A reporter drawing `<title> [████░░] done/total <label>` on `stream` when it
 * is a TTY (cleared on stop), or a no-op reporter otherwise.
 *
 * @param title first word of the line (`ingest`, `query`, `drop`).
 */
export function progressBar(stream: TextSink, title: string): ProgressReporter {
  if (stream.isTTY !== true) return SILENT;
  const bar = new cliProgress.SingleBar(
    {
      stream: stream as NodeJS.WritableStream,
      format: `${title} [{bar}] {value}/{total} {label}`,
      barsize: 30,
      clearOnComplete: true,
      hideCursor: false,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let stopped = false;
  return {
    update(p) {
      if (stopped) return;
      const payload = { label: p.label ?? p.partition ?? "" };
      if (!started) {
        bar.start(p.total, p.done, payload);
        started = true;
      } else {
        if (bar.getTotal() !== p.total) bar.setTotal(p.total);
        bar.update(p.done, payload);
      }
    },
    stop() {
      if (started && !stopped) bar.stop();
      stopped = true;
    },
  };
}

/** A {@link ProgressReporter} that can also log one line per unit of work. */
export interface WorkReporter extends ProgressReporter {
  /** Prints `text` on its own line when stderr is not a terminal (and not quiet); a no-op otherwise. */
  line(text: string): void;
}

/**
 * Progress of a command that writes: the bar of {@link progressBar} on a
 * terminal; one plain line per {@link WorkReporter.line} call when `stream`
 * is not a terminal (a pipe, a log file); nothing with `quiet`.
 *
 * @param title first word of the bar (`ingest`, `drop`).
 */
export function workProgress(stream: TextSink, title: string, opts: { quiet?: boolean } = {}): WorkReporter {
  if (opts.quiet === true) return { ...SILENT, line() {} };
  if (stream.isTTY === true) return { ...progressBar(stream, title), line() {} };
  return {
    ...SILENT,
    line(text) {
      stream.write(`${text}\n`);
    },
  };
}
