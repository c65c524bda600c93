/**
 * The `zcollection` command line (docs/cli.md, docs/behaviour.md §16): the
 * commander program, the mapping of errors to exit codes, and {@link main},
 * the process entry.
 *
 * Exit codes: 0 success; 1 usage errors (commander's, a bad filter, a
 * contradictory option), a declined or interrupted operation; 2 collection
 * or store errors (a missing collection, an unreadable or mismatching file)
 * and unexpected errors. Errors are one line on stderr (`error: ...`); a
 * stack trace is printed only with `ZCOLLECTION_DEBUG=1`.
 *
 * @module
 */

import { setMaxListeners } from "node:events";
import { readFileSync } from "node:fs";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { profileNames } from "../codecs/index.js";
import * as config from "../config.js";
import { type ExpressionError, isZCollectionError } from "../errors.js";
import { RESOLUTIONS } from "../partitioning/index.js";
import { WASI_NOTE_TYPE } from "../util/wasi-note.js";
import { oneLine } from "./format.js";
import type { IngestKey, IngestMerge } from "./ingest-options.js";
import { type CliIO, EXIT_ERROR, EXIT_OK, EXIT_USAGE, UsageError } from "./io.js";
import type { QueryFormat } from "./query.js";
import { cliMessage } from "./terms.js";

function packageVersion(): string {
  try {
    // src/cli/program.ts and dist/cli/program.js both sit two levels below package.json.
    const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
    return (JSON.parse(text) as { version?: string }).version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}

function positiveInteger(what: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n <= 0) {
      throw new InvalidArgumentError(`${what} must be a positive integer.`);
    }
    return n;
  };
}

function nonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError("must be an integer >= 0.");
  }
  return n;
}

/** `a,b` → `["a", "b"]`; repeated options accumulate. */
function nameList(value: string, previous: string[] | undefined): string[] {
  const names = value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (names.length === 0) throw new InvalidArgumentError("expected one or more comma-separated names.");
  return [...(previous ?? []), ...names];
}

/** Runs `fn` with config `lease.wait` set from `--wait <seconds>` when given. */
function withLeaseWait<T>(seconds: number | undefined, fn: () => Promise<T>): Promise<T> {
  return seconds === undefined ? fn() : config.override({ "lease.wait": seconds * 1000 }, fn);
}

/**
 * The commander program writing to `io`. Each action stores its exit code
 * through `setCode`; errors propagate to {@link run}. Command modules are
 * loaded when their command runs, so `--help`, `--version` and usage
 * errors stay quick.
 */
export function buildProgram(io: CliIO, setCode: (code: number) => void): Command {
  const program = new Command("zcollection");
  program
    .description("Inspect, query and fill zcollection collections (partitioned Zarr v3 datasets).")
    .version(packageVersion(), "-V, --version")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(`${oneLine(s)}\n`),
    })
    .showSuggestionAfterError(true)
    .allowExcessArguments(false);

  program
    .command("ls")
    .description("List the partitions, in natural key order.")
    .argument("<url>", "collection URL or path")
    .option("--filter <expr>", 'partition filter, e.g. "year == 2024 and month >= 3"')
    .option("--json", "print a JSON array on one line")
    .action(async (url: string, o: { filter?: string; json?: boolean }) =>
      setCode(await (await import("./inspect.js")).ls(url, o, io)),
    );

  program
    .command("inspect")
    .description(
      "Summarise a collection or a view: axis, partitioning, partitions, root dimensions and variables (a view's overlay variables too).",
    )
    .argument("<url>", "collection or view URL or path")
    .option("--json", "print a JSON object")
    .action(async (url: string, o: { json?: boolean }) =>
      setCode(await (await import("./inspect.js")).inspect(url, o, io)),
    );

  program
    .command("drop")
    .description("Delete the partitions matching a filter (asks for confirmation).")
    .argument("<url>", "collection URL or path")
    .requiredOption("--filter <expr>", "partition filter selecting the partitions to delete")
    .option("-y, --yes", "do not ask for confirmation")
    .option(
      "--wait <seconds>",
      "how long to wait for another writer of the same partition before failing (default 120)",
      nonNegativeInteger,
    )
    .option("--quiet", "no line per dropped partition on stderr when it is not a terminal, no progress bar")
    .action(async (url: string, o: { filter: string; yes?: boolean; wait?: number; quiet?: boolean }) =>
      setCode(await withLeaseWait(o.wait, async () => (await import("./drop.js")).drop(url, o, io))),
    );

  program
    .command("query")
    .description("Print the rows of the matching partitions of a collection or a view.")
    .argument("<url>", "collection or view URL or path")
    .option("--filter <expr>", "partition filter")
    .option("--variables <names>", "comma-separated variables to print, in order", nameList)
    .addOption(
      new Option("--format <format>", "output format")
        .choices(["table", "csv", "json", "parquet", "arrow"])
        .default("table"),
    )
    .option(
      "--limit <n>",
      "print at most n rows (default 20 for table, all for csv/json)",
      positiveInteger("--limit"),
    )
    .option("--index <file>", "a Parquet index (zcollection index build) selecting the rows, with --where")
    .option(
      "--where <condition>",
      "column=value or column=a,b (membership) on the index's key columns; repeatable (AND)",
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option("--long", "one row per cell, a column per dimension (default when a dimension has a coordinate)")
    .option("--no-long", "one row per index of the partitioning dimension, N-D values as lists")
    .option("-o, --output <file>", "write to this file (parquet, arrow need one; - = stdout if no terminal)")
    .option("--summary", "print per variable the valid count, min, max, mean and units instead of the rows")
    .option("--round", "write CSV/JSON numbers as the table shows them (default: full precision)")
    .action(
      async (
        url: string,
        o: {
          filter?: string;
          variables?: string[];
          format: QueryFormat;
          limit?: number;
          index?: string;
          where?: string[];
          long?: boolean;
          output?: string;
          summary?: boolean;
          round?: boolean;
        },
      ) => setCode(await (await import("./query.js")).query(url, o, io)),
    );

  program
    .command("ingest")
    .description("Ingest NetCDF products, creating the collection from the first file if needed.")
    .argument("<url>", "collection URL or path")
    .argument("<files...>", "NetCDF files, ingested in this order")
    .addOption(
      new Option("--key <key>", "partitioning of a new collection").choices(["date", "cycle", "cycle_pass"]),
    )
    .addOption(
      new Option("--resolution <res>", "date resolution for --key date (default D)").choices([
        ...RESOLUTIONS,
      ]),
    )
    .option("--time <variable>", "datetime variable for --key date (default: the time along the axis)")
    .option("--axis <dimension>", "partition dimension (default: inferred from each file)")
    .option("--group <path>", "NetCDF group lifted to the root, e.g. /data_01")
    .option("--variables <names>", "comma-separated variables to keep (default: all)", nameList)
    .option(
      "--exclude-dimension <dims>",
      "drop the variables using this dimension (comma-separated or repeated)",
      nameList,
    )
    .option(
      "--keep-packed",
      "store packed integers (CF scale_factor/add_offset, e.g. int16) as they are, the CF attributes kept, instead of unpacking them to float64",
    )
    .addOption(
      new Option(
        "--merge <strategy>",
        "how new rows combine with a stored partition (default: time_series with --key date, else replace)",
      ).choices(["replace", "concat", "time_series", "upsert", "upsert_within"]),
    )
    .option("--tolerance <duration>", "tolerance of upsert_within, e.g. 500ms")
    .addOption(new Option("--profile <name>", "codec profile of a new collection").choices(profileNames()))
    .option("--catalog", "maintain a partition catalog in a new collection")
    .option(
      "--executor <queue-url>",
      "write the partitions on the workers of this queue (redis://host:port or postgres://host:port/db; start them with `zcollection worker`)",
    )
    .option(
      "--fill-missing",
      "fill the collection's variables a product lacks with their fill value (default: refuse when a stored partition holds them)",
    )
    .option(
      "--wait <seconds>",
      "how long to wait for another writer of the same partition before failing (default 120)",
      nonNegativeInteger,
    )
    .option("--quiet", "no line per file and partition on stderr when it is not a terminal, no progress bar")
    .action(
      async (
        url: string,
        files: string[],
        o: {
          key?: IngestKey;
          resolution?: (typeof RESOLUTIONS)[number];
          time?: string;
          axis?: string;
          group?: string;
          variables?: string[];
          excludeDimension?: string[];
          keepPacked?: boolean;
          merge?: IngestMerge;
          tolerance?: string;
          profile?: string;
          catalog?: boolean;
          fillMissing?: boolean;
          executor?: string;
          wait?: number;
          quiet?: boolean;
        },
      ) => {
        const { excludeDimension, wait, ...rest } = o;
        const { ingest } = await import("./ingest.js");
        setCode(
          await withLeaseWait(wait, () =>
            ingest(
              url,
              files,
              { ...rest, ...(excludeDimension ? { excludeDimensions: excludeDimension } : {}) },
              io,
            ),
          ),
        );
      },
    );

  program
    .command("repair")
    .description(
      "Finish or roll back interrupted writes, remove stale writer leases and rebuild the catalog from the store.",
    )
    .argument("<url>", "collection URL or path")
    .option("--json", "print what was done as JSON")
    .option("--wait <seconds>", "how long to wait for live writers (default 120)", nonNegativeInteger)
    .action(async (url: string, o: { json?: boolean; wait?: number }) =>
      setCode(await withLeaseWait(o.wait, async () => (await import("./repair.js")).repair(url, o, io))),
    );

  program
    .command("verify")
    .description(
      "Decode every chunk of every partition and report the ones that fail (exit 2 when any does).",
    )
    .argument("<url>", "collection URL or path")
    .option("--filter <expr>", "partition filter")
    .option("--json", "print the report as JSON")
    .action(async (url: string, o: { filter?: string; json?: boolean }) =>
      setCode(await (await import("./verify.js")).verify(url, o, io)),
    );

  const index = program.command("index").description("Build Parquet indexes of a collection.");
  index
    .command("build")
    .description("Index runs of rows with equal values of the --by variables into one Parquet file.")
    .argument("<url>", "collection URL or path")
    .requiredOption("--by <names>", "comma-separated key variables, e.g. cycle_number,pass_number", nameList)
    .requiredOption("-o, --output <file>", "Parquet file to write (a path or a store URL)")
    .option("--filter <expr>", "partition filter")
    .action(async (url: string, o: { by: string[]; output: string; filter?: string }) =>
      setCode(await (await import("./index-build.js")).indexBuild(url, o, io)),
    );

  program
    .command("worker")
    .description("Run the tasks queued by --executor / the executor option on a BullMQ queue, until Ctrl-C.")
    .argument(
      "<queue-url>",
      "the queue: redis://host:port[/db][?queue=name] or postgres://[user@]host:port/db[?queue=name&schema=s]",
    )
    .option(
      "--concurrency <n>",
      "tasks run at once by this process (default 2)",
      positiveInteger("--concurrency"),
    )
    .option("--verbose", "print a line per task on stderr")
    .action(async (url: string, o: { concurrency?: number; verbose?: boolean }) =>
      setCode(await (await import("./worker.js")).worker(url, o, io)),
    );

  const view = program.command("view").description("Views: variables added on top of a collection.");
  view
    .command("create")
    .description("Create a view over a base collection, declaring its overlay variables.")
    .argument("<view-url>", "URL or path of the view's own store")
    .requiredOption("--base <url>", "the base collection (only read, never written)")
    .requiredOption(
      "--variable <spec>",
      "overlay variable as name:dtype[:dim,dim] (default dimension: the base's partitioning dimension); repeatable",
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option("--overwrite", "replace a view already there, its overlay data included")
    .action(async (url: string, o: { base: string; variable: string[]; overwrite?: boolean }) =>
      setCode(await (await import("./view.js")).viewCreate(url, o, io)),
    );

  program
    .command("serve")
    .description("Serve the collection viewer, and a local collection read-only, on 127.0.0.1.")
    .argument("<url>", "collection URL or path (file:// or http(s)://)")
    .option("--port <n>", "port (default 8040 or the next free one; 0 = any free port)", nonNegativeInteger)
    .option("--open", "open the viewer in the default browser")
    .option("--quiet", "do not log the collection requests")
    .action(async (url: string, o: { port?: number; open?: boolean; quiet?: boolean }) =>
      setCode(await (await import("./serve.js")).serve(url, o, io)),
    );

  program
    .command("bench")
    .description("Run the collection benchmark (insert, cold open, queries) against the machine's limit.")
    .option("--store <url>", "collection URL or path (default: a temporary directory)")
    .option("--json [file]", "print the results as JSON, or write them to file")
    .option("--partitions <n>", "monthly partitions (default 12)", positiveInteger("--partitions"))
    .option("--rows <n>", "rows per partition (default 50000)", positiveInteger("--rows"))
    .option("--width <n>", "width of the 2-D variable (default 240)", positiveInteger("--width"))
    .addOption(new Option("--profile <name>", "codec profile").choices(profileNames()))
    .option("--seed <n>", "seed of the generated values (default 0)", nonNegativeInteger)
    .action(
      async (o: {
        store?: string;
        json?: boolean | string;
        partitions?: number;
        rows?: number;
        width?: number;
        profile?: string;
        seed?: number;
      }) => setCode(await (await import("./bench.js")).bench(o, io)),
    );

  return program;
}

/**
 * The exit code for an error, after printing it on one line to stderr
 * (commander has already printed its own), in the terms of the command
 * line (./terms.ts: flags rather than library options, relative paths as
 * given).
 */
export function reportError(err: unknown, io: CliIO): number {
  if (err instanceof CommanderError) return err.exitCode;
  const debug = io.env.ZCOLLECTION_DEBUG === "1";
  const message = cliMessage(err instanceof Error ? err.message : String(err));
  const print = (text: string) => {
    io.stderr.write(`${oneLine(text)}\n`);
    if (debug && err instanceof Error && err.stack !== undefined) io.stderr.write(`${err.stack}\n`);
  };
  if (err instanceof Error && err.name === "AbortError") {
    print("error: interrupted");
    return EXIT_USAGE;
  }
  if (isZCollectionError(err, "ExpressionError")) {
    const expr = (err as ExpressionError).expression;
    print(`error: ${message}${expr !== "" && !message.includes(expr) ? ` (filter: ${expr})` : ""}`);
    return EXIT_USAGE;
  }
  if (err instanceof UsageError) {
    print(`error: ${message}`);
    return EXIT_USAGE;
  }
  print(`error: ${message}`);
  return EXIT_ERROR;
}

/**
 * Runs the command line `argv` (without the node and script paths).
 *
 * @returns the exit code (see the module documentation); never throws.
 */
export async function run(argv: readonly string[], io: CliIO): Promise<number> {
  let code = EXIT_OK;
  try {
    await buildProgram(io, (c) => {
      code = c;
    }).parseAsync([...argv], { from: "user" });
    return code;
  } catch (err) {
    return reportError(err, io);
  }
}

/**
 * The line printed for a process warning: `warning: <message>` in the
 * terms of the command line, `note: <message>` for the note that Icechunk
 * runs on WebAssembly (../util/wasi-note.ts); undefined for Node's
 * experimental feature notices, which are dropped.
 */
export function warningLine(w: Error): string | undefined {
  if (w.name === "ExperimentalWarning") return undefined;
  return `${w.name === WASI_NOTE_TYPE ? "note" : "warning"}: ${oneLine(cliMessage(w.message))}`;
}

/**
 * The process entry: runs `process.argv`, aborts the running operation on
 * Ctrl-C or SIGTERM (a second one exits at once with 130), prints warnings
 * on one line ({@link warningLine}), waits for stdout to drain and exits
 * with the code, since an open Icechunk repository or worker pool would
 * keep Node alive.
 */
export async function main(): Promise<never> {
  process.removeAllListeners("warning");
  process.on("warning", (w) => {
    const line = warningLine(w);
    if (line !== undefined) process.stderr.write(`${line}\n`);
  });
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    // A closed pipe (`| head`) ends the command quietly.
    process.exit(err.code === "EPIPE" ? EXIT_OK : EXIT_ERROR);
  });
  const controller = new AbortController();
  // Every chunk task in flight listens to the signal; their number is bounded by the pools, not by 10.
  setMaxListeners(0, controller.signal);
  // First Ctrl-C (or SIGTERM): stop at a safe point — partitions being
  // staged are discarded, those past their commit point are published —
  // and exit 1. A second one exits at once; the next write or
  // `zcollection repair` completes what was left.
  let interrupted = false;
  const interrupt = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write("\ninterrupting: stopping at a safe point (press Ctrl-C again to exit at once)\n");
    controller.abort();
  };
  process.on("SIGINT", interrupt);
  process.on("SIGTERM", interrupt);
  const code = await run(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    signal: controller.signal,
  });
  await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
  process.exit(code);
}
