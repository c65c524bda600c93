import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createLimiter, mapConcurrent } from "../../src/util/concurrency.js";

describe("mapConcurrent", () => {
  it("keeps the input order and never exceeds the limit", async () => {
    let active = 0;
    let peak = 0;
    const out = await mapConcurrent([5, 1, 4, 2, 3, 0], 3, async (v, i) => {
      active++;
      peak = Math.max(peak, active);
      await sleep(v * 2);
      active--;
      return `${i}:${v}`;
    });
    assert.deepEqual(out, ["0:5", "1:1", "2:4", "3:2", "4:3", "5:0"]);
    assert.equal(peak, 3);
  });

  it("rejects with the first error and starts nothing after it", async () => {
    const started: number[] = [];
    await assert.rejects(
      mapConcurrent([0, 1, 2, 3, 4, 5], 2, async (v) => {
        started.push(v);
        await sleep(1);
        if (v === 1) throw new Error("boom 1");
        return v;
      }),
      /boom 1/,
    );
    await sleep(10);
    assert.ok(started.length <= 3, `started ${started}`);
  });

  it("stops on an aborted signal", async () => {
    await assert.rejects(
      mapConcurrent([1, 2], 1, async (v) => v, AbortSignal.abort(new Error("halt"))),
      /halt/,
    );
    assert.deepEqual(await mapConcurrent([], 4, async (v) => v), []);
  });
});

describe("createLimiter", () => {
  it("shares one bound between producers, in call order", async () => {
    const limit = createLimiter(2);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    const task = (i: number) =>
      limit(async () => {
        active++;
        peak = Math.max(peak, active);
        order.push(i);
        await sleep(2);
        active--;
        return i;
      });
    const results = await Promise.all([0, 1, 2, 3, 4].map(task));
    assert.deepEqual(results, [0, 1, 2, 3, 4]);
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
    assert.equal(peak, 2);
    await assert.rejects(
      limit(async () => Promise.reject(new Error("x"))),
      /x/,
    );
    assert.equal(await limit(async () => 7), 7);
  });
});
