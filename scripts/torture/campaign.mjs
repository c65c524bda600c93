#!/usr/bin/env node
// The data-safety campaign: kills writers at random instants and races
// several writers, then checks that no stored row was lost, no partition is
// torn, the catalog agrees with the store, and a re-run gives exactly the
// expected content.
//
//   npm run torture                      # every scenario, 100 kill trials each
//   node scripts/torture/campaign.mjs --trials 10 --scenarios replace,merge --json
//
// Scenarios (catalog off and on for the kill ones):
//   create, replace, merge  SIGKILL of `insert` (new partitions / replacement / upsert) on file://
//   cli-sigint              SIGINT (Ctrl-C) of `zcollection ingest --merge upsert` re-ingesting unchanged products
//   cli-kill                SIGKILL of `zcollection ingest --key date` (time_series merges), then a re-run
//   disjoint-file, disjoint-s3, disjoint-icechunk
//                           8 processes inserting disjoint days at once, catalog on
//   merge4-file, merge4-s3, merge4-icechunk
//                           4 processes upserting into one partition at once
//
// Needs `npm run build` first (it drives dist/). The S3 scenarios start a
// local moto_server on a free 127.0.0.1 port and stop it by PID.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { openCollection } from "../../dist/index.js";
import { classify, create, dataset, dayPath, dayStart, WIDTH } from "./data.mjs";

const ROOT = resolve(import.meta.dirname, "../..");
const CHILD = join(import.meta.dirname, "child.mjs");
const CLI = join(ROOT, "dist/cli/main.js");
const PRODUCTS = join(ROOT, "examples/data");

const { values: args } = parseArgs({
  options: {
    trials: { type: "string", default: "100" },
    scenarios: { type: "string" },
    days: { type: "string", default: "6" },
    rows: { type: "string", default: "4096" },
    json: { type: "boolean", default: false },
    seed: { type: "string", default: "1" },
  },
});
const TRIALS = Number(args.trials);
const DAYS = Number(args.days);
const ROWS = Number(args.rows);
const ALL_DAYS = Array.from({ length: DAYS }, (_, d) => d);

// A small seeded generator (mulberry32) so that a campaign can be replayed.
let seed = Number(args.seed) >>> 0;
function random() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function log(line) {
  if (!args.json) process.stderr.write(`${line}\n`);
}

/** Runs a node script; resolves {code, signal, out, ms}. `killAfter` (ms after "ready" or start) sends `killWith`. */
function runNode(argv, { killAfter, killWith = "SIGKILL", waitReady = true, env } = {}) {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, argv, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
    });
    let out = "";
    let err = "";
    let timer;
    let readyAt;
    const arm = () => {
      if (killAfter !== undefined && timer === undefined) {
        timer = setTimeout(() => child.kill(killWith), killAfter);
      }
    };
    if (!waitReady) arm();
    child.stdout.on("data", (d) => {
      out += String(d);
      if (waitReady && readyAt === undefined && out.includes("ready\n")) {
        readyAt = performance.now();
        arm();
      }
    });
    child.stderr.on("data", (d) => {
      err += String(d);
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      const end = performance.now();
      // ms: from "ready" (or the start) to the exit — the window in which to kill.
      resolvePromise({ code, signal, out, err, ms: end - (readyAt ?? started) });
    });
  });
}

function writer(url, version, days, opts = {}) {
  return [CHILD, JSON.stringify({ url, version, days, rows: ROWS, ...opts })];
}

/** Every partition of the store (walked) → its state; plus the catalog's agreement. */
async function inspectStore(url, days, candidates, { recover, storageOptions } = {}) {
  const col = await openCollection(url, {
    mode: recover ? "rw" : "r",
    ...(storageOptions ? { storageOptions } : {}),
  });
  const walked = await col.partitions({ fromStore: true });
  const listed = await col.partitions();
  const states = new Map();
  for await (const [path, ds] of col.iterate({ fromStore: true })) {
    const d = days.find((x) => dayPath(x) === path);
    states.set(path, d === undefined ? "foreign" : classify(d, ds, ROWS, candidates));
  }
  const catalogAgrees = !col.catalogEnabled || JSON.stringify(walked) === JSON.stringify(listed);
  return { walked, states, catalogAgrees };
}

function newTally(name) {
  return { scenario: name, trials: 0, killed: 0, lostRows: 0, tornPartitions: 0, catalogWrong: 0, rerunWrong: 0, notes: [] };
}

/** SIGKILL of an insert: create (new partitions), replace (A → B), merge (A upsert U → M). */
async function killScenario(kind, catalog) {
  const tally = newTally(`${kind}${catalog ? "+catalog" : ""}`);
  const version = kind === "create" ? "A" : kind === "replace" ? "B" : "U";
  const final = kind === "create" ? "A" : kind === "replace" ? "B" : "M";
  const before = kind === "create" ? undefined : "A";
  const candidates = before === undefined ? [final] : [before, final];
  let fullMs;
  for (let t = 0; t < TRIALS + 1; t++) {
    const dir = await mkdtemp(join(tmpdir(), "zc-torture-"));
    const url = `file://${dir}`;
    try {
      await create(url, { catalog });
      if (before !== undefined) await (await openCollection(url, { mode: "rw" })).insert(dataset("A", ALL_DAYS, ROWS));
      const opts = version === "U" ? { merge: "upsert" } : {};
      if (t === 0) {
        // Calibration: an uninterrupted run gives the window to kill in, and must itself be right.
        const run = await runNode(writer(url, version, ALL_DAYS, opts));
        fullMs = run.ms;
        const { states } = await inspectStore(url, ALL_DAYS, [final], { recover: true });
        if (run.code !== 0 || states.size !== DAYS || [...states.values()].some((s) => s !== final)) {
          tally.notes.push(`uninterrupted run wrong: exit ${run.code} ${run.out}${run.err}`);
          tally.rerunWrong++;
        }
        continue;
      }
      tally.trials++;
      const run = await runNode(writer(url, version, ALL_DAYS, opts), { killAfter: random() * fullMs });
      if (run.signal === "SIGKILL") tally.killed++;
      // A run that finished before its kill was faster than the calibration (the machine is shared):
      // aim within the faster window from now on.
      else if (run.code === 0) fullMs = Math.min(fullMs, run.ms);
      // What a reader sees right away (no recovery): never a torn partition.
      const seen = await inspectStore(url, ALL_DAYS, candidates);
      for (const s of seen.states.values()) if (s === "torn") tally.tornPartitions++;
      // After the next read-write open (recovery): every stored day is there, whole, and listed.
      const after = await inspectStore(url, ALL_DAYS, candidates, { recover: true });
      for (const s of after.states.values()) if (s === "torn") tally.tornPartitions++;
      if (before !== undefined) tally.lostRows += (DAYS - after.states.size) * ROWS;
      if (!after.catalogAgrees) tally.catalogWrong++;
      // A re-run gives exactly the expected content.
      const again = await runNode(writer(url, version, ALL_DAYS, opts));
      const end = await inspectStore(url, ALL_DAYS, [final], { recover: true });
      if (again.code !== 0 || end.states.size !== DAYS || [...end.states.values()].some((s) => s !== final) || !end.catalogAgrees) {
        tally.rerunWrong++;
        tally.notes.push(`trial ${t}: re-run ${again.code} ${again.out.trim()} states ${[...end.states.values()]}`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    if (t % 10 === 0) log(`  ${tally.scenario}: ${t}/${TRIALS}`);
  }
  return tally;
}

/** A digest of every variable of every partition (walked) and of the partition list. */
async function digest(url) {
  const col = await openCollection(url, { mode: "r" });
  const hash = createHash("sha256");
  for await (const [path, ds] of col.iterate({ fromStore: true })) {
    hash.update(path);
    for (const [name, v] of [...ds.allVariables()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      hash.update(name);
      const data = v.array.data;
      hash.update(Array.isArray(data) ? JSON.stringify(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
  }
  return hash.digest("hex");
}

async function cryosatFiles() {
  return (await readdir(PRODUCTS)).filter((f) => f.startsWith("CS_") && f.endsWith(".nc")).sort().map((f) => join(PRODUCTS, f));
}

/** Ctrl-C of `ingest --merge upsert` re-ingesting unchanged products: the collection must not change. */
async function cliSigint(catalog) {
  const tally = newTally(`cli-sigint${catalog ? "+catalog" : ""}`);
  const files = await cryosatFiles();
  const base = await mkdtemp(join(tmpdir(), "zc-torture-ref-"));
  try {
    const make = await runNode([CLI, "ingest", base, ...files, "--key", "date", ...(catalog ? ["--catalog"] : [])], { waitReady: false });
    if (make.code !== 0) throw new Error(`reference ingest failed: ${make.err}`);
    const reference = await digest(`file://${base}`);
    let fullMs;
    for (let t = 0; t < TRIALS + 1; t++) {
      const dir = await mkdtemp(join(tmpdir(), "zc-torture-"));
      try {
        await cp(base, dir, { recursive: true });
        const argv = [CLI, "ingest", dir, ...files, "--merge", "upsert"];
        if (t === 0) {
          fullMs = (await runNode(argv, { waitReady: false })).ms;
          continue;
        }
        tally.trials++;
        const run = await runNode(argv, { waitReady: false, killAfter: random() * fullMs, killWith: "SIGINT" });
        if (run.code === 1 || run.signal === "SIGINT") tally.killed++;
        else if (run.code === 0) fullMs = Math.min(fullMs, run.ms);
        // Read-only first (what `ls`/`query` show at once), then after recovery.
        const seen = await digest(`file://${dir}`);
        const col = await openCollection(`file://${dir}`, { mode: "rw" });
        const agree = JSON.stringify(await col.partitions()) === JSON.stringify(await col.partitions({ fromStore: true }));
        if (!agree) tally.catalogWrong++;
        const recovered = await digest(`file://${dir}`);
        if (recovered !== reference) {
          tally.lostRows++;
          tally.notes.push(`trial ${t}: content changed after Ctrl-C (exit ${run.code}): ${run.err.trim().slice(-200)}`);
        } else if (seen !== reference) tally.notes.push(`trial ${t}: content differed until recovery`);
        const again = await runNode(argv, { waitReady: false });
        if (again.code !== 0 || (await digest(`file://${dir}`)) !== reference) tally.rerunWrong++;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await rm(base, { recursive: true, force: true });
  }
  return tally;
}

/** SIGKILL of `ingest --key date` (time_series merges) into a collection holding the first product, then a re-run. */
async function cliKill() {
  const tally = newTally("cli-kill");
  const files = await cryosatFiles();
  const [first, ...rest] = files;
  const full = await mkdtemp(join(tmpdir(), "zc-torture-ref-"));
  const start = await mkdtemp(join(tmpdir(), "zc-torture-ref-"));
  try {
    for (const [dir, list] of [[full, files], [start, [first]]]) {
      const r = await runNode([CLI, "ingest", dir, ...list, "--key", "date", "--resolution", "Y"], { waitReady: false });
      if (r.code !== 0) throw new Error(`reference ingest failed: ${r.err}`);
    }
    const reference = await digest(`file://${full}`);
    const firstPartitions = await (await openCollection(`file://${start}`)).partitions();
    let fullMs;
    for (let t = 0; t < TRIALS + 1; t++) {
      const dir = await mkdtemp(join(tmpdir(), "zc-torture-"));
      try {
        await cp(start, dir, { recursive: true });
        const argv = [CLI, "ingest", dir, ...rest];
        if (t === 0) {
          fullMs = (await runNode(argv, { waitReady: false })).ms;
          continue;
        }
        tally.trials++;
        const run = await runNode(argv, { waitReady: false, killAfter: random() * fullMs });
        if (run.signal === "SIGKILL") tally.killed++;
        else if (run.code === 0) fullMs = Math.min(fullMs, run.ms);
        const col = await openCollection(`file://${dir}`, { mode: "rw" });
        const present = new Set(await col.partitions({ fromStore: true }));
        for (const p of firstPartitions) if (!present.has(p)) tally.lostRows++;
        const again = await runNode(argv, { waitReady: false });
        if (again.code !== 0 || (await digest(`file://${dir}`)) !== reference) {
          tally.rerunWrong++;
          tally.notes.push(`trial ${t}: re-run gave other content (exit ${again.code}) ${again.err.trim().slice(-200)}`);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await rm(full, { recursive: true, force: true });
    await rm(start, { recursive: true, force: true });
  }
  return tally;
}

function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

/** Starts moto_server on a free port with a bucket; returns {storageOptions, stop}. */
async function startMoto() {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ok = await fetch(endpoint).then(async (r) => (await r.body?.cancel(), true), () => false);
    if (ok) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error("moto_server did not start");
    await new Promise((r) => setTimeout(r, 50));
  }
  await fetch(`${endpoint}/torture`, { method: "PUT" });
  const storageOptions = { endpoint, region: "us-east-1", accessKeyId: "testing", secretAccessKey: "testing", forcePathStyle: true };
  return {
    storageOptions,
    stop: () => new Promise((res) => {
      if (child.exitCode !== null) return res();
      child.once("exit", () => res());
      process.kill(child.pid, "SIGTERM");
    }),
  };
}

async function withStore(backend, fn) {
  if (backend === "s3") {
    const moto = await startMoto();
    try {
      return await fn(`s3://torture/c${Date.now().toString(36)}`, moto.storageOptions);
    } finally {
      await moto.stop();
    }
  }
  const dir = await mkdtemp(join(tmpdir(), "zc-torture-"));
  try {
    return await fn(backend === "icechunk" ? `icechunk://${dir}/repo` : `file://${dir}`, undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** 8 processes inserting 3 disjoint days each, catalog on: all succeed, catalog complete, nothing lost. */
async function disjoint(backend) {
  const tally = newTally(`disjoint-${backend}`);
  const writers = 8;
  const days = Array.from({ length: writers * 3 }, (_, d) => d);
  const runs = Math.max(1, Math.ceil(TRIALS / 10));
  for (let t = 0; t < runs; t++) {
    await withStore(backend, async (url, storageOptions) => {
      const { createCollection } = await import("../../dist/index.js");
      const { schema } = await import("./data.mjs");
      const { partitioning } = await import("../../dist/index.js");
      await createCollection(url, {
        schema: schema(),
        axis: "time",
        partitioning: new partitioning.Date("time", { resolution: "D" }),
        catalogEnabled: true,
        ...(storageOptions ? { storageOptions } : {}),
      });
      tally.trials++;
      const results = await Promise.all(
        Array.from({ length: writers }, (_, w) =>
          runNode(writer(url, "A", days.slice(3 * w, 3 * w + 3), storageOptions ? { storageOptions } : {}), { waitReady: false }),
        ),
      );
      const failed = results.filter((r) => r.code !== 0);
      if (failed.length > 0) {
        tally.rerunWrong += failed.length;
        tally.notes.push(`run ${t}: ${failed.length} writer(s) failed: ${failed[0].out.trim()} ${failed[0].err.trim().slice(-300)}`);
      }
      const seen = await inspectStore(url, days, ["A"], { storageOptions });
      tally.lostRows += (days.length - [...seen.states.values()].filter((s) => s === "A").length) * ROWS;
      for (const s of seen.states.values()) if (s === "torn") tally.tornPartitions++;
      const col = await openCollection(url, { mode: "r", ...(storageOptions ? { storageOptions } : {}) });
      const listed = await col.partitions();
      if (listed.length !== days.length || !seen.catalogAgrees) {
        tally.catalogWrong++;
        tally.notes.push(`run ${t}: catalog lists ${listed.length} of ${days.length}, store holds ${seen.walked.length}`);
      }
    });
  }
  return tally;
}

/** 4 processes upserting their own rows (and one shared slot) into one stored partition. */
async function merge4(backend) {
  const tally = newTally(`merge4-${backend}`);
  const writers = 4;
  const runs = Math.max(1, Math.ceil(TRIALS / 10));
  const { Dataset, NDArray, createCollection, partitioning } = await import("../../dist/index.js");
  const { schema } = await import("./data.mjs");
  for (let t = 0; t < runs; t++) {
    await withStore(backend, async (url, storageOptions) => {
      const col = await createCollection(url, {
        schema: schema(),
        axis: "time",
        partitioning: new partitioning.Date("time", { resolution: "D" }),
        catalogEnabled: true,
        ...(storageOptions ? { storageOptions } : {}),
      });
      await col.insert(dataset("A", [0], ROWS));
      tally.trials++;
      const results = await Promise.all(
        Array.from({ length: writers }, (_, w) =>
          runNode([CHILD.replace("child.mjs", "merge-writer.mjs"), JSON.stringify({ url, writer: w, rows: ROWS, storageOptions })], { waitReady: false }),
        ),
      );
      const ok = new Set();
      results.forEach((r, w) => {
        if (r.code === 0) ok.add(w);
        else if (!/ConflictError/.test(r.out)) {
          tally.rerunWrong++;
          tally.notes.push(`run ${t}: writer ${w} failed without a ConflictError: ${r.out.trim()} ${r.err.trim().slice(-300)}`);
        }
      });
      // Expected: the base rows, then each successful writer's rows (their slots are disjoint but slot 1, shared).
      const reader = await openCollection(url, { mode: "r", ...(storageOptions ? { storageOptions } : {}) });
      const ds = await reader.query();
      const time = ds.getVariable("time").array;
      const values = ds.getVariable("values").array;
      const t0 = dayStart(0);
      const want = new Map();
      for (let r = 0; r < ROWS; r++) want.set(2 * r, [1]);
      for (const w of ok) {
        for (let s = 2 * w + 3; s < 2 * ROWS; s += 8) want.set(s, [10 + w]);
        want.set(1, [...(want.get(1) ?? []).filter((v) => v !== 1), 10 + w]);
      }
      let wrong = time.shape[0] !== want.size ? Math.abs(time.shape[0] - want.size) : 0;
      for (let i = 0; i < time.shape[0]; i++) {
        const s = Number((time.data[i] - t0) / 1000n);
        const allowed = want.get(s) ?? [];
        const v = Math.round((values.data[i * WIDTH] - s * WIDTH) / 1e6);
        if (!allowed.includes(v)) wrong++;
      }
      tally.lostRows += wrong;
      const report = await reader.verify();
      tally.tornPartitions += report.failures.length;
    });
  }
  return tally;
}

const SCENARIOS = {
  create: () => killScenario("create", false),
  "create+catalog": () => killScenario("create", true),
  replace: () => killScenario("replace", false),
  "replace+catalog": () => killScenario("replace", true),
  merge: () => killScenario("merge", false),
  "merge+catalog": () => killScenario("merge", true),
  "cli-sigint": () => cliSigint(false),
  "cli-sigint+catalog": () => cliSigint(true),
  "cli-kill": () => cliKill(),
  "disjoint-file": () => disjoint("file"),
  "disjoint-s3": () => disjoint("s3"),
  "disjoint-icechunk": () => disjoint("icechunk"),
  "merge4-file": () => merge4("file"),
  "merge4-s3": () => merge4("s3"),
  "merge4-icechunk": () => merge4("icechunk"),
};

const chosen = args.scenarios === undefined ? Object.keys(SCENARIOS) : args.scenarios.split(",");
const results = [];
for (const name of chosen) {
  const run = SCENARIOS[name];
  if (run === undefined) throw new Error(`unknown scenario '${name}' (known: ${Object.keys(SCENARIOS).join(", ")})`);
  const started = performance.now();
  log(`${name}…`);
  const tally = await run();
  tally.seconds = Number(((performance.now() - started) / 1000).toFixed(1));
  results.push(tally);
  log(
    `${name}: ${tally.trials} trials, ${tally.killed} interrupted, lost rows ${tally.lostRows}, torn ${tally.tornPartitions}, ` +
      `catalog wrong ${tally.catalogWrong}, re-run wrong ${tally.rerunWrong} (${tally.seconds} s)`,
  );
  for (const n of tally.notes.slice(0, 5)) log(`  ${n}`);
}
const bad = results.filter((r) => r.lostRows + r.tornPartitions + r.catalogWrong + r.rerunWrong > 0);
if (args.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
else {
  process.stdout.write("| scenario | trials | interrupted | lost rows | torn | catalog wrong | re-run wrong | s |\n|---|---|---|---|---|---|---|---|\n");
  for (const r of results) {
    process.stdout.write(`| ${r.scenario} | ${r.trials} | ${r.killed} | ${r.lostRows} | ${r.tornPartitions} | ${r.catalogWrong} | ${r.rerunWrong} | ${r.seconds} |\n`);
  }
}
process.exit(bad.length > 0 ? 1 : 0);
