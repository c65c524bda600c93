/**
 * Assembling datasets from what partitions hold: variables missing from
 * some partitions, immutable variables attached, fill values for variables
 * an insert lacks, the root attributes of a result spanning partitions.
 *
 * @module
 */

import type { Dataset } from "../data/dataset.js";
import { combineProductAttrs, withRootAttrs } from "../data/product-attrs.js";
import { SchemaError } from "../errors.js";
import { NDArray } from "../ndarray.js";
import type { DatasetSchema, VariableSchema } from "../schema/index.js";
import { buildDataset, fillVariable } from "./partition-io.js";

/** Partitions lacking a variable that others hold get it filled with its fill value. */
export function padMissing(parts: Dataset[], schema: DatasetSchema, dim: string): Dataset[] {
  if (parts.length < 2) return parts;
  const union = new Map<string, NDArray>();
  for (const p of parts) {
    for (const [path, v] of p.allVariables())
      if (!union.has(path) && v.data !== null) union.set(path, v.data as NDArray);
  }
  return parts.map((p) => {
    const own = p.allVariables();
    const missing = [...union].filter(([path]) => !own.has(path));
    if (missing.length === 0) return p;
    const rows = rowCount(p, dim);
    const arrays: Array<[string, VariableSchema, NDArray]> = [...own]
      .filter(([, v]) => v.data !== null)
      .map(([path, v]) => [path, v.schema, v.data as NDArray]);
    for (const [path, like] of missing) {
      const vs = schema.getVariable(path);
      if (!vs.dimensions.includes(dim)) continue;
      arrays.push([path, vs, fillVariable(vs, like, dim, rows).data as NDArray]);
    }
    return buildDataset(schema, arrays, p.attrs);
  });
}

/** Rows of `ds` along `dim` (0 when no variable spans it). */
export function rowCount(ds: Dataset, dim: string): number {
  for (const v of ds.allVariables().values()) {
    const axis = v.dimensions.indexOf(dim);
    if (axis >= 0 && v.data !== null) return v.data.shape[axis] as number;
  }
  return 0;
}

/** `ds` with the immutable variables added (partition variables win on a name clash, docs/behaviour.md §8.5). */
export function attach(
  ds: Dataset,
  immutables: Array<[string, VariableSchema, NDArray]>,
  schema: DatasetSchema,
): Dataset {
  const arrays: Array<[string, VariableSchema, NDArray]> = [...immutables];
  for (const [path, v] of ds.allVariables()) {
    if (v.data === null) continue;
    const i = arrays.findIndex(([p]) => p === path);
    if (i >= 0) arrays.splice(i, 1);
    arrays.push([path, v.schema, v.data as NDArray]);
  }
  return buildDataset(schema, arrays, ds.attrs);
}

/**
 * `joined` (the concatenation of `parts`, partitions in order) with the
 * root attributes of a result spanning them: one partition → its own
 * attributes, `_zc_partition_key` included (`joined` returned as is);
 * several → only the attributes every partition holds with the same value,
 * their `source_products` lists united, and no `_zc_partition_key`
 * (`combineProductAttrs`, ../data/product-attrs.ts).
 *
 * Python returns the first partition's attributes (docs/behaviour.md §8.5 step 4),
 * so that a query over several months carries the first month's partition
 * key and the first product's orbit number.
 */
export function withPartsAttrs(joined: Dataset, parts: readonly Dataset[]): Dataset {
  if (parts.length < 2) return joined;
  return withRootAttrs(joined, combineProductAttrs(...parts.map((p) => p.attrs)));
}

/** A warning through `process.emitWarning` (`ZCollectionWarning`), or the console outside Node. */
export function emitWarning(message: string): void {
  const proc = (globalThis as { process?: { emitWarning?: (m: string, t?: string) => void } }).process;
  if (proc?.emitWarning) proc.emitWarning(message, "ZCollectionWarning");
  else console.warn(message);
}

/** `ds` with the `missing` variables added, full of their fill value (insert option `fillMissing`). */
export function withFillValues(
  ds: Dataset,
  missing: readonly string[],
  schema: DatasetSchema,
  dimension: string,
): Dataset {
  const rows = rowCount(ds, dimension);
  const sizes = schema.dimSizes;
  const arrays: Array<[string, VariableSchema, NDArray]> = [...ds.allVariables()]
    .filter(([, v]) => v.data !== null)
    .map(([p, v]) => [p.replace(/^\/+/, ""), v.schema, v.data as NDArray]);
  for (const path of missing) {
    const vs = schema.getVariable(path);
    const shape = vs.dimensions.map((d) => {
      if (d === dimension) return rows;
      const n = sizes[d];
      if (n === null || n === undefined) {
        throw new SchemaError(
          `cannot fill variable '${path}' with its fill value: dimension '${d}' has no fixed size in the schema`,
          { variable: path, dimension: d },
        );
      }
      return n;
    });
    arrays.push([
      path,
      vs,
      NDArray.full(vs.dtype, shape, vs.fillValue as number | bigint | boolean | string | null),
    ]);
  }
  return buildDataset(schema, arrays, ds.attrs);
}
