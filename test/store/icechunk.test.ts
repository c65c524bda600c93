import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Repository, Storage } from "@earthmover/icechunk";
import * as zarr from "zarrita";
import { ConflictError, ReadOnlyError, StoreError } from "../../src/errors.js";
import { IcechunkStore } from "../../src/store/icechunk.js";
import { fsStorageBackend } from "../../src/store/icechunk-fs.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..", "..");
const childScript = path.join(repoRoot, "test", "helpers", "icechunk-child.ts");

let tmp: string;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "zc-icechunk-"));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

let counter = 0;
const freshDir = () => path.join(tmp, `repo${++counter}`);
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

const GROUP = enc('{"zarr_format":3,"node_type":"group","attributes":{}}');
/** int32 array of 4 elements in chunks of 2, raw little-endian bytes. */
const ARRAY = enc(
  JSON.stringify({
    zarr_format: 3,
    node_type: "array",
    shape: [4],
    data_type: "int32",
    chunk_grid: { name: "regular", configuration: { chunk_shape: [2] } },
    chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
    fill_value: 0,
    codecs: [{ name: "bytes", configuration: { endian: "little" } }],
    attributes: {},
  }),
);
const CHUNK0 = new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0]);

/** The repository read directly through the Icechunk API (bypassing the store). */
async function rawRepo(dir: string): Promise<Repository> {
  const backend = fsStorageBackend(dir, { readOnly: true });
  return Repository.open(Storage.newCustom(backend as unknown as Parameters<typeof Storage.newCustom>[0]));
}

/** Commit messages of `main`, newest first, without the repository's initial commit. */
async function history(dir: string): Promise<string[]> {
  const snapshots = await (await rawRepo(dir)).ancestry({ branch: "main" });
  return snapshots.map((s) => s.message).filter((m) => m !== "Repository initialized");
}

/** A store holding: root group, group `a` with array `a/v` (chunk 0), `_zcollection.json`, `_catalog/state.json`. */
async function populated(): Promise<{ dir: string; store: IcechunkStore }> {
  const dir = freshDir();
  const store = await IcechunkStore.open(dir);
  await store.session(async () => {
    await store.writeBytes("a/zarr.json", GROUP);
    await store.writeBytes("a/v/zarr.json", ARRAY);
    await store.writeBytes("a/v/c/0", CHUNK0);
    await store.writeBytes("_zcollection.json", enc('{"format_version": 1}'));
    await store.writeBytes("_catalog/state.json", enc('{"partitions": []}'));
  });
  return { dir, store };
}

describe("IcechunkStore: Store contract", () => {
  it("bootstraps a new repository with the root and _zc_meta groups in one commit", async () => {
    const dir = freshDir();
    const store = await IcechunkStore.open(dir);
    assert.equal(store.rootUri, `icechunk://${dir}`);
    assert.equal(store.transactional, true);
    assert.equal(store.readOnly, false);
    assert.equal(store.branch, "main");
    assert.deepEqual(await history(dir), ["bootstrap"]);
    const raw = await (await rawRepo(dir)).readonlySession({ branch: "main" });
    const root = JSON.parse(dec((await raw.store.get("zarr.json")) ?? undefined) ?? "null");
    const meta = JSON.parse(dec((await raw.store.get("_zc_meta/zarr.json")) ?? undefined) ?? "null");
    for (const doc of [root, meta]) {
      assert.equal(doc.node_type, "group");
      assert.equal(doc.zarr_format, 3);
      assert.deepEqual(doc.attributes, {});
    }
    // Reopening writable finds everything in place: no second bootstrap.
    const again = await IcechunkStore.open(dir);
    assert.equal(again.snapshotId, store.snapshotId);
    assert.deepEqual(await history(dir), ["bootstrap"]);
    assert.deepEqual(await store.listPrefix(""), ["zarr.json"]);
    assert.deepEqual(await store.listDir(""), []);
  });

  it("writes and reads Zarr keys, ranges, and reports missing keys as undefined", async () => {
    const { store } = await populated();
    assert.deepEqual(
      JSON.parse(dec(await store.readBytes("a/v/zarr.json")) ?? ""),
      JSON.parse(dec(ARRAY) ?? ""),
    );
    assert.deepEqual(await store.readBytes("a/v/c/0"), CHUNK0);
    assert.deepEqual(await store.get("/a/v/c/0"), CHUNK0);
    assert.deepEqual(
      await store.readRange("a/v/c/0", { offset: 4, length: 4 }),
      new Uint8Array([2, 0, 0, 0]),
    );
    assert.deepEqual(
      await store.getRange("/a/v/c/0", { suffixLength: 3 }),
      new Uint8Array([2, 0, 0, 0]).subarray(1),
    );
    assert.equal(await store.readBytes("a/v/c/1"), undefined, "unwritten chunk");
    assert.equal(await store.readBytes("nope/c/0"), undefined, "chunk of a missing array");
    assert.equal(await store.readBytes("nope/zarr.json"), undefined);
    assert.equal(await store.readBytes("nope.json"), undefined, "missing redirected key");
    assert.equal(await store.readRange("nope.json", { offset: 0, length: 2 }), undefined);
    assert.equal(await store.readRange("a/v/c/1", { offset: 0, length: 2 }), undefined);
  });

  it("answers exists for objects, prefixes and redirected keys", async () => {
    const { store } = await populated();
    for (const k of [
      "a/zarr.json",
      "a/v/c/0",
      "a",
      "a/v",
      "a/v/c",
      "_zcollection.json",
      "_catalog",
      "_catalog/state.json",
      "",
    ]) {
      assert.equal(await store.exists(k), true, k);
    }
    for (const k of [
      "a/v/c/1",
      "b",
      "b/zarr.json",
      "_catalog/other.json",
      "_zc_meta",
      "_zc_meta/zarr.json",
      "_cat",
    ]) {
      assert.equal(await store.exists(k), false, k);
    }
  });

  it("lists children and keys with the redirection invisible", async () => {
    const { store } = await populated();
    assert.deepEqual(await store.listPrefix(""), ["_catalog", "_zcollection.json", "a", "zarr.json"]);
    assert.deepEqual(await store.listDir(""), ["_catalog", "a"]);
    assert.deepEqual(await store.listPrefix("a"), ["v", "zarr.json"]);
    assert.deepEqual(await store.listPrefix("a/"), ["v", "zarr.json"]);
    assert.deepEqual(await store.listDir("a"), ["v"]);
    assert.deepEqual(await store.listPrefix("a/v"), ["c", "zarr.json"]);
    assert.deepEqual(await store.listPrefix("a/v/c"), ["0"]);
    assert.deepEqual(await store.listPrefix("_catalog"), ["state.json"]);
    assert.deepEqual(await store.listDir("_catalog"), []);
    assert.deepEqual(await store.listPrefix("missing"), []);
    assert.deepEqual(await store.listPrefix("_zc_meta"), []);
    assert.deepEqual(await store.list(), [
      "_catalog/state.json",
      "_zcollection.json",
      "a/v/c/0",
      "a/v/zarr.json",
      "a/zarr.json",
      "zarr.json",
    ]);
    assert.deepEqual(await store.list("a/v"), ["a/v/c/0", "a/v/zarr.json"]);
    assert.deepEqual(await store.list("a/v/c"), ["a/v/c/0"]);
    assert.deepEqual(await store.list("_catalog"), ["_catalog/state.json"]);
    assert.deepEqual(await store.list("missing"), []);
  });

  it("deletes keys and prefixes, redirected entries included", async () => {
    const { dir, store } = await populated();
    await store.deleteKey("a/v/c/0");
    assert.equal(await store.readBytes("a/v/c/0"), undefined);
    await store.deleteKey("a/v/c/0"); // missing: no-op
    await store.deleteKey("_zcollection.json");
    assert.equal(await store.exists("_zcollection.json"), false);
    await store.writeBytes("a/_local.json", enc("{}"));
    assert.deepEqual(await store.listPrefix("a"), ["_local.json", "v", "zarr.json"]);
    await store.deletePrefix("a");
    assert.deepEqual(await store.list(), ["_catalog/state.json", "zarr.json"]);
    await store.deletePrefix("_catalog");
    await store.deletePrefix("never-there");
    assert.deepEqual(await store.list(), ["zarr.json"]);
    await store.writeBytes("_zcollection.json", enc("{}"));
    await store.deletePrefix("");
    assert.deepEqual(await store.list(), ["zarr.json"]);
    // The store still works after a full wipe (the _zc_meta group came back).
    await store.writeBytes("_zcollection.json", enc('{"x": 2}'));
    assert.deepEqual(await store.listPrefix(""), ["_zcollection.json", "zarr.json"]);
    const reopened = await IcechunkStore.open(dir, { readOnly: true });
    assert.equal(dec(await reopened.readBytes("_zcollection.json")), '{"x": 2}');
  });

  it("refuses writes on a read-only store with ReadOnlyError", async () => {
    const { dir } = await populated();
    const ro = await IcechunkStore.open(dir, { readOnly: true });
    assert.equal(ro.readOnly, true);
    assert.equal(ro.branch, "main");
    assert.equal(dec(await ro.readBytes("_catalog/state.json")), '{"partitions": []}');
    await assert.rejects(ro.writeBytes("_zcollection.json", enc("{}")), ReadOnlyError);
    await assert.rejects(
      ro.writeBytes("b/zarr.json", GROUP),
      /read-only \(refused write of 'b\/zarr.json'\)/,
    );
    await assert.rejects(ro.deleteKey("a/v/c/0"), ReadOnlyError);
    await assert.rejects(ro.deletePrefix("a"), ReadOnlyError);
    await assert.rejects(ro.set("/a/zarr.json", GROUP), ReadOnlyError);
    await assert.rejects(ro.tag("t"), ReadOnlyError);
    assert.equal(await ro.session(async () => 42), 42);
    assert.deepEqual(await ro.readBytes("a/v/c/0"), CHUNK0);
  });

  it("rejects bad keys and payloads with StoreError naming the key", async () => {
    const store = await IcechunkStore.open(freshDir());
    await assert.rejects(store.writeBytes("blob.bin", new Uint8Array([0xff, 0xfe])), (err) => {
      assert.ok(err instanceof StoreError);
      assert.equal(err.key, "blob.bin");
      assert.match(err.message, /'blob.bin'.*not UTF-8/);
      return true;
    });
    await assert.rejects(
      store.writeBytes("_zc_meta/x/zarr.json", GROUP),
      /cannot write '_zc_meta\/x\/zarr.json': reserved/,
    );
    await assert.rejects(store.writeBytes("a__b.json", enc("{}")), /key 'a__b.json' cannot be stored/);
    await assert.rejects(store.writeBytes("nope/c/0", CHUNK0), (err) => {
      assert.ok(err instanceof StoreError);
      assert.match(err.message, /Icechunk refused 'nope\/c\/0'/);
      return true;
    });
    await assert.rejects(store.writeBytes("bad/zarr.json", enc("{not json")), /refused 'bad\/zarr.json'/);
    assert.deepEqual(await store.list(), ["zarr.json"]);
  });
});

describe("IcechunkStore: zarrita on top", () => {
  it("writes an array in one session and reads it back from a read-only store", async () => {
    const dir = freshDir();
    const store = await IcechunkStore.open(dir);
    const values = Float64Array.from({ length: 10 }, (_, i) => i * 1.5);
    await store.session(async () => {
      await zarr.create(zarr.root(store).resolve("/g"), { attributes: { title: "demo" } });
      const arr = await zarr.create(zarr.root(store).resolve("/g/v"), {
        shape: [10],
        chunkShape: [4],
        dtype: "float64",
        chunkSeparator: "/",
      });
      await zarr.set(arr, null, { data: values, shape: [10], stride: [1] });
    });
    assert.deepEqual(await history(dir), ["zcollection mutation", "bootstrap"]);
    const ro = await IcechunkStore.open(dir, { readOnly: true });
    const arr = await zarr.open(zarr.root(ro).resolve("/g/v"), { kind: "array" });
    const got = await zarr.get(arr);
    assert.deepEqual(got.data, values);
    assert.deepEqual(await ro.listPrefix("g/v/c"), ["0", "1", "2"]);
    assert.deepEqual(await ro.listDir("g"), ["v"]);
  });
});

describe("IcechunkStore: meta key redirection (docs/format.md §11)", () => {
  it("stores non-Zarr keys as _payload of a group under _zc_meta", async () => {
    const { dir } = await populated();
    const raw = (await (await rawRepo(dir)).readonlySession({ branch: "main" })).store;
    const meta = (await raw.listDir("_zc_meta")).sort();
    assert.deepEqual(meta, ["_catalog__state.json", "_zcollection.json", "zarr.json"]);
    const doc = JSON.parse(
      dec((await raw.get("_zc_meta/_zcollection.json/zarr.json")) ?? undefined) ?? "null",
    );
    assert.deepEqual(doc, {
      node_type: "group",
      zarr_format: 3,
      attributes: { _payload: '{"format_version": 1}' },
    });
    const state = JSON.parse(
      dec((await raw.get("_zc_meta/_catalog__state.json/zarr.json")) ?? undefined) ?? "null",
    );
    assert.equal(state.attributes._payload, '{"partitions": []}');
  });

  it("round-trips non-ASCII text exactly", async () => {
    const store = await IcechunkStore.open(freshDir());
    const text = '{"title": "Jason-3 — cycle 1 ✓", "nan": NaN}\n';
    await store.writeBytes("_zcollection_view.json", enc(text));
    assert.equal(dec(await store.readBytes("_zcollection_view.json")), text);
    assert.deepEqual(await store.readRange("_zcollection_view.json", { suffixLength: 2 }), enc("}\n"));
  });
});

describe("IcechunkStore: commits and transactions", () => {
  it("commits each mutating call outside a session, and a session as one commit", async () => {
    const dir = freshDir();
    const store = await IcechunkStore.open(dir);
    await store.writeBytes("g1/zarr.json", GROUP);
    await store.writeBytes("_zcollection.json", enc("{}"));
    assert.deepEqual(await history(dir), ["zcollection mutation", "zcollection mutation", "bootstrap"]);
    const before = store.snapshotId;
    await store.session(
      async () => {
        await store.writeBytes("g2/zarr.json", GROUP);
        await store.writeBytes("g2/v/zarr.json", ARRAY);
        await store.writeBytes("g2/v/c/1", CHUNK0);
        // Nested sessions join the outer transaction.
        await store.session(() => store.deletePrefix("g1"));
      },
      { message: "insert g2" },
    );
    assert.notEqual(store.snapshotId, before);
    assert.deepEqual((await history(dir)).slice(0, 2), ["insert g2", "zcollection mutation"]);
    // Nothing changed: no commit.
    await store.session(async () => {
      await store.readBytes("g2/zarr.json");
    });
    assert.equal((await history(dir)).length, 4);
    // Concurrent calls outside a session are committed, possibly together.
    await Promise.all(Array.from({ length: 6 }, (_, i) => store.writeBytes(`p${i}/zarr.json`, GROUP)));
    const commits = (await history(dir)).length - 4;
    assert.ok(commits >= 1 && commits <= 6, `${commits} commits`);
    assert.deepEqual(await store.listDir(""), ["g2", "p0", "p1", "p2", "p3", "p4", "p5"]);
  });

  it("discards a session's changes when its block throws", async () => {
    const { dir, store } = await populated();
    const commits = (await history(dir)).length;
    const snapshot = store.snapshotId;
    const boom = new Error("boom");
    await assert.rejects(
      store.session(async () => {
        await store.writeBytes("b/zarr.json", GROUP);
        await store.writeBytes("_zcollection.json", enc('{"format_version": 99}'));
        await store.deletePrefix("a");
        assert.equal(await store.exists("b"), true, "visible inside the transaction");
        throw boom;
      }),
      (err) => err === boom,
    );
    assert.equal(store.snapshotId, snapshot);
    assert.equal((await history(dir)).length, commits);
    assert.equal(await store.exists("b"), false);
    assert.equal(dec(await store.readBytes("_zcollection.json")), '{"format_version": 1}');
    assert.deepEqual(await store.readBytes("a/v/c/0"), CHUNK0);
    // The store remains usable.
    await store.writeBytes("c/zarr.json", GROUP);
    assert.equal((await history(dir)).length, commits + 1);
  });

  it("makes a commit from one process visible to a new process", async () => {
    const { dir, store } = await populated();
    const run = promisify(execFile);
    const { stdout } = await run(
      process.execPath,
      [
        "--import",
        "tsx",
        childScript,
        dir,
        "_zcollection.json",
        "_catalog/state.json",
        '{"partitions": ["x"]}',
      ],
      { cwd: repoRoot, timeout: 30_000 },
    );
    const child = JSON.parse(stdout) as { seen: string | null; snapshotId: string };
    assert.equal(child.seen, '{"format_version": 1}');
    // This store still reads its own snapshot; a new one sees the child's commit.
    assert.equal(dec(await store.readBytes("_catalog/state.json")), '{"partitions": []}');
    const fresh = await IcechunkStore.open(dir, { readOnly: true });
    assert.equal(fresh.snapshotId, child.snapshotId);
    assert.equal(dec(await fresh.readBytes("_catalog/state.json")), '{"partitions": ["x"]}');
    assert.equal((await history(dir))[0], "zcollection mutation");
    // The next transaction of the first store starts from the new head.
    await store.session(async () => {
      assert.equal(dec(await store.readBytes("_catalog/state.json")), '{"partitions": ["x"]}');
      await store.writeBytes("b/zarr.json", GROUP);
    });
    assert.deepEqual(await store.listDir(""), ["_catalog", "a", "b"]);
  });

  it("opens tags and snapshots read-only at their version (time travel)", async () => {
    const { dir, store } = await populated();
    const tagged = await store.tag("v1");
    assert.equal(tagged, store.snapshotId);
    await store.writeBytes("_zcollection.json", enc('{"format_version": 2}'));
    await store.deletePrefix("a");
    const atTag = await IcechunkStore.open(dir, { tag: "v1" });
    assert.equal(atTag.readOnly, true);
    assert.equal(atTag.branch, undefined);
    assert.equal(atTag.snapshotId, tagged);
    assert.equal(dec(await atTag.readBytes("_zcollection.json")), '{"format_version": 1}');
    assert.deepEqual(await atTag.readBytes("a/v/c/0"), CHUNK0);
    await assert.rejects(atTag.writeBytes("x/zarr.json", GROUP), ReadOnlyError);
    const atSnapshot = await IcechunkStore.open(dir, { snapshot: tagged, readOnly: false });
    assert.equal(atSnapshot.readOnly, true);
    assert.deepEqual(await atSnapshot.listDir(""), ["_catalog", "a"]);
    const head = await IcechunkStore.open(dir, { readOnly: true });
    assert.equal(dec(await head.readBytes("_zcollection.json")), '{"format_version": 2}');
    assert.deepEqual(await head.listDir(""), ["_catalog"]);
    await assert.rejects(store.tag("v1"), /cannot create tag 'v1'/);
    await assert.rejects(IcechunkStore.open(dir, { tag: "v9" }), /cannot open tag 'v9'/);
  });

  it("gives the second of two concurrent writers of the same key a ConflictError", async () => {
    const { dir } = await populated();
    const first = await IcechunkStore.open(dir);
    const second = await IcechunkStore.open(dir);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    // Both transactions start from the same head; `first` commits while `second` is still open.
    const late = second.session(async () => {
      await second.writeBytes("_zcollection.json", enc('{"by": "second"}'));
      await second.writeBytes("a/v/c/0", new Uint8Array(8));
      await gate;
    });
    await first.session(async () => {
      await first.writeBytes("_zcollection.json", enc('{"by": "first"}'));
    });
    release();
    await assert.rejects(late, (err) => {
      assert.ok(err instanceof ConflictError, String(err));
      assert.match(err.message, /commit conflict on branch 'main'.*_zcollection\.json/);
      assert.match(err.partition, /_zcollection\.json/);
      return true;
    });
    const fresh = await IcechunkStore.open(dir, { readOnly: true });
    assert.equal(dec(await fresh.readBytes("_zcollection.json")), '{"by": "first"}');
    assert.deepEqual(await fresh.readBytes("a/v/c/0"), CHUNK0, "nothing of the failed transaction landed");
    assert.equal((await history(dir))[0], "zcollection mutation");
    // The loser can try again from the new head.
    await second.writeBytes("_zcollection.json", enc('{"by": "second, later"}'));
    const after = await IcechunkStore.open(dir, { readOnly: true });
    assert.equal(dec(await after.readBytes("_zcollection.json")), '{"by": "second, later"}');
  });

  it("rebases concurrent transactions that touch different nodes", async () => {
    const { dir } = await populated();
    const first = await IcechunkStore.open(dir);
    const second = await IcechunkStore.open(dir);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const late = second.session(async () => {
      await second.writeBytes("y/zarr.json", GROUP);
      await gate;
    });
    await first.session(() => first.writeBytes("x/zarr.json", GROUP));
    release();
    await late;
    const fresh = await IcechunkStore.open(dir, { readOnly: true });
    assert.deepEqual(await fresh.listDir(""), ["_catalog", "a", "x", "y"]);
  });
});

describe("IcechunkStore.open errors", () => {
  it("names the problem", async () => {
    const missing = freshDir();
    await assert.rejects(IcechunkStore.open(missing, { readOnly: true }), (err) => {
      assert.ok(err instanceof StoreError);
      assert.equal(err.message, `icechunk://${missing}: no Icechunk repository there (opened read-only)`);
      return true;
    });
    await assert.rejects(fs.stat(missing), /ENOENT/, "a read-only open creates nothing");
    const cluttered = freshDir();
    await fs.mkdir(cluttered);
    await fs.writeFile(path.join(cluttered, "notes.txt"), "x");
    await assert.rejects(IcechunkStore.open(cluttered), /not empty and holds no Icechunk repository/);
    await assert.rejects(
      IcechunkStore.open(freshDir(), { branch: "main", tag: "v1" }),
      /at most one of branch, tag and snapshot \(got branch, tag\)/,
    );
    const dir = freshDir();
    await IcechunkStore.open(dir);
    await assert.rejects(IcechunkStore.open(dir, { branch: "dev" }), /cannot open branch 'dev'/);
    await assert.rejects(IcechunkStore.open(dir, { snapshot: "AAAAAAAAAAAAAAAAAAAA" }), StoreError);
  });
});
