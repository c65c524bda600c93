/**
 * Binding a dataset to a collection's schema before it is written.
 *
 * @module
 */

import type { Dataset } from "../data/dataset.js";
import { SchemaError } from "../errors.js";
import { castChecked, type NDArray } from "../ndarray.js";
import type { DatasetSchema, VariableSchema } from "../schema/index.js";
import { buildDataset } from "./partition-io.js";

/**
 * Re-wraps every variable of `ds` with `schema`'s, loading lazy data and
 * casting to the schema dtype (docs/behaviour.md §18 #3).
 *
 * Divergence from Python (which writes unknown root variables and drops
 * unknown nested ones): a variable that is not in the schema, or whose
 * dimensions differ from the schema's, is refused.
 *
 * @param where the collection's URL, for messages.
 * @throws SchemaError naming the variable: not in the schema, other
 *   dimensions, or a lossy cast.
 */
export async function bindToSchema(
  ds: Dataset,
  schema: DatasetSchema,
  where: string,
  signal?: AbortSignal,
): Promise<Dataset> {
  if (ds === null || typeof ds !== "object" || typeof (ds as Dataset).allVariables !== "function") {
    throw new SchemaError("expected a Dataset");
  }
  const arrays: Array<[string, VariableSchema, NDArray]> = [];
  for (const [path, v] of ds.allVariables()) {
    if (!schema.hasVariable(path)) {
      throw new SchemaError(`variable '${path}' is not in the schema of the collection at ${where}`, {
        variable: path,
      });
    }
    const vs = schema.getVariable(path);
    if (vs.dimensions.join(",") !== v.dimensions.join(",")) {
      throw new SchemaError(
        `variable '${path}' has dimensions (${v.dimensions.join(", ")}) but the collection declares (${vs.dimensions.join(", ")})`,
        { variable: path },
      );
    }
    const data = await v.toArray(signal ? { signal } : undefined);
    arrays.push([path, vs, castChecked(data, vs.dtype, path)]);
  }
  return buildDataset(schema, arrays, ds.attrs);
}
