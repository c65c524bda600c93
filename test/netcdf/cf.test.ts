import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { datetime64, formatDatetime64, NAT } from "../../src/dtype.js";
import { isZCollectionError, SchemaError } from "../../src/errors.js";
import { NDArray } from "../../src/ndarray.js";
import {
  checkCalendar,
  decodeTimes,
  decodeVariable,
  fillMatcher,
  isTimeUnits,
  parseEpoch,
  parseTimeUnits,
  unpack,
} from "../../src/netcdf/cf.js";
import type { Attributes } from "../../src/netcdf/types.js";

const ns = (iso: string) => datetime64(iso, "ns");
const iso = (v: bigint | number | string | boolean) => formatDatetime64(v as bigint, "ns");

function variable(data: NDArray, attrs: Attributes, name = "v") {
  return { name, path: `/${name}`, dimensions: data.shape.map((_, i) => `d${i}`), data, attrs };
}

describe("parseTimeUnits", () => {
  const cases: [string, string, string][] = [
    ["seconds since 2000-01-01 00:00:00.0", "seconds", "2000-01-01T00:00:00"],
    ["days since 1950-01-01", "days", "1950-01-01T00:00:00"],
    ["seconds since 1990-01-01 00:00:00", "seconds", "1990-01-01T00:00:00"],
    ["days since 1950-01-01 00:00:00 UTC", "days", "1950-01-01T00:00:00"],
    ["hours since 2000-01-01T00:00:00Z", "hours", "2000-01-01T00:00:00"],
    ["s since 2000-1-1 0:0:0", "seconds", "2000-01-01T00:00:00"],
    ["sec since 2000-01-01", "seconds", "2000-01-01T00:00:00"],
    ["d since 2000-01-01", "days", "2000-01-01T00:00:00"],
    ["Minutes Since 2010-06-30 12:30", "minutes", "2010-06-30T12:30:00"],
    ["milliseconds since 1970-01-01 00:00:00.5", "milliseconds", "1970-01-01T00:00:00.5"],
    ["UTC seconds since 00:00:00 1-Jan-2000", "seconds", "2000-01-01T00:00:00"],
    ["seconds since 2000-01-01 06:00:00 +06:00", "seconds", "2000-01-01T00:00:00"],
  ];
  for (const [text, unit, epoch] of cases) {
    it(`parses '${text}'`, () => {
      const parsed = parseTimeUnits(text);
      assert.ok(parsed, text);
      assert.equal(parsed.unit, unit);
      assert.equal(parsed.epochNs, ns(epoch));
    });
  }

  it("gives the tick length in ns", () => {
    assert.equal(parseTimeUnits("days since 2000-01-01")?.tickNs, 86_400_000_000_000n);
    assert.equal(parseTimeUnits("us since 2000-01-01")?.tickNs, 1_000n);
  });

  it("refuses what is not '<fixed unit> since <date>'", () => {
    for (const text of [
      "months since 2000-01-01",
      "years since 2000-01-01",
      "seconds after 2000-01-01",
      "seconds since yesterday",
      "seconds since 2000-13-01",
      "fortnights since 2000-01-01",
      "m",
    ]) {
      assert.equal(parseTimeUnits(text), undefined, text);
    }
  });

  it("recognises time units by the word 'since'", () => {
    assert.equal(isTimeUnits("seconds since 2000-01-01"), true);
    assert.equal(isTimeUnits("UTC seconds since 00:00:00 1-Jan-2000"), true);
    assert.equal(isTimeUnits("m s-1"), false);
    assert.equal(isTimeUnits("sincere"), false);
    assert.equal(isTimeUnits(undefined), false);
  });

  it("parses clock-first epochs with every month name", () => {
    assert.equal(parseEpoch("12:34:56 29-Feb-2012"), ns("2012-02-29T12:34:56"));
    assert.equal(parseEpoch("00:00:00 31-Dec-1999"), ns("1999-12-31"));
    assert.equal(parseEpoch("00:00:00 1-Foo-2000"), undefined);
  });
});

describe("checkCalendar", () => {
  const epoch = ns("2000-01-01");
  it("accepts the Gregorian family in any case, and no calendar", () => {
    for (const c of [undefined, "gregorian", "Gregorian", "STANDARD", "proleptic_gregorian"]) {
      assert.doesNotThrow(() => checkCalendar(c, epoch, "/time", "f.nc"));
    }
  });
  it("refuses other calendars, naming the variable, the calendar and the file", () => {
    for (const c of ["noleap", "360_day", "julian", "all_leap"]) {
      assert.throws(
        () => checkCalendar(c, epoch, "/time", "f.nc"),
        (err: unknown) =>
          err instanceof SchemaError &&
          err.variable === "/time" &&
          err.message.includes(`'${c}'`) &&
          err.message.includes("'/time'") &&
          err.message.includes("'f.nc'"),
      );
    }
  });
  it("refuses a mixed Julian/Gregorian calendar before 1582-10-15 but not the proleptic one", () => {
    const early = ns("1500-01-01");
    assert.throws(() => checkCalendar("standard", early, "/t"), SchemaError);
    assert.doesNotThrow(() => checkCalendar("proleptic_gregorian", early, "/t"));
  });
});

describe("decodeTimes", () => {
  const units = parseTimeUnits("seconds since 2000-01-01 00:00:00.0")!;

  it("rounds float seconds to the nearest microsecond", () => {
    // 64390026.819278955 s is not exactly representable; its float product with 1e9 is not a whole µs.
    const data = NDArray.from(new Float64Array([64390026.819278955, 0.0000004, 0.0000006, -0.5]));
    const out = decodeTimes(data, units, [], "/time");
    assert.equal(out.dtype, "datetime64[ns]");
    assert.deepEqual(out.toArray().map(iso), [
      "2002-01-15T06:07:06.819279000",
      "2000-01-01T00:00:00.000000000",
      "2000-01-01T00:00:00.000001000",
      "1999-12-31T23:59:59.500000000",
    ]);
  });

  it("converts integers exactly, in every unit", () => {
    const days = parseTimeUnits("days since 1950-01-01")!;
    const out = decodeTimes(NDArray.from(new Int32Array([0, 20089, -1])), days, [], "/t");
    assert.deepEqual(out.toArray().map(iso), [
      "1950-01-01T00:00:00.000000000",
      "2005-01-01T00:00:00.000000000",
      "1949-12-31T00:00:00.000000000",
    ]);
    const big = decodeTimes(
      NDArray.from(new BigInt64Array([1n, 1_000_000_001n])),
      parseTimeUnits("ns since 2000-01-01")!,
      [],
      "/t",
    );
    assert.deepEqual(big.toArray(), [ns("2000-01-01") + 1n, ns("2000-01-01") + 1_000_000_001n]);
  });

  it("turns fill values and NaN into NaT", () => {
    const data = NDArray.from(new Float64Array([1, Number.NaN, 1.8446744073709552e19, 2]));
    const out = decodeTimes(data, units, [1.8446744073709552e19], "/time_20hz");
    assert.deepEqual(out.toArray(), [ns("2000-01-01T00:00:01"), NAT, NAT, ns("2000-01-01T00:00:02")]);
    const ints = decodeTimes(NDArray.from(new Int32Array([5, -2147483647])), units, [-2147483647], "/t");
    assert.deepEqual(ints.toArray(), [ns("2000-01-01T00:00:05"), NAT]);
  });

  it("refuses values outside the datetime64[ns] range, naming the variable", () => {
    assert.throws(
      () => decodeTimes(NDArray.from(new Float64Array([1e12])), units, [], "/time", "f.nc"),
      (err: unknown) =>
        err instanceof SchemaError &&
        err.variable === "/time" &&
        /outside the datetime64\[ns\] range/.test(err.message),
    );
    assert.throws(
      () => decodeTimes(NDArray.from(new Float64Array([Number.POSITIVE_INFINITY])), units, [], "/t"),
      SchemaError,
    );
  });

  it("keeps the shape", () => {
    const out = decodeTimes(
      NDArray.from(new Int32Array([1, 2, 3, 4, 5, 6]), { shape: [2, 3] }),
      units,
      [],
      "/t",
    );
    assert.deepEqual(out.shape, [2, 3]);
    assert.equal(out.get(1, 2), ns("2000-01-01T00:00:06"));
  });
});

describe("unpack and fill matching", () => {
  it("computes raw * scale + offset in float64 and masks fills", () => {
    const out = unpack(
      NDArray.from(new Int32Array([542525185, 2147483647, 0])),
      0.0001,
      1300000,
      [2147483647],
    );
    assert.equal(out.dtype, "float64");
    assert.deepEqual(out.toArray(), [542525185 * 0.0001 + 1300000, Number.NaN, 1300000]);
  });
  it("matches float32 fills in float32 precision and NaN always", () => {
    const is = fillMatcher("float32", [1e20]);
    assert.equal(is(Math.fround(1e20)), true);
    assert.equal(is(Number.NaN), true);
    assert.equal(is(1), false);
    const ints = fillMatcher("int16", [32767]);
    assert.equal(ints(32767), true);
    assert.equal(ints(Number.NaN), false);
    const big = fillMatcher("int64", [-1n, 5]);
    assert.equal(big(-1n), true);
    assert.equal(big(5n), true);
    assert.equal(big(6n), false);
  });
});

describe("decodeVariable", () => {
  it("unpacks a packed integer variable to float64 and drops the packing attributes", () => {
    const v = decodeVariable(
      variable(NDArray.from(new Int16Array([1, 32767, -3])), {
        scale_factor: 0.001,
        _FillValue: 32767,
        units: "m",
        long_name: "sea surface height anomaly",
      }),
    );
    assert.equal(v.dtype, "float64");
    assert.deepEqual(v.data.toArray(), [0.001, Number.NaN, -0.003]);
    assert.ok(Number.isNaN(v.fillValue as number));
    assert.deepEqual(v.attrs, { units: "m", long_name: "sea surface height anomaly" });
  });

  it("also masks every missing_value", () => {
    const v = decodeVariable(
      variable(NDArray.from(new Int16Array([1, -1, -2, 4])), {
        add_offset: 10,
        _FillValue: -1,
        missing_value: [-2, -3],
      }),
    );
    assert.deepEqual(v.data.toArray(), [11, Number.NaN, Number.NaN, 14]);
    assert.deepEqual(v.attrs, {});
  });

  it("keeps packed integers with keepPacked", () => {
    const v = decodeVariable(
      variable(NDArray.from(new Int16Array([1, 32767])), {
        scale_factor: 0.001,
        add_offset: 2,
        _FillValue: 32767,
      }),
      { keepPacked: true },
    );
    assert.equal(v.dtype, "int16");
    assert.deepEqual(v.data.toArray(), [1, 32767]);
    assert.equal(v.fillValue, 32767);
    assert.deepEqual(v.attrs, { scale_factor: 0.001, add_offset: 2 });
  });

  it("masks float fill values with NaN in the float's own type", () => {
    const v = decodeVariable(
      variable(NDArray.from(new Float32Array([1.5, 99999, 2])), { _FillValue: 99999 }),
    );
    assert.equal(v.dtype, "float32");
    assert.deepEqual(v.data.toArray(), [1.5, Number.NaN, 2]);
    assert.ok(Number.isNaN(v.fillValue as number));
    assert.deepEqual(v.attrs, {});
  });

  it("leaves NaN-only floats and plain integers alone", () => {
    const f = decodeVariable(variable(NDArray.from(new Float64Array([Number.NaN, 1])), { units: "m" }));
    assert.equal(f.fillValue, null);
    assert.deepEqual(f.attrs, { units: "m" });
    const i = decodeVariable(
      variable(NDArray.from(new Int8Array([-128, 3])), { _FillValue: -128, valid_min: 0 }),
    );
    assert.equal(i.dtype, "int8");
    assert.deepEqual(i.data.toArray(), [-128, 3]);
    assert.equal(i.fillValue, -128);
    assert.deepEqual(i.attrs, { valid_min: 0 });
  });

  it("uses missing_value as the fill of an integer without _FillValue, and drops it when equal", () => {
    const a = decodeVariable(variable(NDArray.from(new Int32Array([1])), { missing_value: -9 }));
    assert.equal(a.fillValue, -9);
    assert.deepEqual(a.attrs, {});
    const b = decodeVariable(
      variable(NDArray.from(new Int32Array([1])), { _FillValue: -1, missing_value: -9 }),
    );
    assert.equal(b.fillValue, -1);
    assert.deepEqual(b.attrs, { missing_value: -9 });
  });

  it("gives 64-bit integers a bigint fill value", () => {
    const v = decodeVariable(variable(NDArray.from(new BigInt64Array([1n, -1n])), { _FillValue: -1n }));
    assert.equal(v.fillValue, -1n);
  });

  it("reinterprets _Unsigned bytes", () => {
    const v = decodeVariable(
      variable(NDArray.from(new Int8Array([1, -1, -2])), { _Unsigned: "true", _FillValue: -1 }),
    );
    assert.equal(v.dtype, "uint8");
    assert.deepEqual(v.data.toArray(), [1, 255, 254]);
    assert.equal(v.fillValue, 255);
    assert.deepEqual(v.attrs, {});
    const s = decodeVariable(variable(NDArray.from(new Uint16Array([65535])), { _Unsigned: "false" }));
    assert.equal(s.dtype, "int16");
    assert.deepEqual(s.data.toArray(), [-1]);
  });

  it("decodes times, dropping units and calendar, with NaT as fill", () => {
    const v = decodeVariable(
      variable(NDArray.from(new Float64Array([0, 86400.5, -1])), {
        units: "seconds since 2000-01-01",
        calendar: "gregorian",
        _FillValue: -1,
        standard_name: "time",
      }),
    );
    assert.equal(v.dtype, "datetime64[ns]");
    assert.deepEqual(v.data.toArray(), [ns("2000-01-01"), ns("2000-01-02T00:00:00.5"), NAT]);
    assert.equal(v.fillValue, NAT);
    assert.deepEqual(v.attrs, { standard_name: "time" });
  });

  it("unpacks packed times before decoding them", () => {
    const v = decodeVariable(
      variable(NDArray.from(new Int16Array([2, 32767])), {
        units: "days since 2000-01-01",
        scale_factor: 0.5,
        _FillValue: 32767,
      }),
    );
    assert.deepEqual(v.data.toArray(), [ns("2000-01-02"), NAT]);
  });

  it("leaves times encoded with decodeTimes: false", () => {
    const v = decodeVariable(
      variable(NDArray.from(new Float64Array([1])), { units: "seconds since 2000-01-01" }),
      {
        decodeTimes: false,
      },
    );
    assert.equal(v.dtype, "float64");
    assert.deepEqual(v.attrs, { units: "seconds since 2000-01-01" });
  });

  it("names the variable, the units and the file when time units cannot be parsed", () => {
    assert.throws(
      () =>
        decodeVariable(
          variable(NDArray.from(new Float64Array([1])), { units: "seconds since the big bang" }, "time"),
          {
            source: "product.nc",
          },
        ),
      (err: unknown) =>
        isZCollectionError(err, "SchemaError") &&
        err.message ===
          "variable '/time' of 'product.nc': unparseable time units 'seconds since the big bang'",
    );
  });

  it("refuses a non-numeric scale_factor", () => {
    assert.throws(
      () =>
        decodeVariable(variable(NDArray.from(new Int16Array([1])), { scale_factor: [1, 2] }, "x"), {
          source: "a.nc",
        }),
      /variable '\/x' of 'a.nc': attribute 'scale_factor' must be one number/,
    );
  });

  it("does not touch string variables beyond dropping _FillValue", () => {
    const v = decodeVariable(
      variable(NDArray.from(["a", "b"]), { _FillValue: " ", scale_factor: 2, comment: "c" }),
    );
    assert.equal(v.dtype, "string");
    assert.equal(v.fillValue, null);
    assert.deepEqual(v.attrs, { scale_factor: 2, comment: "c" });
  });

  it("does not modify the input attributes or data", () => {
    const attrs: Attributes = { scale_factor: 2, _FillValue: 9 };
    const data = NDArray.from(new Int16Array([1, 9]));
    decodeVariable(variable(data, attrs));
    assert.deepEqual(attrs, { scale_factor: 2, _FillValue: 9 });
    assert.deepEqual(data.toArray(), [1, 9]);
    const floats = NDArray.from(new Float64Array([9, 1]));
    decodeVariable(variable(floats, { _FillValue: 9 }));
    assert.deepEqual(floats.toArray(), [9, 1]);
  });
});
