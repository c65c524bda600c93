// Deterministic data of the torture campaign, and the classifier that tells,
// for one stored partition, which complete state it holds (or that it is torn).
//
// One partition per day (Date partitioning, resolution D). A day has SLOTS
// time slots, one per second; a row's values are `version * 1e6 + slot * WIDTH + column`
// (exact in float32), so every value says which write it came from.
//
// Versions of a day's content:
//   A  the base: the even slots 0, 2, …, 2(ROWS-1), version 1
//   B  a replacement: the same slots, version 2
//   U  an upsert batch: the odd slots, plus the first ROWS/4 even slots again, version 3
//   M  = upsert(A, U): every slot; even slots below ROWS/2 and all odd slots from U
import { createCollection, Dataset, datetime64, NDArray, partitioning, Schema } from "../../dist/index.js";

export const WIDTH = 8;
export const VERSION = { A: 1, B: 2, U: 3 };

/** The collection schema (local-fast profile: many small chunk objects, many instants to kill at). */
export function schema() {
  return Schema()
    .withDimension("time", { chunks: 512 })
    .withDimension("x", { size: WIDTH, chunks: WIDTH })
    .withVariable("time", { dtype: "datetime64[ms]", dimensions: ["time"] })
    .withVariable("values", { dtype: "float32", dimensions: ["time", "x"], fillValue: Number.NaN })
    .build();
}

/** Creates an empty collection at `url`. */
export function create(url, { catalog = false } = {}) {
  return createCollection(url, {
    schema: schema(),
    axis: "time",
    partitioning: new partitioning.Date("time", { resolution: "D" }),
    catalogEnabled: catalog,
    overwrite: true,
  });
}

/** Midnight of day `d` (0-based from 2024-01-01), in ms. */
export function dayStart(d) {
  return datetime64("2024-01-01", "ms") + BigInt(d) * 86_400_000n;
}

/** The partition path of day `d`. */
export function dayPath(d) {
  const date = new Date(Date.UTC(2024, 0, 1 + d));
  const pad = (n) => String(n).padStart(2, "0");
  return `year=${date.getUTCFullYear()}/month=${pad(date.getUTCMonth() + 1)}/day=${pad(date.getUTCDate())}`;
}

/** Slots of version `v` of a day of `rows` rows. */
export function slotsOf(v, rows) {
  const out = [];
  if (v === "A" || v === "B") for (let r = 0; r < rows; r++) out.push(2 * r);
  else if (v === "U") {
    for (let r = 0; r < rows / 4; r++) out.push(2 * r);
    for (let r = 0; r < rows; r++) out.push(2 * r + 1);
    out.sort((a, b) => a - b);
  }
  return out;
}

/** The dataset of version `v` for `days` (an array of day numbers). */
export function dataset(v, days, rows) {
  const slots = slotsOf(v, rows);
  const n = days.length * slots.length;
  const time = new BigInt64Array(n);
  const values = new Float32Array(n * WIDTH);
  let i = 0;
  for (const d of days) {
    const t0 = dayStart(d);
    for (const s of slots) {
      time[i] = t0 + BigInt(s) * 1000n;
      for (let c = 0; c < WIDTH; c++) values[i * WIDTH + c] = VERSION[v] * 1e6 + s * WIDTH + c;
      i++;
    }
  }
  return Dataset.fromArrays(schema(), {
    time: NDArray.from(time, { dtype: "datetime64[ms]" }),
    values: NDArray.from(values, { shape: [n, WIDTH] }),
  });
}

/** Expected (slot → version) of a day in state `state` ("A", "B" or "M"). */
function expectedRows(state, rows) {
  const map = new Map();
  if (state === "A" || state === "B") for (const s of slotsOf(state, rows)) map.set(s, VERSION[state]);
  if (state === "M") {
    for (const s of slotsOf("A", rows)) map.set(s, VERSION.A);
    for (const s of slotsOf("U", rows)) map.set(s, VERSION.U);
  }
  return map;
}

/**
 * Which complete state a stored day holds: "A", "B" or "M" when its rows are
 * exactly that state's, else "torn".
 */
export function classify(d, ds, rows, candidates = ["A", "B", "M"]) {
  const time = ds.getVariable("time").array;
  const values = ds.getVariable("values").array;
  const t0 = dayStart(d);
  const n = time.shape[0];
  for (const state of candidates) {
    const want = expectedRows(state, rows);
    if (want.size !== n) continue;
    let ok = true;
    for (let i = 0; i < n && ok; i++) {
      const s = Number((time.data[i] - t0) / 1000n);
      const v = want.get(s);
      if (v === undefined) ok = false;
      for (let c = 0; c < WIDTH && ok; c++) {
        if (values.data[i * WIDTH + c] !== Math.fround(v * 1e6 + s * WIDTH + c)) ok = false;
      }
    }
    if (ok) return state;
  }
  return "torn";
}
