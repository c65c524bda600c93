/**
 * How a view's overlay variables meet its base's data: which side a
 * variable name is read from (docs/behaviour.md §11.5), merging one partition of
 * the base with its overlay, fill values where a partition has no overlay
 * yet, and checking what an update function returns.
 *
 * @module
 */

import { buildDataset } from "../collection/partition-io.js";
import type { Dataset } from "../data/dataset.js";
import { SchemaError } from "../errors.js";
import { type ArrayInput, castChecked, NDArray } from "../ndarray.js";
import type { DatasetSchema, VariableSchema } from "../schema/index.js";

/** Names asked of each side of a view; `undefined` = everything. */
export interface RoutedVariables {
  /** Passed to the base collection's reads. */
  readonly base: string[] | undefined;
  /** Overlay variable names. */
  readonly overlay: string[] | undefined;
}

/**
 * Splits the names a caller asked for between the base and the overlay
 * (docs/behaviour.md §11.5): overlay = wanted ∩ overlay names; base = (wanted ∩
 * base root names) ∪ (wanted − overlay names) — nested base paths
 * (`data_01/ku/sig0`) go to the base.
 *
 * @throws SchemaError when `wanted` is a single string (docs/behaviour.md §18 #10).
 */
export function routeVariables(
  overlayNames: readonly string[],
  wanted: Iterable<string> | undefined,
): RoutedVariables {
  if (wanted === undefined) return { base: undefined, overlay: undefined };
  if (typeof wanted === "string") {
    throw new SchemaError(`variables must be an array of names, not the string '${wanted}'`);
  }
  const names = [...new Set([...wanted].map((n) => n.replace(/^\/+/, "")))];
  const overlay = new Set(overlayNames);
  return {
    base: names.filter((n) => !overlay.has(n)).sort(),
    overlay: names.filter((n) => overlay.has(n)).sort(),
  };
}

/** Rows of `ds` along `dim`, or `undefined` when no variable spans it. */
export function rowsAlong(ds: Dataset, dim: string): number | undefined {
  for (const v of ds.allVariables().values()) {
    const axis = v.dimensions.indexOf(dim);
    if (axis >= 0 && v.data !== null) return v.data.shape[axis] as number;
  }
  return undefined;
}

/**
 * The shape a variable of `vs` has in a partition of `rows` rows: the
 * partitioning dimension is `rows`, the others come from the partition's
 * data or the schema's fixed sizes; `undefined` when a size is unknown.
 */
export function expectedShape(
  vs: VariableSchema,
  ds: Dataset,
  schema: DatasetSchema,
  dim: string,
  rows: number,
): number[] | undefined {
  const known = ds.dimensions;
  const fixed = schema.dimSizes;
  const shape: number[] = [];
  for (const d of vs.dimensions) {
    const n = d === dim ? rows : (known[d] ?? fixed[d] ?? undefined);
    if (n === undefined || n === null) return undefined;
    shape.push(n);
  }
  return shape;
}

/** Options of {@link mergeOverlay}. */
export interface MergeOverlayOptions {
  /** The schema of the merged dataset (the base's, plus the overlay variables at the root). */
  readonly schema: DatasetSchema;
  /** The partitioning dimension. */
  readonly dimension: string;
  /** Overlay variables wanted; those the partition lacks are filled with their fill value. */
  readonly wanted: readonly VariableSchema[];
  /** Base variable paths to leave out of the result (read only to count rows). */
  readonly drop?: ReadonlySet<string>;
}

/**
 * One partition of a view: every variable of the base partition (nested
 * groups included, docs/behaviour.md §18 #8) plus the overlay's. A wanted overlay
 * variable the partition has no data for is filled with its fill value
 * when its shape is known (docs/behaviour.md §18 #8; Python raises instead).
 */
export function mergeOverlay(
  base: Dataset,
  overlay: Dataset | undefined,
  opts: MergeOverlayOptions,
): Dataset {
  const arrays: Array<[string, VariableSchema, NDArray]> = [];
  const overlayVars = overlay?.allVariables() ?? new Map();
  for (const [path, v] of base.allVariables()) {
    if (v.data === null || opts.drop?.has(path) || overlayVars.has(path)) continue;
    arrays.push([path, v.schema, v.data as NDArray]);
  }
  const rows = rowsAlong(base, opts.dimension);
  for (const vs of opts.wanted) {
    const own = overlayVars.get(vs.name);
    if (own !== undefined && own.data !== null) {
      arrays.push([vs.name, vs, own.data as NDArray]);
      continue;
    }
    if (rows === undefined) continue;
    const shape = expectedShape(vs, base, opts.schema, opts.dimension, rows);
    if (shape === undefined) continue;
    arrays.push([
      vs.name,
      vs,
      NDArray.full(vs.dtype, shape, vs.fillValue as number | bigint | boolean | string | null),
    ]);
  }
  return buildDataset(opts.schema, arrays, base.attrs);
}

/** What an update function may return for one partition: overlay variable name → values. */
export type OverlayValues =
  | Readonly<Record<string, ArrayInput>>
  | ReadonlyMap<string, ArrayInput>
  | undefined
  | null;

/**
 * Checks what an update function returned for `partition` and casts it to
 * the overlay schema: every name must be an overlay variable, every array
 * must have the variable's shape in this partition (a flat array of the
 * right size is reshaped).
 *
 * @returns `[name, schema, array]` for each returned variable (empty when
 *   the function returned nothing).
 * @throws SchemaError naming the partition and the variable: an unknown
 *   name (Python ignores it, docs/behaviour.md §18 #8), a wrong shape, a lossy cast.
 */
export function checkOverlayValues(
  values: OverlayValues,
  partition: string,
  base: Dataset,
  viewSchema: DatasetSchema,
  dimension: string,
  viewUri: string,
): Array<[string, VariableSchema, NDArray]> {
  if (values === undefined || values === null) return [];
  if (typeof values !== "object" || Array.isArray(values) || ArrayBuffer.isView(values)) {
    throw new SchemaError(
      `the update function must return an object of overlay variables (partition '${partition}'), got ${
        Array.isArray(values) ? "an array" : typeof values
      }`,
    );
  }
  const entries: Array<[string, ArrayInput]> =
    values instanceof Map ? [...values] : Object.entries(values as Record<string, ArrayInput>);
  const rows = rowsAlong(base, dimension);
  const out: Array<[string, VariableSchema, NDArray]> = [];
  for (const [name, input] of entries) {
    if (!viewSchema.variables.has(name)) {
      throw new SchemaError(
        `the update function returned '${name}' for partition '${partition}', which is not a variable of the ` +
          `view at ${viewUri} (its variables: ${[...viewSchema.variables.keys()].join(", ")})`,
        { variable: name },
      );
    }
    const vs = viewSchema.variables.get(name) as VariableSchema;
    let array: NDArray;
    try {
      array = NDArray.from(input);
    } catch (err) {
      throw new SchemaError(
        `the update function returned for '${name}' (partition '${partition}') something that is not an array: ${
          (err as Error).message
        }`,
        { variable: name },
      );
    }
    const shape = rows === undefined ? undefined : expectedShape(vs, base, viewSchema, dimension, rows);
    if (shape !== undefined) {
      const size = shape.reduce((a, b) => a * b, 1);
      const same = array.shape.length === shape.length && array.shape.every((n, i) => n === shape[i]);
      if (!same) {
        if (array.ndim === 1 && array.size === size && shape.length > 1) array = array.reshape(shape);
        else {
          throw new SchemaError(
            `variable '${name}' returned for partition '${partition}' has shape [${array.shape.join(", ")}]; ` +
              `the partition needs [${shape.join(", ")}] (dimensions ${vs.dimensions.join(", ")})`,
            { variable: name },
          );
        }
      }
    } else if (array.ndim !== vs.dimensions.length) {
      throw new SchemaError(
        `variable '${name}' returned for partition '${partition}' has ${array.ndim} dimension(s); ` +
          `it is declared over (${vs.dimensions.join(", ")})`,
        { variable: name },
      );
    }
    out.push([name, vs, castChecked(array, vs.dtype, name)]);
  }
  return out;
}
