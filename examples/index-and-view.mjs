// Worked example on the bundled Sentinel-6A products: a day-partitioned collection, a Parquet index
// of its passes, reading one pass through the index, and a view adding a derived variable on top of
// the collection opened read-only. Run after `npm run build`:  node examples/index-and-view.mjs [dir]
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createCollection,
  Dataset,
  formatDatetime64,
  openCollection,
  partitioning,
  SchemaBuilder,
  VariableSchema,
} from "zcollection";
import { Indexer, runsOf } from "zcollection/indexing";
import { openNetCDF } from "zcollection/netcdf";
import { View } from "zcollection/view";

const data = join(dirname(fileURLToPath(import.meta.url)), "data");
const dir = resolve(process.argv[2] ?? mkdtempSync(join(tmpdir(), "zc-index-view-")));
const products = readdirSync(data)
  .filter((f) => f.startsWith("S6A_") && f.endsWith(".nc"))
  .sort();

// 1. Each product is one pass. Keep a few variables of /data_01 and record the cycle and pass
//    numbers (global attributes of the product) on every row, so that an index can find them.
async function readPass(file) {
  const opened = await openNetCDF(join(data, file), {
    group: "/data_01",
    variables: ["time", "latitude", "longitude", "altitude", "ku/range_ocean", "ku/ssha"],
  });
  const rows = opened.dataset.dimensions[opened.axis];
  const schema = SchemaBuilder.from(opened.schema)
    .withVariable("cycle_number", { dtype: "uint16", dimensions: [opened.axis] })
    .withVariable("pass_number", { dtype: "uint16", dimensions: [opened.axis] })
    .build();
  const arrays = {
    cycle_number: new Uint16Array(rows).fill(Number(opened.dataset.attrs.cycle_number)),
    pass_number: new Uint16Array(rows).fill(Number(opened.dataset.attrs.pass_number)),
  };
  for (const [path, v] of opened.dataset.allVariables()) arrays[path] = v.array;
  return { dataset: Dataset.fromArrays(schema, arrays), schema, axis: opened.axis, rows };
}

const passes = [];
for (const file of products) passes.push(await readPass(file));

// 2. One partition per day: both passes land in year=2021/month=04/day=03.
const url = `file://${join(dir, "s6a")}`;
const collection = await createCollection(url, {
  schema: passes[0].schema,
  axis: passes[0].axis,
  partitioning: new partitioning.Date("time", { resolution: "D" }),
  catalogEnabled: true,
});
for (const p of passes) await collection.insert(p.dataset, { merge: "time_series" });
console.log(`partitions: ${(await collection.partitions()).join(", ")}`);

// 3. The index: one row per run of equal (cycle_number, pass_number), written next to the collection.
const index = await Indexer.build(collection, { builder: runsOf(["cycle_number", "pass_number"]) });
const indexUrl = `${url}/_indices/passes.parquet`;
await index.write(indexUrl);
const reread = await Indexer.read(indexUrl);
console.log(`index: ${reread.numRows} rows, key columns ${reread.keyColumns.join(", ")}`);

// 4. One pass through the index: only the chunks holding its rows are read.
const rows = reread.lookup({ cycle_number: 14, pass_number: 192 });
for (const [partition, ranges] of rows) console.log(`pass 192: ${partition} rows ${JSON.stringify(ranges)}`);
const pass192 = await collection.query({ rows, variables: ["time", "pass_number", "ku/ssha"] });
const time = pass192.getVariable("time").array;
console.log(
  `pass 192: ${time.shape[0]} rows from ${formatDatetime64(time.get(0), "ns")} to ` +
    `${formatDatetime64(time.get(time.shape[0] - 1), "ns")}, passes ${[...new Set(pass192.getVariable("pass_number").array.data)].join(",")}`,
);

// 5. A view over the collection opened read-only: the surface height above the ellipsoid before any
//    geophysical correction (altitude - range), stored in the view's own directory. The collection's
//    files are not touched.
const digest = (root) => {
  const hash = createHash("sha256");
  for (const f of readdirSync(root, { recursive: true, withFileTypes: true }).sort((a, b) =>
    join(a.parentPath, a.name).localeCompare(join(b.parentPath, b.name)),
  )) {
    if (f.isFile()) hash.update(join(f.parentPath, f.name)).update(readFileSync(join(f.parentPath, f.name)));
  }
  return hash.digest("hex");
};
const before = digest(join(dir, "s6a"));
const base = await openCollection(url, { mode: "r" });
const view = await View.create(`file://${join(dir, "s6a-view")}`, {
  base,
  variables: [
    new VariableSchema("surface_height", {
      dtype: "float64",
      dimensions: [base.dimension],
      fillValue: Number.NaN,
      attrs: { units: "m", comment: "altitude - ku/range_ocean: surface height above the ellipsoid, uncorrected" },
    }),
  ],
});
const written = await view.update(
  (ds) => {
    const altitude = ds.getVariable("altitude").array.data;
    const range = ds.getVariable("ku/range_ocean").array.data;
    return { surface_height: altitude.map((a, i) => a - range[i]) };
  },
  { variables: ["altitude", "ku/range_ocean"] },
);
console.log(`view: wrote surface_height in ${written.join(", ")}`);

const pass191 = reread.lookup({ pass_number: 191 });
const heights = await view.query({ rows: pass191, variables: ["time", "altitude", "ku/range_ocean", "surface_height"] });
const a = heights.getVariable("altitude").array.data;
const r = heights.getVariable("ku/range_ocean").array.data;
const h = heights.getVariable("surface_height").array.data;
const valid = [...h.keys()].filter((i) => !Number.isNaN(h[i]));
const maxError = Math.max(...valid.map((i) => Math.abs(h[i] - (a[i] - r[i]))));
const mean = valid.reduce((sum, i) => sum + h[i], 0) / valid.length;
console.log(
  `view pass 191: ${h.length} rows, ${valid.length} with a surface height (mean ${mean.toFixed(3)} m), ` +
    `max |surface_height - (altitude - range)| = ${maxError}`,
);
console.log(`base unchanged: ${digest(join(dir, "s6a")) === before}`);
