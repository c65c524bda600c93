import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { DType } from "../../src/dtype.js";
import { PartitionError } from "../../src/errors.js";
import { NDArray } from "../../src/ndarray.js";
import { GroupedSequence } from "../../src/partitioning/grouped-sequence.js";
import type { SplittableDataset } from "../../src/partitioning/partitioning.js";
import { Sequence } from "../../src/partitioning/sequence.js";

function dataset(vars: Record<string, unknown>, dims: readonly string[] = ["num"]): SplittableDataset {
  return { variables: new Map(Object.entries(vars).map(([k, data]) => [k, { dimensions: dims, data }])) };
}

const int = (dtype: DType, values: readonly (number | bigint)[]) =>
  NDArray.from(values as number[], { dtype });

function partitionError(fn: () => unknown): PartitionError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof PartitionError, `expected PartitionError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected a PartitionError");
}

describe("Sequence (docs/behaviour.md §6.4)", () => {
  const cp = new Sequence(["cycle_number", "pass_number"], { dimension: "num" });

  it("splits on multi-variable keys in row order, no padding in paths", () => {
    const ds = dataset({
      cycle_number: int("int16", [31, 31, 31, 32, 32, 31]),
      pass_number: int("int64", [100n, 100n, 101n, 1n, 1n, 100n]),
    });
    assert.deepEqual(cp.split(ds), [
      [
        [
          ["cycle_number", 31],
          ["pass_number", 100],
        ],
        { start: 0, stop: 2 },
      ],
      [
        [
          ["cycle_number", 31],
          ["pass_number", 101],
        ],
        { start: 2, stop: 3 },
      ],
      [
        [
          ["cycle_number", 32],
          ["pass_number", 1],
        ],
        { start: 3, stop: 5 },
      ],
      [
        [
          ["cycle_number", 31],
          ["pass_number", 100],
        ],
        { start: 5, stop: 6 },
      ],
    ]);
    assert.deepEqual(
      cp.splitGrouped(ds).map((g) => [g.path, g.rows === null ? null : [...g.rows], g.start, g.stop]),
      [
        ["cycle_number=31/pass_number=100", [0, 1, 5], 0, 6],
        ["cycle_number=31/pass_number=101", null, 2, 3],
        ["cycle_number=32/pass_number=1", null, 3, 5],
      ],
    );
  });

  it("keeps negative values and their sign in paths", () => {
    const p = new Sequence(["c"], { dimension: "num" });
    const split = p.split(dataset({ c: int("int8", [-2, -2, 0, -10]) }));
    assert.deepEqual(
      split.map(([k, s]) => [p.encode(k), s.start, s.stop]),
      [
        ["c=-2", 0, 2],
        ["c=0", 2, 3],
        ["c=-10", 3, 4],
      ],
    );
    assert.deepEqual(p.decode("c=-2"), [["c", -2]]);
  });

  it("accepts every integer dtype and mixes int64 with uint64 without promotion", () => {
    for (const dtype of [
      "int8",
      "int16",
      "int32",
      "int64",
      "uint8",
      "uint16",
      "uint32",
      "uint64",
    ] as DType[]) {
      const values = dtype.startsWith("u") ? [7, 7, 200] : [-7, -7, 100];
      const data = /64/.test(dtype) ? values.map(BigInt) : values;
      const split = new Sequence(["v"], { dimension: "num" }).split(dataset({ v: int(dtype, data) }));
      assert.deepEqual(
        split.map(([k, s]) => [k, s.start, s.stop]),
        [
          [[["v", values[0]]], 0, 2],
          [[["v", values[2]]], 2, 3],
        ],
        dtype,
      );
    }
    const mixed = new Sequence(["a", "b"], { dimension: "num" }).split(
      dataset({ a: int("uint64", [2n ** 53n - 1n]), b: int("int64", [-(2n ** 53n) + 1n]) }),
    );
    assert.deepEqual(mixed[0]?.[0], [
      ["a", Number.MAX_SAFE_INTEGER],
      ["b", -Number.MAX_SAFE_INTEGER],
    ]);
  });

  it("refuses 64-bit key values beyond the safe integer range, naming variable and row", () => {
    const err = partitionError(() =>
      new Sequence(["v"], { dimension: "num" }).split(dataset({ v: int("uint64", [1n, 2n ** 63n]) })),
    );
    assert.equal(
      err.message,
      "value 9223372036854775808 of variable 'v' at row 1 is beyond the safe integer range of partition keys (±(2^53 - 1))",
    );
    assert.equal(err.variable, "v");
  });

  it("refuses non-integer key dtypes, bool included, naming the variable", () => {
    for (const dtype of ["float64", "float32", "bool", "datetime64[s]", "string"] as DType[]) {
      const data = dtype === "string" ? NDArray.from(["a"]) : NDArray.from([1], { dtype });
      const err = partitionError(() =>
        cp.split(dataset({ cycle_number: int("int32", [1]), pass_number: data })),
      );
      assert.equal(
        err.message,
        `Sequence partitioning requires integer keys; got dtype ${dtype} for variable 'pass_number'`,
      );
      assert.equal(err.variable, "pass_number");
    }
  });

  it("refuses missing, multi-dimensional, lazy and mismatched variables", () => {
    const c = int("int32", [1, 2]);
    assert.equal(
      partitionError(() => cp.split(dataset({ cycle_number: c }))).message,
      "variable 'pass_number' required for partitioning is missing",
    );
    assert.equal(
      partitionError(() => cp.split(dataset({ cycle_number: c, pass_number: c }, ["num", "x"]))).message,
      "variable 'cycle_number' must be 1-D along 'num'; got dims=('num', 'x')",
    );
    assert.equal(
      partitionError(() => cp.split(dataset({ cycle_number: c, pass_number: [1, 2] }))).message,
      "variable 'pass_number' must be loaded in memory to partition",
    );
    assert.equal(
      partitionError(() => cp.split(dataset({ cycle_number: c, pass_number: int("int32", [1]) }))).message,
      "partitioning variables 'cycle_number' and 'pass_number' have different lengths (2 and 1)",
    );
    const twoD = NDArray.from(new Int32Array(4), { shape: [2, 2] });
    partitionError(() => cp.split(dataset({ cycle_number: twoD, pass_number: twoD })));
  });

  it("yields nothing for empty input", () => {
    assert.deepEqual(
      cp.split(dataset({ cycle_number: int("int32", []), pass_number: int("int64", []) })),
      [],
    );
  });

  it("validates its construction (docs/behaviour.md §6.4, §18 #10)", () => {
    assert.equal(
      partitionError(() => new Sequence([], { dimension: "num" })).message,
      "Sequence requires at least one variable",
    );
    assert.equal(
      partitionError(() => new Sequence("cycle" as unknown as string[], { dimension: "num" })).message,
      "Sequence variables must be an array of names; got 'cycle'",
    );
    partitionError(() => new Sequence(["a", "a"], { dimension: "num" }));
    partitionError(() => new Sequence(["a=b"], { dimension: "num" }));
    partitionError(() => new Sequence(["a/b"], { dimension: "num" }));
    partitionError(() => new Sequence([""], { dimension: "num" }));
    partitionError(() => new Sequence(["a"], {} as { dimension: string }));
    assert.deepEqual(cp.axis, ["cycle_number", "pass_number"]);
    assert.equal(cp.name, "sequence");
    assert.equal(cp.dimension, "num");
  });

  it("encodes only keys with its components and integer values", () => {
    assert.equal(
      cp.encode([
        ["cycle_number", 31],
        ["pass_number", 100],
      ]),
      "cycle_number=31/pass_number=100",
    );
    assert.equal(
      cp.encode([
        ["cycle_number", "031"],
        ["pass_number", 100],
      ]),
      "cycle_number=31/pass_number=100",
    );
    partitionError(() =>
      cp.encode([
        ["pass_number", 100],
        ["cycle_number", 31],
      ]),
    );
    partitionError(() => cp.encode([["cycle_number", 31]]));
    partitionError(() =>
      cp.encode([
        ["cycle_number", 31],
        ["pass_number", "x"],
      ]),
    );
    partitionError(() =>
      cp.encode([
        ["cycle_number", 31],
        ["pass_number", 2 ** 60],
      ]),
    );
  });

  it("serialises to docs/format.md §3.6 with the key order of Python", () => {
    assert.equal(
      JSON.stringify(cp),
      '{"name":"sequence","variables":["cycle_number","pass_number"],"dimension":"num"}',
    );
  });

  it("round-trips random keys through encode and decode", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/), { minLength: 1, maxLength: 4 }),
        fc.array(fc.maxSafeInteger(), { minLength: 4, maxLength: 4 }),
        (names, values) => {
          const p = new Sequence(names, { dimension: "num" });
          const key = names.map((n, i) => [n, values[i] as number] as const);
          assert.deepEqual(p.decode(p.encode(key)), key);
        },
      ),
    );
  });
});

describe("GroupedSequence (docs/behaviour.md §6.5)", () => {
  const bucketsOf = (p: GroupedSequence, values: number[]) =>
    p.split(dataset({ v: int("int32", values) })).map(([k, s]) => [k[0]?.[1], s.start, s.stop]);

  it("buckets the last variable with floor semantics", () => {
    const ten = new GroupedSequence(["v"], { dimension: "num", size: 10 });
    assert.deepEqual(bucketsOf(ten, [1, 7, 12, 25, 0, -1, -10, -11]), [
      [0, 0, 2],
      [10, 2, 3],
      [20, 3, 4],
      [0, 4, 5],
      [-10, 5, 7],
      [-20, 7, 8],
    ]);
    const four = new GroupedSequence(["v"], { dimension: "num", size: 4, start: 1 });
    assert.deepEqual(bucketsOf(four, [-2, -3, -4, 1, 4, 5]), [
      [-3, 0, 2],
      [-7, 2, 3],
      [1, 3, 5],
      [5, 5, 6],
    ]);
  });

  it("keeps the other variables exact and writes bucket starts in paths", () => {
    const p = new GroupedSequence(["cycle", "pass_id"], { dimension: "num", size: 10 });
    const ds = dataset({
      cycle: int("int64", [1n, 1n, 1n, 2n, 1n]),
      pass_id: int("uint16", [10, 19, 20, 15, 11]),
    });
    assert.deepEqual(
      p.splitGrouped(ds).map((g) => [g.path, g.rows === null ? null : [...g.rows], g.start, g.stop]),
      [
        ["cycle=1/pass_id=10", [0, 1, 4], 0, 5],
        ["cycle=1/pass_id=20", null, 2, 3],
        ["cycle=2/pass_id=10", null, 3, 4],
      ],
    );
  });

  it("validates size, start and dtypes", () => {
    assert.equal(
      partitionError(() => new GroupedSequence(["v"], { dimension: "num", size: 1 })).message,
      "GroupedSequence requires size >= 2; got 1",
    );
    partitionError(() => new GroupedSequence(["v"], { dimension: "num", size: 2.5 }));
    partitionError(() => new GroupedSequence(["v"], { dimension: "num", size: 10, start: 0.5 }));
    assert.equal(
      partitionError(() => new GroupedSequence([], { dimension: "num", size: 10 })).message,
      "GroupedSequence requires at least one variable",
    );
    const p = new GroupedSequence(["c", "v"], { dimension: "num", size: 10 });
    const err = partitionError(() =>
      p.split(dataset({ c: int("int32", [1]), v: NDArray.from([1.5], { dtype: "float64" }) })),
    );
    assert.equal(err.message, "GroupedSequence requires integer values for 'v'; got dtype float64");
    assert.equal(err.variable, "v");
    assert.equal(
      partitionError(() =>
        p.split(dataset({ c: NDArray.from([1], { dtype: "bool" }), v: int("int32", [1]) })),
      ).message,
      "GroupedSequence requires integer values for 'c'; got dtype bool",
    );
  });

  it("serialises to docs/format.md §3.6 with the key order of Python", () => {
    const p = new GroupedSequence(["cycle", "pass"], { dimension: "num", size: 10 });
    assert.equal(
      JSON.stringify(p),
      '{"name":"grouped-sequence","variables":["cycle","pass"],"dimension":"num","size":10,"start":0}',
    );
    assert.equal(p.name, "grouped-sequence");
    assert.equal(new GroupedSequence(["v"], { dimension: "d", size: 3, start: -5 }).toJSON().start, -5);
  });

  it("places every value in a bucket [b, b + size) aligned on start, for numbers and bigints alike", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 1000 }),
        fc.integer({ min: -1000, max: 1000 }),
        fc.array(fc.integer({ min: -1_000_000, max: 1_000_000 }), { minLength: 1, maxLength: 30 }),
        (size, start, values) => {
          const p = new GroupedSequence(["v"], { dimension: "num", size, start });
          const perRow = (ds: SplittableDataset) => {
            const out: number[] = [];
            for (const [k, s] of p.split(ds))
              for (let r = s.start; r < s.stop; r++) out[r] = k[0]?.[1] as number;
            return out;
          };
          const fromNumbers = perRow(dataset({ v: int("int32", values) }));
          const fromBigints = perRow(dataset({ v: int("int64", values.map(BigInt)) }));
          assert.deepEqual(fromBigints, fromNumbers);
          values.forEach((v, row) => {
            const b = fromNumbers[row] as number;
            assert.ok(b <= v && v < b + size, `${v} not in [${b}, ${b + size})`);
            assert.equal((((b - start) % size) + size) % size, 0);
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it("round-trips random keys through encode and decode", () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), (a, b) => {
        const p = new GroupedSequence(["a", "b"], { dimension: "num", size: 7 });
        const key = [["a", a] as const, ["b", b] as const];
        assert.deepEqual(p.decode(p.encode(key)), key);
      }),
    );
  });
});
