/**
 * `zcollection ingest` run in-process on the bundled products: flags that
 * contradict the existing collection, files given twice, the summary's
 * row figures (rows stored after the merge, not rows read), the progress
 * lines written when stderr is not a terminal, and `--keep-packed`.
 */

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { run } from "../../src/cli/program.js";
import { openCollection } from "../../src/collection/index.js";
import { DATA_DIR, expectedFor } from "../netcdf/expected.js";
import { Capture, captureIO, tempDir } from "./helpers.js";

const CS = [
  "CS_OFFL_SIR_TDP_LI_ANTARC_20100718T001450_20100718T001611_01_02650_B001.nc",
  "CS_OFFL_SIR_TDP_LI_ANTARC_20100731T203419_20100731T203857_02_03271_C001.nc",
].map((f) => join(DATA_DIR, f));
const S6A = [
  "S6A_P4_2__HR_RED__NR_014_191_20210403T004056_20210403T005056_F00.nc",
  "S6A_P4_2__HR_RED__NR_014_192_20210403T005056_20210403T010056_F00.nc",
].map((f) => join(DATA_DIR, f));
const JA1 = join(DATA_DIR, "JA1_GPN_2PeP001_002_20020115_060706_20020115_070316.nc");
const [CS0, CS1] = CS as [string, string];

/** `zcollection <args>` in-process, stderr not a terminal (or one with `tty`). */
async function zc(args: readonly string[], tty = false) {
  const io = await captureIO();
  if (tty) io.stderr = Object.assign(new Capture(true), { columns: 120 });
  const code = await run(args, io);
  return { code, stdout: io.stdout.text, stderr: io.stderr.text };
}

/** The figures of a summary line, everything but the timing and size. */
function figures(stdout: string): string {
  const m = /^ingested (.*), \d+\.\d\d MB decoded, \d+\.\d\d s\n$/.exec(stdout);
  assert.ok(m !== null, JSON.stringify(stdout));
  return m[1] as string;
}

/** Rows stored in the collection at `path`. */
async function storedRows(path: string): Promise<number> {
  const ds = await (await openCollection(path)).query({ variables: ["time"] });
  return ds?.getVariable("time").shape[0] ?? 0;
}

let root: { dir: string; cleanup: () => Promise<void> };
before(async () => {
  root = await tempDir("zc-cli-ingest-flags-");
});
after(async () => {
  await root.cleanup();
});

describe("ingest flags against an existing collection", () => {
  it("refuses --key, --resolution or --time that contradict it, naming both values", async () => {
    const target = join(root.dir, "by-day");
    const created = await zc(["ingest", target, CS0, "--key", "date", "--resolution", "D", "--quiet"]);
    assert.equal(created.code, 0, created.stderr);
    const refused = async (flags: string[], wrong: string) => {
      const r = await zc(["ingest", target, CS1, ...flags]);
      assert.equal(r.code, 1, flags.join(" "));
      assert.equal(r.stdout, "");
      assert.equal(
        r.stderr,
        `error: the collection at '${target}' is partitioned with --key date --resolution D --time time, not ${wrong}\n`,
      );
    };
    await refused(["--resolution", "M"], "--resolution M");
    await refused(["--key", "cycle"], "--key cycle");
    await refused(
      ["--key", "date", "--resolution", "h", "--time", "time_20hz"],
      "--resolution h --time time_20hz",
    );
    assert.deepEqual(await (await openCollection(target)).partitions(), ["year=2010/month=07/day=18"]);
    // The collection's own values, given or left out, are accepted.
    const agreed = await zc([
      "ingest",
      target,
      CS1,
      "--key",
      "date",
      "--resolution",
      "D",
      "--time",
      "time",
      "--quiet",
    ]);
    assert.equal(agreed.code, 0, agreed.stderr);
    assert.deepEqual(await (await openCollection(target)).partitions(), [
      "year=2010/month=07/day=18",
      "year=2010/month=07/day=31",
    ]);

    const passes = join(root.dir, "by-pass");
    const s6 = await zc([
      "ingest",
      passes,
      S6A[0] as string,
      "--key",
      "cycle_pass",
      "--group",
      "/data_01",
      "--quiet",
    ]);
    assert.equal(s6.code, 0, s6.stderr);
    const r = await zc(["ingest", passes, S6A[1] as string, "--group", "/data_01", "--resolution", "M"]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `error: the collection at '${passes}' is partitioned with --key cycle_pass, not --resolution M\n`,
    );
  });
});

describe("ingest of a file given twice", () => {
  it("reports each repetition once on stderr and ingests the file once, even with --merge concat", async () => {
    const target = join(root.dir, "twice");
    const rows = expectedFor(CS0.split("/").pop() as string).variables["/time"]?.shape[0] as number;
    const r = await zc([
      "ingest",
      target,
      CS0,
      `./${CS0}`,
      CS1,
      resolve(CS1),
      "--key",
      "date",
      "--merge",
      "concat",
      "--quiet",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stderr,
      `skipped duplicate './${CS0}' (same file as '${CS0}')\n` +
        `skipped duplicate '${resolve(CS1)}' (same file as '${CS1}')\n`,
    );
    const rows1 = expectedFor(CS1.split("/").pop() as string).variables["/time"]?.shape[0] as number;
    assert.equal(
      figures(r.stdout),
      `2 file(s): ${rows + rows1} new rows, 0 rows replaced, 2 partition(s) written`,
    );
    assert.equal(await storedRows(target), rows + rows1);

    const again = await zc(["ingest", target, CS0, CS0, "--merge", "concat", "--quiet"]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stderr, `skipped duplicate '${CS0}' (already given)\n`);
    assert.equal(
      figures(again.stdout),
      `1 file(s): ${rows} new rows, 0 rows replaced, 1 partition(s) written`,
    );
    assert.equal(await storedRows(target), 2 * rows + rows1);
  });
});

describe("the ingest summary", () => {
  it("counts the rows stored after the merge: new, replaced, removed", async () => {
    const target = join(root.dir, "month");
    const [rows0, rows1] = CS.map(
      (f) => expectedFor(f.split("/").pop() as string).variables["/time"]?.shape[0] as number,
    ) as [number, number];
    const steps: Array<[string[], string, number]> = [
      [[CS0, "--key", "date", "--resolution", "M"], `${rows0} new rows, 0 rows replaced`, rows0],
      [[CS1, "--merge", "concat"], `${rows1} new rows, 0 rows replaced`, rows0 + rows1],
      // The same rows again: nothing new, each replaces its stored twin.
      [[CS0, "--merge", "upsert"], `0 new rows, ${rows0} rows replaced`, rows0 + rows1],
      [[CS0, CS1, "--merge", "time_series"], `0 new rows, ${rows0 + rows1} rows replaced`, rows0 + rows1],
      // The first product alone replaces the month: the second product's rows go.
      [
        [CS0, "--merge", "replace"],
        `0 new rows, ${rows0} rows replaced, ${rows1} stored rows removed`,
        rows0,
      ],
    ];
    for (const [args, expected, stored] of steps) {
      const r = await zc(["ingest", target, ...args, "--quiet"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        figures(r.stdout),
        `${args.filter((a) => a.endsWith(".nc")).length} file(s): ${expected}, 1 partition(s) written`,
      );
      assert.equal(await storedRows(target), stored, args.join(" "));
    }
  });
});

describe("progress on stderr", () => {
  it("is one line per file read and per partition written when stderr is not a terminal; --quiet silences it", async () => {
    const target = join(root.dir, "lines");
    const args = ["ingest", target, ...S6A, "--key", "cycle_pass", "--group", "/data_01"];
    const r = await zc(args);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stderr,
      `read ${S6A[0]}: 600 rows, 1 partition(s)\n` +
        `read ${S6A[1]}: 600 rows, 1 partition(s)\n` +
        `wrote cycle_number=14/pass_number=191 from ${S6A[0]}\n` +
        `wrote cycle_number=14/pass_number=192 from ${S6A[1]}\n`,
    );
    const quiet = await zc([...args, "--quiet"]);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stderr, "");

    const drop = await zc(["drop", target, "--filter", "cycle_number == 14", "-y"]);
    assert.equal(drop.code, 0, drop.stderr);
    assert.equal(drop.stdout, "dropped 2 partition(s)\n");
    assert.deepEqual(drop.stderr.split("\n").sort(), [
      "",
      "dropped cycle_number=14/pass_number=191",
      "dropped cycle_number=14/pass_number=192",
    ]);
    const again = await zc([...args, "--quiet"]);
    assert.equal(again.code, 0, again.stderr);
    const dropQuiet = await zc(["drop", target, "--filter", "pass_number == 191", "-y", "--quiet"]);
    assert.equal(dropQuiet.stdout, "dropped 1 partition(s)\n");
    assert.equal(dropQuiet.stderr, "");
  });

  it("is the progress bar on a terminal, without the lines", async () => {
    const target = join(root.dir, "bar");
    const r = await zc(["ingest", target, ...S6A, "--key", "cycle_pass", "--group", "/data_01"], true);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /ingest \[[█░]{30}\] \d\/4 /);
    assert.doesNotMatch(r.stderr, /^(read|wrote) /m);
    const quiet = await zc(["drop", target, "--filter", "pass_number == 191", "-y", "--quiet"], true);
    assert.equal(quiet.stderr, "");
  });
});

describe("ingest --keep-packed", () => {
  it("stores packed integers as they are in the file, with their CF attributes", async () => {
    const packed = join(root.dir, "packed");
    const plain = join(root.dir, "unpacked");
    const common = ["--key", "cycle_pass", "--exclude-dimension", "meas_ind", "--quiet"];
    const [a, b] = [
      await zc(["ingest", packed, JA1, "--keep-packed", ...common]),
      await zc(["ingest", plain, JA1, ...common]),
    ];
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const col = await openCollection(packed);
    const ssha = col.schema.getVariable("ssha");
    assert.equal(ssha.dtype, "int16");
    assert.equal(ssha.fillValue, 32767);
    assert.equal(ssha.attrs.scale_factor, 0.001);
    assert.equal(col.schema.getVariable("lat").dtype, "int32");
    assert.equal((await openCollection(plain)).schema.getVariable("ssha").dtype, "float64");
    const config = JSON.parse(await readFile(join(packed, "_zcollection.json"), "utf8"));
    assert.equal(JSON.stringify(config).includes('"scale_factor":0.001'), true);

    // The stored integers are ncdump's raw values; unpacked, they are what a plain ingest stores.
    const expected = expectedFor("JA1_GPN").variables;
    const stored = await col.query({ variables: ["ssha", "lat"] });
    const unpacked = await (await openCollection(plain)).query({ variables: ["ssha", "lat"] });
    for (const name of ["ssha", "lat"]) {
      const raw = Array.from(stored?.getVariable(name).array.data as ArrayLike<number>);
      const values = Array.from(unpacked?.getVariable(name).array.data as Float64Array);
      const want = expected[`/${name}`];
      assert.ok(want !== undefined);
      for (const s of want.samples) assert.equal(raw[s.index], s.raw, `${name}[${s.index}]`);
      const scaleAttr = want.attributes.scale_factor;
      assert.ok(scaleAttr !== undefined, `${name} is packed`);
      const scale = Number((scaleAttr.value as number[])[0]);
      const fill =
        want.attributes._FillValue === undefined
          ? undefined
          : Number((want.attributes._FillValue.value as number[])[0]);
      assert.equal(raw.filter((x) => x === fill).length, want.missing, `${name}: fill values`);
      raw.forEach((x, i) => {
        if (x === fill) assert.ok(Number.isNaN(values[i]), `${name}[${i}]`);
        else
          assert.ok(
            Math.abs(x * scale - (values[i] as number)) < 1e-9,
            `${name}[${i}]: ${x} vs ${values[i]}`,
          );
      });
    }
  });

  it("refuses a product packed on one side only; --keep-packed on an executor stores the same", async () => {
    const packed = join(root.dir, "packed-only");
    const plain = join(root.dir, "plain-only");
    const common = ["--exclude-dimension", "meas_ind", "--quiet"];
    assert.equal(
      (await zc(["ingest", packed, JA1, "--key", "cycle_pass", "--keep-packed", ...common])).code,
      0,
    );
    assert.equal((await zc(["ingest", plain, JA1, "--key", "cycle_pass", ...common])).code, 0);
    const unpackedIn = await zc(["ingest", packed, JA1, ...common]);
    assert.equal(unpackedIn.code, 2);
    assert.match(
      unpackedIn.stderr,
      /^error: '.*JA1_GPN.*\.nc': variable '(\w+)' was unpacked from the file but the collection stores it packed \(int\d+, scale_factor [\d.e-]+(, add_offset [\d.e-]+)?\): ingest with --keep-packed\n$/,
    );
    const packedIn = await zc(["ingest", plain, JA1, "--keep-packed", ...common]);
    assert.equal(packedIn.code, 2);
    assert.match(
      packedIn.stderr,
      /^error: '.*JA1_GPN.*\.nc': variable '(\w+)' is packed in the file \(int\d+, scale_factor [\d.e-]+(, add_offset [\d.e-]+)?\) but the collection stores it unpacked \(float64\): ingest without --keep-packed\n$/,
    );
    const distributed = join(root.dir, "packed-executor");
    const viaExecutor = await zc([
      "ingest",
      distributed,
      JA1,
      "--key",
      "cycle_pass",
      "--keep-packed",
      "--executor",
      "in-process",
      ...common,
    ]);
    assert.equal(viaExecutor.code, 0, viaExecutor.stderr);
    const [x, y] = await Promise.all([
      zc(["query", packed, "--format", "json"]),
      zc(["query", distributed, "--format", "json"]),
    ]);
    assert.equal(y.stdout, x.stdout);
    assert.ok(x.stdout.length > 1000);
  });
});
