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
    assert.match(stdout, /written: \[ 'year=2024\/month=01', 'year=2024\/month=02', 'year=2024\/month=03' \]/);
    assert.match(stdout, /merged: {2}\[ 'year=2024\/month=03', 'year=2024\/month=04' \]/);
    // 2024-03-01T00 .. 2024-03-10T00 from the first batch (37 rows) + 120 rows from 03-10T00 with one
    // instant in common (upsert replaces it): 36 + 120 = 156 rows in March and April.
    assert.match(stdout, /rows 156, first 2024-03-01T00:00:00, last 2024-04-08T18:00:00/);
  });
});
