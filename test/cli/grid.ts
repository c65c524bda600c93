/**
 * A small gridded collection in the layout of the CMEMS/DUACS products
 * (which are not bundled): `adt(time, latitude, longitude)` partitioned by
 * month, with the immutable coordinates `latitude(latitude)` and
 * `longitude(longitude)`, plus `n_obs(time)` (uint32) and an immutable
 * `mask(latitude, longitude)` (bool).
 */

import { createCollection } from "../../src/collection/index.js";
import { Dataset } from "../../src/data/index.js";
import { datetime64 } from "../../src/dtype.js";
import { NDArray } from "../../src/ndarray.js";
import { DatePartitioning } from "../../src/partitioning/index.js";
import { Schema } from "../../src/schema/index.js";

const times = ["2005-04-30T00:00:00", "2005-05-01T00:00:00", "2005-05-02T00:00:00"];
const latitude = [30.0625, 30.1875];
const longitude = [-5.9375, -5.8125, -5.6875];
const nObs = [1, 3_000_000_000, 7];
const mask = [true, false, true, false, true, true];
const cells = times.length * latitude.length * longitude.length;

/** The content of the grid, and where long row `r` falls in it. */
export const GRID = {
  /** ISO texts of the times (datetime64[s]): 2005-04-30 in month 4, the other two in month 5. */
  times,
  latitude,
  longitude,
  nObs,
  /** `mask[i * 3 + j]`. */
  mask,
  /** Number of grid cells (long rows). */
  cells,
  /** `adt` at (time t, latitude i, longitude j): (6t + 3i + j) / 4, NaN at the last cell. */
  adt(t: number, i: number, j: number): number {
    const flat = t * 6 + i * 3 + j;
    return flat === cells - 1 ? Number.NaN : flat / 4;
  },
  /** The indices of long row `r` (time, then latitude, then longitude). */
  at(r: number): { t: number; i: number; j: number } {
    return { t: Math.floor(r / 6), i: Math.floor(r / 3) % 2, j: r % 3 };
  },
};

/** Writes the grid at `path` (two partitions: month=04 and month=05). */
export async function makeGrid(path: string): Promise<void> {
  const schema = Schema()
    .withDimension("time", { chunks: 2 })
    .withDimension("latitude", { size: latitude.length })
    .withDimension("longitude", { size: longitude.length })
    .withVariable("time", { dtype: "datetime64[s]", dimensions: ["time"] })
    .withVariable("latitude", {
      dtype: "float32",
      dimensions: ["latitude"],
      attrs: { units: "degrees_north" },
    })
    .withVariable("longitude", {
      dtype: "float32",
      dimensions: ["longitude"],
      attrs: { units: "degrees_east" },
    })
    .withVariable("adt", {
      dtype: "float64",
      dimensions: ["time", "latitude", "longitude"],
      fillValue: Number.NaN,
      attrs: { units: "m" },
    })
    .withVariable("n_obs", { dtype: "uint32", dimensions: ["time"] })
    .withVariable("mask", { dtype: "bool", dimensions: ["latitude", "longitude"] })
    .build();
  const col = await createCollection(path, {
    schema,
    axis: "time",
    partitioning: new DatePartitioning("time", { resolution: "M" }),
  });
  await col.insert(
    Dataset.fromArrays(schema, {
      time: BigInt64Array.from(times, (t) => datetime64(t, "s")),
      latitude: Float32Array.from(latitude),
      longitude: Float32Array.from(longitude),
      adt: NDArray.from(
        Float64Array.from({ length: cells }, (_, r) => {
          const { t, i, j } = GRID.at(r);
          return GRID.adt(t, i, j);
        }),
        { shape: [times.length, latitude.length, longitude.length] },
      ),
      n_obs: Uint32Array.from(nObs),
      mask: NDArray.from(
        Uint8Array.from(mask, (m) => (m ? 1 : 0)),
        { shape: [latitude.length, longitude.length], dtype: "bool" },
      ),
    }),
  );
}
