import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { override } from "../../src/config.js";
import {
  READ_BUDGET_PER_WORKER,
  readBudgetAdmits,
  readBudgetInUse,
  takeReadBudget,
} from "../../src/zarr/read-budget.js";

const MB = 1024 * 1024;
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("the read budget", () => {
  it("admits requests in order while they fit, and the next ones as bytes are given back", async () => {
    await override({ "codec.workers": 2 }, async () => {
      const capacity = 2 * READ_BUDGET_PER_WORKER;
      const order: string[] = [];
      const first = await takeReadBudget(capacity - 10 * MB);
      const second = takeReadBudget(20 * MB).then((r) => {
        order.push("second");
        return r;
      });
      const third = takeReadBudget(1 * MB).then((r) => {
        order.push("third");
        return r;
      });
      await tick();
      // The third would fit, but waits behind the second: first come, first served.
      assert.deepEqual(order, []);
      assert.equal(readBudgetAdmits(1), false);
      first.release();
      first.release(); // giving back twice gives back once
      const [r2, r3] = await Promise.all([second, third]);
      assert.deepEqual(order, ["second", "third"]);
      assert.equal(readBudgetInUse(), 21 * MB);
      r2.release();
      r3.release();
      assert.equal(readBudgetInUse(), 0);
    });
  });

  it("lets a request larger than the whole budget through alone", async () => {
    await override({ "codec.workers": 2 }, async () => {
      const huge = await takeReadBudget(10 * READ_BUDGET_PER_WORKER);
      assert.equal(readBudgetAdmits(1), false);
      let small = false;
      const next = takeReadBudget(MB).then((r) => {
        small = true;
        return r;
      });
      await tick();
      assert.equal(small, false);
      huge.resize(2 * READ_BUDGET_PER_WORKER); // what was fetched: the budget's size, still alone
      assert.equal(small, false);
      huge.release();
      (await next).release();
      assert.equal(readBudgetInUse(), 0);
    });
  });

  it("rejects a waiting request with the signal's reason and lets the next one in", async () => {
    await override({ "codec.workers": 2 }, async () => {
      const all = await takeReadBudget(2 * READ_BUDGET_PER_WORKER);
      const controller = new AbortController();
      const waiting = takeReadBudget(MB, controller.signal);
      const after = takeReadBudget(MB);
      const reason = new Error("stop");
      controller.abort(reason);
      await assert.rejects(waiting, (e) => e === reason);
      all.resize(2 * READ_BUDGET_PER_WORKER - MB); // a smaller fetch lets the 1 MB read in
      (await after).release();
      all.release();
      assert.equal(readBudgetInUse(), 0);
    });
  });
});
