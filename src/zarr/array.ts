/**
 * Writing and reading whole Zarr v3 arrays and groups on a {@link Store}
 * (FORMAT §5, §6; BEHAVIOUR §12, §18 #11). This is the API the collection
 * layer builds on.
 *
 * - Chunk shape: the declared chunk per dimension, or the full extent
 *   (FORMAT §6.3; never clipped to the array).
 * - Sharding: `shardDecision` of the codec stack (BEHAVIOUR §12.2), or an
 *   explicit shard extent per dimension (BEHAVIOUR §18 #11).
 * - Chunks (inner chunks) equal to the fill value everywhere are not written
 *   (FORMAT §6.6); missing ones read back as the fill value.
 * - Chunk objects are written first and `zarr.json` last.
 * - Chunk I/O and codec work run with bounded concurrency
 *   (2 × `codec.workers` by default).
 * - Reading, a chunk that lies wholly inside the selection and is contiguous
 *   in the output, with only byte codecs over `bytes` in host order (the
 *   profiles' `bytes` + `zstd`), is decoded straight into the output array
 *   (`decodeChainInto`): no intermediate buffer, no copy. An array chunked
 *   along its first dimension only (along-track data) is fetched whole, then
 *   decoded in one pool task that allocates the output (`decodeFrames`),
 *   so that arrays read concurrently decode on every core.
 * - The part of a shard a selection needs is read by ./shard-read.ts (the
 *   index, then ranged reads of the inner chunks); several row ranges at
 *   once by ./read-selection.ts, on top of {@link readArray}.
 *
 * @module
 */

import { type CodecDescriptor, type CodecStack, profile, shardDecision } from "../codecs/index.js";
import { get as getConfig } from "../config.js";
import {
  type AnyStorage,
  allocate,
  type DType,
  isDatetime,
  isTimedelta,
  itemSize,
  NAT,
  type Scalar,
  storageConstructor,
} from "../dtype.js";
import { CodecError, SchemaError, StoreError } from "../errors.js";
import type { JsonValue } from "../json.js";
import { NDArray, shapeSize } from "../ndarray.js";
import { joinPath, type Store } from "../store/store.js";
import { createLimiter, type Limiter, mapConcurrent } from "../util/concurrency.js";
import { type ChunkContext, ChunkPipeline, effectiveCodecs } from "./codecs/pipeline.js";
import { giveBuffer, isScratch, takeBuffer } from "./compression/buffers.js";
import {
  BYTES_TO_BYTES_CODECS,
  decodeChainInto,
  decodeFrames,
  FRAMES_INLINE_BELOW_BYTES,
  type Frame,
} from "./compression/index.js";
import { IS_NODE } from "./compression/runtime.js";
import { allIndices, copyBox, fillWith, gridShape, isAllFill, storageValue } from "./grid.js";
import {
  type ArrayMetadata,
  chunkKey,
  DEFAULT_CHUNK_KEY_ENCODING,
  encodeArrayMetadata,
  encodeGroupMetadata,
  metadataKey,
  normalizeFillValue,
  parseNodeMetadata,
} from "./metadata.js";
import { chunksInBox, readShard, type ShardIndexCache } from "./shard-read.js";
import { assembleShard, parseSharding, type ShardingCodec, shardingDescriptor } from "./sharding.js";

/** Options of {@link writeArray}. */
export interface WriteArrayOptions {
  /** Name of each dimension, written as `dimension_names` (omitted when absent or for 0-d arrays). */
  dimensionNames?: readonly string[];
  /** Declared chunk length per dimension, or `null` for the array's full extent (FORMAT §6.3). */
  chunks: readonly (number | null)[];
  /**
   * Explicit shard extent per dimension (BEHAVIOUR §18 #11), a positive
   * multiple of that dimension's chunk; `null` (or absent) lets the codec
   * profile decide (BEHAVIOUR §12.2). Applies even to unsharded stacks.
   */
  shards?: readonly (number | null)[];
  /** Codecs and sharding intent; an incomplete stack (no serializer) means the default profile. */
  codecs: CodecStack;
  /** Fill value; `null` = the data type's default (FORMAT §6.5). */
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
  /** Create the ancestor groups' `zarr.json` when absent (FORMAT §5.2); default false. */
  createParents?: boolean;
  /** Chunk encodes/writes in flight; default 2 × config `codec.workers` (at least 2). */
  concurrency?: number;
  signal?: AbortSignal;
}

/** Options of {@link readArray}. */
export interface ReadArrayOptions {
  /** The array's metadata when already read (saves one GET). */
  metadata?: ArrayMetadata;
  /**
   * Rows to read per dimension as `[start, stop)` (clamped to the shape), or
   * `null` for the whole dimension; default: the whole array.
   */
  selection?: readonly (readonly [number, number] | null)[];
  /** Chunk reads/decodes in flight; default 2 × config `codec.workers` (at least 2). */
  concurrency?: number;
  /**
   * Shard indexes shared with other reads of the same array (e.g. the row
   * spans of `readArrayRanges`): an index found there is not fetched again,
   * one fetched is added. Default: none shared.
   */
  shardIndexes?: ShardIndexCache;
  signal?: AbortSignal;
}

/** The chunk layout {@link writeArray} chooses for an array (pure; see {@link arrayLayout}). */
export interface ArrayLayout {
  /** Inner chunk shape (FORMAT §6.3). */
  readonly chunks: readonly number[];
  /** Shard shape, or `null` when unsharded. */
  readonly shards: readonly number[] | null;
  /** `chunk_grid` chunk shape: the shard shape when sharded, else the chunk shape. */
  readonly gridChunks: readonly number[];
  /** The `codecs` of `zarr.json` (FORMAT §6.4). */
  readonly codecs: ReturnType<typeof effectiveCodecs>;
}

function dimName(names: readonly string[] | undefined, d: number): string {
  return names?.[d] ?? `#${d}`;
}

/**
 * The chunk and shard shapes and the `zarr.json` codecs of an array of
 * `shape` and `dtype` (FORMAT §6.3, §6.4; BEHAVIOUR §12, §18 #11). Shard
 * extents computed by the profile that are not a multiple of the chunk (a
 * dimension whose declared chunk exceeds its size) are rounded up to the
 * next multiple, so that the layout is always valid Zarr.
 *
 * @param path the array path, named in errors.
 * @throws SchemaError naming the dimension for a chunk or shard that is not a
 *   positive integer, a shard that is not a multiple of the chunk, or a rank
 *   mismatch. CodecError for a codec this library cannot write.
 */
export function arrayLayout(
  path: string,
  shape: readonly number[],
  dtype: DType,
  opts: Pick<WriteArrayOptions, "chunks" | "shards" | "codecs" | "dimensionNames">,
): ArrayLayout {
  const ndim = shape.length;
  const names = opts.dimensionNames;
  if (opts.chunks.length !== ndim) {
    throw new SchemaError(`array '${path}': ${opts.chunks.length} chunk lengths for ${ndim} dimensions`, {
      variable: path,
    });
  }
  if (names !== undefined && names.length !== ndim) {
    throw new SchemaError(`array '${path}': ${names.length} dimension names for ${ndim} dimensions`, {
      variable: path,
    });
  }
  if (opts.shards !== undefined && opts.shards.length !== ndim) {
    throw new SchemaError(`array '${path}': ${opts.shards.length} shard extents for ${ndim} dimensions`, {
      variable: path,
    });
  }
  const chunks = opts.chunks.map((c, d) => {
    if (c === null) return Math.max(1, shape[d] as number);
    if (!Number.isSafeInteger(c) || c <= 0) {
      throw new SchemaError(
        `array '${path}': chunk ${c} of dimension '${dimName(names, d)}' must be a positive integer`,
        { variable: path, dimension: dimName(names, d) },
      );
    }
    return c;
  });
  const stack = opts.codecs.isComplete ? opts.codecs : profile();
  let shards: number[] | null = stack.sharded
    ? shardDecision(chunks, shape, dtype, stack.shardTargetBytes)
    : null;
  const explicit = opts.shards;
  if (explicit?.some((s) => s !== null && s !== undefined)) {
    const base = shards;
    shards = chunks.map((c, d) => {
      const s = explicit[d];
      if (s === null || s === undefined) return base === null ? c : (base[d] as number);
      if (!Number.isSafeInteger(s) || s <= 0 || s % c !== 0) {
        throw new SchemaError(
          `array '${path}': shard extent ${s} of dimension '${dimName(names, d)}' must be a positive multiple of its chunk ${c}`,
          { variable: path, dimension: dimName(names, d) },
        );
      }
      return s;
    });
  }
  if (shards !== null) {
    shards = shards.map((s, d) => Math.ceil(s / (chunks[d] as number)) * (chunks[d] as number));
    if (shards.every((s, d) => s === chunks[d])) shards = null;
  }
  const codecs = effectiveCodecs(stack, dtype, path);
  return shards === null
    ? { chunks, shards: null, gridChunks: chunks, codecs }
    : { chunks, shards, gridChunks: shards, codecs: [shardingDescriptor(chunks, codecs)] };
}

function defaultConcurrency(): number {
  return Math.max(2, 2 * Math.floor(getConfig("codec.workers")));
}

/**
 * Writes `data` as a Zarr v3 array at `path`: chunk (or shard) objects
 * first, then `zarr.json` (FORMAT §6) — on a transactional store (Icechunk,
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
        // Inner chunks entirely beyond the array are never written (FORMAT §6.6).
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

// ---------------------------------------------------------------------------
// reading

/**
 * Reads the metadata of the array at `path`.
 *
 * @returns `undefined` when `zarr.json` is absent.
 * @throws CodecError naming the key when the document is invalid or is a group.
 */
export async function readArrayMetadata(
  store: Store,
  path: string,
  opts: { signal?: AbortSignal } = {},
): Promise<ArrayMetadata | undefined> {
  const key = metadataKey(path);
  const bytes = await store.readBytes(key, opts);
  if (bytes === undefined) return undefined;
  const node = parseNodeMetadata(bytes, key);
  if (node.nodeType !== "array") throw new CodecError(`${key} describes a group, not an array`, { key });
  const { nodeType: _, ...meta } = node;
  return meta;
}

/** How the chunks of an array are decoded: a plain pipeline or shards. */
type ArrayCodecs = { kind: "plain"; pipeline: ChunkPipeline } | { kind: "sharded"; sharding: ShardingCodec };

/** Whether typed arrays are little-endian on this platform. */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The bytes_to_bytes codecs of a chunk codec list whose decoded bytes are the
 * chunk's elements exactly as stored in memory (`bytes` in host byte order,
 * no array-to-array filter, a numeric or time dtype), or `null` when decoding
 * needs more than byte codecs. Chunks of such lists can be decoded straight
 * into the output array.
 */
function rawByteChain(codecs: readonly CodecDescriptor[], dtype: DType): CodecDescriptor[] | null {
  if (dtype === "string" || dtype === "bool") return null;
  const [serializer, ...rest] = codecs;
  if (serializer?.name !== "bytes") return null;
  const endian = (serializer.configuration as { endian?: unknown } | undefined)?.endian ?? "little";
  if (itemSize(dtype) > 1 && (endian === "little") !== HOST_LITTLE_ENDIAN) return null;
  if (endian !== "little" && endian !== "big") return null;
  return rest.every((c) => BYTES_TO_BYTES_CODECS.includes(c.name)) ? rest : null;
}

/** The codec list of the chunks of an array: the inner codecs when sharded. */
function chunkCodecs(meta: ArrayMetadata): readonly CodecDescriptor[] {
  const first = meta.codecs[0];
  if (first?.name !== "sharding_indexed") return meta.codecs;
  const inner = (first.configuration as { codecs?: unknown } | undefined)?.codecs;
  return Array.isArray(inner) ? (inner as CodecDescriptor[]) : [];
}

function arrayCodecs(meta: ArrayMetadata, key: string): ArrayCodecs {
  const codecs = meta.codecs;
  const shardAt = codecs.findIndex((c) => c.name === "sharding_indexed");
  if (shardAt < 0)
    return { kind: "plain", pipeline: ChunkPipeline.fromCodecs(codecs, meta.dtype, meta.chunkShape, key) };
  if (codecs.length !== 1) {
    throw new CodecError(`unsupported codec list in ${key}: sharding_indexed combined with other codecs`, {
      key,
    });
  }
  return { kind: "sharded", sharding: parseSharding(codecs[0]!, meta.dtype, meta.chunkShape, key) };
}

/** Bytes one read may allocate for its result (the largest ArrayBuffer Node allocates is 4 GiB). */
export const MAX_READ_BYTES = 2 ** 32;
/** Chunks one read may visit: more means a corrupt or absurd chunk grid. */
export const MAX_READ_CHUNKS = 2 ** 24;

/**
 * Refuses a read whose result cannot be allocated or whose chunk grid is
 * absurd (a corrupt `zarr.json`), before any allocation: a StoreError
 * naming the array instead of a bare RangeError or an exhausted heap.
 */
function checkReadable(
  path: string,
  key: string,
  shape: readonly number[],
  chunkShape: readonly number[],
  dtype: DType,
): void {
  const elements = shape.reduce((a, b) => a * b, 1);
  const bytes = elements * (dtype === "string" ? 8 : itemSize(dtype));
  if (!Number.isSafeInteger(elements) || bytes > MAX_READ_BYTES) {
    throw new StoreError(
      `array '${path}' of shape [${shape.join(", ")}] (${dtype}) needs ${bytes.toExponential(3)} bytes: ` +
        `more than one read can allocate (${MAX_READ_BYTES} bytes); read fewer partitions or check ${key}`,
      { key },
    );
  }
  const chunks = shape.reduce((a, n, d) => a * Math.ceil(n / Math.max(1, chunkShape[d] ?? 1)), 1);
  if (chunks > MAX_READ_CHUNKS) {
    throw new StoreError(
      `array '${path}' of shape [${shape.join(", ")}] has ${chunks.toExponential(3)} chunks of ` +
        `[${chunkShape.join(", ")}]: more than one read visits (${MAX_READ_CHUNKS}); check ${key}`,
      { key },
    );
  }
}

/**
 * Reads the array at `path` (whole, or the `selection` box) into an NDArray
 * of its data type (FORMAT §6.2; 64-bit types as bigint; times with a
 * `scale_factor` other than 1 are converted to ticks of their unit). Missing
 * chunks, shards and inner chunks read as the fill value. A shard the
 * selection covers is read with one GET of the whole object; any other with
 * ranged GETs: the index (checksum verified), then only the byte ranges of
 * the inner chunks needed.
 *
 * @throws StoreError naming the key when the array does not exist;
 *   CodecError naming the key for an invalid `zarr.json`, an unsupported
 *   data type or codec, or a corrupted chunk, shard or index.
 */
export async function readArray(store: Store, path: string, opts: ReadArrayOptions = {}): Promise<NDArray> {
  const signal = opts.signal;
  signal?.throwIfAborted();
  const key = metadataKey(path);
  const meta =
    opts.metadata ?? (await readArrayMetadata(store, path, signal === undefined ? {} : { signal }));
  if (meta === undefined) throw new StoreError(`no array at '${path}' (missing ${key})`, { key });
  const codecs = arrayCodecs(meta, key);
  const { shape, dtype } = meta;
  const sel = normalizeSelection(opts.selection, shape, path);
  const outShape = sel.map(([a, b]) => b - a);
  checkReadable(path, key, outShape, meta.chunkShape, dtype);
  const limit = opts.concurrency ?? defaultConcurrency();
  const rawChain = rawByteChain(chunkCodecs(meta), dtype);
  const rows = await readRows(store, path, meta, codecs, sel, rawChain, limit, signal, opts.shardIndexes);
  if (rows !== undefined) return finishRead(meta, outShape, rows);
  const out = allocate(dtype, shapeSize(outShape));
  fillWith(out, dtype, meta.fillValue, true);
  const size = itemSize(dtype);
  const outStrides = outShape.map((_, d) => outShape.slice(d + 1).reduce((a, b) => a * b, 1));

  /**
   * Where a whole decoded block at `origin` lands in `out`, as bytes, when
   * the block lies entirely inside the selection and is contiguous in `out`
   * (its extent is 1 along leading dimensions, whole along trailing ones);
   * `undefined` otherwise or when its codecs need more than byte codecs.
   */
  const directTarget = (origin: readonly number[], blockShape: readonly number[]): Uint8Array | undefined => {
    if (rawChain === null || Array.isArray(out)) return undefined;
    const n = blockShape.length;
    let offset = 0;
    for (let d = 0; d < n; d++) {
      const o = origin[d] as number;
      if (o < sel[d]![0] || o + (blockShape[d] as number) > sel[d]![1]) return undefined;
      offset += (o - sel[d]![0]) * (outStrides[d] as number);
    }
    let d = 0;
    while (d < n && blockShape[d] === 1) d++;
    for (let k = d + 1; k < n; k++) if (blockShape[k] !== outShape[k]) return undefined;
    const typed = out as Exclude<AnyStorage, string[]>;
    return new Uint8Array(typed.buffer, typed.byteOffset + offset * size, shapeSize(blockShape) * size);
  };

  /** Copies the part of a decoded block (origin `origin`, shape `blockShape`) inside the selection. */
  const place = (block: AnyStorage, origin: readonly number[], blockShape: readonly number[]) => {
    const lo = origin.map((o, d) => Math.max(o, sel[d]![0]));
    const hi = origin.map((o, d) => Math.min(o + (blockShape[d] as number), sel[d]![1]));
    const extent = lo.map((l, d) => (hi[d] as number) - l);
    copyBox(
      block,
      blockShape,
      lo.map((l, d) => l - (origin[d] as number)),
      out,
      outShape,
      lo.map((l, d) => l - sel[d]![0]),
      extent,
    );
  };

  const grid = meta.chunkShape;
  const coords = chunksInBox(sel, grid);
  if (codecs.kind === "plain") {
    await mapConcurrent(
      coords,
      limit,
      async (c) => {
        signal?.throwIfAborted();
        const chunkPath = joinPath(path, chunkKey(meta.chunkKeyEncoding, c));
        const bytes = await store.readBytes(chunkPath, signal === undefined ? {} : { signal });
        if (bytes === undefined) return;
        const origin = c.map((i, d) => i * (grid[d] as number));
        const target = directTarget(origin, grid);
        if (target !== undefined && rawChain !== null) {
          await decodeChainInto(rawChain, bytes, target, {
            ...ctx(chunkPath, signal),
            itemSize: size,
            transfer: true,
          });
          return;
        }
        // Store reads return fresh bytes: hand them over to the codec workers.
        const block = await codecs.pipeline.decode(bytes, { ...ctx(chunkPath, signal), transfer: true });
        place(block, origin, grid);
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
        signal?.throwIfAborted();
        const shardPath = joinPath(path, chunkKey(meta.chunkKeyEncoding, sc));
        const shardOrigin = sc.map((i, d) => i * (grid[d] as number));
        await readShard(
          store,
          { shardPath, sharding, shardOrigin, sel, shape, limiter, signal, indexes: opts.shardIndexes },
          async (bytes, origin) => {
            const target = directTarget(origin, sharding.innerShape);
            if (target !== undefined && rawChain !== null) {
              await decodeChainInto(rawChain, bytes, target, { ...ctx(shardPath, signal), itemSize: size });
              return;
            }
            place(await sharding.inner.decode(bytes, ctx(shardPath, signal)), origin, sharding.innerShape);
          },
        );
      },
      signal,
    );
  }
  return finishRead(meta, outShape, out);
}

/** The NDArray of a read: times with a `scale_factor` other than 1 converted to ticks of their unit. */
function finishRead(meta: ArrayMetadata, outShape: readonly number[], out: AnyStorage): NDArray {
  const dtype = meta.dtype;
  if (meta.scaleFactor !== 1 && (isDatetime(dtype) || isTimedelta(dtype))) {
    const f = BigInt(meta.scaleFactor);
    const v = out as BigInt64Array;
    for (let i = 0; i < v.length; i++) if (v[i] !== NAT) v[i] = (v[i] as bigint) * f;
  }
  return new NDArray(dtype, [...outShape], out as never);
}

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
async function readRows(
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

function normalizeSelection(
  selection: ReadArrayOptions["selection"],
  shape: readonly number[],
  path: string,
): [number, number][] {
  if (selection !== undefined && selection.length !== shape.length) {
    throw new SchemaError(`array '${path}': selection of rank ${selection.length} for rank ${shape.length}`, {
      variable: path,
    });
  }
  return shape.map((n, d) => {
    const s = selection?.[d];
    if (s === null || s === undefined) return [0, n];
    const a = Math.min(n, Math.max(0, Math.floor(s[0])));
    const b = Math.min(n, Math.max(a, Math.floor(s[1])));
    return [a, b];
  });
}

// ---------------------------------------------------------------------------
// groups

/**
 * Writes the group `zarr.json` at `path` (`""` = root) with `attributes`
 * (FORMAT §5.1) and creates every ancestor group that is absent (FORMAT
 * §5.2; existing ancestors are never rewritten).
 *
 * @param opts.overwrite delete everything under `path` first (FORMAT §5.3;
 *   for the root `""` that is the whole store). Without it an existing group
 *   document is replaced (its children stay).
 * @throws StoreError naming the key when an array exists at `path` and
 *   `overwrite` is not set.
 */
export async function writeGroup(
  store: Store,
  path: string,
  attributes: Readonly<Record<string, unknown>>,
  opts: { overwrite?: boolean } = {},
): Promise<void> {
  const key = metadataKey(path);
  if (opts.overwrite) {
    await store.deletePrefix(path);
  } else {
    const existing = await store.readBytes(key);
    if (existing !== undefined && parseNodeMetadata(existing, key).nodeType === "array") {
      throw new StoreError(`cannot write a group at '${path}': ${key} describes an array`, { key });
    }
  }
  await ensureParentGroups(store, path);
  await store.writeBytes(key, encodeGroupMetadata(attributes));
}

/**
 * Reads the group at `path`.
 *
 * @returns `undefined` when `zarr.json` is absent.
 * @throws CodecError naming the key when the document is invalid or describes an array.
 */
export async function readGroup(
  store: Store,
  path: string,
): Promise<{ attributes: Record<string, JsonValue> } | undefined> {
  const key = metadataKey(path);
  const bytes = await store.readBytes(key);
  if (bytes === undefined) return undefined;
  const node = parseNodeMetadata(bytes, key);
  if (node.nodeType !== "group") throw new CodecError(`${key} describes an array, not a group`, { key });
  return { attributes: node.attributes };
}

/** Ancestor documents being checked or created, per store and key. */
const creating = new WeakMap<Store, Map<string, Promise<void>>>();

/**
 * Creates `{"attributes": {}, ...}` group documents for every ancestor of
 * `path` (root included, `path` itself excluded) whose `zarr.json` is absent
 * (FORMAT §5.2). Never rewrites an existing ancestor. Concurrent calls on
 * the same store share the check and the write of a common ancestor (e.g.
 * the root while partitions are written in parallel): one `exists`, at most
 * one PUT.
 */
export async function ensureParentGroups(store: Store, path: string): Promise<void> {
  const parts = path.split("/").filter((p) => p.length > 0);
  const ancestors: string[] = [];
  for (let i = 0; i < parts.length; i++) ancestors.push(parts.slice(0, i).join("/"));
  let pending = creating.get(store);
  if (pending === undefined) {
    pending = new Map();
    creating.set(store, pending);
  }
  const inFlight = pending;
  await Promise.all(
    ancestors.map((a) => {
      const key = metadataKey(a);
      const running = inFlight.get(key);
      if (running !== undefined) return running;
      const task = (async () => {
        if (!(await store.exists(key))) await store.writeBytes(key, encodeGroupMetadata({}));
      })();
      inFlight.set(key, task);
      const forget = () => {
        if (inFlight.get(key) === task) inFlight.delete(key);
      };
      task.then(forget, forget);
      return task;
    }),
  );
}
