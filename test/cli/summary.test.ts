/**
 * `zcollection query --summary` and the number formatting of `query` on the
 * bundled products (examples/data), run in-process: the valid counts are
 * compared with what netCDF-C's ncdump gives for the same files
 * (test/fixtures/netcdf-expected), the sums with the figures ncdump's values
 * add up to, and packed values must print at the precision of their
 * `scale_factor` and give the packed integers back.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { run } from "../../src/cli/program.js";
import { renderSummaryTable, VariableSummary } from "../../src/cli/summary.js";
import { NDArray } from "../../src/ndarray.js";
import { VariableSchema } from "../../src/schema/index.js";
import { closeTo, DATA_DIR, expectedFor } from "../netcdf/expected.js";
import { captureIO, tempDir } from "./helpers.js";

const JA1 = "JA1_GPN_2PeP001_002_20020115_060706_20020115_070316.nc";
const S6A = [
  "S6A_P4_2__HR_RED__NR_014_191_20210403T004056_20210403T005056_F00.nc",
  "S6A_P4_2__HR_RED__NR_014_192_20210403T005056_20210403T010056_F00.nc",
];

let root: { dir: string; cleanup: () => Promise<void> };
let jason1: string;
let sentinel6: string;

/** Runs `zcollection <args>` in-process; fails on a non-zero exit or anything on stderr. */
async function zc(...args: string[]): Promise<string> {
  const io = await captureIO();
  const code = await run(args, io);
  assert.equal(code, 0, `zcollection ${args.join(" ")}: exit ${code}, ${io.stderr.text}`);
  assert.equal(io.stderr.text, "", `zcollection ${args.join(" ")}: stderr`);
  return io.stdout.text;
}

interface SummaryItem {
  variable: string;
  dtype: string;
  valid: number;
  total: number;
  min: number | string | null;
  max: number | string | null;
  mean: number | null;
  units: string | null;
}

before(async () => {
  root = await tempDir("zc-cli-summary-");
  jason1 = join(root.dir, "jason1");
  sentinel6 = join(root.dir, "sentinel6");
  await zc(
    "ingest",
    jason1,
    join(DATA_DIR, JA1),
    "--key",
    "date",
    "--exclude-dimension",
    "meas_ind",
    "--quiet",
  );
  await zc(
    "ingest",
    sentinel6,
    ...S6A.map((f) => join(DATA_DIR, f)),
    "--key",
    "cycle_pass",
    "--group",
    "/data_01",
    "--quiet",
  );
});

after(async () => {
  await root.cleanup();
});

describe("query --summary", () => {
  it("counts the valid values of Jason-1 as ncdump does, with their mean", async () => {
    const expected = expectedFor("JA1_");
    const items = JSON.parse(
      await zc(
        "query",
        jason1,
        "--summary",
        "--format",
        "json",
        "--variables",
        "ssha,alt,lat,surface_type,time",
      ),
    ) as SummaryItem[];
    assert.deepEqual(
      items.map((s) => s.variable),
      ["ssha", "alt", "lat", "surface_type", "time"],
    );
    for (const s of items) {
      const e = expected.variables[`/${s.variable}`];
      assert.ok(e !== undefined, s.variable);
      assert.equal(s.total, e.count, `${s.variable}: total`);
      assert.equal(s.valid, e.count - e.missing, `${s.variable}: valid`);
    }
    const ssha = items[0] as SummaryItem;
    assert.equal(ssha.valid, 1844);
    assert.ok(closeTo((ssha.mean as number) * ssha.valid, 9.422), String(ssha.mean));
    assert.equal(ssha.units, "m");
    assert.equal(typeof ssha.min, "number");
    assert.ok((ssha.min as number) < 0 && (ssha.max as number) > 0);
    const time = items[4] as SummaryItem;
    assert.equal(time.min, "2002-01-15T06:07:06.819279000");
    assert.equal(time.max, "2002-01-15T07:03:16.384309000");
    assert.equal(time.mean, null);
  });

  it("tells the pass over land (Sentinel-6 192) from the pass over the ocean (191)", async () => {
    const pass = async (n: number) =>
      JSON.parse(
        await zc(
          "query",
          sentinel6,
          "--summary",
          "--format",
          "json",
          "--filter",
          `pass_number == ${n}`,
          "--variables",
          "ku/ssha,latitude",
        ),
      ) as SummaryItem[];
    const [ocean, land] = [await pass(191), await pass(192)];
    const ssha191 = ocean[0] as SummaryItem;
    assert.equal(ssha191.valid, 514);
    assert.equal(ssha191.total, 600);
    assert.ok(closeTo((ssha191.mean as number) * 514, 7.6063), String(ssha191.mean));
    assert.deepEqual(land[0], {
      variable: "ku/ssha",
      dtype: "float64",
      valid: 0,
      total: 600,
      min: null,
      max: null,
      mean: null,
      units: "m",
    });
    assert.equal((land[1] as SummaryItem).valid, 600);
  });

  it("prints an aligned table, numbers right-aligned, as CSV too", async () => {
    const table = await zc(
      "query",
      sentinel6,
      "--summary",
      "--filter",
      "pass_number == 191",
      "--variables",
      "ku/ssha,time",
    );
    const lines = table.split("\n");
    assert.match(lines[0] as string, /^variable +dtype +valid +total +min +max +mean +units$/);
    assert.match(lines[1] as string, /^-+ {2}-+ {2}-+/);
    assert.match(lines[2] as string, /^ku\/ssha +float64 +514 +600 +-0\.\d+ +\d\.\d+ +0\.01479825 +m$/);
    assert.match(
      lines[3] as string,
      /^time +datetime64\[ns\] +600 +600 +2021-04-03T00:40:57 +2021-04-03T00:50:56$/,
    );
    const csv = await zc("query", sentinel6, "--summary", "--format", "csv", "--variables", "ku/ssha");
    assert.match(
      csv,
      /^variable,dtype,valid,total,min,max,mean,units\nku\/ssha,float64,514,1200,-?\d\.\d{1,4},\d\.\d{1,4},0\.0147982\d+,m\n$/,
    );
  });

  it("summarises N-D variables, integers with a fill value and booleans", () => {
    const flags = new VariableSummary(
      "flag",
      new VariableSchema("flag", {
        dtype: "int8",
        dimensions: ["n", "x"],
        fillValue: 127,
        attrs: { units: "1" },
      }),
    );
    flags.add(NDArray.from(new Int8Array([1, 127, 3, 127]), { shape: [2, 2] }));
    flags.add(NDArray.from(new Int8Array([-2, 127]), { shape: [1, 2] }));
    assert.deepEqual([flags.valid, flags.total, flags.min, flags.max, flags.mean], [3, 6, -2, 3, 2 / 3]);
    const wet = new VariableSummary("wet", new VariableSchema("wet", { dtype: "bool", dimensions: ["n"] }));
    wet.add(NDArray.from(new Uint8Array([1, 0, 1, 1]), { dtype: "bool" }));
    const text = renderSummaryTable([flags, wet]);
    assert.equal(
      text,
      [
        "variable  dtype  valid  total    min   max       mean  units",
        "--------  -----  -----  -----  -----  ----  ---------  -----",
        "flag      int8       3      6     -2     3  0.6666667  1",
        "wet       bool       4      4  false  true       0.75",
        "",
      ].join("\n"),
    );
  });
});

describe("query number formatting on the bundled products", () => {
  it("prints packed values at the precision of their scale_factor, the same in table, CSV and JSON", async () => {
    const table = await zc("query", jason1, "--variables", "time,lat,lon,alt,ssha", "--limit", "2");
    assert.equal(
      table,
      [
        "time                              lat         lon           alt  ssha",
        "--------------------------  ---------  ----------  ------------  ----",
        "2002-01-15T06:07:06.819279  66.148217  183.167751  1354252.5185   nan",
        "2002-01-15T06:07:07.838856  66.147857   183.29741  1354252.4977   nan",
        "(first 2 rows shown; use --limit to see more)",
        "",
      ].join("\n"),
    );
    const csv = (await zc("query", jason1, "--format", "csv", "--variables", "lat,alt,ssha"))
      .trim()
      .split("\n");
    const json = (await zc("query", jason1, "--format", "json", "--variables", "lat,alt,ssha"))
      .trim()
      .split("\n");
    assert.equal(csv[1], "66.148217,1354252.5185,nan");
    assert.equal(json[1], '{"lat":66.148217,"alt":1354252.5185,"ssha":null},');
    const expected = expectedFor("JA1_");
    csv.slice(1).forEach((line, row) => {
      const fields = line.split(",");
      ["lat", "alt", "ssha"].forEach((name, k) => {
        const text = fields[k] as string;
        const e = expected.variables[`/${name}`];
        const scale = e?.attributes.scale_factor?.value as number[];
        const offset = (e?.attributes.add_offset?.value as number[] | undefined)?.[0] ?? 0;
        const decimals = String(scale[0]).split(".")[1]?.length ?? 0;
        // Never more decimals than the packing has; the packed integer comes back exactly.
        assert.ok((text.split(".")[1]?.length ?? 0) <= decimals, `${name}[${row}] = ${text}`);
        const sample = e?.samples.find((s) => s.index === row);
        if (sample !== undefined && sample.value !== null) {
          assert.equal(
            Math.round((Number(text) - offset) / (scale[0] as number)),
            sample.raw,
            `${name}[${row}]`,
          );
        }
      });
      // The same text in JSON.
      const object = JSON.parse((json[row + 1] as string).replace(/,$/, "")) as Record<string, number | null>;
      assert.equal(object.lat, Number(fields[0]));
    });
  });
});
