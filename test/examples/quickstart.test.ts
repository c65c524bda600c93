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

describe("examples/quickstart.mjs", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  it("runs against the built package and prints the merged March query", async (t) => {
    if (!existsSync(join(root, "dist/index.js"))) {
      // `npm test` builds first; a bare `node --test` run without a build cannot import the package.
      t.skip("dist/ not built");
      return;
    }
    const dir = await mkdtemp(join(tmpdir(), "zc-example-"));
    dirs.push(dir);
    const { stdout } = await run(process.execPath, [join(root, "examples/quickstart.mjs"), `file://${dir}`], {
      cwd: root,
    });
    assert.match(
      stdout,
      /written: \[ 'year=2024\/month=01', 'year=2024\/month=02', 'year=2024\/month=03' \]/,
    );
    assert.match(stdout, /merged: {2}\[ 'year=2024\/month=03', 'year=2024\/month=04' \]/);
    // First batch: 2024-01-20T00 + 6 h steps up to 2024-03-09T18 (200 rows); second: 2024-03-05T00 up to
    // 2024-04-03T18 (120 rows). March and April keep the 16 first-batch rows before 03-05 and the 120 new ones;
    // the 20 overlapping instants now hold the second batch's values.
    assert.match(stdout, /rows 136, first 2024-03-01T00:00:00, last 2024-04-03T18:00:00/);
    assert.match(stdout, /ssh at 2024-03-05T00:00:00: 0.10000000149011612/);
  });
});
