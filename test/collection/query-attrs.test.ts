/**
 * Root attributes of partitions fed by several products and of query
 * results spanning partitions (../../src/data/product-attrs.ts), and char
 * flags per row through a collection: real products only — the Argo float
 * 6901744 (test/fixtures/argo) and the two consecutive MetOp-A ASCAT orbits
 * of examples/data, ingested with the CLI's `ingest` in this process (the
 * partition writes in process, and on the in-process executor: the
 * `ingest.partition` task handler).
 */

import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type IngestOptions, ingest } from "../../src/cli/ingest.js";
import { openCollection } from "../../src/collection/index.js";
import type { Dataset } from "../../src/data/index.js";
import { combineProductAttrs, SOURCE_PRODUCTS_ATTR } from "../../src/data/product-attrs.js";
import { formatDatetime64 } from "../../src/dtype.js";
import * as merge from "../../src/merge/index.js";
import { inspectNetCDF } from "../../src/netcdf/index.js";
import { captureIO, tempDir } from "../cli/helpers.js";
import { timeDataset, timeSchema } from "../helpers/collection-fixtures.js";

const ARGO = "test/fixtures/argo/6901744_prof.nc";
const ASCAT = [
  "ascat_20150702_084200_metopa_45145_eps_o_250_2300_ovw.l2.nc",
  "ascat_20150702_102400_metopa_45146_eps_o_250_2300_ovw.l2.nc",
];
const ascat = (i: number) => join("examples/data", ASCAT[i] as string);
/** The global attributes on which the two ASCAT orbits differ. */
const ASCAT_DIFFERENT = [
  "granule_name",
  "orbit_number",
  "start_time",
  "stop_time",
  "equator_crossing_longitude",
  "equator_crossing_time",
  "creation_time",
];

let root: { dir: string; cleanup: () => Promise<void> };
before(async () => {
  root = await tempDir("zc-query-attrs-");
});
after(async () => {
  await root.cleanup();
});

async function run(target: string, files: readonly string[], opts: IngestOptions): Promise<void> {
  const io = await captureIO();
  const code = await ingest(target, files, opts, io);
  assert.equal(code, 0, io.stderr.text);
}

describe("combineProductAttrs", () => {
  it("keeps the attributes every side holds with the same value and unites the product lists", () => {
    const a = {
      title: "t",
      orbit_number: 45145,
      levels: [1, 2],
      ratio: Number.NaN,
      only_a: 1,
      _zc_partition_key: [["day", 2]],
      source_products: ["a.nc"],
    };
    const b = {
      source_products: ["b.nc", "a.nc"],
      levels: [1, 2],
      ratio: Number.NaN,
      orbit_number: 45146,
      title: "t",
    };
    assert.deepEqual(combineProductAttrs(a, b), {
      title: "t",
      levels: [1, 2],
      ratio: Number.NaN,
      source_products: ["a.nc", "b.nc"],
    });
    assert.deepEqual(combineProductAttrs(a, b, { ...b, title: "u", source_products: ["c.nc"] }), {
      levels: [1, 2],
      ratio: Number.NaN,
      source_products: ["a.nc", "b.nc", "c.nc"],
    });
    // A side whose products are unknown: no list at all.
    assert.deepEqual(combineProductAttrs(a, { title: "t" }), { title: "t" });
    assert.deepEqual(combineProductAttrs(a), {
      title: "t",
      orbit_number: 45145,
      levels: [1, 2],
      ratio: Number.NaN,
      only_a: 1,
      source_products: ["a.nc"],
    });
    assert.deepEqual(combineProductAttrs(), {});
  });

  it("is what concat, time_series and upsert give their result; replace keeps the inserted attributes", () => {
    const schema = timeSchema("int64");
    const withAttrs = (ds: Dataset, attrs: Record<string, unknown>) => {
      ds.updateAttributes(attrs);
      return ds;
    };
    const existing = withAttrs(timeDataset(schema, [1, 2], [1, 2]), {
      orbit: 1,
      title: "t",
      _zc_partition_key: [["p", 0]],
      [SOURCE_PRODUCTS_ATTR]: ["one.nc"],
    });
    const inserted = withAttrs(timeDataset(schema, [2, 3], [5, 6]), {
      orbit: 2,
      title: "t",
      [SOURCE_PRODUCTS_ATTR]: ["two.nc"],
    });
    const opts = { axis: "time", partitioningDim: "time" };
    for (const fn of [merge.concat, merge.timeSeries, merge.upsert]) {
      assert.deepEqual(fn(existing, inserted, opts).attrs, {
        title: "t",
        source_products: ["one.nc", "two.nc"],
      });
    }
    assert.deepEqual(merge.replace(existing, inserted, opts).attrs, inserted.attrs);
    assert.deepEqual(existing.attrs.orbit, 1, "the inputs are left as they were");
  });
});

describe("Argo 6901744 by month: char flags per profile, attributes of results", () => {
  let target: string;
  before(async () => {
    target = join(root.dir, "argo");
    await run(target, [ARGO], {
      key: "date",
      resolution: "M",
      time: "JULD",
      excludeDimensions: ["N_HISTORY"],
    });
  });

  it("stores DATA_MODE, DIRECTION and the profile QC flags per row, and reads them back", async () => {
    const col = await openCollection(target);
    assert.equal((await col.partitions()).length, 12);
    const all = await col.query();
    assert.ok(all);
    const text = (name: string) => (all.getVariable(name).array.toArray() as string[]).join("");
    assert.deepEqual(all.getVariable("DATA_MODE").dimensions, ["N_PROF"]);
    assert.equal(text("DATA_MODE"), "D".repeat(35));
    assert.equal(text("DIRECTION"), `D${"A".repeat(34)}`);
    assert.equal(text("PROFILE_PSAL_QC"), `${"A".repeat(25)}C${"A".repeat(9)}`);
    assert.equal(text("JULD_QC"), "1".repeat(35));
    assert.deepEqual(all.getVariable("PLATFORM_NUMBER").array.toArray(), Array(35).fill("6901744"));
    assert.deepEqual(all.getVariable("DATA_TYPE").array.toArray(), ["Argo profile"]);

    // Only the char variables without N_PROF are immutable.
    const immutables = (await readdir(join(target, "_immutable"))).filter((n) => n !== "zarr.json").sort();
    assert.deepEqual(immutables, [
      "DATA_TYPE",
      "DATE_CREATION",
      "DATE_UPDATE",
      "FORMAT_VERSION",
      "HANDBOOK_VERSION",
      "REFERENCE_DATE_TIME",
    ]);

    // One month: its own profiles' flags (2015-05 holds the descending and ascending profiles of cycle 1).
    const may = await col.query({ filters: "year == 2015 and month == 5" });
    assert.ok(may);
    assert.deepEqual(may.getVariable("DIRECTION").array.toArray(), ["D", "A"]);
    assert.deepEqual(may.getVariable("DATA_MODE").array.toArray(), ["D", "D"]);
    assert.deepEqual(
      (may.getVariable("JULD").array.toArray() as bigint[]).map((t) =>
        formatDatetime64(t, "ns").slice(0, 16),
      ),
      ["2015-05-26T05:55", "2015-05-28T05:35"],
    );
  });

  it("a query over several partitions carries no partition key; one partition keeps its own", async () => {
    const col = await openCollection(target);
    const globals = (await inspectNetCDF(ARGO)).attrs;
    const all = await col.query();
    assert.ok(all);
    assert.deepEqual(all.attrs, { ...globals, source_products: ["6901744_prof.nc"] });
    const twoMonths = await col.query({ filters: "year == 2015 and month >= 11" });
    assert.equal(twoMonths?.attrs._zc_partition_key, undefined);
    const june = await col.query({ filters: "year == 2015 and month == 6" });
    assert.deepEqual(june?.attrs, {
      ...globals,
      source_products: ["6901744_prof.nc"],
      _zc_partition_key: [
        ["year", 2015],
        ["month", 6],
      ],
    });
    const yielded: string[] = [];
    for await (const [path, ds] of col.iterate({ filters: "year == 2016 and month >= 3" })) {
      yielded.push(path);
      assert.deepEqual(ds.attrs._zc_partition_key, [
        ["year", 2016],
        ["month", path.endsWith("03") ? 3 : 4],
      ]);
    }
    assert.deepEqual(yielded, ["year=2016/month=03", "year=2016/month=04"]);
  });
});

describe("two ASCAT orbits in one day partition", () => {
  let expected: Record<string, unknown>;
  before(async () => {
    const first = (await inspectNetCDF(ascat(0))).attrs;
    const second = (await inspectNetCDF(ascat(1))).attrs;
    // The fixture's premise: the orbits differ exactly on these attributes.
    assert.deepEqual(
      Object.keys(first).filter((k) => JSON.stringify(first[k]) !== JSON.stringify(second[k])),
      ASCAT_DIFFERENT,
    );
    assert.equal(first.orbit_number, 45145);
    assert.equal(second.orbit_number, 45146);
    expected = Object.fromEntries(Object.entries(first).filter(([k]) => !ASCAT_DIFFERENT.includes(k)));
    expected.source_products = [...ASCAT];
    expected._zc_partition_key = [
      ["year", 2015],
      ["month", 7],
      ["day", 2],
    ];
  });

  /** The attributes of the single day partition, and its row count. */
  async function dayPartition(target: string) {
    const col = await openCollection(target);
    assert.deepEqual(await col.partitions(), ["year=2015/month=07/day=02"]);
    const ds = await col.query();
    assert.ok(ds);
    return { attrs: ds.attrs, rows: ds.getVariable("time").shape[0] };
  }

  it("one ingest of both files (time_series): neither orbit number, both products listed", async () => {
    const target = join(root.dir, "ascat-one-run");
    await run(target, [ascat(0), ascat(1)], { key: "date" });
    const { attrs, rows } = await dayPartition(target);
    assert.deepEqual(attrs, expected);
    assert.equal(attrs.orbit_number, undefined);
    assert.equal(rows, 3264);
    // The new collection's own attributes: what both products agree on, no product list, no key.
    const { source_products: _p, _zc_partition_key: _k, ...agreed } = expected;
    assert.deepEqual((await openCollection(target)).schema.attrs, agreed);
  });

  it("the second orbit inserted into the stored partition by a later ingest: the same", async () => {
    const target = join(root.dir, "ascat-two-runs");
    await run(target, [ascat(0)], { key: "date" });
    const before = await dayPartition(target);
    assert.equal(before.attrs.orbit_number, 45145);
    assert.deepEqual(before.attrs.source_products, [ASCAT[0]]);
    await run(target, [ascat(1)], { key: "date", merge: "concat" });
    assert.deepEqual((await dayPartition(target)).attrs, expected);
  });

  it("on an executor (ingest.partition tasks), in one run and into a stored partition", async () => {
    const oneRun = join(root.dir, "ascat-executor");
    await run(oneRun, [ascat(0), ascat(1)], { key: "date", executor: "in-process" });
    assert.deepEqual((await dayPartition(oneRun)).attrs, expected);
    const twoRuns = join(root.dir, "ascat-executor-stored");
    await run(twoRuns, [ascat(0)], { key: "date" });
    await run(twoRuns, [ascat(1)], { key: "date", executor: "in-process" });
    assert.deepEqual((await dayPartition(twoRuns)).attrs, expected);
  });

  it("with replace, the partition holds the last orbit alone, and its attributes", async () => {
    const target = join(root.dir, "ascat-replace");
    await run(target, [ascat(0), ascat(1)], { key: "date", merge: "replace" });
    const { attrs } = await dayPartition(target);
    assert.equal(attrs.orbit_number, 45146);
    assert.deepEqual(attrs.source_products, [ASCAT[1]]);
  });
});
