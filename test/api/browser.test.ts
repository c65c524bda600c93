/**
 * The package in browsers: the root bundles without Node code; the slim read
 * path (open a collection over HTTP, query it, decode zstd) stays within its
 * size budget and leaves the AWS SDK, Icechunk, numcodecs and Node modules
 * out; and that bundle, run without Node's \`process\`, reads zstd (fzstd),
 * gzip (fflate) and crc32c chunks over HTTP exactly as Node does, and names
 * blosc when it meets it.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { build, type Metafile } from "esbuild";
import { CodecStack } from "../../src/codecs/index.js";
import { createCollection, openCollection } from "../../src/collection/index.js";
import { Dataset } from "../../src/data/index.js";
import { NDArray } from "../../src/ndarray.js";
import { Sequence } from "../../src/partitioning/index.js";
import { Schema } from "../../src/schema/index.js";
import { napiZstdBackend, wasmZstdBackend } from "../../src/zarr/compression/zstd.js";
import { fzstdZstdBackend } from "../../src/zarr/compression/zstd-fzstd.js";
import { type StaticServer, serveDirectory } from "../helpers/static-server.js";

const ROOT = join(import.meta.dirname, "../..");
const INDEX = join(ROOT, "src/index.ts");

/** Most bytes, gzipped, of a minified browser bundle that opens, queries and decodes zstd. */
const SLIM_BUDGET_GZIP = 200_000;

/** What a browser bundle must never carry. */
const FORBIDDEN = [
  /node_modules\/@aws-sdk\//,
  /node_modules\/@smithy\//,
  /node_modules\/numcodecs\//,
  /node_modules\/piscina\//,
  /node_modules\/zstd-napi\//,
  /node_modules\/@earthmover\//,
  /node_modules\/h5wasm/,
  /src\/store\/icechunk\.ts$/,
  /src\/store\/icechunk-fs\.ts$/,
  /src\/store\/fs-atomic\.ts$/,
  /src\/zarr\/compression\/pool\.ts$/,
  /src\/zarr\/compression\/worker\.ts$/,
  /src\/viewer\//, // the library never imports the viewer
  /src\/cli\//,
];

/** The slim read path as an application would write it. */
const SLIM_APP = `
import { openCollection } from ${JSON.stringify(INDEX)};
const url = globalThis.ZC_URL ?? "https://example.org/collection";
const col = await openCollection(url);
const ds = await col.query({ filters: globalThis.ZC_FILTER ?? null, variables: globalThis.ZC_VARIABLES });
const out = {};
for (const name of globalThis.ZC_VARIABLES ?? []) out[name] = Array.from((await ds.getVariable(name).toArray()).data);
globalThis.ZC_RESULT = out;
`;

async function bundle(
  entry: { file: string } | { contents: string },
  minify: boolean,
): Promise<{ code: Uint8Array; inputs: string[]; metafile: Metafile }> {
  const result = await build({
    ...("file" in entry
      ? { entryPoints: [entry.file] }
      : { stdin: { contents: entry.contents, resolveDir: ROOT, loader: "js" as const } }),
    bundle: true,
    platform: "browser",
    format: "esm",
    write: false,
    minify,
    logLevel: "silent",
    metafile: true,
  });
  assert.deepEqual(result.errors, []);
  return {
    code: result.outputFiles[0]?.contents ?? new Uint8Array(),
    inputs: Object.keys(result.metafile.inputs),
    metafile: result.metafile,
  };
}

function assertClean(inputs: readonly string[], code: Uint8Array): void {
  for (const re of FORBIDDEN) {
    const hit = inputs.find((p) => re.test(p));
    assert.equal(hit, undefined, `${hit} is in the browser bundle`);
  }
  assert.doesNotMatch(new TextDecoder().decode(code), /from\s*["']node:|import\(\s*["']node:/);
}

describe("browser bundle of the package root", () => {
  it("bundles src/index.ts for the browser platform without Node built-ins, SDKs or WebAssembly codecs", async () => {
    const { code, inputs } = await bundle({ file: INDEX }, true);
    assert.ok(inputs.some((p) => p.endsWith("src/store/http.ts")));
    assertClean(inputs, code);
    // Everything the root exports, minified: 2.3 MB (729 kB gzipped) with the SDK and numcodecs inside.
    assert.ok(gzipSync(code).length < 400_000, `root bundle ${gzipSync(code).length} B gzipped`);
  });

  it(`opens a collection over HTTP, queries it and decodes zstd in at most ${SLIM_BUDGET_GZIP / 1000} kB gzipped`, async () => {
    const { code, inputs } = await bundle({ contents: SLIM_APP }, true);
    assertClean(inputs, code);
    for (const needed of ["src/store/http.ts", "src/collection/collection.ts", "node_modules/fzstd/"]) {
      assert.ok(
        inputs.some((p) => p.includes(needed)),
        `${needed} is missing from the slim bundle`,
      );
    }
    const gz = gzipSync(code, { level: 9 }).length;
    assert.ok(gz <= SLIM_BUDGET_GZIP, `slim bundle: ${code.length} B, ${gz} B gzipped > ${SLIM_BUDGET_GZIP}`);
  });
});

describe("the browser codecs (fzstd)", () => {
  it("decodes frames of the Node encoders, verifies their checksums, refuses to encode", async () => {
    const data = new Uint8Array(200_000).map((_, i) => (i * 7919) % 253);
    const encoder = (await napiZstdBackend()) ?? wasmZstdBackend();
    const fz = fzstdZstdBackend();
    for (const checksum of [true, false]) {
      const frame = await encoder.compress(data, 3, checksum);
      assert.deepEqual(await fz.decompress(frame), data);
      if (checksum) {
        const bad = frame.slice();
        bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 0xff;
        await assert.rejects(async () => fz.decompress(bad), /checksum mismatch/);
      }
    }
    const frame = await encoder.compress(data, 3, true);
    await assert.rejects(async () => fz.decompress(frame.subarray(0, frame.length - 100)));
    assert.throws(() => fz.compress(data, 3, true), /zstd encoding is not available/);
  });
});

describe("the slim bundle reads over HTTP without Node globals", () => {
  let dir: string;
  let server: StaticServer;
  let script: string;
  const rows = 5000;
  const time = BigInt64Array.from({ length: rows }, (_, i) => BigInt(i));
  const zstdValues = Float64Array.from({ length: rows }, (_, i) =>
    i % 97 === 0 ? Number.NaN : Math.sin(i / 50),
  );
  const gzipValues = Float32Array.from({ length: rows }, (_, i) => i / 8);
  const bloscValues = Int32Array.from({ length: rows }, (_, i) => i * 3);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "zc-slim-"));
    const gzip = new CodecStack({
      arrayToBytes: { name: "bytes", configuration: { endian: "little" } },
      bytesToBytes: [{ name: "gzip", configuration: { level: 5 } }, { name: "crc32c" }],
    });
    const blosc = new CodecStack({
      arrayToBytes: { name: "bytes", configuration: { endian: "little" } },
      bytesToBytes: [{ name: "blosc", configuration: { cname: "lz4", clevel: 5 } }],
    });
    const schema = Schema()
      .withDimension("time", { chunks: 1000 })
      .withVariable("time", { dtype: "int64", dimensions: ["time"] })
      .withVariable("part", { dtype: "int64", dimensions: ["time"] })
      .withVariable("z", { dtype: "float64", dimensions: ["time"], fillValue: Number.NaN })
      .withVariable("g", { dtype: "float32", dimensions: ["time"], codecs: gzip })
      .withVariable("b", { dtype: "int32", dimensions: ["time"], codecs: blosc })
      .build();
    const col = await createCollection(pathToFileURL(join(dir, "col")).href, {
      schema,
      axis: "time",
      partitioning: new Sequence(["part"], { dimension: "time" }),
      catalogEnabled: true,
    });
    const part = BigInt64Array.from({ length: rows }, (_, i) => BigInt(Math.floor(i / 2500)));
    await col.insert(
      Dataset.fromArrays(schema, {
        time: NDArray.from(time, { dtype: "int64" }),
        part: NDArray.from(part, { dtype: "int64" }),
        z: zstdValues,
        g: gzipValues,
        b: bloscValues,
      }),
    );
    server = await serveDirectory(join(dir, "col"));
    const { code } = await bundle({ contents: SLIM_APP }, false);
    writeFileSync(join(dir, "app.mjs"), code);
    script = join(dir, "run.mjs");
    writeFileSync(
      script,
      `
      const [url, variables, filter] = JSON.parse(process.argv[2]);
      const write = (s) => process.stdout.write(s);
      Object.assign(globalThis, { ZC_URL: url, ZC_VARIABLES: variables, ZC_FILTER: filter });
      const realProcess = globalThis.process;
      // Node's own fetch needs Buffer; process is what the library looks at (and Chromium runs the viewer).
      globalThis.process = undefined;
      let out;
      try {
        await import("./app.mjs");
        out = { ok: globalThis.ZC_RESULT };
      } catch (e) {
        out = { error: e.name + ": " + e.message };
      }
      globalThis.process = realProcess;
      write(JSON.stringify(out, (k, v) => (typeof v === "bigint" ? String(v) : Number.isNaN(v) ? "NaN" : v)));
    `,
    );
  });

  after(async () => {
    await server?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the slim bundle in a child process (asynchronously: the server lives in this one). */
  async function read(
    variables: string[],
    filter: string | null = null,
  ): Promise<{ ok?: Record<string, unknown[]>; error?: string }> {
    const child = spawn(process.execPath, [script, JSON.stringify([server.url, variables, filter])], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding("utf8").on("data", (s: string) => {
      stderr += s;
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    assert.equal(code, 0, stderr);
    return JSON.parse(stdout) as { ok?: Record<string, unknown[]>; error?: string };
  }

  it("returns what Node reads, zstd (with fill values) and gzip + crc32c", async () => {
    const got = await read(["time", "z", "g"]);
    assert.equal(got.error, undefined);
    const nodeDs = await (await openCollection(pathToFileURL(join(dir, "col")).href)).query({
      variables: ["z", "g"],
    });
    const z = Array.from((await nodeDs?.getVariable("z").toArray())?.data as Float64Array, (v) =>
      Number.isNaN(v) ? "NaN" : v,
    );
    assert.deepEqual(got.ok?.z, z);
    assert.deepEqual(got.ok?.z?.length, rows);
    assert.deepEqual(got.ok?.g, Array.from(gzipValues));
    assert.deepEqual(got.ok?.time, Array.from(time, String));
    const half = await read(["z"], "part == 1");
    assert.deepEqual(half.ok?.z, z.slice(2500));
  });

  it("names blosc, left out of browser builds, when a chunk needs it", async () => {
    const got = await read(["b"]);
    assert.match(got.error ?? "", /blosc/);
    assert.match(got.error ?? "", /not available in this browser build/);
  });
});
