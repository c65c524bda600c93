import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { promisify } from "node:util";
import { formatDatetime64 } from "../../src/dtype.js";
import { openNetCDF } from "../../src/netcdf/index.js";

const run = promisify(execFile);
const root = join(import.meta.dirname, "../..");
const DATA = join(root, "examples/data");
const P191 = "S6A_P4_2__HR_RED__NR_014_191_20210403T004056_20210403T005056_F00.nc";
const P192 = "S6A_P4_2__HR_RED__NR_014_192_20210403T005056_20210403T010056_F00.nc";

describe("examples/index-and-view.mjs", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  it("indexes the passes, reads one through the index, and derives a variable in a view", async (t) => {
    if (!existsSync(join(root, "dist/index.js"))) {
      t.skip("dist/ not built");
      return;
    }
    const dir = await mkdtemp(join(tmpdir(), "zc-example-iv-"));
    dirs.push(dir);
    const { stdout } = await run(process.execPath, [join(root, "examples/index-and-view.mjs"), dir], {
      cwd: root,
    });
    // What the products hold, read independently of the collection.
    const p192 = await openNetCDF(join(DATA, P192), { group: "/data_01", variables: ["time"] });
    const t192 = p192.dataset.getVariable("time").array.data as BigInt64Array;
    const p191 = await openNetCDF(join(DATA, P191), {
      group: "/data_01",
      variables: ["time", "altitude", "ku/range_ocean"],
    });
    const alt = p191.dataset.getVariable("altitude").array.data as Float64Array;
    const range = p191.dataset.getVariable("ku/range_ocean").array.data as Float64Array;
    const heights = [...alt].map((a, i) => a - (range[i] as number)).filter((h) => !Number.isNaN(h));
    const mean = heights.reduce((s, h) => s + h, 0) / heights.length;

    assert.match(stdout, /^partitions: year=2021\/month=04\/day=03$/m);
    assert.match(stdout, /^index: 2 rows, key columns cycle_number, pass_number$/m);
    assert.match(stdout, /^pass 192: year=2021\/month=04\/day=03 rows \[\[600,1200\]\]$/m);
    const first = formatDatetime64(t192[0] as bigint, "ns");
    const last = formatDatetime64(t192[t192.length - 1] as bigint, "ns");
    assert.ok(stdout.includes(`pass 192: ${t192.length} rows from ${first} to ${last}, passes 192`), stdout);
    assert.ok(
      stdout.includes(
        `view pass 191: ${alt.length} rows, ${heights.length} with a surface height (mean ${mean.toFixed(3)} m), ` +
          "max |surface_height - (altitude - range)| = 0",
      ),
      stdout,
    );
    assert.match(stdout, /^base unchanged: true$/m);
  });
});
