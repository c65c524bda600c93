// The main job on real data: ingest the bundled satellite products (examples/data) into file://
// collections with the command line, incrementally, then list and query them.
// Run with `npm run demo` (it builds first). Collections are written under .demo/ (recreated each run).
import { execFileSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const data = join(root, "examples/data");
const out = join(root, ".demo");
const cli = join(root, "dist/cli/main.js");
const products = (prefix) =>
  readdirSync(data)
    .filter((f) => f.startsWith(prefix) && f.endsWith(".nc"))
    .sort()
    .map((f) => join(data, f));

/** Runs `zcollection <args>` and returns its output. */
function run(...args) {
  return execFileSync(process.execPath, [cli, ...args], { cwd: root, encoding: "utf8" });
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

rmSync(out, { recursive: true, force: true });
const url = (name) => `file://${join(out, name)}`;

// 1. CryoSat-2 Cryo-TEMPO land ice: one file per command (incremental), partitioned by day.
const cryosat = products("CS_");
for (const [i, file] of cryosat.entries()) {
  const catalog = i === 0 ? ["--catalog"] : [];
  zc("ingest", url("cryosat2"), file, "--key", "date", "--resolution", "D", ...catalog);
}
zc("ls", url("cryosat2"));
const csv = ["query", url("cryosat2"), "--format", "csv", "--variables", "time,latitude,longitude,elevation"];
const before = run(...csv);
// Re-ingesting every file at once with upsert changes nothing.
zc("ingest", url("cryosat2"), ...cryosat, "--key", "date", "--resolution", "D", "--merge", "upsert");
const after = run(...csv);
const rows = before.trim().split("\n").length - 1;
console.log(
  `\nre-ingest with --merge upsert: the ${rows} rows are ${after === before ? "unchanged" : "CHANGED"}`,
);
if (after !== before) process.exitCode = 1;
zc(
  "query",
  url("cryosat2"),
  "--filter",
  "year == 2015",
  "--variables",
  "time,latitude,longitude,elevation",
  "--limit",
  "5",
);

// 2. Sentinel-6 Michael Freilich: two consecutive passes, /data_01 lifted to the root, by cycle and pass.
zc("ingest", url("sentinel6"), ...products("S6A_"), "--key", "cycle_pass", "--group", "/data_01");
zc("ls", url("sentinel6"));
zc(
  "query",
  url("sentinel6"),
  "--filter",
  "pass_number == 192",
  "--variables",
  "time,latitude,longitude,ku/ssha",
  "--limit",
  "5",
);

// 3. Jason-1: the 1 Hz series only (the 20 Hz `meas_ind` variables excluded), by day.
zc("ingest", url("jason1"), ...products("JA1_"), "--key", "date", "--exclude-dimension", "meas_ind");
zc("query", url("jason1"), "--variables", "time,lat,lon,ssha,swh_ku", "--limit", "5");

// 4. MetOp-A ASCAT swaths: one time per row, by hour.
zc("ingest", url("ascat"), ...products("ascat_"), "--key", "date", "--resolution", "h");
zc("ls", url("ascat"), "--filter", "hour >= 10");
console.log(`\ncollections written under ${out}`);
console.log(`to look at one in a browser: npx zcollection serve ${url("ascat")}`);
