/**
 * The read and drop commands run as child processes against a small
 * collection built with the library: exact output of ls / inspect / query
 * in every format, the drop confirmation, and the exit codes.
 */

import assert from "node:assert/strict";
import { cp } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openCollection } from "../../src/collection/index.js";
import { type CliResult, makeSampleCollection, runAll, runCli, tempDir } from "./helpers.js";

let root: { dir: string; cleanup: () => Promise<void> };
let col: string;

before(async () => {
  root = await tempDir("zc-cli-");
  col = join(root.dir, "sample");
  await makeSampleCollection(col);
});

after(async () => {
  await root.cleanup();
});

const ok = (r: CliResult, what: string) => {
  assert.equal(r.stderr, "", `${what}: stderr`);
  assert.equal(r.code, 0, `${what}: exit code`);
};

describe("read commands", () => {
  it("ls, inspect and query print exactly the collection's content", async () => {
    const [ls, lsJson, inspect, inspectJson, csv, json, table, tableAll] = await runAll([
      { args: ["ls", col] },
      { args: ["ls", col, "--json", "--filter", "num > 0"] },
      { args: ["inspect", col] },
      { args: ["inspect", col, "--json"] },
      { args: ["query", col, "--format", "csv"] },
      {
        args: [
          "query",
          `file://${col}`,
          "--format",
          "json",
          "--filter",
          "num >= 1",
          "--variables",
          "t,v",
          "--variables",
          "big",
        ],
      },
      { args: ["query", col, "--limit", "2", "--variables", "num,v,s"] },
      { args: ["query", col, "--variables", "t,g/w"] },
    ]);
    ok(ls as CliResult, "ls");
    // natural key order: num=2 before num=10
    assert.equal(ls?.stdout, "num=0\nnum=1\nnum=2\nnum=10\n");
    ok(lsJson as CliResult, "ls --json");
    assert.equal(lsJson?.stdout, '["num=1","num=2","num=10"]\n');

    ok(inspect as CliResult, "inspect");
    assert.equal(
      inspect?.stdout,
      [
        `uri:          file://${col}`,
        "axis:         num",
        'partitioning: {"name":"sequence","variables":["num"],"dimension":"num"}',
        "partitions:   4",
        "dimensions:",
        "  num: size=unlimited chunks=4",
        "  x: size=2 chunks=full",
        "variables:",
        "  num: int64 (num)",
        "  t: datetime64[s] (num)",
        "  v: float32 (num,x)",
        "  s: string (num)",
        "  big: int64 (num)",
        "  c: float64 (x) (immutable)",
        "attrs:",
        "  title: demo",
        "",
      ].join("\n"),
    );
    ok(inspectJson as CliResult, "inspect --json");
    const info = JSON.parse(inspectJson?.stdout ?? "");
    assert.deepEqual(Object.keys(info), [
      "uri",
      "axis",
      "partitioning",
      "n_partitions",
      "dimensions",
      "variables",
      "attrs",
    ]);
    assert.deepEqual(info, {
      uri: `file://${col}`,
      axis: "num",
      partitioning: { name: "sequence", variables: ["num"], dimension: "num" },
      n_partitions: 4,
      dimensions: { num: { size: null, chunks: 4 }, x: { size: 2, chunks: null } },
      variables: {
        num: { dtype: "int64", dimensions: ["num"], immutable: false },
        t: { dtype: "datetime64[s]", dimensions: ["num"], immutable: false },
        v: { dtype: "float32", dimensions: ["num", "x"], immutable: false },
        s: { dtype: "string", dimensions: ["num"], immutable: false },
        big: { dtype: "int64", dimensions: ["num"], immutable: false },
        c: { dtype: "float64", dimensions: ["x"], immutable: true },
      },
      attrs: { title: "demo" },
    });
    // indented by 2 spaces
    assert.ok(
      inspectJson?.stdout.startsWith(
        `{\n  "uri": "file://${col}",\n  "axis": "num",\n  "partitioning": {\n    "name": "sequence",`,
      ),
    );

    ok(csv as CliResult, "query csv");
    assert.equal(
      csv?.stdout,
      [
        "num,t,v,s,big,g/w",
        '0,1970-01-01T00:00:00,"[0.1, 1]","a,b",1152921504606846976,7',
        '0,1970-01-01T00:00:01,"[2, nan]","say ""hi""",-5,-1',
        '1,1970-01-02T00:00:00,"[3, 4]",plain,9007199254740991,0',
        '2,1970-01-03T00:00:00,"[5, 6]",,0,32767',
        '10,NaT,"[7, 8]",x,-9007199254740993,3',
        "",
      ].join("\n"),
    );
    ok(json as CliResult, "query json");
    assert.equal(
      json?.stdout,
      [
        "[",
        '{"t":"1970-01-02T00:00:00","v":[3,4],"big":9007199254740991},',
        '{"t":"1970-01-03T00:00:00","v":[5,6],"big":0},',
        '{"t":null,"v":[7,8],"big":"-9007199254740993"}',
        "]",
        "",
      ].join("\n"),
    );
    ok(table as CliResult, "query table");
    assert.equal(
      table?.stdout,
      [
        "num  v         s",
        "---  --------  --------",
        "  0  [0.1, 1]  a,b",
        '  0  [2, nan]  say "hi"',
        "(first 2 rows shown; use --limit to see more)",
        "",
      ].join("\n"),
    );
    ok(tableAll as CliResult, "query table (all rows)");
    assert.equal(
      tableAll?.stdout,
      [
        "t                      g/w",
        "-------------------  -----",
        "1970-01-01T00:00:00      7",
        "1970-01-01T00:00:01     -1",
        "1970-01-02T00:00:00      0",
        "1970-01-03T00:00:00  32767",
        "NaT                      3",
        "",
      ].join("\n"),
    );
  });

  it("prints empty results per format", async () => {
    const [csv, json, table] = await runAll([
      { args: ["query", col, "--format", "csv", "--filter", "num == 5", "--variables", "num,s"] },
      { args: ["query", col, "--format", "json", "--filter", "num == 5"] },
      { args: ["query", col, "--filter", "num == 5"] },
    ]);
    assert.equal(csv?.stdout, "num,s\n");
    assert.equal(json?.stdout, "[]\n");
    assert.equal(table?.stdout, "(no rows)\n");
    for (const r of [csv, json, table]) ok(r as CliResult, "empty query");
  });
});

describe("exit codes", () => {
  it("2 for collection errors, 1 for usage errors, each with one line on stderr", async () => {
    const missing = join(root.dir, "missing");
    const cases: Array<[string[], number, RegExp]> = [
      [["ls", missing], 2, /^error: no _zcollection\.json at file:\/\/.*missing$/],
      [["inspect", missing, "--json"], 2, /^error: no _zcollection\.json at /],
      [["query", missing], 2, /^error: no _zcollection\.json at /],
      [["ls", "ftp://host/x"], 2, /^error: unrecognised store URL: 'ftp:\/\/host\/x'/],
      [["ls", col, "--filter", "num >"], 1, /^error: .*\(filter: num >\)$/],
      [["query", col, "--filter", "cycle == 1"], 1, /^error: unknown partition key 'cycle'/],
      [["drop", col, "--filter", "num ==", "-y"], 1, /^error: .*\(filter: num ==\)$/],
      [["frobnicate", col], 1, /^error: unknown command 'frobnicate'/],
      [
        ["ls", col, "--fliter", "num > 1"],
        1,
        /^error: unknown option '--fliter' \(Did you mean --filter\?\)$/,
      ],
      [["drop", col], 1, /^error: required option '--filter <expr>' not specified$/],
      [["query", col, "--format", "xml"], 1, /^error: option '--format <format>' argument 'xml' is invalid/],
      [["query", col, "--limit", "ten"], 1, /^error: option '--limit <n>' argument 'ten' is invalid/],
      [
        ["query", col, "--variables", "c"],
        1,
        /^error: variable\(s\) 'c' do not run along the partitioning dimension 'num'/,
      ],
      [["query", col, "--variables", "nope,t"], 1, /^error: unknown variable\(s\) 'nope' in --variables/],
      [["ls"], 1, /^error: missing required argument 'url'$/],
    ];
    const results = await runAll(cases.map(([args]) => ({ args })));
    cases.forEach(([args, code, line], i) => {
      const r = results[i] as CliResult;
      assert.equal(r.code, code, `${args.join(" ")}: exit code (stderr ${r.stderr})`);
      assert.equal(r.stdout, "", `${args.join(" ")}: stdout`);
      const lines = r.stderr.split("\n");
      assert.equal(lines.length, 2, `${args.join(" ")}: one line on stderr: ${JSON.stringify(r.stderr)}`);
      assert.match(lines[0] as string, line, args.join(" "));
    });
  });

  it("0 for --version and --help", async () => {
    const [version, help] = await runAll([{ args: ["--version"] }, { args: ["query", "--help"] }]);
    assert.equal(version?.code, 0);
    assert.equal(version?.stdout, "0.1.0\n");
    assert.equal(help?.code, 0);
    assert.match(help?.stdout ?? "", /^Usage: zcollection query \[options\] <url>/);
    assert.match(help?.stdout ?? "", /--format <format> +output format \(choices: "table", "csv", "json"/);
  });

  it("prints the stack of an error only with ZCOLLECTION_DEBUG=1", async () => {
    const r = await runCli(["ls", join(root.dir, "missing")], { env: { ZCOLLECTION_DEBUG: "1" } });
    assert.equal(r.code, 2);
    const lines = r.stderr.trimEnd().split("\n");
    assert.match(lines[0] as string, /^error: no _zcollection\.json/);
    assert.match(lines[1] as string, /^CollectionNotFoundError: /);
    assert.ok(lines.length > 3);
  });
});

describe("drop", () => {
  it("asks first, drops on y/yes or with -y, and leaves everything on any other answer", async () => {
    const target = join(root.dir, "drop");
    await cp(col, target, { recursive: true });
    const listing = async () => (await openCollection(target)).partitions();
    const prompt = "about to drop 2 partition(s):\n  num=0\n  num=1\nproceed? [y/N] ";

    const no = await runCli(["drop", target, "--filter", "num < 2"], { input: "n\n" });
    assert.equal(no.code, 1);
    assert.equal(no.stdout, `${prompt}aborted\n`);
    assert.equal(no.stderr, "");
    const eof = await runCli(["drop", target, "--filter", "num < 2"]);
    assert.equal(eof.code, 1);
    assert.equal(eof.stdout, `${prompt}aborted\n`);
    assert.deepEqual(await listing(), ["num=0", "num=1", "num=2", "num=10"]);

    const yes = await runCli(["drop", target, "--filter", "num < 2"], { input: "  YES \n" });
    assert.equal(yes.code, 0, yes.stderr);
    assert.equal(yes.stdout, `${prompt}dropped 2 partition(s)\n`);
    assert.deepEqual(await listing(), ["num=2", "num=10"]);

    const [forced, none] = await runAll([
      { args: ["drop", target, "--filter", "num == 10", "-y"], input: "n\n" },
      { args: ["drop", target, "--filter", "num == 3"] },
    ]);
    assert.equal(forced?.code, 0);
    assert.equal(forced?.stdout, "dropped 1 partition(s)\n");
    assert.equal(none?.code, 0);
    assert.equal(none?.stdout, "no partitions match\n");
    assert.deepEqual(await listing(), ["num=2"]);
    // the remaining partition still reads back
    const remaining = await runCli(["query", target, "--format", "csv", "--variables", "num,s"]);
    assert.equal(remaining.stdout, "num,s\n2,\n");
  });
});

describe("bench", () => {
  it("runs the benchmark and prints its results as JSON; refuses sizes it cannot run", async () => {
    const store = join(root.dir, "bench");
    const [run, tooMany] = await runAll([
      { args: ["bench", "--store", store, "--partitions", "2", "--rows", "500", "--width", "3", "--json"] },
      { args: ["bench", "--partitions", "13"] },
    ]);
    assert.equal(run?.code, 0, run?.stderr);
    const results = JSON.parse(run?.stdout ?? "") as Array<{ name: string; extra: Record<string, unknown> }>;
    assert.deepEqual(
      results.map((r) => r.name),
      [
        "insert_full_dataset",
        "open_collection_cold",
        "query_one_partition_full",
        "query_full",
        "query_full_fresh_process",
        "insert_replace_existing",
        "insert_upsert_existing",
        "machine_limit_insert",
        "machine_limit_query",
      ],
    );
    assert.equal(results[0]?.extra.partitions, 2);
    assert.equal(results[3]?.extra.rows, 1000);
    // the benchmark collection is a collection the other commands read
    const ls = await runCli(["ls", store]);
    assert.equal(ls.stdout, "year=2024/month=01\nyear=2024/month=02\n");
    assert.equal(tooMany?.code, 1);
    assert.equal(tooMany?.stderr, "error: partitions must be at most 12 (months of 2024); got 13\n");
  });
});
