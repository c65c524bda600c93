/**
 * Codec stacks as data: what a variable asks for (filters, serializer,
 * compressors, sharding), the named profiles, and the shard-shape decision
 * (docs/format.md §3.6.1, docs/behaviour.md §12). The Zarr layer turns a stack into the codec
 * list of an array's `zarr.json` (docs/format.md §6.4).
 *
 * @module
 */

import { type DType, itemSize } from "../dtype.js";
import { SchemaError } from "../errors.js";

/** One codec as described in `_zcollection.json` and `zarr.json`: `{name, configuration}`. */
export interface CodecDescriptor {
  readonly name: string;
  readonly configuration?: Readonly<Record<string, unknown>>;
}

/** JSON form of a {@link CodecStack} (docs/format.md §3.6.1, snake_case keys in write order). */
export interface CodecStackJSON {
  array_to_array: CodecDescriptor[];
  array_to_bytes: CodecDescriptor | null;
  bytes_to_bytes: CodecDescriptor[];
  sharded: boolean;
  shard_target_bytes: number | null;
}

/** Names of the built-in profiles. */
export type ProfileName = "local-fast" | "cloud-balanced" | "cloud-cold";

/** The default profile (docs/behaviour.md §12.1). */
export const DEFAULT_PROFILE: ProfileName = "cloud-balanced";

/** Codec names this library knows (docs/format.md §3.6.1; `vlen-bytes` is read, never written). */
export const KNOWN_CODECS: readonly string[] = [
  "bytes",
  "zstd",
  "blosc",
  "gzip",
  "crc32c",
  "transpose",
  "vlen-utf8",
  "vlen-bytes",
];

function cloneDescriptor(d: CodecDescriptor): CodecDescriptor {
  return d.configuration === undefined || d.configuration === null
    ? { name: d.name }
    : { name: d.name, configuration: structuredClone(d.configuration) as Record<string, unknown> };
}

/**
 * What a variable's chunks go through: `arrayToArray` filters, one
 * `arrayToBytes` serializer, `bytesToBytes` compressors, and whether arrays
 * are sharded (with the target shard size in bytes). Immutable value.
 */
export class CodecStack {
  /** Array → array filters (e.g. `transpose`). */
  readonly arrayToArray: readonly CodecDescriptor[];
  /** The serializer (`bytes`, `vlen-utf8`); `null` means "use the default profile". */
  readonly arrayToBytes: CodecDescriptor | null;
  /** Compressors and checksums (`zstd`, `gzip`, `blosc`, `crc32c`). */
  readonly bytesToBytes: readonly CodecDescriptor[];
  /** Whether arrays are written with the `sharding_indexed` codec when it pays off (docs/behaviour.md §12.2). */
  readonly sharded: boolean;
  /** Target shard size in bytes; `null` when not sharded. */
  readonly shardTargetBytes: number | null;

  constructor(
    opts: {
      arrayToArray?: readonly CodecDescriptor[];
      arrayToBytes?: CodecDescriptor | null;
      bytesToBytes?: readonly CodecDescriptor[];
      sharded?: boolean;
      shardTargetBytes?: number | null;
    } = {},
  ) {
    this.arrayToArray = Object.freeze((opts.arrayToArray ?? []).map(cloneDescriptor));
    this.arrayToBytes = opts.arrayToBytes ? cloneDescriptor(opts.arrayToBytes) : null;
    this.bytesToBytes = Object.freeze((opts.bytesToBytes ?? []).map(cloneDescriptor));
    this.sharded = opts.sharded ?? false;
    this.shardTargetBytes = opts.shardTargetBytes ?? null;
    Object.freeze(this);
  }

  /** JSON per docs/format.md §3.6.1. */
  toJSON(): CodecStackJSON {
    return {
      array_to_array: this.arrayToArray.map(cloneDescriptor),
      array_to_bytes: this.arrayToBytes ? cloneDescriptor(this.arrayToBytes) : null,
      bytes_to_bytes: this.bytesToBytes.map(cloneDescriptor),
      sharded: this.sharded,
      shard_target_bytes: this.shardTargetBytes,
    };
  }

  /**
   * Reads docs/format.md §3.6.1 JSON. A missing object or a null/absent
   * `array_to_bytes` gives the default profile stack (docs/format.md §3.4).
   *
   * @throws SchemaError when the object is malformed.
   */
  static fromJSON(json: unknown): CodecStack {
    if (json === null || json === undefined) return profile();
    if (typeof json !== "object" || Array.isArray(json))
      throw new SchemaError("codec stack must be a JSON object");
    const j = json as Partial<Record<keyof CodecStackJSON, unknown>>;
    if (j.array_to_bytes === null || j.array_to_bytes === undefined) return profile();
    const desc = (d: unknown, where: string): CodecDescriptor => {
      if (typeof d !== "object" || d === null || typeof (d as { name?: unknown }).name !== "string") {
        throw new SchemaError(`invalid codec descriptor in ${where}: ${JSON.stringify(d)}`);
      }
      const c = (d as { configuration?: unknown }).configuration;
      return c === null || c === undefined
        ? { name: (d as { name: string }).name }
        : { name: (d as { name: string }).name, configuration: c as Record<string, unknown> };
    };
    const list = (v: unknown, where: string): CodecDescriptor[] => {
      if (v === undefined || v === null) return [];
      if (!Array.isArray(v)) throw new SchemaError(`${where} must be a list of codec descriptors`);
      return v.map((d) => desc(d, where));
    };
    const target = j.shard_target_bytes;
    return new CodecStack({
      arrayToArray: list(j.array_to_array, "array_to_array"),
      arrayToBytes: desc(j.array_to_bytes, "array_to_bytes"),
      bytesToBytes: list(j.bytes_to_bytes, "bytes_to_bytes"),
      sharded: j.sharded === true,
      shardTargetBytes:
        typeof target === "number" ? target : typeof target === "bigint" ? Number(target) : null,
    });
  }

  /** Whether this stack has a serializer (otherwise readers substitute the default profile). */
  get isComplete(): boolean {
    return this.arrayToBytes !== null;
  }

  /** Structural equality of two stacks. */
  equals(other: CodecStack): boolean {
    return JSON.stringify(this.toJSON()) === JSON.stringify(other.toJSON());
  }
}

const BYTES_LE: CodecDescriptor = { name: "bytes", configuration: { endian: "little" } };
/**
 * The profiles' zstd: with the frame's content checksum (the low 32 bits of
 * XXH64 of the decoded bytes, verified on every decode), so that a damaged
 * chunk raises a CodecError instead of decoding to wrong values. The
 * configuration keeps zarr-python's shape and key order (`level`,
 * `checksum`). Every profile compresses with zstd, so none needs an extra
 * `crc32c` layer.
 */
const zstd = (level: number): CodecDescriptor => ({
  name: "zstd",
  configuration: { level, checksum: true },
});

const PROFILES: Record<ProfileName, () => CodecStack> = {
  "local-fast": () => new CodecStack({ arrayToBytes: BYTES_LE, bytesToBytes: [zstd(3)], sharded: false }),
  "cloud-balanced": () =>
    new CodecStack({
      arrayToBytes: BYTES_LE,
      bytesToBytes: [zstd(3)],
      sharded: true,
      shardTargetBytes: 134217728,
    }),
  "cloud-cold": () =>
    new CodecStack({
      arrayToBytes: BYTES_LE,
      bytesToBytes: [zstd(9)],
      sharded: true,
      shardTargetBytes: 536870912,
    }),
};

/** Names of the built-in profiles, in the order of docs/behaviour.md §12.1. */
export function profileNames(): ProfileName[] {
  return ["local-fast", "cloud-balanced", "cloud-cold"];
}

/**
 * The codec stack of a named profile (docs/format.md §3.6.1 table): `bytes`
 * (little-endian), then zstd with its frame checksum on
 * (`{"level": 3 or 9, "checksum": true}`), sharded or not.
 *
 * @param name defaults to {@link DEFAULT_PROFILE}.
 * @param opts.filters non-empty: replaces the (empty) filter list.
 * @param opts.compressor replaces the whole compressor list with this one
 *   codec, as given: no checksum is added (`gzip` carries its own CRC-32,
 *   verified by node:zlib; `blosc` has none: build a {@link CodecStack}
 *   ending with `crc32c` for it).
 * @throws SchemaError naming the profile when it is unknown.
 */
export function profile(
  name?: string | null,
  opts: { filters?: readonly CodecDescriptor[]; compressor?: CodecDescriptor } = {},
): CodecStack {
  const key = (name ?? DEFAULT_PROFILE) as ProfileName;
  const make = PROFILES[key];
  if (make === undefined) {
    throw new SchemaError(`unknown codec profile '${name}'; available: (${profileNames().join(", ")})`);
  }
  const base = make();
  if ((opts.filters === undefined || opts.filters.length === 0) && opts.compressor === undefined) return base;
  return new CodecStack({
    arrayToArray: opts.filters && opts.filters.length > 0 ? opts.filters : base.arrayToArray,
    arrayToBytes: base.arrayToBytes,
    bytesToBytes: opts.compressor ? [opts.compressor] : base.bytesToBytes,
    sharded: base.sharded,
    shardTargetBytes: base.shardTargetBytes,
  });
}

/**
 * The stack to use for a variable of `dtype` with a profile (docs/behaviour.md
 * §12.1). Variable-length strings get the `vlen-utf8` serializer, unsharded
 * (docs/format.md §6.6), since `bytes` cannot encode them.
 */
export function autoCodecs(dtype: DType, profileName?: string | null): CodecStack {
  const stack = profile(profileName);
  if (dtype === "string") {
    return new CodecStack({
      arrayToBytes: { name: "vlen-utf8" },
      bytesToBytes: stack.bytesToBytes,
      sharded: false,
    });
  }
  return stack;
}

/** Target shard size of a profile in bytes, `null` for unsharded profiles. */
export function shardTargetBytes(profileName?: string | null): number | null {
  return profile(profileName).shardTargetBytes;
}

/**
 * The shard shape for inner chunks `innerChunks` of an array of `shape`
 * (docs/behaviour.md §12.3): grow the inner chunk by powers of two, along the
 * dimension with the largest current extent, while the shard stays within
 * `target` bytes and within the array. `null` sizes mean unbounded.
 *
 * @throws SchemaError when the ranks differ.
 */
export function computeShardShape(
  innerChunks: readonly number[],
  shape: readonly (number | null)[],
  dtype: DType,
  target: number,
): number[] {
  if (innerChunks.length !== shape.length) {
    throw new SchemaError(`chunk rank ${innerChunks.length} does not match shape rank ${shape.length}`);
  }
  if (shape.length === 0) return [];
  const size = Math.max(itemSize(dtype), 1);
  const innerBytes = size * innerChunks.reduce((a, c) => a * Math.max(c, 1), 1);
  const clip = (e: number, s: number | null) => (s === null ? Math.max(e, 1) : Math.max(1, Math.min(e, s)));
  if (innerBytes >= target) return innerChunks.map((c, i) => clip(c, shape[i] ?? null));
  const caps = innerChunks.map((c, i) => {
    const s = shape[i] ?? null;
    if (s === null) return 2 ** 30;
    if (c <= 0 || s <= 0) return 1;
    return Math.max(1, Math.floor(s / c));
  });
  const mult = innerChunks.map(() => 1);
  const product = () => mult.reduce((a, m) => a * m, 1);
  while (innerBytes * product() * 2 <= target) {
    let best = -1;
    let bestExtent = -1;
    for (let d = 0; d < mult.length; d++) {
      if ((mult[d] as number) * 2 > (caps[d] as number)) continue;
      const extent = (innerChunks[d] as number) * (mult[d] as number);
      if (extent > bestExtent) {
        best = d;
        bestExtent = extent;
      }
    }
    if (best < 0) break;
    mult[best] = (mult[best] as number) * 2;
  }
  return innerChunks.map((c, i) => clip(c * (mult[i] as number), shape[i] ?? null));
}

/**
 * Whether and how to shard (docs/behaviour.md §12.3 `shard_decision`): `null` when
 * `target` is null or the computed shard equals the inner chunks clipped to
 * the shape (no benefit); otherwise the shard shape.
 */
export function shardDecision(
  innerChunks: readonly number[],
  shape: readonly (number | null)[],
  dtype: DType,
  target: number | null,
): number[] | null {
  if (target === null) return null;
  const shard = computeShardShape(innerChunks, shape, dtype, target);
  const clipped = innerChunks.map((c, i) => {
    const s = shape[i] ?? null;
    return s === null ? Math.max(c, 1) : Math.max(1, Math.min(c, s));
  });
  return shard.every((e, i) => e === clipped[i]) ? null : shard;
}
