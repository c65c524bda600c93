/**
 * The layout of `zcollection query` (src/cli/long-format.ts): which
 * selections print one row per cell, the columns of the long format, and
 * the cells it expands to, checked against a direct computation (broadcast,
 * transposed dimensions, slices, index offsets across partitions); then
 * the long format through the CLI on a small gridded collection and on the
 * bundled ASCAT swath.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { UsageError } from "../../src/cli/io.js";
import { LongExpansion, planLayout } from "../../src/cli/long-format.js";
import { run } from "../../src/cli/program.js";
import { query } from "../../src/cli/query.js";
import { Dataset } from "../../src/data/index.js";
import { NDArray } from "../../src/ndarray.js";
import { Schema } from "../../src/schema/index.js";
import { closeTo, DATA_DIR, expectedFor } from "../netcdf/expected.js";
import { GRID, makeGrid } from "./grid.js";
import { type CliResult, captureIO, runAll, runCli, tempDir } from "./helpers.js";

/** Along-track `time`, a swath `swh(time, x_ac)` without coordinate, a grid `adt(time, lat, lon)` with coordinates. */
const schema = Schema()
  .withDimension("time", { chunks: 8 })
  .withDimension("x_ac", { size: 2 })
  .withDimension("lat", { size: 2 })
  .withDimension("lon", { size: 3 })
  .withVariable("time", { dtype: "datetime64[s]", dimensions: ["time"] })
  .withVariable("ssh", { dtype: "float64", dimensions: ["time"] })
  .withVariable("swh", { dtype: "float32", dimensions: ["time", "x_ac"] })
  .withVariable("lat", { dtype: "float32", dimensions: ["lat"] })
  .withVariable("lon", { dtype: "float32", dimensions: ["lon"] })
  .withVariable("adt", { dtype: "float64", dimensions: ["time", "lat", "lon"] })
  .withVariable("tr", { dtype: "int32", dimensions: ["time", "lon", "lat"] })
  .withVariable("mask", { dtype: "bool", dimensions: ["lat", "lon"] })
  .withVariable("name", { dtype: "string", dimensions: ["x_ac"] })
  .build();

const plan = (selected: string[], opts: Parameters<typeof planLayout>[3] = {}) =>
  planLayout(schema, "time", selected, opts);

describe("planLayout", () => {
  it("keeps the wide layout for along-track data and swaths without coordinates", () => {
    for (const selected of [["time", "ssh"], ["time", "swh"], ["ssh"]]) {
      const layout = plan(selected);
      assert.equal(layout.long, false, selected.join());
      assert.deepEqual(layout.header, selected);
      assert.deepEqual(layout.read, selected);
      assert.deepEqual(layout.dimensions, []);
    }
    assert.deepEqual(plan(["time", "ssh"]).dtypes, ["datetime64[s]", "float64"]);
  });

  it("chooses the long layout for gridded data, immutable variables, --long and flat outputs", () => {
    const grid = plan(["adt"]);
    assert.equal(grid.long, true);
    assert.deepEqual(grid.header, ["time", "lat", "lon", "adt"]);
    assert.deepEqual(grid.dtypes, ["datetime64[s]", "float32", "float32", "float64"]);
    assert.deepEqual(grid.read, ["time", "lat", "lon", "adt"]);
    assert.deepEqual(grid.dimensions, [
      { name: "time", coordinate: "time" },
      { name: "lat", coordinate: "lat" },
      { name: "lon", coordinate: "lon" },
    ]);
    // A selected coordinate is its dimension's column, not a second one.
    assert.deepEqual(plan(["lat", "time", "adt", "lon"]).header, ["time", "lat", "lon", "adt"]);
    // An immutable variable selected beside a partitioned one.
    const names = plan(["ssh", "name"]);
    assert.equal(names.long, true);
    assert.deepEqual(names.header, ["time", "x_ac", "ssh", "name"]);
    assert.deepEqual(names.dtypes, ["datetime64[s]", "int64", "float64", "string"]);
    // --long on a swath: the cross-track dimension has no coordinate: an index column.
    const swath = plan(["swh"], { long: true });
    assert.deepEqual(swath.header, ["time", "x_ac", "swh"]);
    assert.deepEqual(swath.read, ["time", "swh"]);
    assert.deepEqual(plan(["swh"], { flat: true }).header, ["time", "x_ac", "swh"]);
    assert.equal(plan(["ssh"], { flat: true }).long, false);
    // --long on along-track data adds the dimension column.
    assert.deepEqual(plan(["ssh"], { long: true }).header, ["time", "ssh"]);
    // Dimensions in order of first appearance, whatever a variable's own order.
    assert.deepEqual(plan(["tr", "adt"]).header, ["time", "lon", "lat", "tr", "adt"]);
  });

  it("refuses what the asked layout cannot show", () => {
    assert.throws(
      () => plan(["lat", "mask"]),
      (e: unknown) =>
        e instanceof UsageError &&
        /^variable\(s\) 'lat', 'mask' do not run along the partitioning dimension 'time': select at least one/.test(
          e.message,
        ),
    );
    assert.throws(
      () => plan(["ssh", "lat"], { long: false }),
      (e: unknown) => e instanceof UsageError && /'lat' do not run along .*without --no-long/.test(e.message),
    );
    assert.throws(
      () => plan(["swh"], { long: false, flat: true, format: "arrow" }),
      (e: unknown) =>
        e instanceof UsageError &&
        /^--format arrow writes flat columns and variable\(s\) 'swh'/.test(e.message),
    );
    assert.equal(plan(["adt"], { long: false }).long, false);
  });
});

/** The value of `v` at the multi-index `at` of the layout's dimensions (brute force). */
function cell(
  v: NDArray,
  dims: readonly string[],
  layoutDims: readonly string[],
  at: readonly number[],
): unknown {
  let flat = 0;
  dims.forEach((d, k) => {
    flat = flat * (v.shape[k] as number) + (at[layoutDims.indexOf(d)] as number);
  });
  return (v.data as ArrayLike<unknown>)[flat];
}

describe("LongExpansion", () => {
  const times = 3;
  const ds = Dataset.fromArrays(schema, {
    time: new BigInt64Array([100n, 200n, 300n]),
    ssh: new Float64Array([1.5, Number.NaN, 3.5]),
    swh: NDArray.from(new Float32Array([1, 2, 3, 4, 5, 6]), { shape: [3, 2] }),
    lat: new Float32Array([10.5, 11.5]),
    lon: new Float32Array([-1, 0, 1]),
    adt: NDArray.from(
      Float64Array.from({ length: times * 6 }, (_, i) => i / 4),
      { shape: [times, 2, 3] },
    ),
    tr: NDArray.from(
      Int32Array.from({ length: times * 6 }, (_, i) => 1000 + i),
      { shape: [times, 3, 2] },
    ),
    mask: NDArray.from(new Uint8Array([1, 0, 0, 1, 1, 0]), { shape: [2, 3], dtype: "bool" }),
    name: ["left", "right"],
  });

  it("broadcasts every variable over the dimensions, last fastest, any slice", () => {
    const layout = plan(["tr", "adt", "mask", "ssh"]);
    const dims = layout.dimensions.map((d) => d.name);
    assert.deepEqual(dims, ["time", "lon", "lat"]);
    const expansion = new LongExpansion(ds, layout.dimensions, ["tr", "adt", "mask", "ssh"], 0);
    assert.deepEqual(expansion.sizes, [3, 3, 2]);
    assert.equal(expansion.length, 18);
    const vars = ds.allVariables();
    for (const [start, count] of [
      [0, 18],
      [5, 7],
      [17, 1],
      [1, 0],
    ] as const) {
      const columns = expansion.columns(start, count);
      assert.deepEqual([...columns.keys()], ["time", "lon", "lat", "tr", "adt", "mask", "ssh"]);
      for (let r = 0; r < count; r++) {
        const row = start + r;
        const at = [Math.floor(row / 6), Math.floor(row / 2) % 3, row % 2];
        for (const [name, array] of columns) {
          const v = vars.get(name)?.array as NDArray;
          const want = cell(v, vars.get(name)?.dimensions ?? [], dims, at);
          assert.ok(
            Object.is(array.data[r], want),
            `${name} row ${row}: ${array.data[r]} vs ${String(want)}`,
          );
          assert.equal(array.dtype, v.dtype);
        }
      }
    }
  });

  it("writes the index along a dimension without coordinate, counted across partitions", () => {
    const layout = plan(["swh", "name"]);
    assert.deepEqual(layout.header, ["time", "x_ac", "swh", "name"]);
    const slices = [...layout.slices(ds), ...layout.slices(ds)];
    assert.equal(slices.length, 2);
    const second = slices[1] as ReadonlyMap<string, { array: NDArray }>;
    assert.deepEqual(Array.from(second.get("time")?.array.data as BigInt64Array), [
      100n,
      100n,
      200n,
      200n,
      300n,
      300n,
    ]);
    assert.deepEqual(Array.from(second.get("x_ac")?.array.data as BigInt64Array), [0n, 1n, 0n, 1n, 0n, 1n]);
    assert.deepEqual(second.get("name")?.array.data, ["left", "right", "left", "right", "left", "right"]);
    // Without a coordinate along the partitioning dimension, its index continues from one partition to the next.
    const noTime = Schema()
      .withDimension("num", { chunks: 4 })
      .withDimension("x", { size: 2 })
      .withVariable("v", { dtype: "int16", dimensions: ["num", "x"] })
      .build();
    const part = Dataset.fromArrays(noTime, {
      v: NDArray.from(new Int16Array([1, 2, 3, 4]), { shape: [2, 2] }),
    });
    const numbered = planLayout(noTime, "num", ["v"], { long: true });
    const rows = [...numbered.slices(part), ...numbered.slices(part)].map((s) =>
      Array.from(s.get("num")?.array.data as BigInt64Array),
    );
    assert.deepEqual(rows, [
      [0n, 0n, 1n, 1n],
      [2n, 2n, 3n, 3n],
    ]);
  });
});

// ------------------------------------------------------------------ CLI

let root: { dir: string; cleanup: () => Promise<void> };
let grid: string;
before(async () => {
  root = await tempDir("zc-cli-long-");
  grid = join(root.dir, "grid");
  await makeGrid(grid);
});
after(async () => {
  await root.cleanup();
});

/** Runs `zcollection <args>` in-process. */
async function zc(...args: string[]): Promise<CliResult> {
  const io = await captureIO();
  const code = await run(args, io);
  return { code, stdout: io.stdout.text, stderr: io.stderr.text };
}

const ok = (r: CliResult, what: string): CliResult => {
  assert.equal(r.code, 0, `${what}: exit code (stderr: ${r.stderr})`);
  return r;
};

/** A datetime text without a zero fraction (`…T08:42:00.000000000` → `…T08:42:00`). */
const second = (text: unknown) => String(text).replace(/\.0+$/, "");

describe("query prints gridded data one row per cell", () => {
  it("in CSV, JSON and a table, with coordinate columns", async () => {
    const csv = await zc("query", grid, "--format", "csv");
    const json = await zc(
      "query",
      grid,
      "--format",
      "json",
      "--filter",
      "month == 5",
      "--variables",
      "adt,n_obs,mask",
    );
    const table = await zc("query", grid, "--limit", "4");
    const wide = await zc("query", grid, "--format", "json", "--no-long", "--variables", "time,adt");
    const selected = await zc(
      "query",
      grid,
      "--format",
      "csv",
      "--variables",
      "latitude,adt",
      "--limit",
      "2",
    );
    const lines = ok(csv, "csv").stdout.trimEnd().split("\n");
    // The default variables (those along time), the coordinates of their dimensions first.
    assert.equal(lines[0], "time,latitude,longitude,adt,n_obs");
    assert.equal(lines.length, 1 + GRID.cells);
    lines.slice(1).forEach((line, r) => {
      const [time, lat, lon, adt, nObs] = line.split(",");
      const { t, i, j } = GRID.at(r);
      assert.equal(time, GRID.times[t], `row ${r}`);
      assert.equal(Number(lat), GRID.latitude[i]);
      assert.equal(Number(lon), GRID.longitude[j]);
      const want = GRID.adt(t, i, j);
      assert.ok(Number.isNaN(want) ? /^nan$/i.test(adt ?? "") : Number(adt) === want, `row ${r}: ${adt}`);
      assert.equal(Number(nObs), GRID.nObs[t]);
    });

    const rows = JSON.parse(ok(json, "json").stdout) as Array<Record<string, unknown>>;
    assert.equal(rows.length, 2 * GRID.latitude.length * GRID.longitude.length);
    assert.deepEqual(Object.keys(rows[0] ?? {}), ["time", "latitude", "longitude", "adt", "n_obs", "mask"]);
    assert.deepEqual(rows[0], {
      time: GRID.times[1],
      latitude: GRID.latitude[0],
      longitude: GRID.longitude[0],
      adt: GRID.adt(1, 0, 0),
      n_obs: GRID.nObs[1],
      mask: true,
    });
    const nan = rows.find((r) => r.adt === null);
    assert.ok(nan !== undefined, "NaN as null");

    const tableLines = ok(table, "table").stdout.trimEnd().split("\n");
    assert.equal(tableLines.length, 2 + 4 + 1);
    assert.deepEqual(tableLines[0]?.split(/ +/), ["time", "latitude", "longitude", "adt", "n_obs"]);
    assert.deepEqual(tableLines[2]?.split(/ +/), [GRID.times[0], "30.0625", "-5.9375", "0", "1"]);
    assert.deepEqual(tableLines[5]?.split(/ +/), [GRID.times[0], "30.1875", "-5.9375", "0.75", "1"]);
    assert.equal(tableLines[6], "(first 4 rows shown; use --limit to see more)");

    const wideRows = JSON.parse(ok(wide, "--no-long").stdout) as Array<Record<string, unknown>>;
    assert.equal(wideRows.length, GRID.times.length);
    assert.deepEqual(wideRows[0]?.adt, [
      [0, 0.25, 0.5],
      [0.75, 1, 1.25],
    ]);

    assert.equal(
      ok(selected, "selected coordinate").stdout,
      `time,latitude,longitude,adt\n${GRID.times[0]},30.0625,-5.9375,0\n${GRID.times[0]},30.0625,-5.8125,0.25\n`,
    );
  });

  it("refuses coordinates alone and immutable variables with --no-long", async () => {
    const [alone, noLong] = await runAll([
      { args: ["query", grid, "--variables", "latitude,longitude"] },
      { args: ["query", grid, "--variables", "adt,mask", "--no-long"] },
    ]);
    for (const r of [alone, noLong]) assert.equal(r?.stdout, "");
    assert.equal(alone?.code, 1);
    assert.match(
      alone?.stderr ?? "",
      /^error: variable\(s\) 'latitude', 'longitude' do not run along the partitioning dimension 'time'/,
    );
    assert.equal(noLong?.code, 1);
    assert.match(noLong?.stderr ?? "", /^error: variable\(s\) 'mask' do not run along .* without --no-long/);
  });

  it("ASCAT swath: wide by default, one row per wind cell with --long (checked against ncdump)", async () => {
    const target = join(root.dir, "ascat");
    const file = "ascat_20150702_084200_metopa_45145_eps_o_250_2300_ovw.l2.nc";
    const ingested = await runCli([
      "ingest",
      target,
      join(DATA_DIR, file),
      "--key",
      "date",
      "--resolution",
      "h",
    ]);
    assert.equal(ingested.code, 0, ingested.stderr);
    const io = await captureIO();
    await query(target, { format: "json", long: true, variables: ["time_cell", "wind_speed"] }, io);
    const rows = JSON.parse(io.stdout.text) as Array<Record<string, unknown>>;
    const expected = expectedFor(file);
    const wind = expected.variables["/wind_speed"];
    const time = expected.variables["/time"];
    assert.ok(wind !== undefined && time !== undefined);
    assert.equal(rows.length, wind.count);
    assert.deepEqual(Object.keys(rows[0] ?? {}), ["NUMROWS", "NUMCELLS", "time_cell", "wind_speed"]);
    // Row r is cell (r / 42, r % 42) of the file: NUMROWS counts across the hourly partitions.
    for (const s of wind.samples) {
      const row = rows[s.index] as Record<string, unknown>;
      assert.equal(row.NUMROWS, Math.floor(s.index / 42));
      assert.equal(row.NUMCELLS, s.index % 42);
      if (s.value === null) assert.equal(row.wind_speed, null);
      else assert.ok(closeTo(row.wind_speed as number, s.value as number), `wind_speed[${s.index}]`);
    }
    assert.equal(rows.filter((r) => r.wind_speed === null).length, wind.missing);
    for (const s of time.samples) {
      assert.equal(second(rows[s.index]?.time_cell), second(s.value), `time[${s.index}]`);
    }
    const wide = await captureIO();
    await query(target, { format: "csv", variables: ["time", "wind_speed"], limit: 1 }, wide);
    assert.match(wide.stdout.text, /^time,wind_speed\n2015-07-02T08:42:00(\.0+)?,"\[2\.61, /);
  });
});
