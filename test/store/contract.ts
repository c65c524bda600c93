/**
 * The behaviour every writable Store backend shares (docs/behaviour.md §13), run
 * over LocalStore, MemoryStore and ObjectStore by their test files.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ReadOnlyError, StoreError } from "../../src/errors.js";
import type { Store } from "../../src/store/store.js";

/** A fresh, empty store and a way to reopen its data read-only. */
export interface StoreFixture {
  store: Store;
  readOnly(): Promise<Store>;
  cleanup?(): Promise<void>;
  /** Whether the store reads into `ReadOptions.allocate`'s memory (others ignore it). */
  allocates?: boolean;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (...v: number[]): Uint8Array => new Uint8Array(v);
const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : dec.decode(b));

/** A collection-shaped tree, written key by key. */
const TREE = [
  "_catalog/state.json",
  "year=2023/month=12/zarr.json",
  "year=2024-old/x",
  "year=2024/month=01/time/c/0",
  "year=2024/month=01/zarr.json",
  "year=2024/month=10/zarr.json",
  "year=2024/zarr.json",
  "zarr.json",
];

async function writeTree(store: Store): Promise<void> {
  await Promise.all(TREE.map((k) => store.writeBytes(k, enc.encode(k))));
}

/** Registers the contract suite for one backend. */
export function storeContract(name: string, make: () => Promise<StoreFixture>): void {
  const withStore = (fn: (f: StoreFixture) => Promise<void>) => async () => {
    const f = await make();
    try {
      await fn(f);
    } finally {
      await f.cleanup?.();
    }
  };

  describe(`${name}: Store contract`, () => {
    it(
      "writes, reads back, overwrites, and keeps empty objects",
      withStore(async ({ store }) => {
        assert.equal(store.readOnly, false);
        assert.equal(store.transactional, false);
        const src = bytes(1, 2, 3, 4, 5);
        await store.writeBytes("a/b/c.bin", src);
        src[0] = 99; // the caller's buffer is not the stored object
        const got = await store.readBytes("a/b/c.bin");
        assert.deepEqual(got, bytes(1, 2, 3, 4, 5));
        assert.ok(got instanceof Uint8Array);
        got[1] = 77; // nor is what a read returns
        assert.deepEqual(await store.readBytes("a/b/c.bin"), bytes(1, 2, 3, 4, 5));
        await store.writeBytes("a/b/c.bin", bytes(9));
        assert.deepEqual(await store.readBytes("a/b/c.bin"), bytes(9));
        await store.writeBytes("empty", new Uint8Array(0));
        assert.deepEqual(await store.readBytes("empty"), new Uint8Array(0));
        assert.equal(await store.exists("empty"), true);
        // Leading/trailing slashes are tolerated.
        assert.deepEqual(await store.readBytes("/a/b/c.bin"), bytes(9));
      }),
    );

    it(
      "reads missing keys as undefined and deletes them without error",
      withStore(async ({ store }) => {
        await store.writeBytes("a/x", bytes(1));
        assert.equal(await store.readBytes("nope"), undefined);
        assert.equal(await store.readBytes("a/nope"), undefined);
        assert.equal(await store.readBytes("a"), undefined, "a prefix is not an object");
        assert.equal(await store.readBytes("a/x/deeper"), undefined, "below an object");
        assert.equal(await store.readRange("nope", { offset: 0, length: 4 }), undefined);
        assert.equal(await store.readRange("nope", { suffixLength: 4 }), undefined);
        assert.equal(await store.readRange("nope", { offset: 0, length: 0 }), undefined);
        assert.equal(await store.get("/nope"), undefined);
        await store.deleteKey("nope");
        await store.deleteKey("a/nope/deeper");
        assert.deepEqual(await store.readBytes("a/x"), bytes(1));
      }),
    );

    it(
      "reads into the caller's memory where it can, and the same bytes either way",
      withStore(async ({ store, allocates }) => {
        const data = Uint8Array.from({ length: 100 }, (_, i) => 255 - i);
        await store.writeBytes("alloc/obj", data);
        const arena = new Uint8Array(new SharedArrayBuffer(256));
        const sizes: number[] = [];
        const allocate = (n: number) => {
          sizes.push(n);
          return arena.subarray(16, 16 + n);
        };
        const whole = await store.readBytes("alloc/obj", { allocate });
        assert.deepEqual(whole === undefined ? undefined : Uint8Array.from(whole), data);
        const part = await store.readRange("alloc/obj", { offset: 10, length: 5 }, { allocate });
        assert.deepEqual(part === undefined ? undefined : Uint8Array.from(part), data.subarray(10, 15));
        assert.equal(await store.readBytes("alloc/nope", { allocate }), undefined);
        if (!allocates) return;
        assert.deepEqual(sizes, [100, 5], "called once per read of an existing object, with its size");
        assert.equal(whole?.buffer, arena.buffer);
        assert.equal(part?.byteOffset, 16);
        await assert.rejects(
          store.readBytes("alloc/obj", { allocate: (n) => new Uint8Array(n - 1) }),
          (err: Error) => err instanceof RangeError && err.message.includes("allocate(100)"),
        );
      }),
    );

    it(
      "reads byte ranges by offset/length and by suffix, clamped to the object",
      withStore(async ({ store }) => {
        const data = Uint8Array.from({ length: 100 }, (_, i) => i);
        await store.writeBytes("r/obj", data);
        const range = (r: Parameters<Store["readRange"]>[1]) => store.readRange("r/obj", r);
        assert.deepEqual(await range({ offset: 10, length: 5 }), bytes(10, 11, 12, 13, 14));
        assert.deepEqual(await range({ offset: 0, length: 1 }), bytes(0));
        assert.deepEqual(await range({ suffixLength: 3 }), bytes(97, 98, 99));
        assert.deepEqual(await range({ offset: 95, length: 10 }), bytes(95, 96, 97, 98, 99));
        assert.deepEqual(await range({ offset: 100, length: 5 }), new Uint8Array(0));
        assert.deepEqual(await range({ offset: 250, length: 5 }), new Uint8Array(0));
        assert.deepEqual(await range({ offset: 7, length: 0 }), new Uint8Array(0));
        assert.deepEqual(await range({ suffixLength: 0 }), new Uint8Array(0));
        assert.deepEqual(await range({ suffixLength: 1000 }), data);
        assert.deepEqual(await store.getRange("/r/obj", { offset: 50, length: 2 }), bytes(50, 51));
        await assert.rejects(range({ offset: -1, length: 2 }), StoreError);
        await assert.rejects(range({ offset: 1.5, length: 2 }), StoreError);
        await assert.rejects(range({ suffixLength: -3 }), /invalid byte range .* for 'r\/obj'/);
      }),
    );

    it(
      "exists for objects and for prefixes with objects below them",
      withStore(async ({ store }) => {
        await writeTree(store);
        assert.equal(await store.exists("zarr.json"), true);
        assert.equal(await store.exists("year=2024/month=01/zarr.json"), true);
        assert.equal(await store.exists("year=2024"), true);
        assert.equal(await store.exists("year=2024/month=01/time"), true);
        assert.equal(await store.exists("year=2024/"), true);
        assert.equal(await store.exists("year=202"), false, "a partial name is not a prefix");
        assert.equal(await store.exists("year=2024/month=0"), false);
        assert.equal(await store.exists("year=2025"), false);
        assert.equal(await store.exists("zarr.json/x"), false);
      }),
    );

    it(
      "lists immediate children, sub-prefixes and whole subtrees, sorted",
      withStore(async ({ store }) => {
        await writeTree(store);
        assert.deepEqual(await store.listPrefix(""), [
          "_catalog",
          "year=2023",
          "year=2024",
          "year=2024-old",
          "zarr.json",
        ]);
        assert.deepEqual(await store.listDir(""), ["_catalog", "year=2023", "year=2024", "year=2024-old"]);
        assert.deepEqual(await store.listPrefix("year=2024"), ["month=01", "month=10", "zarr.json"]);
        assert.deepEqual(await store.listPrefix("year=2024/"), ["month=01", "month=10", "zarr.json"]);
        assert.deepEqual(await store.listDir("year=2024"), ["month=01", "month=10"]);
        assert.deepEqual(await store.listDir("year=2024/month=01"), ["time"]);
        assert.deepEqual(await store.listPrefix("year=2024/month=01/time/c"), ["0"]);
        assert.deepEqual(await store.listDir("year=2024/month=01/time/c"), []);
        assert.deepEqual(await store.listPrefix("nope"), []);
        assert.deepEqual(await store.listDir("nope"), []);
        assert.deepEqual(await store.listPrefix("zarr.json"), [], "an object has no children");
        assert.deepEqual(await store.list(), [...TREE]);
        assert.deepEqual(await store.list(""), [...TREE]);
        assert.deepEqual(await store.list("year=2024"), [
          "year=2024/month=01/time/c/0",
          "year=2024/month=01/zarr.json",
          "year=2024/month=10/zarr.json",
          "year=2024/zarr.json",
        ]);
        assert.deepEqual(await store.list("year=2024/month=10"), ["year=2024/month=10/zarr.json"]);
        assert.deepEqual(await store.list("year=20"), []);
        assert.deepEqual(await store.list("nope"), []);
      }),
    );

    it(
      "deletes a subtree, a single object, and everything, leaving siblings with a longer name",
      withStore(async ({ store }) => {
        await writeTree(store);
        await store.deletePrefix("year=2024");
        assert.deepEqual(await store.list(), [
          "_catalog/state.json",
          "year=2023/month=12/zarr.json",
          "year=2024-old/x",
          "zarr.json",
        ]);
        assert.equal(await store.exists("year=2024"), false);
        assert.equal(await store.readBytes("year=2024/zarr.json"), undefined);
        await store.deletePrefix("zarr.json");
        assert.equal(await store.exists("zarr.json"), false);
        await store.deletePrefix("nope/deeper");
        await store.deleteKey("_catalog/state.json");
        assert.equal(await store.readBytes("_catalog/state.json"), undefined);
        assert.equal(text(await store.readBytes("year=2024-old/x")), "year=2024-old/x");
        await store.deletePrefix("");
        assert.deepEqual(await store.list(), []);
        assert.deepEqual(await store.listPrefix(""), []);
        assert.equal(await store.exists("year=2023"), false);
        // Still usable after being emptied.
        await store.writeBytes("again/k", bytes(4));
        assert.deepEqual(await store.list(), ["again/k"]);
      }),
    );

    it(
      "a read-only handle reads but refuses every mutation with ReadOnlyError naming the key",
      withStore(async (f) => {
        await f.store.writeBytes("cfg/_zcollection.json", enc.encode("{}"));
        const ro = await f.readOnly();
        assert.equal(ro.readOnly, true);
        assert.equal(text(await ro.readBytes("cfg/_zcollection.json")), "{}");
        assert.deepEqual(await ro.listPrefix("cfg"), ["_zcollection.json"]);
        const refused = (key: string) => (err: unknown) => {
          assert.ok(err instanceof ReadOnlyError, `expected ReadOnlyError, got ${String(err)}`);
          assert.equal(err.uri, ro.rootUri);
          assert.match(err.message, new RegExp(`'${key}'`));
          return true;
        };
        await assert.rejects(ro.writeBytes("new/key", bytes(1)), refused("new/key"));
        await assert.rejects(ro.set("/other/key", bytes(1)), refused("other/key"));
        await assert.rejects(ro.deleteKey("cfg/_zcollection.json"), refused("cfg/_zcollection.json"));
        await assert.rejects(ro.deletePrefix("cfg"), refused("cfg"));
        await assert.rejects(ro.delete("/cfg/_zcollection.json"), refused("cfg/_zcollection.json"));
        assert.equal(await f.store.exists("new/key"), false);
        assert.equal(text(await f.store.readBytes("cfg/_zcollection.json")), "{}");
        await ro.close();
      }),
    );

    it(
      "serves zarrita's absolute-key interface",
      withStore(async ({ store }) => {
        await store.set("/g/arr/zarr.json", enc.encode('{"zarr_format":3}'));
        assert.equal(text(await store.readBytes("g/arr/zarr.json")), '{"zarr_format":3}');
        assert.equal(text(await store.get("/g/arr/zarr.json")), '{"zarr_format":3}');
        await store.delete("/g/arr/zarr.json");
        assert.equal(await store.get("/g/arr/zarr.json"), undefined);
      }),
    );

    it(
      "refuses keys that escape the root or have empty segments",
      withStore(async ({ store }) => {
        for (const key of ["../x", "a/../../b", "a//b", "./a", "a\\b"]) {
          await assert.rejects(store.readBytes(key), StoreError, key);
          await assert.rejects(store.writeBytes(key, bytes(1)), StoreError, key);
        }
        await assert.rejects(store.writeBytes("", bytes(1)), StoreError);
        await assert.rejects(store.listPrefix("a/../.."), /invalid store key 'a\/\.\.\/\.\.'/);
      }),
    );

    it(
      "round-trips keys with spaces, '=', ',' and non-ASCII characters",
      withStore(async ({ store }) => {
        const key = "dir with space/é=1,2 (x).json";
        await store.writeBytes(key, enc.encode("ok"));
        assert.equal(text(await store.readBytes(key)), "ok");
        assert.deepEqual(await store.listPrefix(""), ["dir with space"]);
        assert.deepEqual(await store.listPrefix("dir with space"), ["é=1,2 (x).json"]);
        assert.deepEqual(await store.list(), [key]);
        assert.deepEqual(await store.readRange(key, { suffixLength: 1 }), enc.encode("k"));
      }),
    );

    it(
      "keeps one complete value under concurrent writes to one key",
      withStore(async ({ store }) => {
        const size = 1 << 16;
        await Promise.all(
          Array.from({ length: 8 }, (_, i) => store.writeBytes("hot/key", new Uint8Array(size).fill(i + 1))),
        );
        const got = await store.readBytes("hot/key");
        assert.ok(got !== undefined);
        assert.equal(got.length, size);
        const first = got[0] as number;
        assert.ok(first >= 1 && first <= 8);
        assert.ok(
          got.every((b) => b === first),
          "torn write",
        );
        assert.deepEqual(await store.list(), ["hot/key"]);
      }),
    );

    it(
      "honours an aborted signal and runs sessions as plain calls",
      withStore(async ({ store }) => {
        await store.writeBytes("k", bytes(1));
        const ctl = new AbortController();
        ctl.abort();
        await assert.rejects(store.readBytes("k", { signal: ctl.signal }), { name: "AbortError" });
        await assert.rejects(store.readRange("k", { offset: 0, length: 1 }, { signal: ctl.signal }), {
          name: "AbortError",
        });
        assert.equal(await store.session(async () => 42), 42);
        await assert.rejects(
          store.session(async () => {
            await store.writeBytes("in-session", bytes(2));
            throw new Error("boom");
          }),
          /boom/,
        );
        // Not transactional: the write made before the failure stays.
        assert.deepEqual(await store.readBytes("in-session"), bytes(2));
      }),
    );
  });
}
