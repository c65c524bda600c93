/**
 * The chunk layout of an array about to be written (docs/format.md §6.3, §6.4;
 * docs/behaviour.md §12, §18 #11): its chunk and shard shapes and the `codecs` of
 * its `zarr.json`. Pure — no store, no data — so that the layout a write
 * will use can be computed, shown and tested on its own.
 *
 * - Chunk shape: the declared chunk per dimension, or the full extent
 *   (docs/format.md §6.3; never clipped to the array).
 * - Sharding: `shardDecision` of the codec stack (docs/behaviour.md §12.2), or an
 *   explicit shard extent per dimension (docs/behaviour.md §18 #11).
 *
 * @module
 */

import { type CodecStack, profile, shardDecision } from "../codecs/index.js";
import type { DType } from "../dtype.js";
import { SchemaError } from "../errors.js";
import { effectiveCodecs } from "./codecs/pipeline.js";
import { shardingDescriptor } from "./sharding.js";

/** What decides the layout of an array: the part of `WriteArrayOptions` that {@link arrayLayout} reads. */
export interface ArrayLayoutOptions {
  /** Name of each dimension, written as `dimension_names` (omitted when absent or for 0-d arrays). */
  dimensionNames?: readonly string[];
  /** Declared chunk length per dimension, or `null` for the array's full extent (docs/format.md §6.3). */
  chunks: readonly (number | null)[];
  /**
   * Explicit shard extent per dimension (docs/behaviour.md §18 #11), a positive
   * multiple of that dimension's chunk; `null` (or absent) lets the codec
   * profile decide (docs/behaviour.md §12.2). Applies even to unsharded stacks.
   */
  shards?: readonly (number | null)[];
  /** Codecs and sharding intent; an incomplete stack (no serializer) means the default profile. */
  codecs: CodecStack;
}

/** The chunk layout `writeArray` chooses for an array (pure; see {@link arrayLayout}). */
export interface ArrayLayout {
  /** Inner chunk shape (docs/format.md §6.3). */
  readonly chunks: readonly number[];
  /** Shard shape, or `null` when unsharded. */
  readonly shards: readonly number[] | null;
  /** `chunk_grid` chunk shape: the shard shape when sharded, else the chunk shape. */
  readonly gridChunks: readonly number[];
  /** The `codecs` of `zarr.json` (docs/format.md §6.4). */
  readonly codecs: ReturnType<typeof effectiveCodecs>;
}

function dimName(names: readonly string[] | undefined, d: number): string {
  return names?.[d] ?? `#${d}`;
}

/**
 * The chunk and shard shapes and the `zarr.json` codecs of an array of
 * `shape` and `dtype` (docs/format.md §6.3, §6.4; docs/behaviour.md §12, §18 #11). Shard
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
  opts: ArrayLayoutOptions,
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
