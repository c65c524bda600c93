// Builds the collection viewer (src/viewer) into dist/viewer/: index.html, viewer.js (one ES module,
// the library and the plotting libraries bundled, no CDN) and viewer.css. Run by `npm run build`
// after tsc; `zcollection serve` serves these files, and they also work as a static page
// (index.html?url=https://…/collection).
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src/viewer");
const out = join(root, "dist/viewer");
mkdirSync(out, { recursive: true });

const common = { bundle: true, minify: true, write: true, logLevel: "warning", legalComments: "none" };
const js = await build({
  ...common,
  entryPoints: [join(src, "main.ts")],
  outfile: join(out, "viewer.js"),
  platform: "browser",
  format: "esm",
  target: ["es2022"],
  sourcemap: false,
  metafile: true,
});
const css = await build({
  ...common,
  stdin: { contents: '@import "uplot/dist/uPlot.min.css";\n@import "./style.css";\n', resolveDir: src, loader: "css" },
  outfile: join(out, "viewer.css"),
  metafile: true,
});
copyFileSync(join(src, "index.html"), join(out, "index.html"));

for (const result of [js, css]) {
  for (const [file, o] of Object.entries(result.metafile.outputs)) {
    const { readFileSync } = await import("node:fs");
    const bytes = readFileSync(join(root, file));
    if (process.env.ZC_QUIET_BUILD !== "1") {
      console.log(`${file}: ${(o.bytes / 1000).toFixed(0)} kB (${(gzipSync(bytes).length / 1000).toFixed(0)} kB gzipped)`);
    }
  }
}
