/**
 * Real processes killed at random instants, and real processes racing: a
 * short run of the data-safety campaign (scripts/torture/campaign.mjs, which
 * `npm run torture` runs with 100 trials per scenario). Every scenario must
 * end with 0 rows lost, 0 torn partitions, the catalog agreeing with the
 * store, and re-runs giving exactly the expected content.
 *
 * The campaign drives the built package (dist/), which `npm test` builds first.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";

const CAMPAIGN = join(import.meta.dirname, "../../scripts/torture/campaign.mjs");

interface Tally {
  scenario: string;
  trials: number;
  killed: number;
  lostRows: number;
  tornPartitions: number;
  catalogWrong: number;
  rerunWrong: number;
  notes: string[];
}

function campaign(scenarios: string[], trials: number): Promise<Tally[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        CAMPAIGN,
        "--json",
        "--trials",
        String(trials),
        "--scenarios",
        scenarios.join(","),
        "--seed",
        String(Date.now() % 1000),
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += String(d);
    });
    child.stderr.on("data", (d) => {
      err += String(d);
    });
    child.on("error", reject);
    child.on("exit", () => {
      try {
        resolve(JSON.parse(out) as Tally[]);
      } catch {
        reject(new Error(`campaign output is not JSON:\n${out}\n${err}`));
      }
    });
  });
}

function check(results: Tally[], expected: string[]): void {
  assert.deepEqual(
    results.map((r) => r.scenario),
    expected,
  );
  for (const r of results) {
    const where = `${r.scenario}: ${r.notes.slice(0, 3).join(" | ")}`;
    assert.ok(r.trials > 0, where);
    assert.equal(r.lostRows, 0, `${where}: rows lost`);
    assert.equal(r.tornPartitions, 0, `${where}: torn partitions`);
    assert.equal(r.catalogWrong, 0, `${where}: catalog wrong`);
    assert.equal(r.rerunWrong, 0, `${where}: re-run wrong`);
  }
}

describe("the data-safety campaign (short)", { timeout: 900_000 }, () => {
  it("SIGKILL of inserts creating, replacing and merging partitions, catalog off and on", async () => {
    const names = ["create", "create+catalog", "replace", "replace+catalog", "merge", "merge+catalog"];
    const results = await campaign(names, 10);
    check(results, names);
    // Most trials really interrupted the write.
    for (const r of results)
      assert.ok(r.killed >= r.trials / 2, `${r.scenario}: only ${r.killed} of ${r.trials} killed`);
  });

  it("SIGINT and SIGKILL of the ingest command", async () => {
    const names = ["cli-sigint", "cli-sigint+catalog", "cli-kill"];
    check(await campaign(names, 5), names);
  });

  it("8 processes writing disjoint partitions, 4 merging into one, on file://, s3:// and icechunk://", async () => {
    const names = [
      "disjoint-file",
      "disjoint-s3",
      "disjoint-icechunk",
      "merge4-file",
      "merge4-s3",
      "merge4-icechunk",
    ];
    check(await campaign(names, 10), names);
  });
});
