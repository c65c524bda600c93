/**
 * `zcollection query --index FILE --where col=v`: the rows an index selects,
 * read through `query({ rows })`, from a collection and from a view over it.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { UsageError } from "../../src/cli/io.js";
import { query } from "../../src/cli/query.js";
import type { Collection } from "../../src/collection/index.js";
import { Indexer, runsOf } from "../../src/indexing/index.js";
import type { NDArray } from "../../src/ndarray.js";
import { VariableSchema } from "../../src/schema/index.js";
import { View } from "../../src/view/index.js";
import { captureIO, runCli, tempDir } from "../cli/helpers.js";
import { ingest, readProduct, S6A } from "./s6a.js";

let root: { dir: string; cleanup: () => Promise<void> };
let url: string;
let col: Collection;
let indexFile: string;

before(async () => {
  root = await tempDir("zc-query-index-");
  url = pathToFileURL(join(root.dir, "s6a")).href;
  const products = [];
  for (const f of S6A) products.push(await readProduct(f));
  col = await ingest(url, products);
  indexFile = join(root.dir, "passes.parquet");
  await (await Indexer.build(col, { builder: runsOf(["cycle_number", "pass_number"]) })).write(indexFile);
});
after(async () => {
  await root.cleanup();
});

/** `time,pass_number` CSV lines of the full query's rows whose pass is in `passes`. */
async function expectedLines(passes: number[]): Promise<string[]> {
  const io = await captureIO();
  assert.equal(await query(url, { variables: ["time", "pass_number"], format: "csv" }, io), 0);
  return io.stdout.text
    .trim()
    .split("\n")
    .slice(1)
    .filter((l) => passes.includes(Number(l.split(",")[1])));
}

describe("zcollection query --index --where", () => {
  it("prints exactly the rows of one pass, as cut from a full query", async () => {
    const io = await captureIO();
    const code = await query(
      url,
      { variables: ["time", "pass_number"], format: "csv", index: indexFile, where: ["pass_number=191"] },
      io,
    );
    assert.equal(code, 0, io.stderr.text);
    const lines = io.stdout.text.trim().split("\n");
    assert.equal(lines[0], "time,pass_number");
    const want = await expectedLines([191]);
    assert.ok(want.length > 100);
    assert.deepEqual(lines.slice(1), want);
  });

  it("takes membership lists and several conditions (AND), through the real command line", async () => {
    const r = await runCli([
      "query",
      url,
      "--variables",
      "time,pass_number",
      "--format",
      "csv",
      "--index",
      indexFile,
      "--where",
      "pass_number=191,192",
      "--where",
      "cycle_number=14",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n").slice(1), await expectedLines([191, 192]));
    const none = await runCli(["query", url, "--index", indexFile, "--where", "cycle_number=15"]);
    assert.equal(none.code, 0);
    assert.equal(none.stdout, "(no rows)\n");
  });

  it("refuses --where without --index, a malformed condition, an unknown column", async () => {
    for (const [opts, message] of [
      [{ where: ["pass_number=191"] }, /--index and --where go together/],
      [{ index: indexFile, where: ["pass_number"] }, /--where 'pass_number': expected column=value/],
      [{ index: indexFile, where: ["orbit=3"] }, /'orbit', not a key column.*cycle_number, pass_number/],
    ] as const) {
      const io = await captureIO();
      await assert.rejects(
        query(url, opts, io),
        (e: unknown) => e instanceof UsageError && message.test(e.message),
      );
    }
  });

  it("works on a view: base and overlay rows of the pass", async () => {
    const viewDir = join(root.dir, "view");
    const view = await View.create(viewDir, {
      base: col,
      variables: [new VariableSchema("row_number", { dtype: "int32", dimensions: ["time"] })],
    });
    await view.update((ds) => {
      const n = (ds.getVariable("time").data as NDArray).shape[0] as number;
      return { row_number: Int32Array.from({ length: n }, (_, i) => i) };
    });
    const index = await Indexer.read(indexFile);
    const rows = index.lookup({ pass_number: 192 });
    const ds = await view.query({ rows, variables: ["pass_number", "row_number"] });
    assert.ok(ds);
    const pass = (ds.getVariable("pass_number").data as NDArray).data as Uint16Array;
    const rowNumbers = (ds.getVariable("row_number").data as NDArray).data as Int32Array;
    assert.ok(pass.length > 100 && pass.every((p) => p === 192));
    // The overlay rows are the partition rows the index names: its ranges, in order.
    const expected: number[] = [];
    for (const ranges of rows.values())
      for (const [a, b] of ranges) for (let i = a; i < b; i++) expected.push(i);
    assert.deepEqual([...rowNumbers], expected);
    const io = await captureIO();
    const code = await query(
      viewDir,
      {
        variables: ["pass_number", "row_number"],
        format: "csv",
        index: indexFile,
        where: ["pass_number=192"],
      },
      io,
    );
    assert.equal(code, 0, io.stderr.text);
    assert.deepEqual(
      io.stdout.text
        .trim()
        .split("\n")
        .slice(1)
        .map((l) => Number(l.split(",")[1])),
      expected,
    );
  });
});
