/**
 * The streams and environment a command runs with, injectable so that
 * commands can be exercised in-process; and the exit codes with the errors
 * that choose them.
 *
 * @module
 */

/** A text sink (`process.stdout`, `process.stderr` or a test buffer). */
export interface TextSink {
  write(text: string): unknown;
  /** Whether the sink is a terminal (progress bars are drawn only on one). */
  readonly isTTY?: boolean;
}

/** The outside world of one CLI run. */
export interface CliIO {
  /** Command output (listings, tables, JSON, prompts, summaries). */
  stdout: TextSink;
  /** Errors, warnings and progress bars. */
  stderr: TextSink;
  /** Answers to prompts (`drop`). */
  stdin: NodeJS.ReadableStream;
  /** Environment (`ZCOLLECTION_DEBUG=1` prints stack traces of unexpected errors). */
  env: Readonly<Record<string, string | undefined>>;
  /** Aborts the running operation (Ctrl-C). */
  signal?: AbortSignal;
}

/** Exit status: success. */
export const EXIT_OK = 0;
/** Exit status: usage error (bad option or argument, bad filter) or an aborted operation. */
export const EXIT_USAGE = 1;
/** Exit status: collection or store error (missing collection, unreadable file, schema mismatch...). */
export const EXIT_ERROR = 2;

/**
 * A mistake in the command line that commander cannot see (an unknown
 * variable name, a tolerance without `upsert_within`...): `error: <message>`
 * and exit status 1.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
