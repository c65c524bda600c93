import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isZCollectionError, StoreError } from "../../src/errors.js";
import {
  HttpStore,
  joinPath,
  LocalStore,
  MemoryStore,
  ObjectStore,
  openStore,
  parentPath,
  parseStoreUrl,
  relativePath,
} from "../../src/store/index.js";

let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), "zc-open-"));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe("parseStoreUrl", () => {
  it("classifies every supported form without I/O", () => {
    assert.deepEqual(parseStoreUrl("memory://"), { kind: "memory", name: undefined });
    assert.deepEqual(parseStoreUrl("memory://bench/"), { kind: "memory", name: "bench" });
    assert.deepEqual(parseStoreUrl("/data/c"), { kind: "local", path: "/data/c" });
    assert.deepEqual(parseStoreUrl("rel/dir"), { kind: "local", path: "rel/dir" });
    assert.deepEqual(parseStoreUrl("C:\\data\\c"), { kind: "local", path: "C:\\data\\c" });
    assert.deepEqual(parseStoreUrl("file:///data/my%20coll"), { kind: "local", path: "/data/my coll" });
    assert.deepEqual(parseStoreUrl("file://host/data/x"), { kind: "local", path: "/data/x" });
    assert.deepEqual(parseStoreUrl("FILE:///C:/data"), { kind: "local", path: "C:/data" });
    assert.deepEqual(parseStoreUrl("s3://bucket/p"), { kind: "s3", url: "s3://bucket/p" });
    assert.deepEqual(parseStoreUrl("https://h/x?t=1"), { kind: "http", url: "https://h/x?t=1" });
    assert.deepEqual(parseStoreUrl("http://h"), { kind: "http", url: "http://h" });
    assert.deepEqual(parseStoreUrl("icechunk:///data/repo"), { kind: "icechunk", path: "/data/repo" });
    assert.deepEqual(parseStoreUrl("icechunk://repo"), { kind: "icechunk", path: "repo" });
    assert.deepEqual(parseStoreUrl("icechunk://rel/repo%201?tag=v1"), {
      kind: "icechunk",
      path: "rel/repo 1",
      tag: "v1",
    });
    assert.deepEqual(parseStoreUrl("icechunk:///r?branch=dev&snapshot=ABC"), {
      kind: "icechunk",
      path: "/r",
      branch: "dev",
      snapshot: "ABC",
    });
  });

  it("refuses unknown schemes and malformed URLs with StoreError", () => {
    for (const url of ["gs://bucket/x", "ftp://h/x", "az://c/x"]) {
      assert.throws(
        () => parseStoreUrl(url),
        (err: unknown) => {
          assert.ok(isZCollectionError(err, "StoreError"));
          assert.ok(err.message.startsWith(`unrecognised store URL: '${url}'`), err.message);
          return true;
        },
      );
    }
    assert.throws(() => parseStoreUrl(""), StoreError);
    assert.throws(() => parseStoreUrl("file://"), /store URL 'file:\/\/' has no path/);
    assert.throws(() => parseStoreUrl("icechunk://"), /has no path/);
    assert.throws(() => parseStoreUrl("icechunk:///r?ref=x"), /invalid query parameter 'ref'/);
    assert.throws(() => parseStoreUrl("file:///a%zz"), /invalid percent-encoding/);
  });
});

describe("openStore", () => {
  it("opens each backend from its URL", async () => {
    const mem = await openStore("memory://");
    assert.ok(mem instanceof MemoryStore);
    const bare = await openStore(join(scratch, "bare"), { readOnly: true });
    assert.ok(bare instanceof LocalStore);
    assert.equal(bare.readOnly, true);
    assert.equal(bare.rootUri, `file://${join(scratch, "bare")}`);
    const file = await openStore(`file://${join(scratch, "via url")}`);
    assert.ok(file instanceof LocalStore);
    assert.equal(file.root, join(scratch, "via url"));
    const s3 = await openStore("s3://bucket/prefix/", { storageOptions: { region: "eu-west-3" } });
    assert.ok(s3 instanceof ObjectStore);
    assert.equal(s3.rootUri, "s3://bucket/prefix");
    await s3.close();
    const http = await openStore("https://example.org/c/");
    assert.ok(http instanceof HttpStore);
    assert.equal(http.rootUri, "https://example.org/c");
    assert.equal(existsSync(join(scratch, "bare")), false, "opening creates nothing");
    assert.equal(existsSync(join(scratch, "via url")), false);
  });

  it("rejects storage options a backend does not take", async () => {
    await assert.rejects(
      openStore("memory://", { storageOptions: { region: "x" } }),
      /memory stores take no/,
    );
    await assert.rejects(
      openStore(scratch, { storageOptions: { endpoint: "x" } }),
      /local stores take no storage options; got endpoint/,
    );
    await assert.rejects(
      openStore("s3://b", { storageOptions: { regoin: "x" } }),
      /unknown S3 storage option 'regoin'/,
    );
    await assert.rejects(openStore("gs://b"), /^StoreError: unrecognised store URL: 'gs:\/\/b'/);
  });

  it("dispatches icechunk:// to the Icechunk backend through a dynamic import", async () => {
    const path = join(scratch, "missing-repo");
    // A read-only open of a repository that does not exist fails in the
    // Icechunk backend, proving the dispatch without creating anything.
    await assert.rejects(openStore(`icechunk://${path}`, { readOnly: true }), (err: unknown) => {
      assert.ok(err instanceof StoreError);
      assert.equal(err.key, `icechunk://${path}`);
      return true;
    });
    assert.equal(existsSync(path), false);
  });
});

describe("path helpers", () => {
  it("join, parent and relative paths (docs/behaviour.md §13.7)", () => {
    assert.equal(joinPath("/a/", "/b/", "c/"), "a/b/c");
    assert.equal(joinPath(), "");
    assert.equal(parentPath("a/b/c/"), "a/b");
    assert.equal(parentPath("a"), "");
    assert.equal(relativePath("a/b/c", "a"), "b/c");
    assert.equal(relativePath("a/b", "a/b/"), "");
    assert.equal(relativePath("ab/c", "a"), "ab/c");
  });
});
