/**
 * The two bundled Sentinel-6A passes (cycle 14, passes 191 and 192) as
 * datasets with uint16 `cycle_number`/`pass_number` variables taken from
 * their global attributes, and an hourly date-partitioned collection of
 * them (pass 192 straddles `hour=00` and `hour=01`).
 */

import { join } from "node:path";
import { type Collection, createCollection } from "../../src/collection/index.js";
import { Dataset } from "../../src/data/index.js";
import type { NDArray } from "../../src/ndarray.js";
import { openNetCDF } from "../../src/netcdf/index.js";
import { DatePartitioning } from "../../src/partitioning/index.js";
import { type DatasetSchema, SchemaBuilder } from "../../src/schema/index.js";
import { DATA_DIR } from "../netcdf/expected.js";

export const S6A = [
  "S6A_P4_2__HR_RED__NR_014_191_20210403T004056_20210403T005056_F00.nc",
  "S6A_P4_2__HR_RED__NR_014_192_20210403T005056_20210403T010056_F00.nc",
];
export const HOUR0 = "year=2021/month=04/day=03/hour=00";
export const HOUR1 = "year=2021/month=04/day=03/hour=01";

/** One product: a few variables of /data_01 plus uint16 cycle/pass numbers from the global attributes. */
export interface Product {
  dataset: Dataset;
  schema: DatasetSchema;
  cycle: number;
  pass: number;
  times: BigInt64Array;
}

export async function readProduct(file: string): Promise<Product> {
  const opened = await openNetCDF(join(DATA_DIR, file), {
    group: "/data_01",
    variables: ["time", "latitude", "longitude"],
  });
  const rows = opened.dataset.dimensions[opened.axis] as number;
  const cycle = Number(opened.dataset.attrs.cycle_number);
  const pass = Number(opened.dataset.attrs.pass_number);
  const schema = SchemaBuilder.from(opened.schema)
    .withVariable("cycle_number", { dtype: "uint16", dimensions: [opened.axis] })
    .withVariable("pass_number", { dtype: "uint16", dimensions: [opened.axis] })
    .build();
  const arrays: Record<string, NDArray | Uint16Array> = {
    cycle_number: new Uint16Array(rows).fill(cycle),
    pass_number: new Uint16Array(rows).fill(pass),
  };
  for (const [path, v] of opened.dataset.allVariables()) arrays[path] = v.array;
  const times = opened.dataset.getVariable("time").array.data as BigInt64Array;
  return { dataset: Dataset.fromArrays(schema, arrays), schema, cycle, pass, times };
}

/** An hourly date-partitioned collection at `url` holding `products`, inserted with `time_series`. */
export async function ingest(
  url: string,
  products: readonly Product[],
  storageOptions?: Record<string, unknown>,
): Promise<Collection> {
  const first = products[0] as Product;
  const col = await createCollection(url, {
    schema: first.schema,
    axis: "time",
    partitioning: new DatePartitioning("time", { resolution: "h" }),
    ...(storageOptions ? { storageOptions } : {}),
  });
  for (const p of products) await col.insert(p.dataset, { merge: "time_series" });
  return col;
}
