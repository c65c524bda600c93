import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createCollection } from "../../src/collection/index.js";
import { fixedComponents, walkPartitions } from "../../src/collection/listing.js";
import * as partitioning from "../../src/partitioning/index.js";
import { CountingStore } from "../../src/store/counting.js";
import { MemoryStore } from "../../src/store/memory.js";
import { timeDataset, timeSchema } from "../helpers/collection-fixtures.js";

const GROUP = new TextEncoder().encode('{"zarr_format":3,"node_type":"group","attributes":{}}');

/** A store holding the group documents of `paths` (published partitions) and `unpublished` directories. */
async function storeWith(paths: string[], unpublished: string[] = []): Promise<CountingStore> {
  const store = new MemoryStore();
  for (const p of paths) await store.writeBytes(`${p}/zarr.json`, GROUP);
  for (const p of unpublished) await store.writeBytes(`${p}/ssh/zarr.json`, GROUP);
  return new CountingStore(store);
}

const monthly = new partitioning.Date("time", { resolution: "M" });
const months = (year: number) =>
  Array.from({ length: 12 }, (_, m) => `year=${year}/month=${String(m + 1).padStart(2, "0")}`);

describe("walking the store with a filter fixing key components", () => {
  it("lists and checks only the directories that can match", async () => {
    const store = await storeWith([...months(2023), ...months(2024)], ["year=2024/month=13"]);
    const fixed = fixedComponents("year == 2024 and month == 3", monthly.axis);
    assert.deepEqual(
      fixed,
      new Map([
        [0, 2024],
        [1, 3],
      ]),
    );
    store.reset();
    assert.deepEqual(await walkPartitions(store, monthly, { fixed: fixed as Map<number, number> }), [
      "year=2024/month=03",
    ]);
    // The root and year=2024 listed; one partition checked (24 without the filter).
    assert.equal(store.counts.list, 2);
    assert.equal(store.counts.exists, 1);

    store.reset();
    const byYear = await walkPartitions(store, monthly, { fixed: new Map([[0, 2023]]) });
    assert.deepEqual(byYear, months(2023));
    assert.equal(store.counts.exists, 12);

    store.reset();
    const all = await walkPartitions(store, monthly);
    assert.equal(all.length, 24);
    assert.equal(store.counts.exists, 25);
  });

  it("keeps what it cannot tell apart, and lists nothing for a contradiction", async () => {
    const store = await storeWith(["year=2024/month=03", "year=2024/month=x", "year=02024/month=03"]);
    const walked = await walkPartitions(store, monthly, {
      fixed: new Map([
        [0, 2024],
        [1, 3],
      ]),
    });
    // `month=x` is not an integer: kept for the caller's filter to judge; `year=02024` is 2024 too.
    assert.deepEqual(walked, ["year=02024/month=03", "year=2024/month=03", "year=2024/month=x"]);
    store.reset();
    assert.equal(fixedComponents("year == 2024 and year == 2023", monthly.axis), null);
    assert.deepEqual(await walkPartitions(store, monthly, { fixed: null }), []);
    assert.equal(store.counts.list, 0);
  });
});

describe("Collection.partitions without a catalog", () => {
  it("walks only the directories a filter of equalities can match, with the same result", async () => {
    const store = new CountingStore(new MemoryStore());
    const col = await createCollection(store, {
      schema: timeSchema(),
      axis: "time",
      partitioning: new partitioning.Date("time", { resolution: "M" }),
    });
    await col.insert(
      timeDataset(
        col.schema,
        ["2023-02-10", "2023-03-05", "2024-03-01", "2024-03-20", "2024-07-04"],
        [1, 2, 3, 4, 5],
      ),
    );
    const cases: Array<[string, string[], number]> = [
      ["year == 2024 and month == 3", ["year=2024/month=03"], 1],
      ["month == 3", ["year=2023/month=03", "year=2024/month=03"], 2],
      ["year == 2023", ["year=2023/month=02", "year=2023/month=03"], 2],
      [
        "year == 2024 and month == 3 or year == 2023",
        ["year=2023/month=02", "year=2023/month=03", "year=2024/month=03"],
        4,
      ],
      ["year == 2025", [], 0],
    ];
    for (const [filters, expected, exists] of cases) {
      store.reset();
      assert.deepEqual(await col.partitions({ filters }), expected, filters);
      assert.equal(store.counts.exists, exists, filters);
    }
  });
});
