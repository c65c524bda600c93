import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  concatAlong,
  concatRows,
  Dataset,
  sliceAlong,
  sliceRows,
  takeAlong,
  takeRows,
  Variable,
} from "../../src/data/index.js";
import { SchemaError } from "../../src/errors.js";
import { NDArray } from "../../src/ndarray.js";
import { Schema } from "../../src/schema/index.js";

/** time[n] int64, lon[x] float64 (does not span time), /g/power[time, x] float32, /g/z[x, time] int16. */
function schema() {
  return Schema()
    .withDimension("time")
    .withDimension("x", { size: 2 })
    .withVariable("time", { dtype: "int64", dimensions: ["time"] })
    .withVariable("lon", { dtype: "float64", dimensions: ["x"] })
    .withVariable("power", { dtype: "float32", dimensions: ["time", "x"], group: "/g" })
    .withVariable("z", { dtype: "int16", dimensions: ["x", "time"], group: "/g" })
    .withAttribute("title", "rows")
    .build();
}

function make(times: number[], base = 0): Dataset {
  const n = times.length;
  return Dataset.fromArrays(schema(), {
    time: times,
    lon: [100, 200],
    "g/power": NDArray.from(
      Float32Array.from({ length: 2 * n }, (_, i) => base + i),
      { shape: [n, 2] },
    ),
    "g/z": NDArray.from(
      Int16Array.from({ length: 2 * n }, (_, i) => base + i),
      { shape: [2, n] },
    ),
  });
}

const values = (ds: Dataset, path: string) => ds.getVariable(path).array.toArray();

describe("axis operations", () => {
  const a = NDArray.from(
    Int16Array.from({ length: 6 }, (_, i) => i),
    { shape: [2, 3] },
  );

  it("takeAlong, sliceAlong and concatAlong work on any axis", () => {
    assert.deepEqual(takeAlong(a, 1, [2, 0]).toArray(), [2, 0, 5, 3]);
    assert.deepEqual(takeAlong(a, 1, [2, 0]).shape, [2, 2]);
    assert.deepEqual(takeAlong(a, 0, [1]).toArray(), [3, 4, 5]);
    assert.deepEqual(sliceAlong(a, 1, 1, 3).toArray(), [1, 2, 4, 5]);
    assert.deepEqual(sliceAlong(a, 1, -1, 10).toArray(), [2, 5]);
    const b = NDArray.from(new Int16Array([9, 8]), { shape: [2, 1] });
    const c = concatAlong([a, b], 1);
    assert.deepEqual(c.shape, [2, 4]);
    assert.deepEqual(c.toArray(), [0, 1, 2, 9, 3, 4, 5, 8]);
    assert.throws(() => takeAlong(a, 1, [3]), RangeError);
    assert.throws(() => concatAlong([a, NDArray.from(new Int16Array(3), { shape: [3, 1] })], 1), SchemaError);
    const s = NDArray.from(["a", "b", "c", "d"], { shape: [2, 2] });
    assert.deepEqual(concatAlong([s, s], 1).toArray(), ["a", "b", "a", "b", "c", "d", "c", "d"]);
  });
});

describe("row operations on datasets (docs/behaviour.md §9.2)", () => {
  it("sliceRows cuts every variable spanning the dimension, in any group and at any axis", () => {
    const ds = sliceRows(make([1, 2, 3]), "time", 1, 3);
    assert.deepEqual(values(ds, "time"), [2n, 3n]);
    assert.deepEqual(values(ds, "lon"), [100, 200], "lon does not span time");
    assert.deepEqual(values(ds, "g/power"), [2, 3, 4, 5]);
    assert.deepEqual(values(ds, "g/z"), [1, 2, 4, 5]);
    assert.deepEqual(ds.attrs, { title: "rows" });
    assert.deepEqual(ds.getVariable("g/z").shape, [2, 2]);
    assert.deepEqual(values(sliceRows(make([1, 2, 3]), "time", -1, 99), "time"), [3n]);
  });

  it("takeRows gathers, reorders and repeats rows", () => {
    const ds = takeRows(make([1, 2, 3]), "time", [2, 0, 0]);
    assert.deepEqual(values(ds, "time"), [3n, 1n, 1n]);
    assert.deepEqual(values(ds, "g/power"), [4, 5, 0, 1, 0, 1]);
    assert.deepEqual(values(ds, "g/z"), [2, 0, 0, 5, 3, 3]);
    assert.throws(() => takeRows(make([1]), "time", [1]), RangeError);
  });

  it("concatRows appends rows, keeps the first dataset's non-spanning variables and attrs", () => {
    const left = make([1, 2]);
    const right = make([3], 50);
    right.updateAttributes({ title: "right" });
    const ds = concatRows([left, right], "time");
    assert.deepEqual(values(ds, "time"), [1n, 2n, 3n]);
    assert.deepEqual(values(ds, "lon"), [100, 200]);
    assert.deepEqual(values(ds, "g/power"), [0, 1, 2, 3, 50, 51]);
    assert.deepEqual(values(ds, "g/z"), [0, 1, 50, 2, 3, 51]);
    assert.deepEqual(ds.attrs, { title: "rows" });
  });

  it("concatRows shortcuts empty datasets and adds variables found only on the right", () => {
    const empty = new Dataset(schema());
    const full = make([1, 2]);
    assert.equal(concatRows([empty, full], "time"), full);
    assert.equal(concatRows([full, empty], "time"), full);
    assert.equal(concatRows([empty], "time"), empty);
    assert.throws(() => concatRows([], "time"), SchemaError);
    const onlyTime = make([1, 2]).select(["time"]);
    const ds = concatRows([onlyTime, make([3], 50)], "time");
    assert.deepEqual(values(ds, "time"), [1n, 2n, 3n]);
    assert.deepEqual(values(ds, "g/power"), [50, 51], "right-only variables are added as is");
    assert.equal(ds.getGroup("g").longName(), "/g");
  });

  it("concatRows in strict mode names a variable missing from a later dataset", () => {
    assert.throws(
      () => concatRows([make([1]), make([2]).select(["time"])], "time", { strict: true }),
      (e: unknown) =>
        e instanceof SchemaError &&
        e.message === "variable 'g/power' is missing from dataset #1 of the concatenation",
    );
  });

  it("keeps lazy variables lazy and applies the operation on load", async () => {
    const s = schema();
    let loads = 0;
    const lazy = {
      shape: [4],
      dtype: "int64" as const,
      load: async () => {
        loads++;
        return NDArray.from(new BigInt64Array([1n, 2n, 3n, 4n]));
      },
    };
    const ds = new Dataset(s, { time: new Variable(s.getVariable("time"), lazy) });
    const sliced = sliceRows(ds, "time", 1, 3);
    const taken = takeRows(ds, "time", [3, 0]);
    const joined = concatRows([sliced, taken], "time");
    assert.equal(loads, 0);
    assert.deepEqual(joined.getVariable("time").shape, [4]);
    assert.deepEqual((await joined.getVariable("time").toArray()).toArray(), [2n, 3n, 4n, 1n]);
    assert.equal(loads, 2);
  });
});
