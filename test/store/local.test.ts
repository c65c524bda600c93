import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, open, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ReadOnlyError, StoreError } from "../../src/errors.js";
import { isTransientName, LocalStore } from "../../src/store/local.js";
import { openStore } from "../../src/store/open.js";
import { storeContract } from "./contract.js";

let scratch: string;
let n = 0;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), "zc-local-"));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});
const fresh = (): string => join(scratch, `s${n++}`);

/** Every file below `dir`, relative, found with the raw filesystem API. */
async function rawFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? e.path, e.name).slice(dir.length + 1))
    .sort();
}

storeContract("LocalStore", async () => {
  const root = fresh();
  return {
    store: new LocalStore(root),
    readOnly: async () => new LocalStore(root, { readOnly: true }),
    allocates: true,
  };
});

describe("LocalStore", () => {
  it("never creates anything when opened or read, only when written", async () => {
    const root = join(fresh(), "deep", "collection");
    const store = new LocalStore(root);
    const ro = await openStore(root, { readOnly: true });
    assert.equal(await store.readBytes("_zcollection.json"), undefined);
    assert.equal(await store.readRange("x", { suffixLength: 2 }), undefined);
    assert.equal(await store.exists(""), false);
    assert.deepEqual(await store.listPrefix(""), []);
    assert.deepEqual(await store.listDir(""), []);
    assert.deepEqual(await store.list(), []);
    await store.deletePrefix("year=2024");
    await store.deleteKey("zarr.json");
    await assert.rejects(ro.writeBytes("a", new Uint8Array(1)), ReadOnlyError);
    assert.equal(existsSync(root), false);
    await store.writeBytes("year=2024/month=01/zarr.json", new Uint8Array([1]));
    assert.equal(existsSync(join(root, "year=2024", "month=01", "zarr.json")), true);
    assert.equal(await store.exists(""), true);
  });

  it("writes atomically through a temporary sibling and leaves no temporary file", async () => {
    const root = fresh();
    const store = new LocalStore(root);
    await store.writeBytes("a/zarr.json", new Uint8Array([1]));
    await Promise.all(
      Array.from({ length: 16 }, (_, i) => store.writeBytes("a/c/0", new Uint8Array(4096).fill(i))),
    );
    await store.writeBytes("a/zarr.json", new Uint8Array([2]));
    assert.deepEqual(await rawFiles(root), ["a/c/0", "a/zarr.json"]);
  });

  it("removes its temporary file when the rename fails", async () => {
    const root = fresh();
    const store = new LocalStore(root);
    await mkdir(join(root, "k", "sub"), { recursive: true });
    await assert.rejects(store.writeBytes("k", new Uint8Array([1])), (err: unknown) => {
      assert.ok(err instanceof StoreError);
      assert.match(err.message, /cannot write 'k' in file:\/\//);
      return true;
    });
    assert.deepEqual(await readdir(root), ["k"]);
    await writeFile(join(root, "file"), "x");
    await assert.rejects(store.writeBytes("file/below", new Uint8Array([1])), /cannot write 'file\/below'/);
  });

  it("ignores *.tmp and *.partial files in listings", async () => {
    const root = fresh();
    const store = new LocalStore(root);
    await store.writeBytes("p/zarr.json", new Uint8Array([1]));
    await writeFile(join(root, "p", "zarr.json.tmp"), "x");
    await writeFile(join(root, "p", "zarr.json.0f3a9b2c4d5e6f70.tmp"), "x");
    await writeFile(join(root, "p", "zarr.9f1e2d3c4b5a69788796a5b4c3d2e1f0.partial"), "x");
    await writeFile(join(root, "_zcollection.json.tmp"), "x");
    assert.deepEqual(await store.listPrefix(""), ["p"]);
    assert.deepEqual(await store.listPrefix("p"), ["zarr.json"]);
    assert.deepEqual(await store.list(), ["p/zarr.json"]);
    assert.equal(isTransientName("0.ab12.partial"), true);
    assert.equal(isTransientName("zarr.json"), false);
  });

  it("reads ranges through a file handle, beyond what a whole-file read can load", async () => {
    const root = fresh();
    await mkdir(root, { recursive: true });
    // A sparse 3 GiB file: readFile refuses files over 2 GiB.
    const size = 3 * 2 ** 30;
    const fh = await open(join(root, "big"), "w");
    await fh.truncate(size);
    await fh.write(new Uint8Array([1, 2, 3, 4]), 0, 4, size - 4);
    await fh.write(new Uint8Array([9, 8]), 0, 2, 2 ** 31 + 10);
    await fh.close();
    const store = new LocalStore(root);
    assert.deepEqual(await store.readRange("big", { suffixLength: 4 }), new Uint8Array([1, 2, 3, 4]));
    assert.deepEqual(
      await store.readRange("big", { offset: 2 ** 31 + 9, length: 4 }),
      new Uint8Array([0, 9, 8, 0]),
    );
    assert.deepEqual(await store.readRange("big", { offset: size - 2, length: 100 }), new Uint8Array([3, 4]));
    await assert.rejects(store.readBytes("big"), StoreError);
  });

  it("treats directories as existing prefixes, not objects; lists symlinked directories", async () => {
    const root = fresh();
    const store = new LocalStore(root);
    await mkdir(join(root, "empty-dir"), { recursive: true });
    await store.writeBytes("real/zarr.json", new Uint8Array([1]));
    await symlink(join(root, "real"), join(root, "linked"));
    assert.equal(await store.exists("empty-dir"), true);
    assert.equal(await store.readBytes("empty-dir"), undefined);
    assert.equal(await store.readRange("empty-dir", { offset: 0, length: 1 }), undefined);
    await store.deleteKey("empty-dir"); // not an object: left alone
    assert.equal(existsSync(join(root, "empty-dir")), true);
    assert.deepEqual(await store.listDir(""), ["empty-dir", "linked", "real"]);
    assert.deepEqual(await store.listPrefix("linked"), ["zarr.json"]);
  });

  it("keeps the root directory when emptied with deletePrefix('')", async () => {
    const root = fresh();
    const store = new LocalStore(root);
    await store.writeBytes("a/b", new Uint8Array([1]));
    await store.writeBytes("c", new Uint8Array([1]));
    await store.deletePrefix("");
    assert.equal(existsSync(root), true);
    assert.deepEqual(await readdir(root), []);
  });

  it("names its root as file:// plus the path as given", async () => {
    assert.equal(new LocalStore("/data/c/").rootUri, "file:///data/c");
    assert.equal(new LocalStore("rel/dir").rootUri, "file://rel/dir");
    assert.equal(new LocalStore("/").rootUri, "file:///");
    assert.equal(String(new LocalStore("/x")), "file:///x");
    assert.throws(() => new LocalStore(""), StoreError);
  });

  it("opens file:// URLs with percent-decoded paths", async () => {
    const root = join(fresh(), "with space");
    const writer = new LocalStore(root);
    await writer.writeBytes("k", new Uint8Array([5]));
    const url = `file://${root.split("/").map(encodeURIComponent).join("/")}`;
    assert.match(url, /with%20space/);
    const store = await openStore(url, { readOnly: true });
    assert.ok(store instanceof LocalStore);
    assert.equal(store.root, root);
    assert.equal(store.readOnly, true);
    assert.deepEqual(await store.readBytes("k"), new Uint8Array([5]));
    const viaHost = await openStore(`file://ignored-host${root}`);
    assert.deepEqual(await viaHost.readBytes("k"), new Uint8Array([5]));
  });
});
