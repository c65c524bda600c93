/**
 * Reading a Zarr v3 array from a {@link Store}, whole or a box of it
 * (docs/format.md §6; docs/behaviour.md §12), into an NDArray: plan the chunks the
 * selection touches, fetch them, decode them into the output.
 *
 * - Missing chunks, shards and inner chunks read as the fill value
 *   (docs/format.md §6.6).
 * - A chunk that lies wholly inside the selection and is contiguous in the
 *   output, with only byte codecs over `bytes` in host order (the profiles'
 *   `bytes` + `zstd`), is decoded straight into the output array
 *   (`decodeChainInto`): no intermediate buffer, no copy.
 * - Along-track arrays (chunked along their first dimension only) take the
 *   one-task path of ./read-rows.ts when it applies.
 * - The part of a shard a selection needs is read by ./shard-read.ts (the
 *   index, then ranged reads of the inner chunks); several row ranges at
 *   once by ./read-selection.ts, on top of {@link readArray}.
 * - Chunk I/O and codec work run with bounded concurrency
 *   (2 × `codec.workers` by default).
 *
 * @module
 */

import { get as getConfig } from "../config.js";
import {
  type AnyStorage,
  allocate,
  type DType,
  isDatetime,
  isTimedelta,
  itemSize,
  NAT,
  storageConstructor,
} from "../dtype.js";
import { CodecError, SchemaError, StoreError } from "../errors.js";
import { NDArray, shapeSize } from "../ndarray.js";
import type { Store } from "../store/store.js";
import type { ChunkContext } from "./codecs/pipeline.js";
import { decodeChainInto } from "./compression/index.js";
import { arrayCodecs, chunkCodecs, rawByteChain } from "./decoding.js";
import { copyBox, fillWith } from "./grid.js";
import { type ArrayMetadata, metadataKey, parseNodeMetadata } from "./metadata.js";
import { readRows } from "./read-rows.js";
import { type ShardIndexCache, visitObjects } from "./shard-read.js";

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
  /**
   * Storage to read into instead of new storage: exactly as many elements
   * as the selection, of the array's data type (a typed array; e.g. the
   * rows of a query's output that this array fills). The result wraps it.
   * Default: new storage (in shared memory when the codec pool decodes an
   * along-track read: see ./read-rows.ts).
   */
  into?: AnyStorage;
  signal?: AbortSignal;
}

function defaultConcurrency(): number {
  return Math.max(2, 2 * Math.floor(getConfig("codec.workers")));
}

function ctx(key: string, signal: AbortSignal | undefined): ChunkContext {
  return signal === undefined ? { key } : { key, signal };
}

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
 * of its data type (docs/format.md §6.2; 64-bit types as bigint; times with a
 * `scale_factor` other than 1 are converted to ticks of their unit). Missing
 * chunks, shards and inner chunks read as the fill value. A shard the
 * selection covers is read with one GET of the whole object; any other with
 * ranged GETs: the index (checksum verified), then only the byte ranges of
 * the inner chunks needed.
 *
 * @throws StoreError naming the key when the array does not exist;
 *   CodecError naming the key for an invalid `zarr.json`, an unsupported
 *   data type or codec, or a corrupted chunk, shard or index; RangeError
 *   for an `into` of another length or element type than the selection's.
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
  const into = opts.into;
  const intoKind = dtype === "string" ? Array.isArray(into) : into?.constructor === storageConstructor(dtype);
  if (into !== undefined && (into.length !== shapeSize(outShape) || !intoKind)) {
    throw new RangeError(
      `readArray('${path}'): output of ${into.length} elements for a selection of [${outShape.join(", ")}] (${dtype})`,
    );
  }
  const rows = await readRows(
    store,
    path,
    meta,
    codecs,
    sel,
    rawChain,
    limit,
    signal,
    opts.shardIndexes,
    into,
  );
  if (rows !== undefined) return finishRead(meta, outShape, rows);
  const out = into ?? allocate(dtype, shapeSize(outShape));
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
  const getOpts = signal === undefined ? {} : { signal };
  await visitObjects(
    { store, path, meta, codecs, sel, limit, signal, indexes: opts.shardIndexes },
    {
      async chunk(chunkPath, origin, pipeline) {
        const bytes = await store.readBytes(chunkPath, getOpts);
        if (bytes === undefined) return;
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
        const block = await pipeline.decode(bytes, { ...ctx(chunkPath, signal), transfer: true });
        place(block, origin, grid);
      },
      async shard(shardPath, _origin, sharding, read) {
        await read(async (bytes, origin) => {
          const target = directTarget(origin, sharding.innerShape);
          if (target !== undefined && rawChain !== null) {
            await decodeChainInto(rawChain, bytes, target, { ...ctx(shardPath, signal), itemSize: size });
            return;
          }
          place(await sharding.inner.decode(bytes, ctx(shardPath, signal)), origin, sharding.innerShape);
        });
      },
    },
  );
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
