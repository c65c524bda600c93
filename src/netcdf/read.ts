/**
 * Reading NetCDF files (Node only): format detection, backend dispatch,
 * variable selection and CF decoding, into the neutral {@link NetCDFFile}
 * tree. No dependency on the schema or data model.
 *
 * - NetCDF3 (classic and 64-bit offset): header by `netcdfjs`, values read
 *   directly (see `nc3.ts`). CDF5 files are refused.
 * - NetCDF4 (HDF5): `h5wasm` with the `h5wasm-plugins` filters (see `hdf5.ts`).
 *
 * Errors: a file that cannot be read (missing, empty, not NetCDF, CDF5,
 * truncated, corrupt, missing filter) → `StoreError` whose `key` and message
 * name the file; a CF decoding problem (time units, calendar) → `SchemaError`
 * naming the variable and the file.
 *
 * @module
 */

import { open, readFile } from "node:fs/promises";
import type { NDArray } from "../ndarray.js";
import { type CFDecodeOptions, decodeVariable } from "./cf.js";
import { openNetCDF4 } from "./hdf5.js";
import { openNetCDF3 } from "./nc3.js";
import { type RawFile, type RawGroup, type RawVariable, unreadable } from "./raw.js";
import type {
  Attributes,
  FillValue,
  NetCDFFile,
  NetCDFGroup,
  NetCDFGroupInfo,
  NetCDFHeader,
  NetCDFVariable,
  NetCDFVariableInfo,
} from "./types.js";

/** A file path, or the bytes of a file. */
export type NetCDFInput = string | Uint8Array;

/** Options of {@link readNetCDF}. */
export interface ReadNetCDFOptions extends Omit<CFDecodeOptions, "source"> {
  /** Name of in-memory bytes in error messages (default `<memory>`). Ignored for paths. */
  name?: string;
  /** Reads only the variables for which this returns true (default: all). */
  filter?: (variable: NetCDFVariableInfo) => boolean;
  /** Apply CF decoding (default true). When false, values and attributes are as stored and `fillValue` is `_FillValue`. */
  decode?: boolean;
  /** Checked before each variable is read. */
  signal?: AbortSignal;
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** The kind of file a header announces. */
export type DetectedFormat = "netcdf3" | "netcdf4" | "cdf5" | "unknown";

/** Kind of file from its first bytes (`CDF\x01`/`CDF\x02` NetCDF3, `CDF\x05` CDF5, the HDF5 signature). */
export function detectFormat(head: Uint8Array): DetectedFormat {
  if (head[0] === 0x43 && head[1] === 0x44 && head[2] === 0x46) {
    if (head[3] === 1 || head[3] === 2) return "netcdf3";
    if (head[3] === 5) return "cdf5";
    return "unknown";
  }
  return HDF5_SIGNATURE.every((b, i) => head[i] === b) ? "netcdf4" : "unknown";
}

/** HDF5 superblocks sit at 0, 512, 1024, 2048… (after a user block). */
function hdf5At(bytes: Uint8Array): boolean {
  for (let at = 0; at + 8 <= bytes.length; at = at === 0 ? 512 : at * 2) {
    if (detectFormat(bytes.subarray(at, at + 8)) === "netcdf4") return true;
  }
  return false;
}

async function sniffPath(path: string): Promise<DetectedFormat> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "r");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw unreadable(path, code === "ENOENT" ? "no such file" : (err as Error).message, err);
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) throw unreadable(path, "the file is empty");
    const head = new Uint8Array(8);
    await handle.read(head, 0, 8, 0);
    const kind = detectFormat(head);
    if (kind !== "unknown") return kind;
    for (let at = 512; at + 8 <= size; at *= 2) {
      await handle.read(head, 0, 8, at);
      if (detectFormat(head) === "netcdf4") return "netcdf4";
    }
    return "unknown";
  } finally {
    await handle.close();
  }
}

function refuse(kind: DetectedFormat, source: string): never {
  if (kind === "cdf5") throw unreadable(source, "NetCDF3 64-bit data (CDF5) files are not supported");
  throw unreadable(source, "not a NetCDF file (no NetCDF3 or HDF5 signature)");
}

/**
 * Opens a file with the right backend. The caller must `close()` it.
 *
 * @internal
 */
export async function openRaw(input: NetCDFInput, name = "<memory>"): Promise<RawFile> {
  if (typeof input === "string") {
    const kind = await sniffPath(input);
    if (kind === "netcdf4") return openNetCDF4(input, input);
    if (kind !== "netcdf3") refuse(kind, input);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(input);
    } catch (err) {
      throw unreadable(input, (err as Error).message, err);
    }
    return openNetCDF3(bytes, input);
  }
  if (input.length === 0) throw unreadable(name, "the file is empty");
  const kind = detectFormat(input.subarray(0, 8));
  if (kind === "netcdf3") return openNetCDF3(input, name);
  if (kind === "netcdf4" || hdf5At(input)) return openNetCDF4(input, name);
  refuse(kind, name);
}

function infoOf(v: RawVariable): NetCDFVariableInfo {
  return {
    name: v.name,
    path: v.path,
    group: v.group,
    dimensions: v.dimensions,
    shape: v.shape,
    dtype: v.dtype,
    attrs: v.attrs,
  };
}

function groupInfo(g: RawGroup): NetCDFGroupInfo {
  return {
    name: g.name,
    path: g.path,
    attrs: g.attrs,
    dimensions: g.dimensions,
    variables: g.variables.map(infoOf),
    groups: g.groups.map(groupInfo),
  };
}

/**
 * The structure of a NetCDF file (groups, dimensions, attributes, variable
 * headers) without reading any values.
 *
 * @param opts.name name of in-memory bytes in error messages.
 * @throws StoreError naming the file when it cannot be read.
 */
export async function inspectNetCDF(input: NetCDFInput, opts: { name?: string } = {}): Promise<NetCDFHeader> {
  const raw = await openRaw(input, opts.name);
  try {
    const root = groupInfo(raw.root);
    return { format: raw.format, source: raw.source, attrs: root.attrs, root };
  } finally {
    raw.close();
  }
}

/** The stored `_FillValue` of an undecoded variable. */
function storedFill(attrs: Attributes): FillValue {
  const f = attrs._FillValue;
  if (Array.isArray(f)) return (f[0] as number | bigint | string | undefined) ?? null;
  return f ?? null;
}

/**
 * Reads a NetCDF3 or NetCDF4 file into a {@link NetCDFFile}: every group,
 * dimension and attribute, and the values of the selected variables, CF
 * decoded (see `cf.ts`: unpacking, missing values, times as
 * `datetime64[ns]`) unless `decode: false`.
 *
 * Char arrays become `string` variables without their last (string length)
 * dimension; trailing NULs and spaces are stripped from each string.
 *
 * @param input a path, or the bytes of a file (`opts.name` names it in errors).
 * @throws StoreError naming the file when it is missing, empty, not NetCDF,
 *   CDF5, truncated or corrupt, or needs an unavailable HDF5 filter.
 * @throws SchemaError naming the variable and the file on CF decoding
 *   errors (unparseable time units, unsupported calendar, time out of range)
 *   or an unsupported HDF5 type in a selected variable.
 */
export async function readNetCDF(input: NetCDFInput, opts: ReadNetCDFOptions = {}): Promise<NetCDFFile> {
  opts.signal?.throwIfAborted();
  const raw = await openRaw(input, opts.name);
  try {
    const cf: CFDecodeOptions = { source: raw.source };
    if (opts.keepPacked !== undefined) cf.keepPacked = opts.keepPacked;
    if (opts.decodeTimes !== undefined) cf.decodeTimes = opts.decodeTimes;
    const readGroup = (g: RawGroup): NetCDFGroup => {
      const variables: NetCDFVariable[] = [];
      for (const v of g.variables) {
        if (opts.filter !== undefined && !opts.filter(infoOf(v))) continue;
        opts.signal?.throwIfAborted();
        const data: NDArray = v.load();
        if (opts.decode === false) {
          variables.push({
            name: v.name,
            path: v.path,
            dimensions: v.dimensions,
            dtype: data.dtype,
            data,
            attrs: { ...v.attrs },
            fillValue: storedFill(v.attrs),
          });
        } else {
          variables.push(
            decodeVariable(
              { name: v.name, path: v.path, dimensions: v.dimensions, data, attrs: v.attrs },
              cf,
            ),
          );
        }
      }
      return {
        name: g.name,
        path: g.path,
        attrs: { ...g.attrs },
        dimensions: new Map(g.dimensions),
        variables,
        groups: g.groups.map(readGroup),
      };
    };
    const root = readGroup(raw.root);
    return { format: raw.format, source: raw.source, attrs: root.attrs, root };
  } finally {
    raw.close();
  }
}

/** Every group of a tree, depth-first pre-order, the root first. */
export function* walkGroups<G extends { readonly groups: readonly G[] }>(root: G): Generator<G> {
  yield root;
  for (const child of root.groups) yield* walkGroups(child);
}

/** The group at `path` (`/`, `/data_01`, `data_01/ku`), or undefined. */
export function findGroup<G extends { readonly path: string; readonly groups: readonly G[] }>(
  root: G,
  path: string,
): G | undefined {
  const wanted = `/${path
    .split("/")
    .filter((s) => s !== "")
    .join("/")}`;
  for (const g of walkGroups(root)) if (g.path === wanted) return g;
  return undefined;
}

/** The decoded variable at an absolute path (`/data_01/ku/ssha`), or undefined. */
export function variableAt(file: NetCDFFile, path: string): NetCDFVariable | undefined {
  for (const g of walkGroups(file.root)) for (const v of g.variables) if (v.path === path) return v;
  return undefined;
}
