import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LatencyStore } from "../../src/store/latency.js";
import { MemoryStore } from "../../src/store/memory.js";

const ms = () => performance.now();

describe("LatencyStore", () => {
  it("makes each request last the latency, concurrent requests overlapping up to the concurrency", async () => {
    const store = new LatencyStore(new MemoryStore(), { latencyMs: 100, concurrency: 2 });
    await store.writeBytes("a", new Uint8Array(3));
    let t0 = ms();
    assert.deepEqual(await store.readBytes("a"), new Uint8Array(3));
    assert.ok(ms() - t0 >= 99, `one request took ${ms() - t0} ms`);
    // Four requests on two connections: two rounds of 100 ms (one after the other: 400 ms).
    store.reset();
    t0 = ms();
    await Promise.all([store.exists("a"), store.exists("b"), store.readBytes("a"), store.readBytes("b")]);
    const took = ms() - t0;
    assert.ok(took >= 198 && took < 390, `four requests on two connections took ${took} ms`);
    const s = store.stats;
    assert.equal(s.requests, 4);
    assert.equal(s.peakInFlight, 2);
    assert.equal(s.bytesRead, 3);
    assert.ok(s.queuedMs >= 190, `queued ${s.queuedMs} ms`);
    assert.ok(s.busyMs >= 4 * 99, `busy ${s.busyMs} ms`);
  });

  it("caps the bandwidth over all transfers and counts the bytes", async () => {
    // 50 kB/s: 5 kB take 100 ms on their own; two transfers of 5 kB share the link (200 ms).
    const store = new LatencyStore(new MemoryStore(), { latencyMs: 0, bandwidth: 50_000, concurrency: 8 });
    const data = new Uint8Array(5000).fill(7);
    let t0 = ms();
    await store.writeBytes("x", data);
    assert.ok(ms() - t0 >= 98, `5 kB at 50 kB/s took ${ms() - t0} ms`);
    t0 = ms();
    const [a, b] = await Promise.all([
      store.readBytes("x"),
      store.readRange("x", { offset: 0, length: 5000 }),
    ]);
    const took = ms() - t0;
    assert.equal(a?.length, 5000);
    assert.equal(b?.length, 5000);
    assert.ok(took >= 198 && took < 390, `two 5 kB reads sharing the link took ${took} ms`);
    assert.deepEqual(
      { requests: store.stats.requests, read: store.stats.bytesRead, written: store.stats.bytesWritten },
      { requests: 3, read: 10_000, written: 5000 },
    );
    assert.ok(Math.abs(store.idealSeconds(10, 50_000) - 1) < 1e-9);
  });

  it("charges one latency per listing page and forwards everything else", async () => {
    const inner = new MemoryStore();
    const store = new LatencyStore(inner, { latencyMs: 15, listPageSize: 2 });
    for (const k of ["p/a", "p/b", "p/c", "p/d", "p/e"]) await inner.writeBytes(k, new Uint8Array(1));
    store.reset();
    const t0 = ms();
    assert.deepEqual(await store.list("p"), ["p/a", "p/b", "p/c", "p/d", "p/e"]);
    assert.ok(ms() - t0 >= 44, `three pages took ${ms() - t0} ms`);
    assert.equal(store.stats.requests, 3);
    assert.equal(store.conditionalWrites, inner.conditionalWrites);
    assert.equal(store.readOnly, false);
    assert.equal(store.rootUri, inner.rootUri);
    const version = await store.writeConditional("v", new Uint8Array(2), null);
    assert.notEqual(version, undefined);
    assert.equal(await store.writeConditional("v", new Uint8Array(2), null), undefined);
    assert.equal((await store.readVersioned("v"))?.version, version);
    await store.deletePrefix("p");
    assert.deepEqual(await inner.list("p"), []);
    assert.equal(store.stats.requests, 7);
  });

  it("refuses invalid options and stops waiting when the signal aborts", async () => {
    const inner = new MemoryStore();
    assert.throws(() => new LatencyStore(inner, { latencyMs: -1 }), RangeError);
    assert.throws(() => new LatencyStore(inner, { bandwidth: 0 }), RangeError);
    assert.throws(() => new LatencyStore(inner, { concurrency: 0 }), RangeError);
    const store = new LatencyStore(inner, { latencyMs: 10_000 });
    const controller = new AbortController();
    const t0 = ms();
    const pending = store.readBytes("missing", { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("stop")), 20);
    await assert.rejects(pending, /stop/);
    assert.ok(ms() - t0 < 2000);
  });
});
