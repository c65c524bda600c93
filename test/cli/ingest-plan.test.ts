/**
 * In-process tests of the pure steps of `ingest`: key variables from
 * attributes, conformance to the collection schema, the time variable of a
 * date partitioning, and the merge strategy options.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  compareVariable,
  conform,
  findTimeVariable,
  mergeStrategy,
  partitioningFor,
  withKeyVariables,
} from "../../src/cli/ingest.js";
import { UsageError } from "../../src/cli/io.js";
import { Dataset } from "../../src/data/index.js";
import { SchemaError } from "../../src/errors.js";
import { NDArray } from "../../src/ndarray.js";
import { Sequence } from "../../src/partitioning/index.js";
import { type DatasetSchema, Schema } from "../../src/schema/index.js";

/** A 3-row dataset on `time` with `time`, `ssh` (float64) and the given root attributes. */
function product(attrs: Record<string, unknown>, extra?: (s: ReturnType<typeof Schema>) => void) {
  const builder = Schema()
    .withDimension("time")
    .withVariable("time", { dtype: "datetime64[ns]", dimensions: ["time"] })
    .withVariable("ssh", { dtype: "float64", dimensions: ["time"], fillValue: Number.NaN });
  for (const [k, v] of Object.entries(attrs)) builder.withAttribute(k, v);
  extra?.(builder);
  const schema = builder.build();
  const arrays: Record<string, NDArray | BigInt64Array | Float64Array> = {
    time: new BigInt64Array([0n, 1_000_000_000n, 2_000_000_000n]),
    ssh: new Float64Array([0.5, Number.NaN, -1.25]),
  };
  return { schema, arrays };
}

describe("key variables", () => {
  it("repeat integer global attributes on every row, int32 within range and int64 beyond", () => {
    const { schema, arrays } = product({ cycle_number: 14, pass_number: "191", big: 2n ** 40n });
    const ds = Dataset.fromArrays(schema, arrays, { attrs: schema.attrs });
    const out = withKeyVariables(ds, schema, "time", ["cycle_number", "pass_number", "big"]);
    assert.equal(out.schema.getVariable("cycle_number").dtype, "int32");
    assert.deepEqual(out.schema.getVariable("pass_number").dimensions, ["time"]);
    assert.equal(out.schema.getVariable("big").dtype, "int64");
    assert.deepEqual(
      Array.from(out.dataset.getVariable("cycle_number").array.data as Int32Array),
      [14, 14, 14],
    );
    assert.deepEqual(
      Array.from(out.dataset.getVariable("pass_number").array.data as Int32Array),
      [191, 191, 191],
    );
    assert.deepEqual(Array.from(out.dataset.getVariable("big").array.data as BigInt64Array), [
      2n ** 40n,
      2n ** 40n,
      2n ** 40n,
    ]);
    // the other variables and the attributes are kept
    assert.deepEqual(Array.from(out.dataset.getVariable("ssh").array.data as Float64Array), [
      0.5,
      Number.NaN,
      -1.25,
    ]);
    assert.equal(out.dataset.attrs.cycle_number, 14);
    // the partitioning splits on them
    const split = partitioningFor("cycle_pass", "time", "", "D").splitGrouped(out.dataset);
    assert.deepEqual(
      split.map((g) => g.path),
      ["cycle_number=14/pass_number=191"],
    );
  });

  it("use a 1-D variable as it is and repeat a one-element variable", () => {
    const { schema, arrays } = product({}, (b) =>
      b
        .withDimension("one", { size: 1 })
        .withVariable("cycle_number", { dtype: "int16", dimensions: ["time"] })
        .withVariable("pass_number", { dtype: "int64", dimensions: ["one"] }),
    );
    const ds = Dataset.fromArrays(schema, {
      ...arrays,
      cycle_number: new Int16Array([1, 1, 2]),
      pass_number: new BigInt64Array([7n]),
    });
    const out = withKeyVariables(ds, schema, "time", ["cycle_number", "pass_number"]);
    assert.equal(out.schema.getVariable("cycle_number").dtype, "int16");
    assert.deepEqual(Array.from(out.dataset.getVariable("cycle_number").array.data as Int16Array), [1, 1, 2]);
    assert.deepEqual(out.schema.getVariable("pass_number").dimensions, ["time"]);
    assert.deepEqual(Array.from(out.dataset.getVariable("pass_number").array.data as Int32Array), [7, 7, 7]);
  });

  it("refuse a missing or non-integer key, naming it", () => {
    const { schema, arrays } = product({ cycle_number: 1.5 });
    const ds = Dataset.fromArrays(schema, arrays, { attrs: schema.attrs });
    assert.throws(
      () => withKeyVariables(ds, schema, "time", ["pass_number"]),
      (e: unknown) =>
        e instanceof SchemaError &&
        e.variable === "pass_number" &&
        e.message === "no variable or global attribute 'pass_number' to partition by",
    );
    assert.throws(
      () => withKeyVariables(ds, schema, "time", ["cycle_number"]),
      (e: unknown) =>
        e instanceof SchemaError && e.message === "global attribute 'cycle_number' is not an integer: 1.5",
    );
  });
});

describe("conformance to the collection schema", () => {
  const collection = (): DatasetSchema =>
    Schema()
      .withDimension("time")
      .withDimension("x", { size: 2 })
      .withVariable("time", { dtype: "datetime64[ns]", dimensions: ["time"] })
      .withVariable("ssh", { dtype: "float32", dimensions: ["time"] })
      .withVariable("flag", { dtype: "int8", dimensions: ["time"] })
      .withVariable("wide", { dtype: "float64", dimensions: ["time", "x"] })
      .build()
      .withPartitionAxis("time");

  it("casts to the schema dtypes and allows a missing variable", () => {
    const { schema, arrays } = product({});
    const out = conform(Dataset.fromArrays(schema, arrays), collection());
    assert.equal(out.getVariable("ssh").dtype, "float32");
    assert.deepEqual(Array.from(out.getVariable("ssh").array.data as Float32Array), [0.5, Number.NaN, -1.25]);
    assert.equal(out.variables.has("flag"), false);
  });

  it("lists the variables the collection does not have", () => {
    const { schema, arrays } = product({}, (b) => {
      for (let i = 0; i < 12; i++) b.withVariable(`v${i}`, { dtype: "int8", dimensions: ["time"] });
    });
    const all = { ...arrays } as Record<string, NDArray | BigInt64Array | Float64Array | Int8Array>;
    for (let i = 0; i < 12; i++) all[`v${i}`] = new Int8Array(3);
    assert.throws(
      () => conform(Dataset.fromArrays(schema, all), collection()),
      (e: unknown) =>
        e instanceof SchemaError &&
        e.message ===
          "12 variable(s) not in the collection schema: v0, v1, v2, v3, v4, v5, v6, v7, v8, v9 ... (2 more)",
    );
  });

  it("refuses other dimensions, sizes and lossy casts, naming the variable", () => {
    const { schema } = product({}, (b) =>
      b
        .withDimension("y", { size: 2 })
        .withVariable("wide", { dtype: "float64", dimensions: ["time", "y"] })
        .withVariable("flag", { dtype: "float64", dimensions: ["time"] }),
    );
    const base = { time: new BigInt64Array([0n, 1n, 2n]) };
    const wide = Dataset.fromArrays(schema, {
      ...base,
      wide: NDArray.from(new Float64Array(6), { shape: [3, 2] }),
    });
    assert.throws(
      () => conform(wide, collection()),
      (e: unknown) =>
        e instanceof SchemaError &&
        e.variable === "wide" &&
        e.message === "variable 'wide' has dimensions (time, y) but the collection declares (time, x)",
    );
    const lossy = Dataset.fromArrays(schema, { ...base, flag: new Float64Array([1, 2.5, 3]) });
    assert.throws(
      () => conform(lossy, collection()),
      (e: unknown) =>
        e instanceof SchemaError && e.variable === "flag" && /cannot cast float64 to int8/.test(e.message),
    );
  });
});

describe("time variable and merge options", () => {
  it("finds the time variable of a date partitioning", () => {
    const { schema, arrays } = product({}, (b) =>
      b.withVariable("other_time", { dtype: "datetime64[s]", dimensions: ["time"] }),
    );
    const ds = Dataset.fromArrays(schema, { ...arrays, other_time: new BigInt64Array(3) });
    assert.equal(findTimeVariable(ds, "time"), "time");
    assert.equal(findTimeVariable(ds, "time", "other_time"), "other_time");
    assert.throws(
      () => findTimeVariable(ds, "time", "ssh"),
      /'ssh' is not a 1-D datetime variable along 'time'/,
    );
    const rows = Schema()
      .withDimension("rows")
      .withVariable("t1", { dtype: "datetime64[ns]", dimensions: ["rows"] })
      .withVariable("t2", { dtype: "datetime64[ns]", dimensions: ["rows"] })
      .build();
    const two = Dataset.fromArrays(rows, { t1: new BigInt64Array(1), t2: new BigInt64Array(1) });
    assert.throws(
      () => findTimeVariable(two, "rows"),
      /several datetime variables along 'rows' \(t1, t2\): choose one with --time/,
    );
  });

  it("checks the merge options and compares rows by the axis or the date variable", () => {
    assert.equal(mergeStrategy({}), undefined);
    assert.equal(mergeStrategy({ merge: "concat" }), "concat");
    assert.equal(typeof mergeStrategy({ merge: "upsert_within", tolerance: "500ms" }), "function");
    assert.throws(() => mergeStrategy({ merge: "upsert_within" }), UsageError);
    assert.throws(() => mergeStrategy({ merge: "upsert", tolerance: "1s" }), UsageError);
    assert.throws(
      () => mergeStrategy({ merge: "upsert_within", tolerance: "soon" }),
      /--tolerance: invalid tolerance 'soon'/,
    );

    const swath = Schema()
      .withDimension("NUMROWS")
      .withVariable("time", { dtype: "datetime64[ns]", dimensions: ["NUMROWS"] })
      .build();
    const byDate = partitioningFor("date", "NUMROWS", "time", "D");
    assert.equal(compareVariable(swath, "NUMROWS", byDate, "time_series"), "time");
    assert.equal(compareVariable(swath, "NUMROWS", byDate, "concat"), undefined);
    const bySequence = new Sequence(["cycle_number"], { dimension: "NUMROWS" });
    assert.throws(() => compareVariable(swath, "NUMROWS", bySequence, "upsert"), UsageError);
    const { schema } = product({});
    assert.equal(compareVariable(schema, "time", bySequence, "upsert"), "time");
  });
});
