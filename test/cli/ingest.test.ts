/**
 * `zcollection ingest` of the bundled products (examples/data), run as child
 * processes; the rows read back with `zcollection query` are compared with
 * the values netCDF-C's ncdump gives for the same files
 * (test/fixtures/netcdf-expected). Bad inputs must fail with exit code 2 and
 * one line naming the file, leaving the collection byte for byte as it was.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import { ingest } from "../../src/cli/ingest.js";
import { openCollection } from "../../src/collection/index.js";
import { datetime64, formatDatetime64 } from "../../src/dtype.js";
import { closeTo, DATA_DIR, type ExpectedFile, expectedFor } from "../netcdf/expected.js";
import { writeNetCDF3 } from "../netcdf/nc3-writer.js";
import { type CliResult, captureIO, runAll, runCli, tempDir } from "./helpers.js";

const S6A = [
  "S6A_P4_2__HR_RED__NR_014_191_20210403T004056_20210403T005056_F00.nc",
  "S6A_P4_2__HR_RED__NR_014_192_20210403T005056_20210403T010056_F00.nc",
];
const CS = [
  "CS_OFFL_SIR_TDP_LI_ANTARC_20100718T001450_20100718T001611_01_02650_B001.nc",
  "CS_OFFL_SIR_TDP_LI_ANTARC_20100731T203419_20100731T203857_02_03271_C001.nc",
  "CS_OFFL_SIR_TDP_LI_GREENL_20111218T151752_20111218T151903_03_05253_C001.nc",
  "CS_OFFL_SIR_TDP_LI_GREENL_20150131T182746_20150131T183002_07_00423_C001.nc",
];
const JA1 = "JA1_GPN_2PeP001_002_20020115_060706_20020115_070316.nc";
const ASCAT = [
  "ascat_20150702_084200_metopa_45145_eps_o_250_2300_ovw.l2.nc",
  "ascat_20150702_102400_metopa_45146_eps_o_250_2300_ovw.l2.nc",
];
const data = (name: string) => join(DATA_DIR, name);

type Row = Record<string, unknown>;

let root: { dir: string; cleanup: () => Promise<void> };
before(async () => {
  root = await tempDir("zc-cli-ingest-");
});
after(async () => {
  await root.cleanup();
});

function assertOk(r: CliResult | undefined, what: string): CliResult {
  assert.ok(r !== undefined);
  assert.equal(r.code, 0, `${what}: exit ${r.code}, stderr ${r.stderr}`);
  assert.equal(r.stderr, "", `${what}: stderr`);
  return r;
}

/** The summary line of an ingest, with its figures. */
function summary(r: CliResult): {
  files: number;
  rows: number;
  replaced: number;
  removed: number;
  partitions: number;
  mb: number;
} {
  const m =
    /^ingested (\d+) file\(s\): (\d+) new rows, (\d+) rows replaced(?:, (\d+) stored rows removed)?, (\d+) partition\(s\) written, (\d+\.\d\d) MB decoded, \d+\.\d\d s\n$/.exec(
      r.stdout,
    );
  assert.ok(m !== null, `summary line: ${JSON.stringify(r.stdout)}`);
  return {
    files: Number(m[1]),
    rows: Number(m[2]),
    replaced: Number(m[3]),
    removed: Number(m[4] ?? 0),
    partitions: Number(m[5]),
    mb: Number(m[6]),
  };
}

/**
 * Compares the rows of one file (starting at `offset` in `rows`) with the
 * ncdump samples: every sampled element (2-D variables: `[row][cell]`), and
 * the number of missing (null) values of decoded floats and times.
 *
 * @param column the query column of a file variable path, or undefined to skip it.
 */
function checkAgainstNcdump(
  rows: readonly Row[],
  offset: number,
  expected: ExpectedFile,
  column: (path: string, dimensions: readonly string[]) => string | undefined,
): number {
  let checked = 0;
  for (const [path, want] of Object.entries(expected.variables)) {
    const name = column(path, want.dimensions);
    if (name === undefined) continue;
    const rowCount = want.shape[0] as number;
    const cells = want.shape.length === 2 ? (want.shape[1] as number) : 1;
    const at = (flat: number): unknown => {
      const row = rows[offset + Math.floor(flat / cells)];
      assert.ok(row !== undefined, `${path}: row ${offset + Math.floor(flat / cells)} exists`);
      const value = row[name];
      return want.shape.length === 2 ? (value as unknown[])[flat % cells] : value;
    };
    for (const s of want.samples) {
      const got = at(s.index);
      const label: string = `${expected.file} ${path}[${s.index}] (column ${name})`;
      if (s.value === null) assert.equal(got, null, label);
      else if (typeof s.value === "string") assert.equal(got, s.value, label);
      else if (want.kind === "packed" || want.kind === "float") {
        assert.ok(typeof got === "number" && closeTo(got, s.value), `${label}: ${String(got)} vs ${s.value}`);
      } else assert.equal(got, s.value, label);
      checked++;
    }
    if (want.kind !== "int") {
      let missing = 0;
      for (let i = 0; i < rowCount * cells; i++) if (at(i) === null) missing++;
      assert.equal(missing, want.missing, `${expected.file} ${path}: missing values`);
    }
  }
  return checked;
}

/** Every file under `dir` with a hash of its bytes, sorted. */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.push(
      `${relative(dir, path)} ${createHash("sha256")
        .update(await readFile(path))
        .digest("hex")}`,
    );
  }
  return out.sort();
}

// The product tests and the bad-input test are independent: run two at a time.
describe("ingest", { concurrency: 2 }, () => {
  it("CryoSat-2: one file per command by day, then all files with --merge upsert change nothing", async () => {
    const target = join(root.dir, "cs");
    const counts: number[] = [];
    for (const [i, file] of CS.entries()) {
      const args = ["ingest", target, data(file), "--quiet"];
      if (i === 0) args.push("--key", "date", "--resolution", "D");
      const s = summary(assertOk(await runCli(args), `ingest ${file}`));
      assert.equal(s.files, 1);
      assert.equal(s.partitions, 1);
      assert.equal(s.replaced, 0);
      counts.push(s.rows);
    }
    assert.deepEqual(
      counts,
      CS.map((f) => expectedFor(f).variables["/time"]?.shape[0]),
    );
    const query = ["query", target, "--format", "csv"];
    const [ls, before, values] = await runAll([
      { args: ["ls", target] },
      { args: query },
      {
        args: [
          "query",
          target,
          "--format",
          "json",
          "--variables",
          "time,elevation,latitude,surface_type,basin_id,uncertainty",
        ],
      },
    ]);
    const partitions =
      "year=2010/month=07/day=18\nyear=2010/month=07/day=31\nyear=2011/month=12/day=18\nyear=2015/month=01/day=31\n";
    assert.equal(assertOk(ls, "ls").stdout, partitions);
    const rows = JSON.parse(assertOk(values, "query json").stdout) as Row[];
    assert.equal(rows.length, 12284);
    let offset = 0;
    for (const file of CS) {
      checkAgainstNcdump(rows, offset, expectedFor(file), (p) => p.slice(1));
      offset += expectedFor(file).variables["/time"]?.shape[0] as number;
    }

    // The same rows again: nothing new, every row read replaces its stored twin.
    const all = summary(
      assertOk(await runCli(["ingest", target, ...CS.map(data), "--merge", "upsert", "--quiet"]), "upsert"),
    );
    assert.deepEqual(all, { ...all, files: 4, rows: 0, replaced: 12284, removed: 0, partitions: 4 });
    const [lsAfter, afterUpsert] = await runAll([{ args: ["ls", target] }, { args: query }]);
    assert.equal(assertOk(lsAfter, "ls").stdout, partitions);
    assert.equal(assertOk(afterUpsert, "query after upsert").stdout.split("\n").length, 12284 + 2);
    assert.equal(afterUpsert?.stdout, assertOk(before, "query before").stdout);
  });

  it("refuses bad inputs with exit 2 and one line naming the file, leaving the collection as it was", async () => {
    const target = join(root.dir, "bad");
    assertOk(await runCli(["ingest", target, data(CS[0] as string), "--key", "date", "--quiet"]), "setup");
    const before = await snapshot(target);
    assert.ok(before.some((l) => l.startsWith("year=2010/month=07/day=18/")));

    const truncated = join(root.dir, "truncated.nc");
    await writeFile(truncated, (await readFile(data(CS[1] as string))).subarray(0, 60_000));
    const text = join(root.dir, "notes.nc");
    await writeFile(text, "these are not the data you are looking for\n");
    const badTime = join(root.dir, "bad-time.nc");
    await writeFile(
      badTime,
      writeNetCDF3({
        dims: [{ name: "time", size: 0 }],
        numrecs: 2,
        vars: [
          {
            name: "time",
            type: "double",
            dims: ["time"],
            attrs: { units: "seconds since launch" },
            data: [0, 1],
          },
          { name: "elevation", type: "double", dims: ["time"], data: [1.5, 2.5] },
        ],
      }),
    );
    const good = data(CS[1] as string);
    const cases: Array<[string[], string, RegExp]> = [
      [["ingest", target, truncated], truncated, /error: /],
      [["ingest", target, text], text, /not a NetCDF file/],
      [["ingest", target, good, "--group", "/nope"], good, /unknown group '\/nope'/],
      [
        ["ingest", target, data(JA1)],
        data(JA1),
        /: 145 variable\(s\) not in the collection schema: meas_ind, time_20hz, lat, /,
      ],
      [["ingest", target, badTime], badTime, /time/],
      [["ingest", target, good, text], text, /not a NetCDF file/],
    ];
    const results = await runAll(cases.map(([args]) => ({ args: [...args, "--quiet"] })));
    cases.forEach(([args, file, pattern], i) => {
      const r = results[i] as CliResult;
      const what = args.slice(2).join(" ");
      assert.equal(r.code, 2, `${what}: exit code (stderr ${r.stderr})`);
      assert.equal(r.stdout, "", `${what}: stdout`);
      const lines = r.stderr.split("\n");
      assert.equal(lines.length, 2, `${what}: one line: ${JSON.stringify(r.stderr)}`);
      assert.ok(lines[0]?.startsWith("error: "), what);
      assert.ok(lines[0]?.includes(file), `${what}: names ${file}: ${lines[0]}`);
      assert.match(lines[0] as string, pattern, what);
    });
    assert.deepEqual(await snapshot(target), before);

    // Nothing is created either when a later file of a new collection is bad.
    const fresh = join(root.dir, "fresh");
    const [create, usage, tolerance, otherKey, ls] = await runAll([
      { args: ["ingest", fresh, good, truncated, "--key", "date"] },
      { args: ["ingest", join(root.dir, "nokey"), good] },
      { args: ["ingest", target, good, "--merge", "upsert", "--tolerance", "1s"] },
      { args: ["ingest", target, good, "--key", "date", "--resolution", "M"] },
      { args: ["ls", target] },
    ]);
    assert.equal(create?.code, 2);
    assert.ok(create?.stderr.includes(truncated));
    assert.equal((await runCli(["ls", fresh])).code, 2);
    assert.equal(usage?.code, 1);
    assert.match(
      usage?.stderr ?? "",
      /^error: no collection at '.*nokey': give --key date\|cycle\|cycle_pass to create one\n$/,
    );
    assert.equal(tolerance?.code, 1);
    assert.equal(
      tolerance?.stderr,
      "error: --tolerance applies to --merge upsert_within only (got --merge upsert)\n",
    );
    assert.equal(otherKey?.code, 1);
    assert.equal(
      otherKey?.stderr,
      `error: the collection at '${target}' is partitioned with --key date --resolution D --time time, not --resolution M\n`,
    );
    assert.equal(assertOk(ls, "ls").stdout, "year=2010/month=07/day=18\n");
    assert.deepEqual(await snapshot(target), before);
  });

  it("re-reads files that exceed the memory budget, and warns when a later file of the run replaces a partition", async () => {
    const target = join(root.dir, "in-process");
    const io = await captureIO();
    // keepBytes 0: nothing is kept from the check pass, every file is read again to be written
    const code = await ingest(
      target,
      ASCAT.map(data),
      { key: "date", resolution: "h", keepBytes: 0, merge: "replace", quiet: true },
      io,
    );
    assert.equal(code, 0, io.stderr.text);
    // orbit 45145 runs 08:42-10:23 and orbit 45146 10:24-12:05: both write hour 10, the second one wins
    assert.equal(
      io.stderr.text,
      `warning: '${data(ASCAT[1] as string)}' replaces partition year=2015/month=07/day=02/hour=10 written from ` +
        `'${data(ASCAT[0] as string)}' (--merge concat, time_series or upsert combine them)\n`,
    );
    const s = summary({ code, stdout: io.stdout.text, stderr: "" });
    const col = await openCollection(target);
    // 1632 rows per orbit: the rows stored are the new ones; the first orbit's rows of hour 10,
    // replaced by the second orbit's, are the rows replaced.
    const stored = (await col.query({ variables: ["time"] }))?.getVariable("time").shape[0] as number;
    assert.ok(stored > 1632 && stored < 3264, `${stored} rows stored`);
    assert.deepEqual(s, { ...s, files: 2, rows: stored, replaced: 3264 - stored, removed: 0, partitions: 5 });
    assert.deepEqual(
      await col.partitions(),
      [8, 9, 10, 11, 12].map((h) => `year=2015/month=07/day=02/hour=${String(h).padStart(2, "0")}`),
    );
    const hour10 = await col.query({ filters: "hour == 10", variables: ["time"] });
    const times = Array.from(hour10?.getVariable("time").array.data as BigInt64Array);
    const orbit2 = datetime64("2015-07-02T10:24:00", "ns");
    assert.ok(times.length > 0 && times.every((t) => t >= orbit2));
    const first = await col.query({ filters: "hour == 8", variables: ["time"] });
    const rowTimes = expectedFor(ASCAT[0] as string).variables["/time"]?.row_first_valid ?? {};
    assert.equal(formatDatetime64(first?.getVariable("time").array.at(0) as bigint, "ns"), rowTimes["0"]);
  });

  it("merges products into date partitions with time_series by default", async () => {
    const target = join(root.dir, "in-process-default");
    const io = await captureIO();
    const code = await ingest(target, ASCAT.map(data), { key: "date", resolution: "h", quiet: true }, io);
    assert.equal(code, 0, io.stderr.text);
    assert.equal(io.stderr.text, "");
    const col = await openCollection(target);
    const hour10 = await col.query({ filters: "hour == 10", variables: ["time"] });
    const times = Array.from(hour10?.getVariable("time").array.data as BigInt64Array);
    const orbit2 = datetime64("2015-07-02T10:24:00", "ns");
    // Both orbits keep their rows of hour 10, in time order.
    assert.ok(times.some((t) => t < orbit2) && times.some((t) => t >= orbit2));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    );
    const all = await col.query({ variables: ["time"] });
    assert.equal(all?.getVariable("time").shape[0], 3264);
  });

  it("Sentinel-6A: two passes by cycle_pass from /data_01", async () => {
    const target = join(root.dir, "s6a");
    const r = assertOk(
      await runCli([
        "ingest",
        target,
        ...S6A.map(data),
        "--key",
        "cycle_pass",
        "--group",
        "/data_01",
        "--profile",
        "local-fast",
        "--catalog",
        "--quiet",
      ]),
      "ingest",
    );
    assert.deepEqual(summary(r), { ...summary(r), files: 2, rows: 1200, replaced: 0, partitions: 2 });
    const names = ["time", "cycle_number", "pass_number", "ku/ssha", "altitude", "latitude"];
    const more = ["surface_classification_flag", "ku/range_ocean", "ku/swh_ocean_numval"];
    const [ls, query, inspect] = await runAll([
      { args: ["ls", target, "--json"] },
      { args: ["query", target, "--format", "json", "--variables", [...names, ...more].join(",")] },
      { args: ["inspect", target, "--json"] },
    ]);
    assert.equal(
      assertOk(ls, "ls").stdout,
      '["cycle_number=14/pass_number=191","cycle_number=14/pass_number=192"]\n',
    );
    const info = JSON.parse(assertOk(inspect, "inspect").stdout);
    assert.equal(info.axis, "time");
    assert.deepEqual(info.partitioning, {
      name: "sequence",
      variables: ["cycle_number", "pass_number"],
      dimension: "time",
    });
    assert.deepEqual(info.variables.cycle_number, { dtype: "int32", dimensions: ["time"], immutable: false });
    // the new collection took the codec profile and the catalog asked for
    const config = JSON.parse(await readFile(join(target, "_zcollection.json"), "utf8"));
    assert.deepEqual(config.catalog, { enabled: true });
    const ssha = config.schema.groups
      .find((g: { name: string }) => g.name === "ku")
      .variables.find((v: { name: string }) => v.name === "ssha");
    assert.deepEqual(ssha.codecs, {
      array_to_array: [],
      array_to_bytes: { name: "bytes", configuration: { endian: "little" } },
      bytes_to_bytes: [{ name: "zstd", configuration: { level: 3, checksum: true } }],
      sharded: false,
      shard_target_bytes: null,
    });
    const catalog = JSON.parse(await readFile(join(target, "_catalog", "state.json"), "utf8"));
    assert.deepEqual(catalog.paths, ["cycle_number=14/pass_number=191", "cycle_number=14/pass_number=192"]);
    const rows = JSON.parse(assertOk(query, "query").stdout) as Row[];
    assert.equal(rows.length, 1200);
    assert.deepEqual(Object.keys(rows[0] as Row), [...names, ...more]);
    for (const [i, row] of rows.entries()) {
      assert.equal(row.cycle_number, 14);
      assert.equal(row.pass_number, i < 600 ? 191 : 192);
    }
    let checked = 0;
    for (const [k, file] of S6A.entries()) {
      checked += checkAgainstNcdump(rows, k * 600, expectedFor(file), (p) => p.replace(/^\/data_01\//, ""));
    }
    assert.ok(checked > 100, `${checked} samples checked`);
  });

  it("Jason-1: one pass without the 20 Hz meas_ind series", async () => {
    const target = join(root.dir, "ja1");
    const s = summary(
      assertOk(
        await runCli([
          "ingest",
          target,
          data(JA1),
          "--key",
          "cycle_pass",
          "--exclude-dimension",
          "meas_ind",
          "--quiet",
        ]),
        "ingest",
      ),
    );
    assert.deepEqual(s, { ...s, files: 1, rows: 2240, replaced: 0, partitions: 1 });
    const [ls, inspect, query] = await runAll([
      { args: ["ls", target] },
      { args: ["inspect", target, "--json"] },
      {
        args: [
          "query",
          target,
          "--format",
          "json",
          "--variables",
          "time,ssha,alt,surface_type,lat,pass_number",
        ],
      },
    ]);
    assert.equal(assertOk(ls, "ls").stdout, "cycle_number=1/pass_number=2\n");
    const info = JSON.parse(assertOk(inspect, "inspect").stdout);
    assert.deepEqual(Object.keys(info.dimensions), ["time"]);
    const variables = info.variables as Record<string, { dimensions: string[] }>;
    for (const name of ["time_20hz", "range_20hz_ku", "meas_ind"])
      assert.equal(variables[name], undefined, name);
    assert.ok(Object.values(variables).every((v) => v.dimensions.join() === "time"));
    const rows = JSON.parse(assertOk(query, "query").stdout) as Row[];
    assert.equal(rows.length, 2240);
    assert.ok(rows.every((r) => r.pass_number === 2));
    const checked = checkAgainstNcdump(rows, 0, expectedFor(JA1), (p, dims) =>
      dims.join() === "time" ? p.slice(1) : undefined,
    );
    assert.ok(checked > 30, `${checked} samples checked`);
  });

  it("ASCAT: two swath orbits by date, one time per row, merged with time_series", async () => {
    const target = join(root.dir, "ascat");
    const s = summary(
      assertOk(
        await runCli([
          "ingest",
          target,
          ...ASCAT.map(data),
          "--key",
          "date",
          "--merge",
          "time_series",
          "--quiet",
        ]),
        "ingest",
      ),
    );
    assert.deepEqual(s, { ...s, files: 2, rows: 3264, replaced: 0, partitions: 1 });
    const [ls, query] = await runAll([
      { args: ["ls", target] },
      {
        args: [
          "query",
          target,
          "--format",
          "json",
          "--variables",
          "time,time_cell,wind_speed,lat,wvc_quality_flag,model_dir",
        ],
      },
    ]);
    assert.equal(assertOk(ls, "ls").stdout, "year=2015/month=07/day=02\n");
    const rows = JSON.parse(assertOk(query, "query").stdout) as Row[];
    assert.equal(rows.length, 3264);
    for (const [k, file] of ASCAT.entries()) {
      const expected = expectedFor(file);
      checkAgainstNcdump(rows, k * 1632, expected, (p) => (p === "/time" ? "time_cell" : p.slice(1)));
      for (const [row, time] of Object.entries(expected.variables["/time"]?.row_first_valid ?? {})) {
        assert.equal(rows[k * 1632 + Number(row)]?.time, time, `${file} row ${row}`);
      }
    }
  });
});
