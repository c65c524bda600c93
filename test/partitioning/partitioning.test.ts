import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { PartitionError } from "../../src/errors.js";
import { NDArray } from "../../src/ndarray.js";
import * as partitioning from "../../src/partitioning/index.js";
import {
  compareKeys,
  Date as DatePartitioning,
  fromJSON,
  GroupedSequence,
  keyToDict,
  type Partitioning,
  type PartitionKey,
  parsePythonInt,
  Sequence,
  type SplittableDataset,
  sortPaths,
} from "../../src/partitioning/index.js";

function dataset(vars: Record<string, NDArray>, dim: string): SplittableDataset {
  return { variables: new Map(Object.entries(vars).map(([k, data]) => [k, { dimensions: [dim], data }])) };
}

function partitionError(fn: () => unknown): PartitionError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof PartitionError, `expected PartitionError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected a PartitionError");
}

describe("partitioning namespace", () => {
  it("exports Date under both names and the documented functions", () => {
    assert.equal(partitioning.Date, partitioning.DatePartitioning);
    assert.equal(typeof partitioning.compileFilter, "function");
    assert.equal(typeof partitioning.fromJSON, "function");
    assert.equal(typeof partitioning.keyToDict, "function");
    // The module's `Date` does not replace the global one.
    assert.equal(typeof globalThis.Date.now(), "number");
  });
});

describe("fromJSON (docs/format.md §3.6, docs/behaviour.md §6.6)", () => {
  it("rebuilds each partitioning from its own JSON", () => {
    const all: Partitioning[] = [
      new DatePartitioning("time", { resolution: "h", dimension: "num" }),
      new Sequence(["cycle_number", "pass_number"], { dimension: "time" }),
      new GroupedSequence(["cycle", "pass"], { dimension: "num", size: 10, start: -3 }),
    ];
    for (const p of all) {
      const q = fromJSON(JSON.parse(JSON.stringify(p)));
      assert.equal(q.constructor, p.constructor);
      assert.equal(JSON.stringify(q), JSON.stringify(p));
      assert.deepEqual(q.axis, p.axis);
    }
  });

  it("applies the read defaults: date dimension → variable, grouped start → 0", () => {
    const d = fromJSON({ name: "date", variable: "time", resolution: "D" });
    assert.deepEqual(d.toJSON(), { name: "date", variable: "time", resolution: "D", dimension: "time" });
    assert.equal(fromJSON({ name: "date", variable: "t", resolution: "Y", dimension: null }).dimension, "t");
    const g = fromJSON({ name: "grouped-sequence", variables: ["c"], dimension: "num", size: 4 });
    assert.deepEqual(g.toJSON(), {
      name: "grouped-sequence",
      variables: ["c"],
      dimension: "num",
      size: 4,
      start: 0,
    });
  });

  it("refuses unknown partitionings and malformed descriptors, naming the culprit", () => {
    assert.equal(
      partitionError(() => fromJSON({ name: "hash", variables: ["a"] })).message,
      "unknown partitioning 'hash'",
    );
    partitionError(() => fromJSON({ variables: ["a"] }));
    partitionError(() => fromJSON(null));
    partitionError(() => fromJSON([]));
    assert.equal(
      partitionError(() => fromJSON({ name: "sequence", variables: "cycle", dimension: "num" })).message,
      `invalid sequence partitioning descriptor: 'variables' must be an array of strings; got "cycle"`,
    );
    assert.match(
      partitionError(() => fromJSON({ name: "grouped-sequence", variables: ["c"], dimension: "num" }))
        .message,
      /'size' must be an integer; got nothing/,
    );
    partitionError(() => fromJSON({ name: "date", resolution: "D" }));
    partitionError(() => fromJSON({ name: "date", variable: "t", resolution: "W" }));
    partitionError(() => fromJSON({ name: "date", variable: "t", resolution: "D", dimension: 3 }));
    partitionError(() => fromJSON({ name: "grouped-sequence", variables: ["c"], dimension: "num", size: 1 }));
  });
});

describe("keys", () => {
  it("keyToDict gives the filter context", () => {
    assert.deepEqual(
      keyToDict([
        ["year", 2024],
        ["month", 3],
      ]),
      { year: 2024, month: 3 },
    );
    assert.deepEqual(Object.keys(keyToDict([["__proto__", 1]])), ["__proto__"]);
    const filter = partitioning.compileFilter("(year, month) >= (2024, 3)");
    assert.equal(
      filter(keyToDict(new DatePartitioning("t", { resolution: "M" }).decode("year=2024/month=03"))),
      true,
    );
  });

  it("parsePythonInt follows Python int()", () => {
    const cases: [string, number | undefined][] = [
      ["03", 3],
      ["+7", 7],
      ["-0", 0],
      [" 12 ", 12],
      ["1_000", 1000],
      ["0_7", 7],
      ["1__0", undefined],
      ["_1", undefined],
      ["1_", undefined],
      ["1.0", undefined],
      ["0x10", undefined],
      ["", undefined],
      ["+", undefined],
      ["9007199254740991", 9007199254740991],
      ["9007199254740992", undefined],
    ];
    for (const [text, expected] of cases) assert.equal(parsePythonInt(text), expected, text);
  });

  it("compareKeys orders naturally: numbers numerically, negatives first (docs/behaviour.md §18 #4)", () => {
    const keys: PartitionKey[] = [[["num", 10]], [["num", 2]], [["num", -10]], [["num", -2]], [["num", 0]]];
    assert.deepEqual(
      [...keys].sort(compareKeys).map((k) => k[0]?.[1]),
      [-10, -2, 0, 2, 10],
    );
    assert.ok(
      compareKeys(
        [["a", 1]],
        [
          ["a", 1],
          ["b", 0],
        ],
      ) < 0,
    );
    assert.ok(
      compareKeys(
        [
          ["a", 1],
          ["b", 5],
        ],
        [
          ["a", 2],
          ["b", 0],
        ],
      ) < 0,
    );
    assert.ok(compareKeys([["a", 1]], [["a", "x"]]) < 0);
    assert.equal(compareKeys([["a", 3]], [["a", 3]]), 0);
  });

  it("sortPaths sorts decoded keys naturally and puts undecodable paths last", () => {
    const seq = new Sequence(["c", "p"], { dimension: "num" });
    assert.deepEqual(
      sortPaths(["c=10/p=1", "junk", "c=2/p=10", "c=-1/p=3", "c=2/p=9", "c=x/p=1", "c=-10/p=0"], seq),
      ["c=-10/p=0", "c=-1/p=3", "c=2/p=9", "c=2/p=10", "c=10/p=1", "c=x/p=1", "junk"],
    );
    const date = new DatePartitioning("t", { resolution: "D" });
    const paths = ["year=2024/month=03/day=10", "year=0999/month=12/day=31", "year=2024/month=03/day=02"];
    assert.deepEqual(sortPaths(paths, date), [paths[1], paths[2], paths[0]]);
  });
});

describe("split and splitGrouped invariants", () => {
  /** Random two-column keys over a small range so that keys repeat and interleave. */
  const columns = fc
    .integer({ min: 0, max: 60 })
    .chain((n) =>
      fc.tuple(
        fc.array(fc.integer({ min: -3, max: 3 }), { minLength: n, maxLength: n }),
        fc.array(fc.integer({ min: -20, max: 20 }), { minLength: n, maxLength: n }),
      ),
    );

  const partitionings = fc.constantFrom<Partitioning>(
    new Sequence(["a", "b"], { dimension: "num" }),
    new GroupedSequence(["a", "b"], { dimension: "num", size: 5, start: 2 }),
  );

  it("runs are maximal, contiguous and cover the rows in order; groups cover every row exactly once", () => {
    fc.assert(
      fc.property(partitionings, columns, (p, [a, b]) => {
        const ds = dataset(
          { a: NDArray.from(new Int16Array(a)), b: NDArray.from(BigInt64Array.from(b.map(BigInt))) },
          "num",
        );
        const expectedKey = (row: number): PartitionKey => {
          const last = b[row] as number;
          const bucket =
            p instanceof GroupedSequence ? Math.floor((last - p.start) / p.size) * p.size + p.start : last;
          return [
            ["a", a[row] as number],
            ["b", bucket],
          ];
        };

        const runs = [...p.split(ds)];
        let next = 0;
        runs.forEach(([key, { start, stop }], i) => {
          assert.equal(start, next);
          assert.ok(stop > start);
          for (let r = start; r < stop; r++) assert.deepEqual(key, expectedKey(r));
          if (i > 0) assert.notDeepEqual(runs[i - 1]?.[0], key);
          next = stop;
        });
        assert.equal(next, a.length);

        const groups = p.splitGrouped(ds);
        const seen = new Uint8Array(a.length);
        const paths = new Set<string>();
        let firstRows = -1;
        for (const g of groups) {
          assert.equal(g.path, p.encode(g.key));
          assert.ok(!paths.has(g.path), `duplicate path ${g.path}`);
          paths.add(g.path);
          const rows =
            g.rows === null ? Array.from({ length: g.stop - g.start }, (_, i) => g.start + i) : [...g.rows];
          assert.ok(g.rows === null || g.rows.length > 0);
          assert.equal(rows[0], g.start);
          assert.equal((rows[rows.length - 1] as number) + 1, g.stop);
          // Keys in order of first appearance; rows ascending within a key.
          assert.ok(g.start > firstRows);
          firstRows = g.start;
          rows.forEach((r, i) => {
            if (i > 0) assert.ok(r > (rows[i - 1] as number));
            assert.equal(seen[r], 0, `row ${r} twice`);
            seen[r] = 1;
            assert.deepEqual(expectedKey(r), g.key);
          });
        }
        assert.ok(seen.every((s) => s === 1));
        // `rows` is null exactly when the key forms a single run.
        for (const g of groups) {
          const count = runs.filter(([k]) => p.encode(k) === g.path).length;
          assert.equal(g.rows === null, count === 1);
        }
      }),
      { numRuns: 300 },
    );
  });
});
