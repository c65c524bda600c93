/**
 * The codec pipeline of one chunk (docs/format.md §6.6): array-to-array filters
 * (`transpose`, `numcodecs.delta`), one serializer (`bytes`, `vlen-utf8`,
 * `vlen-bytes`), then the bytes-to-bytes chain of the compression module
 * (`zstd`, `gzip`, `blosc`, `crc32c`). Strings: `vlen-utf8` (data type
 * `string`), or `bytes` over fixed-width UTF-32 for zarr-python's
 * `fixed_length_utf32` arrays (./utf32.ts).
 *
 * @module
 */

import type { CodecDescriptor, CodecStack } from "../../codecs/index.js";
import { type AnyStorage, type DType, itemSize } from "../../dtype.js";
import { CodecError, isZCollectionError } from "../../errors.js";
import { shapeSize } from "../../ndarray.js";
import {
  bytesCodecDescriptor,
  decodeBytesCodec,
  type Endian,
  encodeBytesCodec,
  parseEndian,
} from "./bytes.js";
import { BYTES_TO_BYTES_CODECS, decodeChain, encodeChain } from "./compressors.js";
import { checkDeltaConfig, decodeDelta, encodeDelta } from "./delta.js";
import { inverseOrder, parseTransposeOrder, permuteAxes, transposedShape } from "./transpose.js";
import { boundLengthBytes, decodeFixedUtf32, encodeFixedUtf32 } from "./utf32.js";
import { decodeVlenUtf8, encodeVlenUtf8 } from "./vlen.js";

/** Where a chunk is being encoded or decoded: its full store key (named in errors) and an abort signal. */
export interface ChunkContext {
  /** Full key of the chunk (or shard) object. */
  readonly key: string;
  readonly signal?: AbortSignal;
  /**
   * Whether the bytes given to {@link ChunkPipeline.decode} belong to the
   * call (nothing else uses their buffer), so a worker may take them
   * instead of a copy. Default false.
   */
  readonly transfer?: boolean;
}

type Filter =
  | { kind: "transpose"; order: number[]; inverse: number[]; inShape: number[] }
  | { kind: "delta" };

type Serializer =
  | { kind: "bytes"; endian: Endian }
  | { kind: "vlen" }
  | { kind: "utf32"; endian: Endian; lengthBytes: number };

/** Names of the array-to-array codecs this pipeline runs. */
export const ARRAY_TO_ARRAY_CODECS: readonly string[] = ["transpose", "numcodecs.delta"];
/** Names of the serializers this pipeline runs. */
export const ARRAY_TO_BYTES_CODECS: readonly string[] = ["bytes", "vlen-utf8", "vlen-bytes"];

/**
 * Encodes and decodes chunks of one shape and dtype through a codec list.
 * Stateless once built; safe to share between concurrent calls.
 */
export class ChunkPipeline {
  /** Element type of the chunks. */
  readonly dtype: DType;
  /** Shape of every chunk (edge chunks are padded to it). */
  readonly chunkShape: readonly number[];
  /** Elements per chunk. */
  readonly chunkSize: number;
  private readonly filters: readonly Filter[];
  private readonly serializer: Serializer;
  private readonly compressors: readonly CodecDescriptor[];

  private constructor(
    dtype: DType,
    chunkShape: readonly number[],
    filters: Filter[],
    serializer: Serializer,
    compressors: CodecDescriptor[],
  ) {
    this.dtype = dtype;
    this.chunkShape = chunkShape;
    this.chunkSize = shapeSize(chunkShape);
    this.filters = filters;
    this.serializer = serializer;
    this.compressors = compressors;
  }

  /**
   * Builds the pipeline of a `codecs` list (as in `zarr.json`, without
   * `sharding_indexed`).
   *
   * @param key the array's `zarr.json` key, named in errors.
   * @throws CodecError naming `key` and the codec for an unsupported codec,
   *   a misplaced or missing serializer, or an invalid configuration.
   */
  static fromCodecs(
    codecs: readonly CodecDescriptor[],
    dtype: DType,
    chunkShape: readonly number[],
    key: string,
  ): ChunkPipeline {
    const filters: Filter[] = [];
    let serializer: Serializer | undefined;
    const compressors: CodecDescriptor[] = [];
    let shape = [...chunkShape];
    for (const codec of codecs) {
      const cfg = codec.configuration as Readonly<Record<string, unknown>> | undefined;
      if (serializer === undefined) {
        if (codec.name === "transpose") {
          const order = parseTransposeOrder(cfg, shape.length, key);
          filters.push({ kind: "transpose", order, inverse: inverseOrder(order), inShape: shape });
          shape = transposedShape(shape, order);
          continue;
        }
        if (codec.name === "numcodecs.delta") {
          checkDeltaConfig(cfg, dtype, key);
          filters.push({ kind: "delta" });
          continue;
        }
        if (codec.name === "bytes") {
          if (dtype === "string") {
            // A fixed_length_utf32 array: metadata parsing gave its `bytes` codec the element width.
            const lengthBytes = boundLengthBytes(cfg);
            if (lengthBytes === undefined) {
              throw new CodecError(`codec 'bytes' cannot serialise variable-length strings in ${key}`, {
                key,
              });
            }
            serializer = { kind: "utf32", endian: parseEndian(cfg, key), lengthBytes };
            continue;
          }
          serializer = { kind: "bytes", endian: parseEndian(cfg, key) };
          continue;
        }
        if (codec.name === "vlen-utf8" || codec.name === "vlen-bytes") {
          if (dtype !== "string") {
            throw new CodecError(
              `codec '${codec.name}' needs the string data type, not ${dtype}, in ${key}`,
              { key },
            );
          }
          serializer = { kind: "vlen" };
          continue;
        }
        if (BYTES_TO_BYTES_CODECS.includes(codec.name)) {
          throw new CodecError(`codec '${codec.name}' comes before any serializer in ${key}`, { key });
        }
      } else if (BYTES_TO_BYTES_CODECS.includes(codec.name)) {
        compressors.push(codec);
        continue;
      }
      throw new CodecError(`unsupported codec '${codec.name}' in ${key}`, { key });
    }
    if (serializer === undefined) throw new CodecError(`no array-to-bytes codec in ${key}`, { key });
    return new ChunkPipeline(dtype, chunkShape, filters, serializer, compressors);
  }

  /**
   * Encodes one chunk (C order, exactly `chunkShape`). `data` may be reused
   * or detached by the call: pass storage you own.
   */
  async encode(data: AnyStorage, ctx: ChunkContext): Promise<Uint8Array> {
    let arr = data;
    for (const f of this.filters) {
      arr = f.kind === "transpose" ? permuteAxes(arr, this.dtype, f.inShape, f.order) : encodeDelta(arr);
    }
    const ser = this.serializer;
    const bytes =
      ser.kind === "vlen"
        ? encodeVlenUtf8(arr as string[])
        : ser.kind === "utf32"
          ? encodeFixedUtf32(arr as string[], ser.lengthBytes, ser.endian, ctx.key)
          : encodeBytesCodec(arr, ser.endian, ctx.key);
    if (this.compressors.length === 0) return bytes;
    // The chunk storage belongs to this call: let the pool take its buffer instead of copying it.
    return encodeChain(this.compressors, bytes, { ...this.byteContext(ctx), transfer: true });
  }

  /**
   * Decodes one chunk to `chunkSize` elements in C order.
   *
   * @throws CodecError naming `ctx.key` for corrupted or truncated bytes or a checksum mismatch.
   */
  async decode(bytes: Uint8Array, ctx: ChunkContext): Promise<AnyStorage> {
    let raw = bytes;
    if (this.compressors.length > 0) {
      try {
        raw = await decodeChain(this.compressors, bytes, {
          ...this.byteContext(ctx),
          transfer: ctx.transfer === true,
        });
      } catch (cause) {
        if (isZCollectionError(cause, "StoreError")) throw cause;
        if (ctx.signal?.aborted) throw cause;
        throw new CodecError(
          `cannot decode chunk ${ctx.key}: ${(cause as Error)?.message ?? String(cause)}`,
          {
            key: ctx.key,
            cause,
          },
        );
      }
    }
    const ser = this.serializer;
    let arr =
      ser.kind === "vlen"
        ? decodeVlenUtf8(raw, this.chunkSize, ctx.key)
        : ser.kind === "utf32"
          ? decodeFixedUtf32(raw, this.chunkSize, ser.lengthBytes, ser.endian, ctx.key)
          : decodeBytesCodec(raw, this.dtype, this.chunkSize, ser.endian, ctx.key);
    for (let i = this.filters.length - 1; i >= 0; i--) {
      const f = this.filters[i] as Filter;
      arr =
        f.kind === "transpose"
          ? permuteAxes(arr, this.dtype, transposedShape(f.inShape, f.order), f.inverse)
          : decodeDelta(arr, this.dtype);
    }
    return arr;
  }

  private byteContext(ctx: ChunkContext): { key: string; itemSize: number; signal?: AbortSignal } {
    return ctx.signal === undefined
      ? { key: ctx.key, itemSize: itemSize(this.dtype) }
      : { key: ctx.key, itemSize: itemSize(this.dtype), signal: ctx.signal };
  }
}

/**
 * The effective codec list written in `zarr.json` for a stack (docs/format.md §6.4,
 * unsharded form; also the inner codecs of a shard): filters, serializer,
 * compressors, with zarr-python's normalised configurations — `bytes`
 * without `endian` for 1-byte types, `vlen-utf8` for strings (a `bytes`
 * serializer is replaced by it), `zstd` `{level: 3, checksum: false}`
 * defaults, `gzip` level 5, `blosc` with
 * `typesize`/`cname`/`clevel`/`shuffle`/`blocksize`, `crc32c` bare.
 *
 * **Strings are always written as zarr-python's variable-length `string`
 * data type with the `vlen-utf8` serializer**, also into a collection the
 * Python library created — whose `str` variables it declares `<U0` (with a
 * `bytes` serializer in the schema) and stores as `fixed_length_utf32` —
 * both for a new partition and for one we rewrite by a merge. We read
 * `fixed_length_utf32` (./utf32.ts) but do not write it, because:
 * - our strings are variable-length in memory, and `fixed_length_utf32`
 *   costs 4 bytes per code point of the widest string for every element and
 *   must know that width before `zarr.json` and the first chunk are written;
 *   its own specification (zarr-extensions) describes it as a NumPy
 *   compatibility type and says a variable-length type should be preferred
 *   for real string data;
 * - the Python library reads `string` arrays (zarr-python 3 decodes them to
 *   numpy's `StringDType`, `object` on numpy 1), and numpy concatenates them
 *   with the `<U n` arrays of its own partitions into `StringDType`: a query
 *   of a mixed collection returns the same strings;
 * - Python's width is per insert anyway (`length_bytes` differs between the
 *   partitions of one collection), so no reader can rely on one width.
 * What a Python user notices: a query touching a partition we wrote returns
 * numpy `StringDType` instead of `<U n` for that variable.
 *
 * @param path the array path, named in errors.
 * @throws CodecError naming `path` and the codec for a codec this library cannot write.
 */
export function effectiveCodecs(stack: CodecStack, dtype: DType, path: string): CodecDescriptor[] {
  const out: CodecDescriptor[] = [];
  const unsupported = (c: CodecDescriptor, role: string): never => {
    throw new CodecError(`unsupported ${role} codec '${c.name}' for array '${path}'`, { key: path });
  };
  for (const c of stack.arrayToArray) {
    if (c.name !== "transpose") unsupported(c, "array-to-array");
    out.push({ name: "transpose", configuration: { order: c.configuration?.order } });
  }
  const ser = stack.arrayToBytes ?? { name: "bytes" };
  if (dtype === "string") {
    if (ser.name !== "bytes" && ser.name !== "vlen-utf8") unsupported(ser, "array-to-bytes");
    out.push({ name: "vlen-utf8", configuration: {} });
  } else {
    if (ser.name !== "bytes") unsupported(ser, "array-to-bytes");
    const endian = ser.configuration?.endian ?? "little";
    if (endian !== "little" && endian !== "big") unsupported(ser, "array-to-bytes");
    out.push(bytesCodecDescriptor(dtype, endian as Endian));
  }
  for (const c of stack.bytesToBytes) {
    const cfg = (c.configuration ?? {}) as Record<string, unknown>;
    switch (c.name) {
      case "zstd":
        out.push({ name: "zstd", configuration: { level: cfg.level ?? 3, checksum: cfg.checksum ?? false } });
        break;
      case "gzip":
        out.push({ name: "gzip", configuration: { level: cfg.level ?? 5 } });
        break;
      case "crc32c":
        out.push({ name: "crc32c" });
        break;
      case "blosc": {
        const size = itemSize(dtype);
        const shuffle = BLOSC_SHUFFLE[String(cfg.shuffle)] ?? (size > 1 ? "shuffle" : "bitshuffle");
        out.push({
          name: "blosc",
          configuration: {
            typesize: cfg.typesize ?? size,
            cname: cfg.cname ?? "zstd",
            clevel: cfg.clevel ?? 5,
            shuffle,
            blocksize: cfg.blocksize ?? 0,
          },
        });
        break;
      }
      default:
        unsupported(c, "bytes-to-bytes");
    }
  }
  return out;
}

const BLOSC_SHUFFLE: Record<string, string> = {
  "0": "noshuffle",
  "1": "shuffle",
  "2": "bitshuffle",
  noshuffle: "noshuffle",
  shuffle: "shuffle",
  bitshuffle: "bitshuffle",
};
