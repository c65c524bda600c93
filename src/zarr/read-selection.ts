/**
 * Reading several row ranges of an array along one axis — the rows an index
 * selects within a partition — fetching only the chunks (in sharded arrays
 * the inner chunks, by ranged reads of the shard after its index) that hold
 * them, each once.
 *
 * Plan, then read: the ranges are sorted and merged
 * ({@link normalizeRowRanges}), clamped to the array, then grouped into
 * *spans* — runs of ranges whose neighbours share a fetch unit (a chunk, or
 * an inner chunk when sharded) along the axis ({@link planRowSpans}, pure).
 * Each span is one {@link readArray} of the box `[first start, last stop)`
 * along the axis (whole along the others): the chunks a span touches are
 * exactly those its ranges touch, and no two spans share one, so no chunk
 * is fetched or decoded twice; the spans of one shard share its index
 * (fetched once). The rows between the ranges of a span are cut out after
 * decoding.
 *
 * @module
 */

import { get as getConfig } from "../config.js";
import { allocate } from "../dtype.js";
import { SchemaError, StoreError } from "../errors.js";
import { NDArray, shapeSize } from "../ndarray.js";
import type { Store } from "../store/store.js";
import { mapConcurrent } from "../util/concurrency.js";
import { copyBox } from "./grid.js";
import { type ArrayMetadata, metadataKey } from "./metadata.js";
import { type ReadArrayOptions, readArray, readArrayMetadata } from "./read.js";
import type { ShardIndexCache } from "./shard-read.js";

/** A `[start, stop)` row range. */
export type RowRange = readonly [number, number];

/** One read of {@link readArrayRanges}: a box along the axis and the ranges it serves. */
export interface RowSpan {
  /** First row read. */
  readonly start: number;
  /** Row after the last row read. */
  readonly stop: number;
  /** The ranges inside `[start, stop)` (sorted, disjoint, not adjacent), each copied to the output in order. */
  readonly ranges: readonly RowRange[];
}

/**
 * Checks row ranges and returns them sorted by start, with overlapping or
 * adjacent ranges merged and empty ones (`start == stop`) dropped. Pure.
 *
 * @param where what the ranges select, named in errors (`partition 'year=2024'`).
 * @throws TypeError when `ranges` is not an array of `[start, stop]` pairs;
 *   RangeError naming `where` and the range for a bound that is not a
 *   non-negative safe integer, or a start after its stop.
 */
export function normalizeRowRanges(ranges: Iterable<RowRange>, where: string): Array<[number, number]> {
  if (ranges === null || typeof ranges !== "object" || typeof ranges[Symbol.iterator] !== "function") {
    throw new TypeError(
      `row ranges of ${where} must be an array of [start, stop) pairs; got ${String(ranges)}`,
    );
  }
  const list: Array<[number, number]> = [];
  for (const r of ranges) {
    if (!Array.isArray(r) || r.length !== 2) {
      throw new TypeError(`row range of ${where} must be a [start, stop) pair; got ${JSON.stringify(r)}`);
    }
    const [start, stop] = r as unknown as [unknown, unknown];
    const bad = (what: string): never => {
      throw new RangeError(`invalid row range [${String(start)}, ${String(stop)}) of ${where}: ${what}`);
    };
    if (typeof start !== "number" || !Number.isSafeInteger(start) || start < 0)
      bad("start must be a non-negative integer");
    if (typeof stop !== "number" || !Number.isSafeInteger(stop) || stop < 0)
      bad("stop must be a non-negative integer");
    if ((start as number) > (stop as number)) bad("start is after stop");
    if (start !== stop) list.push([start as number, stop as number]);
  }
  list.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged: Array<[number, number]> = [];
  for (const [a, b] of list) {
    const last = merged[merged.length - 1];
    if (last !== undefined && a <= last[1]) last[1] = Math.max(last[1], b);
    else merged.push([a, b]);
  }
  return merged;
}

/**
 * Groups sorted, disjoint ranges (already clamped to the array) into the
 * spans {@link readArrayRanges} reads: consecutive ranges go into one span
 * when the last row of one and the first row of the next fall in the same
 * fetch unit of `unit` rows (a chunk, or an inner chunk when sharded). Pure.
 */
export function planRowSpans(ranges: readonly RowRange[], unit: number): RowSpan[] {
  const spans: Array<{ start: number; stop: number; ranges: RowRange[] }> = [];
  for (const r of ranges) {
    const last = spans[spans.length - 1];
    if (last !== undefined && Math.floor((last.stop - 1) / unit) === Math.floor(r[0] / unit)) {
      last.stop = r[1];
      last.ranges.push(r);
    } else {
      spans.push({ start: r[0], stop: r[1], ranges: [r] });
    }
  }
  return spans;
}

/** Rows along `axis` of one fetch unit: the inner chunk of a sharded array, else the chunk. */
function fetchUnit(meta: ArrayMetadata, axis: number): number {
  const first = meta.codecs[0];
  if (first?.name === "sharding_indexed") {
    const inner = (first.configuration as { chunk_shape?: unknown } | undefined)?.chunk_shape;
    const n = Array.isArray(inner) ? inner[axis] : undefined;
    if (typeof n === "number" && Number.isSafeInteger(n) && n > 0) return n;
  }
  return Math.max(1, meta.chunkShape[axis] ?? 1);
}

/**
 * Reads the rows `ranges` of the array at `path` along dimension `axis`
 * (whole along every other dimension), concatenated along `axis` in the
 * order of the ranges once sorted and merged ({@link normalizeRowRanges}).
 * Ranges are clamped to the array's extent; none left reads no chunk and
 * returns an array of extent 0 along `axis`. Only the chunks — in sharded
 * arrays the inner chunks, by ranged reads after the shard index — holding
 * those rows are fetched, each once (see the module documentation); missing
 * chunks, shards and inner chunks read as the fill value, as in
 * {@link readArray}.
 *
 * @param opts as {@link readArray}'s, without `selection`; `concurrency`
 *   bounds the spans read at once as well as each span's chunk reads.
 * @throws RangeError/TypeError for invalid ranges (before any I/O but the
 *   metadata's); SchemaError for an axis outside the array's rank;
 *   StoreError naming the key when the array does not exist; CodecError as
 *   {@link readArray}.
 */
export async function readArrayRanges(
  store: Store,
  path: string,
  axis: number,
  ranges: Iterable<RowRange>,
  opts: Omit<ReadArrayOptions, "selection"> = {},
): Promise<NDArray> {
  const signal = opts.signal;
  signal?.throwIfAborted();
  const wanted = normalizeRowRanges(ranges, `array '${path}'`);
  const meta =
    opts.metadata ?? (await readArrayMetadata(store, path, signal === undefined ? {} : { signal }));
  if (meta === undefined) {
    const key = metadataKey(path);
    throw new StoreError(`no array at '${path}' (missing ${key})`, { key });
  }
  const { shape, dtype } = meta;
  if (!Number.isInteger(axis) || axis < 0 || axis >= shape.length) {
    throw new SchemaError(`array '${path}': axis ${axis} outside its rank ${shape.length}`, {
      variable: path,
    });
  }
  const extent = shape[axis] as number;
  const clamped = wanted
    .map(([a, b]) => [Math.min(a, extent), Math.min(b, extent)] as const)
    .filter(([a, b]) => b > a);
  const outShape = [...shape];
  outShape[axis] = clamped.reduce((n, [a, b]) => n + (b - a), 0);
  if (clamped.length === 0) return new NDArray(dtype, outShape, allocate(dtype, 0) as never);

  const spans = planRowSpans(clamped, fetchUnit(meta, axis));
  const limit = opts.concurrency ?? Math.max(2, 2 * Math.floor(getConfig("codec.workers")));
  const shardIndexes: ShardIndexCache = opts.shardIndexes ?? new Map();
  const inner = Math.max(2, Math.ceil(limit / Math.min(spans.length, limit)));
  const read = (span: RowSpan, s?: AbortSignal) =>
    readArray(store, path, {
      ...opts,
      metadata: meta,
      selection: shape.map((_, d) => (d === axis ? ([span.start, span.stop] as const) : null)),
      concurrency: inner,
      shardIndexes,
      ...(s === undefined ? {} : { signal: s }),
    });
  const only = spans[0] as RowSpan;
  if (spans.length === 1 && only.ranges.length === 1) return read(only, signal);

  const parts = await mapConcurrent(spans, limit, (span, _i, s) => read(span, s), signal);
  const out = allocate(dtype, shapeSize(outShape));
  let at = 0;
  spans.forEach((span, i) => {
    const part = parts[i] as NDArray;
    for (const [a, b] of span.ranges) {
      copyBox(
        part.data,
        part.shape,
        shape.map((_, d) => (d === axis ? a - span.start : 0)),
        out,
        outShape,
        shape.map((_, d) => (d === axis ? at : 0)),
        part.shape.map((n, d) => (d === axis ? b - a : n)),
      );
      at += b - a;
    }
  });
  return new NDArray(dtype, outShape, out as never);
}
