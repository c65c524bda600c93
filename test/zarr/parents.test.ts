import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CountingStore } from "../../src/store/counting.js";
import { MemoryStore } from "../../src/store/memory.js";
import { ensureParentGroups, writeGroup } from "../../src/zarr/index.js";

describe("concurrent writes of sibling nodes", () => {
  it("check and create a shared ancestor once", async () => {
    const store = new CountingStore(new MemoryStore());
    await Promise.all(
      Array.from({ length: 12 }, (_, i) => writeGroup(store, `year=2024/month=${i + 1}`, {})),
    );
    // Per group: one GET of its own document and its PUT; the ancestors `` and `year=2024` once each.
    assert.equal(store.counts.get, 12);
    assert.equal(store.counts.exists, 2);
    assert.equal(store.counts.put, 12 + 2);
    assert.deepEqual((await store.list("")).filter((k) => k.endsWith("zarr.json")).length, 14);
  });

  it("check again once the earlier creation has finished", async () => {
    const store = new CountingStore(new MemoryStore());
    await ensureParentGroups(store, "a/b");
    await ensureParentGroups(store, "a/c");
    assert.equal(store.counts.exists, 4, "'' and 'a', then '' and 'a' again");
    assert.equal(store.counts.put, 2);
  });

  it("share a failure with every caller waiting on it", async () => {
    const inner = new MemoryStore();
    await inner.writeBytes("x", new Uint8Array([1]));
    const store = new CountingStore(inner);
    const failing = new (class extends CountingStore {
      override async writeBytes(): Promise<void> {
        throw new Error("disk full");
      }
    })(store);
    const results = await Promise.allSettled([
      ensureParentGroups(failing, "p/q"),
      ensureParentGroups(failing, "p/r"),
    ]);
    assert.deepEqual(
      results.map((r) => r.status === "rejected" && String(r.reason)),
      ["Error: disk full", "Error: disk full"],
    );
    assert.equal(store.counts.exists, 2, "'' and 'p' checked once for both callers");
  });
});
