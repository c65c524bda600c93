import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Dataset, Group, Variable } from "../../src/data/index.js";
import { SchemaError } from "../../src/errors.js";
import { NDArray } from "../../src/ndarray.js";
import { Schema, VariableSchema } from "../../src/schema/index.js";
import { demoDataset, demoSchema } from "./fixtures.js";

function schemaError(message: string | RegExp, fields: Record<string, string> = {}) {
  return (e: unknown) => {
    assert.ok(e instanceof SchemaError, `expected SchemaError, got ${String(e)}`);
    if (typeof message === "string") assert.equal(e.message, message);
    else assert.match(e.message, message);
    for (const [k, v] of Object.entries(fields))
      assert.equal((e as unknown as Record<string, unknown>)[k], v, k);
    return true;
  };
}

const vs = (name: string, dims: string[], dtype: "float64" | "int32" = "float64") =>
  new VariableSchema(name, { dtype, dimensions: dims });

describe("Group (docs/behaviour.md §5.2)", () => {
  it("checks that own variables agree on dimension lengths", () => {
    const schema = demoSchema();
    const a = new Variable(vs("a", ["t"]), new Float64Array(3));
    const b = new Variable(vs("b", ["t", "x"]), NDArray.from(new Float64Array(8), { shape: [4, 2] }));
    assert.throws(
      () => new Group(schema, [a, b]),
      schemaError("inconsistent size for dimension 't': 3 vs 4 (variable 'b')", {
        variable: "b",
        dimension: "t",
      }),
    );
    const g = new Group(schema, [a]);
    assert.throws(() => g.addVariable(b), /inconsistent size for dimension 't': 3 vs 4/);
    assert.deepEqual([...g.variables.keys()], ["a"], "a refused variable is not attached");
    assert.throws(
      () => g.addVariable(a),
      schemaError("variable 'a' already exists in '/'", { variable: "a" }),
    );
  });

  it("reports dimensions of own variables, first seen wins", () => {
    const schema = demoSchema();
    const g = new Group(schema, {
      first: new Variable(vs("a", ["t", "x"]), NDArray.from(new Float64Array(6), { shape: [3, 2] })),
      second: new Variable(vs("b", ["y"]), new Float64Array(5)),
      none: new Variable(vs("c", ["z"]), null),
    });
    assert.deepEqual(g.dimensions, { t: 3, x: 2, y: 5 });
    assert.deepEqual([...g.variables.keys()], ["first", "second", "none"], "mapping keys name the entries");
    assert.equal(g.nbytes, 88);
    assert.equal(g.isLazy, true, "a variable without data counts as lazy");
  });

  it("navigates the tree: names, paths, lookups", () => {
    const ds = demoDataset();
    const ku = ds.getGroup("/data_01/ku");
    const d1 = ds.getGroup("data_01");
    assert.equal(ds.longName(), "/");
    assert.equal(ku.longName(), "/data_01/ku");
    assert.equal(ku.parent, d1);
    assert.equal(d1.parent, ds);
    assert.ok(ds.isRoot());
    assert.ok(!ku.isRoot());
    assert.equal(ku.getGroup("/data_01"), d1, "absolute paths start at the root");
    assert.equal(d1.getGroup("ku"), ku, "relative paths start here");
    assert.deepEqual([...ds.allVariables().keys()], ["time", "data_01/ku/power"]);
    assert.deepEqual([...d1.allVariables().keys()], ["ku/power"]);
    assert.equal(ds.getVariable("/data_01/ku/power").name, "power");
    assert.equal(d1.getVariable("ku/power").name, "power");
    assert.equal(ds.findVariable("power")?.name, "power");
    assert.equal(ds.findVariable("nope"), null);
    assert.equal(ds.findGroup("ku"), ku);
    assert.equal(ds.findGroup("zz"), null);
    assert.equal(ku.findDimension("time")?.chunks, 5, "dimensions are found in ancestors");
    assert.equal(ku.findDimension("x")?.size, 4);
    assert.equal(ds.findDimension("x"), null);
    assert.deepEqual(
      [...ds.walk()].map(([p]) => p),
      ["/", "/data_01", "/data_01/ku"],
    );
    assert.deepEqual(
      [...ds.iterGroups()].map((g) => g.name),
      ["data_01", "ku"],
    );
    assert.equal(ds.dimensionSize("x"), 4);
    assert.equal(ds.dimensionSize("time"), 5);
    assert.equal(ds.dimensionSize("nope"), undefined);
  });

  it("names what getGroup and getVariable miss", () => {
    const ds = demoDataset();
    assert.throws(
      () => ds.getGroup("/data_02"),
      schemaError("unknown group '/data_02'", { group: "/data_02" }),
    );
    assert.throws(() => ds.getVariable("data_01/"), schemaError("path 'data_01/' has no leaf variable name"));
    assert.throws(() => ds.getVariable("data_02/v"), schemaError("unknown group 'data_02/v'"));
    assert.throws(() => ds.getVariable("data_01/ku/nope"), schemaError("unknown variable 'data_01/ku/nope'"));
    assert.equal(ds.hasVariable("data_01/ku/power"), true);
    assert.equal(ds.hasVariable("power"), false);
  });

  it("addGroup refuses duplicates and re-parents; attributes are live", () => {
    const ds = demoDataset();
    const d1 = ds.getGroup("data_01");
    assert.throws(
      () => ds.addGroup(new Group(d1.schema)),
      schemaError("group 'data_01' already exists in '/'"),
    );
    const extra = new Group(d1.schema, null, null, null, { name: "extra" });
    ds.addGroup(extra);
    assert.equal(extra.parent, ds);
    assert.equal(extra.longName(), "/extra");
    ds.attrs.more = true;
    assert.equal(ds.attrs.more, true, "attrs is the live object");
    ds.updateAttributes({ history: "made", n: 2 });
    assert.deepEqual(ds.attrs, { title: "demo", more: true, history: "made", n: 2 });
    assert.deepEqual(demoSchema().attrs, { title: "demo" });
  });
});

describe("Dataset (docs/behaviour.md §5.3)", () => {
  it("routes mapping keys: root keys stay at the root, nested keys build the whole schema tree", () => {
    const schema = Schema()
      .withDimension("t")
      .withVariable("a", { dtype: "float64", dimensions: ["t"] })
      .withVariable("b", { dtype: "float64", dimensions: ["t"], group: "/g1/sub" })
      .withGroup("/g2", { attrs: { kind: "empty" } })
      .build();
    const b = new Variable(schema.getVariable("g1/sub/b"), new Float64Array(2));
    const alias = new Variable(schema.getVariable("a"), new Float64Array(2));
    const ds = new Dataset(schema, { renamed: alias, "//g1/sub/b": b });
    assert.deepEqual([...ds.variables.keys()], ["renamed"]);
    assert.deepEqual(
      [...ds.walk()].map(([p]) => p),
      ["/", "/g1", "/g1/sub", "/g2"],
    );
    assert.equal(ds.getVariable("g1/sub/b"), b);
    assert.deepEqual(ds.getGroup("g2").attrs, { kind: "empty" });
    const flat = new Dataset(schema, [alias]);
    assert.equal(flat.groups.size, 0, "no nested key, no groups");
    assert.equal(new Dataset(schema, [alias], null, null, { fullTree: true }).groups.size, 2);
    assert.throws(
      () => new Dataset(schema, { "g1/sub/zz": b }),
      schemaError("unknown variable 'g1/sub/zz' (not in the schema)", { variable: "g1/sub/zz" }),
    );
    const explicit = new Group(schema.getGroup("g2"), null, null, { mine: 1 }, { name: "g2" });
    const withExplicit = new Dataset(schema, { "g1/sub/b": b }, [explicit]);
    assert.equal(withExplicit.getGroup("g2"), explicit, "explicit groups win");
  });

  it("fromArrays casts to the schema dtype and refuses lossy casts", () => {
    const ds = demoDataset();
    assert.ok(ds.getVariable("time").array.data instanceof BigInt64Array);
    const schema = demoSchema();
    const from = Dataset.fromArrays(schema, { time: [1, 2, 3] });
    assert.equal(from.getVariable("time").array.dtype, "int64");
    assert.deepEqual([...from.getVariable("time").array.data], [1n, 2n, 3n]);
    assert.throws(
      () => Dataset.fromArrays(schema, { time: [1.5] }),
      schemaError(/variable 'time': cannot cast float64 to int64 without loss \(not an integer: 1.5\)/, {
        variable: "time",
      }),
    );
    assert.deepEqual(from.attrs, { title: "demo" });
  });

  it("fromArrays names unknown keys, rank and length mismatches", () => {
    const schema = demoSchema();
    const power = (rows: number, cols: number) =>
      NDArray.from(new Float32Array(rows * cols), { shape: [rows, cols] });
    assert.throws(
      () => Dataset.fromArrays(schema, { nope: [1] }),
      schemaError("unknown variable 'nope' (not in the schema)"),
    );
    assert.throws(
      () => Dataset.fromArrays(schema, { power: power(5, 4) }),
      schemaError(/unknown variable 'power'/),
    );
    assert.throws(
      () => Dataset.fromArrays(schema, { "data_01/ku/power": new Float32Array(5) }),
      schemaError("variable 'data_01/ku/power': data has 1 dims, schema declares 2"),
    );
    assert.throws(
      () => Dataset.fromArrays(schema, { "data_01/ku/power": power(5, 3) }),
      schemaError("variable 'data_01/ku/power': dimension 'x' has length 3 but the schema declares size 4", {
        variable: "data_01/ku/power",
        dimension: "x",
      }),
    );
    assert.throws(
      () => Dataset.fromArrays(schema, { time: new BigInt64Array(5), "data_01/ku/power": power(6, 4) }),
      schemaError(
        /^inconsistent size for dimension 'time': 5 vs 6 \(variable 'data_01\/ku\/power'; 'time' has 5\)/,
        {
          dimension: "time",
        },
      ),
    );
  });

  it("select keeps the named variables, the selected tree and the live attributes", () => {
    const ds = demoDataset();
    ds.getGroup("data_01").updateAttributes({ note: "live" });
    const only = ds.select(["time"]);
    assert.deepEqual([...only.allVariables().keys()], ["time"]);
    assert.equal(only.groups.size, 0);
    assert.deepEqual(only.attrs, { title: "demo" });
    const nested = ds.select(["/data_01/ku/power"]);
    assert.deepEqual([...nested.allVariables().keys()], ["data_01/ku/power"]);
    assert.equal(nested.getGroup("data_01").attrs.note, "live");
    assert.deepEqual([...nested.schema.allVariables().keys()], ["data_01/ku/power"]);
    assert.throws(() => ds.select(["power"]), schemaError("unknown variable 'power'"));
    assert.throws(() => ds.select("time" as unknown as string[]), /expects an array/);
  });

  it("load materialises every lazy variable", async () => {
    const schema = demoSchema();
    const lazyTime = {
      shape: [2],
      dtype: "int64" as const,
      load: async () => NDArray.from(new BigInt64Array([1n, 2n])),
    };
    const ds = new Dataset(schema, { time: new Variable(schema.getVariable("time"), lazyTime) }, null, null, {
      fullTree: true,
    });
    assert.equal(ds.isLazy, true);
    const loaded = await ds.load();
    assert.equal(loaded.isLazy, false);
    assert.deepEqual([...loaded.getVariable("time").array.data], [1n, 2n]);
    assert.deepEqual(
      [...loaded.walk()].map(([p]) => p),
      ["/", "/data_01", "/data_01/ku"],
    );
  });
});
