import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { datetime64, formatDatetime64, NAT } from "../../src/dtype.js";
import { SchemaError } from "../../src/errors.js";
import { NDArray } from "../../src/ndarray.js";
import { type OpenedNetCDF, openNetCDF, rowTimes } from "../../src/netcdf/index.js";
import { closeTo, DATA_DIR, expectedFor } from "./expected.js";
import { writeNetCDF3 } from "./nc3-writer.js";

const S6A = "S6A_P4_2__HR_RED__NR_014_191_20210403T004056_20210403T005056_F00.nc";
const JA1 = "JA1_GPN_2PeP001_002_20020115_060706_20020115_070316.nc";
const ASCAT = "ascat_20150702_084200_metopa_45145_eps_o_250_2300_ovw.l2.nc";
const CS = "CS_OFFL_SIR_TDP_LI_GREENL_20150131T182746_20150131T183002_07_00423_C001.nc";

const schemaError = (
  pattern: RegExp,
  fields: { variable?: string; dimension?: string; group?: string } = {},
) => {
  return (err: unknown) => {
    assert.ok(err instanceof SchemaError, `expected a SchemaError, got ${String(err)}`);
    assert.match(err.message, pattern);
    for (const [k, v] of Object.entries(fields)) assert.equal(err[k as keyof typeof fields], v, k);
    return true;
  };
};

/** Checks the sampled values of a decoded variable against the ncdump oracle. */
function checkSamples(opened: OpenedNetCDF, datasetPath: string, file: string, filePath: string): void {
  const want = expectedFor(file).variables[filePath];
  assert.ok(want, filePath);
  const variable = opened.dataset.getVariable(datasetPath);
  const data = variable.data as NDArray;
  assert.deepEqual(data.shape, want.shape);
  for (const s of want.samples) {
    const got = data.at(s.index);
    if (want.kind === "time") assert.equal(formatDatetime64(got as bigint, "ns"), s.value);
    else if (want.kind === "int") assert.equal(got, s.value);
    else
      assert.ok(
        closeTo(got as number, s.value === null ? Number.NaN : (s.value as number)),
        `${filePath}[${s.index}]`,
      );
  }
}

describe("openNetCDF: Sentinel-6A with /data_01 lifted to the root", () => {
  let opened: OpenedNetCDF;
  before(async () => {
    opened = await openNetCDF(join(DATA_DIR, S6A), { group: "/data_01" });
  });

  it("makes /data_01/time a root dimension of unlimited size and the axis", () => {
    assert.equal(opened.axis, "time");
    assert.equal(opened.format, "netcdf4");
    assert.deepEqual(opened.schema.dimSizes, { time: null });
    assert.deepEqual([...opened.schema.groups.keys()], ["ku"]);
    assert.equal(opened.schema.variables.size, 84);
    assert.equal(opened.schema.getGroup("/ku").variables.size, 27);
    assert.deepEqual(opened.schema.getGroup("/ku").variables.get("ssha")?.dimensions, ["time"]);
  });

  it("keeps /data_01/ku as the /ku group, with the oracle's values", () => {
    checkSamples(opened, "/ku/ssha", S6A, "/data_01/ku/ssha");
    checkSamples(opened, "/ku/range_ocean", S6A, "/data_01/ku/range_ocean");
    checkSamples(opened, "time", S6A, "/data_01/time");
    checkSamples(opened, "altitude", S6A, "/data_01/altitude");
    assert.equal(opened.dataset.getVariable("/ku/ssha").shape[0], 600);
  });

  it("infers dtypes, CF fill values and attributes", () => {
    const ssha = opened.schema.getGroup("/ku").variables.get("ssha");
    assert.equal(ssha?.dtype, "float64");
    assert.ok(Number.isNaN(ssha?.fillValue as number));
    assert.equal(ssha?.attrs.units, "m");
    assert.equal(ssha?.attrs.scale_factor, undefined);
    const time = opened.schema.variables.get("time");
    assert.equal(time?.dtype, "datetime64[ns]");
    assert.equal(time?.fillValue, NAT);
    const flag = opened.schema.variables.get("surface_classification_flag");
    assert.equal(flag?.dtype, "int8");
    assert.equal(flag?.fillValue, 127);
  });

  it("carries the global attributes to the root (cycle and pass numbers for partitioning)", () => {
    assert.equal(opened.schema.attrs.cycle_number, 14);
    assert.equal(opened.schema.attrs.pass_number, 191);
    assert.equal(opened.dataset.attrs.cycle_number, 14);
    assert.equal(opened.schema.attrs.xref_dac, "");
  });

  it("gives a schema a collection can bind to the axis", () => {
    const bound = opened.schema.withPartitionAxis(opened.axis);
    assert.equal(bound.variables.get("time")?.immutable, false);
  });

  it("keeps packed integers with keepPacked", async () => {
    const packed = await openNetCDF(join(DATA_DIR, S6A), {
      group: "data_01",
      keepPacked: true,
      variables: ["time", "ku/ssha"],
    });
    const ssha = packed.schema.getGroup("/ku").variables.get("ssha");
    assert.equal(ssha?.dtype, "int32");
    assert.equal(ssha?.fillValue, 2147483647);
    assert.equal(ssha?.attrs.scale_factor, 0.0001);
    const want = expectedFor(S6A).variables["/data_01/ku/ssha"];
    const data = packed.dataset.getVariable("/ku/ssha").data as NDArray;
    for (const s of want?.samples ?? []) assert.equal(data.at(s.index), s.raw);
  });

  it("refuses the whole file: the time axis lives in /data_01", async () => {
    await assert.rejects(
      openNetCDF(join(DATA_DIR, S6A)),
      schemaError(/'.*S6A.*\.nc': axis 'time' is not a root dimension .*declared in group '\/data_01'/, {
        dimension: "time",
      }),
    );
  });

  it("refuses an unknown group, naming the file and listing the groups", async () => {
    await assert.rejects(
      openNetCDF(join(DATA_DIR, S6A), { group: "/data_02" }),
      schemaError(/S6A.*\.nc': unknown group '\/data_02'; groups: \[\/, \/data_01, \/data_01\/ku\]/, {
        group: "/data_02",
      }),
    );
  });

  it("reads bytes too", async () => {
    const fromBytes = await openNetCDF(readFileSync(join(DATA_DIR, S6A)), {
      name: "pass.nc",
      group: "/data_01",
      variables: ["time"],
    });
    assert.equal(fromBytes.source, "pass.nc");
    assert.deepEqual([...fromBytes.schema.allVariables().keys()], ["time"]);
  });
});

describe("openNetCDF: Jason-1 and its 20 Hz series", () => {
  it("drops every meas_ind variable with excludeDimensions", async () => {
    const opened = await openNetCDF(join(DATA_DIR, JA1), { excludeDimensions: ["meas_ind"] });
    assert.equal(opened.axis, "time");
    assert.deepEqual(opened.schema.dimSizes, { time: null });
    assert.equal(opened.schema.variables.size, 119);
    for (const v of opened.schema.variables.values()) assert.deepEqual(v.dimensions, ["time"], v.name);
    checkSamples(opened, "ssha", JA1, "/ssha");
    checkSamples(opened, "alt", JA1, "/alt");
  });

  it("keeps them, meas_ind a fixed dimension, when selected", async () => {
    const opened = await openNetCDF(join(DATA_DIR, JA1));
    assert.deepEqual(opened.schema.dimSizes, { time: null, meas_ind: 20 });
    assert.equal(opened.schema.variables.size, 147);
    assert.deepEqual(opened.schema.variables.get("range_20hz_ku")?.dimensions, ["time", "meas_ind"]);
    checkSamples(opened, "range_20hz_ku", JA1, "/range_20hz_ku");
    checkSamples(opened, "time_20hz", JA1, "/time_20hz");
    assert.doesNotThrow(() => opened.schema.withPartitionAxis("time"));
  });

  it("selects variables by name or path, in file order", async () => {
    const opened = await openNetCDF(join(DATA_DIR, JA1), { variables: ["ssha", "/time", "range_20hz_ku"] });
    assert.deepEqual([...opened.schema.variables.keys()], ["time", "range_20hz_ku", "ssha"]);
    assert.deepEqual(opened.schema.dimSizes, { time: null, meas_ind: 20 });
  });

  it("names the unknown variable, or the unknown excluded dimension, and the file", async () => {
    await assert.rejects(
      openNetCDF(join(DATA_DIR, JA1), { variables: ["time", "sla"] }),
      schemaError(/JA1_.*\.nc': unknown variable 'sla' in group '\/'/, { variable: "sla" }),
    );
    await assert.rejects(
      openNetCDF(join(DATA_DIR, JA1), { excludeDimensions: ["meas"] }),
      schemaError(/JA1_.*\.nc': cannot exclude unknown dimension 'meas'; dimensions: \[time, meas_ind\]/, {
        dimension: "meas",
      }),
    );
  });

  it("reduces the 2-D time_20hz to one time per record with rowTime: true", async () => {
    const opened = await openNetCDF(join(DATA_DIR, JA1), { rowTime: true, variables: ["time_20hz"] });
    assert.equal(opened.axis, "time");
    const rows = opened.dataset.getVariable("time_20hz").data as NDArray;
    assert.deepEqual(rows.shape, [2240]);
    const want = expectedFor(JA1).variables["/time_20hz"]?.row_first_valid ?? {};
    assert.ok(Object.keys(want).length > 3);
    for (const [row, iso] of Object.entries(want))
      assert.equal(formatDatetime64(rows.at(Number(row)) as bigint, "ns"), iso);
    assert.deepEqual(opened.schema.variables.get("time_20hz_cell")?.dimensions, ["time", "meas_ind"]);
  });
});

describe("openNetCDF: ASCAT swath with a 2-D time", () => {
  it("reduces time to one time per row by default and partitions along NUMROWS", async () => {
    const opened = await openNetCDF(join(DATA_DIR, ASCAT));
    assert.equal(opened.axis, "NUMROWS");
    assert.deepEqual(opened.schema.dimSizes, { NUMROWS: null, NUMCELLS: 42 });
    const time = opened.dataset.getVariable("time").data as NDArray;
    assert.deepEqual(time.shape, [1632]);
    assert.equal(time.dtype, "datetime64[ns]");
    const want = expectedFor(ASCAT).variables["/time"]?.row_first_valid ?? {};
    assert.ok(Object.keys(want).length > 3);
    for (const [row, iso] of Object.entries(want))
      assert.equal(formatDatetime64(time.at(Number(row)) as bigint, "ns"), iso);
    checkSamples(opened, "time_cell", ASCAT, "/time");
    checkSamples(opened, "wind_speed", ASCAT, "/wind_speed");
    assert.deepEqual(opened.schema.variables.get("time_cell")?.dimensions, ["NUMROWS", "NUMCELLS"]);
  });

  it("without row times needs an explicit axis", async () => {
    await assert.rejects(
      openNetCDF(join(DATA_DIR, ASCAT), { rowTime: false }),
      schemaError(/ascat_.*\.nc': cannot infer the partition axis .*pass `axis`/),
    );
    const opened = await openNetCDF(join(DATA_DIR, ASCAT), { rowTime: false, axis: "NUMROWS" });
    assert.deepEqual(opened.schema.variables.get("time")?.dimensions, ["NUMROWS", "NUMCELLS"]);
    assert.equal(opened.schema.variables.get("time_cell"), undefined);
  });

  it("rowTime: true without a 2-D time variable is an error", async () => {
    await assert.rejects(
      openNetCDF(join(DATA_DIR, CS), { rowTime: true }),
      schemaError(/CS_.*\.nc': rowTime needs a 2-D time variable; none is selected/),
    );
  });
});

describe("openNetCDF: Cryo-TEMPO", () => {
  it("keeps NaN missing values, without a fill value", async () => {
    const opened = await openNetCDF(join(DATA_DIR, CS));
    assert.equal(opened.axis, "time");
    const elevation = opened.schema.variables.get("elevation");
    assert.equal(elevation?.dtype, "float64");
    assert.equal(elevation?.fillValue, null);
    const data = opened.dataset.getVariable("elevation").data as NDArray;
    assert.equal(Array.from(data.data as Float64Array).filter(Number.isNaN).length, 1746);
    checkSamples(opened, "time", CS, "/time");
    checkSamples(opened, "uncertainty", CS, "/uncertainty");
  });
});

describe("openNetCDF: several record dimensions are never mixed", () => {
  const file = () =>
    writeNetCDF3({
      dims: [
        { name: "obs", size: 0 },
        { name: "profile", size: 2 },
      ],
      numrecs: 3,
      vars: [
        {
          name: "time",
          type: "double",
          dims: ["obs"],
          attrs: { units: "seconds since 2000-01-01" },
          data: [0, 1, 2],
        },
        { name: "value", type: "float", dims: ["obs"], data: [1, 2, 3] },
        {
          name: "juld",
          type: "double",
          dims: ["profile"],
          attrs: { units: "days since 1950-01-01" },
          data: [1, 2],
        },
      ],
    });

  it("asks for the axis, listing the record dimensions", async () => {
    await assert.rejects(
      openNetCDF(file(), { name: "mixed.nc" }),
      schemaError(
        /^'mixed.nc': the selected variables are on several record dimensions \[obs, profile\]: choose/,
      ),
    );
  });

  it("refuses variables on another record dimension than the chosen axis", async () => {
    await assert.rejects(
      openNetCDF(file(), { name: "mixed.nc", axis: "obs" }),
      schemaError(
        /^'mixed.nc': variables \[\/juld\] are on record dimension 'profile', not on the axis 'obs'/,
        {
          dimension: "profile",
        },
      ),
    );
  });

  it("reads one series once the others are dropped", async () => {
    const opened = await openNetCDF(file(), { axis: "obs", excludeDimensions: ["profile"] });
    assert.deepEqual(opened.schema.dimSizes, { obs: null });
    assert.deepEqual((opened.dataset.getVariable("time").data as NDArray).toArray(), [
      datetime64("2000-01-01T00:00:00", "ns"),
      datetime64("2000-01-01T00:00:01", "ns"),
      datetime64("2000-01-01T00:00:02", "ns"),
    ]);
    const other = await openNetCDF(file(), { variables: ["juld"] });
    assert.equal(other.axis, "profile");
    assert.deepEqual(other.schema.dimSizes, { profile: null });
  });

  it("refuses an axis that no selected variable uses", async () => {
    await assert.rejects(
      openNetCDF(file(), { axis: "nope", excludeDimensions: ["profile"] }),
      schemaError(/axis 'nope' is not a root dimension of the selected variables$/, { dimension: "nope" }),
    );
  });
});

describe("rowTimes", () => {
  it("takes the first valid cell of each row, NaT for an empty row", () => {
    const t = (s: string) => datetime64(s, "ns");
    const times = new NDArray(
      "datetime64[ns]",
      [3, 3],
      BigInt64Array.from([
        NAT,
        t("2020-01-01"),
        t("2020-01-02"),
        NAT,
        NAT,
        NAT,
        t("2021-05-05"),
        NAT,
        t("2021-05-06"),
      ]),
    );
    assert.deepEqual(rowTimes(times).toArray(), [t("2020-01-01"), NAT, t("2021-05-05")]);
    assert.throws(() => rowTimes(new NDArray("datetime64[ns]", [2], new BigInt64Array(2))), SchemaError);
  });
});
