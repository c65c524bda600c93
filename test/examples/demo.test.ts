import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = join(import.meta.dirname, "../..");

/** The output of one `$ zcollection …` step of the demo: the command line, then what it printed. */
function step(stdout: string, command: RegExp): string {
  const found = stdout.split("\n$ zcollection ").find((s) => command.test(s.split("\n")[0] as string));
  assert.ok(found !== undefined, `no step ${command}`);
  return found;
}

describe("examples/demo.mjs", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  it("shows values, per-variable summaries and an unchanged upsert re-ingest", {
    timeout: 180_000,
  }, async (t) => {
    if (!existsSync(join(root, "dist/cli/main.js"))) {
      // `npm test` builds first; a bare `node --test` run without a build has no CLI to drive.
      t.skip("dist/ not built");
      return;
    }
    const dir = await mkdtemp(join(tmpdir(), "zc-demo-"));
    dirs.push(dir);
    const { stdout } = await run(process.execPath, [join(root, "examples/demo.mjs"), dir], {
      cwd: root,
      maxBuffer: 1 << 26,
    });
    assert.match(stdout, /re-ingest with --merge upsert: the 12284 rows and their summary are unchanged/);
    // Rows with values, coordinates without the noise of unpacking.
    const s6rows = step(stdout, /^query .*sentinel6 --filter "pass_number == 191" --variables time,/);
    assert.match(s6rows, /^2021-04-03T00:40:57 {2}55\.176348 {2}321\.466885 {2}-0\.0567 {9}3\.066$/m);
    const ja1rows = step(stdout, /^query .*jason1 --variables/);
    assert.match(ja1rows, /^2002-01-15T06:07:06\.819279 {2}66\.148217 {2}183\.167751 {2}1354252\.5185 /m);
    assert.doesNotMatch(ja1rows, /\d{15}|nan/);
    // Summaries agreeing with ncdump: 514 valid ku/ssha summing to 7.6063 on pass 191, none on pass 192,
    // 1844 valid Jason-1 ssha summing to 9.422.
    const pass191 = step(stdout, /^query .*--summary --filter "pass_number == 191"/);
    assert.match(pass191, /^ku\/ssha +float64 +514 +600 +-0\.1123 +1\.0208 +0\.01479825 +m$/m);
    const pass192 = step(stdout, /^query .*--summary --filter "pass_number == 192"/);
    assert.match(pass192, /^ku\/ssha +float64 +0 +600 +m$/m);
    const ja1 = step(stdout, /^query .*jason1 --summary/);
    assert.match(ja1, /^ssha +float64 +1844 +2240 +-0\.385 +0\.5 +0\.005109544 +m$/m);
    const cryosat = step(stdout, /^query .*cryosat2 --summary/);
    assert.match(cryosat, /^elevation +float64 +9090 +12284 /m);
    const ascat = step(stdout, /^query .*ascat --summary/);
    assert.match(ascat, /^wind_speed +float64 +26248 +40320 /m);
    assert.match(stdout, /to look at one in a browser: npx zcollection serve file:\/\/.*\/ascat\n$/);
  });
});
