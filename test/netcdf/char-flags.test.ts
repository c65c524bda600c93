/**
 * Char variables along the partition axis (`openNetCDF`): the real Argo
 * multi-profile file 6901744_prof.nc (test/fixtures/argo, NetCDF3), read
 * back against netcdfjs' own reading of the same bytes; and files with the
 * same structure (Argo's CDL, N_PROF = 3) built as NetCDF3 (nc3-writer) and
 * as NetCDF4 (h5wasm, dimension scales like netCDF-C writes them).
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import h5wasm from "h5wasm/node";
import { NetCDFReader } from "netcdfjs";
import { formatDatetime64 } from "../../src/dtype.js";
import { h5wasmModule } from "../../src/netcdf/hdf5.js";
import { openNetCDF } from "../../src/netcdf/index.js";
import { writeNetCDF3 } from "./nc3-writer.js";

const ARGO = "test/fixtures/argo/6901744_prof.nc";
/** The per-profile char flags of the Argo format (`char X(N_PROF)`). */
const FLAGS = [
  "DIRECTION",
  "DATA_MODE",
  "JULD_QC",
  "POSITION_QC",
  "PROFILE_PRES_QC",
  "PROFILE_TEMP_QC",
  "PROFILE_PSAL_QC",
];

/** One character per profile, as netcdfjs reads the variable (it appends a padding element). */
function netcdfjsChars(reader: NetCDFReader, name: string, n: number): string[] {
  const raw = reader.getDataVariable(name) as unknown as string[];
  return raw.slice(0, n).map((c) => (c === " " || c === "\0" ? "" : c));
}

const strings = (ds: { getVariable(n: string): { array: { toArray(): unknown[] } } }, name: string) =>
  ds.getVariable(name).array.toArray() as string[];

describe("Argo 6901744_prof.nc: char flags per profile", () => {
  it("keeps one character per profile for char(N_PROF), one string per profile for char(N_PROF, STRINGn)", async () => {
    const opened = await openNetCDF(ARGO, { excludeDimensions: ["N_HISTORY"] });
    assert.equal(opened.axis, "N_PROF");
    const reader = new NetCDFReader(readFileSync(ARGO));
    for (const name of FLAGS) {
      const v = opened.dataset.getVariable(name);
      assert.deepEqual(v.dimensions, ["N_PROF"], name);
      assert.equal(v.dtype, "string", name);
      assert.deepEqual(strings(opened.dataset, name), netcdfjsChars(reader, name, 35), name);
      assert.deepEqual(opened.schema.getVariable(name).dimensions, ["N_PROF"], name);
    }
    // The exact values of this float (delayed mode; cycle 1 has a descending profile first).
    assert.deepEqual(strings(opened.dataset, "DATA_MODE"), Array(35).fill("D"));
    assert.deepEqual(strings(opened.dataset, "DIRECTION"), ["D", ...Array(34).fill("A")]);
    const psal = strings(opened.dataset, "PROFILE_PSAL_QC");
    assert.equal(psal.join(""), `${"A".repeat(25)}C${"A".repeat(9)}`);

    // char(N_PROF, STRING8): one string per profile; char(N_PROF, N_LEVELS): one QC string per profile.
    assert.deepEqual(opened.dataset.getVariable("PLATFORM_NUMBER").dimensions, ["N_PROF"]);
    assert.deepEqual(strings(opened.dataset, "PLATFORM_NUMBER"), Array(35).fill("6901744"));
    assert.deepEqual(opened.dataset.getVariable("PRES_QC").dimensions, ["N_PROF"]);
    assert.deepEqual(opened.dataset.getVariable("STATION_PARAMETERS").array.toArray().slice(0, 3), [
      "PRES",
      "TEMP",
      "PSAL",
    ]);
    // A char variable without the axis is one string, immutable once bound to the axis.
    assert.deepEqual(opened.dataset.getVariable("DATA_TYPE").dimensions, []);
    assert.deepEqual(strings(opened.dataset, "DATA_TYPE"), ["Argo profile"]);
    const bound = opened.schema.withPartitionAxis("N_PROF");
    const immutable = [...bound.allVariables()].filter(([, v]) => v.immutable).map(([p]) => p);
    assert.deepEqual(immutable, [
      "DATA_TYPE",
      "FORMAT_VERSION",
      "HANDBOOK_VERSION",
      "REFERENCE_DATE_TIME",
      "DATE_CREATION",
      "DATE_UPDATE",
    ]);
    for (const name of FLAGS) assert.equal(bound.getVariable(name).immutable, false, name);
  });

  it("names a string-length dimension in excludeDimensions", async () => {
    const opened = await openNetCDF(ARGO, { excludeDimensions: ["N_HISTORY", "STRING8"] });
    assert.equal(opened.dataset.variables.has("PLATFORM_NUMBER"), false);
    assert.equal(opened.dataset.variables.has("POSITIONING_SYSTEM"), false);
    assert.equal(opened.dataset.variables.has("DATA_MODE"), true);
  });
});

/** JULD of the first three profiles of 6901744 (days since 1950-01-01). */
const JULD = [23886.246527777777, 23888.23263888889, 23898.241666666665];
const JULD_ISO = ["2015-05-26T05:55:00", "2015-05-28T05:35:00", "2015-06-07T05:48:00"];

describe("Argo structure with N_PROF = 3 (DATA_MODE 'R', 'A', 'D')", () => {
  let scratch: string;
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), "zc-char-flags-"));
  });
  after(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  const check = async (input: string | Uint8Array, name: string) => {
    const opened = await openNetCDF(input, { name });
    assert.equal(opened.axis, "N_PROF");
    assert.deepEqual(strings(opened.dataset, "DATA_MODE"), ["R", "A", "D"]);
    assert.deepEqual(strings(opened.dataset, "DIRECTION"), ["D", "A", ""]);
    assert.deepEqual(opened.dataset.getVariable("DATA_MODE").dimensions, ["N_PROF"]);
    assert.deepEqual(strings(opened.dataset, "PLATFORM_NUMBER"), ["6901744", "6901744", "6901744"]);
    assert.deepEqual(strings(opened.dataset, "DATA_TYPE"), ["Argo profile"]);
    assert.deepEqual(
      (opened.dataset.getVariable("JULD").array.toArray() as bigint[]).map((t) =>
        formatDatetime64(t, "ns").slice(0, 19),
      ),
      JULD_ISO,
    );
    assert.equal(opened.schema.getVariable("DATA_MODE").attrs._FillValue, undefined);
    return opened;
  };

  it("NetCDF3, fixed N_PROF and N_PROF as the record (UNLIMITED) dimension", async () => {
    for (const unlimited of [false, true]) {
      const bytes = writeNetCDF3({
        dims: [
          { name: "N_PROF", size: unlimited ? 0 : 3 },
          { name: "STRING16", size: 16 },
          { name: "STRING8", size: 8 },
        ],
        ...(unlimited ? { numrecs: 3 } : {}),
        attrs: { title: "Argo float vertical profile", featureType: "trajectoryProfile" },
        vars: [
          {
            name: "DATA_TYPE",
            type: "char",
            dims: ["STRING16"],
            attrs: { _FillValue: " " },
            data: "Argo profile    ",
          },
          {
            name: "PLATFORM_NUMBER",
            type: "char",
            dims: ["N_PROF", "STRING8"],
            attrs: { _FillValue: " " },
            data: "6901744 6901744 6901744 ",
          },
          { name: "DIRECTION", type: "char", dims: ["N_PROF"], attrs: { _FillValue: " " }, data: "DA " },
          { name: "DATA_MODE", type: "char", dims: ["N_PROF"], attrs: { _FillValue: " " }, data: "RAD" },
          {
            name: "JULD",
            type: "double",
            dims: ["N_PROF"],
            attrs: {
              units: "days since 1950-01-01 00:00:00 UTC",
              _FillValue: { type: "double", values: [999999] },
            },
            data: JULD,
          },
        ],
      });
      const opened = await check(bytes, unlimited ? "argo3-record.nc" : "argo3.nc");
      assert.equal(opened.format, "netcdf3");
    }
  });

  it("NetCDF4 (HDF5 char datasets of one byte, dimension scales)", async () => {
    await h5wasmModule();
    const path = join(scratch, "argo3.nc");
    const f = new h5wasm.File(path, "w");
    const placeholder = "This is a netCDF dimension but not a netCDF variable.";
    for (const [dim, size] of [
      ["N_PROF", 3],
      ["STRING8", 8],
      ["STRING16", 16],
    ] as const) {
      f.create_dataset({ name: dim, data: new Float32Array(size) }).make_scale(`${placeholder}${size}`);
    }
    const chars = (name: string, text: string, dims: string[], shape: number[]) => {
      const ds = f.create_dataset({ name, data: text.split(""), shape, dtype: "A1" });
      for (const [i, d] of dims.entries()) ds.attach_scale(i, `/${d}`);
      ds.create_attribute("_FillValue", " ", null, "A1");
    };
    chars("DATA_TYPE", "Argo profile    ", ["STRING16"], [16]);
    chars("PLATFORM_NUMBER", "6901744 6901744 6901744 ", ["N_PROF", "STRING8"], [3, 8]);
    chars("DIRECTION", "DA ", ["N_PROF"], [3]);
    chars("DATA_MODE", "RAD", ["N_PROF"], [3]);
    const juld = f.create_dataset({ name: "JULD", data: Float64Array.from(JULD) });
    juld.attach_scale(0, "/N_PROF");
    juld.create_attribute("units", "days since 1950-01-01 00:00:00 UTC");
    f.close();
    const opened = await check(path, path);
    assert.equal(opened.format, "netcdf4");
  });
});
