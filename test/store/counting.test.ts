import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ReadOnlyError } from "../../src/errors.js";
import { CountingStore } from "../../src/store/counting.js";
import { MemoryStore } from "../../src/store/memory.js";
import { Store } from "../../src/store/store.js";

const zeros = { get: 0, getRange: 0, put: 0, list: 0, delete: 0, exists: 0, bytesRead: 0, bytesWritten: 0 };

/** A transactional store double: records session messages and whether `close` ran. */
class FakeTransactional extends Store {
  readonly rootUri = "fake://tx";
  readonly readOnly = true;
  messages: (string | undefined)[] = [];
  closed = false;
  override get transactional(): boolean {
    return true;
  }
  override async session<T>(fn: () => Promise<T>, opts?: { message?: string }): Promise<T> {
    this.messages.push(opts?.message);
    return fn();
  }
  override async close(): Promise<void> {
    this.closed = true;
  }
  async readBytes(): Promise<Uint8Array | undefined> {
    return undefined;
  }
  async writeBytes(key: string): Promise<void> {
    this.assertWritable(key);
  }
  async deleteKey(): Promise<void> {}
  async exists(): Promise<boolean> {
    return false;
  }
  async listPrefix(): Promise<string[]> {
    return [];
  }
  async listDir(): Promise<string[]> {
    return [];
  }
  async list(): Promise<string[]> {
    return [];
  }
  async deletePrefix(): Promise<void> {}
}

describe("CountingStore", () => {
  it("counts each kind of call and the bytes moved", async () => {
    const inner = new MemoryStore();
    const probe = new CountingStore(inner);
    assert.deepEqual(probe.counts, zeros);
    await probe.writeBytes("a/zarr.json", new Uint8Array(10));
    await probe.set("/a/c/0", new Uint8Array(100));
    assert.equal((await probe.readBytes("a/zarr.json"))?.length, 10);
    assert.equal(await probe.get("/missing"), undefined);
    assert.equal((await probe.readRange("a/c/0", { offset: 90, length: 50 }))?.length, 10);
    assert.equal((await probe.getRange("/a/c/0", { suffixLength: 4 }))?.length, 4);
    assert.equal(await probe.exists("a"), true);
    assert.deepEqual(await probe.listPrefix("a"), ["c", "zarr.json"]);
    assert.deepEqual(await probe.listDir("a"), ["c"]);
    assert.deepEqual(await probe.list(), ["a/c/0", "a/zarr.json"]);
    await probe.deleteKey("a/zarr.json");
    await probe.delete("/nope");
    await probe.deletePrefix("a");
    assert.deepEqual(probe.counts, {
      get: 2,
      getRange: 2,
      put: 2,
      list: 3,
      delete: 3,
      exists: 1,
      bytesRead: 24,
      bytesWritten: 110,
    });
    assert.deepEqual(await inner.list(), [], "calls reach the inner store");
  });

  it("returns snapshots and resets to zero", async () => {
    const probe = new CountingStore(new MemoryStore());
    await probe.writeBytes("k", new Uint8Array(3));
    const snap = probe.counts;
    await probe.readBytes("k");
    assert.equal(snap.get, 0, "a snapshot does not move");
    assert.equal(probe.counts.get, 1);
    probe.reset();
    assert.deepEqual(probe.counts, zeros);
  });

  it("forwards identity, flags, sessions, close and refusals", async () => {
    const inner = new FakeTransactional();
    const probe = new CountingStore(inner);
    assert.equal(probe.rootUri, "fake://tx");
    assert.equal(String(probe), "fake://tx");
    assert.equal(probe.readOnly, true);
    assert.equal(probe.transactional, true);
    assert.equal(await probe.session(async () => "done", { message: "insert" }), "done");
    assert.deepEqual(inner.messages, ["insert"]);
    await assert.rejects(probe.writeBytes("x", new Uint8Array(2)), ReadOnlyError);
    assert.equal(probe.counts.put, 1, "failed calls are counted");
    await probe.close();
    assert.equal(inner.closed, true);
    const plain = new CountingStore(new MemoryStore({ readOnly: true }));
    assert.equal(plain.readOnly, true);
    assert.equal(plain.transactional, false);
  });
});
