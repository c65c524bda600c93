/**
 * A progress bar on stderr, drawn with cli-progress only when stderr is a
 * terminal; silent otherwise (pipes, files, tests).
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
