import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { override } from "../../src/config.js";
import { CodecError } from "../../src/errors.js";
import {
  decodeChain,
  encodeChain,
  INLINE_BELOW_BYTES,
  shutdownCodecPool,
} from "../../src/zarr/compression/index.js";
import { poolStats } from "../../src/zarr/compression/pool.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const ctx = (key = "v/c/0") => ({ key, itemSize: 4 });

function float32Bytes(n: number): Uint8Array {
  const a = new Float32Array(n);
  let s = 7;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    a[i] = Math.cos(i / 300) * 50 + (s % 1000) / 1000;
  }
  return new Uint8Array(a.buffer);
}

const CHAINS = [
  [{ name: "zstd", configuration: { level: 3, checksum: false } }],
  [{ name: "zstd", configuration: { level: 3, checksum: true } }, { name: "crc32c" }],
  [{ name: "gzip", configuration: { level: 5 } }],
  [
    {
      name: "blosc",
      configuration: { cname: "zstd", clevel: 3, shuffle: "bitshuffle", typesize: 4, blocksize: 0 },
    },
  ],
  [{ name: "gzip", configuration: { level: 1 } }, { name: "crc32c" }],
];

after(() => shutdownCodecPool());

describe("codec worker pool", () => {
  it("gives the same bytes with codec.workers 0 and 2", async () => {
    const data = float32Bytes(100_000); // 400 kB: above the inline threshold
    assert.ok(data.length >= INLINE_BELOW_BYTES);
    for (const chain of CHAINS) {
      const inline = await override({ "codec.workers": 0 }, () => encodeChain(chain, data, ctx()));
      const before = poolStats()?.completed ?? 0;
      const pooled = await override({ "codec.workers": 2 }, () => encodeChain(chain, data, ctx()));
      const stats = poolStats();
      assert.ok(
        stats !== null && stats.threads === 2 && stats.completed === before + 1,
        "encoded in a worker",
      );
      assert.deepEqual(pooled, inline, JSON.stringify(chain));
      const back = await override({ "codec.workers": 2 }, () => decodeChain(chain, pooled, ctx()));
      assert.equal(poolStats()?.completed, before + 2, "decoded in a worker");
      assert.deepEqual(back, data);
      assert.deepEqual(await override({ "codec.workers": 0 }, () => decodeChain(chain, pooled, ctx())), data);
    }
  });
  it("codes small chunks, and everything when codec.workers < 2, on the calling thread", async () => {
    await override({ "codec.workers": 2 }, async () => {
      await encodeChain(CHAINS[0] ?? [], float32Bytes(100_000), ctx()); // make sure the pool exists
      const before = poolStats()?.completed;
      const small = float32Bytes(1000);
      const enc = await encodeChain(CHAINS[0] ?? [], small, ctx());
      assert.deepEqual(await decodeChain(CHAINS[0] ?? [], enc, ctx()), small);
      assert.equal(poolStats()?.completed, before);
    });
    // One worker would only add a hop: codec.workers 1 codes on the calling thread too.
    const before = poolStats()?.completed;
    const big = float32Bytes(100_000);
    const enc = await override({ "codec.workers": 1 }, () => encodeChain(CHAINS[0] ?? [], big, ctx()));
    assert.deepEqual(
      await override({ "codec.workers": 1 }, () => decodeChain(CHAINS[0] ?? [], enc, ctx())),
      big,
    );
    assert.equal(poolStats()?.completed, before);
  });
  it("copies the input unless the caller hands it over", async () => {
    await override({ "codec.workers": 2 }, async () => {
      const data = float32Bytes(50_000);
      const keep = data.slice();
      const enc = await encodeChain(CHAINS[0] ?? [], data, ctx());
      assert.equal(data.byteLength, keep.byteLength, "not detached");
      assert.deepEqual(data, keep);
      const given = keep.slice();
      const enc2 = await encodeChain(CHAINS[0] ?? [], given, { ...ctx(), transfer: true });
      assert.equal(given.byteLength, 0, "transferred to the worker");
      assert.deepEqual(enc2, enc);
      // A view on a larger buffer is copied even when handed over.
      const big = new Uint8Array(keep.length + 16);
      big.set(keep, 8);
      const view = big.subarray(8, 8 + keep.length);
      assert.deepEqual(await encodeChain(CHAINS[0] ?? [], view, { ...ctx(), transfer: true }), enc);
      assert.equal(view.byteLength, keep.length);
    });
  });
  it("runs many chunks concurrently and keeps results in place", async () => {
    await override({ "codec.workers": 2 }, async () => {
      const inputs = Array.from({ length: 12 }, (_, i) => float32Bytes(20_000 + i * 1000));
      const encoded = await Promise.all(
        inputs.map((d, i) => encodeChain(CHAINS[1] ?? [], d, ctx(`v/c/${i}`))),
      );
      const decoded = await Promise.all(
        encoded.map((e, i) => decodeChain(CHAINS[1] ?? [], e, ctx(`v/c/${i}`))),
      );
      for (const [i, d] of decoded.entries()) assert.deepEqual(d, inputs[i]);
    });
  });
  it("abandons pool tasks when the signal fires, and the pool keeps working", async () => {
    await override({ "codec.workers": 2 }, async () => {
      const ac = new AbortController();
      const data = float32Bytes(100_000);
      const tasks = Array.from({ length: 6 }, () =>
        encodeChain(CHAINS[0] ?? [], data, { ...ctx(), signal: ac.signal }),
      );
      ac.abort(new Error("stop writing"));
      const results = await Promise.allSettled(tasks);
      for (const r of results) {
        assert.equal(r.status, "rejected");
        assert.match(String((r as PromiseRejectedResult).reason), /stop writing/);
      }
      const before = poolStats()?.completed ?? 0;
      const enc = await encodeChain(CHAINS[0] ?? [], data, ctx());
      assert.deepEqual(await decodeChain(CHAINS[0] ?? [], enc, ctx()), data);
      assert.equal(poolStats()?.completed, before + 2, "still pooled");
    });
  });
  it("reports worker-side failures as CodecErrors naming the chunk", async () => {
    await override({ "codec.workers": 2 }, async () => {
      // With a frame checksum, any corruption of the payload is detected.
      const chain = [{ name: "zstd", configuration: { level: 3, checksum: true } }];
      const enc = await encodeChain(chain, float32Bytes(100_000), ctx());
      const corrupt = enc.slice();
      corrupt.fill(0x55, 100, 200);
      const before = poolStats()?.completed ?? 0;
      await assert.rejects(decodeChain(chain, corrupt, ctx("ssh/c/7")), (err: unknown) => {
        assert.ok(err instanceof CodecError);
        assert.equal(err.key, "ssh/c/7");
        assert.match(err.message, /^zstd: cannot decode chunk 'ssh\/c\/7'/);
        return true;
      });
      assert.equal(poolStats()?.completed, before + 1, "failed in a worker");
    });
  });
  it("an idle pool does not keep the process alive; shutdown is idempotent", () => {
    const script = `
      import { set } from "./src/config.js";
      import { encodeChain, shutdownCodecPool } from "./src/zarr/compression/index.js";
      import { poolStats } from "./src/zarr/compression/pool.js";
      set({ "codec.workers": 2 });
      const out = await encodeChain([{ name: "zstd" }], new Uint8Array(200000).fill(7), { key: "k", itemSize: 1 });
      console.log(out.length > 0 && poolStats()?.threads === 2 ? "pooled" : "inline");
      if (process.argv.includes("--shutdown")) { await shutdownCodecPool(); await shutdownCodecPool(); console.log("closed"); }
    `;
    for (const args of [[], ["--shutdown"]]) {
      const started = Date.now();
      const r = spawnSync(
        process.execPath,
        ["--import", "tsx", "--input-type=module", "-e", script, "--", ...args],
        {
          cwd: ROOT,
          encoding: "utf8",
          timeout: 30_000,
        },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), args.length ? "pooled\nclosed" : "pooled");
      // Well below piscina's 10 s idle timeout: the idle workers did not hold the event loop.
      assert.ok(Date.now() - started < 9000, `exited after ${Date.now() - started} ms`);
    }
  });
});

describe("browser safety", () => {
  it("the module graph of index.ts imports nothing Node-only statically", () => {
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const src = readFileSync(file, "utf8");
      for (const m of src.matchAll(/^import\s+(?!type\b)[^"']*from\s+["']([^"']+)["']/gm)) {
        const spec = m[1] as string;
        assert.ok(
          !spec.startsWith("node:") && !["piscina", "zstd-napi"].includes(spec),
          `${file} imports ${spec}`,
        );
        if (spec.startsWith(".")) visit(resolve(dirname(file), spec.replace(/\.js$/, ".ts")));
      }
      // Literal dynamic imports are followed by bundlers too: none may name a Node-only module.
      for (const m of src.matchAll(/(?<!typeof )import\(\s*["']([^"']+)["']/g)) {
        const spec = m[1] as string;
        assert.ok(
          !/^(node:|piscina$|zstd-napi)|\/pool\.js$/.test(spec),
          `${file} dynamically imports ${spec}`,
        );
      }
    };
    visit(join(ROOT, "src/zarr/compression/index.ts"));
    assert.ok(seen.size >= 5, [...seen].join(", "));
  });
  // With zcollection/wasm-codecs imported; the slim build (fzstd, no blosc) is tested in test/api/browser.test.ts.
  it("a browser bundle codes every codec without Node globals (wasm zstd/blosc, fflate gzip)", async (t) => {
    let esbuild: typeof import("esbuild");
    try {
      esbuild = await import("esbuild");
    } catch {
      t.skip("esbuild is not installed");
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), "zc-browser-"));
    try {
      await esbuild.build({
        stdin: {
          contents: 'import "./wasm-codecs.ts"; export * from "./index.ts";',
          resolveDir: join(ROOT, "src/zarr/compression"),
          loader: "ts",
        },
        bundle: true,
        platform: "browser",
        format: "esm",
        outfile: join(dir, "bundle.js"),
        logLevel: "silent",
      });
      writeFileSync(
        join(dir, "run.mjs"),
        `
        const realProcess = globalThis.process;
        globalThis.process = undefined;
        globalThis.Buffer = undefined;
        const m = await import("./bundle.js");
        const d = new Uint8Array(300000).map((_, i) => (i * 13) % 251);
        const out = [];
        for (const chain of [
          [{ name: "zstd", configuration: { level: 3, checksum: true } }, { name: "crc32c" }],
          [{ name: "gzip", configuration: { level: 5 } }],
          [{ name: "blosc", configuration: { cname: "lz4" } }],
        ]) {
          const e = await m.encodeChain(chain, d, { key: "k", itemSize: 4 });
          const r = await m.decodeChain(chain, e, { key: "k", itemSize: 4 });
          out.push(chain[0].name + ":" + (r.length === d.length && r.every((v, i) => v === d[i])));
        }
        try {
          await m.decodeChain([{ name: "gzip" }], new Uint8Array([31, 139, 8, 0, 1, 2]), { key: "bad/key", itemSize: 1 });
        } catch (e) {
          out.push(e.name + ":" + e.key);
        }
        globalThis.process = realProcess;
        console.log(out.join(" "));
      `,
      );
      const r = spawnSync(process.execPath, [join(dir, "run.mjs")], { encoding: "utf8", timeout: 30_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), "zstd:true gzip:true blosc:true CodecError:bad/key");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
