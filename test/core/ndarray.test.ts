import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { allocate, type DType, NAT } from "../../src/dtype.js";
import { SchemaError } from "../../src/errors.js";
import { argsort, castChecked, concat, NDArray, take, uniqueRuns } from "../../src/ndarray.js";

const ALL: DType[] = [
  "bool",
  "int8",
  "int16",
  "int32",
  "int64",
  "uint8",
  "uint16",
  "uint32",
  "uint64",
  "float32",
  "float64",
  "datetime64[s]",
  "datetime64[ns]",
  "timedelta64[ms]",
  "string",
];

/** A 3x2 array of `dtype` holding 0..5 in that dtype's representation. */
function sample(dtype: DType, rows = 3): NDArray {
  const n = rows * 2;
  const data = allocate(dtype, n);
  for (let i = 0; i < n; i++) {
    if (Array.isArray(data)) data[i] = `s${i}`;
    else if (data instanceof BigInt64Array || data instanceof BigUint64Array) data[i] = BigInt(i);
    else if (dtype === "bool") data[i] = i % 2;
    else data[i] = i;
  }
  return new NDArray(dtype, [rows, 2], data);
}

describe("NDArray basics", () => {
  it("from typed arrays without copy, with shape", () => {
    const raw = new Float32Array([1, 2, 3, 4, 5, 6]);
    const a = NDArray.from(raw, { shape: [2, 3] });
    assert.equal(a.dtype, "float32");
    assert.equal(a.data, raw);
    assert.equal(a.get(1, 2), 6);
    assert.equal(a.get(-1, -1), 6);
    assert.equal(a.size, 6);
    assert.equal(a.ndim, 2);
    assert.equal(a.nbytes, 24);
  });
  it("from plain arrays infers or converts", () => {
    assert.equal(NDArray.from([1, 2]).dtype, "float64");
    assert.equal(NDArray.from([1n, 2n]).dtype, "int64");
    assert.equal(NDArray.from(["a"]).dtype, "string");
    assert.equal(NDArray.from([true, false]).get(0), true);
    const t = NDArray.from([0n, 1n], { dtype: "datetime64[s]" });
    assert.equal(t.dtype, "datetime64[s]");
    assert.ok(t.data instanceof BigInt64Array);
    const i = NDArray.from(new BigInt64Array([5n]), { dtype: "datetime64[ns]" });
    assert.equal(i.get(0), 5n);
  });
  it("rejects a shape that does not match the values", () => {
    assert.throws(() => NDArray.from(new Int32Array(5), { shape: [2, 3] }), SchemaError);
  });
  it("get checks rank and bounds", () => {
    const a = sample("int32");
    assert.throws(() => a.get(0), RangeError);
    assert.throws(() => a.get(3, 0), RangeError);
  });
  it("full fills with a value", () => {
    assert.deepEqual(NDArray.full("float32", [2], Number.NaN).toArray(), [Number.NaN, Number.NaN]);
    assert.deepEqual(NDArray.full("int64", [2], NAT).toArray(), [NAT, NAT]);
  });
});

describe("axis-0 operations on every dtype", () => {
  for (const dtype of ALL) {
    it(`${dtype}: slice, concat, take`, () => {
      const a = sample(dtype);
      const s = a.slice(1, 3);
      assert.deepEqual(s.shape, [2, 2]);
      assert.deepEqual(s.toArray(), a.toArray().slice(2));
      assert.deepEqual(a.slice(-1, 99).toArray(), a.toArray().slice(4));
      assert.deepEqual(a.slice(2, 1).shape, [0, 2]);
      const c = concat([a, s]);
      assert.deepEqual(c.shape, [5, 2]);
      assert.deepEqual(c.toArray(), [...a.toArray(), ...s.toArray()]);
      const t = take(a, [2, 0, 2]);
      const v = a.toArray();
      assert.deepEqual(t.toArray(), [v[4], v[5], v[0], v[1], v[4], v[5]]);
      assert.equal(t.dtype, dtype);
      assert.throws(() => take(a, [3]), RangeError);
    });
  }
  it("concat refuses mismatched dtypes and shapes", () => {
    assert.throws(() => concat([sample("int32"), sample("float32")] as NDArray[]), SchemaError);
    assert.throws(
      () => concat([sample("int32"), NDArray.from(new Int32Array(3), { shape: [1, 3] })]),
      SchemaError,
    );
  });
});

describe("argsort (stable) and unique runs", () => {
  it("sorts numbers stably with NaN last", () => {
    const a = NDArray.from(new Float64Array([3, 1, Number.NaN, 1, 2]));
    assert.deepEqual(Array.from(argsort(a)), [1, 3, 4, 0, 2]);
  });
  it("sorts bigints (datetimes) stably", () => {
    const a = NDArray.from(new BigInt64Array([5n, -1n, 5n, 0n]), { dtype: "datetime64[ns]" });
    assert.deepEqual(Array.from(argsort(a)), [1, 3, 0, 2]);
  });
  it("sorts every numeric dtype", () => {
    for (const dtype of ALL) {
      if (dtype === "bool") continue;
      const a = sample(dtype).reshape([6]);
      const rev = take(a, [5, 4, 3, 2, 1, 0]);
      const order = Array.from(argsort(rev));
      assert.deepEqual(order, dtype === "string" ? [5, 4, 3, 2, 1, 0] : [5, 4, 3, 2, 1, 0], dtype);
    }
  });
  it("finds maximal runs in row order", () => {
    assert.deepEqual(uniqueRuns([0, 0, 1, 1, 1, 2, 0]), [
      { label: 0, start: 0, stop: 2 },
      { label: 1, start: 2, stop: 5 },
      { label: 2, start: 5, stop: 6 },
      { label: 0, start: 6, stop: 7 },
    ]);
    assert.deepEqual(uniqueRuns([]), []);
  });
});

describe("castChecked refuses lossy casts", () => {
  it("accepts exact casts", () => {
    assert.deepEqual(castChecked(NDArray.from([1, 2]), "int16", "v").toArray(), [1, 2]);
    assert.deepEqual(castChecked(NDArray.from(new Int32Array([7])), "int64", "v").toArray(), [7n]);
    assert.deepEqual(castChecked(NDArray.from([1.5]), "float32", "v").toArray(), [1.5]);
    const s = NDArray.from(new BigInt64Array([2n, NAT]), { dtype: "datetime64[s]" });
    assert.deepEqual(castChecked(s, "datetime64[ms]", "t").toArray(), [2000n, NAT]);
  });
  it("refuses fractions, out of range values and precision loss, naming the variable", () => {
    const named = (v: string) => (e: unknown) =>
      e instanceof SchemaError && e.variable === v && e.message.includes(`'${v}'`);
    assert.throws(() => castChecked(NDArray.from([1.5]), "int32", "x"), named("x"));
    assert.throws(() => castChecked(NDArray.from([300]), "int8", "y"), named("y"));
    assert.throws(() => castChecked(NDArray.from([-1]), "uint16", "z"), named("z"));
    assert.throws(() => castChecked(NDArray.from([Number.NaN]), "int64", "n"), named("n"));
    const ms = NDArray.from(new BigInt64Array([1500n]), { dtype: "datetime64[ms]" });
    assert.throws(() => castChecked(ms, "datetime64[s]", "t"), named("t"));
    assert.throws(() => castChecked(NDArray.from(["a"]), "int32", "s"), named("s"));
  });
});
