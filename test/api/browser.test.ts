import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { build } from "esbuild";

// The package root must bundle for browsers: no Node-only module reachable through static imports or
// visible dynamic imports (local files, Icechunk and the codec pool load on first use in Node only).
describe("browser bundle of the package root", () => {
  it("bundles src/index.ts for the browser platform without Node built-ins", async () => {
    const result = await build({
      entryPoints: [join(import.meta.dirname, "../../src/index.ts")],
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      logLevel: "silent",
      metafile: true,
    });
    assert.deepEqual(result.errors, []);
    const inputs = Object.keys(result.metafile.inputs);
    assert.ok(inputs.some((p) => p.endsWith("src/store/http.ts")));
    for (const nodeOnly of [
      "src/store/icechunk.ts",
      "src/store/icechunk-fs.ts",
      "src/zarr/compression/pool.ts",
    ]) {
      assert.ok(!inputs.some((p) => p.endsWith(nodeOnly)), `${nodeOnly} is in the browser bundle`);
    }
    const text = result.outputFiles[0]?.text ?? "";
    assert.doesNotMatch(text, /from\s+["']node:/);
  });
});
