/**
 * The CLI on views: `view create`, and `query` / `inspect` / `ls` given a
 * view's URL.
 */
import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { NDArray } from "../../src/ndarray.js";
import { View } from "../../src/view/index.js";
import { runAll, runCli } from "../cli/helpers.js";

const FIXTURES = fileURLToPath(new URL("../fixtures/pyzcollection/", import.meta.url));

describe("zcollection view create / query / inspect", () => {
  let dir: string;
  let baseDir: string;
  let viewDir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "zc-view-cli-"));
    baseDir = join(dir, "base");
    viewDir = join(dir, "view");
    await cp(join(FIXTURES, "date_nested"), baseDir, { recursive: true });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("creates a view from --variable specifications", async () => {
    const r = await runCli([
      "view",
      "create",
      viewDir,
      "--base",
      baseDir,
      "--variable",
      "ssh_corrected:float32:time,x_ac",
      "--variable",
      "flag:int8",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /created view .* ssh_corrected float32 \(time,x_ac\), flag int8 \(time\)/);
    const doc = JSON.parse(await readFile(join(viewDir, "_zcollection_view.json"), "utf8"));
    assert.equal(doc.reference.uri, `file://${baseDir}`);
    assert.deepEqual(
      doc.schema.variables.map((v: { name: string; dtype: string; fill_value: unknown }) => [
        v.name,
        v.dtype,
        v.fill_value,
      ]),
      [
        ["ssh_corrected", "<f4", "NaN"],
        ["flag", "|i1", null],
      ],
    );
  });

  it("refuses bad specifications and names with the right exit codes", async () => {
    const [badType, collide, noDim, exists] = await runAll([
      { args: ["view", "create", join(dir, "x1"), "--base", baseDir, "--variable", "a:float128"] },
      { args: ["view", "create", join(dir, "x2"), "--base", baseDir, "--variable", "ssh:float32"] },
      { args: ["view", "create", join(dir, "x3"), "--base", baseDir, "--variable", "a:float32:range"] },
      { args: ["view", "create", viewDir, "--base", baseDir, "--variable", "a:float32"] },
    ]);
    assert.equal(badType?.code, 1);
    assert.match(badType?.stderr ?? "", /--variable 'a:float128': unknown dtype 'float128'/);
    assert.equal(collide?.code, 2);
    assert.match(collide?.stderr ?? "", /'ssh' collides with a base-collection variable/);
    assert.equal(noDim?.code, 2);
    assert.match(noDim?.stderr ?? "", /unknown dimension 'range'/);
    assert.equal(exists?.code, 2);
    assert.match(exists?.stderr ?? "", /a view already exists/);
  });

  it("query and inspect read a view like a collection", async () => {
    const view = await View.open(viewDir);
    await view.update((ds) => {
      const time = ds.allVariables().get("time")?.data as NDArray;
      return { flag: Int8Array.from({ length: time.shape[0] as number }, (_, i) => i % 100) };
    });
    const [csv, inspect, json, ls] = await runAll([
      {
        args: [
          "query",
          viewDir,
          "--filter",
          "month == 2",
          "--variables",
          "time,flag,surface_type",
          "--format",
          "csv",
        ],
      },
      { args: ["inspect", viewDir] },
      { args: ["inspect", viewDir, "--json"] },
      { args: ["ls", viewDir] },
    ]);
    assert.equal(csv?.code, 0, csv?.stderr);
    const lines = (csv?.stdout ?? "").trim().split("\n");
    assert.equal(lines[0], "time,flag,surface_type");
    assert.equal(lines.length - 1, 476);
    assert.deepEqual(
      lines.slice(1, 4).map((l) => l.split(",")[1]),
      ["0", "1", "2"],
    );
    assert.equal(inspect?.code, 0, inspect?.stderr);
    assert.match(inspect?.stdout ?? "", /^view: {9}file:\/\//);
    assert.match(
      inspect?.stdout ?? "",
      /view variables:\n {2}ssh_corrected: float32 \(time,x_ac\)\n {2}flag: int8 \(time\)/,
    );
    const info = JSON.parse(json?.stdout ?? "{}");
    assert.deepEqual(Object.keys(info.view.variables), ["ssh_corrected", "flag"]);
    assert.equal(info.n_partitions, 4);
    assert.equal(
      ls?.stdout,
      "year=2023/month=01\nyear=2023/month=02\nyear=2023/month=03\nyear=2023/month=04\n",
    );
  });

  it("query on the Python view follows its relative reference", async () => {
    const r = await runCli([
      "query",
      join(FIXTURES, "view_over_date_nested"),
      "--filter",
      "month == 4",
      "--variables",
      "flag",
      "--format",
      "json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as Array<{ flag: number }>;
    const view = await View.open(join(FIXTURES, "view_over_date_nested"), { readOnly: true });
    const ds = await view.query({ filters: "month == 4", variables: ["flag"] });
    assert.ok(ds);
    const flag = ds.allVariables().get("flag")?.data as NDArray;
    assert.deepEqual(
      rows.map((x) => x.flag),
      [...(flag.data as Int8Array)],
    );
  });

  it("a URL holding neither a collection nor a view is exit 2", async () => {
    const r = await runCli(["query", join(dir, "nothing")]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no _zcollection\.json at/);
  });
});
