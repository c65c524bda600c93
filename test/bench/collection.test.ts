import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { type BenchResult, monthlyTimes, runBench } from "../../src/bench/collection.js";
import { openCollection } from "../../src/collection/index.js";
import { formatDatetime64 } from "../../src/dtype.js";
import { shutdownCodecPool } from "../../src/zarr/compression/index.js";

after(() => shutdownCodecPool());

const SCENARIOS = [
  "insert_full_dataset",
  "open_collection_cold",
  "query_one_partition_full",
  "query_full",
  "query_full_fresh_process",
  "insert_replace_existing",
  "insert_upsert_existing",
  "machine_limit_insert",
  "machine_limit_query",
];

describe("monthlyTimes", () => {
  it("spreads the rows of each month evenly from its first second", () => {
    const t = monthlyTimes(3, 2);
    assert.deepEqual(
      Array.from(t, (v) => formatDatetime64(v, "s")),
      [
        "2024-01-01T00:00:00",
        "2024-01-16T12:00:00", // January: 31 days / 2
        "2024-02-01T00:00:00",
        "2024-02-15T12:00:00", // February 2024: 29 days / 2
        "2024-03-01T00:00:00",
        "2024-03-16T12:00:00",
      ],
    );
  });
});

describe("runBench", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("runs the six scenarios, then the two limits, and writes them as docs/format.md §12 JSON", async () => {
    const dir = await mkdtemp(join(tmpdir(), "zc-bench-test-"));
    dirs.push(dir);
    const store = join(dir, "col");
    const json = join(dir, "bench.json");
    const lines: string[] = [];
    const results = await runBench({
      store,
      partitions: 3,
      rows: 500,
      width: 6,
      limitMillis: 0,
      json,
      log: (l) => lines.push(l),
    });
    assert.deepEqual(
      results.map((r) => r.name),
      SCENARIOS,
    );
    const byName = new Map(results.map((r) => [r.name, r]));
    const get = (n: string) => byName.get(n) as BenchResult;
    const mb = (3 * 500 * (6 * 4 + 8)) / 1e6;
    for (const name of ["insert_full_dataset", "query_full"]) {
      const r = get(name);
      assert.ok(r.seconds > 0);
      assert.equal(r.extra.megabytes, mb);
      assert.equal(r.extra.MBps, mb / r.seconds);
      const limit = get(`machine_limit_${name.startsWith("insert") ? "insert" : "query"}`).extra.MBps;
      assert.equal(r.extra.limit_MBps, limit);
      assert.equal(r.extra.ratio_to_limit, mb / r.seconds / (limit as number));
    }
    assert.equal(get("query_one_partition_full").extra.rows, 500);
    assert.equal(get("query_full").extra.rows, 1500);
    assert.equal(get("insert_full_dataset").extra.partitions, 3);
    // Request counts of the timed calls only.
    const insert = get("insert_full_dataset").counts;
    // One listing of the write journal (recovery before the insert); one lease per partition
    // and the operation record, deleted when done (docs/safety.md).
    assert.equal(insert.list, 1);
    assert.equal(insert.delete, 3 + 1);
    assert.ok((insert.put as number) >= 3 * 5, "2 chunks, 2 arrays and 1 group per partition");
    assert.deepEqual(get("open_collection_cold").counts, { get: 1, put: 0, list: 0, delete: 0, exists: 0 });
    for (const name of ["query_one_partition_full", "query_full"]) {
      assert.equal(get(name).counts.put, 0);
      assert.equal(get(name).counts.delete, 0);
    }
    // Writes into stored partitions: staged then swapped in (renames count as PUTs), same partitions.
    for (const name of ["insert_replace_existing", "insert_upsert_existing"]) {
      assert.equal(get(name).extra.partitions, 3);
      assert.ok((get(name).counts.put as number) > (insert.put as number), name);
    }
    const upsert = get("insert_upsert_existing").extra;
    const both =
      1 /
      (1 / (get("machine_limit_insert").extra.MBps as number) +
        1 / (get("machine_limit_query").extra.MBps as number));
    assert.ok(Math.abs((upsert.limit_MBps as number) - both) < 1e-9 * both);
    assert.ok(
      (get("query_full").counts.get as number) > (get("query_one_partition_full").counts.get as number),
    );
    // The limits: computed from the better of two measurements of each component.
    const lim = get("machine_limit_insert").extra;
    const c = lim.compress_MBps as number;
    const w = lim.file_write_MBps as number;
    const ratio = lim.zstd_ratio as number;
    assert.ok(Math.abs((lim.MBps as number) - 1 / (1 / c + ratio / w)) < 1e-9 * (lim.MBps as number));
    assert.equal(get("machine_limit_insert").seconds, mb / (lim.MBps as number));
    // The JSON file holds the same figures, 2-space indented.
    const text = await readFile(json, "utf8");
    assert.deepEqual(JSON.parse(text), results);
    assert.ok(text.startsWith('[\n  {\n    "name": "insert_full_dataset",'));
    // The report names the scenarios and the limit definitions.
    assert.ok(lines.some((l) => l.includes("insert = 1/(1/compress + ratio/write)")));
    assert.ok(lines.some((l) => l.startsWith("query_full ")));
    // The same full query in a process of its own: same rows and requests, its peak memory.
    const fresh = get("query_full_fresh_process");
    assert.equal(fresh.extra.rows, 1500);
    assert.equal(fresh.counts.get, get("query_full").counts.get);
    assert.ok((fresh.extra.peak_growth_MB as number) >= 0);
    assert.ok((fresh.extra.result_MB as number) > 0);
    // The read targets, as PASS/FAIL lines: one GET per object of the partition (group, 2 arrays, 2 chunks).
    assert.ok(
      lines.some((l) => /^(PASS|FAIL) query_full \(own process\): [\d.]+x the machine limit/.test(l)),
    );
    assert.ok(lines.some((l) => /^(PASS|FAIL) query_full peak memory: /.test(l)));
    assert.ok(
      lines.includes(
        "PASS query_one_partition_full: 5 GETs for a partition of 5 objects (target: one GET each: group document, array documents, shards or chunks)",
      ),
    );
    // The collection stays in a store the caller named, with its partitions.
    assert.deepEqual(await (await openCollection(store)).partitions(), [
      "year=2024/month=01",
      "year=2024/month=02",
      "year=2024/month=03",
    ]);
  });

  it("refuses sizes and profiles it cannot run before doing anything", async () => {
    await assert.rejects(runBench({ partitions: 13 }), /partitions must be at most 12/);
    await assert.rejects(runBench({ rows: 0 }), /rows must be a positive integer; got 0/);
    await assert.rejects(runBench({ width: 2.5 }), /width must be a positive integer; got 2.5/);
    await assert.rejects(runBench({ profile: "fastest" }), /unknown codec profile 'fastest'/);
  });
});
