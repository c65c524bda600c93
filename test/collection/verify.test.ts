/**
 * Corruption is detected: collections written with the default profile
 * carry the zstd frame checksum, so a damaged chunk makes reads fail with a
 * CodecError naming it, and `verifyPartitions` / `zcollection verify` report
 * every damaged chunk, shard, index and document by key.
 */

import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import * as zstdNapi from "zstd-napi";
import { buildProgram, reportError } from "../../src/cli/program.js";
import { type Collection, createCollection, openCollection } from "../../src/collection/index.js";
import { type VerifyReport, verifyPartitions } from "../../src/collection/verify.js";
import * as config from "../../src/config.js";
import { Dataset } from "../../src/data/index.js";
import { CodecError } from "../../src/errors.js";
import { NDArray } from "../../src/ndarray.js";
import { Sequence } from "../../src/partitioning/index.js";
import { type DatasetSchema, Schema } from "../../src/schema/index.js";
import { decodeChain, encodeChain } from "../../src/zarr/compression/index.js";
import { xxh64 } from "../../src/zarr/compression/xxh64.js";
import { setZstdBackend, zstdFrameHeader } from "../../src/zarr/compression/zstd.js";
import { verifyArray } from "../../src/zarr/index.js";
import { captureIO, runCli } from "../cli/helpers.js";

/**
 * `num` int64 [num] (chunks 4), `value` float64 [num] (NaN fill), `s`
 * string [num], `grid` float32 [num, x] with x size 6, chunks 2 and an
 * explicit shard of 6, and the immutable `static` float32 [x]; default codec
 * profile (cloud-balanced: zstd 3 with checksum, sharded when it pays).
 */
function schema(): DatasetSchema {
  return Schema()
    .withDimension("num", { chunks: 4 })
    .withDimension("x", { size: 6, chunks: 2, shards: 6 })
    .withVariable("num", { dtype: "int64", dimensions: ["num"] })
    .withVariable("value", { dtype: "float64", dimensions: ["num"], fillValue: Number.NaN })
    .withVariable("s", { dtype: "string", dimensions: ["num"] })
    .withVariable("grid", { dtype: "float32", dimensions: ["num", "x"] })
    .withVariable("static", { dtype: "float32", dimensions: ["x"] })
    .build();
}

/** Rows per partition of the main fixture: num=1 holds 3 rows, num=2 4, num=3 10. */
const ROWS: ReadonlyArray<readonly [number, number]> = [
  [1, 3],
  [2, 4],
  [3, 10],
];

/**
 * Chunks of the main fixture. num=1 and num=2 (at most one chunk of 4 rows):
 * num, value, s one chunk each, grid one shard [4, 6] of 3 inner chunks → 6
 * each. num=3 (10 rows): num and value shards [8] (2 + 1 inner chunks), s
 * unsharded (vlen-utf8) 3 chunks, grid shards [8, 6] (6 + 3 inner chunks) →
 * 18. `_immutable/static`: one shard of 3 inner chunks.
 */
const CHUNKS = 6 + 6 + 18 + 3;
/** 4 arrays in each of 3 partitions, and `_immutable/static`. */
const ARRAYS = 13;

/** Whether `buildProgram` (program.ts) already has the verify command. */
const VERIFY_WIRED = buildProgram(
  { stdout: { write: () => true }, stderr: { write: () => true }, stdin: process.stdin, env: {} },
  () => {},
).commands.some((c) => c.name() === "verify");

let tmp = "";
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), "zc-verify-"));
});
after(async () => {
  setZstdBackend(undefined);
  await rm(tmp, { recursive: true, force: true });
});

let counter = 0;

/** A new file:// collection of {@link schema} holding `rows` ([key, row count] pairs). */
async function makeCollection(
  rows: ReadonlyArray<readonly [number, number]> = ROWS,
): Promise<{ dir: string; col: Collection }> {
  const dir = join(tmp, `c${counter++}`);
  const s = schema();
  const col = await createCollection(`file://${dir}`, {
    schema: s,
    axis: "num",
    partitioning: new Sequence(["num"], { dimension: "num" }),
  });
  const nums = rows.flatMap(([k, n]) => Array.from({ length: n }, () => k));
  const n = nums.length;
  await col.insert(
    Dataset.fromArrays(s, {
      num: BigInt64Array.from(nums, (k) => BigInt(k)),
      value: Float64Array.from({ length: n }, (_, i) => i * 1.5 + 0.25),
      s: Array.from({ length: n }, (_, i) => `row ${i}`),
      grid: NDArray.from(
        Float32Array.from({ length: n * 6 }, (_, k) => k + 0.5),
        { shape: [n, 6] },
      ),
      static: Float32Array.from([1, 2, 3, 4, 5, 6]),
    }),
  );
  return { dir, col: await openCollection(`file://${dir}`) };
}

/** Relative paths of every chunk and shard object (no documents), sorted. */
async function chunkFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || e.name === "zarr.json" || e.name === "_zcollection.json") continue;
    out.push(join(e.parentPath, e.name).slice(dir.length + 1));
  }
  return out.sort();
}

/** XORs byte `at` (default: the middle) of a file with `mask` (default 0x5a). */
async function flipByte(file: string, at?: number, mask = 0x5a): Promise<number> {
  const bytes = await readFile(file);
  const pos = at ?? Math.floor(bytes.length / 2);
  bytes[pos] = (bytes[pos] as number) ^ mask;
  await writeFile(file, bytes);
  return pos;
}

/** Offset and length of inner chunk `i` of a shard object with `n` inner chunks (index at the end, crc32c). */
function innerRange(shard: Uint8Array, n: number, i: number): { offset: number; length: number } {
  const view = new DataView(shard.buffer, shard.byteOffset, shard.byteLength);
  const at = shard.length - 16 * n - 4 + 16 * i;
  return { offset: Number(view.getBigUint64(at, true)), length: Number(view.getBigUint64(at + 8, true)) };
}

async function verifyAll(col: Collection, opts: Parameters<typeof verifyPartitions>[3] = {}) {
  return verifyPartitions(col.store, col.schema, await col.partitions(), { axis: col.axis, ...opts });
}

/** Failures as `partition|array|chunk`. */
const where = (r: VerifyReport) => r.failures.map((f) => `${f.partition}|${f.array}|${f.chunk}`);

/** Asserts that `promise` rejects with a CodecError whose key is `key`. */
async function rejectsNaming(promise: Promise<unknown>, key: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof CodecError, `expected a CodecError, got ${String(err)}`);
    assert.equal(err.key, key);
    assert.ok(err.message.includes(key), err.message);
    return true;
  });
}

describe("zstd frame checksum in the written profiles", () => {
  it("array documents say {level, checksum: true} in zarr-python's key order, and every frame carries it", async () => {
    const { dir } = await makeCollection();
    const doc = await readFile(join(dir, "num=1/value/zarr.json"), "utf8");
    assert.match(doc, /"name": "zstd",\s*"configuration": \{\s*"level": 3,\s*"checksum": true\s*\}/);
    const sharded = JSON.parse(await readFile(join(dir, "num=3/grid/zarr.json"), "utf8"));
    assert.deepEqual(sharded.codecs[0].configuration.codecs[1], {
      name: "zstd",
      configuration: { level: 3, checksum: true },
    });
    const root = JSON.parse(await readFile(join(dir, "_zcollection.json"), "utf8"));
    const value = root.schema.variables.find((v: { name: string }) => v.name === "value");
    assert.deepEqual(value.codecs.bytes_to_bytes, [
      { name: "zstd", configuration: { level: 3, checksum: true } },
    ]);
    // Unsharded chunk objects are one frame each; inner chunks of shards too.
    for (const f of ["num=1/value/c/0", "num=1/s/c/0", "num=3/s/c/2"]) {
      assert.equal(zstdFrameHeader(await readFile(join(dir, f)))?.checksum, true, f);
    }
    const shard = new Uint8Array(await readFile(join(dir, "num=3/grid/c/0/0")));
    for (let i = 0; i < 6; i++) {
      const r = innerRange(shard, 6, i);
      assert.equal(
        zstdFrameHeader(shard.subarray(r.offset, r.offset + r.length))?.checksum,
        true,
        `inner ${i}`,
      );
    }
  });

  it("our XXH64 gives the checksum native zstd writes, short and long inputs alike", () => {
    const random = mulberry32(7);
    const sizes = [0, 1, 31, 32, 33, 255, 256, 257, 1000, 65_504, 65_536, 200_003, 1_000_000];
    for (let k = 0; k < 40; k++) sizes.push(Math.floor(random() * 5000));
    for (const n of sizes) {
      const data = Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
      const frame = new Uint8Array(zstdNapi.compress(data, { compressionLevel: 1, checksumFlag: true }));
      const stored = new DataView(frame.buffer, frame.byteOffset).getUint32(frame.length - 4, true);
      assert.equal(Number(xxh64(data) & 0xffffffffn), stored, `${n} bytes`);
    }
  });

  it("a large chunk compressed by the portable (wasm) backend passes the native checksum check", async () => {
    const chain = [{ name: "zstd", configuration: { level: 3, checksum: true } }];
    const data = new Uint8Array(Float64Array.from({ length: 300_000 }, (_, i) => Math.sin(i) * 1e3).buffer);
    setZstdBackend("wasm");
    let frame: Uint8Array;
    try {
      frame = await config.override({ "codec.workers": 0 }, () =>
        encodeChain(chain, data, { key: "k", itemSize: 8 }),
      );
    } finally {
      setZstdBackend(undefined);
    }
    assert.equal(zstdFrameHeader(frame)?.checksum, true);
    assert.deepEqual(new Uint8Array(zstdNapi.decompress(frame)), data);
    const bad = frame.slice();
    const at = Math.floor(bad.length / 2);
    bad[at] = (bad[at] as number) ^ 0x10;
    await assert.rejects(decodeChain(chain, bad, { key: "v/c/3", itemSize: 8 }), (err: unknown) => {
      assert.ok(err instanceof CodecError);
      assert.equal(err.key, "v/c/3");
      return true;
    });
  });

  it("the portable (wasm) encoder writes the checksum too, and damage is detected", async () => {
    setZstdBackend("wasm");
    let made: { dir: string; col: Collection };
    try {
      made = await config.override({ "codec.workers": 0 }, () => makeCollection([[1, 3]]));
    } finally {
      setZstdBackend(undefined);
    }
    const file = join(made.dir, "num=1/value/c/0");
    assert.equal(zstdFrameHeader(await readFile(file))?.checksum, true);
    await flipByte(file);
    const report = await verifyAll(made.col);
    assert.deepEqual(where(report), ["num=1|value|c/0"]);
    await rejectsNaming(made.col.query(), "num=1/value/c/0");
  });
});

describe("verifyPartitions", () => {
  it("(a) a clean collection: every chunk decoded, 0 failures, progress per partition", async () => {
    const { dir, col } = await makeCollection();
    const progress: string[] = [];
    const report = await verifyAll(col, {
      onProgress: (p) => progress.push(`${p.done}/${p.total} ${p.partition}`),
    });
    assert.deepEqual(report.failures, []);
    assert.equal(report.partitions, 3);
    assert.equal(report.arrays, ARRAYS);
    assert.equal(report.chunks, CHUNKS);
    // Every byte of every chunk and shard object was read once (documents excluded).
    let size = 0;
    for (const f of await chunkFiles(dir)) size += (await stat(join(dir, f))).size;
    assert.equal(report.bytes, size);
    assert.equal(progress.length, 4);
    assert.equal(progress.at(-1)?.startsWith("4/4"), true);
    assert.ok(progress.some((p) => p.endsWith(" _immutable")));
    // The default axis is the dimension every partition variable spans.
    const implicit = await verifyPartitions(col.store, col.schema, await col.partitions());
    assert.deepEqual(implicit, report);
    // A subset of partitions (and _immutable/).
    const one = await verifyPartitions(col.store, col.schema, ["num=3"]);
    assert.deepEqual([one.partitions, one.arrays, one.chunks, one.failures.length], [1, 5, 18 + 3, 0]);
    // Small concurrency and small ranged reads of shards give the same result.
    const narrow = await verifyAll(col, { concurrency: 1 });
    assert.deepEqual(narrow, report);
  });

  it("(b) a flipped byte in a chunk: query rejects naming the chunk, verify reports exactly it", async () => {
    const { dir, col } = await makeCollection();
    const before = await col.query();
    assert.ok(before);
    await flipByte(join(dir, "num=1/value/c/0"));
    await rejectsNaming(col.query(), "num=1/value/c/0");
    await rejectsNaming(col.query({ filters: "num == 1", variables: ["value"] }), "num=1/value/c/0");
    // Other partitions still read.
    assert.ok(await col.query({ filters: "num >= 2" }));
    const report = await verifyAll(col);
    assert.deepEqual(where(report), ["num=1|value|c/0"]);
    assert.match(report.failures[0]?.error ?? "", /num=1\/value\/c\/0/);
    assert.match(report.failures[0]?.error ?? "", /checksum/i);
    assert.equal(report.chunks, CHUNKS);
  });

  it("(c) a flipped byte in one inner chunk of an explicitly sharded array is reported with the shard key", async () => {
    const { dir, col } = await makeCollection();
    const file = join(dir, "num=3/grid/c/0/0");
    const shard = new Uint8Array(await readFile(file));
    // Inner chunk 4 of the [2, 3] inner grid: coordinates [1, 1].
    const r = innerRange(shard, 6, 4);
    await flipByte(file, r.offset + Math.floor(r.length / 2));
    await rejectsNaming(col.query(), "num=3/grid/c/0/0");
    const report = await verifyAll(col);
    assert.deepEqual(where(report), ["num=3|grid|c/0/0"]);
    assert.match(report.failures[0]?.error ?? "", /^inner chunk \[1, 1\]: .*num=3\/grid\/c\/0\/0/);
    assert.equal(report.chunks, CHUNKS);
    // The Zarr layer names the inner chunk.
    const one = await verifyArray(col.store, "num=3/grid");
    assert.equal(one.chunks, 9);
    assert.deepEqual(
      one.failures.map((f) => [f.key, f.chunk, f.innerChunk]),
      [["num=3/grid/c/0/0", "c/0/0", [1, 1]]],
    );
    // A flipped byte in the shard index fails its CRC-32C.
    const other = join(dir, "num=3/grid/c/1/0");
    const size = (await stat(other)).size;
    await flipByte(other, size - 10);
    const again = await verifyAll(col);
    assert.deepEqual(where(again), ["num=3|grid|c/0/0", "num=3|grid|c/1/0"]);
    assert.match(again.failures[1]?.error ?? "", /index checksum mismatch/);
    assert.equal(again.chunks, CHUNKS - 3, "the inner chunks of an unreadable index are not counted");
  });

  it("(d) truncated chunks and shards, garbled and missing documents, mismatched shapes", async () => {
    const { dir, col } = await makeCollection();
    const truncate = async (f: string, keep: (n: number) => number) => {
      const b = await readFile(join(dir, f));
      await writeFile(join(dir, f), b.subarray(0, keep(b.length)));
    };
    await truncate("num=3/s/c/1", (n) => Math.floor(n / 2));
    await truncate("num=3/grid/c/1/0", (n) => n - 10);
    await writeFile(join(dir, "num=2/s/zarr.json"), '{"zarr_format": 3, "node_type": "arr');
    await writeFile(join(dir, "num=1/zarr.json"), "not json");
    await rm(join(dir, "num=2/num/zarr.json"));
    await rm(join(dir, "num=1/s"), { recursive: true });
    const doc = JSON.parse(await readFile(join(dir, "num=1/value/zarr.json"), "utf8"));
    doc.shape = [5];
    await writeFile(join(dir, "num=1/value/zarr.json"), JSON.stringify(doc));

    const report = await verifyAll(col);
    assert.deepEqual(where(report), [
      "num=1||zarr.json",
      "num=1|value|zarr.json",
      "num=2|num|zarr.json",
      "num=2|s|zarr.json",
      "num=3|grid|c/1/0",
      "num=3|s|c/1",
    ]);
    const errors = report.failures.map((f) => f.error);
    assert.match(errors[0] as string, /invalid JSON in num=1\/zarr\.json/);
    assert.match(errors[1] as string, /extent 5 along the partition dimension 'num'.* have 3/);
    assert.match(errors[2] as string, /missing array document num=2\/num\/zarr\.json/);
    assert.match(errors[3] as string, /num=2\/s\/zarr\.json/);
    assert.match(errors[4] as string, /corrupted shard num=3\/grid\/c\/1\/0/);
    assert.match(errors[5] as string, /num=3\/s\/c\/1/);
    // num=1/s is absent (not a failure); num=2/num and num=2/s are examined but not decoded,
    // nor are the inner chunks of the truncated shard (its index is lost); the truncated chunk is.
    assert.equal(report.arrays, ARRAYS - 1);
    assert.equal(report.chunks, CHUNKS - 1 - 1 - 1 - 3);
  });

  it("(e) zcollection verify: summary and exit 0 when clean; one line per failure and exit 2", async () => {
    const { dir } = await makeCollection();
    const clean = await runVerify([dir]);
    assert.equal(clean.stderr, "");
    assert.equal(clean.code, 0);
    assert.match(
      clean.stdout,
      new RegExp(
        `^verified ${CHUNKS} chunks in ${ARRAYS} arrays of 3 partitions \\(0\\.00 MB\\): 0 failures\\n$`,
      ),
    );

    await flipByte(join(dir, "num=2/value/c/0"));
    const bad = await runVerify([`file://${dir}`]);
    assert.equal(bad.stderr, "");
    assert.equal(bad.code, 2);
    const lines = bad.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 2);
    assert.match(lines[0] as string, /^num=2\/value chunk c\/0: .*num=2\/value\/c\/0.*checksum/i);
    assert.match(
      lines[1] as string,
      new RegExp(
        `^verified ${CHUNKS} chunks in ${ARRAYS} arrays of 3 partitions \\(0\\.00 MB\\): 1 failure$`,
      ),
    );

    const json = await runVerify([dir, "--json"]);
    assert.equal(json.code, 2);
    const report = JSON.parse(json.stdout) as VerifyReport;
    assert.deepEqual(Object.keys(report), ["partitions", "arrays", "chunks", "bytes", "failures"]);
    assert.deepEqual(where(report), ["num=2|value|c/0"]);

    const filtered = await runVerify([dir, "--filter", "num == 3"]);
    assert.equal(filtered.code, 0);
    assert.match(filtered.stdout, /^verified 21 chunks in 5 arrays of 1 partitions .*: 0 failures\n$/);

    const missing = await runVerify([join(dir, "nope")]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^error: /);
  });

  it("the zcollection binary runs verify", {
    skip: VERIFY_WIRED ? false : "program.ts does not register the verify command yet",
  }, async () => {
    const { dir } = await makeCollection();
    await flipByte(join(dir, "num=3/grid/c/1/0"), 5);
    const r = await runCli(["verify", dir]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stdout, /^num=3\/grid chunk c\/1\/0: inner chunk \[2, \d\]: /m);
    assert.match(r.stdout, /: 1 failure\n$/);
  });

  it("rejects only when aborted", async () => {
    const { col } = await makeCollection([[1, 3]]);
    const ac = new AbortController();
    ac.abort(new Error("stop verifying"));
    await assert.rejects(verifyAll(col, { signal: ac.signal }), /stop verifying/);
    const ac2 = new AbortController();
    const running = verifyAll(col, {
      signal: ac2.signal,
      onProgress: () => ac2.abort(new Error("stop now")),
    });
    await assert.rejects(running, /stop now/);
  });

  it("30 random byte flips in random chunk files (seeded): every one is detected, none reads back silently", async () => {
    // 8 partitions of 1 to 13 rows: 54 chunk and shard objects.
    const { dir, col } = await makeCollection([
      [1, 1],
      [2, 3],
      [3, 4],
      [4, 5],
      [5, 8],
      [6, 9],
      [7, 12],
      [8, 13],
    ]);
    const files = await chunkFiles(dir);
    assert.ok(files.length >= 30, `${files.length} chunk files`);
    const pristine = await verifyAll(col);
    assert.deepEqual(pristine.failures, []);
    const random = mulberry32(20240611);
    const picked = new Set<string>();
    const details: string[] = [];
    for (let trial = 0; trial < 30; trial++) {
      let file: string;
      do file = files[Math.floor(random() * files.length)] as string;
      while (picked.has(file));
      picked.add(file);
      const path = join(dir, file);
      const original = await readFile(path);
      const pos = Math.floor(random() * original.length);
      const mask = 1 + Math.floor(random() * 255);
      await flipByte(path, pos, mask);
      try {
        const report = await verifyAll(col);
        const got = report.failures.map((f) =>
          [f.partition, f.array, f.chunk].filter((p) => p !== "").join("/"),
        );
        assert.deepEqual(got, [file], `trial ${trial}: ${file} byte ${pos} ^ ${mask}`);
        // No silently wrong values: reading the collection fails, naming the object.
        await rejectsNaming(col.query(), file);
        details.push(`${file}@${pos}`);
      } finally {
        await writeFile(path, original);
      }
    }
    assert.equal(details.length, 30);
    assert.deepEqual((await verifyAll(col)).failures, []);
  });
});

/** Seeded uniform numbers in [0, 1). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Runs `zcollection verify <args>` in-process through the program of
 * `buildProgram`, and maps errors to exit codes like `run`.
 */
async function runVerify(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = await captureIO();
  let code = 0;
  const setCode = (c: number) => {
    code = c;
  };
  const program = buildProgram(io, setCode);
  try {
    await program.parseAsync(["verify", ...args], { from: "user" });
  } catch (err) {
    code = reportError(err, io);
  }
  return { code, stdout: io.stdout.text, stderr: io.stderr.text };
}
