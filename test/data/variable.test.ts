import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { inspect } from "node:util";
import { DerivedLazyArray, isLazyArray, type LazyArray, Variable } from "../../src/data/index.js";
import { SchemaError } from "../../src/errors.js";
import { NDArray } from "../../src/ndarray.js";
import { VariableSchema } from "../../src/schema/index.js";

const f32 = new VariableSchema("power", {
  dtype: "float32",
  dimensions: ["time", "x"],
  attrs: { units: "W", scale: 0.5 },
});
const i16 = new VariableSchema("flag", { dtype: "int16", dimensions: ["time"], fillValue: -1 });

function counting(array: NDArray): LazyArray & { loads: number } {
  const lazy = {
    shape: array.shape,
    dtype: array.dtype,
    loads: 0,
    async load() {
      lazy.loads++;
      return array;
    },
  };
  return lazy;
}

describe("Variable (docs/behaviour.md §5.1)", () => {
  it("wraps an NDArray as is and exposes the schema fields", () => {
    const a = NDArray.from(new Float32Array(6), { shape: [3, 2] });
    const v = new Variable(f32, a);
    assert.equal(v.data, a);
    assert.equal(v.array, a);
    assert.equal(v.name, "power");
    assert.deepEqual(v.dimensions, ["time", "x"]);
    assert.equal(v.dtype, "float32");
    assert.deepEqual(v.shape, [3, 2]);
    assert.equal(v.ndim, 2);
    assert.equal(v.nbytes, 24);
    assert.equal(v.isLazy, false);
    assert.equal(v.lengthOf("x"), 2);
    assert.equal(v.lengthOf("nope"), undefined);
    assert.equal(new Variable(i16, [1, 2]).fillValue, -1);
  });

  it("converts typed and plain arrays to the schema dtype as 1-D data", () => {
    const v = new Variable(i16, [1, 2, 3]);
    assert.ok(v.array.data instanceof Int16Array);
    assert.deepEqual([...v.array.data], [1, 2, 3]);
    const w = new Variable(i16, new Float64Array([4, 5]));
    assert.ok(w.array.data instanceof Int16Array);
    assert.deepEqual(w.shape, [2]);
    assert.deepEqual(new Variable(i16, { length: 2, 0: 8, 1: 9 }).array.toArray(), [8, 9]);
    assert.throws(() => new Variable(i16, {} as unknown as number[]), /variable 'flag': unsupported data/);
  });

  it("rejects data whose rank differs from the schema", () => {
    assert.throws(
      () => new Variable(f32, new Float32Array(4)),
      (e: unknown) =>
        e instanceof SchemaError &&
        e.message === "variable 'power': data has 1 dims, schema declares 2" &&
        e.variable === "power",
    );
    assert.throws(
      () =>
        new Variable(i16, { shape: [2, 2], dtype: "int16", load: async () => NDArray.full("int16", [2, 2]) }),
      /variable 'flag': data has 2 dims, schema declares 1/,
    );
  });

  it("nbytes uses the schema item size, whatever the data dtype", () => {
    const v = new Variable(i16, NDArray.from(new Float64Array(10)));
    assert.equal(v.nbytes, 20);
    assert.equal(new Variable(i16, null).nbytes, 0);
  });

  it("handles lazy data: shape without loading, toArray and load materialise", async () => {
    const a = NDArray.from(new Float32Array([1, 2, 3, 4]), { shape: [2, 2] });
    const lazy = counting(a);
    assert.ok(isLazyArray(lazy));
    assert.ok(!isLazyArray(a));
    const v = new Variable(f32, lazy);
    assert.equal(v.isLazy, true);
    assert.deepEqual(v.shape, [2, 2]);
    assert.equal(v.nbytes, 16);
    assert.equal(lazy.loads, 0);
    assert.throws(() => v.array, /variable 'power' is lazy/);
    assert.equal(await v.toArray(), a);
    const loaded = await v.load();
    assert.equal(loaded.isLazy, false);
    assert.equal(loaded.array, a);
    assert.equal(lazy.loads, 2);
  });

  it("derived lazy arrays compute once and do not cache failures", async () => {
    let calls = 0;
    const d = new DerivedLazyArray([1], "int8", async () => {
      calls++;
      if (calls === 1) throw new Error("transient");
      return NDArray.from(new Int8Array([7]));
    });
    await assert.rejects(d.load(), /transient/);
    assert.equal((await d.load()).get(0), 7);
    await d.load();
    assert.equal(calls, 2);
    const ac = new AbortController();
    ac.abort(new Error("stop"));
    await assert.rejects(d.load({ signal: ac.signal }), /stop/);
  });

  it("without data: null data, empty shape, lazy, toArray rejects", async () => {
    const v = new Variable(f32, null);
    assert.equal(v.data, null);
    assert.deepEqual(v.shape, []);
    assert.equal(v.isLazy, true);
    await assert.rejects(
      v.toArray(),
      (e: unknown) => e instanceof SchemaError && /has no data/.test(e.message),
    );
  });

  it("attrs is a fresh mutable copy", () => {
    const v = new Variable(f32, null);
    const attrs = v.attrs;
    attrs.units = "mW";
    assert.equal(v.attrs.units, "W");
  });

  it("prints a repr with its values, fill values as nan", () => {
    const v = new Variable(f32, NDArray.from(new Float32Array(20), { shape: [5, 4] }));
    const expected = [
      "<Variable power (time: 5, x: 4) float32> Size: 80 B",
      "  0 0 0 … 0 0 0",
      "Attributes:",
      "    units: W",
      "    scale: 0.5",
    ].join("\n");
    assert.equal(v.toString(), expected);
    assert.equal(String(v), expected);
    assert.equal(inspect(v), expected);
    const lazy = new Variable(i16, counting(NDArray.from(new Int16Array(3))));
    assert.equal(lazy.toString(), "<Variable flag (time: 3) int16> Size: 6 B\n  <not loaded>");
    assert.equal(new Variable(i16, null).toString(), "<Variable flag (time) int16> Size: 0 B\n  <no data>");
    assert.equal(
      new Variable(i16, new Int16Array([4, -1, 7])).toString(),
      "<Variable flag (time: 3) int16> Size: 6 B\n  4 nan 7",
    );
  });
});
