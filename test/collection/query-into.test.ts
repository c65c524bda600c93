/**
 * A query decodes every partition straight into its rows of the result
 * (src/collection/read-into.ts): the result must equal the partitions read
 * one by one and concatenated, whatever the layout, and its along-axis
 * arrays must be single buffers, not copies.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createCollection } from "../../src/collection/index.js";
import * as config from "../../src/config.js";
import { Dataset } from "../../src/data/index.js";
import { concatRows } from "../../src/data/rows.js";
import * as merge from "../../src/merge/index.js";
import { NDArray } from "../../src/ndarray.js";
import * as partitioning from "../../src/partitioning/index.js";
import { Schema } from "../../src/schema/index.js";
import { MemoryStore } from "../../src/store/memory.js";

const DAY = 86_400n;
const WIDTH = 16;

const schema = Schema()
  .withDimension("time", { chunks: 4096 })
  .withDimension("x", { size: WIDTH, chunks: WIDTH })
  .withVariable("time", { dtype: "datetime64[s]", dimensions: ["time"] })
  .withVariable("ssh", { dtype: "float32", dimensions: ["time", "x"], fillValue: Number.NaN })
  .withVariable("flag", { dtype: "int16", dimensions: ["time"], fillValue: -1 })
  .withVariable("label", { dtype: "string", dimensions: ["time"] })
  .withVariable("x", { dtype: "float64", dimensions: ["x"] })
  .build();

/** `rows` rows on day `day` (from 2024-01-01), values derived from the day and the row. */
function day(dayIndex: number, rows: number, variables?: string[]): Dataset {
  const t0 = 1_704_067_200n + BigInt(dayIndex) * DAY;
  const time = new BigInt64Array(rows).map((_, i) => t0 + BigInt(i));
  const ssh = new Float32Array(rows * WIDTH).map((_, k) => dayIndex * 1000 + k / WIDTH + (k % WIDTH) / 100);
  const flag = new Int16Array(rows).map((_, i) => (dayIndex * 7 + i) % 300);
  const label = Array.from({ length: rows }, (_, i) => `d${dayIndex}r${i}`);
  const ds = Dataset.fromArrays(schema, {
    time: NDArray.from(time, { dtype: "datetime64[s]" }),
    ssh: NDArray.from(ssh, { shape: [rows, WIDTH] }),
    flag,
    label,
    x: new Float64Array(WIDTH).map((_, i) => i * 2.5),
  });
  return variables === undefined ? ds : ds.select(variables);
}

async function build(days: Array<[number, number]>) {
  const col = await createCollection(new MemoryStore(), {
    schema,
    axis: "time",
    partitioning: new partitioning.Date("time", { resolution: "D" }),
  });
  for (const [d, rows] of days) await col.insert(day(d, rows));
  return col;
}

/** The result as before: each partition read on its own, then concatenated (copies). */
async function oneByOne(col: Awaited<ReturnType<typeof build>>, opts: { variables?: string[] } = {}) {
  const parts: Dataset[] = [];
  for await (const [, ds] of col.iterate(opts)) parts.push(ds);
  return concatRows(parts, "time");
}

function values(ds: Dataset, name: string): unknown[] {
  return Array.from(ds.getVariable(name).array.data as ArrayLike<unknown>, (v) =>
    typeof v === "number" && Number.isNaN(v) ? "NaN" : v,
  );
}

describe("query straight into the result", () => {
  // 3 partitions, 30 000 rows × 16 float32 = 1.9 MB of ssh: large enough for the codec pool.
  const DAYS: Array<[number, number]> = [
    [0, 9000],
    [3, 12000],
    [1, 9000],
  ];

  for (const workers of [4, 1]) {
    it(`equals the partitions read one by one, in key order (codec.workers ${workers})`, async () => {
      await config.override({ "codec.workers": workers }, async () => {
        const col = await build(DAYS);
        const ds = await col.query();
        assert.ok(ds);
        const expected = await oneByOne(col);
        for (const name of ["time", "ssh", "flag", "label"]) {
          assert.deepEqual(values(ds, name), values(expected, name), name);
          assert.deepEqual(ds.getVariable(name).shape, expected.getVariable(name).shape, name);
        }
        assert.deepEqual(
          values(ds, "x"),
          Array.from({ length: WIDTH }, (_, i) => i * 2.5),
        );
        // Day 0, then day 1, then day 3: row 9 000 is the first of day 1.
        assert.equal((ds.getVariable("ssh").array.data as Float32Array)[9000 * WIDTH], 1000);
        assert.equal(ds.getVariable("label").array.data[9000], "d1r0");
        // Each numeric along-axis variable is one buffer exactly the result's size: no second copy.
        for (const name of ["time", "ssh", "flag"]) {
          const data = ds.getVariable(name).array.data as Float32Array;
          assert.equal(data.buffer.byteLength, data.byteLength, name);
          assert.equal(data.buffer instanceof SharedArrayBuffer, workers >= 2 && name === "ssh", name);
        }
      });
    });
  }

  it("fills a variable absent from one partition and still joins the others without a copy", async () => {
    await config.override({ "codec.workers": 2 }, async () => {
      const col = await build([
        [0, 8000],
        [1, 8000],
      ]);
      await col.insert(day(2, 6000, ["time", "ssh"]), { fillMissing: true, merge: merge.upsert });
      const ds = await col.query();
      assert.ok(ds);
      const flag = Array.from(ds.getVariable("flag").array.data as Int16Array);
      assert.equal(flag.length, 22000);
      assert.deepEqual(flag.slice(16000), new Array(6000).fill(-1));
      assert.deepEqual(values(ds, "ssh"), values(await oneByOne(col), "ssh"));
      const ssh = ds.getVariable("ssh").array.data as Float32Array;
      assert.equal(ssh.buffer.byteLength, ssh.byteLength);
      // Decoded in place by the codec workers, not copied by the concatenation.
      assert.ok(ssh.buffer instanceof SharedArrayBuffer);
    });
  });

  it("a selection of variables, one partition, and a filter read the same as before", async () => {
    const col = await build(DAYS);
    const some = await col.query({ variables: ["ssh"], filters: "day >= 2" });
    assert.ok(some);
    assert.deepEqual([...some.allVariables().keys()].sort(), ["ssh"]);
    assert.equal(some.getVariable("ssh").shape[0], 21000);
    const one = await col.query({ filters: "day == 4" });
    assert.ok(one);
    assert.equal((one.getVariable("ssh").array.data as Float32Array)[0], 3000);
    assert.equal(one.getVariable("time").shape[0], 12000);
  });

  it("a result in shared memory writes back: into another collection, and upserted over itself", async () => {
    await config.override({ "codec.workers": 2 }, async () => {
      const col = await build(DAYS);
      const ds = await col.query();
      assert.ok(ds);
      assert.ok((ds.getVariable("ssh").array.data as Float32Array).buffer instanceof SharedArrayBuffer);
      const copy = await createCollection(new MemoryStore(), {
        schema,
        axis: "time",
        partitioning: new partitioning.Date("time", { resolution: "D" }),
      });
      await copy.insert(ds);
      const back = await copy.query();
      assert.ok(back);
      for (const name of ["time", "ssh", "flag", "label"])
        assert.deepEqual(values(back, name), values(ds, name), name);
      // The source arrays are intact after the write (nothing was transferred away).
      assert.equal((ds.getVariable("ssh").array.data as Float32Array).length, 30000 * WIDTH);
      // Upserted over itself: read, merged with the shared-memory rows, written back unchanged.
      await col.insert(ds, { merge: merge.upsert });
      const again = await col.query();
      assert.ok(again);
      for (const name of ["time", "ssh", "flag", "label"])
        assert.deepEqual(values(again, name), values(ds, name), name);
    });
  });

  it("an aborted query rejects with the signal's reason", async () => {
    const col = await build(DAYS);
    const controller = new AbortController();
    const reason = new Error("stop here");
    const pending = col.query({
      signal: controller.signal,
      onProgress: () => controller.abort(reason),
    });
    await assert.rejects(pending, (err) => err === reason || (err as Error).name === "AbortError");
  });
});
