import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createCollection } from "../../src/collection/index.js";
import { Dataset } from "../../src/data/index.js";
import { SchemaError } from "../../src/errors.js";
import * as merge from "../../src/merge/index.js";
import * as partitioning from "../../src/partitioning/index.js";
import { MemoryStore } from "../../src/store/memory.js";
import { isoTimes, numbers, timeDataset, timeSchema, values } from "../helpers/collection-fixtures.js";

const OPTS = { axis: "time", partitioningDim: "time" } as const;

describe("merge strategies (docs/behaviour.md §9)", () => {
  it("replace returns the inserted dataset itself", () => {
    const schema = timeSchema("int64");
    const existing = timeDataset(schema, [1, 2], [1, 2]);
    const inserted = timeDataset(schema, [3], [3]);
    assert.equal(merge.replace(existing, inserted, OPTS), inserted);
  });

  it("concat appends stored rows then inserted rows, without sorting or de-duplication", () => {
    const schema = timeSchema("int64");
    const existing = timeDataset(schema, [5, 1, 3], [50, 10, 30]);
    const inserted = timeDataset(schema, [3, 0], [31, 0]);
    const out = merge.concat(existing, inserted, OPTS);
    assert.deepEqual(numbers(out, "time"), [5, 1, 3, 3, 0]);
    assert.deepEqual(numbers(out, "v"), [50, 10, 30, 31, 0]);
    assert.deepEqual(numbers(out, "m"), [500, 501, 100, 101, 300, 301, 310, 311, 0, 1]);
    // `c` does not span the partitioning dimension: the stored one is kept.
    assert.deepEqual(numbers(out, "c"), [1, 2]);
  });

  it("concat with a dataset without variables returns the other one unchanged", () => {
    const schema = timeSchema("int64");
    const ds = timeDataset(schema, [1, 2], [1, 2]);
    const empty = new Dataset(schema);
    assert.equal(merge.concat(empty, ds, OPTS), ds);
    assert.equal(merge.concat(ds, empty, OPTS), ds);
  });

  it("concat with zero-row variables concatenates normally", () => {
    const schema = timeSchema("int64");
    const none = timeDataset(schema, [], []);
    const ds = timeDataset(schema, [4, 2], [4, 2]);
    const out = merge.concat(none, ds, OPTS);
    assert.notEqual(out, ds);
    assert.deepEqual(numbers(out, "time"), [4, 2]);
    assert.deepEqual(numbers(out, "m"), [40, 41, 20, 21]);
  });

  describe("time_series", () => {
    const schema = timeSchema("datetime64[D]");
    const existing = timeDataset(
      schema,
      ["2024-01-05", "2024-01-20", "2024-02-03", "2024-02-15", "2024-03-01"],
      [1, 2, 3, 4, 5],
      "D",
    );

    it("drops the stored rows inside [min, max] of the inserted axis and sorts (the Y-partition example)", () => {
      const inserted = timeDataset(schema, ["2024-04-10", "2024-02-10"], [6, 7], "D");
      const out = merge.timeSeries(existing, inserted, OPTS);
      assert.deepEqual(isoTimes(out, "time"), [
        "2024-01-05",
        "2024-01-20",
        "2024-02-03",
        "2024-02-10",
        "2024-04-10",
      ]);
      assert.deepEqual(numbers(out, "v"), [1, 2, 3, 7, 6]);
      assert.deepEqual(numbers(out, "m"), [10, 11, 20, 21, 30, 31, 70, 71, 60, 61]);
      assert.deepEqual(numbers(out, "c"), [1, 2]);
    });

    it("removes the window bounds themselves (closed window)", () => {
      const inserted = timeDataset(schema, ["2024-02-03", "2024-02-15"], [8, 9], "D");
      const out = merge.timeSeries(existing, inserted, OPTS);
      assert.deepEqual(isoTimes(out, "time"), [
        "2024-01-05",
        "2024-01-20",
        "2024-02-03",
        "2024-02-15",
        "2024-03-01",
      ]);
      assert.deepEqual(numbers(out, "v"), [1, 2, 8, 9, 5]);
    });

    it("keeps ties in order: stored rows first, then inserted rows in their order", () => {
      const s = timeSchema("int64");
      const stored = timeDataset(s, [1, 1, 5], [10, 11, 50]);
      const inserted = timeDataset(s, [5, 3, 3], [99, 30, 31]);
      const out = merge.timeSeries(stored, inserted, OPTS);
      assert.deepEqual(numbers(out, "time"), [1, 1, 3, 3, 5]);
      assert.deepEqual(numbers(out, "v"), [10, 11, 30, 31, 99]);
    });

    it("returns the stored dataset when nothing is inserted, and the inserted one when nothing is stored", () => {
      const none = timeDataset(schema, [], [], "D");
      assert.equal(merge.timeSeries(existing, none, OPTS), existing);
      assert.equal(merge.timeSeries(none, existing, OPTS), existing);
    });

    it("refuses a missing axis variable with a SchemaError naming it", () => {
      assert.throws(
        () => merge.timeSeries(existing, existing, { axis: "date", partitioningDim: "time" }),
        (err: unknown) => err instanceof SchemaError && err.variable === "date" && /'date'/.test(err.message),
      );
    });
  });

  describe("upsert", () => {
    const ints = timeSchema("int64");

    it("replaces stored rows whose axis value is inserted (the docs/behaviour.md §9.6 example)", () => {
      const existing = timeDataset(ints, [1, 2, 2, 3], [10, 20, 21, 30]);
      const inserted = timeDataset(ints, [2, 4, 1], [99, 98, 97]);
      const out = merge.upsert(existing, inserted, OPTS);
      assert.deepEqual(numbers(out, "time"), [1, 2, 3, 4]);
      assert.deepEqual(numbers(out, "v"), [97, 99, 30, 98]);
      // the 2-D variable spanning the dimension follows the same permutation
      assert.deepEqual(numbers(out, "m"), [970, 971, 990, 991, 300, 301, 980, 981]);
      assert.deepEqual(numbers(out, "c"), [1, 2]);
    });

    it("never de-duplicates the inserted rows", () => {
      const existing = timeDataset(ints, [1, 3], [10, 30]);
      const inserted = timeDataset(ints, [3, 3], [31, 32]);
      const out = merge.upsert(existing, inserted, OPTS);
      assert.deepEqual(numbers(out, "time"), [1, 3, 3]);
      assert.deepEqual(numbers(out, "v"), [10, 31, 32]);
    });

    it("matches within a numeric tolerance, bounds included", () => {
      const existing = timeDataset(ints, [0, 10, 20], [100, 110, 120]);
      const inserted = timeDataset(ints, [4, 16], [204, 216]);
      const out = merge.upsert(existing, inserted, { ...OPTS, tolerance: 4 });
      assert.deepEqual(numbers(out, "time"), [4, 10, 16]);
      assert.deepEqual(numbers(out, "v"), [204, 110, 216]);
      const tighter = merge.upsert(existing, inserted, { ...OPTS, tolerance: 3 });
      assert.deepEqual(numbers(tighter, "time"), [0, 4, 10, 16, 20]);
    });

    it("accepts a bigint tolerance", () => {
      const existing = timeDataset(ints, [0, 10, 20], [100, 110, 120]);
      const inserted = timeDataset(ints, [4, 16], [204, 216]);
      const fn = merge.upsertWithin(4n);
      assert.deepEqual(numbers(fn(existing, inserted, OPTS) as Dataset, "time"), [4, 10, 16]);
      const fn3 = merge.upsertWithin(3n);
      assert.deepEqual(numbers(fn3(existing, inserted, OPTS) as Dataset, "time"), [0, 4, 10, 16, 20]);
    });

    it("applies a tolerance on a float axis", () => {
      const floats = timeSchema("float64");
      const existing = timeDataset(floats, [0, 1, 2], [0, 1, 2]);
      const inserted = timeDataset(floats, [1.25], [9]);
      const out = merge.upsert(existing, inserted, { ...OPTS, tolerance: 0.25 });
      assert.deepEqual(numbers(out, "time"), [0, 1.25, 2]);
      assert.deepEqual(numbers(out, "v"), [0, 9, 2]);
    });

    it('upsertWithin("500ms") on a datetime64[ns] axis replaces only the row within 500 ms', () => {
      const ns = timeSchema("datetime64[ns]");
      const existing = timeDataset(
        ns,
        ["2024-01-01T12:00:00.000", "2024-01-01T12:00:10", "2024-01-01T12:00:20"],
        [1, 2, 3],
        "ns",
      );
      const inserted = timeDataset(
        ns,
        ["2024-01-01T12:00:00.300", "2024-01-01T12:00:11", "2024-01-01T12:00:30"],
        [4, 5, 6],
        "ns",
      );
      const out = merge.upsertWithin("500ms")(existing, inserted, OPTS) as Dataset;
      assert.deepEqual(isoTimes(out, "time", 3), [
        "2024-01-01T12:00:00.300",
        "2024-01-01T12:00:10.000",
        "2024-01-01T12:00:11.000",
        "2024-01-01T12:00:20.000",
        "2024-01-01T12:00:30.000",
      ]);
      assert.deepEqual(numbers(out, "v"), [4, 2, 5, 3, 6]);
    });

    it("converts a duration to the unit of a datetime64[s] axis; a number is in the axis unit", () => {
      const s = timeSchema("datetime64[s]");
      const existing = timeDataset(s, ["2024-01-01T00:00:00", "2024-01-01T00:00:10"], [1, 2]);
      const inserted = timeDataset(s, ["2024-01-01T00:00:01", "2024-01-01T00:00:12"], [3, 4]);
      const loose = merge.upsertWithin("1500ms")(existing, inserted, OPTS) as Dataset;
      assert.deepEqual(isoTimes(loose, "time"), [
        "2024-01-01T00:00:01",
        "2024-01-01T00:00:10",
        "2024-01-01T00:00:12",
      ]);
      const tight = merge.upsertWithin("500ms")(existing, inserted, OPTS) as Dataset;
      assert.equal(numbers(tight, "v").length, 4);
      assert.deepEqual(numbers(tight, "v"), [1, 3, 2, 4]);
      const inUnits = merge.upsertWithin(2)(existing, inserted, OPTS) as Dataset;
      assert.deepEqual(numbers(inUnits, "v"), [3, 4]);
    });

    it("refuses a duration tolerance on a numeric axis, naming the axis", () => {
      const existing = timeDataset(ints, [0, 10], [1, 2]);
      assert.throws(
        () => merge.upsert(existing, existing, { ...OPTS, tolerance: "2s" }),
        (err: unknown) => err instanceof SchemaError && err.variable === "time" && /'2s'/.test(err.message),
      );
    });

    it("refuses an unreadable duration when the callable is made", () => {
      assert.throws(
        () => merge.upsertWithin("5 parsecs"),
        (err: unknown) => err instanceof SchemaError && /'5 parsecs'/.test(err.message),
      );
    });

    it("refuses a missing axis variable with a SchemaError naming it", () => {
      const existing = timeDataset(ints, [0], [1]);
      assert.throws(
        () => merge.upsert(existing, existing, { axis: "t", partitioningDim: "time" }),
        (err: unknown) => err instanceof SchemaError && err.variable === "t" && /'t'/.test(err.message),
      );
    });

    it("shortcuts empty sides", () => {
      const ds = timeDataset(ints, [1], [1]);
      const none = timeDataset(ints, [], []);
      assert.equal(merge.upsert(ds, none, OPTS), ds);
      assert.equal(merge.upsert(none, ds, OPTS), ds);
    });
  });

  describe("resolve", () => {
    it("maps names, functions and nullish values", () => {
      assert.equal(merge.resolve(undefined), merge.replace);
      assert.equal(merge.resolve(null), merge.replace);
      assert.equal(merge.resolve("replace"), merge.replace);
      assert.equal(merge.resolve("concat"), merge.concat);
      assert.equal(merge.resolve("time_series"), merge.timeSeries);
      const fn: merge.MergeCallable = (e) => e;
      assert.equal(merge.resolve(fn), fn);
      const schema = timeSchema("int64");
      const up = merge.resolve("upsert");
      const out = up(timeDataset(schema, [1, 2], [1, 2]), timeDataset(schema, [2], [9]), OPTS) as Dataset;
      assert.deepEqual(numbers(out, "v"), [1, 9]);
    });

    it("refuses an unknown name, listing the choices, and a value of another type", () => {
      assert.throws(
        () => merge.resolve("upsert_within" as merge.MergeStrategy),
        (err: unknown) =>
          err instanceof SchemaError &&
          err.message ===
            "unknown merge strategy 'upsert_within'; choose from (replace, concat, time_series, upsert)",
      );
      assert.throws(() => merge.resolve(42 as unknown as merge.MergeStrategy), SchemaError);
    });
  });
});

describe("merge strategies through Collection.insert", () => {
  async function yearly(dtype: "datetime64[D]" | "datetime64[ns]" = "datetime64[D]") {
    const schema = timeSchema(dtype);
    const col = await createCollection(new MemoryStore(), {
      schema,
      axis: "time",
      partitioning: new partitioning.Date("time", { resolution: "Y" }),
    });
    return { schema, col };
  }
  const EXISTING = ["2024-01-05", "2024-01-20", "2024-02-03", "2024-02-15", "2024-03-01"];

  it("without merge (and with 'replace') the inserted rows replace the partition", async () => {
    for (const strategy of [undefined, "replace"] as const) {
      const { schema, col } = await yearly();
      await col.insert(timeDataset(schema, EXISTING, [1, 2, 3, 4, 5]));
      const paths = await col.insert(timeDataset(schema, ["2024-06-01"], [9]), { merge: strategy });
      assert.deepEqual(paths, ["year=2024"]);
      const out = await col.query();
      assert.ok(out);
      assert.deepEqual(isoTimes(out, "time"), ["2024-06-01"]);
      assert.deepEqual(numbers(out, "v"), [9]);
    }
  });

  it("concat appends to the stored partition; other partitions are untouched", async () => {
    const { schema, col } = await yearly();
    await col.insert(timeDataset(schema, ["2023-12-31", ...EXISTING.slice(0, 2)], [0, 1, 2]));
    const paths = await col.insert(timeDataset(schema, ["2024-01-10", "2024-01-01"], [7, 8]), {
      merge: "concat",
    });
    assert.deepEqual(paths, ["year=2024"]);
    const out = await col.query();
    assert.ok(out);
    assert.deepEqual(isoTimes(out, "time"), [
      "2023-12-31",
      "2024-01-05",
      "2024-01-20",
      "2024-01-10",
      "2024-01-01",
    ]);
    assert.deepEqual(numbers(out, "v"), [0, 1, 2, 7, 8]);
    assert.deepEqual(numbers(out, "m"), [0, 1, 10, 11, 20, 21, 70, 71, 80, 81]);
  });

  it("time_series gives the Y-partition example of docs/behaviour.md §9.5", async () => {
    const { schema, col } = await yearly();
    await col.insert(timeDataset(schema, EXISTING, [1, 2, 3, 4, 5]));
    await col.insert(timeDataset(schema, ["2024-04-10", "2024-02-10"], [6, 7]), { merge: "time_series" });
    const out = await col.query();
    assert.ok(out);
    assert.deepEqual(isoTimes(out, "time"), [
      "2024-01-05",
      "2024-01-20",
      "2024-02-03",
      "2024-02-10",
      "2024-04-10",
    ]);
    assert.deepEqual(numbers(out, "v"), [1, 2, 3, 7, 6]);
    assert.deepEqual(numbers(out, "m"), [10, 11, 20, 21, 30, 31, 70, 71, 60, 61]);
    assert.deepEqual(numbers(out, "c"), [1, 2]);
  });

  it("a merge into a partition that does not exist yet writes the inserted rows", async () => {
    const { schema, col } = await yearly();
    await col.insert(timeDataset(schema, ["2024-01-01"], [1]));
    const paths = await col.insert(timeDataset(schema, ["2025-03-01", "2025-01-01"], [3, 2]), {
      merge: "time_series",
    });
    assert.deepEqual(paths, ["year=2025"]);
    const out = await col.query({ filters: "year == 2025" });
    assert.ok(out);
    // a new partition is written as given (no merge, hence no sort)
    assert.deepEqual(numbers(out, "v"), [3, 2]);
  });

  it("upsert gives the example of docs/behaviour.md §9.6", async () => {
    const { schema, col } = await yearly();
    await col.insert(timeDataset(schema, [1, 2, 2, 3], [10, 20, 21, 30]));
    await col.insert(timeDataset(schema, [2, 4, 1], [99, 98, 97]), { merge: "upsert" });
    const out = await col.query();
    assert.ok(out);
    assert.deepEqual(await col.partitions(), ["year=1970"]);
    assert.deepEqual(numbers(out, "time"), [1, 2, 3, 4]);
    assert.deepEqual(numbers(out, "v"), [97, 99, 30, 98]);
    assert.deepEqual(numbers(out, "m"), [970, 971, 990, 991, 300, 301, 980, 981]);
  });

  it('upsertWithin("500ms") on a datetime64[ns] axis', async () => {
    const { schema, col } = await yearly("datetime64[ns]");
    await col.insert(
      timeDataset(
        schema,
        ["2024-01-01T12:00:00.000", "2024-01-01T12:00:10", "2024-01-01T12:00:20"],
        [1, 2, 3],
        "ns",
      ),
    );
    await col.insert(
      timeDataset(
        schema,
        ["2024-01-01T12:00:00.300", "2024-01-01T12:00:11", "2024-01-01T12:00:30"],
        [4, 5, 6],
        "ns",
      ),
      { merge: merge.upsertWithin("500ms") },
    );
    const out = await col.query();
    assert.ok(out);
    assert.deepEqual(isoTimes(out, "time", 3), [
      "2024-01-01T12:00:00.300",
      "2024-01-01T12:00:10.000",
      "2024-01-01T12:00:11.000",
      "2024-01-01T12:00:20.000",
      "2024-01-01T12:00:30.000",
    ]);
    assert.deepEqual(numbers(out, "v"), [4, 2, 5, 3, 6]);
  });

  it("calls a user merge with the stored partition, the inserted slice and the axis options", async () => {
    const { schema, col } = await yearly();
    await col.insert(timeDataset(schema, ["2024-01-01", "2024-02-01", "2025-01-01"], [1, 2, 3]));
    const calls: Array<{ stored: number[]; inserted: number[]; opts: merge.MergeOptions }> = [];
    const keepStored: merge.MergeCallable = (existing, inserted, opts) => {
      calls.push({ stored: numbers(existing, "v"), inserted: numbers(inserted, "v"), opts });
      return existing;
    };
    const paths = await col.insert(timeDataset(schema, ["2024-03-01", "2026-01-01"], [8, 9]), {
      merge: keepStored,
    });
    assert.deepEqual(paths, ["year=2024", "year=2026"]);
    // only the partition that existed is merged
    assert.deepEqual(calls, [
      { stored: [1, 2], inserted: [8], opts: { axis: "time", partitioningDim: "time" } },
    ]);
    const out = await col.query();
    assert.ok(out);
    assert.deepEqual(numbers(out, "v"), [1, 2, 3, 9]);
  });

  it("an unknown strategy name fails before anything is written", async () => {
    const { schema, col } = await yearly();
    const before = await col.store.list();
    await assert.rejects(
      col.insert(timeDataset(schema, ["2024-01-01"], [1]), { merge: "newest" as merge.MergeStrategy }),
      SchemaError,
    );
    assert.deepEqual(await col.store.list(), before);
  });

  it("a merge strategy without the axis variable fails with a SchemaError naming it", async () => {
    const { schema, col } = await yearly();
    await col.insert(timeDataset(schema, ["2024-01-01"], [1]));
    const dropAxis: merge.MergeCallable = (e, i, o) => merge.timeSeries(e, i, { ...o, axis: "when" });
    await assert.rejects(
      col.insert(timeDataset(schema, ["2024-01-02"], [2]), { merge: dropAxis }),
      (err: unknown) => err instanceof SchemaError && err.variable === "when",
    );
    const out = await col.query();
    assert.ok(out);
    assert.deepEqual(values(out, "v"), [1]);
  });
});
