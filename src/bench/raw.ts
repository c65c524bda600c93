/**
 * Raw throughput helpers for benchmarks: how fast the codec layer compresses
 * and decompresses zstd on this machine (one thread vs the worker pool), and
 * how fast the file system writes and reads. Figures in MB/s with
 * MB = 10^6 bytes. Node only.
 *
 * @module
 */

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { override } from "../config.js";
import { decodeChain, encodeChain } from "../zarr/compression/index.js";
import { zstdBackend } from "../zarr/compression/zstd.js";

/** Result of {@link rawZstdThroughput}. */
export interface ZstdThroughput {
  /** Uncompressed MB compressed per second. */
  readonly compressMBps: number;
  /** Uncompressed MB produced per second when decompressing. */
  readonly decompressMBps: number;
  /** Compressed size / uncompressed size. */
  readonly ratio: number;
  /** Threads used: 1 = the calling thread, otherwise the pool size. */
  readonly threads: number;
  /** zstd implementation of the calling thread (`napi` or `wasm`); pool workers choose the same way. */
  readonly backend: string;
}

/** Options of {@link rawZstdThroughput}. */
export interface ZstdThroughputOptions {
  /** zstd level (default 3). */
  level?: number;
  /** 1 = code every chunk on the calling thread; n > 1 = a pool of n workers coding chunks concurrently. Default 1. */
  threads?: number;
  /** Chunk size in bytes the buffer is split into (default 4 MiB, the benchmark's 4096 x 240 float32 chunks are ~3.9 MB). */
  chunkBytes?: number;
  /** Minimum measuring time per direction in milliseconds (default 1000). */
  minMillis?: number;
}

function split(bytes: Uint8Array, chunkBytes: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < bytes.length; o += chunkBytes)
    out.push(bytes.subarray(o, Math.min(bytes.length, o + chunkBytes)));
  return out;
}

async function timed(
  minMillis: number,
  once: () => Promise<void>,
): Promise<{ reps: number; millis: number }> {
  let reps = 0;
  const t0 = performance.now();
  let t = t0;
  while (reps === 0 || t - t0 < minMillis) {
    await once();
    reps++;
    t = performance.now();
  }
  return { reps, millis: t - t0 };
}

/**
 * Measures zstd compression and decompression of `bytes`, split into chunks,
 * through the public codec functions (so including the pool hop when
 * `threads > 1`). A warm-up pass starts the workers and is not counted.
 */
export async function rawZstdThroughput(
  bytes: Uint8Array,
  options: ZstdThroughputOptions = {},
): Promise<ZstdThroughput> {
  const level = options.level ?? 3;
  const threads = Math.max(1, Math.floor(options.threads ?? 1));
  const minMillis = options.minMillis ?? 1000;
  const chunks = split(bytes, options.chunkBytes ?? 4 * 1024 * 1024);
  const chain = [{ name: "zstd", configuration: { level, checksum: false } }];
  const backend = (await zstdBackend()).name;
  return override({ "codec.workers": threads === 1 ? 0 : threads }, async () => {
    const ctxOf = (i: number) => ({ key: `bench/${i}`, itemSize: 4 });
    // One thread: chunk after chunk. Pool: every chunk at once, the pool queues them.
    const encodeAll = async (): Promise<Uint8Array[]> => {
      if (threads > 1) return Promise.all(chunks.map((c, i) => encodeChain(chain, c, ctxOf(i))));
      const out: Uint8Array[] = [];
      for (const [i, c] of chunks.entries()) out.push(await encodeChain(chain, c, ctxOf(i)));
      return out;
    };
    const encoded = await encodeAll();
    const decodeAll = async (): Promise<void> => {
      if (threads > 1) await Promise.all(encoded.map((e, i) => decodeChain(chain, e, ctxOf(i))));
      else for (const [i, e] of encoded.entries()) await decodeChain(chain, e, ctxOf(i));
    };
    await decodeAll();
    const enc = await timed(minMillis, async () => {
      await encodeAll();
    });
    const dec = await timed(minMillis, decodeAll);
    const compressed = encoded.reduce((s, e) => s + e.length, 0);
    return {
      compressMBps: (enc.reps * bytes.length) / 1e3 / enc.millis,
      decompressMBps: (dec.reps * bytes.length) / 1e3 / dec.millis,
      ratio: bytes.length === 0 ? 1 : compressed / bytes.length,
      threads,
      backend,
    };
  });
}

/** Result of {@link rawFileThroughput}. */
export interface FileThroughput {
  readonly writeMBps: number;
  readonly readMBps: number;
}

/**
 * Writes `bytes` to a fresh file under `dir` and reads it back, repeatedly
 * for about `minMillis` each (default 1000), without fsync: what a file
 * store sees through the page cache. The temporary directory is removed.
 */
export async function rawFileThroughput(
  dir: string,
  bytes: Uint8Array,
  minMillis = 1000,
): Promise<FileThroughput> {
  const tmp = await mkdtemp(join(dir, "raw-io-"));
  try {
    const file = join(tmp, "blob.bin");
    const w = await timed(minMillis, () => writeFile(file, bytes));
    const r = await timed(minMillis, async () => {
      await readFile(file);
    });
    return {
      writeMBps: (w.reps * bytes.length) / 1e3 / w.millis,
      readMBps: (r.reps * bytes.length) / 1e3 / r.millis,
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
