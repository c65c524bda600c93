/**
 * `zcollection query --format parquet|arrow --output FILE`: DuckDB
 * (`@duckdb/node-api`, an independent implementation) reads our Parquet
 * files with the right column types and values — a small gridded
 * collection in long format, along-track rows with NaT, strings and int64,
 * and the bundled ASCAT swath checked against ncdump. Arrow IPC files are
 * read by DuckDB when its `arrow` extension can be loaded (it is
 * downloaded on first use: without network access that check is skipped)
 * and always by apache-arrow's reader.
 */

import assert from "node:assert/strict";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { tableFromIPC } from "apache-arrow";
import type { CliIO } from "../../src/cli/io.js";
import { run } from "../../src/cli/program.js";
import { closeTo, DATA_DIR, expectedFor } from "../netcdf/expected.js";
import { GRID, makeGrid } from "./grid.js";
import { Capture, type CliResult, captureIO, makeSampleCollection, tempDir } from "./helpers.js";

let root: { dir: string; cleanup: () => Promise<void> };
let grid: string;
let sample: string;
let instance: DuckDBInstance;
let duck: DuckDBConnection;
/** Whether DuckDB reads Arrow IPC files (its `arrow` extension loaded), or why not. */
let arrowInDuckDB: true | string;

before(async () => {
  root = await tempDir("zc-cli-export-");
  grid = join(root.dir, "grid");
  sample = join(root.dir, "sample");
  await makeGrid(grid);
  await makeSampleCollection(sample);
  instance = await DuckDBInstance.create(":memory:");
  duck = await instance.connect();
  arrowInDuckDB = await loadArrowExtension();
});

after(async () => {
  duck.closeSync();
  instance.closeSync();
  await root.cleanup();
});

async function loadArrowExtension(): Promise<true | string> {
  try {
    await duck.run("LOAD arrow");
    return true;
  } catch {
    try {
      await duck.run("INSTALL arrow FROM community");
      await duck.run("LOAD arrow");
      return true;
    } catch (err) {
      return `DuckDB's arrow extension is not available here (${String((err as Error).message).split("\n")[0]})`;
    }
  }
}

/** Runs `zcollection <args>` in-process. */
async function zc(args: string[], io?: CliIO & { stdout: Capture; stderr: Capture }): Promise<CliResult> {
  const streams = io ?? (await captureIO());
  const code = await run(args, streams);
  return { code, stdout: streams.stdout.text, stderr: streams.stderr.text };
}

async function exported(args: string[]): Promise<void> {
  const r = await zc(args);
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  assert.equal(r.stdout, "", "nothing on stdout");
}

async function rows(sql: string): Promise<Array<Record<string, unknown>>> {
  return (await duck.runAndReadAll(sql)).getRowObjects() as Array<Record<string, unknown>>;
}

async function describeTypes(from: string): Promise<string[]> {
  return (await rows(`DESCRIBE SELECT * FROM ${from}`)).map(
    (r) => `${String(r.column_name)}:${String(r.column_type)}`,
  );
}

/** The grid's long rows as DuckDB reads them from `from` (times as ISO text). */
function gridRows(from: string): Promise<Array<Record<string, unknown>>> {
  return rows(
    `SELECT strftime(time, '%Y-%m-%dT%H:%M:%S') AS time, latitude, longitude, adt, n_obs, mask FROM ${from}`,
  );
}

/** What {@link gridRows} should read. */
function expectedGridRows(): Array<Record<string, unknown>> {
  return Array.from({ length: GRID.cells }, (_, r) => {
    const { t, i, j } = GRID.at(r);
    return {
      time: GRID.times[t],
      latitude: GRID.latitude[i],
      longitude: GRID.longitude[j],
      adt: GRID.adt(t, i, j),
      n_obs: GRID.nObs[t],
      mask: GRID.mask[i * 3 + j],
    };
  });
}

describe("query --format parquet", () => {
  it("writes gridded data one row per cell, read by DuckDB with its types and values", async () => {
    const file = join(root.dir, "grid.parquet");
    await exported(["query", grid, "--variables", "adt,n_obs,mask", "--format", "parquet", "--output", file]);
    const from = `read_parquet('${file}')`;
    assert.deepEqual(await describeTypes(from), [
      "time:TIMESTAMP",
      "latitude:FLOAT",
      "longitude:FLOAT",
      "adt:DOUBLE",
      "n_obs:UINTEGER",
      "mask:BOOLEAN",
    ]);
    assert.deepEqual(await gridRows(from), expectedGridRows());
    // NaN stays NaN (not null); a filter on the coordinates finds its cell.
    assert.deepEqual(
      await rows(
        `SELECT count(*) FILTER (WHERE isnan(adt)) AS nan, count(*) FILTER (WHERE adt IS NULL) AS nulls FROM ${from}`,
      ),
      [{ nan: 1n, nulls: 0n }],
    );
    assert.deepEqual(
      await rows(
        `SELECT adt FROM ${from} WHERE time = TIMESTAMP '2005-05-01' AND latitude = 30.1875 AND longitude = -5.8125`,
      ),
      [{ adt: GRID.adt(1, 1, 1) }],
    );
    const text = await readFile(file);
    assert.equal(text.subarray(0, 4).toString(), "PAR1");
  });

  it("writes along-track rows as they are: int64 exact, strings, NaT as null", async () => {
    const file = join(root.dir, "sample.parquet");
    await exported(["query", sample, "--variables", "num,t,s,big,g/w", "--format", "parquet", "-o", file]);
    const from = `read_parquet('${file}')`;
    assert.deepEqual(await describeTypes(from), [
      "num:BIGINT",
      "t:TIMESTAMP",
      "s:VARCHAR",
      "big:BIGINT",
      "g/w:SMALLINT",
    ]);
    assert.deepEqual(await rows(`SELECT num, CAST(t AS VARCHAR) AS t, s, big, "g/w" AS w FROM ${from}`), [
      { num: 0n, t: "1970-01-01 00:00:00", s: "a,b", big: 2n ** 60n, w: 7 },
      { num: 0n, t: "1970-01-01 00:00:01", s: 'say "hi"', big: -5n, w: -1 },
      { num: 1n, t: "1970-01-02 00:00:00", s: "plain", big: 9_007_199_254_740_991n, w: 0 },
      { num: 2n, t: "1970-01-03 00:00:00", s: "", big: 0n, w: 32767 },
      { num: 10n, t: null, s: "x", big: -9_007_199_254_740_993n, w: 3 },
    ]);
    // An N-D variable (v(num, x)) switches to one row per cell, with the index along x.
    const cells = join(root.dir, "cells.parquet");
    await exported(["query", sample, "--variables", "v", "--format", "parquet", "-o", cells, "--limit", "3"]);
    assert.deepEqual(await rows(`SELECT num, x, v FROM read_parquet('${cells}')`), [
      { num: 0n, x: 0n, v: Math.fround(0.1) },
      { num: 0n, x: 1n, v: 1 },
      { num: 0n, x: 0n, v: 2 },
    ]);
  });

  it("writes the ASCAT swath one row per wind cell, as ncdump reads the file", async () => {
    const target = join(root.dir, "ascat");
    const product = "ascat_20150702_084200_metopa_45145_eps_o_250_2300_ovw.l2.nc";
    const ingested = await zc([
      "ingest",
      target,
      join(DATA_DIR, product),
      "--key",
      "date",
      "--resolution",
      "h",
    ]);
    assert.equal(ingested.code, 0, ingested.stderr);
    const file = join(root.dir, "ascat.parquet");
    await exported([
      "query",
      target,
      "--variables",
      "time,time_cell,lat,wind_speed,wvc_quality_flag",
      "--format",
      "parquet",
      "--output",
      file,
    ]);
    const from = `read_parquet('${file}')`;
    assert.deepEqual(await describeTypes(from), [
      "NUMROWS:BIGINT",
      "NUMCELLS:BIGINT",
      "time:TIMESTAMP_NS",
      "time_cell:TIMESTAMP_NS",
      "lat:DOUBLE",
      "wind_speed:DOUBLE",
      "wvc_quality_flag:INTEGER",
    ]);
    const expected = expectedFor(product);
    const wind = expected.variables["/wind_speed"];
    assert.ok(wind !== undefined);
    assert.deepEqual(
      await rows(
        `SELECT count(*) AS n, count(*) FILTER (WHERE isnan(wind_speed)) AS nan, max(NUMROWS) AS last FROM ${from}`,
      ),
      [{ n: BigInt(wind.count), nan: BigInt(wind.missing), last: 1631n }],
    );
    const flat = (name: string) => expected.variables[name]?.samples.map((s) => s.index) ?? [];
    const wanted = [
      ...new Set([...flat("/wind_speed"), ...flat("/lat"), ...flat("/time"), ...flat("/wvc_quality_flag")]),
    ];
    const got = new Map(
      (
        await rows(
          `SELECT NUMROWS * 42 + NUMCELLS AS flat, strftime(time_cell, '%Y-%m-%dT%H:%M:%S') AS time_cell, lat, ` +
            `wind_speed, wvc_quality_flag FROM ${from} WHERE NUMROWS * 42 + NUMCELLS IN (${wanted.join(",")})`,
        )
      ).map((r) => [Number(r.flat), r]),
    );
    let checked = 0;
    for (const [path, column] of [
      ["/wind_speed", "wind_speed"],
      ["/lat", "lat"],
      ["/time", "time_cell"],
      ["/wvc_quality_flag", "wvc_quality_flag"],
    ] as const) {
      for (const s of expected.variables[path]?.samples ?? []) {
        const value = got.get(s.index)?.[column];
        const label = `${path}[${s.index}]`;
        if (s.value === null) assert.ok(Number.isNaN(value), `${label}: ${String(value)}`);
        else if (typeof s.value === "string") assert.equal(value, s.value.replace(/\.0+$/, ""), label);
        else assert.ok(closeTo(Number(value), s.value), `${label}: ${String(value)} vs ${s.value}`);
        checked++;
      }
    }
    assert.ok(checked >= 15, `${checked} samples checked`);
  });

  it("writes to a redirected stdout with --output -, never to a terminal", async () => {
    const chunks: Uint8Array[] = [];
    const pipe = await captureIO();
    const bytesOut = Object.assign(new Capture(false), {
      write(chunk: string | Uint8Array): boolean {
        chunks.push(typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk);
        return true;
      },
    });
    const code = await run(["query", grid, "--format", "parquet", "--output", "-"], {
      ...pipe,
      stdout: bytesOut,
    });
    assert.equal(code, 0, pipe.stderr.text);
    const file = join(root.dir, "stdout.parquet");
    await writeFile(file, Buffer.concat(chunks));
    assert.deepEqual(await rows(`SELECT count(*) AS n FROM read_parquet('${file}')`), [
      { n: BigInt(GRID.cells) },
    ]);

    const tty = await captureIO();
    const terminal = { ...tty, stdout: new Capture(true) };
    const refused = await zc(["query", grid, "--format", "parquet", "--output", "-"], terminal);
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout, "");
    assert.match(
      refused.stderr,
      /^error: refusing to write binary Parquet to a terminal: redirect stdout or give --output FILE\n$/,
    );
  });

  it("refuses a binary format without --output, and wide N-D columns", async () => {
    const missing = await zc(["query", grid, "--format", "arrow"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: --format arrow writes a binary Arrow IPC file: give --output FILE/);
    const file = join(root.dir, "refused.parquet");
    const wide = await zc(["query", grid, "--format", "parquet", "--no-long", "-o", file]);
    assert.equal(wide.code, 1);
    assert.match(
      wide.stderr,
      /^error: --format parquet writes flat columns and variable\(s\) 'adt' have more dimensions/,
    );
    await assert.rejects(stat(file), /ENOENT/, "no file is created");
  });

  it("writes text formats to --output FILE as they would print", async () => {
    const file = join(root.dir, "grid.csv");
    const printed = await zc(["query", grid, "--format", "csv"]);
    const written = await zc(["query", grid, "--format", "csv", "--output", file]);
    assert.equal(written.code, 0, written.stderr);
    assert.equal(written.stdout, "");
    assert.equal(await readFile(file, "utf8"), printed.stdout);
  });
});

describe("query --format arrow", () => {
  it("writes an Arrow IPC file: typed columns, NaT as null", async () => {
    const gridFile = join(root.dir, "grid.arrow");
    const sampleFile = join(root.dir, "sample.arrow");
    await exported([
      "query",
      grid,
      "--variables",
      "adt,n_obs,mask",
      "--format",
      "arrow",
      "--output",
      gridFile,
    ]);
    await exported([
      "query",
      sample,
      "--variables",
      "num,t,s,big",
      "--format",
      "arrow",
      "--output",
      sampleFile,
    ]);
    const bytes = await readFile(gridFile);
    assert.equal(bytes.subarray(0, 6).toString(), "ARROW1");
    assert.equal(bytes.subarray(bytes.length - 6).toString(), "ARROW1");

    const table = tableFromIPC(bytes);
    assert.deepEqual(
      table.schema.fields.map((f) => `${f.name}:${String(f.type)}:${f.metadata.get("zcollection:dtype")}`),
      [
        "time:Timestamp<SECOND>:datetime64[s]",
        "latitude:Float32:float32",
        "longitude:Float32:float32",
        "adt:Float64:float64",
        "n_obs:Uint32:uint32",
        "mask:Bool:bool",
      ],
    );
    const want = expectedGridRows();
    assert.equal(table.numRows, want.length);
    table.toArray().forEach((row, r) => {
      const got = row.toJSON() as Record<string, unknown>;
      const w = want[r] as Record<string, unknown>;
      assert.equal(new Date(got.time as number).toISOString().slice(0, 19), w.time, `row ${r} time`);
      for (const k of ["latitude", "longitude", "adt", "n_obs", "mask"]) {
        assert.ok(Object.is(got[k], w[k]), `row ${r} ${k}: ${String(got[k])} vs ${String(w[k])}`);
      }
    });
    const along = tableFromIPC(await readFile(sampleFile));
    assert.deepEqual(
      along.toArray().map((row) => {
        const o = row.toJSON() as Record<string, unknown>;
        return [o.num, o.t, o.s, o.big];
      }),
      [
        [0n, 0, "a,b", 2n ** 60n],
        [0n, 1000, 'say "hi"', -5n],
        [1n, 86_400_000, "plain", 9_007_199_254_740_991n],
        [2n, 172_800_000, "", 0n],
        [10n, null, "x", -9_007_199_254_740_993n],
      ],
    );
  });

  it("is read by DuckDB as the Parquet file is", async (t) => {
    if (arrowInDuckDB !== true) {
      t.skip(arrowInDuckDB);
      return;
    }
    const file = join(root.dir, "duck.arrow");
    await exported(["query", grid, "--variables", "adt,n_obs,mask", "--format", "arrow", "--output", file]);
    const from = `read_arrow('${file}')`;
    assert.deepEqual(await describeTypes(from), [
      "time:TIMESTAMP_S",
      "latitude:FLOAT",
      "longitude:FLOAT",
      "adt:DOUBLE",
      "n_obs:UINTEGER",
      "mask:BOOLEAN",
    ]);
    assert.deepEqual(await gridRows(from), expectedGridRows());
  });
});
