/**
 * The neutral, schema-free structure a NetCDF file decodes into: a tree of
 * groups holding dimensions, attributes and variables with their data as
 * {@link NDArray}s. Produced by `readNetCDF` (NetCDF3 and NetCDF4 alike) and
 * consumed by `openNetCDF`, which turns it into a `Dataset` + `DatasetSchema`.
 *
 * @module
 */

import type { DType } from "../dtype.js";
import type { NDArray } from "../ndarray.js";

/**
 * One attribute value, normalised across both formats:
 *
 * - text (`NC_CHAR`, `NC_STRING`) → `string` (trailing NULs removed), several
 *   `NC_STRING` values → `string[]`;
 * - numbers → `number`, 64-bit integers → `bigint`;
 * - a single value is a scalar, several values an array (like netCDF4-python);
 * - an empty text attribute is `""`; empty numeric attributes are dropped.
 */
export type AttributeValue = string | number | bigint | string[] | number[] | bigint[];

/** Attributes of a group or variable, in file order. */
export type Attributes = Record<string, AttributeValue>;

/** A fill value: a number (NaN included), a bigint for 64-bit types, a string, or `null` for none. */
export type FillValue = number | bigint | string | null;

/** A dimension declared in a group. */
export interface NetCDFDimension {
  /** Short name (unique within its group). */
  readonly name: string;
  /** Current length (number of records for an unlimited dimension). */
  readonly size: number;
  /** Whether the dimension is unlimited (the NetCDF3 record dimension; any extensible HDF5 dimension scale). */
  readonly unlimited: boolean;
}

/** Header of a variable: everything but its values. */
export interface NetCDFVariableInfo {
  /** Short name. */
  readonly name: string;
  /** Absolute path (`/time`, `/data_01/ku/ssha`). */
  readonly path: string;
  /** Path of the group holding the variable (`/` for the root). */
  readonly group: string;
  /** Dimension names, outermost first. A dimension may be declared in an ancestor group. */
  readonly dimensions: readonly string[];
  /** Extent along each dimension. */
  readonly shape: readonly number[];
  /**
   * Element type of the stored values before CF decoding (`string` for char
   * arrays), or `null` when the stored type has no equivalent (HDF5
   * compound, variable-length, opaque or reference types): reading such a
   * variable throws a `SchemaError`.
   */
  readonly dtype: DType | null;
  /** Attributes as stored (before CF decoding). */
  readonly attrs: Attributes;
}

/** A variable with its values. */
export interface NetCDFVariable {
  /** Short name. */
  readonly name: string;
  /** Absolute path (`/time`, `/data_01/ku/ssha`). */
  readonly path: string;
  /** Dimension names, outermost first (a char array loses its last, string-length, dimension). */
  readonly dimensions: readonly string[];
  /** Element type of {@link data}. */
  readonly dtype: DType;
  /** The values, row-major, of shape = the sizes of {@link dimensions}. */
  readonly data: NDArray;
  /** Attributes, without the CF keys consumed by decoding (`_FillValue`, `scale_factor`, …). */
  readonly attrs: Attributes;
  /** Value marking missing elements in {@link data} (NaN for unpacked floats, NaT for times), or `null`. */
  readonly fillValue: FillValue;
}

/** A group and its subtree. */
export interface NetCDFGroup {
  /** Short name (`""` for the root). */
  readonly name: string;
  /** Absolute path (`/` for the root, `/data_01/ku` below it). */
  readonly path: string;
  /** Group attributes (the global attributes for the root). */
  readonly attrs: Attributes;
  /** Dimensions declared in this group, by name, in declaration order. */
  readonly dimensions: ReadonlyMap<string, NetCDFDimension>;
  /** Variables of this group, in file order. */
  readonly variables: readonly NetCDFVariable[];
  /** Child groups, in file order. */
  readonly groups: readonly NetCDFGroup[];
}

/** A decoded NetCDF file. */
export interface NetCDFFile {
  /** `netcdf3` (classic or 64-bit offset) or `netcdf4` (HDF5). */
  readonly format: "netcdf3" | "netcdf4";
  /** The file path, or the name given for in-memory bytes (used in every error message). */
  readonly source: string;
  /** Global attributes (same object as `root.attrs`). */
  readonly attrs: Attributes;
  /** The root group. */
  readonly root: NetCDFGroup;
}

/** A group of a {@link NetCDFHeader}: like {@link NetCDFGroup}, with variable headers instead of values. */
export interface NetCDFGroupInfo {
  /** Short name (`""` for the root). */
  readonly name: string;
  /** Absolute path (`/` for the root). */
  readonly path: string;
  /** Group attributes. */
  readonly attrs: Attributes;
  /** Dimensions declared in this group, by name. */
  readonly dimensions: ReadonlyMap<string, NetCDFDimension>;
  /** Variable headers, in file order. */
  readonly variables: readonly NetCDFVariableInfo[];
  /** Child groups. */
  readonly groups: readonly NetCDFGroupInfo[];
}

/** The structure of a NetCDF file without its values (see `inspectNetCDF`). */
export interface NetCDFHeader {
  /** `netcdf3` or `netcdf4`. */
  readonly format: "netcdf3" | "netcdf4";
  /** The file path, or the name given for in-memory bytes. */
  readonly source: string;
  /** Global attributes. */
  readonly attrs: Attributes;
  /** The root group. */
  readonly root: NetCDFGroupInfo;
}
