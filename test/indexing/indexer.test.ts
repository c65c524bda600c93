/**
 * `Indexer` on a small synthetic collection: what `build` checks in a
 * builder's output, `keyColumns`, the Arrow table's types, `lookup`
 * semantics and range merging, the package surface.
 */

import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as arrow from "apache-arrow";
import type { Collection } from "../../src/collection/index.js";
import type { Dataset } from "../../src/data/index.js";
import { SchemaError } from "../../src/errors.js";
import * as zc from "../../src/index.js";
import { type IndexColumns, Indexer, runsOf } from "../../src/indexing/index.js";
import { NDArray } from "../../src/ndarray.js";
import { fieldTypes, rowsOf, sample } from "./fixtures.js";

let col: Collection;
before(async () => {
  col = await sample();
});

describe("Indexer.build with runsOf", () => {
  it("makes one row per run of equal keys, partitions in natural order, _partition last", async () => {
    const index = await Indexer.build(col, { builder: runsOf(["cycle", "pass"]) });
    assert.deepEqual(index.keyColumns, ["cycle", "pass"]);
    assert.deepEqual(index.columnNames, ["cycle", "pass", "_start", "_stop", "_partition"]);
    assert.equal(index.numRows, 6);
    assert.deepEqual(rowsOf(index), [
      { cycle: 1, pass: 5, _start: 0n, _stop: 2n, _partition: "num=0" },
      { cycle: 1, pass: 6, _start: 2n, _stop: 3n, _partition: "num=0" },
      { cycle: 2, pass: 6, _start: 3n, _stop: 4n, _partition: "num=0" },
      { cycle: 2, pass: 6, _start: 0n, _stop: 2n, _partition: "num=1" },
      { cycle: 3, pass: 1, _start: 0n, _stop: 1n, _partition: "num=2" },
      { cycle: 1, pass: 5, _start: 0n, _stop: 2n, _partition: "num=10" },
    ]);
  });

  it("keeps the builder's dtypes in the Arrow table: Uint16 keys, Int64 offsets, Utf8 partition", async () => {
    const index = await Indexer.build(col, { builder: runsOf(["cycle", "pass"]) });
    assert.ok(index.table instanceof arrow.Table);
    assert.deepEqual(fieldTypes(index.table), [
      "cycle:Uint16",
      "pass:Uint16",
      "_start:Int64",
      "_stop:Int64",
      "_partition:Utf8",
    ]);
    assert.equal(index.column("cycle").dtype, "uint16");
    assert.ok(index.column("_start").data instanceof BigInt64Array);
  });

  it("reads only the builder's variables, honours filters, onProgress and signal", async () => {
    const seen: string[][] = [];
    const builder = Object.assign(
      (ds: Dataset) => {
        seen.push([...ds.allVariables().keys()].sort());
        return runsOf(["pass"])(ds, "");
      },
      { variables: ["pass"] },
    );
    const progress: number[] = [];
    const index = await Indexer.build(col, {
      builder,
      filters: "num >= 1",
      onProgress: (p) => progress.push(p.done),
    });
    assert.deepEqual(seen, [["pass"], ["pass"], ["pass"]]);
    assert.deepEqual(progress.sort(), [1, 2, 3]);
    assert.deepEqual([...new Set(index.column("_partition").data as string[])], ["num=1", "num=2", "num=10"]);
    // An explicit `variables` option wins over the builder's.
    seen.length = 0;
    await Indexer.build(col, { builder, variables: ["pass", "v"], filters: "num == 2" });
    assert.deepEqual(seen, [["pass", "v"]]);
    const controller = new AbortController();
    controller.abort(new Error("stop here"));
    await assert.rejects(
      Indexer.build(col, { builder: runsOf(["pass"]), signal: controller.signal }),
      /stop here/,
    );
  });

  it("an index from zero rows has exactly _partition, _start, _stop", async () => {
    for (const index of [
      await Indexer.build(col, { builder: runsOf(["cycle"]), filters: "num == 99" }),
      await Indexer.build(col, {
        builder: () => ({
          cycle: new Uint16Array(0),
          _start: new BigInt64Array(0),
          _stop: new BigInt64Array(0),
        }),
      }),
    ]) {
      assert.deepEqual(index.columnNames, ["_partition", "_start", "_stop"]);
      assert.deepEqual(index.keyColumns, []);
      assert.deepEqual(fieldTypes(index.table), ["_partition:Utf8", "_start:Int64", "_stop:Int64"]);
      assert.equal(index.table.numRows, 0);
      assert.deepEqual(index.lookup({ cycle: 1 }), new Map());
      const back = await Indexer.fromParquet(await index.toParquet());
      assert.deepEqual(back.columnNames, ["_partition", "_start", "_stop"]);
      assert.equal(back.numRows, 0);
    }
  });

  it("custom builders: any key dtype, _start/_stop placed anywhere, int32 offsets become int64", async () => {
    const index = await Indexer.build(col, {
      builder: (ds, partition) => {
        const n = ds.dimensionSize("num") as number;
        return {
          _start: new Int32Array([0]),
          label: [`${partition}:${n}`],
          _stop: new Uint32Array([n]),
          first: new Float64Array([(ds.getVariable("v").array.data as Float64Array)[0] as number]),
          when: NDArray.from(new BigInt64Array([86_400n * BigInt(n)]), { dtype: "datetime64[s]" }),
          flag: NDArray.from([n > 1], { dtype: "bool" }),
        };
      },
      variables: ["v"],
    });
    assert.deepEqual(index.keyColumns, ["label", "first", "when", "flag"]);
    assert.deepEqual(index.columnNames, ["_start", "label", "_stop", "first", "when", "flag", "_partition"]);
    assert.deepEqual(fieldTypes(index.table), [
      "_start:Int64",
      "label:Utf8",
      "_stop:Int64",
      "first:Float64",
      "when:Timestamp<SECOND>",
      "flag:Bool",
      "_partition:Utf8",
    ]);
    assert.deepEqual(index.column("label").data, ["num=0:4", "num=1:2", "num=2:1", "num=10:2"]);
    assert.deepEqual([...(index.column("_stop").data as BigInt64Array)], [4n, 2n, 1n, 2n]);
    assert.deepEqual(
      index.lookup({ when: "1970-01-03" }),
      new Map([
        ["num=1", [[0, 2]]],
        ["num=10", [[0, 2]]],
      ]),
    );
    assert.deepEqual(index.lookup({ flag: false }), new Map([["num=2", [[0, 1]]]]));
    assert.deepEqual(
      index.lookup({ first: [6, 7n] }),
      new Map([
        ["num=2", [[0, 1]]],
        ["num=10", [[0, 2]]],
      ]),
    );
  });
});

describe("Indexer.build refuses bad builder output", () => {
  const cases: Array<[string, (ds: Dataset, partition: string) => unknown, RegExp, string | undefined]> = [
    [
      "not a record",
      () => null,
      /returned null for partition 'num=0'; expected a record of columns/,
      undefined,
    ],
    ["an array", () => [1, 2], /returned 1,2 for partition 'num=0'/, undefined],
    [
      "no _start",
      () => ({ k: new Int32Array(1), _stop: new Int32Array(1) }),
      /no '_start' column for partition 'num=0'/,
      "_start",
    ],
    ["no _stop", () => ({ _start: new Int32Array(1) }), /no '_stop' column for partition 'num=0'/, "_stop"],
    [
      "float offsets",
      () => ({ _start: new Float64Array([0]), _stop: new Float64Array([1]) }),
      /index column '_start' of partition 'num=0' must hold integers; got float64/,
      "_start",
    ],
    [
      "string offsets",
      () => ({ _start: ["0"], _stop: new Int32Array([1]) }),
      /index column '_start' of partition 'num=0' must hold integers; got string/,
      "_start",
    ],
    [
      "lengths differ",
      () => ({ k: new Int32Array(2), _start: new Int32Array(1), _stop: new Int32Array(1) }),
      /index column '_start' of partition 'num=0' has 1 rows but 'k' has 2/,
      "_start",
    ],
    [
      "a reserved _partition",
      () => ({ _partition: ["x"], _start: new Int32Array(1), _stop: new Int32Array(1) }),
      /returned a '_partition' column for partition 'num=0'; the indexer adds it/,
      "_partition",
    ],
    [
      "a 2-D column",
      () => ({
        k: NDArray.from(new Int32Array(2), { shape: [1, 2] }),
        _start: new Int32Array(1),
        _stop: new Int32Array(1),
      }),
      /index column 'k' of partition 'num=0' must be 1-D; got shape \[1, 2\]/,
      "k",
    ],
    [
      "a plain number array",
      () => ({ k: [1], _start: new Int32Array(1), _stop: new Int32Array(1) }),
      /index column 'k' of partition 'num=0' is an array of non-strings; expected a typed array/,
      "k",
    ],
    [
      "a Uint8ClampedArray",
      () => ({ k: new Uint8ClampedArray(1), _start: new Int32Array(1), _stop: new Int32Array(1) }),
      /index column 'k' of partition 'num=0' is a Uint8ClampedArray, which has no dtype here/,
      "k",
    ],
    [
      "_stop before _start",
      () => ({ _start: new Int32Array([2]), _stop: new Int32Array([1]) }),
      /index row 0 of partition 'num=0' has _start=2, _stop=1; expected 0 <= _start <= _stop <= 4/,
      "_start",
    ],
    [
      "_stop past the partition",
      () => ({ _start: new Int32Array([0]), _stop: new Int32Array([5]) }),
      /index row 0 of partition 'num=0' has _start=0, _stop=5; expected 0 <= _start <= _stop <= 4/,
      "_stop",
    ],
    [
      "another dtype in another partition",
      (_ds, p) => ({
        k: p === "num=0" ? new Int32Array(1) : new Int16Array(1),
        _start: new Int32Array(1),
        _stop: new Int32Array(1),
      }),
      /index column 'k' is int16 for partition 'num=1' but int32 for 'num=0'/,
      "k",
    ],
    [
      "other columns in another partition",
      (_ds, p) => ({
        [p === "num=0" ? "a" : "b"]: new Int32Array(1),
        _start: new Int32Array(1),
        _stop: new Int32Array(1),
      }),
      /returned columns \(b, _start, _stop\) for partition 'num=1' but \(a, _start, _stop\) for 'num=0'/,
      "a",
    ],
  ];
  for (const [what, builder, message, variable] of cases) {
    it(`${what}: SchemaError naming it`, async () => {
      await assert.rejects(
        Indexer.build(col, {
          builder: builder as (ds: Dataset, p: string) => IndexColumns,
          variables: ["v"],
        }),
        (err: unknown) => {
          assert.ok(err instanceof SchemaError, String(err));
          assert.match(err.message, message);
          assert.equal(err.variable, variable);
          return true;
        },
      );
    });
  }

  it("runsOf names a missing variable and its partition; refuses reserved names at once", async () => {
    await assert.rejects(
      Indexer.build(col, { builder: runsOf(["nope"]) }),
      /partition 'num=0' has no variable 'nope' to index by/,
    );
    assert.throws(() => runsOf([]), TypeError);
    assert.throws(() => runsOf(["_start"]), /'_start' is a reserved index column name/);
    await assert.rejects(Indexer.build(col, {} as Parameters<typeof Indexer.build>[1]), TypeError);
  });
});

describe("Indexer.lookup", () => {
  let index: Indexer;
  before(async () => {
    index = await Indexer.build(col, { builder: runsOf(["cycle", "pass"]) });
  });

  it("scalar = equality, array = membership, AND across columns, numbers and bigints alike", () => {
    assert.deepEqual(
      index.lookup({ cycle: 2 }),
      new Map([
        ["num=0", [[3, 4]]],
        ["num=1", [[0, 2]]],
      ]),
    );
    assert.deepEqual(
      index.lookup({ cycle: 1n, pass: [5, 6] }),
      new Map([
        ["num=0", [[0, 3]]], // [0,2) and [2,3) merged
        ["num=10", [[0, 2]]],
      ]),
    );
    assert.deepEqual(
      index.lookup({ cycle: [2, 3], pass: 6n }),
      new Map([
        ["num=0", [[3, 4]]],
        ["num=1", [[0, 2]]],
      ]),
    );
    assert.deepEqual(index.lookup({ _partition: "num=2" }), new Map([["num=2", [[0, 1]]]]));
    assert.deepEqual(index.lookup({ cycle: [] }), new Map());
    assert.deepEqual(index.lookup({ cycle: 1.5 }), new Map());
    assert.deepEqual([...index.lookup({}).keys()], ["num=0", "num=1", "num=2", "num=10"]);
    assert.deepEqual(index.lookup({}).get("num=0"), [[0, 4]]);
  });

  it("unknown columns and misfit values are SchemaErrors naming the column", () => {
    assert.throws(
      () => index.lookup({ cycle: 1, orbit: 3 }),
      (err: unknown) =>
        err instanceof SchemaError &&
        err.variable === "orbit" &&
        /unknown index column 'orbit'; the index has cycle, pass, _start, _stop, _partition/.test(
          err.message,
        ),
    );
    assert.throws(
      () => index.lookup({ pass: "6" }),
      /lookup value '6' does not fit column 'pass' \(uint16\)/,
    );
    assert.throws(
      () => index.lookup({ _partition: 3 }),
      /lookup value 3 \(number\) does not fit column '_partition'/,
    );
    assert.throws(() => index.lookup(null as unknown as Record<string, number>), TypeError);
  });

  it("sorts and merges overlapping, adjacent and unordered ranges, drops empty ones", async () => {
    const overlapping = await Indexer.build(col, {
      filters: "num == 0",
      builder: () => ({
        k: new Int32Array([1, 1, 1, 1, 2]),
        _start: new Int32Array([3, 0, 1, 2, 2]),
        _stop: new Int32Array([4, 1, 2, 2, 3]),
      }),
    });
    assert.deepEqual(
      overlapping.lookup({ k: 1 }),
      new Map([
        [
          "num=0",
          [
            [0, 2],
            [3, 4],
          ],
        ],
      ]),
    );
    assert.deepEqual(overlapping.lookup({ k: [1, 2] }), new Map([["num=0", [[0, 4]]]]));
    const empty = await Indexer.build(col, {
      filters: "num == 0",
      builder: () => ({ k: new Int32Array([1]), _start: new Int32Array([2]), _stop: new Int32Array([2]) }),
    });
    assert.deepEqual(empty.lookup({ k: 1 }), new Map());
  });
});

describe("package surface", () => {
  it("exports Indexer and runsOf from the root and the indexing namespace", () => {
    assert.equal(zc.Indexer, Indexer);
    assert.equal(zc.runsOf, runsOf);
    assert.equal(zc.indexing.Indexer, Indexer);
    assert.equal(typeof zc.indexing.splitIndexUrl, "function");
  });
});
