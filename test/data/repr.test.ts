import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { inspect } from "node:util";
import {
  attrText,
  float64Text,
  formatBytes,
  formatDimensions,
  fractionDigits,
  Group,
  gridDecimals,
  packingDecimals,
  previewValues,
  Variable,
} from "../../src/data/index.js";
import { NAT } from "../../src/dtype.js";
import { NDArray } from "../../src/ndarray.js";
import { openNetCDF } from "../../src/netcdf/index.js";
import { Schema, VariableSchema } from "../../src/schema/index.js";
import { demoDataset } from "./fixtures.js";

const DATA = join(import.meta.dirname, "../../examples/data");

describe("repr helpers", () => {
  it("formatBytes: integer bytes, two decimals, half-even, no rollover, PB cap", () => {
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

  it("writes attribute values as plain text and JSON-like lists, without Python spellings", () => {
    assert.equal(attrText("demo"), "demo");
    assert.equal(attrText("it's"), "it's");
    assert.equal(attrText("line\nnext\\"), "line\\nnext\\\\");
    assert.equal(attrText(null), "null");
    assert.equal(attrText(true), "true");
    assert.equal(attrText([1, "a", false]), '[1, "a", false]');
    assert.equal(attrText({ a: 1, b: [2.5] }), '{"a":1,"b":[2.5]}');
    assert.equal(attrText(12345678901234567890n), "12345678901234567890");
    assert.equal(attrText(Number.NaN), "nan");
    assert.equal(attrText(Number.NEGATIVE_INFINITY), "-inf");
    assert.equal(attrText(1e-5), "0.00001");
    assert.equal(attrText(0.003352810664747), "0.003352810664747");
  });

  it("finds the decimals of packed values from the attributes or from the values", () => {
    assert.equal(packingDecimals({ scale_factor: 1e-6 }), 6);
    assert.equal(packingDecimals({ scale_factor: 0.05, add_offset: 273.15 }), 2);
    assert.equal(packingDecimals({ scale_factor: Math.fround(0.001) }), 3, "a float32 attribute");
    assert.equal(packingDecimals({ scale_factor: [1e-4] }), 4);
    assert.equal(packingDecimals({ units: "m" }), undefined);
    assert.equal(packingDecimals(undefined), undefined);
    const unpacked = Float64Array.from([183167751, -66148240, 0, 12], (raw) => raw * 1e-6);
    assert.equal(gridDecimals(unpacked), 6);
    assert.equal(gridDecimals(Float64Array.from([4, -7, Number.NaN])), 0);
    assert.equal(gridDecimals(new Float64Array([75.3927522, 76.14058246774137])), undefined);
    assert.equal(gridDecimals(new Float64Array([Number.NaN])), undefined);
    // A step finer than the resolution of the values is never taken for a packing.
    assert.equal(gridDecimals(new Float64Array([1354252.518512345])), undefined);
  });

  it("writes float64 exactly, or without last-bit noise on display", () => {
    assert.equal(float64Text(183.16775099999998), "183.16775099999998");
    assert.equal(float64Text(183.16775099999998, "display"), "183.167751");
    assert.equal(float64Text(183.16775099999998, "exact", 6), "183.167751");
    assert.equal(float64Text(-0.0000001, "exact", 6), "0");
    assert.equal(float64Text(1.5, "exact", 4), "1.5");
    assert.equal(float64Text(76.14058246774137, "display"), "76.14058246774137");
    assert.equal(float64Text(Number.NaN, "display"), "nan");
  });

  it("keeps the fraction of seconds datetimes need", () => {
    const ns = (values: bigint[]) => fractionDigits(values, "datetime64[ns]");
    assert.equal(ns([1_000_000_000n, NAT]), 0);
    assert.equal(ns([1_500_000_000n]), 3);
    assert.equal(ns([1_000_001_000n]), 6);
    assert.equal(ns([1n]), 9);
    assert.equal(fractionDigits([1500n], "datetime64[ms]"), 3);
    assert.equal(fractionDigits([1000n], "datetime64[ms]"), 0);
    assert.equal(fractionDigits([1n], "datetime64[s]"), undefined);
  });

  it("previews the first and last values, nan and NaT for missing ones, strings quoted", () => {
    const floats = NDArray.from(new Float64Array([0.5, Number.NaN, 2, 3, 4, 5, 6, Number.NaN]));
    assert.equal(previewValues(floats), "0.5 nan 2 … 5 6 nan");
    assert.equal(previewValues(floats, {}, 14), "0.5 … nan");
    assert.equal(previewValues(NDArray.from(new Float64Array([1, 2]))), "1 2");
    assert.equal(previewValues(NDArray.from(new Float64Array(0))), "(empty)");
    const times = NDArray.from(new BigInt64Array([86_400n, NAT]), { dtype: "datetime64[s]" });
    assert.equal(previewValues(times), "1970-01-02T00:00:00 NaT");
    assert.equal(
      previewValues(NDArray.from(["a b", 'say "hi"'], { dtype: "string" })),
      '"a b" "say \\"hi\\""',
    );
    const flags = NDArray.from(new Int8Array([1, 127, 0]));
    assert.equal(previewValues(flags, { fillValue: 127 }), "1 nan 0");
    assert.equal(previewValues(NDArray.from(new Float32Array([1 / 3]))), "0.3333333");
  });
});

describe("Dataset / Group / Variable repr", () => {
  it("prints the worked example: <Dataset>, aligned columns and values", () => {
    const expected = [
      "<Dataset> Size: 120 B",
      "Dimensions:  (time: 5)",
      "Data variables:",
      "    time  (time)  int64  40 B  10 20 30 40 50",
      "Attributes:",
      "    title: demo",
      "Groups:",
      "    data_01  80 B  (0 variables, 1 subgroup)",
    ].join("\n");
    const ds = demoDataset();
    assert.equal(ds.toString(), expected);
    assert.equal(String(ds), expected);
    assert.equal(inspect(ds), expected);
  });

  it("prints a nested group with its path, <empty> and pluralised summaries", () => {
    const ds = demoDataset();
    assert.equal(
      ds.getGroup("data_01").toString(),
      [
        "<Group /data_01> Size: 80 B",
        "Dimensions:  ()",
        "Data variables:",
        "    <empty>",
        "Groups:",
        "    ku  80 B  (1 variable, 0 subgroups)",
      ].join("\n"),
    );
    assert.equal(
      ds.getGroup("data_01/ku").toString(),
      [
        "<Group /data_01/ku> Size: 80 B",
        "Dimensions:  (time: 5, x: 4)",
        "Data variables:",
        "    power  (time, x)  float32  80 B  0 1 2 … 17 18 19",
      ].join("\n"),
    );
    assert.equal(
      ds.getVariable("data_01/ku/power").toString(),
      [
        "<Variable power (time: 5, x: 4) float32> Size: 80 B",
        "  0 1 2 … 17 18 19",
        "Attributes:",
        "    units: W",
      ].join("\n"),
    );
  });

  it("aligns columns to the longest entries and cuts lines at 120 characters", () => {
    const schema = Schema().withDimension("n").build();
    const long = "a_rather_long_variable_name";
    const g = new Group(
      schema,
      [
        new Variable(new VariableSchema(long, { dtype: "string", dimensions: ["n"] }), ["x", "y"]),
        new Variable(new VariableSchema("t", { dtype: "datetime64[ns]", dimensions: ["n"] }), null),
        new Variable(
          new VariableSchema("wide", { dtype: "float64", dimensions: ["n"] }),
          Float64Array.from({ length: 2 }, (_, i) => 1e6 + i / 3),
        ),
      ],
      null,
      { note: "z".repeat(200), n: 1 },
    );
    const lines = g.toString().split("\n");
    assert.equal(lines[3], `    ${long}  (n)  string          16 B  "x" "y"`);
    assert.equal(lines[4], `    ${"t".padEnd(long.length)}  (n)  datetime64[ns]   0 B  <no data>`);
    assert.equal(
      lines[5],
      `    ${"wide".padEnd(long.length)}  (n)  float64         16 B  1000000 1000000.3333333334`,
    );
    assert.equal(lines[7]?.length, 120);
    assert.ok(lines[7]?.startsWith("    note: zzz"));
    assert.ok(lines[7]?.endsWith("z…"));
    assert.equal(lines[8], "    n:    1");
  });

  it("shows lazy data as not loaded, with the size of the schema", () => {
    const schema = Schema().withDimension("n").build();
    const lazy = {
      shape: [3],
      dtype: "float64" as const,
      load: async () => NDArray.from(new Float64Array(3)),
    };
    const g = new Group(schema, [
      new Variable(new VariableSchema("v", { dtype: "float32", dimensions: ["n"] }), lazy),
    ]);
    assert.match(g.toString(), /^ {4}v {2}\(n\) {2}float32 {2}12 B {2}<not loaded>$/m);
  });

  it("shows the values of a bundled Jason-1 pass as a scientist reads them", async () => {
    const { dataset } = await openNetCDF(
      join(DATA, "JA1_GPN_2PeP001_002_20020115_060706_20020115_070316.nc"),
      {
        variables: ["time", "lat", "lon", "surface_type", "ssha"],
      },
    );
    const text = dataset.toString();
    const lines = text.split("\n");
    assert.equal(lines[0], "<Dataset> Size: 72.19 kB");
    assert.equal(lines[1], "Dimensions:  (time: 2240)");
    assert.equal(
      lines[3],
      "    time          (time)  datetime64[ns]  17.50 kB  2002-01-15T06:07:06.819279 … 2002-01-15T07:03:16.384309",
    );
    assert.match(
      text,
      /^ {4}lon {11}\(time\) {2}float64 {9}17\.50 kB {2}183\.167751 183\.29741 183\.837654 … /m,
    );
    assert.match(
      text,
      /^ {4}ssha {10}\(time\) {2}float64 {9}17\.50 kB {2}nan nan nan … 0\.016 0\.046 0\.036$/m,
    );
    assert.match(text, /^ {4}surface_type {2}\(time\) {2}int8 {13}2\.19 kB {2}3 3 3 … 0 0 0$/m);
    assert.match(text, /^ {4}mission_name: {11}Jason-1$/m);
    assert.doesNotMatch(text, /zcollection\.data|'|None|NDArray</);
    const ssha = dataset.getVariable("ssha").toString().split("\n");
    assert.deepEqual(ssha.slice(0, 2), [
      "<Variable ssha (time: 2240) float64> Size: 17.50 kB",
      "  nan nan nan … 0.016 0.046 0.036",
    ]);
    assert.ok(ssha.includes("    units:         m"), ssha.join("\n"));
  });
});
