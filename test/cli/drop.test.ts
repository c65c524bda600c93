/**
 * Dropping partitions removes the parent groups left empty
 * (`year=2011/zarr.json` once its last day is gone), from the command line
 * and in the library's drop path, on a local directory, in memory and on
 * Icechunk: never a group that still has a child, and after a crash at any
 * point of a drop, nothing but empty groups remains.
 */

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { run } from "../../src/cli/program.js";
import { createCollection, openCollection } from "../../src/collection/index.js";
import { removeEmptyGroups, restoreRefilledGroups } from "../../src/collection/mutations.js";
import { Dataset } from "../../src/data/index.js";
import { datetime64 } from "../../src/dtype.js";
import { decodeJson, encodeJson } from "../../src/json.js";
import { DatePartitioning } from "../../src/partitioning/index.js";
import { Schema } from "../../src/schema/index.js";
import { MemoryStore } from "../../src/store/memory.js";
import { openStore } from "../../src/store/open.js";
import type { Store } from "../../src/store/store.js";
import { Crash, DyingStore } from "../helpers/dying-store.js";
import { DATA_DIR } from "../netcdf/expected.js";
import { captureIO, tempDir } from "./helpers.js";

const CS = [
  "CS_OFFL_SIR_TDP_LI_ANTARC_20100718T001450_20100718T001611_01_02650_B001.nc",
  "CS_OFFL_SIR_TDP_LI_ANTARC_20100731T203419_20100731T203857_02_03271_C001.nc",
  "CS_OFFL_SIR_TDP_LI_GREENL_20111218T151752_20111218T151903_03_05253_C001.nc",
].map((f) => join(DATA_DIR, f));

const DAYS = ["year=2010/month=07/day=18", "year=2010/month=07/day=31", "year=2011/month=12/day=18"];

/** A collection partitioned by day holding one row on each of {@link DAYS}. */
async function dailyCollection(store: Store) {
  const schema = Schema()
    .withDimension("time", { chunks: 4 })
    .withVariable("time", { dtype: "datetime64[ns]", dimensions: ["time"] })
    .withVariable("v", { dtype: "float64", dimensions: ["time"] })
    .build();
  const col = await createCollection(store, {
    schema,
    axis: "time",
    partitioning: new DatePartitioning("time", { resolution: "D", dimension: "time" }),
  });
  const times = ["2010-07-18T01:00:00", "2010-07-31T02:00:00", "2011-12-18T03:00:00"];
  await col.insert(
    Dataset.fromArrays(col.schema, {
      time: new BigInt64Array(times.map((t) => datetime64(t, "ns"))),
      v: new Float64Array([1, 2, 3]),
    }),
  );
  return col;
}

/** Expires every operation record and lease: the crashed writer's time ran out, recovery may take over. */
async function expireEverything(store: Store): Promise<void> {
  for (const key of await store.list("_zc_meta")) {
    if (!key.endsWith(".lease") && !/_zc_meta\/journal\/[^/]+\.json$/.test(key)) continue;
    const bytes = await store.readBytes(key);
    if (bytes !== undefined) {
      await store.writeBytes(key, encodeJson({ ...(decodeJson(bytes) as object), expires: 0 }));
    }
  }
}

/** The group documents of `store` (partitions and their parents), sorted. */
async function groupDocuments(store: Store): Promise<string[]> {
  return (await store.list(""))
    .filter((k) => /^year=[^/]+(\/month=[^/]+(\/day=[^/]+)?)?\/zarr\.json$/.test(k))
    .sort();
}

let root: { dir: string; cleanup: () => Promise<void> };
before(async () => {
  root = await tempDir("zc-cli-drop-");
});
after(async () => {
  await root.cleanup();
});

describe("drop removes the parent groups left empty", () => {
  it("zcollection drop: the year and month groups go with their last day, not before, nor with a foreign file", async () => {
    const target = join(root.dir, "cryosat");
    const io = await captureIO();
    assert.equal(await run(["ingest", target, ...CS, "--key", "date", "--quiet"], io), 0, io.stderr.text);
    const doc = (group: string) => existsSync(join(target, group, "zarr.json"));
    const drop = async (filter: string) => {
      const d = await captureIO();
      assert.equal(await run(["drop", target, "--filter", filter, "-y", "--quiet"], d), 0, d.stderr.text);
      assert.equal(d.stdout.text, "dropped 1 partition(s)\n");
    };

    await drop("year == 2010 and day == 18");
    assert.deepEqual(
      ["year=2010/month=07/day=18", "year=2010/month=07", "year=2010"].map(doc),
      [false, true, true],
      "day=31 is still in July 2010",
    );
    await drop("year == 2011");
    assert.deepEqual(
      ["year=2011/month=12/day=18", "year=2011/month=12", "year=2011", "year=2010", ""].map(doc),
      [false, false, false, true, true],
    );
    // A group holding anything else than empty groups is kept.
    await writeFile(join(target, "year=2010", "month=07", "notes.txt"), "kept\n");
    await drop("year == 2010");
    assert.deepEqual(["year=2010/month=07/day=31", "year=2010/month=07", "year=2010"].map(doc), [
      false,
      true,
      true,
    ]);
    const ls = await captureIO();
    assert.equal(await run(["ls", target], ls), 0);
    assert.equal(ls.stdout.text, "");
  });

  it("in the library, on a store with conditional writes and on Icechunk (one commit)", async () => {
    const stores: Array<[string, Store]> = [
      ["memory", new MemoryStore()],
      ["icechunk", await openStore(`icechunk://${join(root.dir, "repo")}`)],
    ];
    for (const [kind, store] of stores) {
      const col = await dailyCollection(store);
      assert.deepEqual(await col.dropPartitions({ filters: "year == 2010 and day == 31" }), [DAYS[1]]);
      assert.deepEqual(await groupDocuments(store), [
        "year=2010/month=07/day=18/zarr.json",
        "year=2010/month=07/zarr.json",
        "year=2010/zarr.json",
        "year=2011/month=12/day=18/zarr.json",
        "year=2011/month=12/zarr.json",
        "year=2011/zarr.json",
      ]);
      assert.deepEqual(await col.dropPartitions({ filters: "year == 2011" }), [DAYS[2]]);
      assert.deepEqual(
        await groupDocuments(store),
        ["year=2010/month=07/day=18/zarr.json", "year=2010/month=07/zarr.json", "year=2010/zarr.json"],
        kind,
      );
      assert.deepEqual(await store.list("year=2011"), [], kind);
      assert.equal(await store.exists("zarr.json"), true, kind);
      assert.deepEqual(await col.partitions(), [DAYS[0]], kind);
    }
  });

  it("keeps a group with a child, and writes back a removed group that was filled meanwhile", async () => {
    const store = new MemoryStore();
    await dailyCollection(store);
    await store.writeBytes("year=2011/notes.txt", new TextEncoder().encode("kept"));
    const document = await store.readBytes("year=2011/month=12/zarr.json");
    for (const k of await store.list(DAYS[2])) await store.deleteKey(k);
    const removed = await removeEmptyGroups(store, [DAYS[2] as string]);
    assert.deepEqual(
      removed.map((g) => g.path),
      ["year=2011/month=12"],
    );
    assert.equal(await store.exists("year=2011/zarr.json"), true);
    // Another writer creates a partition in the removed month before the check.
    await store.writeBytes("year=2011/month=12/day=19/v/c/0", new Uint8Array([1]));
    await restoreRefilledGroups(store, removed);
    assert.deepEqual(await store.readBytes("year=2011/month=12/zarr.json"), document);
  });

  it("leaves nothing but empty groups after a crash at any point of a drop", async () => {
    let completed = false;
    for (let dieAt = 1; !completed && dieAt < 200; dieAt++) {
      const inner = new MemoryStore();
      await dailyCollection(inner);
      try {
        const col = await openCollection(new DyingStore(inner, dieAt), { mode: "rw" });
        await col.dropPartitions({ filters: "year == 2011" });
        completed = true;
      } catch (err) {
        if (!(err instanceof Crash)) throw err;
      }
      // Recovery (run when the collection is opened read-write) finishes the drop.
      await expireEverything(inner);
      const col = await openCollection(inner, { mode: "rw" });
      const partitions = await col.partitions();
      const dropped = partitions.length === 2;
      assert.deepEqual(partitions, dropped ? DAYS.slice(0, 2) : DAYS, `crash at ${dieAt}`);
      const stray = (await inner.list("year=2011")).filter(
        (k) => dropped && k !== "year=2011/zarr.json" && k !== "year=2011/month=12/zarr.json",
      );
      assert.deepEqual(stray, [], `crash at ${dieAt}: only empty groups remain of 2011`);
      if (completed) assert.deepEqual(await inner.list("year=2011"), []);
    }
    assert.ok(completed, "the drop completes once the store no longer dies");
  });
});
