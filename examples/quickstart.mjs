// Worked example: build a schema, create a collection partitioned by month,
// insert two batches (the second one overlapping the first), query with a
// filter. Run after `npm run build`:  node examples/quickstart.mjs [url]
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createCollection,
  Dataset,
  datetime64,
  formatDatetime64,
  merge,
  NDArray,
  openCollection,
  partitioning,
  Schema,
} from "zcollection";

const url = process.argv[2] ?? `file://${mkdtempSync(join(tmpdir(), "zc-quickstart-"))}`;

// 1. A schema: an unbounded along-track axis `time` and a fixed cross-track `x_ac`.
const schema = Schema()
  .withDimension("time", { chunks: 4096 })
  .withDimension("x_ac", { size: 4, chunks: 4 })
  .withVariable("time", { dtype: "datetime64[s]", dimensions: ["time"] })
  .withVariable("ssh", {
    dtype: "float32",
    dimensions: ["time", "x_ac"],
    fillValue: Number.NaN,
    attrs: { units: "m", long_name: "sea surface height" },
  })
  .withVariable("x_ac", { dtype: "float64", dimensions: ["x_ac"], attrs: { units: "km" } })
  .withAttribute("title", "quickstart")
  .build();

// 2. One row every 6 hours from `start`, ssh = row index + column / 10.
function batch(start, rows) {
  const t0 = datetime64(start, "s");
  const time = new BigInt64Array(rows).map((_, i) => t0 + BigInt(i) * 21600n);
  const ssh = new Float32Array(rows * 4).map((_, k) => Math.floor(k / 4) + (k % 4) / 10);
  return Dataset.fromArrays(schema, {
    time: NDArray.from(time, { dtype: "datetime64[s]" }),
    ssh: NDArray.from(ssh, { shape: [rows, 4] }),
    x_ac: new Float64Array([-30, -10, 10, 30]),
  });
}

const collection = await createCollection(url, {
  schema,
  axis: "time",
  partitioning: new partitioning.Date("time", { resolution: "M" }),
  catalogEnabled: true,
  overwrite: true,
});
console.log("written:", await collection.insert(batch("2024-01-20", 200)));

// 3. A second acquisition overlapping March: upsert replaces rows at the same instants.
console.log("merged: ", await collection.insert(batch("2024-03-05", 120), { merge: merge.upsert }));

// 4. Reopen read-only, list and query with a filter on the partition keys.
const readOnly = await openCollection(url, { mode: "r" });
console.log("partitions:", await readOnly.partitions());
const march = await readOnly.query({ filters: "year == 2024 and month >= 3", variables: ["time", "ssh"] });
const time = march.getVariable("time").array;
console.log(String(march));
console.log(
  `rows ${time.shape[0]}, first ${formatDatetime64(time.get(0), "s")}, last ${formatDatetime64(time.get(-1), "s")}`,
);
// 2024-03-05T00:00 was row 176 of the first batch; the upsert replaced it by row 0 of the second.
const row = Array.from(time.data).indexOf(datetime64("2024-03-05", "s"));
console.log(`ssh at ${formatDatetime64(time.get(row), "s")}: ${march.getVariable("ssh").array.get(row, 1)}`);
