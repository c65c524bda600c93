/**
 * The data steps of `zcollection ingest`, pure but for reading the file:
 * one product read as the options say, given the key variables of a
 * sequence partitioning, and checked against the collection schema.
 *
 * @module
 */

import { basename } from "node:path";
import { Dataset } from "../data/index.js";
import { withSourceProduct } from "../data/product-attrs.js";
import { type DType, isDatetime, isFloatDType, isIntegerDType } from "../dtype.js";
import { SchemaError } from "../errors.js";
import { NDArray } from "../ndarray.js";
import type { OpenNetCDFOptions } from "../netcdf/index.js";
import type { Partitioning } from "../partitioning/index.js";
import { type DatasetSchema, SchemaBuilder } from "../schema/index.js";
import type { IngestOptions } from "./ingest-options.js";

/**
 * The datetime variable a date partitioning splits on: `wanted`, else the
 * root variable named like the axis, else `time`, else the only 1-D root
 * datetime variable along the axis.
 *
 * @throws SchemaError when there is none, or several to choose from.
 */
export function findTimeVariable(ds: Dataset, axis: string, wanted?: string): string {
  const isTime = (name: string) => {
    const v = ds.variables.get(name);
    return v !== undefined && isDatetime(v.dtype) && v.dimensions.length === 1 && v.dimensions[0] === axis;
  };
  if (wanted !== undefined) {
    if (!isTime(wanted)) {
      throw new SchemaError(`'${wanted}' is not a 1-D datetime variable along '${axis}'`, {
        variable: wanted,
      });
    }
    return wanted;
  }
  for (const name of [axis, "time"]) if (isTime(name)) return name;
  const candidates = [...ds.variables.keys()].filter(isTime);
  if (candidates.length === 1) return candidates[0] as string;
  throw new SchemaError(
    candidates.length === 0
      ? `no 1-D datetime variable along '${axis}' to partition by date`
      : `several datetime variables along '${axis}' (${candidates.join(", ")}): choose one with --time`,
    { dimension: axis },
  );
}

/** An integer from an attribute or 0-d/1-element value, or undefined. */
function integerOf(value: unknown): number | bigint | undefined {
  let v = value;
  if (Array.isArray(v) || ArrayBuffer.isView(v)) {
    const items = Array.from(v as ArrayLike<unknown>);
    if (items.length !== 1) return undefined;
    v = items[0];
  }
  if (typeof v === "bigint") return v;
  if (typeof v === "number") return Number.isInteger(v) ? v : undefined;
  if (typeof v === "string" && /^\s*[+-]?\d+\s*$/.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : BigInt(v.trim());
  }
  return undefined;
}

/**
 * `ds` with the integer key variables of a sequence partitioning: a root
 * variable of that name along `axis` is used as it is; a 0-d (or
 * one-element) variable or a global attribute of that name is repeated on
 * every row, as int32 (int64 beyond the int32 range, whatever the type of
 * the attribute or variable, so that files agree on the dtype).
 *
 * @throws SchemaError naming the key variable when the file has neither.
 */
export function withKeyVariables(
  ds: Dataset,
  schema: DatasetSchema,
  axis: string,
  names: readonly string[],
): {
  dataset: Dataset;
  schema: DatasetSchema;
} {
  const rows = ds.dimensions[axis];
  if (rows === undefined)
    throw new SchemaError(`the dataset has no dimension '${axis}'`, { dimension: axis });
  const added = new Map<string, NDArray>();
  for (const name of names) {
    const v = ds.variables.get(name);
    if (v !== undefined && v.dimensions.length === 1 && v.dimensions[0] === axis) continue;
    let value: number | bigint | undefined;
    let origin: string;
    if (v !== undefined && v.data !== null && (v.data as NDArray).size === 1) {
      value = integerOf((v.data as NDArray).at(0));
      origin = `variable '${name}'`;
    } else if (v !== undefined) {
      throw new SchemaError(`variable '${name}' is neither 1-D along '${axis}' nor a single value`, {
        variable: name,
      });
    } else {
      value = integerOf(ds.attrs[name]);
      origin = `global attribute '${name}'`;
      if (!(name in ds.attrs)) {
        throw new SchemaError(`no variable or global attribute '${name}' to partition by`, {
          variable: name,
        });
      }
    }
    if (value === undefined) {
      throw new SchemaError(`${origin} is not an integer: ${String(v?.data ?? ds.attrs[name])}`, {
        variable: name,
      });
    }
    const small = value >= -(2 ** 31) && value < 2 ** 31;
    const dtype: DType = small ? "int32" : "int64";
    added.set(name, NDArray.full(dtype, [rows], small ? Number(value) : BigInt(value)));
  }
  if (added.size === 0) return { dataset: ds, schema };
  const builder = SchemaBuilder.from(schema);
  for (const [name, data] of added) builder.withVariable(name, { dtype: data.dtype, dimensions: [axis] });
  const next = builder.build();
  const arrays = new Map<string, NDArray>();
  for (const [path, v] of ds.allVariables()) {
    if (!added.has(path) && v.data !== null) arrays.set(path, v.data as NDArray);
  }
  for (const [name, data] of added) arrays.set(name, data);
  return { dataset: Dataset.fromArrays(next, arrays, { attrs: ds.attrs }), schema: next };
}

/** `scale_factor …, add_offset …` of a packed integer variable, or undefined when it is not packed. */
function packing(dtype: DType, attrs: Readonly<Record<string, unknown>>): string | undefined {
  if (!isIntegerDType(dtype) || !("scale_factor" in attrs || "add_offset" in attrs)) return undefined;
  const text = (v: unknown) =>
    JSON.stringify(ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v);
  return ["scale_factor", "add_offset"]
    .filter((k) => k in attrs)
    .map((k) => `${k} ${text(attrs[k])}`)
    .join(", ");
}

/**
 * Refuses a variable packed on one side only (`--keep-packed` given for a
 * collection that stores it unpacked, or left out for one that stores it
 * packed), or packed with other `scale_factor`/`add_offset` values: its
 * values would be stored on the wrong scale.
 */
function checkPacking(path: string, dtype: DType, attrs: Record<string, unknown>, schema: DatasetSchema) {
  const stored = schema.getVariable(path);
  const mine = packing(dtype, attrs);
  const theirs = packing(stored.dtype, stored.attrs);
  if (mine === theirs) return;
  let why: string;
  if (theirs === undefined) {
    why = `is packed in the file (${dtype}, ${mine}) but the collection stores it unpacked (${stored.dtype}): ingest without --keep-packed`;
  } else if (mine === undefined) {
    if (!isFloatDType(dtype)) return; // an integer variable the file does not pack: a plain cast
    why = `was unpacked from the file but the collection stores it packed (${stored.dtype}, ${theirs}): ingest with --keep-packed`;
  } else {
    why = `is packed with ${mine} in the file but with ${theirs} in the collection`;
  }
  throw new SchemaError(`variable '${path}' ${why}`, { variable: path });
}

/**
 * `ds` checked against `schema` (bound to its axis) and cast to its dtypes:
 * every variable must exist there with the same dimensions, and be packed
 * (CF `scale_factor`/`add_offset`) the same way; a variable the schema has
 * and the file lacks is allowed.
 *
 * @throws SchemaError listing the variables not in the schema, or naming a
 *   variable whose dimensions, packing or values do not fit (lossy cast, size).
 */
export function conform(ds: Dataset, schema: DatasetSchema): Dataset {
  const vars = ds.allVariables();
  const unknown = [...vars.keys()].filter((p) => !schema.hasVariable(p));
  if (unknown.length > 0) {
    const shown =
      unknown.slice(0, 10).join(", ") + (unknown.length > 10 ? ` ... (${unknown.length - 10} more)` : "");
    throw new SchemaError(
      `${unknown.length} variable(s) not in the collection schema: ${shown}`,
      unknown.length === 1 ? { variable: unknown[0] as string } : {},
    );
  }
  const arrays = new Map<string, NDArray>();
  for (const [path, v] of vars) {
    const vs = schema.getVariable(path);
    if (vs.dimensions.join(",") !== v.dimensions.join(",")) {
      throw new SchemaError(
        `variable '${path}' has dimensions (${v.dimensions.join(", ")}) but the collection declares (${vs.dimensions.join(", ")})`,
        { variable: path },
      );
    }
    checkPacking(path, v.dtype, v.schema.attrs, schema);
    if (v.data !== null) arrays.set(path, v.data as NDArray);
  }
  return Dataset.fromArrays(schema, arrays, { attrs: ds.attrs });
}

/** Reads one product as the options say. */
async function readProduct(file: string, opts: IngestOptions, signal?: AbortSignal) {
  const { openNetCDF } = await import("../netcdf/index.js");
  const o: OpenNetCDFOptions = {};
  if (opts.group !== undefined) o.group = opts.group;
  if (opts.variables !== undefined) o.variables = opts.variables;
  if (opts.excludeDimensions !== undefined) o.excludeDimensions = opts.excludeDimensions;
  if (opts.axis !== undefined) o.axis = opts.axis;
  if (opts.keepPacked === true) o.keepPacked = true;
  if (signal !== undefined) o.signal = signal;
  return openNetCDF(file, o);
}

/**
 * Reads one file with its key variables; for an existing collection (or
 * the first file's settings) the axis must match.
 */
export async function prepare(
  file: string,
  opts: IngestOptions,
  known: { axis?: string; partitioning?: Partitioning },
  signal?: AbortSignal,
): Promise<{ dataset: Dataset; schema: DatasetSchema; axis: string }> {
  const opened = await readProduct(file, opts, signal);
  if (known.axis !== undefined && opened.axis !== known.axis) {
    throw new SchemaError(
      `the partition axis of the file is '${opened.axis}' but the collection's is '${known.axis}' (choose it with --axis)`,
      { dimension: opened.axis },
    );
  }
  const p = known.partitioning;
  const keys =
    p !== undefined
      ? p.name === "date"
        ? []
        : [...p.axis]
      : opts.key === "cycle"
        ? ["cycle_number"]
        : opts.key === "cycle_pass"
          ? ["cycle_number", "pass_number"]
          : [];
  const { dataset, schema } = withKeyVariables(opened.dataset, opened.schema, opened.axis, keys);
  // The partitions record their products (merges keep the attributes all products agree on).
  return { dataset: withSourceProduct(dataset, basename(file)), schema, axis: opened.axis };
}
