/**
 * Overlay writes under a crash and a second writer: a view update killed at
 * any instant leaves every overlay partition with its old or its new
 * content, and two updaters of different variables at once lose neither.
 * The base collection is never written.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { cp, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { readPartition, selectPaths } from "../../src/collection/partition-io.js";
import type { NDArray } from "../../src/ndarray.js";
import { LocalStore } from "../../src/store/local.js";
import { View } from "../../src/view/index.js";
import { canonicalSha256 } from "../helpers/zarr-cases.js";

const FIXTURES = fileURLToPath(new URL("../fixtures/pyzcollection/", import.meta.url));
const CHILD = join(import.meta.dirname, "../helpers/view-update-child.ts");
const PARTITIONS = ["year=2023/month=01", "year=2023/month=02", "year=2023/month=03", "year=2023/month=04"];

interface Overlay {
  overlay: Record<string, Record<string, { sha256: string }>>;
}

/** SHA-256 of every file below `dir`, by relative path. */
async function treeDigest(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.set(
      path.slice(dir.length),
      createHash("sha256")
        .update(await readFile(path))
        .digest("hex"),
    );
  }
  return out;
}

/** Runs the child; with `killAfterMs`, SIGKILLs it that long after it started updating. */
function runChild(
  dir: string,
  variable: string,
  value: number,
  killAfterMs?: number,
): Promise<{ killed: boolean; progress: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, dir, variable, String(value)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    let progress = 0;
    child.stderr.on("data", (d) => {
      stderr += String(d);
    });
    child.stdout.on("data", (d) => {
      const text = String(d);
      if (killAfterMs !== undefined && text.includes("started"))
        setTimeout(() => child.kill("SIGKILL"), killAfterMs);
      for (const m of text.matchAll(/progress (\d+)\//g)) progress = Number(m[1]);
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (signal === "SIGKILL") resolve({ killed: true, progress });
      else if (code === 0) resolve({ killed: false, progress });
      else reject(new Error(`child exited with ${code}: ${stderr}`));
    });
  });
}

async function overlayOf(view: View, path: string) {
  const store = new LocalStore(view.store.rootUri.replace(/^file:\/\//, ""), { readOnly: true });
  return readPartition(store, path, view.viewSchema, selectPaths(view.viewSchema, undefined));
}

/** The single value every element holds, or undefined when they differ. */
function constant(a: NDArray): number | undefined {
  const d = a.data as Float32Array | Int8Array;
  const first = d[0] as number;
  return d.every((x) => x === first) ? first : undefined;
}

describe("view updates under SIGKILL and a second writer", () => {
  let dir: string;
  let viewDir: string;
  let baseDigest: Map<string, string>;
  let python: Overlay;
  let rows: Record<string, number>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "zc-view-safety-"));
    await cp(join(FIXTURES, "date_nested"), join(dir, "date_nested"), { recursive: true });
    viewDir = join(dir, "view");
    await cp(join(FIXTURES, "view_over_date_nested"), viewDir, { recursive: true });
    baseDigest = await treeDigest(join(dir, "date_nested"));
    const expected = JSON.parse(await readFile(join(FIXTURES, "expected.json"), "utf8"));
    python = expected.view_over_date_nested as Overlay;
    rows = expected.date_nested.rows_per_partition as Record<string, number>;
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("a killed update leaves each overlay partition old or new, never a mix, and recovery finishes", async () => {
    const values = [1];
    let sawKill = false;
    for (const [i, delay] of [40, 90, 140, 200, 260, 330].entries()) {
      const value = i + 1;
      values.push(value);
      const { killed } = await runChild(viewDir, "ssh_corrected", value, delay);
      sawKill ||= killed;
      // Opening read-write recovers what the killed writer left.
      const view = await View.open(viewDir);
      assert.deepEqual(await view.store.listPrefix("_zc_meta/staging").catch(() => []), []);
      for (const path of PARTITIONS) {
        const ds = await overlayOf(view, path);
        assert.ok(ds, `${path}: overlay group present`);
        const ssh = ds.allVariables().get("ssh_corrected")?.data as NDArray;
        assert.deepEqual(ssh.shape, [rows[path], 10], `${path}: ssh_corrected shape`);
        const sha = canonicalSha256(ssh);
        const c = constant(ssh);
        assert.ok(
          sha === python.overlay[path]?.ssh_corrected?.sha256 || (c !== undefined && values.includes(c)),
          `${path}: ssh_corrected is one whole generation (got constant ${c})`,
        );
        // The variable the update did not return is kept, exactly as Python wrote it.
        const flag = ds.allVariables().get("flag")?.data as NDArray;
        assert.equal(canonicalSha256(flag), python.overlay[path]?.flag?.sha256, `${path}: flag kept`);
      }
    }
    assert.ok(sawKill, "at least one update was killed");
    // A last, uninterrupted update reaches every partition.
    const { killed } = await runChild(viewDir, "ssh_corrected", 99);
    assert.equal(killed, false);
    const view = await View.open(viewDir, { readOnly: true });
    for (const path of PARTITIONS) {
      const ssh = (await overlayOf(view, path))?.allVariables().get("ssh_corrected")?.data as NDArray;
      assert.equal(constant(ssh), 99, path);
    }
  });

  it("two updaters of different variables at once: both variables are kept everywhere", async () => {
    const [a, b] = await Promise.all([runChild(viewDir, "ssh_corrected", 50), runChild(viewDir, "flag", 60)]);
    assert.equal(a.killed || b.killed, false);
    const view = await View.open(viewDir, { readOnly: true });
    for (const path of PARTITIONS) {
      const ds = await overlayOf(view, path);
      assert.ok(ds);
      assert.equal(
        constant(ds.allVariables().get("ssh_corrected")?.data as NDArray),
        50,
        `${path} ssh_corrected`,
      );
      assert.equal(constant(ds.allVariables().get("flag")?.data as NDArray), 60, `${path} flag`);
    }
    const ds = await view.query({ variables: ["flag"] });
    assert.equal(
      ds?.allVariables().get("flag")?.data?.shape[0],
      Object.values(rows).reduce((x, y) => x + y, 0),
    );
  });

  it("an aborted update publishes no partial overlay", async () => {
    const view = await View.open(viewDir);
    const controller = new AbortController();
    let calls = 0;
    await assert.rejects(
      view.update(
        (ds) => {
          calls += 1;
          if (calls === 2) controller.abort(new Error("stop here"));
          const n = ds.dimensions.time as number;
          return { flag: new Int8Array(n).fill(7) };
        },
        { signal: controller.signal },
      ),
      /stop here/,
    );
    for (const path of PARTITIONS) {
      const flag = (await overlayOf(view, path))?.allVariables().get("flag")?.data as NDArray;
      const c = constant(flag);
      assert.ok(c === 60 || c === 7, `${path}: flag is one whole generation (${c})`);
    }
    assert.deepEqual(await view.store.listPrefix("_zc_meta/staging").catch(() => []), []);
  });

  it("the base collection's files are unchanged", async () => {
    assert.deepEqual(await treeDigest(join(dir, "date_nested")), baseDigest);
  });
});
