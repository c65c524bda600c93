import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StoreError } from "../../src/errors.js";
import { MemoryStore } from "../../src/store/memory.js";
import { openStore } from "../../src/store/open.js";
import { storeContract } from "./contract.js";

storeContract("MemoryStore", async () => {
  const store = new MemoryStore();
  return {
    store,
    readOnly: async () => new MemoryStore({ name: store.name, readOnly: true }),
    allocates: true,
  };
});

describe("MemoryStore", () => {
  it("shares the objects of a named store between handles and through openStore", async () => {
    const name = `shared-${Math.random().toString(16).slice(2)}`;
    const a = new MemoryStore({ name });
    assert.equal(a.rootUri, `memory://${name}`);
    await a.writeBytes("x/y", new Uint8Array([1, 2]));
    const b = await openStore(`memory://${name}`);
    assert.ok(b instanceof MemoryStore);
    assert.deepEqual(await b.readBytes("x/y"), new Uint8Array([1, 2]));
    await b.deleteKey("x/y");
    assert.equal(await a.exists("x"), false);
    const ro = await openStore(`memory://${name}/`, { readOnly: true });
    assert.equal(ro.readOnly, true);
    assert.equal(ro.rootUri, `memory://${name}`);
    await a.writeBytes("z", new Uint8Array([3]));
    assert.deepEqual(await ro.readBytes("z"), new Uint8Array([3]));
    assert.equal(MemoryStore.release(name), true);
    assert.equal(MemoryStore.release(name), false);
    assert.equal(await new MemoryStore({ name }).exists("z"), false, "a released name starts empty");
    MemoryStore.release(name);
  });

  it("gives a fresh unique store for memory:// and lets its URI reopen it while alive", async () => {
    const a = await openStore("memory://");
    const b = await openStore("memory://");
    assert.notEqual(a.rootUri, b.rootUri);
    assert.match(a.rootUri, /^memory:\/\/[0-9a-f]{16}$/);
    await a.writeBytes("k", new Uint8Array([7]));
    assert.equal(await b.exists("k"), false);
    const again = await openStore(a.rootUri);
    assert.deepEqual(await again.readBytes("k"), new Uint8Array([7]));
  });

  it("refuses invalid names", () => {
    assert.throws(() => new MemoryStore({ name: "" }), StoreError);
    assert.throws(() => new MemoryStore({ name: "a/b" }), /invalid memory store name 'a\/b'/);
  });

  it("lists a name that is both an object and a prefix once", async () => {
    const s = new MemoryStore();
    for (const k of ["a", "a-b", "a/x", "a/y/z", "a0"]) await s.writeBytes(k, new Uint8Array([1]));
    assert.deepEqual(await s.listPrefix(""), ["a", "a-b", "a0"]);
    assert.deepEqual(await s.listDir(""), ["a"]);
    assert.deepEqual(await s.listPrefix("a"), ["x", "y"]);
    assert.deepEqual(await s.listDir("a"), ["y"]);
    assert.deepEqual(await s.list("a"), ["a/x", "a/y/z"]);
    await s.deletePrefix("a");
    assert.deepEqual(await s.list(), ["a-b", "a0"]);
  });
});
