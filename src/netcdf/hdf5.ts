/**
 * NetCDF4 backend: HDF5 files read with `h5wasm` (Node build).
 *
 * - The compression filter plugins of `h5wasm-plugins` (zstd, blosc, lz4,
 *   bzip2, …) are registered once with `insert_plugin_search_path`; shuffle
 *   and deflate are built in.
 * - h5wasm's Node build maps its file system onto the real one, so a file
 *   given as bytes is written to a private temporary directory, opened from
 *   there and removed when the file is closed (always, also on errors).
 * - Dimension names come from the attached dimension scales (a variable of
 *   `/data_01/ku` attached to `/data_01/time` is on dimension `time`, declared
 *   in `/data_01`). Scales whose `NAME` starts with "This is a netCDF
 *   dimension but not a netCDF variable" are dimensions only. Axes without a
 *   scale (plain HDF5) get netCDF-C style `phony_dim_<n>` names, one per
 *   distinct length in the group.
 * - Internal attributes (`CLASS`, `NAME`, `REFERENCE_LIST`, `DIMENSION_LIST`,
 *   `_Netcdf4Dimid`, `_Netcdf4Coordinates`, `_NCProperties`, …) are hidden,
 *   like netCDF-C does. An empty text attribute (null dataspace) reads as
 *   `""`; empty numeric attributes are dropped.
 *
 * @internal
 * @module
 */

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type h5wasmNode from "h5wasm/node";
import type { DType } from "../dtype.js";
import { SchemaError } from "../errors.js";
import { NDArray } from "../ndarray.js";
import {
  childPath,
  joinChars,
  type RawFile,
  type RawGroup,
  type RawVariable,
  stripNuls,
  unreadable,
  utf8FromByteChars,
} from "./raw.js";
import type { Attributes, AttributeValue, NetCDFDimension } from "./types.js";

type H5Library = typeof h5wasmNode;
type H5Module = Awaited<H5Library["ready"]>;
type H5File = InstanceType<H5Library["File"]>;
type H5Group = InstanceType<H5Library["Group"]>;
type H5Dataset = InstanceType<H5Library["Dataset"]>;

/** h5wasm, loaded on first use (its WebAssembly start-up costs about 2 s of CPU; NetCDF3 never needs it). */
let h5wasm: H5Library;
type H5Metadata = H5Dataset["metadata"];

/** Attributes netCDF-C uses for its own bookkeeping; never shown to users. */
const HIDDEN_ATTRIBUTES = new Set([
  "CLASS",
  "NAME",
  "REFERENCE_LIST",
  "DIMENSION_LIST",
  "DIMENSION_LABELS",
  "_Netcdf4Dimid",
  "_Netcdf4Coordinates",
  "_NCProperties",
  "_nc3_strict",
  "_IsNetcdf4",
  "_SuperblockVersion",
]);

const PLACEHOLDER = "This is a netCDF dimension but not a netCDF variable";

/** H5T classes (H5Tpublic.h). */
const H5T_INTEGER = 0;
const H5T_FLOAT = 1;
const H5T_STRING = 3;
const H5T_ENUM = 8;

let modulePromise: Promise<H5Module> | undefined;

/**
 * The h5wasm module, initialised once: errors thrown instead of printed, and
 * the `h5wasm-plugins` filter directory first on the plugin search path.
 */
export function h5wasmModule(): Promise<H5Module> {
  modulePromise ??= import("h5wasm/node").then(async (loaded) => {
    h5wasm = loaded.default;
    const module = await h5wasm.ready;
    module.activate_throwing_error_handler();
    const dir = pluginDirectory();
    if (dir !== undefined) module.insert_plugin_search_path(dir, 0);
    return module;
  });
  return modulePromise;
}

/** Directory of the `h5wasm-plugins` filter libraries, or undefined when the package is absent. */
export function pluginDirectory(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    return join(dirname(require.resolve("h5wasm-plugins/package.json")), "plugins");
  } catch {
    return undefined;
  }
}

/**
 * The useful part of an HDF5 error stack: a missing filter when that is the
 * cause, otherwise the innermost reason.
 */
function hdf5Reason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const filter = /required filter '([^';]*)/.exec(text);
  if (filter !== null) return `HDF5 filter '${(filter[1] ?? "").trim()}' is not available (no plugin found)`;
  const lines = text.split("\n").filter((l) => /#\d+:/.test(l));
  const last = lines[lines.length - 1];
  if (last === undefined) return text.trim().split("\n")[0] ?? "unknown HDF5 error";
  const m = /\(\): (.*)$/.exec(last);
  return (m?.[1] ?? last).trim();
}

function dtypeOf(meta: H5Metadata): DType | "char" | null {
  switch (meta.type) {
    case H5T_INTEGER:
    case H5T_ENUM: {
      // Enumerations read as their base integers.
      const signed = meta.signed;
      switch (meta.size) {
        case 1:
          return signed ? "int8" : "uint8";
        case 2:
          return signed ? "int16" : "uint16";
        case 4:
          return signed ? "int32" : "uint32";
        case 8:
          return signed ? "int64" : "uint64";
        default:
          return null;
      }
    }
    case H5T_FLOAT:
      return meta.size === 4 ? "float32" : meta.size === 8 ? "float64" : null;
    case H5T_STRING:
      // NC_CHAR is a fixed-length string of one byte; anything else is a string per element.
      return !meta.vlen && meta.size === 1 ? "char" : "string";
    default:
      return null;
  }
}

function attributeValue(value: unknown, meta: () => H5Metadata | undefined): AttributeValue | undefined {
  if (value === null || value === undefined) return meta()?.type === H5T_STRING ? "" : undefined;
  // ASCII-tagged strings (what netCDF-C writes for NC_CHAR) are decoded by h5wasm one byte per
  // character; UTF-8-tagged ones are already right.
  const text = (t: string) => (/[\u0080-\uffff]/.test(t) && meta()?.cset !== 1 ? utf8FromByteChars(t) : t);
  if (typeof value === "string") return stripNuls(text(value));
  if (typeof value === "number" || typeof value === "bigint") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value instanceof BigInt64Array || value instanceof BigUint64Array) {
    const list = Array.from(value as ArrayLike<bigint>);
    return list.length === 0 ? undefined : list.length === 1 ? (list[0] as bigint) : list;
  }
  if (ArrayBuffer.isView(value)) {
    const list = Array.from(value as unknown as ArrayLike<number>);
    return list.length === 0 ? undefined : list.length === 1 ? (list[0] as number) : list;
  }
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
    const list = (value as string[]).map((v) => stripNuls(text(v)));
    return list.length === 0 ? undefined : list.length === 1 ? (list[0] as string) : list;
  }
  return undefined; // compound, reference and other structured values are not representable
}

/** Attributes of an object, plus its `CLASS` and `NAME` (dimension-scale bookkeeping). */
interface ObjectAttributes {
  attrs: Attributes;
  className: string | undefined;
  scaleName: string | undefined;
}

function readAttributes(module: H5Module, entity: H5Group | H5Dataset): ObjectAttributes {
  const out: ObjectAttributes = { attrs: {}, className: undefined, scaleName: undefined };
  for (const name of module.get_attribute_names(entity.file_id, entity.path)) {
    if (name === "REFERENCE_LIST" || name === "DIMENSION_LIST") continue;
    let value: AttributeValue | undefined;
    try {
      let meta: H5Metadata | undefined;
      const lazyMeta = () => {
        meta ??= module.get_attribute_metadata(entity.file_id, entity.path, name);
        return meta;
      };
      value = attributeValue(entity.get_attribute(name, false), lazyMeta);
    } catch {
      value = undefined; // an attribute h5wasm cannot decode is skipped
    }
    if (name === "CLASS") out.className = typeof value === "string" ? value : undefined;
    else if (name === "NAME") out.scaleName = typeof value === "string" ? value : undefined;
    else if (value !== undefined && !HIDDEN_ATTRIBUTES.has(name)) out.attrs[name] = value;
  }
  return out;
}

function isUnlimited(maxshape: readonly number[] | null, axis: number): boolean {
  if (maxshape === null) return false;
  const m = maxshape[axis];
  return m === undefined || m === null || m < 0 || m > Number.MAX_SAFE_INTEGER;
}

function toNDArray(
  value: unknown,
  shape: readonly number[],
  dtype: DType | "char",
  utf8: boolean,
  path: string,
  source: string,
  perChar = false,
): NDArray {
  if (dtype === "char") {
    const chars = (Array.isArray(value) ? value : [value]) as string[];
    const bytes = new Uint8Array(chars.length);
    for (let i = 0; i < chars.length; i++) {
      const code = (chars[i] ?? "").charCodeAt(0);
      bytes[i] = Number.isNaN(code) ? 0 : code & 0xff;
    }
    return joinChars(bytes, shape, perChar);
  }
  if (dtype === "string") {
    const list = Array.isArray(value) ? (value as unknown[]) : [value];
    return NDArray.from(
      list.map((s) => stripNuls(utf8 ? String(s ?? "") : utf8FromByteChars(String(s ?? "")))),
      { shape, dtype: "string" },
    );
  }
  if (ArrayBuffer.isView(value)) return NDArray.from(value as Int32Array, { shape, dtype });
  if (typeof value === "number" || typeof value === "bigint") {
    return NDArray.from(typeof value === "bigint" ? [value] : [value], { shape, dtype });
  }
  throw unreadable(source, `variable '${path}': unexpected value layout from h5wasm`);
}

/** Builds the raw tree of an opened HDF5 file. */
function walk(module: H5Module, file: H5File, source: string): RawGroup {
  /** Dimension of each scale dataset, by absolute path. */
  const scales = new Map<string, NetCDFDimension>();
  const dimensionOf = (path: string, meta: H5Metadata): NetCDFDimension => {
    let dim = scales.get(path);
    if (dim === undefined) {
      dim = {
        name: path.slice(path.lastIndexOf("/") + 1),
        size: meta.shape?.[0] ?? 0,
        unlimited: isUnlimited(meta.maxshape, 0),
      };
      scales.set(path, dim);
    }
    return dim;
  };
  const attachedName = (path: string): string => {
    // Scales elsewhere in the file are measured once, when first referenced.
    if (!scales.has(path)) {
      const ds = file.get(path);
      if (ds instanceof h5wasm.Dataset) dimensionOf(path, ds.metadata);
    }
    return path.slice(path.lastIndexOf("/") + 1);
  };

  const visit = (group: H5Group, path: string, name: string): RawGroup => {
    const raw: RawGroup = {
      name,
      path,
      attrs: readAttributes(module, group).attrs,
      dimensions: new Map(),
      variables: [],
      groups: [],
    };
    const datasets: { key: string; ds: H5Dataset; info: ObjectAttributes; scale: boolean }[] = [];
    const children: [string, H5Group][] = [];
    for (const key of group.keys()) {
      const entity = group.get(key);
      if (entity instanceof h5wasm.Dataset) {
        const info = readAttributes(module, entity);
        datasets.push({ key, ds: entity, info, scale: info.className === "DIMENSION_SCALE" });
      } else if (entity instanceof h5wasm.Group) {
        children.push([key, entity]);
      }
    }
    // First the dimensions declared here (dimension scales), then the variables.
    for (const { key, ds, scale } of datasets) {
      if (!scale) continue;
      const dim = dimensionOf(childPath(path, key), ds.metadata);
      raw.dimensions.set(dim.name, dim);
    }
    const phony = new Map<number, string>();
    for (const d of datasets) {
      if (d.scale && d.info.scaleName?.startsWith(PLACEHOLDER)) continue; // a dimension, not a variable
      raw.variables.push(variable(d.ds, d.key, path, raw, phony, d.info.attrs, d.scale));
    }
    for (const [key, child] of children) raw.groups.push(visit(child, childPath(path, key), key));
    return raw;
  };

  const variable = (
    ds: H5Dataset,
    name: string,
    group: string,
    raw: RawGroup,
    phony: Map<number, string>,
    attrs: Attributes,
    isScale: boolean,
  ): RawVariable => {
    const path = childPath(group, name);
    const meta = ds.metadata;
    const shape = [...(meta.shape ?? [])];
    const dimensions = shape.map((size, axis) => {
      if (isScale && axis === 0) return name;
      let scalePaths: string[] = [];
      try {
        scalePaths = ds.get_attached_scales(axis);
      } catch {
        scalePaths = [];
      }
      const first = scalePaths[0];
      if (first !== undefined) return attachedName(first);
      let dimName = phony.get(size);
      if (dimName === undefined) {
        dimName = `phony_dim_${phony.size}`;
        phony.set(size, dimName);
        raw.dimensions.set(dimName, { name: dimName, size, unlimited: false });
      }
      return dimName;
    });
    const stored = dtypeOf(meta);
    const dtype: DType | null = stored === "char" ? "string" : stored;
    const read = (perChar: boolean) => {
      if (stored === null) {
        throw new SchemaError(`variable '${path}' of '${source}' has an unsupported HDF5 data type`, {
          variable: path,
        });
      }
      let value: unknown;
      try {
        value = ds.value;
      } catch (err) {
        throw unreadable(source, `variable '${path}': ${hdf5Reason(err)}`, err);
      }
      return toNDArray(value, shape, stored, meta.cset === 1, path, source, perChar);
    };
    const header = {
      name,
      path,
      group,
      dimensions: stored === "char" ? dimensions.slice(0, -1) : dimensions,
      shape: stored === "char" ? shape.slice(0, -1) : shape,
      dtype,
      attrs,
      load: () => read(false),
    };
    const charDimension = dimensions[dimensions.length - 1];
    if (stored !== "char" || charDimension === undefined) return header;
    return { ...header, charDimension, loadChars: () => read(true) as NDArray<"string"> };
  };

  return visit(file, "/", "");
}

/**
 * Opens a NetCDF4/HDF5 file from a path or from bytes.
 *
 * @param source the name used in error messages (the path, or a name for bytes).
 * @throws StoreError naming `source` when HDF5 cannot open the file (truncated, corrupt).
 */
export async function openNetCDF4(input: string | Uint8Array, source: string): Promise<RawFile> {
  const module = await h5wasmModule();
  let tempDir: string | undefined;
  let path: string;
  if (typeof input === "string") {
    path = input;
  } else {
    tempDir = mkdtempSync(join(tmpdir(), "zcollection-netcdf-"));
    path = join(tempDir, "input.nc");
    writeFileSync(path, input);
  }
  const cleanup = () => {
    if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
    tempDir = undefined;
  };
  let file: H5File;
  try {
    file = new h5wasm.File(path, "r");
  } catch (err) {
    cleanup();
    throw unreadable(source, hdf5Reason(err), err);
  }
  const close = () => {
    try {
      file.close();
    } finally {
      cleanup();
    }
  };
  try {
    return { format: "netcdf4", source, root: walk(module, file, source), close };
  } catch (err) {
    close();
    if (err instanceof Error && "_tag" in err) throw err;
    throw unreadable(source, hdf5Reason(err), err);
  }
}
