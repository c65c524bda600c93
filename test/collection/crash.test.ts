import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { openCollection } from "../../src/collection/index.js";
import type { NDArray } from "../../src/ndarray.js";
import { crashDataset, DAYS, dayStart, expected, ROWS, WIDTH } from "../helpers/crash-data.js";

const script = join(import.meta.dirname, "../helpers/crash-insert.ts");

/** Runs the insert in a child process and SIGKILLs it once `killAfter` partitions were reported written. */
function insertAndKill(
  dir: string,
  create: boolean,
  killAfter: number,
): Promise<{ killed: boolean; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, dir, ...(create ? ["--create"] : [])], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines: string[] = [];
    let buffer = "";
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += String(d);
    });
    child.stdout.on("data", (d) => {
      buffer += String(d);
      const parts = buffer.split("\n");
      buffer = parts.pop() ?? "";
      for (const line of parts) {
        lines.push(line);
        const m = /^progress (\d+)\//.exec(line);
        // Kill a few milliseconds after a partition completed, while the next ones are being written.
        if (m && Number(m[1]) >= killAfter && !child.killed) setTimeout(() => child.kill("SIGKILL"), 15);
      }
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (signal === "SIGKILL") resolve({ killed: true, lines });
      else if (code === 0) resolve({ killed: false, lines });
      else reject(new Error(`child exited with ${code}: ${stderr}`));
    });
  });
}

/** Checks that a partition holds exactly the rows of its day. */
function checkDay(path: string, time: NDArray, values: NDArray): void {
  const day = Number(/day=(\d+)/.exec(path)?.[1]) - 1;
  assert.equal(time.shape[0], ROWS, `${path}: row count`);
  assert.equal(time.get(0), dayStart(day), `${path}: first time`);
  for (const r of [0, 1, 4095, 4096, ROWS - 1]) {
    for (const c of [0, WIDTH - 1]) assert.equal(values.get(r, c), expected(day, r, c), `${path}[${r},${c}]`);
  }
  const data = values.data as Float32Array;
  for (let i = 0; i < data.length; i++) {
    if (Number.isNaN(data[i])) assert.fail(`${path}: fill value found at flat index ${i}`);
  }
}

describe("an insert killed with SIGKILL", { timeout: 120_000 }, () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("leaves a collection that opens, whose listed partitions query completely, and a re-run completes", async () => {
    const dir = await mkdtemp(join(tmpdir(), "zc-crash-"));
    dirs.push(dir);
    const run = await insertAndKill(dir, true, 3);
    assert.ok(run.killed, `the child finished before it could be killed: ${run.lines.slice(-3).join(" | ")}`);
    assert.ok(!run.lines.includes("done"));

    const collection = await openCollection(`file://${dir}`, { mode: "rw" });
    const listed = await collection.partitions();
    assert.ok(listed.length >= 3 && listed.length < DAYS, `listed ${listed.length} partitions`);
    for await (const [path, ds] of collection.iterate()) {
      checkDay(path, ds.getVariable("time").array, ds.getVariable("values").array);
    }

    // Re-running the insert completes and every day is then complete.
    const written = await collection.insert(crashDataset());
    assert.equal(written.length, DAYS);
    const all = await collection.partitions();
    assert.equal(all.length, DAYS);
    for await (const [path, ds] of collection.iterate()) {
      checkDay(path, ds.getVariable("time").array, ds.getVariable("values").array);
    }
  });

  it("killed while replacing existing partitions, never exposes a half-written one", async () => {
    const dir = await mkdtemp(join(tmpdir(), "zc-crash-"));
    dirs.push(dir);
    const first = await insertAndKill(dir, true, DAYS + 1);
    assert.ok(!first.killed);
    const second = await insertAndKill(dir, false, 2);
    assert.ok(second.killed);
    const collection = await openCollection(`file://${dir}`, { mode: "r" });
    const listed = await collection.partitions();
    assert.ok(listed.length >= DAYS - 8, `listed ${listed.length}`);
    for await (const [path, ds] of collection.iterate()) {
      checkDay(path, ds.getVariable("time").array, ds.getVariable("values").array);
    }
  });
});
