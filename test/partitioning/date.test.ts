import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { type DType, datetime64, NAT, type TimeUnit } from "../../src/dtype.js";
import { PartitionError } from "../../src/errors.js";
import { NDArray } from "../../src/ndarray.js";
import { DatePartitioning, type Resolution } from "../../src/partitioning/date.js";
import type { PartitionKey, SplittableDataset } from "../../src/partitioning/partitioning.js";

/** A dataset with one datetime64 variable `time` along `time`. */
function times(isoStrings: readonly string[], unit: TimeUnit): SplittableDataset {
  const data = BigInt64Array.from(isoStrings.map((s) => datetime64(s, unit)));
  return dataset({ time: NDArray.from(data, { dtype: `datetime64[${unit}]` }) });
}

function dataset(vars: Record<string, unknown>, dims: readonly string[] = ["time"]): SplittableDataset {
  return { variables: new Map(Object.entries(vars).map(([k, data]) => [k, { dimensions: dims, data }])) };
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

const FIELDS = ["year", "month", "day", "hour", "minute", "second"];
const key = (...values: number[]): PartitionKey => values.map((v, i) => [FIELDS[i] as string, v] as const);

describe("Date: construction (docs/behaviour.md §6.3)", () => {
  it("names the components down to the resolution", () => {
    const axes: Record<Resolution, string[]> = {
      Y: ["year"],
      M: ["year", "month"],
      D: ["year", "month", "day"],
      h: ["year", "month", "day", "hour"],
      m: ["year", "month", "day", "hour", "minute"],
      s: FIELDS,
    };
    for (const [resolution, axis] of Object.entries(axes)) {
      const p = new DatePartitioning("time", { resolution: resolution as Resolution });
      assert.deepEqual(p.axis, axis);
      assert.equal(p.name, "date");
      assert.equal(p.resolution, resolution);
    }
  });

  it("defaults the dimension to the variable and accepts a one-element array", () => {
    assert.equal(new DatePartitioning("time", { resolution: "D" }).dimension, "time");
    assert.equal(new DatePartitioning(["time"], { resolution: "D", dimension: "num" }).dimension, "num");
    assert.equal(new DatePartitioning("time", { resolution: "D", dimension: null }).dimension, "time");
  });

  it("refuses anything but one variable and the six resolutions", () => {
    assert.equal(
      partitionError(() => new DatePartitioning(["a", "b"], { resolution: "D" })).message,
      "Date takes exactly one variable; got ['a', 'b']",
    );
    partitionError(() => new DatePartitioning([], { resolution: "D" }));
    assert.equal(
      partitionError(() => new DatePartitioning("time", { resolution: "W" as Resolution })).message,
      "unsupported resolution 'W'; choose from ('Y', 'M', 'D', 'h', 'm', 's')",
    );
    partitionError(() => new DatePartitioning("a/b", { resolution: "D" }));
  });

  it("serialises to docs/format.md §3.6 with the key order of Python", () => {
    const p = new DatePartitioning("time", { resolution: "M" });
    assert.equal(JSON.stringify(p), '{"name":"date","variable":"time","resolution":"M","dimension":"time"}');
    const q = new DatePartitioning("t", { resolution: "s", dimension: "num" });
    assert.equal(
      JSON.stringify(q.toJSON()),
      '{"name":"date","variable":"t","resolution":"s","dimension":"num"}',
    );
  });
});

describe("Date: split", () => {
  it("buckets milliseconds by day, one run per consecutive bucket, in row order", () => {
    const ds = times(
      [
        "2024-03-05T10:20:30.123",
        "2024-03-05T23:59:59.999",
        "2024-03-06T00:00:00",
        "2024-03-05T01:00",
        "2024-03-07",
      ],
      "ms",
    );
    const p = new DatePartitioning("time", { resolution: "D" });
    assert.deepEqual(p.split(ds), [
      [key(2024, 3, 5), { start: 0, stop: 2 }],
      [key(2024, 3, 6), { start: 2, stop: 3 }],
      [key(2024, 3, 5), { start: 3, stop: 4 }],
      [key(2024, 3, 7), { start: 4, stop: 5 }],
    ]);
  });

  it("gathers the rows of a key that are not contiguous (docs/behaviour.md §18 #1)", () => {
    const ds = times(["2024-03-05T10", "2024-03-06", "2024-03-05T11", "2024-03-07", "2024-03-06T12"], "s");
    const groups = new DatePartitioning("time", { resolution: "D" }).splitGrouped(ds);
    assert.deepEqual(
      groups.map((g) => [g.path, g.rows === null ? null : [...g.rows], g.start, g.stop]),
      [
        ["year=2024/month=03/day=05", [0, 2], 0, 3],
        ["year=2024/month=03/day=06", [1, 4], 1, 5],
        ["year=2024/month=03/day=07", null, 3, 4],
      ],
    );
    assert.deepEqual(groups[0]?.key, key(2024, 3, 5));
  });

  it("handles leap days and century years", () => {
    const ds = times(
      [
        "2024-02-28T23:59:59",
        "2024-02-29T00:00:00",
        "2024-03-01",
        "2023-02-28T12",
        "2023-03-01",
        "1900-02-28",
        "1900-03-01",
        "2000-02-29",
      ],
      "s",
    );
    const p = new DatePartitioning("time", { resolution: "D" });
    assert.deepEqual(
      p.splitGrouped(ds).map((g) => g.path),
      [
        "year=2024/month=02/day=28",
        "year=2024/month=02/day=29",
        "year=2024/month=03/day=01",
        "year=2023/month=02/day=28",
        "year=2023/month=03/day=01",
        "year=1900/month=02/day=28",
        "year=1900/month=03/day=01",
        "year=2000/month=02/day=29",
      ],
    );
    // The day after 2024-02-28T23:59:59 is the leap day: 86 400 s later.
    const leap = dataset({
      time: NDArray.from(BigInt64Array.from([datetime64("2024-02-28", "s") + 86_400n]), {
        dtype: "datetime64[s]",
      }),
    });
    assert.deepEqual(p.split(leap)[0]?.[0], key(2024, 2, 29));
  });

  it("floors instants before 1970: 1969-12-31T23:59:59.5 is second 59 of 1969", () => {
    const p = new DatePartitioning("time", { resolution: "s" });
    for (const [unit, value] of [
      ["ms", -500n],
      ["us", -500_000n],
      ["ns", -500_000_000n],
    ] as const) {
      const ds = dataset({
        time: NDArray.from(BigInt64Array.from([value]), { dtype: `datetime64[${unit}]` }),
      });
      assert.deepEqual(p.split(ds), [[key(1969, 12, 31, 23, 59, 59), { start: 0, stop: 1 }]]);
    }
    const ms = times(["1969-12-31T23:59:59.500", "1969-12-31T23:59:59.999", "1970-01-01T00:00:00"], "ms");
    assert.deepEqual(
      p
        .split(ms)
        .map(([k, s]) => [new DatePartitioning("t", { resolution: "s" }).encode(k), s.start, s.stop]),
      [
        ["year=1969/month=12/day=31/hour=23/minute=59/second=59", 0, 2],
        ["year=1970/month=01/day=01/hour=00/minute=00/second=00", 2, 3],
      ],
    );
  });

  it("handles years before 1000 and before year 0 with Python padding", () => {
    const ds = times(["0999-06-01T05", "0000-01-01", "-0001-12-31T23", "1492-10-12"], "h");
    const p = new DatePartitioning("time", { resolution: "M" });
    assert.deepEqual(
      p.split(ds).map(([k]) => [k, p.encode(k)]),
      [
        [key(999, 6), "year=0999/month=06"],
        [key(0, 1), "year=0000/month=01"],
        [key(-1, 12), "year=-001/month=12"],
        [key(1492, 10), "year=1492/month=10"],
      ],
    );
  });

  it("accepts every datetime64 unit", () => {
    const iso = ["2024-03-05T10:20:30", "2024-03-05T10:20:31", "2024-04-01", "1999-12-31T23:59:59"];
    const byMonth = [
      [key(2024, 3), 0, 2],
      [key(2024, 4), 2, 3],
      [key(1999, 12), 3, 4],
    ];
    const p = new DatePartitioning("time", { resolution: "M" });
    for (const unit of ["s", "ms", "us", "ns"] as const) {
      assert.deepEqual(
        p.split(times(iso, unit)).map(([k, s]) => [k, s.start, s.stop]),
        byMonth,
        unit,
      );
    }
    // Coarse units: days, months (since 1970-01) and years.
    const days = dataset({
      time: NDArray.from(BigInt64Array.from([0n, 1n, -1n, 19_787n]), { dtype: "datetime64[D]" }),
    });
    assert.deepEqual(
      new DatePartitioning("time", { resolution: "h" }).split(days).map(([k]) => k),
      [key(1970, 1, 1, 0), key(1970, 1, 2, 0), key(1969, 12, 31, 0), key(2024, 3, 5, 0)],
    );
    const months = dataset({
      time: NDArray.from(BigInt64Array.from([0n, 11n, 12n, -1n, 650n]), { dtype: "datetime64[M]" }),
    });
    assert.deepEqual(
      new DatePartitioning("time", { resolution: "Y" }).split(months).map(([k, s]) => [k, s.start, s.stop]),
      [
        [key(1970), 0, 2],
        [key(1971), 2, 3],
        [key(1969), 3, 4],
        [key(2024), 4, 5],
      ],
    );
    assert.deepEqual(
      new DatePartitioning("time", { resolution: "D" }).split(months).map(([k]) => k),
      [key(1970, 1, 1), key(1970, 12, 1), key(1971, 1, 1), key(1969, 12, 1), key(2024, 3, 1)],
    );
    const years = dataset({
      time: NDArray.from(BigInt64Array.from([54n, -971n]), { dtype: "datetime64[Y]" }),
    });
    assert.deepEqual(
      new DatePartitioning("time", { resolution: "M" }).split(years).map(([k]) => k),
      [key(2024, 1), key(999, 1)],
    );
  });

  it("yields nothing for empty input", () => {
    const p = new DatePartitioning("time", { resolution: "D" });
    assert.deepEqual(p.split(times([], "ns")), []);
    assert.deepEqual(p.splitGrouped(times([], "ns")), []);
  });

  it("refuses NaT, naming the variable and the row (docs/behaviour.md §18 #9)", () => {
    const data = BigInt64Array.from([datetime64("2024-01-01", "ns"), datetime64("2024-01-01T01", "ns"), NAT]);
    const err = partitionError(() =>
      new DatePartitioning("time", { resolution: "D" }).split(
        dataset({ time: NDArray.from(data, { dtype: "datetime64[ns]" }) }),
      ),
    );
    assert.equal(
      err.message,
      "variable 'time' holds NaT at row 2; Date partitioning needs a valid date on every row",
    );
    assert.equal(err.variable, "time");
    // NaT inside the bucket bounds of the earliest representable year is still caught.
    const early = BigInt64Array.from([NAT + 1n, NAT]);
    const err2 = partitionError(() =>
      new DatePartitioning("time", { resolution: "Y" }).split(
        dataset({ time: NDArray.from(early, { dtype: "datetime64[ns]" }) }),
      ),
    );
    assert.match(err2.message, /at row 1;/);
  });

  it("refuses missing, multi-dimensional, lazy and non-datetime variables (docs/behaviour.md §6.3)", () => {
    const p = new DatePartitioning("time", { resolution: "D" });
    const values = NDArray.from(BigInt64Array.from([0n]), { dtype: "datetime64[s]" });
    assert.equal(
      partitionError(() => p.split(dataset({ other: values }))).message,
      "variable 'time' required for Date partitioning is missing",
    );
    assert.equal(
      partitionError(() => p.split(dataset({ time: values }, ["time", "x"]))).message,
      "Date variable 'time' must be 1-D along 'time'; got dims=('time', 'x')",
    );
    assert.equal(
      partitionError(() => p.split(dataset({ time: values }, ["num"]))).message,
      "Date variable 'time' must be 1-D along 'time'; got dims=('num',)",
    );
    assert.equal(
      partitionError(() => p.split(dataset({ time: null }))).message,
      "variable 'time' must be loaded in memory to partition",
    );
    partitionError(() => p.split(dataset({ time: { shape: [1] } })));
    for (const dtype of ["int64", "float64", "timedelta64[s]"] as DType[]) {
      const err = partitionError(() => p.split(dataset({ time: NDArray.from([1], { dtype }) })));
      assert.equal(
        err.message,
        `Date partitioning requires datetime64 values; got dtype ${dtype} for variable 'time'`,
      );
      assert.equal(err.variable, "time");
    }
  });

  it("agrees with the JavaScript Date calendar on random instants of every unit", () => {
    // `v` is a count of seconds within ±253 000 years (JavaScript Date covers ±275 000);
    // each unit maps it to its ticks (ns within its ±292-year int64 range) and back to floored ms.
    const floorDiv = (a: bigint, b: bigint) => a / b - (a % b < 0n ? 1n : 0n);
    const units: Record<TimeUnit, { ticks: (v: bigint) => bigint; ms: (t: bigint) => bigint }> = {
      Y: {
        ticks: (v) => v / 31_556_952n,
        ms: (t) => BigInt(new Date(0).setUTCFullYear(1970 + Number(t), 0, 1)),
      },
      M: { ticks: (v) => v / 2_629_746n, ms: (t) => BigInt(Date.UTC(1970, Number(t), 1)) },
      D: { ticks: (v) => v / 86_400n, ms: (t) => t * 86_400_000n },
      h: { ticks: (v) => v / 3_600n, ms: (t) => t * 3_600_000n },
      m: { ticks: (v) => v / 60n, ms: (t) => t * 60_000n },
      s: { ticks: (v) => v, ms: (t) => t * 1000n },
      ms: { ticks: (v) => v * 1000n + (v % 1000n), ms: (t) => t },
      us: { ticks: (v) => v * 1_000_000n + (v % 1_000_000n), ms: (t) => floorDiv(t, 1000n) },
      ns: {
        ticks: (v) => (v % 9_000_000_000n) * 1_000_000_000n + (v % 1_000_000_000n),
        ms: (t) => floorDiv(t, 1_000_000n),
      },
    };
    fc.assert(
      fc.property(
        fc.constantFrom(...(Object.keys(units) as TimeUnit[])),
        fc.constantFrom<Resolution>("Y", "M", "D", "h", "m", "s"),
        fc.array(fc.bigInt({ min: -8_000_000_000_000n, max: 8_000_000_000_000n }), {
          minLength: 1,
          maxLength: 20,
        }),
        (unit, resolution, seconds) => {
          const { ticks: toTicks, ms: toMs } = units[unit];
          const ticks = seconds.map(toTicks);
          const ds = dataset({
            time: NDArray.from(BigInt64Array.from(ticks), { dtype: `datetime64[${unit}]` }),
          });
          const p = new DatePartitioning("time", { resolution });
          const perRow: PartitionKey[] = [];
          for (const [k, { start, stop }] of p.split(ds)) for (let r = start; r < stop; r++) perRow[r] = k;
          assert.equal(perRow.length, ticks.length);
          ticks.forEach((t, row) => {
            const d = new Date(Number(toMs(t)));
            const fields = [
              d.getUTCFullYear(),
              d.getUTCMonth() + 1,
              d.getUTCDate(),
              d.getUTCHours(),
              d.getUTCMinutes(),
              d.getUTCSeconds(),
            ];
            assert.deepEqual(
              perRow[row]?.map(([, v]) => v),
              fields.slice(0, p.axis.length),
            );
          });
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe("Date: paths (docs/format.md §4.1, §4.2)", () => {
  const p = new DatePartitioning("time", { resolution: "s" });

  it("encodes zero-padded components, the sign counting toward the width", () => {
    assert.equal(
      p.encode(key(2024, 3, 5, 10, 20, 30)),
      "year=2024/month=03/day=05/hour=10/minute=20/second=30",
    );
    assert.equal(p.encode(key(999, 1, 1, 0, 0, 0)), "year=0999/month=01/day=01/hour=00/minute=00/second=00");
    assert.equal(new DatePartitioning("t", { resolution: "Y" }).encode([["year", -5]]), "year=-005");
    assert.equal(new DatePartitioning("t", { resolution: "Y" }).encode([["year", 12345]]), "year=12345");
  });

  it("refuses keys whose components differ from the resolution's", () => {
    const m = new DatePartitioning("t", { resolution: "M" });
    assert.equal(
      partitionError(() => m.encode([["year", 2024]])).message,
      "cannot encode key (year=2024): the date partitioning expects the components ('year', 'month')",
    );
    partitionError(() =>
      m.encode([
        ["month", 3],
        ["year", 2024],
      ]),
    );
    partitionError(() =>
      m.encode([
        ["year", 2024],
        ["month", 1.5],
      ]),
    );
  });

  it("decodes like Python int(): leading zeros, '+', '_', whitespace", () => {
    assert.deepEqual(p.decode("year=2024/month=03"), [
      ["year", 2024],
      ["month", 3],
    ]);
    assert.deepEqual(p.decode("/year=+2_024/month= 03 //"), [
      ["year", 2024],
      ["month", 3],
    ]);
    assert.deepEqual(p.decode("year=-005"), [["year", -5]]);
    // Split at the first '=': the value of `a` is `b=1`, not an integer.
    assert.match(partitionError(() => p.decode("a=b=1")).message, /invalid value 'b=1' for 'a'/);
    // Names and count are not checked (docs/format.md §4.2).
    assert.deepEqual(p.decode("foo=1/bar=2/baz=3"), [
      ["foo", 1],
      ["bar", 2],
      ["baz", 3],
    ]);
  });

  it("refuses segments without '=' and values that are not integers, naming the path", () => {
    const err = partitionError(() => p.decode("year=2024/junk"));
    assert.equal(err.message, "invalid partition path segment 'junk' in 'year=2024/junk'");
    assert.equal(err.path, "year=2024/junk");
    for (const path of [
      "year=abc",
      "year=1.5",
      "year=",
      "year=1__0",
      "year=_1",
      "year=99999999999999999",
      "",
    ]) {
      assert.equal(partitionError(() => p.decode(path)).path, path);
    }
    assert.equal(
      partitionError(() => p.decode("year=2024/month=x3")).message,
      "invalid value 'x3' for 'month' in partition path 'year=2024/month=x3': not an integer",
    );
  });

  it("round-trips random keys, negative years included", () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Resolution>("Y", "M", "D", "h", "m", "s"),
        fc.array(fc.integer({ min: -99_999, max: 99_999 }), { minLength: 6, maxLength: 6 }),
        (resolution, values) => {
          const d = new DatePartitioning("time", { resolution });
          const k = key(...values.slice(0, d.axis.length));
          assert.deepEqual(d.decode(d.encode(k)), k);
        },
      ),
    );
  });
});
