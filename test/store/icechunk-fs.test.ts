import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { StoreError } from "../../src/errors.js";
import { type FsStorageBackend, fsStorageBackend, LOCK_STALE_MS } from "../../src/store/icechunk-fs.js";
import {
  childOf,
  decodeMetaDocument,
  encodeMetaDocument,
  isReservedKey,
  isZarrKey,
  keyOfMetaName,
  metaKeyFor,
} from "../../src/store/icechunk-keys.js";

let tmp: string;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "zc-icefs-"));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const bytes = (s: string) => Buffer.from(s);
const text = (b: Uint8Array) => Buffer.from(b).toString();

async function backendIn(
  name: string,
  opts?: Parameters<typeof fsStorageBackend>[1],
): Promise<FsStorageBackend> {
  const dir = path.join(tmp, name);
  return fsStorageBackend(dir, opts);
}

async function put(b: FsStorageBackend, p: string, data: string, previousVersion?: { etag?: string }) {
  return b.putObject(null, { path: p, data: bytes(data), metadata: [], previousVersion });
}

describe("icechunk fs backend", () => {
  it("writes atomically, reads ranges and versions every write", async () => {
    const b = await backendIn("rw");
    const first = await put(b, "snapshots/AAA", "0123456789");
    assert.equal(first.kind, "updated");
    const all = await b.getObjectRange(null, { path: "snapshots/AAA" });
    assert.equal(text(all.data), "0123456789");
    assert.equal(all.version.etag, first.newVersion?.etag);
    assert.equal(
      text((await b.getObjectRange(null, { path: "snapshots/AAA", rangeStart: 2, rangeEnd: 5 })).data),
      "234",
    );
    assert.equal(
      text((await b.getObjectRange(null, { path: "snapshots/AAA", rangeStart: 8, rangeEnd: 99 })).data),
      "89",
    );
    const second = await put(b, "snapshots/AAA", "abc");
    assert.notEqual(second.newVersion?.etag, first.newVersion?.etag);
    assert.equal(text((await b.getObjectRange(null, { path: "snapshots/AAA" })).data), "abc");
    // No temporary file is left behind.
    assert.deepEqual(await fs.readdir(path.join(tmp, "rw", "snapshots")), ["AAA"]);
  });

  it("reports missing objects with ObjectNotFound", async () => {
    const b = await backendIn("missing");
    await assert.rejects(b.getObjectRange(null, { path: "refs/nope" }), /ObjectNotFound/);
    await assert.rejects(b.getObjectConditional(null, { path: "repo" }), /ObjectNotFound/);
    await assert.rejects(b.getObjectLastModified(null, "repo"), /ObjectNotFound/);
    await assert.rejects(b.copyObject(null, { from: "nope", to: "dest", version: {} }), /ObjectNotFound/);
    assert.deepEqual(await b.listObjects(null, ""), []);
  });

  it("creates only when absent (previousVersion without etag)", async () => {
    const b = await backendIn("create");
    const created = await put(b, "repo", "one", {});
    assert.equal(created.kind, "updated");
    const again = await put(b, "repo", "two", {});
    assert.equal(again.kind, "not_on_latest_version");
    assert.equal(text((await b.getObjectRange(null, { path: "repo" })).data), "one");
    assert.deepEqual(await fs.readdir(path.join(tmp, "create")), ["repo"]);
  });

  it("compare-and-swap: one winner among concurrent writers holding the same version", async () => {
    const b = await backendIn("cas");
    const v0 = (await put(b, "repo", "v0")).newVersion?.etag;
    assert.ok(v0);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => put(b, "repo", `writer-${i}`, { etag: v0 })),
    );
    const winners = results.flatMap((r, i) => (r.kind === "updated" ? [i] : []));
    assert.equal(winners.length, 1);
    assert.equal(text((await b.getObjectRange(null, { path: "repo" })).data), `writer-${winners[0]}`);
    // A stale version loses; the current one wins.
    assert.equal((await put(b, "repo", "late", { etag: v0 })).kind, "not_on_latest_version");
    const current = (await b.getObjectRange(null, { path: "repo" })).version.etag;
    assert.equal((await put(b, "repo", "next", { etag: current })).kind, "updated");
    // Swapping an object that does not exist fails too.
    assert.equal((await put(b, "other", "x", { etag: current })).kind, "not_on_latest_version");
    assert.deepEqual((await fs.readdir(path.join(tmp, "cas"))).sort(), ["repo"]);
  });

  it("breaks a stale lock and times out on a live one", async () => {
    const b = await backendIn("locks", { lockTimeoutMs: 60 });
    const v = (await put(b, "repo", "v0")).newVersion?.etag;
    const lock = path.join(tmp, "locks", ".repo.lock");
    await fs.writeFile(lock, "");
    await assert.rejects(
      put(b, "repo", "blocked", { etag: v }),
      /timed out after 60 ms waiting for the lock/,
    );
    const old = new Date(Date.now() - LOCK_STALE_MS - 5_000);
    await fs.utimes(lock, old, old);
    assert.equal((await put(b, "repo", "after", { etag: v })).kind, "updated");
    await assert.rejects(fs.stat(lock), /ENOENT/);
  });

  it("answers conditional gets against a known version", async () => {
    const b = await backendIn("cond");
    const v = (await put(b, "repo", "state")).newVersion?.etag;
    assert.deepEqual(await b.getObjectConditional(null, { path: "repo", previousVersion: { etag: v } }), {
      kind: "on_latest_version",
    });
    const changed = await b.getObjectConditional(null, { path: "repo", previousVersion: { etag: "old" } });
    assert.equal(changed.kind, "modified");
    assert.ok(changed.kind === "modified" && text(changed.data) === "state" && changed.newVersion.etag === v);
  });

  it("lists recursively with ids relative to the prefix, skipping its own hidden files", async () => {
    const b = await backendIn("list");
    await put(b, "chunks/A", "12");
    await put(b, "refs/branch.main/ref.json", "123");
    await put(b, "refs/tag.v1/ref.json", "1");
    await fs.writeFile(path.join(tmp, "list", "refs", ".ref.json.lock"), "");
    const refs = (await b.listObjects(null, "refs")).map((o) => [o.id, o.sizeBytes]).sort();
    assert.deepEqual(refs, [
      ["branch.main/ref.json", 3],
      ["tag.v1/ref.json", 1],
    ]);
    assert.deepEqual((await b.listObjects(null, "refs/")).map((o) => o.id).sort(), [
      "branch.main/ref.json",
      "tag.v1/ref.json",
    ]);
    assert.equal((await b.listObjects(null, "")).length, 3);
    assert.ok((await b.listObjects(null, "chunks"))[0]?.createdAt instanceof Date);
  });

  it("deletes batches, counting only what existed, and copies conditionally", async () => {
    const b = await backendIn("delete");
    await put(b, "chunks/A", "12");
    await put(b, "chunks/B", "345");
    const res = await b.deleteBatch(null, {
      prefix: "chunks",
      batch: [
        { id: "A", size: 2 },
        { id: "missing", size: 9 },
      ],
    });
    assert.deepEqual(res, { deletedObjects: 1, deletedBytes: 2 });
    assert.deepEqual(await fs.readdir(path.join(tmp, "delete", "chunks")), ["B"]);
    const vb = (await b.getObjectRange(null, { path: "chunks/B" })).version.etag;
    assert.equal(
      (await b.copyObject(null, { from: "chunks/B", to: "chunks/C", version: { etag: "x" } })).kind,
      "not_on_latest_version",
    );
    assert.equal(
      (await b.copyObject(null, { from: "chunks/B", to: "chunks/C", version: { etag: vb } })).kind,
      "updated",
    );
    assert.equal(text((await b.getObjectRange(null, { path: "chunks/C" })).data), "345");
  });

  it("refuses writes when read-only and paths that leave the root", async () => {
    const b = await backendIn("ro", { readOnly: true });
    assert.equal(await b.canWrite(null), false);
    await assert.rejects(put(b, "repo", "x"), /read-only Icechunk storage .* 'repo'/);
    await assert.rejects(fs.stat(path.join(tmp, "ro")), /ENOENT/);
    const w = await backendIn("escape");
    assert.equal(await w.canWrite(null), true);
    await assert.rejects(put(w, "../outside", "x"), /escapes the repository: '..\/outside'/);
  });
});

describe("icechunk key mapping (docs/format.md §11)", () => {
  it("classifies Zarr keys", () => {
    // `a/v/c` is the only chunk of a 0-d array (docs/format.md §6.6).
    for (const k of ["zarr.json", "a/zarr.json", "c/0", "a/v/c/0/1", "year=2024/v/c/3", "a/v/c", "c"])
      assert.ok(isZarrKey(k), k);
    for (const k of ["_zcollection.json", "_catalog/state.json", "a/v/cc", "zarr.json.bak", "abc/0"]) {
      assert.ok(!isZarrKey(k), k);
    }
    assert.ok(
      isReservedKey("_zc_meta") && isReservedKey("_zc_meta/x/zarr.json") && !isReservedKey("_zc_metadata"),
    );
  });

  it("redirects non-Zarr keys under _zc_meta", () => {
    assert.equal(metaKeyFor("_zcollection.json"), "_zc_meta/_zcollection.json/zarr.json");
    assert.equal(metaKeyFor("_catalog/state.json"), "_zc_meta/_catalog__state.json/zarr.json");
    assert.equal(metaKeyFor("_zcollection_view.json"), "_zc_meta/_zcollection_view.json/zarr.json");
    assert.equal(keyOfMetaName("_catalog__state.json"), "_catalog/state.json");
    assert.equal(metaKeyFor("a/_b"), "_zc_meta/a___b/zarr.json");
    for (const k of ["a_/b", "a__b", "a//b", ""]) assert.throws(() => metaKeyFor(k), StoreError, k);
    assert.throws(() => metaKeyFor("x__y.json"), /key 'x__y.json' cannot be stored/);
  });

  it("encodes the payload group document compactly and decodes it back", () => {
    const doc = encodeMetaDocument('{"a": 1}\n');
    assert.equal(doc, '{"node_type":"group","zarr_format":3,"attributes":{"_payload":"{\\"a\\": 1}\\n"}}');
    assert.equal(decodeMetaDocument(doc, "k"), '{"a": 1}\n');
    assert.throws(() => decodeMetaDocument("{", "k"), /corrupt redirection document for key 'k': not JSON/);
    assert.throws(() => decodeMetaDocument('{"attributes":{}}', "k"), /no string '_payload'/);
  });

  it("finds the immediate child of a prefix", () => {
    assert.deepEqual(childOf("_catalog/state.json", ""), { name: "_catalog", isPrefix: true });
    assert.deepEqual(childOf("_catalog/state.json", "_catalog"), { name: "state.json", isPrefix: false });
    assert.equal(childOf("_catalog/state.json", "_cat"), undefined);
    assert.equal(childOf("_catalog", "_catalog"), undefined);
  });
});
