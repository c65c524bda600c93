import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  allocate,
  type DType,
  datetime64,
  formatDatetime64,
  fromNanoseconds,
  fromNumpyDtype,
  fromZarrDataType,
  isDType,
  itemSize,
  NAT,
  TIME_UNITS,
  toNanoseconds,
  toNumpyDtype,
  toZarrDataType,
} from "../../src/dtype.js";
import { SchemaError } from "../../src/errors.js";

const NUMPY: Array<[DType, string]> = [
  ["bool", "|b1"],
  ["int8", "|i1"],
  ["uint8", "|u1"],
  ["int16", "<i2"],
  ["uint16", "<u2"],
  ["int32", "<i4"],
  ["uint32", "<u4"],
  ["int64", "<i8"],
  ["uint64", "<u8"],
  ["float32", "<f4"],
  ["float64", "<f8"],
  ["string", "|O"],
  ...TIME_UNITS.map((u): [DType, string] => [`datetime64[${u}]`, `<M8[${u}]`]),
  ...TIME_UNITS.map((u): [DType, string] => [`timedelta64[${u}]`, `<m8[${u}]`]),
];

describe("numpy dtype strings (docs/format.md §3.5)", () => {
  for (const [dtype, str] of NUMPY) {
    it(`${dtype} <-> ${str}`, () => {
      assert.equal(toNumpyDtype(dtype), str);
      assert.equal(fromNumpyDtype(str), dtype);
    });
  }
  it("accepts every byte-order prefix and bare names", () => {
    assert.equal(fromNumpyDtype(">f4"), "float32");
    assert.equal(fromNumpyDtype("=i8"), "int64");
    assert.equal(fromNumpyDtype("i2"), "int16");
    assert.equal(fromNumpyDtype("float64"), "float64");
    assert.equal(fromNumpyDtype(">M8[s]"), "datetime64[s]");
  });
  it("reads every numpy Unicode string dtype as string", () => {
    for (const str of ["<U0", "<U26", ">U5", "=U3", "U", "|O", "O", "StringDType()", "|T16"]) {
      assert.equal(fromNumpyDtype(str), "string", str);
    }
  });
  it("rejects unknown and unsupported dtypes naming them", () => {
    for (const bad of ["<f2", "<c8", "|S5", "|V8", "<U-1", "<M8", "<M8[ps]", "nonsense", ""]) {
      assert.throws(
        () => fromNumpyDtype(bad),
        (e: unknown) => e instanceof SchemaError && e.message.includes(`'${bad}'`),
      );
    }
  });
});

describe("Zarr v3 data types (docs/format.md §6.2)", () => {
  for (const [dtype] of NUMPY) {
    it(`${dtype} round trip`, () => {
      const zarr = toZarrDataType(dtype);
      assert.deepEqual(fromZarrDataType(JSON.parse(JSON.stringify(zarr))), { dtype, scaleFactor: 1 });
    });
  }
  it("writes zarr-python's numpy.datetime64 extension", () => {
    assert.deepEqual(toZarrDataType("datetime64[ns]"), {
      name: "numpy.datetime64",
      configuration: { unit: "ns", scale_factor: 1 },
    });
    assert.deepEqual(toZarrDataType("timedelta64[ms]"), {
      name: "numpy.timedelta64",
      configuration: { unit: "ms", scale_factor: 1 },
    });
    assert.equal(toZarrDataType("float32"), "float32");
  });
  it("honours scale_factor on read", () => {
    assert.deepEqual(
      fromZarrDataType({ name: "numpy.datetime64", configuration: { unit: "s", scale_factor: 10 } }),
      {
        dtype: "datetime64[s]",
        scaleFactor: 10,
      },
    );
  });
  it("reads zarr-python's string data types as string", () => {
    assert.deepEqual(fromZarrDataType("string"), { dtype: "string", scaleFactor: 1 });
    assert.deepEqual(fromZarrDataType("variable_length_utf8"), { dtype: "string", scaleFactor: 1 });
    for (const n of [0, 4, 104, 2147483644]) {
      assert.deepEqual(fromZarrDataType({ name: "fixed_length_utf32", configuration: { length_bytes: n } }), {
        dtype: "string",
        scaleFactor: 1,
        fixedLengthBytes: n,
      });
    }
  });
  it("rejects float16, complex, byte strings and invalid fixed_length_utf32 widths", () => {
    for (const bad of [
      "float16",
      "complex64",
      { name: "null_terminated_bytes", configuration: { length_bytes: 4 } },
      "variable_length_bytes",
      { name: "fixed_length_utf32", configuration: { length_bytes: 6 } },
      { name: "fixed_length_utf32", configuration: { length_bytes: -4 } },
      { name: "fixed_length_utf32", configuration: { length_bytes: 2147483648 } },
      { name: "fixed_length_utf32", configuration: {} },
      { name: "fixed_length_utf32" },
    ]) {
      assert.throws(() => fromZarrDataType(bad), /unsupported data type/, JSON.stringify(bad));
    }
  });
});

describe("storage", () => {
  it("item sizes and typed arrays", () => {
    assert.equal(itemSize("bool"), 1);
    assert.equal(itemSize("int16"), 2);
    assert.equal(itemSize("float32"), 4);
    assert.equal(itemSize("datetime64[ns]"), 8);
    assert.ok(allocate("datetime64[s]", 3) instanceof BigInt64Array);
    assert.ok(allocate("uint64", 3) instanceof BigUint64Array);
    assert.ok(allocate("bool", 3) instanceof Uint8Array);
    assert.deepEqual(allocate("string", 2), ["", ""]);
    assert.ok(isDType("timedelta64[us]"));
    assert.ok(!isDType("timedelta64[ps]"));
  });
});

describe("datetime64 helpers", () => {
  it("parses ISO strings at every unit, flooring", () => {
    assert.equal(datetime64("1970-01-01T00:00:00Z", "ns"), 0n);
    assert.equal(datetime64("2024-03-05T10:20:30.123456789", "ns"), 1709634030123456789n);
    assert.equal(datetime64("2024-03-05T10:20:30.123456789", "ms"), 1709634030123n);
    assert.equal(datetime64("2024-03-05", "D"), 19787n);
    assert.equal(datetime64("2024-03-05", "M"), 650n);
    assert.equal(datetime64("2024-03-05", "Y"), 54n);
    assert.equal(datetime64("1969-12-31T23:59:59.5", "s"), -1n);
    assert.equal(datetime64("1969-12-31T23:59:59.5", "ms"), -500n);
    assert.equal(datetime64("NaT"), NAT);
    assert.equal(datetime64(new Date(Date.UTC(2000, 0, 1)), "s"), 946684800n);
  });
  it("formats with the unit's precision, NaT as 'NaT'", () => {
    assert.equal(formatDatetime64(1709634030123456789n, "ns"), "2024-03-05T10:20:30.123456789");
    assert.equal(formatDatetime64(1709634030123n, "ms"), "2024-03-05T10:20:30.123");
    assert.equal(formatDatetime64(19787n, "D"), "2024-03-05");
    assert.equal(formatDatetime64(650n, "M"), "2024-03");
    assert.equal(formatDatetime64(54n, "Y"), "2024");
    assert.equal(formatDatetime64(-1n, "s"), "1969-12-31T23:59:59");
    assert.equal(formatDatetime64(NAT, "ns"), "NaT");
    assert.equal(formatDatetime64(datetime64("2024-02-29T12:00", "m"), "m"), "2024-02-29T12:00");
    assert.equal(formatDatetime64(datetime64("0999-12-31", "D"), "D"), "0999-12-31");
  });
  it("round trips through nanoseconds for calendar units", () => {
    for (const unit of TIME_UNITS) {
      const v = datetime64("1901-07-15T03:04:05.006007008", unit);
      assert.equal(fromNanoseconds(toNanoseconds(v, unit), unit), v, unit);
    }
  });
  it("rejects invalid ISO text naming it", () => {
    assert.throws(() => datetime64("2024-13-01"), /'2024-13-01'/);
    assert.throws(() => datetime64("yesterday"), SchemaError);
  });
});
