/**
 * In-process tests of the CLI building blocks: cell rendering, tables, CSV,
 * Python reprs, the drop prompt, reading an answer, the error → exit code
 * mapping and the progress bar on a (fake) terminal.
 */

import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { dropPrompt, readLine } from "../../src/cli/drop.js";
import {
  Column,
  csvLine,
  float32Text,
  jsonRow,
  oneLine,
  renderTable,
  scalarJson,
  scalarText,
  truncate,
} from "../../src/cli/format.js";
import { UsageError } from "../../src/cli/io.js";
import { reportError } from "../../src/cli/program.js";
import { progressBar } from "../../src/cli/progress.js";
import { NAT } from "../../src/dtype.js";
import {
  CodecError,
  CollectionNotFoundError,
  ExpressionError,
  PartitionError,
  SchemaError,
  StoreError,
} from "../../src/errors.js";
import { NDArray } from "../../src/ndarray.js";
import { Capture, captureIO } from "./helpers.js";

describe("cell rendering", () => {
  it("prints float32 values with the fewest digits that read back the same", () => {
    assert.equal(float32Text(Math.fround(0.1)), "0.1");
    assert.equal(float32Text(Math.fround(1 / 3)), "0.33333334");
    assert.equal(float32Text(Math.fround(16777216)), "16777216");
    assert.equal(float32Text(Math.fround(-2.5e-8)), "-2.5e-8");
    assert.equal(float32Text(0), "0");
    for (const v of [0.1, 1e-30, 123456.789, 3.4e38]) {
      const f = Math.fround(v);
      assert.equal(Math.fround(Number(float32Text(f))), f);
    }
    // On display: at most 7 significant digits.
    assert.equal(float32Text(Math.fround(1 / 3), "display"), "0.3333333");
    assert.equal(float32Text(Math.fround(123456.789), "display"), "123456.8");
    assert.equal(float32Text(Math.fround(0.1), "display"), "0.1");
    assert.equal(float32Text(Math.fround(16777216), "display"), "16777220");
    assert.equal(float32Text(Number.NaN), "nan");
    assert.equal(float32Text(Number.NEGATIVE_INFINITY, "display"), "-inf");
  });

  it("renders every dtype for tables/CSV and for JSON", () => {
    const cases: Array<[number | bigint | string, Parameters<typeof scalarText>[1], string, string]> = [
      [1.5, "float64", "1.5", "1.5"],
      [Number.NaN, "float64", "nan", "null"],
      [Number.POSITIVE_INFINITY, "float64", "inf", "null"],
      [183.16775099999998, "float64", "183.16775099999998", "183.16775099999998"],
      [Math.fround(0.2), "float32", "0.2", "0.2"],
      [-7, "int16", "-7", "-7"],
      [2n ** 60n, "int64", "1152921504606846976", '"1152921504606846976"'],
      [-(2n ** 53n) + 1n, "int64", "-9007199254740991", "-9007199254740991"],
      [2n ** 64n - 1n, "uint64", "18446744073709551615", '"18446744073709551615"'],
      [1, "bool", "true", "true"],
      [0, "bool", "false", "false"],
      [86_400n, "datetime64[s]", "1970-01-02T00:00:00", '"1970-01-02T00:00:00"'],
      [1_500_000_000n, "datetime64[ns]", "1970-01-01T00:00:01.500000000", '"1970-01-01T00:00:01.500000000"'],
      [NAT, "datetime64[ns]", "NaT", "null"],
      [1500n, "timedelta64[ms]", "1500 ms", "1500"],
      [NAT, "timedelta64[s]", "NaT", "null"],
      ['a "b"', "string", 'a "b"', '"a \\"b\\""'],
    ];
    for (const [value, dtype, text, json] of cases) {
      assert.equal(scalarText(value, dtype), text, `${String(value)} as ${dtype}`);
      assert.equal(scalarJson(value, dtype), json, `${String(value)} as ${dtype} (JSON)`);
    }
  });

  it("shows N-D rows truncated in tables and whole elsewhere", () => {
    const a = NDArray.from(new Float64Array([1, 2, 3, 4, Number.NaN, 6, 7, 8]), { shape: [2, 2, 2] });
    const col = new Column("m", a);
    assert.equal(col.length, 2);
    assert.equal(col.numeric, false);
    assert.equal(col.cell(0, "table"), "[1, 2, 3, …]");
    assert.equal(col.cell(1, "csv"), "[[nan, 6], [7, 8]]");
    assert.equal(col.cell(1, "json"), "[[null,6],[7,8]]");
    const short = new Column("p", NDArray.from(new Int8Array([1, 2, 3, 4]), { shape: [2, 2] }));
    assert.equal(short.cell(1, "table"), "[3, 4]");
    const flat = new Column("q", NDArray.from(new Int32Array([5, 6])));
    assert.equal(flat.numeric, true);
    assert.equal(flat.cell(1, "table"), "6");
  });

  it("writes CSV fields with RFC 4180 quoting and JSON rows with nulls for missing columns", () => {
    assert.equal(csvLine(["a", "b,c", 'say "hi"', "", "l1\nl2"]), 'a,"b,c","say ""hi""",,"l1\nl2"');
    const x = new Column("x", NDArray.from(new Float32Array([0.5, Number.NaN])));
    assert.equal(jsonRow(["x", "y"], [x, undefined], 1), '{"x":null,"y":null}');
    assert.equal(jsonRow(["x"], [x], 0), '{"x":0.5}');
  });

  it("aligns table columns, numbers to the right", () => {
    const text = renderTable(
      ["n", "name"],
      [
        ["1", "alpha"],
        ["100", "b"],
      ],
      [true, false],
    );
    assert.equal(text, "  n  name\n---  -----\n  1  alpha\n100  b\n");
    assert.equal(truncate("abcdef", 4), "abc…");
    assert.equal(truncate("abc", 4), "abc");
  });

  it("puts a message on one line", () => {
    assert.equal(oneLine("first\n  second\r\nthird "), "first second third");
  });
});

describe("numbers as a scientist reads them", () => {
  it("writes float64 unpacked from integers at the precision of the packing, in every format", () => {
    // What CF unpacking of int32 longitudes with scale_factor 1e-6 gives: 183167751 * 1e-6.
    const lon = new Float64Array([183167751 * 1e-6, 183297410 * 1e-6, 348566881 * 1e-6, Number.NaN]);
    assert.equal(lon[0], 183.16775099999998);
    const inferred = new Column("lon", NDArray.from(lon));
    const declared = new Column("lon", NDArray.from(lon), {
      attrs: { scale_factor: 1e-6, units: "degrees_east" },
    });
    for (const col of [inferred, declared]) {
      assert.equal(col.cell(0, "table"), "183.167751");
      assert.equal(col.cell(0, "csv"), "183.167751");
      assert.equal(col.cell(0, "json"), "183.167751");
      assert.equal(col.cell(1, "csv"), "183.29741");
      assert.equal(col.cell(3, "csv"), "nan");
      assert.equal(col.cell(3, "json"), "null");
      // The text gives the packed integer back exactly.
      assert.equal(Math.round(Number(col.cell(2, "csv")) / 1e-6), 348566881);
    }
    assert.equal(declared.style("csv").decimals, 6);
    assert.equal(inferred.style("csv").decimals, 6);
  });

  it("keeps full precision in CSV/JSON for float64 of full precision, and drops last-bit noise in tables", () => {
    // CryoSat-2 latitudes: nadir points (7 decimals, 1 ulp of noise) next to computed POCA points.
    const lat = new Float64Array([75.39275219999999, 76.14058246774137, 0.1 + 0.2]);
    const col = new Column("latitude", NDArray.from(lat));
    assert.equal(col.style("csv").decimals, undefined);
    assert.equal(col.cell(0, "csv"), "75.39275219999999");
    assert.equal(col.cell(1, "csv"), "76.14058246774137");
    assert.equal(col.cell(2, "json"), "0.30000000000000004");
    assert.equal(col.cell(0, "table"), "75.3927522");
    assert.equal(col.cell(1, "table"), "76.14058246774137");
    assert.equal(col.cell(2, "table"), "0.3");
    for (let i = 0; i < lat.length; i++) assert.equal(Number(col.cell(i, "csv")), lat[i]);
  });

  it("writes float32 with up to 9 digits in CSV/JSON, 7 in tables or with --round", () => {
    const a = NDArray.from(new Float32Array([1 / 3, 0.1, 2.5e-8]));
    const full = new Column("x", a);
    const rounded = new Column("x", a, { round: true });
    assert.deepEqual(
      [0, 1, 2].map((i) => full.cell(i, "csv")),
      ["0.33333334", "0.1", "2.5e-8"],
    );
    assert.deepEqual(
      [0, 1, 2].map((i) => full.cell(i, "table")),
      ["0.3333333", "0.1", "2.5e-8"],
    );
    assert.deepEqual(
      [0, 1, 2].map((i) => rounded.cell(i, "csv")),
      ["0.3333333", "0.1", "2.5e-8"],
    );
    assert.equal(rounded.cell(0, "json"), "0.3333333");
  });

  it("shows the fill value of an integer variable as nan in tables only", () => {
    const flags = new Column("surface_type", NDArray.from(new Int8Array([0, 127, 3])), { fillValue: 127 });
    assert.deepEqual(
      [0, 1, 2].map((i) => flags.cell(i, "table")),
      ["0", "nan", "3"],
    );
    assert.equal(flags.cell(1, "csv"), "127");
    assert.equal(flags.cell(1, "json"), "127");
    const big = new Column("n", NDArray.from(new BigInt64Array([5n, -1n]), { dtype: "int64" }), {
      fillValue: -1n,
    });
    assert.equal(big.cell(1, "table"), "nan");
    assert.equal(big.cell(1, "csv"), "-1");
  });

  it("cuts the fraction of seconds to what the column needs in tables, keeps every digit in CSV/JSON", () => {
    const whole = NDArray.from(new BigInt64Array([1_617_410_457_000_000_000n, NAT]), {
      dtype: "datetime64[ns]",
    });
    const micro = NDArray.from(new BigInt64Array([1_011_074_826_819_279_000n, 1_011_074_827_838_856_000n]), {
      dtype: "datetime64[ns]",
    });
    const nano = NDArray.from(new BigInt64Array([1n, 2_000_000_000n]), { dtype: "datetime64[ns]" });
    assert.equal(new Column("t", whole).cell(0, "table"), "2021-04-03T00:40:57");
    assert.equal(new Column("t", whole).cell(1, "table"), "NaT");
    assert.equal(new Column("t", whole).cell(0, "csv"), "2021-04-03T00:40:57.000000000");
    assert.equal(new Column("t", whole).cell(0, "json"), '"2021-04-03T00:40:57.000000000"');
    assert.equal(new Column("t", whole, { round: true }).cell(0, "csv"), "2021-04-03T00:40:57");
    assert.equal(new Column("t", micro).cell(0, "table"), "2002-01-15T06:07:06.819279");
    assert.equal(new Column("t", nano).cell(1, "table"), "1970-01-01T00:00:02.000000000");
  });
});

describe("drop prompt", () => {
  it("lists at most 10 partitions, then how many more", () => {
    const paths = Array.from({ length: 12 }, (_, i) => `num=${i}`);
    const text = dropPrompt(paths);
    const lines = text.split("\n");
    assert.equal(lines[0], "about to drop 12 partition(s):");
    assert.deepEqual(
      lines.slice(1, 11),
      paths.slice(0, 10).map((p) => `  ${p}`),
    );
    assert.equal(lines[11], "  ... (2 more)");
    assert.equal(lines[12], "proceed? [y/N] ");
    assert.equal(dropPrompt(["a=1"]), "about to drop 1 partition(s):\n  a=1\nproceed? [y/N] ");
  });

  it("reads one answer line; end of input or an abort answers ''", async () => {
    assert.equal(await readLine(Readable.from(["  Yes \nmore\n"])), "  Yes ");
    assert.equal(await readLine(Readable.from(["n"])), "n");
    assert.equal(await readLine(Readable.from([])), "");
    const pending = new Readable({ read() {} });
    const controller = new AbortController();
    const answer = readLine(pending, controller.signal);
    controller.abort();
    assert.equal(await answer, "");
  });
});

describe("errors and exit codes", () => {
  it("maps each kind of error to its exit code with one line on stderr", async () => {
    const cases: Array<[unknown, number, string]> = [
      [
        new CollectionNotFoundError("no _zcollection.json at file:///x", "file:///x"),
        2,
        "error: no _zcollection.json at file:///x",
      ],
      [
        new StoreError("'a.nc': truncated\n  at offset 12", { key: "a.nc" }),
        2,
        "error: 'a.nc': truncated at offset 12",
      ],
      [new CodecError("bad chunk"), 2, "error: bad chunk"],
      [new SchemaError("variable 'x' is unknown"), 2, "error: variable 'x' is unknown"],
      [new PartitionError("NaT in 'time' at row 3"), 2, "error: NaT in 'time' at row 3"],
      [
        new ExpressionError("unexpected end at position 5", "num >"),
        1,
        "error: unexpected end at position 5 (filter: num >)",
      ],
      [
        new UsageError("--tolerance applies to --merge upsert_within only"),
        1,
        "error: --tolerance applies to --merge upsert_within only",
      ],
      [new DOMException("This operation was aborted", "AbortError"), 1, "error: interrupted"],
      [new TypeError("boom"), 2, "error: boom"],
    ];
    for (const [err, code, line] of cases) {
      const io = await captureIO();
      assert.equal(reportError(err, io), code, String(err));
      assert.equal(io.stderr.text, `${line}\n`);
    }
  });

  it("adds the stack trace only with ZCOLLECTION_DEBUG=1", async () => {
    const io = await captureIO();
    io.env = { ZCOLLECTION_DEBUG: "1" };
    const err = new TypeError("boom");
    assert.equal(reportError(err, io), 2);
    assert.ok(io.stderr.text.startsWith("error: boom\nTypeError: boom\n    at "), io.stderr.text);
  });
});

describe("progress bar", () => {
  it("draws on a terminal and clears itself when stopped", () => {
    const tty = Object.assign(new Capture(true), { columns: 100 });
    const bar = progressBar(tty, "query");
    bar.update({ done: 0, total: 4, partition: "num=0" });
    bar.update({ done: 2, total: 4, partition: "num=1" });
    bar.stop();
    bar.stop();
    assert.match(tty.text, /query \[░{30}\] 0\/4 num=0/);
    assert.match(tty.text, /query \[█{15}░{15}\] 2\/4 num=1/);
    assert.ok(tty.text.endsWith("\u001b[2K"), JSON.stringify(tty.text.slice(-20)));
  });

  it("stays silent when stderr is not a terminal", () => {
    const pipe = new Capture(false);
    const bar = progressBar(pipe, "query");
    bar.update({ done: 1, total: 2 });
    bar.stop();
    assert.equal(pipe.text, "");
  });
});
