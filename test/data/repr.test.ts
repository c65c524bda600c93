import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { inspect } from "node:util";
import {
  formatBytes,
  formatDimensions,
  Group,
  pythonFloatRepr,
  pythonRepr,
  Variable,
} from "../../src/data/index.js";
import { NDArray } from "../../src/ndarray.js";
import { Schema, VariableSchema } from "../../src/schema/index.js";
import { demoDataset } from "./fixtures.js";

describe("repr helpers (BEHAVIOUR §5.4)", () => {
  it("formatBytes follows Python: integer bytes, two decimals, half-even, no rollover, PB cap", () => {
    assert.equal(formatBytes(0), "0 B");
    assert.equal(formatBytes(1023), "1023 B");
    assert.equal(formatBytes(1024), "1.00 kB");
    assert.equal(formatBytes(2048), "2.00 kB");
    assert.equal(formatBytes(1152), "1.12 kB", "1.125 rounds half to even");
    assert.equal(formatBytes(1184), "1.16 kB", "1.15625 rounds up");
    assert.equal(formatBytes(1048575), "1024.00 kB");
    assert.equal(formatBytes(5 * 1024 ** 2), "5.00 MB");
    assert.equal(formatBytes(1024 ** 4), "1.00 TB");
    assert.equal(formatBytes(1024 ** 5), "1.00 PB");
    assert.equal(formatBytes(2048 * 1024 ** 5), "2048.00 PB");
  });

  it("formatDimensions", () => {
    assert.equal(formatDimensions({}), "()");
    assert.equal(formatDimensions({ time: 5, x: 4 }), "(time: 5, x: 4)");
  });

  it("pythonRepr renders values like Python", () => {
    assert.equal(pythonRepr("demo"), "'demo'");
    assert.equal(pythonRepr("it's"), `"it's"`);
    assert.equal(pythonRepr(`a'b"c`), `'a\\'b"c'`);
    assert.equal(pythonRepr("line\nnext\\"), "'line\\nnext\\\\'");
    assert.equal(pythonRepr(null), "None");
    assert.equal(pythonRepr(true), "True");
    assert.equal(pythonRepr([1, "a", false]), "[1, 'a', False]");
    assert.equal(pythonRepr({ a: 1, b: [2.5] }), "{'a': 1, 'b': [2.5]}");
    assert.equal(pythonRepr(12345678901234567890n), "12345678901234567890");
    assert.equal(pythonFloatRepr(Number.NaN), "nan");
    assert.equal(pythonFloatRepr(Number.NEGATIVE_INFINITY), "-inf");
    assert.equal(pythonFloatRepr(1e-5), "1e-05");
    assert.equal(pythonFloatRepr(0.0001), "0.0001");
    assert.equal(pythonFloatRepr(1e16), "1e+16");
    assert.equal(pythonFloatRepr(1.5e300), "1.5e+300");
    assert.equal(pythonFloatRepr(123.456), "123.456");
    assert.equal(pythonFloatRepr(-0.5), "-0.5");
    assert.equal(pythonFloatRepr(1e15), "1000000000000000");
  });
});

describe("Dataset / Group repr (BEHAVIOUR §5.4)", () => {
  it("prints the worked example (data tag adapted to NDArray)", () => {
    const expected = [
      "<zcollection.data.dataset.Dataset '/'> Size: 120 B",
      "  Dimensions: (time: 5)",
      "Data variables:",
      "    time    (time)                   int64            40 B  NDArray<size=40 B>",
      "Attributes:",
      "    title   : 'demo'",
      "Groups:",
      "    data_01       80 B  (0 variables, 1 subgroup)",
    ].join("\n");
    const ds = demoDataset();
    assert.equal(ds.toString(), expected);
    assert.equal(String(ds), expected);
    assert.equal(inspect(ds), expected);
  });

  it("prints a nested group with its long name, <empty> and pluralised summaries", () => {
    const ds = demoDataset();
    assert.equal(
      ds.getGroup("data_01").toString(),
      [
        "<zcollection.data.group.Group '/data_01'> Size: 80 B",
        "  Dimensions: ()",
        "Data variables:",
        "    <empty>",
        "Groups:",
        "    ku            80 B  (1 variable, 0 subgroups)",
      ].join("\n"),
    );
    assert.equal(
      ds.getGroup("data_01/ku").toString(),
      [
        "<zcollection.data.group.Group '/data_01/ku'> Size: 80 B",
        "  Dimensions: (time: 5, x: 4)",
        "Data variables:",
        "    power   (time, x)                float32          80 B  NDArray<size=80 B>",
      ].join("\n"),
    );
  });

  it("widens columns to the longest name, prints object for strings and cuts lines at 120 characters", () => {
    const schema = Schema().withDimension("n").build();
    const long = "a_rather_long_variable_name";
    const g = new Group(
      schema,
      [
        new Variable(new VariableSchema(long, { dtype: "string", dimensions: ["n"] }), ["x", "y"]),
        new Variable(new VariableSchema("t", { dtype: "datetime64[ns]", dimensions: ["n"] }), null),
      ],
      null,
      { note: "z".repeat(200) },
    );
    const lines = g.toString().split("\n");
    assert.equal(lines[3], `    ${long} (n)                      object           16 B  NDArray<size=16 B>`);
    assert.equal(
      lines[4],
      `    ${"t".padEnd(long.length)} (n)                      datetime64[ns]        0 B  <no data>`,
    );
    assert.equal(lines[6]?.length, 120);
    assert.ok(lines[6]?.startsWith("    note    : 'zzz"));
    assert.ok(lines[6]?.endsWith("z..."));
  });

  it("reports the lazy data tag with the schema size", () => {
    const schema = Schema().withDimension("n").build();
    const lazy = {
      shape: [3],
      dtype: "float64" as const,
      load: async () => NDArray.from(new Float64Array(3)),
    };
    const g = new Group(schema, [
      new Variable(new VariableSchema("v", { dtype: "float32", dimensions: ["n"] }), lazy),
    ]);
    assert.match(g.toString(), /v {7}\(n\) {22}float32 {10}12 B {2}LazyArray<size=12 B>$/m);
  });
});
