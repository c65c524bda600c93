/**
 * The command line speaks in its own terms: store locations as the user
 * gave them (never the malformed `file://cols/x` of a relative path),
 * flags instead of library option names in errors and warnings, and one
 * note of ours instead of Node's WASI warning, only when the WebAssembly
 * build of Icechunk is really loaded.
 */

import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { reportError, warningLine } from "../../src/cli/program.js";
import { absoluteUri, cliMessage, displayUrl } from "../../src/cli/terms.js";
import { SchemaError, StoreError } from "../../src/errors.js";
import { WASI_NOTE, WASI_NOTE_CODE, WASI_NOTE_TYPE } from "../../src/util/wasi-note.js";
import { DATA_DIR } from "../netcdf/expected.js";
import { captureIO, runCli, runNode, tempDir } from "./helpers.js";

const ROOT = join(import.meta.dirname, "..", "..");
const JA1 = join(ROOT, DATA_DIR, "JA1_GPN_2PeP001_002_20020115_060706_20020115_070316.nc");

/** `zcollection <args>` run in `cwd`. */
const zc = (cwd: string, ...args: string[]) => runCli(args, { cwd });

/** Whether this system's glibc can load Icechunk's native binding (≥ 2.38); otherwise the WASI build is used. */
function nativeIcechunk(): boolean {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)
    ?.header;
  const [major, minor] = (header?.glibcVersionRuntime ?? "0.0").split(".").map(Number);
  return process.platform !== "linux" || (major ?? 0) > 2 || ((major ?? 0) === 2 && (minor ?? 0) >= 38);
}

let root: { dir: string; cleanup: () => Promise<void> };
before(async () => {
  root = await tempDir("zc-cli-terms-");
});
after(async () => {
  await root.cleanup();
});

describe("store locations as given", () => {
  it("maps the URI of a relative local path to the path, or to an absolute file URL", () => {
    assert.equal(displayUrl("file://cols/x"), "cols/x");
    assert.equal(displayUrl("no _zcollection.json at file://cols/x"), "no _zcollection.json at cols/x");
    assert.equal(displayUrl("file:///abs/x"), "file:///abs/x");
    assert.equal(displayUrl("s3://bucket/x"), "s3://bucket/x");
    assert.equal(absoluteUri("file://cols/x"), pathToFileURL(join(process.cwd(), "cols/x")).href);
    assert.equal(absoluteUri("file:///abs/x"), "file:///abs/x");
    assert.equal(absoluteUri("memory://m"), "memory://m");
  });

  it("never prints file://<relative path>: ingest, inspect, ls, view create and errors, run from the parent directory", async () => {
    const cwd = join(root.dir, "work");
    await mkdir(cwd);
    const ingest = await zc(
      cwd,
      "ingest",
      "cols/x",
      JA1,
      "--key",
      "cycle_pass",
      "--exclude-dimension",
      "meas_ind",
    );
    assert.equal(ingest.code, 0, ingest.stderr);
    const [inspect, json, missing, view, missingQuery, rw] = await Promise.all([
      zc(cwd, "inspect", "cols/x"),
      zc(cwd, "inspect", "cols/x", "--json"),
      zc(cwd, "ls", "cols/nope"),
      zc(cwd, "view", "create", "cols/v", "--base", "cols/x", "--variable", "flag:int8"),
      zc(cwd, "query", "cols/nope", "--format", "csv"),
      zc(cwd, "drop", "cols/nope", "--filter", "pass_number == 2", "-y"),
    ]);
    const absolute = pathToFileURL(join(cwd, "cols/x")).href;
    assert.equal(inspect.stdout.split("\n")[0], `uri:          ${absolute}`);
    assert.equal(JSON.parse(json.stdout).uri, absolute);
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, "error: no _zcollection.json at cols/nope\n");
    assert.equal(missingQuery.stderr, "error: no _zcollection.json at cols/nope\n");
    assert.equal(rw.stderr, "error: no _zcollection.json at cols/nope\n");
    assert.equal(view.code, 0, view.stderr);
    assert.equal(view.stdout, "created view cols/v over cols/x: flag int8 (time)\n");
    for (const r of [ingest, inspect, json, missing, view, missingQuery, rw]) {
      assert.doesNotMatch(r.stdout + r.stderr, /file:\/\/(?!\/)/);
    }
  });
});

describe("errors name the flags", () => {
  it("rewrites library option names into flags, leaving other words alone", () => {
    assert.equal(
      cliMessage("drop them with `excludeDimensions` or `variables`; pass `axis`; lift it with `group`"),
      "drop them with --exclude-dimension or --variables; pass --axis; lift it with --group",
    );
    assert.equal(
      cliMessage("open a catalog-enabled collection (created with catalogEnabled: true) so partitions come"),
      "open a catalog-enabled collection (created with --catalog) so partitions come",
    );
    assert.equal(
      cliMessage("ask for fill values explicitly (insert option fillMissing: true, CLI --fill-missing)"),
      "ask for fill values explicitly (--fill-missing)",
    );
    assert.equal(cliMessage("use fillMissing or keepPacked: true"), "use --fill-missing or --keep-packed");
    assert.equal(cliMessage("the variables of axis 'time'"), "the variables of axis 'time'");
  });

  it("maps the messages of errors and warnings at the CLI boundary, not in the library", async () => {
    const io = await captureIO();
    const err = new StoreError("cannot list file://c/x: created with catalogEnabled: true", { key: "c/x" });
    assert.equal(reportError(err, io), 2);
    assert.equal(io.stderr.text, "error: cannot list c/x: created with --catalog\n");
    assert.equal(err.message, "cannot list file://c/x: created with catalogEnabled: true");
    const warning = Object.assign(new Error("the `axis` of file://c/x"), { name: "Warning" });
    assert.equal(warningLine(warning), "warning: the --axis of c/x");
    const note = Object.assign(new Error(WASI_NOTE), { name: WASI_NOTE_TYPE });
    assert.equal(warningLine(note), `note: ${WASI_NOTE}`);
    assert.equal(
      warningLine(
        Object.assign(new Error("WASI is an experimental feature"), { name: "ExperimentalWarning" }),
      ),
      undefined,
    );
    assert.ok(new SchemaError("pass `axis`").message.includes("`axis`"));
  });

  it("ingest: the NetCDF reader's advice and the refusal of a partial product name the flags", async () => {
    const cwd = join(root.dir, "flags");
    await mkdir(cwd);
    const axis = await zc(cwd, "ingest", "c", JA1, "--key", "cycle_pass", "--axis", "meas_ind", "--quiet");
    assert.equal(axis.code, 2);
    const line = axis.stderr.trimEnd();
    assert.equal(line.split("\n").length, 1);
    assert.match(
      line,
      /^error: '.*JA1_GPN.*\.nc': variables \[\/time, .*\] are on record dimension 'time', not on the axis 'meas_ind': drop them with --exclude-dimension or --variables$/,
    );

    const full = await zc(
      cwd,
      "ingest",
      "d",
      JA1,
      "--key",
      "cycle_pass",
      "--exclude-dimension",
      "meas_ind",
      "--quiet",
    );
    assert.equal(full.code, 0, full.stderr);
    const partial = await zc(
      cwd,
      "ingest",
      "d",
      JA1,
      "--variables",
      "time,alt",
      "--exclude-dimension",
      "meas_ind",
      "--quiet",
    );
    assert.equal(partial.code, 2);
    assert.match(
      partial.stderr,
      /^error: '.*JA1_GPN.*\.nc': the inserted dataset lacks \d+ variable\(s\) of the collection \(.*\) and partition 'cycle_number=1\/pass_number=2' already holds them: writing it would delete their stored values\. Insert them, or ask for fill values explicitly \(--fill-missing\)\n$/,
    );
  });
});

describe("the Icechunk WebAssembly note", () => {
  const expected = nativeIcechunk() ? "" : `note: ${WASI_NOTE}\n`;

  it("is printed once by a command opening an icechunk:// store, and never by one that does not", async () => {
    const cwd = join(root.dir, "ice");
    await mkdir(cwd);
    const ingest = await zc(
      cwd,
      "ingest",
      "icechunk://repo",
      JA1,
      "--key",
      "cycle_pass",
      "--exclude-dimension",
      "meas_ind",
      "--quiet",
    );
    assert.equal(ingest.code, 0, ingest.stderr);
    assert.equal(ingest.stderr, expected);
    const [ls, local] = await Promise.all([
      zc(cwd, "ls", "icechunk://repo"),
      zc(cwd, "ingest", "plain", JA1, "--key", "cycle_pass", "--exclude-dimension", "meas_ind", "--quiet"),
    ]);
    assert.equal(ls.stdout, "cycle_number=1/pass_number=2\n");
    assert.equal(ls.stderr, expected);
    assert.equal(local.code, 0, local.stderr);
    assert.equal(local.stderr, "");
  });

  it("is one process warning for library users, however many stores they open", async () => {
    const cwd = join(root.dir, "lib");
    await mkdir(cwd);
    const script =
      `const { openStore } = await import(${JSON.stringify(pathToFileURL(join(ROOT, "src/store/open.ts")).href)});` +
      `const { IcechunkStore } = await import(${JSON.stringify(pathToFileURL(join(ROOT, "src/index.ts")).href)});` +
      `await openStore("icechunk://a"); await openStore("icechunk://b"); await IcechunkStore.open("c");` +
      `console.log("opened"); process.exit(0);`;
    const r = await runNode(["--input-type=module", "-e", script], { cwd });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "opened\n");
    assert.doesNotMatch(r.stderr, /ExperimentalWarning|WASI is an experimental feature/);
    // Node prints a process warning as `(node:<pid>) [<code>] <type>: <message>`.
    const notes = r.stderr.split("\n").filter((l) => l.includes(WASI_NOTE_CODE));
    const line = `[${WASI_NOTE_CODE}] ${WASI_NOTE_TYPE}: ${WASI_NOTE}`;
    assert.equal(notes.length, nativeIcechunk() ? 0 : 1, r.stderr);
    for (const n of notes) assert.equal(n.replace(/^\(node:\d+\) /, ""), line);
  });
});
