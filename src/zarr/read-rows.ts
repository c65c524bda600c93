/**
 * The along-track fast path of `readArray` (./read.ts): an array chunked
 * along its first dimension only, read whole along every other one, is
 * fetched entirely and then decoded in one worker-pool task that also
 * allocates the output ({@link decodeFrames}). The calling thread neither decodes nor
 * copies, so arrays read concurrently (the partitions of a query) decode on
 * every core. Any other read goes chunk by chunk in ./read.ts.
 *
 * @module
 */

import type { CodecDescriptor } from "../codecs/index.js";
import { get as getConfig } from "../config.js";
import { type AnyStorage, itemSize, storageConstructor } from "../dtype.js";
import { shapeSize } from "../ndarray.js";
import { joinPath, type Store } from "../store/store.js";
import { createLimiter, mapConcurrent } from "../util/concurrency.js";
import { decodeFrames, FRAMES_INLINE_BELOW_BYTES, type Frame } from "./compression/index.js";
import { IS_NODE } from "./compression/runtime.js";
import type { ArrayCodecs } from "./decoding.js";
import { fillWith, storageValue } from "./grid.js";
import { type ArrayMetadata, chunkKey } from "./metadata.js";
import { chunksInBox, readShard, type ShardIndexCache } from "./shard-read.js";

/** Largest read (decoded bytes) fetched whole before decoding: above, the compressed bytes would double the memory held. */
const ROWS_AT_ONCE_MAX_BYTES = 512 * 1024 * 1024;

/**
 * Reads an array chunked along its first dimension only — chunks (and
 * shards) and the selection whole along every other dimension, byte codecs
 * over `bytes` in host order: along-track data — by fetching all its chunks,
 * then decoding them in one task ({@link decodeFrames}). With the worker
 * pool that task runs on a worker, which also allocates the output and moves
 * it back: the calling thread neither decodes nor copies, and arrays read
 * concurrently (the partitions of a query) decode on every core.
 *
 * @returns `undefined`, having read nothing, for another layout, a read
 *   below `FRAMES_INLINE_BELOW_BYTES` or above {@link ROWS_AT_ONCE_MAX_BYTES},
 *   or without a pool (`codec.workers` < 2): the chunk-by-chunk path, which
 *   decodes as the bytes arrive, is as good then (and holds only the chunks
 *   in flight, not all the compressed bytes of the read).
 */
export async function readRows(
  store: Store,
  path: string,
  meta: ArrayMetadata,
  codecs: ArrayCodecs,
  sel: readonly (readonly [number, number])[],
  rawChain: CodecDescriptor[] | null,
  limit: number,
  signal: AbortSignal | undefined,
  indexes: ShardIndexCache | undefined,
): Promise<AnyStorage | undefined> {
  const { shape, dtype } = meta;
  const n = shape.length;
  if (rawChain === null || rawChain.length === 0 || n === 0 || !IS_NODE) return undefined;
  if (Math.floor(getConfig("codec.workers")) < 2) return undefined;
  const grid = meta.chunkShape;
  const inner = codecs.kind === "plain" ? grid : codecs.sharding.innerShape;
  for (let d = 1; d < n; d++) {
    const whole = shape[d] as number;
    if (sel[d]![0] !== 0 || sel[d]![1] !== whole || inner[d] !== whole || grid[d] !== whole) return undefined;
  }
  const size = itemSize(dtype);
  const rowElements = shapeSize(shape.slice(1));
  const rowBytes = rowElements * size;
  const [a, b] = sel[0] as readonly [number, number];
  const outBytes = (b - a) * rowBytes;
  if (outBytes < FRAMES_INLINE_BELOW_BYTES || outBytes > ROWS_AT_ONCE_MAX_BYTES) return undefined;

  const sources: Uint8Array[] = [];
  const sourceIndex = new Map<Uint8Array, number>();
  const frames: Frame[] = [];
  const chunkRows = inner[0] as number;
  const add = (source: Uint8Array, offset: number, length: number, first: number, key: string) => {
    let s = sourceIndex.get(source);
    if (s === undefined) {
      s = sources.length;
      sources.push(source);
      sourceIndex.set(source, s);
    }
    const lo = Math.max(first, a);
    const hi = Math.min(first + chunkRows, b);
    frames.push({
      source: s,
      offset,
      length,
      size: chunkRows * rowBytes,
      from: (lo - first) * rowBytes,
      to: (hi - first) * rowBytes,
      at: (lo - a) * rowBytes,
      key,
    });
  };
  const coords = chunksInBox(sel, grid);
  const getOpts = signal === undefined ? {} : { signal };
  if (codecs.kind === "plain") {
    await mapConcurrent(
      coords,
      limit,
      async (c) => {
        const chunkPath = joinPath(path, chunkKey(meta.chunkKeyEncoding, c));
        const bytes = await store.readBytes(chunkPath, getOpts);
        if (bytes !== undefined) add(bytes, 0, bytes.length, (c[0] as number) * chunkRows, chunkPath);
      },
      signal,
    );
  } else {
    const sharding = codecs.sharding;
    const limiter = createLimiter(limit);
    await mapConcurrent(
      coords,
      Math.max(2, Math.ceil(limit / 2)),
      async (sc) => {
        const shardPath = joinPath(path, chunkKey(meta.chunkKeyEncoding, sc));
        const shardOrigin = sc.map((i, d) => i * (grid[d] as number));
        await readShard(
          store,
          { shardPath, sharding, shardOrigin, sel, shape, limiter, signal, indexes },
          async (chunkBytes, origin, source, offset) =>
            add(source, offset, chunkBytes.length, origin[0] as number, shardPath),
        );
      },
      signal,
    );
  }
  // Store reads return fresh bytes: hand them over.
  const bytes = await decodeFrames(rawChain, sources, frames, outBytes, {
    itemSize: size,
    transfer: true,
    ...(signal === undefined ? {} : { signal }),
  });
  const Ctor = storageConstructor(dtype) as unknown as new (
    b: ArrayBuffer,
    o: number,
    n: number,
  ) => AnyStorage;
  const out = new Ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, (b - a) * rowElements);
  // Rows of missing chunks are zero: set them to the fill value unless that is zero too.
  const zero = storageValue(meta.fillValue, dtype);
  if (!((zero === 0 || zero === 0n) && !Object.is(zero, -0))) {
    const covered = frames.map((f) => [f.at, f.at + f.to - f.from] as const).sort((x, y) => x[0] - y[0]);
    let at = 0;
    for (const [lo, hi] of [...covered, [outBytes, outBytes] as const]) {
      if (lo > at)
        fillWith((out as Float64Array).subarray(at / size, lo / size), dtype, meta.fillValue, false);
      at = Math.max(at, hi);
    }
  }
  return out;
}
