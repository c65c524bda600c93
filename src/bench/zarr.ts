/**
 * `npm run bench:zarr`: write and read one 50 000 × 240 float32 array
 * (chunks 4096 × 240, zstd level 3, unsharded, `local-fast`) on a local
 * directory with this library and with plain zarrita (`zarr.create` +
 * `zarr.set` / `zarr.get`, its own zstd codec, `@zarrita/storage`
 * FileSystemStore), next to the raw single-thread zstd throughput of the same
 * bytes. Data: seeded standard-normal float32 (like docs/behaviour.md §17). Our
 * profiles write the zstd frame checksum; each of our figures is also
 * measured with it off (`"checksum": false`, as zarrita writes here), which
 * gives its cost.
 *
 * Prints MB/s (MB = 10^6 bytes of uncompressed array data) and the ratios
 * ours / zarrita. Options: `--rows N`, `--width N`, `--repeat N` (best of N, default 3).
 *
 * @module
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import FileSystemStore from "@zarrita/storage/fs";
import * as zarr from "zarrita";
import { type CodecStack, profile } from "../codecs/index.js";
import { get as getConfig } from "../config.js";
import { NDArray } from "../ndarray.js";
import { LocalStore } from "../store/local.js";
import { shutdownCodecPool, workerZstdBackendName, zstdBackendName } from "../zarr/compression/index.js";
import { readArray, writeArray } from "../zarr/index.js";
import { rawZstdThroughput } from "./raw.js";

/** Options of {@link runZarrBench}. */
export interface ZarrBenchOptions {
  /** Rows of the array (default 50 000). */
  rows?: number;
  /** Columns (default 240). */
  width?: number;
  /** Rows per chunk (default 4096). */
  chunkRows?: number;
  /** Best of this many runs per measurement (default 3). */
  repeat?: number;
  /** Seed of the normal generator (default 0). */
  seed?: number;
}

/** Write and read throughput in MB/s of uncompressed data. */
export interface Throughput {
  readonly writeMBps: number;
  readonly readMBps: number;
}

/** Throughputs measured by {@link runZarrBench}, in MB/s of uncompressed data. */
export interface ZarrBenchResult {
  readonly megabytes: number;
  /** `local-fast` as written by default: zstd with its frame checksum. */
  readonly ours: Throughput;
  /** `local-fast` with the zstd checksum off. */
  readonly oursNoChecksum: Throughput;
  /** The same array with the default `cloud-balanced` profile (sharded, shard 32768 × 240), checksum on. */
  readonly oursSharded: Throughput;
  /** `cloud-balanced` with the zstd checksum off. */
  readonly oursShardedNoChecksum: Throughput;
  readonly zarrita: Throughput;
  readonly rawZstd: {
    readonly compressMBps: number;
    readonly decompressMBps: number;
    readonly ratio: number;
  };
  readonly workers: number;
}

/** Seeded standard-normal float32 values (mulberry32 + Box–Muller). */
export function normalFloat32(n: number, seed = 0): Float32Array {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 1) / 4294967297;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const a = 2 * Math.PI * uniform();
    out[i] = r * Math.cos(a);
    if (i + 1 < n) out[i + 1] = r * Math.sin(a);
  }
  return out;
}

/** A profile's stack with the zstd frame checksum off (what the profiles wrote before it was on). */
function withoutChecksum(name: string): CodecStack {
  const level = profile(name).bytesToBytes.find((c) => c.name === "zstd")?.configuration?.level ?? 3;
  return profile(name, { compressor: { name: "zstd", configuration: { level, checksum: false } } });
}

async function best(repeat: number, fn: (run: number) => Promise<void>): Promise<number> {
  let min = Number.POSITIVE_INFINITY;
  for (let r = 0; r < repeat; r++) {
    const t0 = performance.now();
    await fn(r);
    min = Math.min(min, performance.now() - t0);
  }
  return min / 1000;
}

/**
 * Runs the benchmark in a fresh temporary directory (removed afterwards).
 *
 * @throws Error when a read returns different values than written.
 */
export async function runZarrBench(opts: ZarrBenchOptions = {}): Promise<ZarrBenchResult> {
  const rows = opts.rows ?? 50_000;
  const width = opts.width ?? 240;
  const chunkRows = opts.chunkRows ?? 4096;
  const repeat = Math.max(1, opts.repeat ?? 3);
  const values = normalFloat32(rows * width, opts.seed ?? 0);
  const bytes = new Uint8Array(values.buffer);
  const mb = bytes.byteLength / 1e6;
  const dir = await mkdtemp(join(tmpdir(), "zc-bench-zarr-"));
  const check = (got: ArrayLike<number>, who: string) => {
    if (got.length !== values.length)
      throw new Error(`${who}: read ${got.length} values, wrote ${values.length}`);
    for (let i = 0; i < values.length; i += 997) {
      if (got[i] !== values[i]) throw new Error(`${who}: value ${i} differs after a round trip`);
    }
  };
  try {
    // -- ours
    const store = new LocalStore(join(dir, "ours"));
    const data = NDArray.from(values, { shape: [rows, width] });
    const writeOpts = { chunks: [chunkRows, width], codecs: profile("local-fast"), fillValue: Number.NaN };
    await writeArray(store, "warmup", data, writeOpts);
    check((await readArray(store, "warmup")).data as Float32Array, "ours");
    /**
     * Best write and read throughputs of two stacks, measured in turns
     * (alternating which goes first) so that both see the same machine
     * state; their arrays are deleted afterwards, which keeps dirty pages
     * from piling up over the measurements.
     */
    const measurePair = async (stacks: readonly [CodecStack, CodecStack], prefix: string) => {
      const writes = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
      const reads = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
      const name = (k: number, r: number) => `${prefix}${k}/${r}`;
      const order = (r: number) => (r % 2 === 0 ? [0, 1] : [1, 0]);
      for (let r = 0; r < repeat; r++) {
        for (const k of order(r)) {
          const opts = { ...writeOpts, codecs: stacks[k] as CodecStack };
          writes[k] = Math.min(
            writes[k] as number,
            await best(1, () => writeArray(store, name(k, r), data, opts).then(() => undefined)),
          );
        }
      }
      for (const k of [0, 1])
        check((await readArray(store, name(k, 0))).data as Float32Array, `ours (${prefix})`);
      for (let r = 0; r < repeat; r++) {
        for (const k of order(r)) {
          reads[k] = Math.min(
            reads[k] as number,
            await best(1, () => readArray(store, name(k, r)).then(() => undefined)),
          );
        }
      }
      await store.deletePrefix(prefix);
      return [0, 1].map((k) => ({
        writeMBps: mb / (writes[k] as number),
        readMBps: mb / (reads[k] as number),
      }));
    };
    const [ours, oursNoChecksum] = (await measurePair(
      [profile("local-fast"), withoutChecksum("local-fast")],
      "unsharded",
    )) as [Throughput, Throughput];
    const [oursSharded, oursShardedNoChecksum] = (await measurePair(
      [profile("cloud-balanced"), withoutChecksum("cloud-balanced")],
      "sharded",
    )) as [Throughput, Throughput];

    // -- plain zarrita
    const fsStore = new FileSystemStore(join(dir, "zarrita"));
    const root = zarr.root(fsStore);
    const create = (name: string) =>
      zarr.create(root.resolve(name), {
        shape: [rows, width],
        chunkShape: [chunkRows, width],
        dtype: "float32",
        fillValue: 0,
        codecs: [
          { name: "bytes", configuration: { endian: "little" } },
          { name: "zstd", configuration: { level: 3, checksum: false } },
        ],
      });
    const chunk = { data: values, shape: [rows, width], stride: [width, 1] };
    const warm = await create("warmup");
    await zarr.set(warm, null, chunk);
    check((await zarr.get(warm)).data as Float32Array, "zarrita");
    const zWrite = await best(repeat, async (r) => {
      const arr = await create(`w${r}`);
      await zarr.set(arr, null, chunk);
    });
    const zRead = await best(repeat, async (r) => {
      const arr = await zarr.open.v3(root.resolve(`w${r}`), { kind: "array" });
      await zarr.get(arr);
    });

    // -- raw zstd, one thread
    const raw = await rawZstdThroughput(bytes, { level: 3, threads: 1, chunkBytes: chunkRows * width * 4 });
    return {
      megabytes: mb,
      ours,
      oursNoChecksum,
      oursSharded,
      oursShardedNoChecksum,
      zarrita: { writeMBps: mb / zWrite, readMBps: mb / zRead },
      rawZstd: { compressMBps: raw.compressMBps, decompressMBps: raw.decompressMBps, ratio: raw.ratio },
      workers: getConfig("codec.workers"),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function argNumber(argv: readonly string[], name: string): number | undefined {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const v = Number(argv[i + 1]);
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

async function main(argv: readonly string[]): Promise<void> {
  const opts: ZarrBenchOptions = {};
  const rows = argNumber(argv, "--rows");
  const width = argNumber(argv, "--width");
  const repeat = argNumber(argv, "--repeat");
  if (rows !== undefined) opts.rows = rows;
  if (width !== undefined) opts.width = width;
  if (repeat !== undefined) opts.repeat = repeat;
  const r = await runZarrBench(opts);
  const f = (v: number) => v.toFixed(0).padStart(10);
  const row = (label: string, a: number, b: number, extra = "") =>
    console.log(`${label.padEnd(40)}${f(a)}${f(b)}${extra}`);
  const rows_ = opts.rows ?? 50_000;
  const width_ = opts.width ?? 240;
  console.log(
    `float32 ${rows_} x ${width_} (${r.megabytes.toFixed(1)} MB), chunks 4096 x ${width_}, zstd 3, file://, codec.workers=${r.workers}`,
  );
  // zlib = Node's built-in zstd (Node >= 22.15), napi = the optional zstd-napi package, wasm = numcodecs.
  const workerBackend = await workerZstdBackendName();
  console.log(
    `zstd backend: ${await zstdBackendName()} (calling thread), ${workerBackend ?? "no pool"} (codec workers); Node ${process.versions.node}`,
  );
  console.log(`${"".padEnd(40)}${"write MB/s".padStart(10)}${"read MB/s".padStart(10)}`);
  row("zcollection (local-fast, unsharded)", r.ours.writeMBps, r.ours.readMBps);
  row("  same, zstd checksum off", r.oursNoChecksum.writeMBps, r.oursNoChecksum.readMBps);
  row("zarrita (unsharded)", r.zarrita.writeMBps, r.zarrita.readMBps);
  row(
    "raw zstd, 1 thread",
    r.rawZstd.compressMBps,
    r.rawZstd.decompressMBps,
    `   (ratio ${r.rawZstd.ratio.toFixed(3)})`,
  );
  row("zcollection (cloud-balanced, sharded)", r.oursSharded.writeMBps, r.oursSharded.readMBps);
  row("  same, zstd checksum off", r.oursShardedNoChecksum.writeMBps, r.oursShardedNoChecksum.readMBps);
  const ratio = (label: string, a: Throughput, b: Throughput) =>
    console.log(
      `${label.padEnd(40)}${`${(a.writeMBps / b.writeMBps).toFixed(2)}x`.padStart(10)}${`${(a.readMBps / b.readMBps).toFixed(2)}x`.padStart(10)}`,
    );
  ratio("ours / zarrita (unsharded, no checksum)", r.oursNoChecksum, r.zarrita);
  ratio("checksum on / off (unsharded)", r.ours, r.oursNoChecksum);
  ratio("checksum on / off (sharded)", r.oursSharded, r.oursShardedNoChecksum);
}

const invoked = process.argv[1] ?? "";
if (invoked.endsWith("bench/zarr.js") || invoked.endsWith("bench/zarr.ts")) {
  main(process.argv.slice(2))
    .then(async () => {
      await shutdownCodecPool();
      process.exit(0);
    })
    .catch(async (err: unknown) => {
      console.error(err);
      await shutdownCodecPool();
      process.exit(2);
    });
}
