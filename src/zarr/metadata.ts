/**
 * Zarr v3 `zarr.json` documents of groups and arrays (docs/format.md §5, §6): parsing
 * with exact 64-bit integers and Python's bare NaN tokens, writing with
 * zarr-python's key order and 2-space indentation, fill-value encoding
 * (docs/format.md §6.5) and chunk keys (docs/format.md §6.6).
 *
 * Every problem found while reading a document is a {@link CodecError} whose
 * `key` (and message) names the `zarr.json` key.
 *
 * @module
 */

import type { CodecDescriptor } from "../codecs/index.js";
import {
  type DType,
  fromZarrDataType,
  isBigIntDType,
  isDatetime,
  isFloatDType,
  isTimedelta,
  NAT,
  type Scalar,
  toZarrDataType,
  type ZarrDataType,
} from "../dtype.js";
import { CodecError, isZCollectionError, SchemaError } from "../errors.js";
import { decodeJson, encodeJson, type JsonValue, stringifyJson } from "../json.js";
import { bindFixedLengthUtf32, fitFixedUtf32 } from "./codecs/utf32.js";

/** How chunk grid coordinates become keys (docs/format.md §6.6). */
export interface ChunkKeyEncoding {
  /** `default` (`c/0/1`) or `v2` (`0.1`). */
  readonly name: "default" | "v2";
  /** Separator between coordinates. */
  readonly separator: "/" | ".";
}

/** The default chunk key encoding written by this library: `c/<i>/<j>`. */
export const DEFAULT_CHUNK_KEY_ENCODING: ChunkKeyEncoding = Object.freeze({
  name: "default",
  separator: "/",
});

/**
 * An array's `zarr.json`, decoded. `fillValue` is typed for the dtype:
 * `bigint` for int64/uint64/datetime64/timedelta64 (NaT = int64 min),
 * `boolean` for bool, `string` for strings, `number` otherwise.
 */
export interface ArrayMetadata {
  /** Extent of each dimension (empty for 0-d). */
  readonly shape: readonly number[];
  /** Element type (`string` for both of zarr-python's string data types, `string` and `fixed_length_utf32`). */
  readonly dtype: DType;
  /** The `data_type` value as stored. */
  readonly dataType: ZarrDataType;
  /** Ticks of the dtype's unit per stored integer (datetime64/timedelta64 `scale_factor`; 1 otherwise). */
  readonly scaleFactor: number;
  /** `chunk_grid` chunk shape: the chunk shape, or the shard shape when sharded. */
  readonly chunkShape: readonly number[];
  /** `chunk_key_encoding`. */
  readonly chunkKeyEncoding: ChunkKeyEncoding;
  /** Decoded `fill_value` (never null). */
  readonly fillValue: Scalar;
  /**
   * `codecs` as stored, except for a `fixed_length_utf32` array: its `bytes`
   * serializer (also inside `sharding_indexed`) then carries the element
   * width as `length_bytes` in its configuration (see ./codecs/utf32.ts).
   * Not meant to be written back to a store.
   */
  readonly codecs: readonly CodecDescriptor[];
  /** `attributes`. */
  readonly attributes: Readonly<Record<string, JsonValue>>;
  /** `dimension_names`, when present. */
  readonly dimensionNames?: readonly (string | null)[];
}

/** A group's `zarr.json`, decoded. */
export interface GroupMetadata {
  /** `attributes`. */
  readonly attributes: Record<string, JsonValue>;
}

/** Key of the metadata document of the node at `path` (`""` = root → `zarr.json`). */
export function metadataKey(path: string): string {
  const p = path.replace(/^\/+|\/+$/g, "");
  return p === "" ? "zarr.json" : `${p}/zarr.json`;
}

// ---------------------------------------------------------------------------
// chunk keys

/**
 * The key, relative to the array, of the chunk at grid coordinates `coords`
 * (docs/format.md §6.6): `c/0/1` (default), `c.0.1` (default with "."), `0.1` (v2);
 * a 0-d array's chunk is `c` (default) or `0` (v2).
 */
export function chunkKey(encoding: ChunkKeyEncoding, coords: readonly number[]): string {
  if (encoding.name === "v2") return coords.length === 0 ? "0" : coords.join(encoding.separator);
  return coords.length === 0 ? "c" : `c${encoding.separator}${coords.join(encoding.separator)}`;
}

// ---------------------------------------------------------------------------
// fill values (docs/format.md §6.5)

/** The fill value zarr uses when none is given (docs/format.md §6.5 last column): false, 0, 0.0, NaT, "". */
export function defaultFillValue(dtype: DType): Scalar {
  if (dtype === "bool") return false;
  if (dtype === "string") return "";
  if (isDatetime(dtype) || isTimedelta(dtype)) return NAT;
  if (isBigIntDType(dtype)) return 0n;
  return 0;
}

const INT_RANGES: Record<string, readonly [bigint, bigint]> = {
  int8: [-128n, 127n],
  int16: [-32768n, 32767n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint8: [0n, 255n],
  uint16: [0n, 65535n],
  uint32: [0n, 2n ** 32n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

/**
 * Normalises a fill value given by a caller for an array of `dtype`:
 * `null`/`undefined` → {@link defaultFillValue}; numbers, bigints and the
 * strings "NaN"/"Infinity"/"-Infinity" (floats) or "NaT" (times) are
 * converted to the dtype's scalar type.
 *
 * @param name the array path, for error messages.
 * @throws SchemaError naming `name` when the value does not fit the dtype.
 */
export function normalizeFillValue(value: unknown, dtype: DType, name: string): Scalar {
  const fail = (): never => {
    throw new SchemaError(`array '${name}': fill value ${describe(value)} does not fit data type ${dtype}`, {
      variable: name,
    });
  };
  if (value === null || value === undefined) return defaultFillValue(dtype);
  if (dtype === "bool") {
    if (typeof value === "boolean") return value;
    if (value === 0 || value === 1 || value === 0n || value === 1n) return Boolean(value);
    return fail();
  }
  if (dtype === "string") return typeof value === "string" ? value : fail();
  if (isFloatDType(dtype)) {
    if (typeof value === "number")
      return dtype === "float32" && Number.isFinite(value) ? checkF32(value, fail) : value;
    if (typeof value === "bigint") return Number(value);
    if (typeof value === "string") {
      const special = SPECIAL_FLOATS[value];
      return special === undefined ? fail() : special;
    }
    return fail();
  }
  if (isDatetime(dtype) || isTimedelta(dtype)) {
    if (value === "NaT") return NAT;
  }
  let big: bigint;
  if (typeof value === "bigint") big = value;
  else if (typeof value === "number" && Number.isInteger(value)) big = BigInt(value);
  else if (typeof value === "boolean") big = value ? 1n : 0n;
  else return fail();
  const range = INT_RANGES[dtype] ?? INT_RANGES.int64!;
  if (big < range[0] || big > range[1]) return fail();
  return isBigIntDType(dtype) ? big : Number(big);
}

function checkF32(value: number, fail: () => never): number {
  const f = Math.fround(value);
  // Values that round to a different finite float32 are accepted (numpy casts them); overflow is not.
  return Number.isFinite(f) ? f : fail();
}

const SPECIAL_FLOATS: Record<string, number> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  "-Infinity": Number.NEGATIVE_INFINITY,
};

function describe(value: unknown): string {
  return typeof value === "bigint"
    ? `${value}`
    : typeof value === "string"
      ? JSON.stringify(value)
      : String(value);
}

/**
 * The JSON encoding of a fill value (docs/format.md §6.5): non-finite floats as
 * "NaN"/"Infinity"/"-Infinity", 64-bit values as exact bigints (NaT =
 * -9223372036854775808), bool as true/false, strings as is.
 */
export function encodeFillValue(value: Scalar, dtype: DType): JsonValue {
  if (isFloatDType(dtype)) {
    const v = Number(value);
    if (Number.isNaN(v)) return "NaN";
    if (v === Number.POSITIVE_INFINITY) return "Infinity";
    if (v === Number.NEGATIVE_INFINITY) return "-Infinity";
    return v;
  }
  if (isBigIntDType(dtype)) return typeof value === "bigint" ? value : BigInt(value as number);
  if (dtype === "bool") return Boolean(value);
  return value as JsonValue;
}

/**
 * Decodes a `fill_value` of `zarr.json` for `dtype` (docs/format.md §6.5): numbers,
 * exact integers, "NaN"/"Infinity"/"-Infinity", hex strings of the float's
 * bits (`"0x7fc00000"`), "NaT" for times, booleans, strings.
 *
 * @param key the `zarr.json` key, for error messages.
 * @throws CodecError naming `key` when the value does not fit the dtype.
 */
export function decodeFillValue(json: JsonValue, dtype: DType, key: string): Scalar {
  if (json === null) return defaultFillValue(dtype);
  if (isFloatDType(dtype) && typeof json === "string" && /^0x[0-9a-fA-F]+$/.test(json)) {
    const hex = json.slice(2);
    const size = dtype === "float32" ? 4 : 8;
    if (hex.length !== size * 2) throw invalidFill(json, dtype, key);
    const view = new DataView(new ArrayBuffer(8));
    if (size === 4) {
      view.setUint32(0, Number.parseInt(hex, 16));
      return view.getFloat32(0);
    }
    view.setBigUint64(0, BigInt(`0x${hex}`));
    return view.getFloat64(0);
  }
  try {
    return normalizeFillValue(json, dtype, key);
  } catch (cause) {
    if (isZCollectionError(cause, "SchemaError")) throw invalidFill(json, dtype, key, cause);
    throw cause;
  }
}

function invalidFill(json: JsonValue, dtype: DType, key: string, cause?: unknown): CodecError {
  return new CodecError(`invalid fill_value ${describe(json)} for data type ${dtype} in ${key}`, {
    key,
    cause,
  });
}

/**
 * Python's `repr` of a float (shortest round trip, always with a `.0` or an
 * exponent: `0.0`, `1.5`, `1e-07`, `1e+16`), as zarr-python writes float
 * fill values.
 */
export function pythonFloatRepr(value: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  const [mantissa, expText] = value.toExponential().split("e") as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    const e = Math.abs(exp);
    return `${mantissa}e${exp < 0 ? "-" : "+"}${e < 10 ? `0${e}` : e}`;
  }
  const digits = mantissa.replace("-", "").replace(".", "");
  const sign = value < 0 ? "-" : "";
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  const intLen = exp + 1;
  if (digits.length <= intLen) return `${sign}${digits.padEnd(intLen, "0")}.0`;
  return `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
}

// ---------------------------------------------------------------------------
// writing

/** Everything needed to write an array's `zarr.json` (see {@link ArrayMetadata}). */
export interface ArrayMetadataInput {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly chunkShape: readonly number[];
  readonly fillValue: Scalar;
  readonly codecs: readonly CodecDescriptor[];
  readonly attributes?: Readonly<Record<string, unknown>>;
  readonly dimensionNames?: readonly (string | null)[];
  readonly chunkKeyEncoding?: ChunkKeyEncoding;
}

const FLOAT_PLACEHOLDER = "__zcollection_python_float_fill_value__";

/**
 * The `zarr.json` text of an array, exactly as zarr-python writes it (docs/format.md
 * §6.1): key order `shape`, `data_type`, `chunk_grid`, `chunk_key_encoding`,
 * `fill_value`, `codecs`, `attributes`, `dimension_names` (omitted for 0-d
 * arrays and when not given), `zarr_format`, `node_type`,
 * `storage_transformers`; 2-space indentation; float fill values printed
 * like Python (`0.0`).
 */
export function arrayMetadataText(meta: ArrayMetadataInput): string {
  const fill = encodeFillValue(meta.fillValue, meta.dtype);
  const pyFloat = typeof fill === "number" && isFloatDType(meta.dtype);
  const enc = meta.chunkKeyEncoding ?? DEFAULT_CHUNK_KEY_ENCODING;
  const doc: Record<string, unknown> = {
    shape: [...meta.shape],
    data_type: toZarrDataType(meta.dtype),
    chunk_grid: { name: "regular", configuration: { chunk_shape: [...meta.chunkShape] } },
    chunk_key_encoding: { name: enc.name, configuration: { separator: enc.separator } },
    fill_value: pyFloat ? FLOAT_PLACEHOLDER : fill,
    codecs: meta.codecs,
    attributes: meta.attributes ?? {},
    dimension_names:
      meta.shape.length > 0 && meta.dimensionNames !== undefined ? [...meta.dimensionNames] : undefined,
    zarr_format: 3,
    node_type: "array",
    storage_transformers: [],
  };
  const text = stringifyJson(doc, { indent: 2 });
  return pyFloat ? text.replace(`"${FLOAT_PLACEHOLDER}"`, pythonFloatRepr(fill as number)) : text;
}

/** UTF-8 bytes of {@link arrayMetadataText}. */
export function encodeArrayMetadata(meta: ArrayMetadataInput): Uint8Array {
  return new TextEncoder().encode(arrayMetadataText(meta));
}

/**
 * The `zarr.json` bytes of a group (docs/format.md §5.1): keys `attributes`,
 * `zarr_format` (3), `node_type` ("group"), 2-space indentation.
 */
export function encodeGroupMetadata(attributes: Readonly<Record<string, unknown>>): Uint8Array {
  return encodeJson({ attributes, zarr_format: 3, node_type: "group" }, { indent: 2 });
}

// ---------------------------------------------------------------------------
// reading

/** A decoded `zarr.json`: a group or an array. */
export type NodeMetadata = ({ nodeType: "group" } & GroupMetadata) | ({ nodeType: "array" } & ArrayMetadata);

/**
 * Parses the bytes of a `zarr.json`.
 *
 * @param key the document's key, named in every error.
 * @throws CodecError naming `key` for invalid UTF-8/JSON, a `zarr_format`
 *   other than 3, an unknown `node_type`, missing or malformed members, an
 *   unsupported data type ("unsupported data type ...") or chunk grid, or
 *   storage transformers.
 */
export function parseNodeMetadata(bytes: Uint8Array, key: string): NodeMetadata {
  let doc: JsonValue;
  try {
    doc = decodeJson(bytes, key);
  } catch (cause) {
    throw new CodecError(`invalid JSON in ${key}: ${(cause as Error).message}`, { key, cause });
  }
  return parseNodeDocument(doc, key);
}

/** {@link parseNodeMetadata} on an already parsed JSON value. */
export function parseNodeDocument(doc: JsonValue, key: string): NodeMetadata {
  const fail = (what: string, cause?: unknown): never => {
    throw new CodecError(`invalid zarr.json ${key}: ${what}`, { key, cause });
  };
  if (!isObject(doc)) return fail("not a JSON object");
  if (doc.zarr_format !== 3) return fail(`unsupported zarr_format ${describe(doc.zarr_format)} (expected 3)`);
  const attributes = doc.attributes ?? {};
  if (!isObject(attributes)) return fail("attributes must be an object");
  if (doc.node_type === "group") return { nodeType: "group", attributes };
  if (doc.node_type !== "array") return fail(`unknown node_type ${describe(doc.node_type)}`);

  const shape = intList(doc.shape, 0);
  if (shape === undefined) return fail("shape must be a list of non-negative integers");

  let dtype: DType;
  let scaleFactor: number;
  let fixedLengthBytes: number | undefined;
  try {
    ({ dtype, scaleFactor, fixedLengthBytes } = fromZarrDataType(doc.data_type));
  } catch (cause) {
    throw new CodecError(`unsupported data type ${stringifyJson(doc.data_type ?? null)} in ${key}`, {
      key,
      cause,
    });
  }

  const grid = doc.chunk_grid;
  if (!isObject(grid) || grid.name !== "regular" || !isObject(grid.configuration)) {
    return fail(`unsupported chunk_grid ${stringifyJson(grid ?? null)} (only "regular")`);
  }
  const chunkShape = intList(grid.configuration.chunk_shape, 1);
  if (chunkShape === undefined || chunkShape.length !== shape.length) {
    return fail(`chunk_shape must be ${shape.length} positive integers`);
  }

  const chunkKeyEncoding = parseChunkKeyEncoding(doc.chunk_key_encoding, fail);

  if (!("fill_value" in doc)) return fail("missing fill_value");
  let fillValue = decodeFillValue(doc.fill_value as JsonValue, dtype, key);

  const codecsJson = doc.codecs;
  if (!Array.isArray(codecsJson) || codecsJson.length === 0) return fail("codecs must be a non-empty list");
  let codecs = codecsJson.map((c) => parseCodecDescriptor(c, fail));
  if (fixedLengthBytes !== undefined) {
    // The chunk pipeline sees only codecs and dtype: give its `bytes` serializer the element width.
    codecs = bindFixedLengthUtf32(codecs, fixedLengthBytes);
    fillValue = fitFixedUtf32(fillValue as string, fixedLengthBytes);
  }

  const st = doc.storage_transformers;
  if (st !== undefined && st !== null && (!Array.isArray(st) || st.length > 0)) {
    return fail("storage transformers are not supported");
  }

  let dimensionNames: (string | null)[] | undefined;
  const dn = doc.dimension_names;
  if (dn !== undefined && dn !== null) {
    if (
      !Array.isArray(dn) ||
      dn.length !== shape.length ||
      !dn.every((n) => n === null || typeof n === "string")
    ) {
      return fail(`dimension_names must be ${shape.length} strings or nulls`);
    }
    dimensionNames = dn as (string | null)[];
  }

  const meta: ArrayMetadata = {
    shape,
    dtype,
    dataType: doc.data_type as ZarrDataType,
    scaleFactor,
    chunkShape,
    chunkKeyEncoding,
    fillValue,
    codecs,
    attributes,
    ...(dimensionNames === undefined ? {} : { dimensionNames }),
  };
  return { nodeType: "array", ...meta };
}

/** Parses one codec descriptor (`{"name": ..., "configuration": {...}}`) of a `zarr.json`. */
export function parseCodecDescriptor(json: JsonValue, fail: (what: string) => never): CodecDescriptor {
  if (typeof json === "string") return { name: json };
  if (!isObject(json) || typeof json.name !== "string") return fail(`invalid codec ${stringifyJson(json)}`);
  const cfg = json.configuration;
  if (cfg === undefined || cfg === null) return { name: json.name };
  if (!isObject(cfg)) return fail(`invalid configuration of codec ${json.name}`);
  return { name: json.name, configuration: cfg };
}

function parseChunkKeyEncoding(json: JsonValue | undefined, fail: (what: string) => never): ChunkKeyEncoding {
  if (json === undefined || json === null) return DEFAULT_CHUNK_KEY_ENCODING;
  if (!isObject(json)) return fail("invalid chunk_key_encoding");
  const name = json.name;
  if (name !== "default" && name !== "v2") return fail(`unsupported chunk_key_encoding ${describe(name)}`);
  const cfg = json.configuration;
  const sep = isObject(cfg) && cfg.separator !== undefined ? cfg.separator : name === "default" ? "/" : ".";
  if (sep !== "/" && sep !== ".") return fail(`unsupported chunk key separator ${describe(sep)}`);
  return { name, separator: sep };
}

function intList(json: JsonValue | undefined, min: number): number[] | undefined {
  if (!Array.isArray(json)) return undefined;
  const out: number[] = [];
  for (const v of json) {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) return undefined;
    out.push(v);
  }
  return out;
}

function isObject(v: JsonValue | undefined): v is { [key: string]: JsonValue } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
