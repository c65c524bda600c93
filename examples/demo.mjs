// The main job on real data: ingest the bundled satellite products (examples/data) into file://
// collections with the command line, incrementally, then list them, print a few rows and a summary
// of each variable (valid values, min, max, mean, units) the way an altimetry engineer checks a
// product. Run with `npm run demo` (it builds first). Collections are written under .demo/, or the
// directory given as argument (recreated each run).
import { execFileSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const data = join(root, "examples/data");
const out = resolve(process.argv[2] ?? join(root, ".demo"));
const cli = join(root, "dist/cli/main.js");
const products = (prefix) =>
  readdirSync(data)
    .filter((f) => f.startsWith(prefix) && f.endsWith(".nc"))
    .sort()
    .map((f) => join(data, f));

/** Runs `zcollection <args>` and returns its output. */
function run(...args) {
  return execFileSync(process.execPath, [cli, ...args], { cwd: root, encoding: "utf8", maxBuffer: 1 << 28 });
}

/** Runs `zcollection <args>`, echoing the command and its output. */
function zc(...args) {
  const shown = args.map((a) => {
    const rel = a.startsWith(data) ? `examples/data/${a.slice(data.length + 1)}` : a;
    return /[\s<>=]/.test(rel) ? `"${rel}"` : rel;
  });
  console.log(`\n$ zcollection ${shown.join(" ")}`);
  const stdout = run(...args);
  process.stdout.write(stdout);
  return stdout;
}

/** The summary of `variables` as objects (`query --summary --format json`). */
function summaryOf(url, variables, ...more) {
  return JSON.parse(run("query", url, "--summary", "--format", "json", "--variables", variables, ...more));
}

rmSync(out, { recursive: true, force: true });
const url = (name) => `file://${join(out, name)}`;

// 1. CryoSat-2 Cryo-TEMPO land ice: one file per command (incremental), partitioned by day.
const cryosat = products("CS_");
for (const [i, file] of cryosat.entries()) {
  const catalog = i === 0 ? ["--catalog"] : [];
  zc("ingest", url("cryosat2"), file, "--key", "date", "--resolution", "D", ...catalog);
}
zc("ls", url("cryosat2"));
const csVariables = "time,latitude,longitude,elevation,backscatter,uncertainty";
const csv = ["query", url("cryosat2"), "--format", "csv", "--variables", csVariables];
const before = run(...csv);
const summaryBefore = summaryOf(url("cryosat2"), csVariables);
// Re-ingesting every file at once with upsert changes nothing.
zc("ingest", url("cryosat2"), ...cryosat, "--key", "date", "--resolution", "D", "--merge", "upsert");
const after = run(...csv);
const same =
  after === before &&
  JSON.stringify(summaryOf(url("cryosat2"), csVariables)) === JSON.stringify(summaryBefore);
const rows = before.trim().split("\n").length - 1;
console.log(
  `\nre-ingest with --merge upsert: the ${rows} rows and their summary are ${same ? "unchanged" : "CHANGED"}`,
);
if (!same) process.exitCode = 1;
// The Antarctic pass of 2010-07-31 has elevations from its first measurement on.
zc(
  "query",
  url("cryosat2"),
  "--filter",
  "year == 2010 and month == 7 and day == 31",
  "--variables",
  "time,latitude,longitude,elevation,backscatter",
  "--limit",
  "5",
);
zc(
  "query",
  url("cryosat2"),
  "--summary",
  "--variables",
  "latitude,longitude,elevation,backscatter,uncertainty",
);

// 2. Sentinel-6 Michael Freilich: two consecutive passes, /data_01 lifted to the root, by cycle and pass.
zc("ingest", url("sentinel6"), ...products("S6A_"), "--key", "cycle_pass", "--group", "/data_01");
zc("ls", url("sentinel6"));
// Pass 191 crosses the North Atlantic; pass 192 runs over Scandinavia and Russia (no sea level).
zc(
  "query",
  url("sentinel6"),
  "--filter",
  "pass_number == 191",
  "--variables",
  "time,latitude,longitude,ku/ssha,ku/swh_ocean",
  "--limit",
  "5",
);
for (const pass of [191, 192]) {
  zc(
    "query",
    url("sentinel6"),
    "--summary",
    "--filter",
    `pass_number == ${pass}`,
    "--variables",
    "ku/ssha,ku/swh_ocean,ku/sig0_ocean,rad_wet_tropo_cor",
  );
}

// 3. Jason-1: the 1 Hz series only (the 20 Hz `meas_ind` variables excluded), by day. The pass starts
// over Siberia: the first rows have an orbit and a mean sea surface but no sea level.
zc("ingest", url("jason1"), ...products("JA1_"), "--key", "date", "--exclude-dimension", "meas_ind");
zc("query", url("jason1"), "--variables", "time,lat,lon,alt,mean_sea_surface,surface_type", "--limit", "5");
zc("query", url("jason1"), "--summary", "--variables", "ssha,swh_ku,sig0_ku,wind_speed_alt,range_ku");

// 4. MetOp-A ASCAT swaths: one time per row, by hour; 2-D wind fields (rows × cells).
zc("ingest", url("ascat"), ...products("ascat_"), "--key", "date", "--resolution", "h");
zc("ls", url("ascat"), "--filter", "hour >= 10");
zc(
  "query",
  url("ascat"),
  "--summary",
  "--filter",
  "hour == 10",
  "--variables",
  "wind_speed,wind_dir,model_speed",
);
console.log(`\ncollections written under ${out}`);
console.log(`to look at one in a browser: npx zcollection serve ${url("ascat")}`);
