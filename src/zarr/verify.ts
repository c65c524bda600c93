/**
 * Verifying a stored Zarr v3 array chunk by chunk: every chunk object, and
 * every inner chunk of every shard (after the shard index and its CRC-32C),
 * is read and decoded through the array's codecs, so that the checksums of
 * the codec chain (zstd frame checksum, `crc32c`) and every structural check
 * of the decoders run. Nothing is assembled: memory holds only the chunks in
 * flight.
 *
 * @module
 */

import type { CodecDescriptor } from "../codecs/index.js";
import { get as getConfig } from "../config.js";
import { CodecError } from "../errors.js";
import { joinPath, type Store } from "../store/store.js";
import { createLimiter, type Limiter } from "../util/concurrency.js";
import { ChunkPipeline } from "./codecs/pipeline.js";
import { gridShape } from "./grid.js";
import { type ArrayMetadata, chunkKey, metadataKey, parseNodeMetadata } from "./metadata.js";
import { decodeShardIndex, parseSharding, planShardReads, type ShardingCodec } from "./sharding.js";

/** One problem found by {@link verifyArray}. */
export interface ChunkFailure {
  /**
   * The object at fault, relative to the array: a chunk or shard key
   * (`c/0/1`), or `zarr.json` for the array document.
   */
  readonly chunk: string;
  /** Full store key of that object (`num=3/value/c/0/1`). */
  readonly key: string;
  /**
   * For a failure inside a shard: grid coordinates of the inner chunk in
   * the array, in units of inner chunks.
   */
  readonly innerChunk?: readonly number[];
  /** What is wrong, on one line. */
  readonly error: string;
}

/** What {@link verifyArray} found. */
export interface VerifyArrayResult {
  /**
   * Whether anything is stored for the array: its document, or objects
   * below its path. An absent array is not a failure.
   */
  readonly found: boolean;
  /** The array's metadata; `undefined` when its document is absent or unusable. */
  readonly metadata: ArrayMetadata | undefined;
  /**
   * Chunks read and decoded (failed ones included): chunk objects of an
   * unsharded array, non-empty inner chunks of the shards whose index could
   * be read. Absent chunks (the fill value) are not counted.
   */
  readonly chunks: number;
  /** Bytes read from the store for the chunks: chunk objects, shard indexes and inner chunks. */
  readonly bytes: number;
  /** Problems found, in no particular order. */
  readonly failures: ChunkFailure[];
}

/** Options of {@link verifyArray}. */
export interface VerifyArrayOptions {
  /** Aborts the verification: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Chunk (or shard range) reads and decodes in flight; default
   * 2 × config `codec.workers` (at least 2). Ignored when `limiter` is given.
   */
  concurrency?: number;
  /**
   * A bound shared with other calls (see `createLimiter`): every read and
   * decode task of this call runs through it, so that arrays verified
   * concurrently hold at most that many chunks in memory together.
   */
  limiter?: Limiter;
  /**
   * Largest ranged read of a shard, in bytes (default 8 MiB): neighbouring
   * inner chunks are fetched together up to this size, never the whole
   * shard at once when it is larger.
   */
  maxRangeBytes?: number;
}

/** Default {@link VerifyArrayOptions.maxRangeBytes}. */
export const VERIFY_RANGE_BYTES = 8 * 1024 * 1024;

function defaultConcurrency(): number {
  return Math.max(2, 2 * Math.floor(getConfig("codec.workers")));
}

/** The message of anything thrown, on one line; rethrows when `signal` has fired. */
function describeFailure(err: unknown, signal: AbortSignal | undefined): string {
  if (signal?.aborted) throw signal.reason ?? err;
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}

/** Grid coordinates of a box of `shape` in C order, one at a time (nothing when an extent is 0). */
function* indices(shape: readonly number[]): Generator<number[]> {
  if (shape.some((s) => s <= 0)) return;
  const idx = shape.map(() => 0);
  for (;;) {
    yield [...idx];
    let d = shape.length - 1;
    while (d >= 0) {
      idx[d] = (idx[d] as number) + 1;
      if ((idx[d] as number) < (shape[d] as number)) break;
      idx[d] = 0;
      d--;
    }
    if (d < 0) return;
  }
}

/**
 * Runs `run` on every item with `width` calls in flight. On the first
 * rejection (only aborts get there) no further item starts, and the promise
 * rejects with it once the calls in flight have settled.
 */
async function pump<T>(
  items: Iterable<T>,
  width: number,
  run: (item: T) => Promise<void>,
  signal: AbortSignal | undefined,
): Promise<void> {
  const it = items[Symbol.iterator]();
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined) {
      try {
        signal?.throwIfAborted();
        const next = it.next();
        if (next.done === true) return;
        await run(next.value);
      } catch (error) {
        failure ??= { error };
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.floor(width)) }, worker));
  if (failure !== undefined) throw failure.error;
}

/** Awaits every promise, then rethrows the first rejection, if any. */
async function settleAll(tasks: readonly Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(tasks);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed !== undefined) throw failed.reason;
}

type Decoder = { kind: "plain"; pipeline: ChunkPipeline } | { kind: "sharded"; sharding: ShardingCodec };

/** The decoder of an array's chunks. @throws CodecError naming `key` for codecs this library cannot decode. */
function decoderOf(meta: ArrayMetadata, key: string): Decoder {
  const codecs: readonly CodecDescriptor[] = meta.codecs;
  const shardAt = codecs.findIndex((c) => c.name === "sharding_indexed");
  if (shardAt < 0) {
    return { kind: "plain", pipeline: ChunkPipeline.fromCodecs(codecs, meta.dtype, meta.chunkShape, key) };
  }
  if (codecs.length !== 1) {
    throw new CodecError(`unsupported codec list in ${key}: sharding_indexed combined with other codecs`, {
      key,
    });
  }
  return {
    kind: "sharded",
    sharding: parseSharding(codecs[0] as CodecDescriptor, meta.dtype, meta.chunkShape, key),
  };
}

/**
 * Ranged reads covering the inner chunks of a shard: neighbours (gaps up to
 * 64 KiB) share a read as long as it stays within `budget` bytes.
 */
function rangeGroups(
  index: { offsets: Float64Array; lengths: Float64Array },
  count: number,
  budget: number,
): Array<{ offset: number; length: number; chunks: number[] }> {
  const all = Array.from({ length: count }, (_, i) => i);
  const out: Array<{ offset: number; length: number; chunks: number[] }> = [];
  for (const r of planShardReads(index, all)) {
    let cur: { offset: number; end: number; chunks: number[] } | undefined;
    for (const i of r.chunks) {
      const off = index.offsets[i] as number;
      const end = off + (index.lengths[i] as number);
      if (cur !== undefined && Math.max(cur.end, end) - cur.offset <= budget && off >= cur.offset) {
        cur.end = Math.max(cur.end, end);
        cur.chunks.push(i);
        continue;
      }
      if (cur !== undefined)
        out.push({ offset: cur.offset, length: cur.end - cur.offset, chunks: cur.chunks });
      cur = { offset: off, end, chunks: [i] };
    }
    if (cur !== undefined) out.push({ offset: cur.offset, length: cur.end - cur.offset, chunks: cur.chunks });
  }
  return out;
}

/**
 * Verifies the array at `path`: parses its `zarr.json`, then reads and
 * decodes every stored chunk — for a sharded array, the index of every
 * shard (size, CRC-32C, entries) and every non-empty inner chunk, fetched by
 * ranged reads of at most `maxRangeBytes` — one chunk at a time per task,
 * never the whole array. Absent chunks, shards and inner chunks are the fill
 * value and not failures.
 *
 * Failures (never thrown): a document that is absent while objects are
 * stored below `path`, unreadable, not an array, or with codecs this
 * library cannot decode (`chunk` = `zarr.json`); a chunk or shard that
 * cannot be read, fails a checksum, is truncated or decodes to the wrong
 * size (`chunk` = its key, with `innerChunk` inside a shard). Decoded values
 * are not compared to anything: a chunk without any checksum in its codecs
 * can only fail structurally.
 *
 * @returns what was found; `found` false (no failure) when nothing is
 *   stored for the array.
 * @throws only the signal's reason when `opts.signal` aborts.
 */
export async function verifyArray(
  store: Store,
  path: string,
  opts: VerifyArrayOptions = {},
): Promise<VerifyArrayResult> {
  const signal = opts.signal;
  signal?.throwIfAborted();
  const getOpts = signal === undefined ? {} : { signal };
  const docKey = metadataKey(path);
  const failures: ChunkFailure[] = [];
  const docFailure = (error: string): VerifyArrayResult => {
    failures.push({ chunk: "zarr.json", key: docKey, error });
    return { found: true, metadata: undefined, chunks: 0, bytes: 0, failures };
  };

  let meta: ArrayMetadata;
  let decoder: Decoder;
  try {
    const doc = await store.readBytes(docKey, getOpts);
    if (doc === undefined) {
      if (!(await store.exists(path)))
        return { found: false, metadata: undefined, chunks: 0, bytes: 0, failures };
      return docFailure(`missing array document ${docKey}, but objects are stored below '${path}'`);
    }
    const node = parseNodeMetadata(doc, docKey);
    if (node.nodeType !== "array") return docFailure(`${docKey} describes a group, not an array`);
    const { nodeType: _, ...rest } = node;
    meta = rest;
    decoder = decoderOf(meta, docKey);
  } catch (err) {
    return docFailure(describeFailure(err, signal));
  }

  const limit = opts.limiter ?? createLimiter(opts.concurrency ?? defaultConcurrency());
  const width = Math.max(2, Math.floor(opts.concurrency ?? defaultConcurrency()));
  let chunks = 0;
  let bytes = 0;
  const fail = (chunk: string, error: string, innerChunk?: readonly number[]) => {
    const key = joinPath(path, chunk);
    failures.push(innerChunk === undefined ? { chunk, key, error } : { chunk, key, innerChunk, error });
  };

  const grid = gridShape(meta.shape, meta.chunkShape);
  if (decoder.kind === "plain") {
    const pipeline = decoder.pipeline;
    await pump(
      indices(grid),
      width,
      (c) =>
        limit(async () => {
          signal?.throwIfAborted();
          const chunk = chunkKey(meta.chunkKeyEncoding, c);
          const key = joinPath(path, chunk);
          try {
            const data = await store.readBytes(key, getOpts);
            if (data === undefined) return;
            chunks += 1;
            bytes += data.length;
            // Store reads return fresh bytes: the codec workers may take them.
            await pipeline.decode(data, { key, transfer: true, ...getOpts });
          } catch (err) {
            fail(chunk, describeFailure(err, signal));
          }
        }),
      signal,
    );
  } else {
    const sharding = decoder.sharding;
    const budget = Math.max(1, opts.maxRangeBytes ?? VERIFY_RANGE_BYTES);
    const strides = sharding.chunksPerShard.map((_, d) =>
      sharding.chunksPerShard.slice(d + 1).reduce((a, b) => a * b, 1),
    );
    const innerCoords = (sc: readonly number[], flat: number): number[] =>
      sc.map(
        (s, d) =>
          s * (sharding.chunksPerShard[d] as number) +
          (Math.floor(flat / (strides[d] as number)) % (sharding.chunksPerShard[d] as number)),
      );
    await pump(
      indices(grid),
      width,
      async (sc) => {
        const chunk = chunkKey(meta.chunkKeyEncoding, sc);
        const key = joinPath(path, chunk);
        const index = await limit(async () => {
          signal?.throwIfAborted();
          try {
            const range =
              sharding.indexLocation === "end"
                ? { suffixLength: sharding.indexSize }
                : { offset: 0, length: sharding.indexSize };
            const raw = await store.readRange(key, range, getOpts);
            if (raw === undefined) return undefined;
            bytes += raw.length;
            if (raw.length < sharding.indexSize) {
              throw new CodecError(
                `corrupted shard ${key}: ${raw.length} bytes, fewer than its index (${sharding.indexSize})`,
                { key },
              );
            }
            return decodeShardIndex(raw, sharding, key);
          } catch (err) {
            fail(chunk, describeFailure(err, signal));
            return undefined;
          }
        });
        if (index === undefined) return;
        const groups = rangeGroups(index, sharding.count, budget);
        await settleAll(
          groups.map((g) =>
            limit(async () => {
              signal?.throwIfAborted();
              let data: Uint8Array | undefined;
              try {
                data = await store.readRange(key, { offset: g.offset, length: g.length }, getOpts);
                if (data === undefined)
                  throw new CodecError(`shard ${key} vanished while being read`, { key });
                bytes += data.length;
              } catch (err) {
                const error = describeFailure(err, signal);
                for (const i of g.chunks) {
                  const coords = innerCoords(sc, i);
                  fail(chunk, `inner chunk [${coords.join(", ")}]: ${error}`, coords);
                }
                chunks += g.chunks.length;
                return;
              }
              for (const i of g.chunks) {
                signal?.throwIfAborted();
                chunks += 1;
                const at = (index.offsets[i] as number) - g.offset;
                const length = index.lengths[i] as number;
                const coords = innerCoords(sc, i);
                const where = `inner chunk [${coords.join(", ")}]`;
                if (at + length > data.length) {
                  fail(
                    chunk,
                    `${where}: bytes ${index.offsets[i]}..${(index.offsets[i] as number) + length} lie beyond the end of shard ${key} (truncated?)`,
                    coords,
                  );
                  continue;
                }
                try {
                  await sharding.inner.decode(data.subarray(at, at + length), { key, ...getOpts });
                } catch (err) {
                  fail(chunk, `${where}: ${describeFailure(err, signal)}`, coords);
                }
              }
            }),
          ),
        );
      },
      signal,
    );
  }
  return { found: true, metadata: meta, chunks, bytes, failures };
}
