/**
 * `zcollection index build`, run as child processes on an hourly
 * collection of the two Sentinel-6A passes: the summary line, the file it
 * writes (read back with `Indexer.read` and with DuckDB), filters, and the
 * exit codes of usage and collection errors.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { DuckDBInstance } from "@duckdb/node-api";
import { indexBuild } from "../../src/cli/index-build.js";
import { UsageError } from "../../src/cli/io.js";
import { Indexer } from "../../src/indexing/index.js";
import { captureIO, runAll, tempDir } from "../cli/helpers.js";
import { HOUR0, HOUR1, ingest, readProduct, S6A } from "./s6a.js";

let root: { dir: string; cleanup: () => Promise<void> };
let url: string;

before(async () => {
  root = await tempDir("zc-cli-index-");
  url = pathToFileURL(join(root.dir, "s6a")).href;
  const products = [];
  for (const f of S6A) products.push(await readProduct(f));
  await ingest(url, products);
});
after(async () => {
  await root.cleanup();
});

const SUMMARY =
  /^indexed (\d+) partition\(s\) by cycle_number, pass_number: (\d+) row\(s\) written to (.+) in \d+\.\d\d s\n$/;

describe("zcollection index build", () => {
  it("writes one row per run, prints a summary; exit codes 1 and 2 for bad calls", async () => {
    const out = join(root.dir, "passes.parquet");
    const hour1 = pathToFileURL(join(root.dir, "idx", "hour1.parquet")).href;
    const [ok, filtered, unknown, missing, noOutput, badFilter, noCollection] = await runAll(
      [
        { args: ["index", "build", url, "--by", "cycle_number,pass_number", "-o", out] },
        {
          args: [
            "index",
            "build",
            url,
            "--by",
            "cycle_number",
            "--by",
            "pass_number",
            "--filter",
            "hour == 1",
          ].concat(["--output", hour1]),
        },
        { args: ["index", "build", url, "--by", "cycle_number,orbit", "-o", out] },
        { args: ["index", "build", url, "-o", out] },
        { args: ["index", "build", url, "--by", "pass_number"] },
        { args: ["index", "build", url, "--by", "pass_number", "--filter", "hour ==", "-o", out] },
        { args: ["index", "build", join(root.dir, "absent"), "--by", "pass_number", "-o", out] },
      ],
      2,
    );

    assert.equal(ok?.code, 0, ok?.stderr);
    assert.equal(ok?.stderr, "");
    assert.deepEqual(SUMMARY.exec(ok?.stdout ?? "")?.slice(1), ["2", "3", out]);
    const index = await Indexer.read(out);
    assert.deepEqual(
      index.table.toArray().map((r) => r.toJSON()),
      [
        { cycle_number: 14, pass_number: 191, _start: 0n, _stop: 600n, _partition: HOUR0 },
        { cycle_number: 14, pass_number: 192, _start: 600n, _stop: 1143n, _partition: HOUR0 },
        { cycle_number: 14, pass_number: 192, _start: 0n, _stop: 57n, _partition: HOUR1 },
      ],
    );

    assert.equal(filtered?.code, 0, filtered?.stderr);
    assert.deepEqual(SUMMARY.exec(filtered?.stdout ?? "")?.slice(1), ["1", "1", hour1]);
    assert.deepEqual((await Indexer.read(hour1)).lookup({ pass_number: 192 }), new Map([[HOUR1, [[0, 57]]]]));

    assert.equal(unknown?.code, 1);
    assert.match(
      unknown?.stderr ?? "",
      /^error: unknown variable\(s\) 'orbit' in --by; the collection has .*pass_number/,
    );
    assert.equal(missing?.code, 1);
    assert.match(missing?.stderr ?? "", /required option '--by <names>' not specified/);
    assert.equal(noOutput?.code, 1);
    assert.match(noOutput?.stderr ?? "", /required option '-o, --output <file>' not specified/);
    assert.equal(badFilter?.code, 1);
    assert.match(badFilter?.stderr ?? "", /^error: .*hour ==/);
    assert.equal(noCollection?.code, 2);
    assert.match(noCollection?.stderr ?? "", /^error: .*absent/);
    for (const r of [unknown, missing, noOutput, badFilter, noCollection]) {
      assert.equal(r?.stdout, "");
      assert.equal(r?.stderr.trim().split("\n").length, 1, r?.stderr);
    }
  });

  it("the file is a Parquet table DuckDB reads with USMALLINT keys", async () => {
    const out = join(root.dir, "duck.parquet");
    const io = await captureIO();
    assert.equal(await indexBuild(url, { by: ["cycle_number", "pass_number"], output: out }, io), 0);
    assert.match(io.stdout.text, SUMMARY);
    const instance = await DuckDBInstance.create(":memory:");
    const duck = await instance.connect();
    try {
      const reader = await duck.runAndReadAll(
        `SELECT typeof(pass_number) AS t, pass_number, sum(_stop - _start) AS n FROM read_parquet('${out}') GROUP BY ALL ORDER BY pass_number`,
      );
      assert.deepEqual(reader.getRowObjects(), [
        { t: "USMALLINT", pass_number: 191, n: 600n },
        { t: "USMALLINT", pass_number: 192, n: 600n },
      ]);
    } finally {
      duck.closeSync();
      instance.closeSync();
    }
  });

  it("names unknown --by variables in process (a leading slash is accepted)", async () => {
    const io = await captureIO();
    await assert.rejects(
      indexBuild(url, { by: ["/pass_number", "nope"], output: join(root.dir, "x.parquet") }, io),
      (err: unknown) => err instanceof UsageError && /unknown variable\(s\) 'nope'/.test(err.message),
    );
  });
});
