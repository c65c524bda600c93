import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as arrow from "apache-arrow";
import { Dataset } from "../../src/data/index.js";
import { datetime64, NAT } from "../../src/dtype.js";
import { SchemaError } from "../../src/errors.js";
import { NDArray } from "../../src/ndarray.js";
import { Schema } from "../../src/schema/index.js";
import { demoDataset } from "./fixtures.js";

function richDataset(): Dataset {
  const schema = Schema()
    .withDimension("n")
    .withDimension("a", { size: 2 })
    .withDimension("b", { size: 3 })
    .withVariable("time", { dtype: "datetime64[ns]", dimensions: ["n"], attrs: { axis: "T" } })
    .withVariable("day", { dtype: "datetime64[D]", dimensions: ["n"] })
    .withVariable("dt", { dtype: "timedelta64[ms]", dimensions: ["n"] })
    .withVariable("flag", { dtype: "bool", dimensions: ["n"] })
    .withVariable("label", { dtype: "string", dimensions: ["n"] })
    .withVariable("big", { dtype: "uint64", dimensions: ["n"], fillValue: 2n ** 64n - 1n })
    .withVariable("cube", { dtype: "int16", dimensions: ["n", "a", "b"], fillValue: -1 })
    .withVariable("f", { dtype: "float32", dimensions: ["n", "b"], fillValue: Number.NaN })
    .withAttribute("title", "arrow")
    .build();
  return Dataset.fromArrays(schema, {
    time: new BigInt64Array([datetime64("2024-01-01T00:00:00.000000001"), NAT]),
    day: new BigInt64Array([19723n, -1n]),
    dt: new BigInt64Array([1500n, -2n]),
    flag: [true, false],
    label: ["été", ""],
    big: new BigUint64Array([2n ** 64n - 1n, 0n]),
    cube: NDArray.from(
      Int16Array.from({ length: 12 }, (_, i) => i - 3),
      { shape: [2, 2, 3] },
    ),
    f: NDArray.from(new Float32Array([0.5, Number.NaN, 2, 3, 4, 5]), { shape: [2, 3] }),
  });
}

describe("Dataset.toArrow / fromArrow", () => {
  it("maps dtypes to Arrow types, N-D variables to nested FixedSizeList columns", () => {
    const table = richDataset().toArrow();
    assert.equal(table.numRows, 2);
    const types = Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]));
    assert.deepEqual(types, {
      time: "Timestamp<NANOSECOND>",
      day: "Timestamp<SECOND>",
      dt: "Duration<MILLISECOND>",
      flag: "Bool",
      label: "Utf8",
      big: "Uint64",
      cube: "FixedSizeList[2]<FixedSizeList[3]<Int16>>",
      f: "FixedSizeList[3]<Float32>",
    });
    assert.equal(table.getChild("time")?.data[0]?.getValid(1), false, "NaT is null");
    assert.equal(table.getChild("day")?.data[0]?.values[0], 19723n * 86400n, "days become seconds");
    assert.equal(table.getChild("big")?.get(0), 2n ** 64n - 1n);
    assert.equal(table.getChild("label")?.get(0), "été");
    assert.deepEqual([...(table.getChild("cube")?.get(1)?.get(0)?.toArray() ?? [])], [3, 4, 5]);
    assert.equal(table.schema.metadata.get("zcollection:attrs"), '{"title":"arrow"}');
  });

  it("round-trips dtypes, dimensions, values, fill values and attributes", () => {
    const ds = richDataset();
    const back = Dataset.fromArrow(ds.toArrow());
    for (const [name, v] of ds.variables) {
      const w = back.getVariable(name);
      assert.equal(w.dtype, v.dtype, name);
      assert.deepEqual(w.dimensions, v.dimensions, name);
      assert.deepEqual(w.shape, v.shape, name);
      assert.deepEqual(w.array.toArray(), v.array.toArray(), name);
      assert.deepEqual(w.schema.attrs, v.schema.attrs, name);
      assert.ok(Object.is(w.fillValue, v.fillValue) || w.fillValue === v.fillValue, name);
    }
    assert.deepEqual(back.attrs, { title: "arrow" });
    assert.deepEqual(back.schema.dimSizes, { n: 2, a: 2, b: 3 });
  });

  it("exports one group and a chosen set of columns, naming what cannot be a column", () => {
    const ds = demoDataset();
    const ku = ds.toArrow({ group: "/data_01/ku" });
    assert.deepEqual(
      ku.schema.fields.map((f) => f.name),
      ["power"],
    );
    assert.equal(ku.numRows, 5);
    assert.throws(() => ds.toArrow({ group: "/nope" }), /unknown group '\/nope'/);
    assert.throws(() => ds.toArrow({ variables: ["zz"] }), /unknown variable 'zz' in group '\/'/);
    const mixed = Dataset.fromArrays(
      Schema()
        .withDimension("t")
        .withDimension("x", { size: 3 })
        .withVariable("t", { dtype: "int32", dimensions: ["t"] })
        .withVariable("x", { dtype: "int32", dimensions: ["x"] })
        .withVariable("c", { dtype: "int32", dimensions: [] })
        .build(),
      { t: [1, 2], x: [1, 2, 3], c: NDArray.from(new Int32Array([1]), { shape: [] }) },
    );
    assert.throws(
      () => mixed.toArrow(),
      (e: unknown) =>
        e instanceof SchemaError && e.variable === "x" && /has 3 rows but 't' has 2/.test(e.message),
    );
    assert.throws(() => mixed.toArrow({ variables: ["c"] }), /variable 'c' is 0-d/);
    assert.equal(mixed.toArrow({ variables: ["x"] }).numRows, 3);
  });

  it("reads foreign tables: row dimension, <column>_dimK for lists, nulls as NaN/NaT", () => {
    const list = arrow.makeData({
      type: new arrow.FixedSizeList(2, new arrow.Field("item", new arrow.Float64(), false)),
      length: 3,
      nullCount: 0,
      child: arrow.makeData({
        type: new arrow.Float64(),
        length: 6,
        data: new Float64Array([1, 2, 3, 4, 5, 6]),
      }),
    });
    const table = new arrow.Table({
      id: arrow.vectorFromArray([1, 2, 3], new arrow.Int32()),
      score: arrow.vectorFromArray([0.5, null, 1.5], new arrow.Float64()),
      name: arrow.vectorFromArray(["a", "b", "c"], new arrow.Utf8()),
      xy: arrow.makeVector(list),
      when: arrow.makeVector(
        arrow.makeData({
          type: new arrow.TimestampMillisecond(),
          length: 3,
          data: new BigInt64Array([0n, 1000n, 7n]),
          nullCount: 1,
          nullBitmap: new Uint8Array([0b011]),
        }),
      ),
    });
    const ds = Dataset.fromArrow(table);
    assert.deepEqual(
      [...ds.variables].map(([k, v]) => [k, v.dtype, v.dimensions.join(",")]),
      [
        ["id", "int32", "row"],
        ["score", "float64", "row"],
        ["name", "string", "row"],
        ["xy", "float64", "row,xy_dim1"],
        ["when", "datetime64[ms]", "row"],
      ],
    );
    assert.deepEqual(ds.schema.dimSizes, { row: 3, xy_dim1: 2 });
    assert.deepEqual(ds.getVariable("score").array.toArray(), [0.5, Number.NaN, 1.5]);
    assert.deepEqual(ds.getVariable("xy").array.toArray(), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(ds.getVariable("when").array.toArray(), [0n, 1000n, NAT]);
    // And back to Arrow with the same values.
    const again = ds.toArrow();
    assert.deepEqual([...(again.getChild("id")?.toArray() ?? [])], [1, 2, 3]);
    assert.equal(again.getChild("when")?.data[0]?.getValid(2), false);
  });

  it("reads sliced and multi-batch tables", () => {
    const ds = richDataset();
    const t = ds.toArrow();
    const twice = t.concat(t).slice(1, 3);
    const back = Dataset.fromArrow(twice);
    assert.deepEqual(back.getVariable("label").array.toArray(), ["", "été"]);
    assert.deepEqual(back.getVariable("cube").array.toArray(), [3, 4, 5, 6, 7, 8, -3, -2, -1, 0, 1, 2]);
    assert.deepEqual(back.getVariable("flag").array.toArray(), [false, true]);
    assert.deepEqual(back.getVariable("time").array.toArray(), [NAT, 1704067200000000001n]);
  });

  it("refuses unsupported types and nulls a dtype cannot hold", () => {
    const nested = new arrow.Table({ l: arrow.vectorFromArray([[1], [2, 3]]) });
    assert.throws(() => Dataset.fromArrow(nested), /Arrow column 'l' has the unsupported type List/);
    const ints = new arrow.Table({ i: arrow.vectorFromArray([1, null], new arrow.Int32()) });
    assert.throws(
      () => Dataset.fromArrow(ints),
      /Arrow column 'i' has 1 null values that dtype int32 cannot represent/,
    );
  });
});
