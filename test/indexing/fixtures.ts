/**
 * A small synthetic collection for the indexer tests, and helpers to look
 * at an index.
 */

import type * as arrow from "apache-arrow";
import { type Collection, createCollection } from "../../src/collection/index.js";
import { Dataset } from "../../src/data/index.js";
import type { Indexer } from "../../src/indexing/index.js";
import { Sequence } from "../../src/partitioning/index.js";
import { Schema } from "../../src/schema/index.js";

let seq = 0;
/**
 * A collection partitioned by `num` with uint16 `cycle`/`pass` and a float
 * `v` (row i has v = i):
 *
 * | num | cycle       | pass        |
 * | 0   | 1, 1, 1, 2  | 5, 5, 6, 6  |
 * | 1   | 2, 2        | 6, 6        |
 * | 2   | 3           | 1           |
 * | 10  | 1, 1        | 5, 5        |
 */
export async function sample(): Promise<Collection> {
  const schema = Schema()
    .withDimension("num", { chunks: 8 })
    .withVariable("num", { dtype: "int64", dimensions: ["num"] })
    .withVariable("cycle", { dtype: "uint16", dimensions: ["num"] })
    .withVariable("pass", { dtype: "uint16", dimensions: ["num"] })
    .withVariable("v", { dtype: "float64", dimensions: ["num"] })
    .build();
  const col = await createCollection(`memory://indexer-test-${seq++}`, {
    schema,
    axis: "num",
    partitioning: new Sequence(["num"], { dimension: "num" }),
  });
  await col.insert(
    Dataset.fromArrays(schema, {
      num: new BigInt64Array([0n, 0n, 0n, 0n, 1n, 1n, 2n, 10n, 10n]),
      cycle: new Uint16Array([1, 1, 1, 2, 2, 2, 3, 1, 1]),
      pass: new Uint16Array([5, 5, 6, 6, 6, 6, 1, 5, 5]),
      v: new Float64Array([0, 1, 2, 3, 4, 5, 6, 7, 8]),
    }),
  );
  return col;
}

/** The rows of an index as plain objects (bigints kept). */
export function rowsOf(index: Indexer): Array<Record<string, unknown>> {
  return index.table.toArray().map((r) => ({ ...(r.toJSON() as Record<string, unknown>) }));
}

export function fieldTypes(table: arrow.Table): string[] {
  return table.schema.fields.map((f) => `${f.name}:${String(f.type)}`);
}
