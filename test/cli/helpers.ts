/**
 * Helpers of the CLI tests: run `src/cli/main.ts` in a child process, build
 * small collections with the library, capture in-process output.
 */

import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CliIO, TextSink } from "../../src/cli/io.js";
import { createCollection } from "../../src/collection/index.js";
import { Dataset } from "../../src/data/index.js";
import { NAT } from "../../src/dtype.js";
import { NDArray } from "../../src/ndarray.js";
import { Sequence } from "../../src/partitioning/index.js";
import { Schema } from "../../src/schema/index.js";

/** What a CLI run produced. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const MAIN = join(import.meta.dirname, "..", "..", "src", "cli", "main.ts");

/**
 * Runs `node --import tsx <args>` in a child process, in `opts.cwd` (default:
 * this process's working directory), writing `input` to its stdin (then
 * closing it); `ZCOLLECTION_DEBUG` is empty unless `opts.env` sets it.
 */
export function runNode(
  args: readonly string[],
  opts: { input?: string; env?: Record<string, string>; cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    // tsx by its absolute URL: `cwd` may be outside the project.
    const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx"), ...args], {
      ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
      env: { ...process.env, ...opts.env, ZCOLLECTION_DEBUG: opts.env?.ZCOLLECTION_DEBUG ?? "" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding("utf8").on("data", (s: string) => {
      stderr += s;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.on("error", () => {}); // the child may exit before reading its input
    child.stdin.end(opts.input ?? "");
  });
}

/**
 * Runs `zcollection <args>` in a child process (`node --import tsx
 * src/cli/main.ts`, see {@link runNode}), writing `input` to its stdin (then
 * closing it).
 */
export function runCli(
  args: readonly string[],
  opts: { input?: string; env?: Record<string, string>; cwd?: string } = {},
): Promise<CliResult> {
  return runNode([MAIN, ...args], opts);
}

/** Runs several command lines, at most `width` child processes at once, results in order. */
export async function runAll(
  commands: ReadonlyArray<{ args: readonly string[]; input?: string }>,
  width = 3,
): Promise<CliResult[]> {
  const results: CliResult[] = new Array(commands.length);
  let next = 0;
  const worker = async () => {
    while (next < commands.length) {
      const i = next++;
      const c = commands[i] as { args: readonly string[]; input?: string };
      results[i] = await runCli(c.args, c.input === undefined ? {} : { input: c.input });
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, commands.length) }, worker));
  return results;
}

/** A temporary directory, removed by the returned cleanup. */
export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A small collection under `path`, partitioned by `num` (Sequence):
 *
 * | num | t (datetime64[s])    | v (float32 × 2) | s        | big (int64)          | g/w (int16) |
 * | 0   | 1970-01-01T00:00:00  | [0.1, 1]        | `a,b`    | 2^60                 | 7           |
 * | 0   | 1970-01-01T00:00:01  | [2, NaN]        | `say "hi"` | -5                 | -1          |
 * | 1   | 1970-01-02T00:00:00  | [3, 4]          | plain    | 9007199254740991     | 0           |
 * | 2   | 1970-01-03T00:00:00  | [5, 6]          | (empty)  | 0                    | 32767       |
 * | 10  | NaT                  | [7, 8]          | x        | -9007199254740993    | 3           |
 *
 * plus the immutable `c = [1.5, 2.5]` on `x` and root attribute `title: "demo"`.
 */
export async function makeSampleCollection(path: string): Promise<void> {
  const schema = Schema()
    .withDimension("num", { chunks: 4 })
    .withDimension("x", { size: 2 })
    .withVariable("num", { dtype: "int64", dimensions: ["num"] })
    .withVariable("t", { dtype: "datetime64[s]", dimensions: ["num"] })
    .withVariable("v", { dtype: "float32", dimensions: ["num", "x"], fillValue: Number.NaN })
    .withVariable("s", { dtype: "string", dimensions: ["num"] })
    .withVariable("big", { dtype: "int64", dimensions: ["num"] })
    .withVariable("c", { dtype: "float64", dimensions: ["x"] })
    .withVariable("w", { dtype: "int16", dimensions: ["num"], group: "/g" })
    .withAttribute("title", "demo")
    .build();
  const col = await createCollection(path, {
    schema,
    axis: "num",
    partitioning: new Sequence(["num"], { dimension: "num" }),
  });
  const ds = Dataset.fromArrays(schema, {
    num: new BigInt64Array([0n, 0n, 1n, 2n, 10n]),
    t: new BigInt64Array([0n, 1n, 86_400n, 172_800n, NAT]),
    v: NDArray.from(new Float32Array([0.1, 1, 2, Number.NaN, 3, 4, 5, 6, 7, 8]), { shape: [5, 2] }),
    s: ["a,b", 'say "hi"', "plain", "", "x"],
    big: new BigInt64Array([2n ** 60n, -5n, 9_007_199_254_740_991n, 0n, -9_007_199_254_740_993n]),
    c: new Float64Array([1.5, 2.5]),
    "g/w": new Int16Array([7, -1, 0, 32767, 3]),
  });
  await col.insert(ds);
}

/** A text sink collecting what is written. */
export class Capture implements TextSink {
  text = "";
  constructor(readonly isTTY = false) {}
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

/** An in-process IO with captured stdout/stderr and an empty stdin unless given. */
export async function captureIO(input = ""): Promise<CliIO & { stdout: Capture; stderr: Capture }> {
  const { Readable } = await import("node:stream");
  return {
    stdout: new Capture(),
    stderr: new Capture(),
    stdin: Readable.from([input]),
    env: {},
  };
}
