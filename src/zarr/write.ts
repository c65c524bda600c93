/**
 * Writing a whole Zarr v3 array to a {@link Store} (docs/format.md §6;
 * docs/behaviour.md §12, §18 #11): cut the data into the chunks (or shards) of its
 * {@link arrayLayout}, encode them, store them, then store `zarr.json`.
 *
 * - Chunks (inner chunks) equal to the fill value everywhere are not written
 *   (docs/format.md §6.6); missing ones read back as the fill value.
 * - Chunk objects are written first and `zarr.json` last, so that a reader
 *   never finds a document whose chunks are not there yet — except on a
 *   transactional store (Icechunk), which refuses chunks of an undeclared
 *   array and makes the whole write atomic anyway.
 * - Chunk encodes and writes run with bounded concurrency
 *   (2 × `codec.workers` by default); chunks are cut into recycled scratch
 *   memory that the codec workers hand back.
 *
 * @module
 */

import { get as getConfig } from "../config.js";
import { type AnyStorage, allocate, itemSize, type Scalar, storageConstructor } from "../dtype.js";
import type { JsonValue } from "../json.js";
import { type NDArray, shapeSize } from "../ndarray.js";
import { joinPath, type Store } from "../store/store.js";
import { createLimiter, type Limiter, mapConcurrent } from "../util/concurrency.js";
import { type ChunkContext, ChunkPipeline } from "./codecs/pipeline.js";
import { giveBuffer, isScratch, takeBuffer } from "./compression/buffers.js";
import { allIndices, copyBox, fillWith, gridShape, isAllFill } from "./grid.js";
import { ensureParentGroups } from "./group.js";
import { type ArrayLayoutOptions, arrayLayout } from "./layout.js";
import {
  type ArrayMetadata,
  chunkKey,
  DEFAULT_CHUNK_KEY_ENCODING,
  encodeArrayMetadata,
  metadataKey,
  normalizeFillValue,
} from "./metadata.js";
import { assembleShard, parseSharding, type ShardingCodec } from "./sharding.js";

/** Options of {@link writeArray}. */
export interface WriteArrayOptions extends ArrayLayoutOptions {
  /** Fill value; `null` = the data type's default (docs/format.md §6.5). */
  fillValue: number | bigint | boolean | string | null;
  /** `attributes` of the array. */
  attributes?: Record<string, unknown>;
  /**
   * Delete everything under `path` before writing. Without it, `writeArray`
   * assumes nothing is stored under `path` (e.g. the caller deleted the
   * partition prefix): stale chunk objects from an earlier array would
   * otherwise survive where the new array has empty chunks.
   */
  overwrite?: boolean;
  /** Create the ancestor groups' `zarr.json` when absent (docs/format.md §5.2); default false. */
  createParents?: boolean;
  /** Chunk encodes/writes in flight; default 2 × config `codec.workers` (at least 2). */
  concurrency?: number;
  signal?: AbortSignal;
}

function defaultConcurrency(): number {
  return Math.max(2, 2 * Math.floor(getConfig("codec.workers")));
}

/**
 * Writes `data` as a Zarr v3 array at `path`: chunk (or shard) objects
 * first, then `zarr.json` (docs/format.md §6) — on a transactional store (Icechunk,
 * which refuses chunks of an undeclared array) `zarr.json` first. The array's data type is the
 * NDArray's dtype. Chunks equal to the fill value everywhere are not written.
 *
 * @returns the metadata written.
 * @throws SchemaError naming the array or dimension for an invalid layout or
 *   a fill value that does not fit the dtype; CodecError for an unsupported
 *   codec; the signal's reason when aborted; store errors as thrown.
 */
export async function writeArray(
  store: Store,
  path: string,
  data: NDArray,
  opts: WriteArrayOptions,
): Promise<ArrayMetadata> {
  const signal = opts.signal;
  signal?.throwIfAborted();
  const dtype = data.dtype;
  const shape = [...data.shape];
  const layout = arrayLayout(path, shape, dtype, opts);
  const fillValue = normalizeFillValue(opts.fillValue, dtype, path);
  const attributes = (opts.attributes ?? {}) as Record<string, JsonValue>;
  const dimensionNames =
    opts.dimensionNames === undefined || shape.length === 0 ? undefined : [...opts.dimensionNames];
  const meta: ArrayMetadata = {
    shape,
    dtype,
    dataType: dtype,
    scaleFactor: 1,
    chunkShape: layout.gridChunks,
    chunkKeyEncoding: DEFAULT_CHUNK_KEY_ENCODING,
    fillValue,
    codecs: layout.codecs,
    attributes,
    ...(dimensionNames === undefined ? {} : { dimensionNames }),
  };
  const key = metadataKey(path);
  const limit = opts.concurrency ?? defaultConcurrency();

  if (opts.overwrite) await store.deletePrefix(path);
  if (opts.createParents) await ensureParentGroups(store, path);
  const document = encodeArrayMetadata({
    shape,
    dtype,
    chunkShape: layout.gridChunks,
    fillValue,
    codecs: layout.codecs,
    attributes,
    ...(dimensionNames === undefined ? {} : { dimensionNames }),
  });
  // Icechunk refuses chunks of an array whose document is absent; on a
  // transactional store the session already makes the whole write atomic,
  // so the document goes first there.
  const metadataFirst = store.transactional;
  if (metadataFirst) await store.writeBytes(key, document);

  if (layout.shards === null) {
    const inner = ChunkPipeline.fromCodecs(layout.codecs, dtype, layout.chunks, key);
    const coords = allIndices(gridShape(shape, layout.chunks));
    await mapConcurrent(
      coords,
      limit,
      async (c) => {
        signal?.throwIfAborted();
        const start = c.map((i, d) => i * (layout.chunks[d] as number));
        const chunk = extractChunk(data, start, layout.chunks, fillValue);
        if (isAllFill(chunk, dtype, fillValue)) return recycle(chunk);
        const chunkPath = joinPath(path, chunkKey(DEFAULT_CHUNK_KEY_ENCODING, c));
        const bytes = await inner.encode(chunk, ctx(chunkPath, signal));
        signal?.throwIfAborted();
        await store.writeBytes(chunkPath, bytes);
      },
      signal,
    );
  } else {
    const sharding = parseSharding(layout.codecs[0]!, dtype, layout.shards, key);
    const limiter = createLimiter(limit);
    const shardCoords = allIndices(gridShape(shape, layout.shards));
    await mapConcurrent(
      shardCoords,
      2,
      async (sc) => {
        signal?.throwIfAborted();
        const shardPath = joinPath(path, chunkKey(DEFAULT_CHUNK_KEY_ENCODING, sc));
        const bytes = await encodeShard(data, sc, sharding, fillValue, limiter, ctx(shardPath, signal));
        signal?.throwIfAborted();
        if (bytes !== undefined) await store.writeBytes(shardPath, bytes);
      },
      signal,
    );
  }
  signal?.throwIfAborted();
  if (!metadataFirst) await store.writeBytes(key, document);
  return meta;
}

function ctx(key: string, signal: AbortSignal | undefined): ChunkContext {
  return signal === undefined ? { key } : { key, signal };
}

/**
 * The chunk of `chunkShape` starting at `start`, padded with the fill value
 * beyond the array's edge. Numeric chunks live in scratch memory
 * (`takeBuffer`): the codec workers hand it back for the next chunk.
 */
function extractChunk(
  data: NDArray,
  start: readonly number[],
  chunkShape: readonly number[],
  fill: Scalar,
): AnyStorage {
  const n = shapeSize(chunkShape);
  const dtype = data.dtype;
  const out =
    dtype === "string"
      ? allocate(dtype, n)
      : new (
          storageConstructor(dtype) as unknown as new (
            b: ArrayBuffer,
            o: number,
            n: number,
          ) => AnyStorage
        )(takeBuffer(n * itemSize(dtype)).buffer as ArrayBuffer, 0, n);
  const extent = chunkShape.map((c, d) => Math.min(c, (data.shape[d] as number) - (start[d] as number)));
  // Scratch memory may hold an earlier chunk: pad explicitly.
  if (extent.some((e, d) => e < (chunkShape[d] as number))) fillWith(out, dtype, fill, false);
  copyBox(
    data.data,
    data.shape,
    start,
    out,
    chunkShape,
    chunkShape.map(() => 0),
    extent,
  );
  return out;
}

/** Encodes the shard at grid coordinates `sc`; `undefined` when every inner chunk is empty. */
async function encodeShard(
  data: NDArray,
  sc: readonly number[],
  sharding: ShardingCodec,
  fill: Scalar,
  limiter: Limiter,
  context: ChunkContext,
): Promise<Uint8Array | undefined> {
  const shape = data.shape;
  const positions = allIndices(sharding.chunksPerShard);
  const encoded = await Promise.all(
    positions.map((p) =>
      limiter(async () => {
        context.signal?.throwIfAborted();
        const start = p.map(
          (i, d) =>
            (sc[d] as number) * (sharding.shardShape[d] as number) + i * (sharding.innerShape[d] as number),
        );
        // Inner chunks entirely beyond the array are never written (docs/format.md §6.6).
        if (start.some((s, d) => s >= (shape[d] as number))) return undefined;
        const chunk = extractChunk(data, start, sharding.innerShape, fill);
        if (isAllFill(chunk, data.dtype, fill)) return recycle(chunk);
        return sharding.inner.encode(chunk, context);
      }),
    ),
  );
  const shard = assembleShard(encoded, sharding.count);
  // Copied into the shard: encoded chunks in scratch memory serve the next ones.
  for (const e of encoded) if (e !== undefined) recycle(e);
  return shard;
}

/** Gives the buffer of `storage` back to the scratch cache when it came from there (the caller owns it). */
function recycle(storage: AnyStorage): undefined {
  if (!Array.isArray(storage) && isScratch(storage.buffer)) giveBuffer(storage.buffer);
  return undefined;
}
