/**
 * The backend-independent view of an opened NetCDF file before CF decoding:
 * the group tree with variable headers, each able to load its stored values.
 * Both backends (`nc3.ts`, `hdf5.ts`) produce it; `read.ts` selects, loads
 * and decodes. Also the small helpers both backends share.
 *
 * @internal
 * @module
 */

import type { DType } from "../dtype.js";
import { StoreError } from "../errors.js";
import { NDArray } from "../ndarray.js";
import type { Attributes, NetCDFDimension } from "./types.js";

/** A variable header plus a loader of its stored (not CF-decoded) values. */
export interface RawVariable {
  readonly name: string;
  readonly path: string;
  readonly group: string;
  /** Dimension names (char arrays: without the string-length dimension). */
  readonly dimensions: readonly string[];
  readonly shape: readonly number[];
  /** `null` when the stored type has no {@link DType} (compound, vlen, opaque, reference…). */
  readonly dtype: DType | null;
  readonly attrs: Attributes;
  /**
   * Reads the values (char arrays already joined into strings).
   *
   * @throws StoreError when the bytes cannot be read (truncated file, missing filter plugin).
   * @throws SchemaError when the type is unsupported (`dtype` is null).
   */
  load(): NDArray;
  /**
   * Char arrays only: their last stored dimension, which {@link dimensions}
   * leaves out because {@link load} joins the characters along it.
   */
  readonly charDimension?: string;
  /**
   * Char arrays only: the values one character per element — a string of
   * length 1, `""` for a NUL or space — with every stored dimension kept
   * (`char DATA_MODE(N_PROF)` → `N_PROF` strings, not one). For a char
   * variable whose last dimension is a record dimension rather than a
   * string length.
   *
   * @throws as {@link load}.
   */
  loadChars?(): NDArray<"string">;
}

/** A group of an opened file. */
export interface RawGroup {
  readonly name: string;
  readonly path: string;
  readonly attrs: Attributes;
  readonly dimensions: Map<string, NetCDFDimension>;
  readonly variables: RawVariable[];
  readonly groups: RawGroup[];
}

/** An opened file; call {@link close} when done (it releases the HDF5 handle). */
export interface RawFile {
  readonly format: "netcdf3" | "netcdf4";
  readonly source: string;
  readonly root: RawGroup;
  close(): void;
}

/** `parent` + `/` + `name` with a single separator (`/` + `x` → `/x`). */
export function childPath(parent: string, name: string): string {
  return parent === "/" ? `/${name}` : `${parent}/${name}`;
}

/** A `StoreError` for a file that cannot be read, message `cannot read NetCDF file '<source>': <why>`. */
export function unreadable(source: string, why: string, cause?: unknown): StoreError {
  return new StoreError(`cannot read NetCDF file '${source}': ${why}`, { key: source, cause });
}

const UTF8 = new TextDecoder("utf-8");
const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Re-decodes as UTF-8 a string whose characters stand for bytes: latin1 code
 * points (h5wasm's fixed-length strings) or sign-extended bytes 0xFF80–0xFFFF
 * (netcdfjs' `String.fromCharCode(int8)`). NetCDF text is UTF-8 in practice;
 * bytes that are not valid UTF-8 are kept as latin1 characters. Other strings
 * are returned unchanged.
 */
export function utf8FromByteChars(text: string): string {
  let plain = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) {
      if (c > 0xff && c < 0xff80) return text;
      plain = false;
    }
  }
  if (plain) return text;
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    return String.fromCharCode(...bytes);
  }
}

/** Removes trailing NUL characters (C string padding). */
export function stripNuls(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0) end--;
  return end === text.length ? text : text.slice(0, end);
}

/** Removes trailing NULs and spaces (the padding of fixed-width char arrays). */
export function stripPadding(text: string): string {
  let end = text.length;
  while (end > 0) {
    const c = text.charCodeAt(end - 1);
    if (c !== 0 && c !== 32) break;
    end--;
  }
  return end === text.length ? text : text.slice(0, end);
}

/** Decodes bytes as UTF-8 (ASCII fast path). */
export function decodeText(bytes: Uint8Array): string {
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    if ((bytes[i] as number) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (!ascii) return UTF8.decode(bytes);
  let out = "";
  const CHUNK = 8192;
  for (let i = 0; i < bytes.length; i += CHUNK) {
    out += String.fromCharCode(...bytes.subarray(i, Math.min(bytes.length, i + CHUNK)));
  }
  return out;
}

/**
 * Joins a char array (one byte per element, row-major, `shape` ending with the
 * string length) into strings along its last dimension, stripping trailing
 * NULs and spaces. The result has the shape without the last dimension.
 * With `perChar`, every byte is its own string (length 1, or `""` for a NUL
 * or space) and the result has the whole `shape`.
 */
export function joinChars(bytes: Uint8Array, shape: readonly number[], perChar = false): NDArray<"string"> {
  if (perChar) {
    const out = new Array<string>(bytes.length);
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i] as number;
      // Single bytes beyond ASCII are kept as latin1 characters (no UTF-8 sequence fits in one byte).
      out[i] = b === 0 || b === 32 ? "" : String.fromCharCode(b);
    }
    return NDArray.from(out, { shape: [...shape], dtype: "string" });
  }
  if (shape.length === 0)
    return NDArray.from([stripPadding(decodeText(bytes))], { shape: [], dtype: "string" });
  const width = shape[shape.length - 1] as number;
  const outer = shape.slice(0, -1);
  let rows = 1;
  for (const d of outer) rows *= d;
  const out = new Array<string>(rows);
  for (let r = 0; r < rows; r++) {
    out[r] = width === 0 ? "" : stripPadding(decodeText(bytes.subarray(r * width, (r + 1) * width)));
  }
  return NDArray.from(out, { shape: outer, dtype: "string" });
}
