/**
 * Listing from a large catalog (src/collection/listing.ts, `Collection.partitions`):
 * each path is checked in one pass, a filter of equalities is answered by
 * comparing values within the range of paths it can match, and the result
 * must be exactly what evaluating the filter on every decoded path gave.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Collection, createCollection } from "../../src/collection/index.js";
import { CatalogReader, fixedComponents } from "../../src/collection/listing.js";
import { Catalog, catalogLines, sortUnique } from "../../src/partitioning/catalog.js";
import {
  compileFilter,
  Date as DatePartitioning,
  type FilterInput,
  keyToDict,
  type Partitioning,
  Sequence,
  sortPaths,
} from "../../src/partitioning/index.js";
import { MemoryStore } from "../../src/store/memory.js";
import { captureWarnings, seqPartitioning, seqSchema, timeSchema } from "../helpers/collection-fixtures.js";

/**
 * What listing gave before: the filter evaluated on each decoded path, in
 * the catalog's order (string order: the first error raised is the same),
 * then the natural order.
 */
function reference(paths: readonly string[], filter: FilterInput, partitioning: Partitioning): string[] {
  const predicate = compileFilter(filter);
  return sortPaths(
    sortUnique(paths).filter((p) => predicate(keyToDict(partitioning.decode(p)))),
    partitioning,
  );
}

/** A daily collection whose catalog lists `paths` (nothing else is stored: listing only reads the catalog). */
async function dailyWithCatalog(paths: readonly string[]): Promise<Collection> {
  const store = new MemoryStore();
  const col = await createCollection(store, {
    schema: timeSchema(),
    axis: "time",
    partitioning: new DatePartitioning("time", { resolution: "D" }),
    catalogEnabled: true,
  });
  await new Catalog(store).write(paths);
  return col;
}

function day(d: number): string {
  const t = new Date(Date.UTC(1990, 0, 1 + d));
  const pad = (n: number, w: number) => String(n).padStart(w, "0");
  return `year=${pad(t.getUTCFullYear(), 4)}/month=${pad(t.getUTCMonth() + 1, 2)}/day=${pad(t.getUTCDate(), 2)}`;
}

/** 3 000 days from 1990 (several pieces of the checksum text), plus keys whose order is not the string order. */
const PATHS = [
  ...Array.from({ length: 3000 }, (_, d) => day(d)),
  "year=-001/month=01/day=01",
  "year=-010/month=12/day=31",
  "year=0999/month=02/day=15",
  "year=12345/month=02/day=15",
  "year=1990/month=13/day=99",
  "year=1990/month=123/day=15",
  "year=1990/month=02/day=-5",
];

const FILTERS: FilterInput[] = [
  null,
  undefined,
  "",
  "year == 1990",
  "year == 1990 and month == 2",
  "year == 1990 and month == 2 and day == 15",
  "year==1990 and month==2 and day==15",
  "day == 15 and month == 2 and year == 1990",
  "year == 1990 and day == 15",
  "month == 2",
  "day == 15",
  "year == 1990 and month == 123",
  "year == 1990 and month == 2 and day == -5",
  "year == -1",
  "year == -10 and month == 12",
  "year == 999 and month == 2",
  "year == 12345",
  "year == 1990 and year == 1991",
  "year == 1990 and year == 1990 and month == 3",
  "year == 2100",
  "year == 1990 and month == 2 and day == 30",
  "year == 1990 and month >= 11",
  "year == 1990 or year == 1991 and month == 1",
  "(year == 1990) and month == 2",
  "year == 1990 and month == 2,",
  "year == 1990 and not month == 2",
  "year == 1_990",
  "year == 0x7c6 and month == 2",
  "year == 1990.0 and month == 2",
  "year in (1990, 1991) and month == 2",
  (key) => key.year === 1991 && key.month === 7,
];

describe("listing from a catalog: equalities compared, anything else evaluated, the same paths", () => {
  it("lists what evaluating each filter on every decoded path lists, in natural order", async () => {
    const col = await dailyWithCatalog(PATHS);
    const p = col.partitioning;
    for (const filter of FILTERS) {
      const expected = reference(PATHS, filter, p);
      const { result, warnings } = await captureWarnings(() => col.partitions({ filters: filter }));
      assert.deepEqual(result, expected, String(filter));
      assert.deepEqual(warnings, [], String(filter));
    }
    assert.equal((await col.partitions({ filters: "year == 1990 and month == 2 and day == 15" })).length, 1);
    // February 1990, and the key with day -5.
    assert.equal((await col.partitions({ filters: "year == 1990 and month == 2" })).length, 29);
  });

  it("raises what the filter raises on the keys, as before", async () => {
    const col = await dailyWithCatalog(PATHS);
    for (const filter of [
      "year == 1990 and bogus == 1",
      "bogus == 1",
      "year == 1990 and month == 'a'",
      "year < 'a'",
    ]) {
      let expected: unknown;
      try {
        reference(PATHS, filter, col.partitioning);
      } catch (err) {
        expected = err;
      }
      assert.ok(expected instanceof Error, filter);
      await assert.rejects(col.partitions({ filters: filter }), (err: Error) => {
        assert.equal(err.constructor, (expected as Error).constructor);
        assert.equal(err.message, (expected as Error).message);
        return true;
      });
    }
    // A term naming something else than a key component is evaluated, not compared: false for other years.
    assert.deepEqual(await col.partitions({ filters: "year == 2100 and bogus == 1" }), []);
  });

  it("does not trust a catalog listing one path that is not a partition path: a warning, then a walk", async () => {
    for (const foreign of [
      "year=1990/month=2/day=15",
      "year=1990/month=02/day=015",
      "year=01990/month=02/day=15",
      "year=-0001/month=01/day=01",
      "year=1990/month=02",
      "year=1990/month=02/day=15/",
      "zzz",
    ]) {
      const col = await dailyWithCatalog([...PATHS, foreign]);
      const { result, warnings } = await captureWarnings(() => col.partitions({ filters: "year == 1990" }));
      assert.deepEqual(result, [], foreign); // the walk finds nothing: no partition is stored
      assert.equal(warnings.length, 1, foreign);
      assert.match(warnings[0] as string, /not a partition path of this collection's date partitioning/);
      assert.ok((warnings[0] as string).includes(`'${foreign}'`), foreign);
    }
  });

  it("checks the catalog again when it changes under an open collection", async () => {
    const col = await dailyWithCatalog(PATHS);
    assert.equal((await col.partitions({ filters: "year == 1990" })).length, 368);
    await new Catalog(col.store).write([...PATHS, "year=1990/month=1/day=1"]);
    const { result, warnings } = await captureWarnings(() => col.partitions({ filters: "year == 1990" }));
    assert.deepEqual(result, []);
    assert.equal(warnings.length, 1);
    await new Catalog(col.store).write(PATHS);
    assert.equal((await col.partitions({ filters: "year == 1990" })).length, 368);
  });

  it("reads the paths of a partitioning of its own with decode and encode, with the same results", async () => {
    class Own extends Sequence {
      override decode(path: string) {
        return super.decode(path);
      }
    }
    const partitioning = new Own(["num"], { dimension: "num" });
    const store = new MemoryStore();
    const col = await createCollection(store, {
      schema: seqSchema(),
      axis: "num",
      partitioning,
      catalogEnabled: true,
    });
    const paths = Array.from({ length: 1500 }, (_, i) => `num=${i - 20}`);
    await new Catalog(store).write(paths);
    for (const filter of [
      null,
      "num == 3",
      "num == -7",
      "num == 3 and num == 4",
      "num >= 1400",
      "bogus == 1",
    ]) {
      let expected: unknown;
      try {
        expected = reference(paths, filter, partitioning);
      } catch (err) {
        await assert.rejects(col.partitions({ filters: filter }), { message: (err as Error).message });
        continue;
      }
      assert.deepEqual(await col.partitions({ filters: filter }), expected, String(filter));
    }
    await new Catalog(store).write([...paths, "num=007"]);
    const { result, warnings } = await captureWarnings(() => col.partitions());
    assert.deepEqual(result, []);
    assert.equal(warnings.length, 1);
  });

  it("trusts values of 16 digits, which the one-expression check leaves to the exact one", async () => {
    const store = new MemoryStore();
    const col = await createCollection(store, {
      schema: seqSchema(),
      axis: "num",
      partitioning: seqPartitioning(),
      catalogEnabled: true,
    });
    const paths = ["num=1234567890123456", "num=-9007199254740991", "num=2", "num=10"];
    await new Catalog(store).write(paths);
    const { result, warnings } = await captureWarnings(() => col.partitions());
    assert.deepEqual(warnings, []);
    assert.deepEqual(result, ["num=-9007199254740991", "num=2", "num=10", "num=1234567890123456"]);
    assert.deepEqual(await col.partitions({ filters: "num == 1234567890123456" }), ["num=1234567890123456"]);
    assert.deepEqual(await col.partitions({ filters: "num == 10" }), ["num=10"]);
    await new Catalog(store).write([...paths, "num=9007199254740992"]);
    const beyond = await captureWarnings(() => col.partitions());
    assert.equal(beyond.warnings.length, 1);
  });
});

describe("CatalogReader.firstForeign", () => {
  it("finds the first path that is not a partition path, with or without the checksum text", () => {
    const reader = new CatalogReader(new DatePartitioning("time", { resolution: "D" }));
    const paths = sortUnique([...PATHS, "year=1990/month=1/day=01", "year=1990/month=01/day=1"]);
    assert.equal(reader.firstForeign(paths, catalogLines(paths)), "year=1990/month=01/day=1");
    assert.equal(reader.firstForeign(paths), "year=1990/month=01/day=1");
    const valid = sortUnique(PATHS);
    assert.equal(reader.firstForeign(valid, catalogLines(valid)), undefined);
  });

  it("does not read lines when a component name holds a newline (they would be ambiguous)", () => {
    const reader = new CatalogReader(new Sequence(["a\nb"], { dimension: "n" }));
    const paths = ["a", "b=1"]; // joined, the text of the one partition path "a\nb=1"
    assert.equal(reader.firstForeign(paths, catalogLines(paths)), "a");
    assert.equal(reader.firstForeign(["a\nb=1"], catalogLines(["a\nb=1"])), undefined);
  });
});

describe("fixedComponents", () => {
  const axis = ["year", "month", "day"];
  it("reads equalities joined by `and` on key components", () => {
    assert.deepEqual(
      fixedComponents("year == 1990 and month == 2", axis),
      new Map([
        [0, 1990],
        [1, 2],
      ]),
    );
    assert.deepEqual(fixedComponents("day==-5", axis), new Map([[2, -5]]));
    assert.deepEqual(fixedComponents("day == -0", axis), new Map([[2, 0]]));
    assert.equal(fixedComponents("year == 1990 and year == 1991", axis), null);
  });

  it("leaves every other filter to evaluation", () => {
    for (const filter of [
      null,
      undefined,
      "",
      "year == 1990 and bogus == 1",
      "year == 1990 or month == 2",
      "year >= 1990",
      "year == 01990",
      "year == 1_990",
      "year == 1990.0",
      "year == True",
      "(year == 1990)",
      "year == 1990,",
      "year == 1990 # comment",
      "year == 1990\tand month == 2",
      " year == 1990",
      "year == 1990 ",
      "year == 99999999999999999",
      "year == 'a'",
      () => true,
    ]) {
      assert.equal(fixedComponents(filter, axis), undefined, String(filter));
    }
    assert.equal(fixedComponents("None == 1", ["None"]), undefined);
    assert.equal(fixedComponents("and == 1", ["and"]), undefined);
  });
});
