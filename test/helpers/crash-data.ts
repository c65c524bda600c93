/**
 * Deterministic data of the crash test: DAYS daily partitions of ROWS rows,
 * each row `WIDTH` float32 values `day * 1e6 + row * WIDTH + column`, so a
 * reader can check every value of any partition.
 */
import { Dataset } from "../../src/data/index.js";
import { datetime64 } from "../../src/dtype.js";
import { NDArray } from "../../src/ndarray.js";
import { type DatasetSchema, Schema } from "../../src/schema/index.js";

export const DAYS = 24;
export const ROWS = 20_000;
export const WIDTH = 32;

/** Schema: time (datetime64[ms], chunks 4096) and values (time, x) float32, local-fast (many chunk objects). */
export function crashSchema(): DatasetSchema {
  return Schema()
    .withDimension("time", { chunks: 4096 })
    .withDimension("x", { size: WIDTH, chunks: WIDTH })
    .withVariable("time", { dtype: "datetime64[ms]", dimensions: ["time"] })
    .withVariable("values", { dtype: "float32", dimensions: ["time", "x"], fillValue: Number.NaN })
    .build();
}

/** Expected value of (day, row, column). */
export function expected(day: number, row: number, column: number): number {
  return Math.fround(day * 1e6 + row * WIDTH + column);
}

/** First instant of day `day` (0-based from 2024-01-01), in ms. */
export function dayStart(day: number): bigint {
  return datetime64("2024-01-01", "ms") + BigInt(day) * 86_400_000n;
}

/** Every day's rows, day after day. */
export function crashDataset(): Dataset {
  const n = DAYS * ROWS;
  const time = new BigInt64Array(n);
  const values = new Float32Array(n * WIDTH);
  for (let d = 0; d < DAYS; d++) {
    const t0 = dayStart(d);
    for (let r = 0; r < ROWS; r++) {
      const i = d * ROWS + r;
      time[i] = t0 + BigInt(r) * 4000n;
      for (let c = 0; c < WIDTH; c++) values[i * WIDTH + c] = expected(d, r, c);
    }
  }
  return Dataset.fromArrays(crashSchema(), {
    time: NDArray.from(time, { dtype: "datetime64[ms]" }),
    values: NDArray.from(values, { shape: [n, WIDTH] }),
  });
}
