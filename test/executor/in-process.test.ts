/**
 * The executor path of map, update, View.update and Indexer.build, run by
 * the in-process executor (the same task handlers the BullMQ workers run):
 * results equal the plain path's; functions must be named.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { type Collection, openCollection } from "../../src/collection/index.js";
import type { Dataset } from "../../src/data/dataset.js";
import { Indexer, runsOf } from "../../src/indexing/index.js";
import type { NDArray } from "../../src/ndarray.js";
import { VariableSchema } from "../../src/schema/index.js";
import { View } from "../../src/view/index.js";

const run = promisify(execFile);
const JA1 = join(
  import.meta.dirname,
  "../../examples/data/JA1_GPN_2PeP001_002_20020115_060706_20020115_070316.nc",
);
const CLI = join(import.meta.dirname, "../../src/cli/main.ts");
const FNS = join(import.meta.dirname, "fns.mjs");

function lon(ds: Dataset): Float64Array {
  return (ds.getVariable("lon").data as NDArray).data as Float64Array;
}

describe("executor: in-process", () => {
  let dir: string;
  let col: Collection;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "zc-exec-local-"));
    await run(process.execPath, [
      "--import",
      "tsx",
      CLI,
      "ingest",
      join(dir, "ja1"),
      JA1,
      "--key",
      "date",
      "--resolution",
      "m",
      "--exclude-dimension",
      "meas_ind",
      "--catalog",
    ]);
    col = await openCollection(join(dir, "ja1"), { mode: "rw" });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("map with a named function equals map with the function itself", async () => {
    const { summary } = (await import(FNS)) as { summary: (ds: Dataset, p: string) => { sum: number } };
    const direct = await col.map((ds, p) => summary(ds, p));
    const viaTasks = await col.map({ module: FNS, export: "summary" }, { executor: "in-process" });
    assert.equal(viaTasks.size, 57);
    assert.deepEqual([...viaTasks.keys()], [...direct.keys()]);
    for (const [p, r] of direct) assert.deepEqual(viaTasks.get(p), r);
  });

  it("update through tasks stages, then publishes every partition once", async () => {
    const before = await col.query({ variables: ["lon"] });
    assert.ok(before);
    const written = await col.update({ module: FNS, export: "addOne" }, { executor: "in-process" });
    assert.equal(written.length, 57);
    const after = await col.query({ variables: ["lon"] });
    assert.ok(after);
    const a = lon(before);
    const b = lon(after);
    for (let i = 0; i < a.length; i++) if (!Number.isNaN(a[i])) assert.equal(b[i], (a[i] as number) + 1);
    assert.deepEqual(await readdir(join(dir, "ja1", "_zc_meta", "journal")).catch(() => []), []);
  });

  it("a task that fails leaves every partition as it was and nothing staged", async () => {
    const before = await col.query({ variables: ["lon"] });
    await assert.rejects(
      col.update({ module: FNS, export: "failOnMinute10" }, { executor: "in-process" }),
      (e: unknown) => e instanceof RangeError && /bad partition on purpose.*minute=10/.test(e.message),
    );
    const after = await col.query({ variables: ["lon"] });
    assert.deepEqual(lon(after as Dataset), lon(before as Dataset));
    assert.deepEqual(await readdir(join(dir, "ja1", "_zc_meta", "staging")).catch(() => []), []);
  });

  it("a plain function with an executor is a TypeError naming the rule", async () => {
    await assert.rejects(
      col.map((ds) => ds, { executor: "in-process" }),
      (e: unknown) => e instanceof TypeError && /named as \{ module, export \}/.test(e.message),
    );
  });

  it("Indexer.build and View.update through tasks equal the plain path", async () => {
    const local = await Indexer.build(col, { builder: runsOf(["surface_type"]) });
    const tasks = await Indexer.build(col, {
      builder: {
        module: join(import.meta.dirname, "../../src/indexing/index.ts"),
        export: "runsOf",
        args: [["surface_type"]],
      },
      executor: "in-process",
    });
    assert.deepEqual(
      tasks.table.toArray().map((r) => r.toJSON()),
      local.table.toArray().map((r) => r.toJSON()),
    );

    const view = await View.create(join(dir, "view"), {
      base: await openCollection(join(dir, "ja1")),
      variables: [new VariableSchema("lon_deg", { dtype: "int16", dimensions: ["time"], fillValue: -32768 })],
    });
    const paths = await view.update({ module: FNS, export: "lonDegrees" }, { executor: "in-process" });
    assert.equal(paths.length, 57);
    const ds = await view.query({ variables: ["lon", "lon_deg"] });
    assert.ok(ds);
    const deg = (ds.getVariable("lon_deg").data as NDArray).data as Int16Array;
    for (const [i, v] of lon(ds).entries()) assert.equal(deg[i], Number.isNaN(v) ? -32768 : Math.round(v));
  });
});
