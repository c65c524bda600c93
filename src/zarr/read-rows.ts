/**
 * The along-track fast path of `readArray` (./read.ts): an array chunked
 * along its first dimension only, read whole along every other one, is
 * decoded by the codec workers straight into its output (in shared memory),
 * in batches of chunks handed over as they arrive (./decode-batches.ts).
 * The calling thread neither decodes nor copies, so arrays read at once
 * (the partitions of a query) decode on every core, and the encoded bytes
 * held at once stay within the process-wide read budget. Any other read
 * goes chunk by chunk in ./read.ts.
 *
 * @module
 */

import type { CodecDescriptor } from "../codecs/index.js";
import { get as getConfig } from "../config.js";
import { type AnyStorage, allocate, allocateShared, itemSize, storageBytes } from "../dtype.js";
import { shapeSize } from "../ndarray.js";
import type { Store } from "../store/store.js";
import { takeBuffer, takeSharedBuffer } from "./compression/buffers.js";
import { FRAMES_INLINE_BELOW_BYTES, framesUsePool } from "./compression/index.js";
import { IS_NODE } from "./compression/runtime.js";
import { DecodeBatches, type ObjectFrame } from "./decode-batches.js";
import type { ArrayCodecs } from "./decoding.js";
import { fillWith, storageValue } from "./grid.js";
import type { ArrayMetadata } from "./metadata.js";
import { readBudgetInUse } from "./read-budget.js";
import { chunksInBox, type ShardIndexCache, visitObjects } from "./shard-read.js";

/** Decoded bytes of the largest batch of chunks handed to a worker at once. */
const BATCH_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Reads an array chunked along its first dimension only — chunks (and
 * shards) and the selection whole along every other dimension, byte codecs
 * over `bytes` in host order: along-track data — with the codec workers
 * decoding batches of its chunks straight into the output as they arrive.
 *
 * With `into` (storage of exactly the selection's size, e.g. a view on a
 * query's output) the rows are decoded there; otherwise into new storage
 * in a SharedArrayBuffer (several workers write into it at once).
 *
 * @returns `undefined`, having read nothing, for another layout, a read
 *   below `FRAMES_INLINE_BELOW_BYTES`, or without a pool (`codec.workers`
 *   < 2): the chunk-by-chunk path is as good then.
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
  into?: AnyStorage,
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
  if (outBytes < FRAMES_INLINE_BELOW_BYTES) return undefined;

  // With the pool, a new output goes in shared memory: workers decode straight into it, at once.
  const out =
    into ??
    (framesUsePool(outBytes)
      ? allocateShared(dtype, (b - a) * rowElements)
      : allocate(dtype, (b - a) * rowElements));
  const chunkRows = inner[0] as number;
  const placed: Array<readonly [number, number]> = [];
  const frameOf = (source: Uint8Array, offset: number, length: number, first: number, key: string) => {
    const lo = Math.max(first, a);
    const hi = Math.min(first + chunkRows, b);
    placed.push([(lo - a) * rowBytes, (hi - a) * rowBytes]);
    return {
      source,
      offset,
      length,
      size: chunkRows * rowBytes,
      from: (lo - first) * rowBytes,
      to: (hi - first) * rowBytes,
      at: (lo - a) * rowBytes,
      key,
    };
  };
  const objects = chunksInBox(sel, grid).length;
  const getOpts = signal === undefined ? {} : { signal };
  const workers = Math.floor(getConfig("codec.workers"));
  const batches = new DecodeBatches({
    chain: rawChain,
    out: storageBytes(out as Exclude<AnyStorage, string[]>),
    itemSize: size,
    // About one batch per worker, each worth a hop to a worker and not so large that it waits long.
    batchBytes: Math.min(BATCH_MAX_BYTES, Math.max(FRAMES_INLINE_BELOW_BYTES, Math.ceil(outBytes / workers))),
    // A read of a few objects while no other read holds the budget (one partition's array): each
    // batch is split between the workers (copying the halves of its encoded bytes), or the largest
    // shard alone would set the pace. Reads running at once keep the workers busy without it.
    maxTasks: objects < 2 * workers && readBudgetInUse() === 0 ? workers : 1,
    ...(signal === undefined ? {} : { signal }),
  });
  // Objects are read into recycled memory, given back once decoded: shared memory when the workers
  // decode into shared memory (several may read one shard in place), else memory that travels to a
  // worker and comes back.
  const sourceMemory =
    (out as Exclude<AnyStorage, string[]>).buffer instanceof SharedArrayBuffer
      ? takeSharedBuffer
      : takeBuffer;
  /** Rows of the selection in the object starting at row `origin` with `extent` rows, as bytes. */
  const bytesIn = (origin: number, extent: number) =>
    Math.max(0, Math.min(origin + extent, b) - Math.max(origin, a)) * rowBytes;
  try {
    await visitObjects(
      { store, path, meta, codecs, sel, limit, signal, indexes, allocate: sourceMemory },
      {
        chunk: (chunkPath, origin) =>
          batches.read(bytesIn(origin[0] as number, chunkRows), async () => {
            const bytes = await store.readBytes(chunkPath, { ...getOpts, allocate: sourceMemory });
            return bytes === undefined
              ? []
              : [frameOf(bytes, 0, bytes.length, origin[0] as number, chunkPath)];
          }),
        shard: (shardPath, shardOrigin, _sharding, read) =>
          batches.read(bytesIn(shardOrigin[0] as number, grid[0] as number), async () => {
            const frames: ObjectFrame[] = [];
            await read(async (chunkBytes, origin, source, offset) => {
              frames.push(frameOf(source, offset, chunkBytes.length, origin[0] as number, shardPath));
            });
            return frames;
          }),
      },
    );
  } catch (err) {
    // Let the batches already handed over finish writing before the caller sees the failure.
    await batches.settle();
    throw err;
  }
  await batches.finish();
  // Rows of missing chunks are left as they were (zero in new memory): set them to the fill value.
  const zero = storageValue(meta.fillValue, dtype);
  if (into !== undefined || !((zero === 0 || zero === 0n) && !Object.is(zero, -0))) {
    const covered = placed.sort((x, y) => x[0] - y[0]);
    let at = 0;
    for (const [lo, hi] of [...covered, [outBytes, outBytes] as const]) {
      if (lo > at)
        fillWith((out as Float64Array).subarray(at / size, lo / size), dtype, meta.fillValue, false);
      at = Math.max(at, hi);
    }
  }
  return out;
}
