/**
 * Reading the part of one shard that a selection needs (docs/format.md §6.4, §6.6):
 * a shard the selection covers is fetched with one GET of the whole object;
 * any other with ranged GETs — the shard index first (its checksum
 * verified), then only the byte ranges of the inner chunks the selection
 * intersects ({@link planShardReads}: absent chunks skipped, neighbours
 * merged). Shard indexes can be shared between several reads of the same
 * array through a {@link ShardIndexCache}, so that reading several row
 * ranges of one shard fetches its index once.
 *
 * @module
 */

import { CodecError } from "../errors.js";
import { joinPath, type Store } from "../store/store.js";
import { createLimiter, type Limiter, mapConcurrent } from "../util/concurrency.js";
import type { ChunkPipeline } from "./codecs/pipeline.js";
import type { ArrayCodecs } from "./decoding.js";
import { allIndices } from "./grid.js";
import { type ArrayMetadata, chunkKey } from "./metadata.js";
import { decodeShardIndex, planShardReads, type ShardIndex, type ShardingCodec } from "./sharding.js";

/**
 * Decoded shard indexes by shard key (`undefined`: the shard is absent),
 * filled by the reads that fetch them and shared by the reads given the same
 * map: each index is fetched and verified once. Valid for one version of the
 * array only: use one map per read operation.
 */
export type ShardIndexCache = Map<string, Promise<ShardIndex | undefined>>;

/** Where a shard lies and what of it a read wants (see {@link readShard}). */
export interface ShardReadRequest {
  /** Key of the shard object. */
  readonly shardPath: string;
  /** The array's sharding codec. */
  readonly sharding: ShardingCodec;
  /** First element of the shard in the array, per dimension. */
  readonly shardOrigin: readonly number[];
  /** The selection box of the read, `[start, stop)` per dimension (array coordinates). */
  readonly sel: readonly (readonly [number, number])[];
  /** The array's shape. */
  readonly shape: readonly number[];
  /** Bounds the decodes in flight. */
  readonly limiter: Limiter;
  /** Aborts the reads. */
  readonly signal?: AbortSignal | undefined;
  /** Indexes already fetched (and where to record this one's); none: fetch it. */
  readonly indexes?: ShardIndexCache | undefined;
  /** Memory for a shard fetched whole (see `ReadOptions.allocate`). */
  readonly allocate?: ((bytes: number) => Uint8Array) | undefined;
}

/**
 * Receives one inner chunk of a shard: its encoded bytes, its origin in the
 * array, and where the bytes lie — `source` as read from the store, at
 * `offset` (for decoders that take the whole buffer).
 */
export type DeliverChunk = (
  chunkBytes: Uint8Array,
  origin: readonly number[],
  source: Uint8Array,
  offset: number,
) => Promise<void>;

/**
 * Fetches the inner chunks of one shard that intersect the selection and
 * hands each to `deliver` (absent shard or inner chunks: nothing delivered;
 * the caller's output keeps the fill value there). One GET when the
 * selection covers the shard within the array; otherwise one ranged GET of
 * the index (unless `indexes` holds it) and one ranged GET per run of
 * neighbouring inner chunks.
 *
 * @throws CodecError naming the shard for a shard shorter than its index, an
 *   invalid index or checksum, or chunk bytes beyond the object's end.
 */
export async function readShard(
  store: Store,
  request: ShardReadRequest,
  deliver: DeliverChunk,
): Promise<void> {
  const { shardPath, sharding, shardOrigin, sel, shape, limiter, signal, allocate } = request;
  const getOpts = signal === undefined ? {} : { signal };
  // Inner chunks of the shard that intersect the selection (and the array).
  const inner = sharding.innerShape;
  const innerBox = sel.map(([a, b], d) => {
    const o = shardOrigin[d] as number;
    const lo = Math.max(a, o);
    const hi = Math.min(b, o + (sharding.shardShape[d] as number), shape[d] as number);
    return [lo - o, hi - o] as const;
  });
  // Every stored byte is needed when the selection covers the shard (within the array): one GET.
  const whole = innerBox.every(
    ([lo, hi], d) =>
      lo === 0 &&
      hi === Math.min(sharding.shardShape[d] as number, (shape[d] as number) - (shardOrigin[d] as number)),
  );
  let object: Uint8Array | undefined;
  let index: ShardIndex | undefined;
  if (whole) {
    object = await store.readBytes(shardPath, allocate === undefined ? getOpts : { ...getOpts, allocate });
    if (object === undefined) return;
    if (object.length < sharding.indexSize) {
      throw new CodecError(
        `corrupted shard ${shardPath}: ${object.length} bytes, fewer than its index (${sharding.indexSize})`,
        { key: shardPath },
      );
    }
    const indexBytes =
      sharding.indexLocation === "end"
        ? object.subarray(object.length - sharding.indexSize)
        : object.subarray(0, sharding.indexSize);
    index = decodeShardIndex(indexBytes, sharding, shardPath);
  } else {
    index = await shardIndex(store, shardPath, sharding, request.indexes, getOpts);
    if (index === undefined) return;
  }
  const found = index;
  const fetch = async (offset: number, length: number): Promise<Uint8Array | undefined> => {
    if (object === undefined) return store.readRange(shardPath, { offset, length }, getOpts);
    return offset + length <= object.length ? object.subarray(offset, offset + length) : undefined;
  };
  const wanted: number[] = [];
  const positions = chunksInBox(innerBox, inner);
  const strides = sharding.chunksPerShard.map((_, d) =>
    sharding.chunksPerShard.slice(d + 1).reduce((a, b) => a * b, 1),
  );
  const posOf = new Map<number, number[]>();
  for (const p of positions) {
    const flat = p.reduce((acc, i, d) => acc + i * (strides[d] as number), 0);
    wanted.push(flat);
    posOf.set(flat, p);
  }
  const plan = planShardReads(found, wanted);
  await Promise.all(
    plan.map(async (r) => {
      signal?.throwIfAborted();
      const bytes = await fetch(r.offset, r.length);
      if (bytes === undefined || bytes.length !== r.length) {
        throw new CodecError(
          `corrupted shard ${shardPath}: bytes ${r.offset}..${r.offset + r.length} out of range (object truncated?)`,
          { key: shardPath },
        );
      }
      await Promise.all(
        r.chunks.map((flat) =>
          limiter(async () => {
            signal?.throwIfAborted();
            const off = (found.offsets[flat] as number) - r.offset;
            const chunkBytes = bytes.subarray(off, off + (found.lengths[flat] as number));
            const p = posOf.get(flat) as number[];
            await deliver(
              chunkBytes,
              p.map((i, d) => (shardOrigin[d] as number) + i * (inner[d] as number)),
              object ?? bytes,
              object === undefined ? off : (found.offsets[flat] as number),
            );
          }),
        ),
      );
    }),
  );
}

/** The decoded index of a shard, through `indexes` when given; `undefined` when the shard is absent. */
function shardIndex(
  store: Store,
  shardPath: string,
  sharding: ShardingCodec,
  indexes: ShardIndexCache | undefined,
  getOpts: { signal?: AbortSignal },
): Promise<ShardIndex | undefined> {
  const cached = indexes?.get(shardPath);
  if (cached !== undefined) return cached;
  const range =
    sharding.indexLocation === "end"
      ? { suffixLength: sharding.indexSize }
      : { offset: 0, length: sharding.indexSize };
  const task = store
    .readRange(shardPath, range, getOpts)
    .then((bytes) => (bytes === undefined ? undefined : decodeShardIndex(bytes, sharding, shardPath)));
  if (indexes !== undefined) {
    indexes.set(shardPath, task);
    // A failed fetch (an abort, a network error) is not remembered: a later read tries again.
    task.catch(() => {
      if (indexes.get(shardPath) === task) indexes.delete(shardPath);
    });
  }
  return task;
}

/** Grid coordinates of the chunks of `chunkShape` intersecting the box `[start, stop)` per dimension, C order. */
export function chunksInBox(
  box: readonly (readonly [number, number])[],
  chunkShape: readonly number[],
): number[][] {
  const first = box.map(([a], d) => Math.floor(a / (chunkShape[d] as number)));
  const counts = box.map(([a, b], d) =>
    b <= a ? 0 : Math.ceil(b / (chunkShape[d] as number)) - (first[d] as number),
  );
  return allIndices(counts).map((idx) => idx.map((i, d) => i + (first[d] as number)));
}

/** The stored objects one read visits (see {@link visitObjects}). */
export interface ObjectsRequest {
  readonly store: Store;
  /** The array's path. */
  readonly path: string;
  readonly meta: ArrayMetadata;
  readonly codecs: ArrayCodecs;
  /** The selection box, `[start, stop)` per dimension. */
  readonly sel: readonly (readonly [number, number])[];
  /** Chunk reads in flight (shards: half as many, sharing this many ranged reads). */
  readonly limit: number;
  readonly signal?: AbortSignal | undefined;
  readonly indexes?: ShardIndexCache | undefined;
  /** Memory for shards fetched whole (see `ReadOptions.allocate`). */
  readonly allocate?: ((bytes: number) => Uint8Array) | undefined;
}

/** What {@link visitObjects} calls per object: a chunk, or a shard with the read of its part. */
export interface ObjectVisitor {
  /** A plain chunk: its key, its first element in the array, the array's chunk codecs. */
  chunk(key: string, origin: readonly number[], pipeline: ChunkPipeline): Promise<void>;
  /**
   * A shard: its key, its first element, the array's sharding codec, and
   * `read(deliver)`, which fetches what the selection needs of it ({@link readShard}).
   */
  shard(
    key: string,
    origin: readonly number[],
    sharding: ShardingCodec,
    read: (deliver: DeliverChunk) => Promise<void>,
  ): Promise<void>;
}

/**
 * Visits every stored object (chunk or shard) the selection touches, with
 * bounded concurrency: `limit` chunks at once, or half as many shards (at
 * least 2) sharing a limiter of `limit` ranged reads. Checks the signal
 * before each object.
 */
export async function visitObjects(req: ObjectsRequest, visit: ObjectVisitor): Promise<void> {
  const { store, path, meta, codecs, sel, limit, signal, indexes, allocate } = req;
  const grid = meta.chunkShape;
  const coords = chunksInBox(sel, grid);
  const originOf = (c: readonly number[]) => c.map((i, d) => i * (grid[d] as number));
  if (codecs.kind === "plain") {
    const pipeline = codecs.pipeline;
    await mapConcurrent(
      coords,
      limit,
      async (c) => {
        signal?.throwIfAborted();
        await visit.chunk(joinPath(path, chunkKey(meta.chunkKeyEncoding, c)), originOf(c), pipeline);
      },
      signal,
    );
    return;
  }
  const sharding = codecs.sharding;
  const limiter = createLimiter(limit);
  await mapConcurrent(
    coords,
    Math.max(2, Math.ceil(limit / 2)),
    async (sc) => {
      signal?.throwIfAborted();
      const shardPath = joinPath(path, chunkKey(meta.chunkKeyEncoding, sc));
      const shardOrigin = originOf(sc);
      await visit.shard(shardPath, shardOrigin, sharding, (deliver) =>
        readShard(
          store,
          { shardPath, sharding, shardOrigin, sel, shape: meta.shape, limiter, signal, indexes, allocate },
          deliver,
        ),
      );
    },
    signal,
  );
}
