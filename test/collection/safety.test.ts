/**
 * The rules of docs/safety.md that are not about crashes (those are in
 * crash-points.test.ts and safety-kill.test.ts): writer leases and
 * ConflictError, concurrent writers on one store, failure paths that end
 * clean, inserts that lack variables, untrustworthy catalogs, repair.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createCollection, openCollection } from "../../src/collection/index.js";
import * as config from "../../src/config.js";
import type { Dataset } from "../../src/data/index.js";
import { ConflictError, SchemaError } from "../../src/errors.js";
import { encodeJson } from "../../src/json.js";
import * as merge from "../../src/merge/index.js";
import { catalogChecksum } from "../../src/partitioning/catalog.js";
import { CountingStore } from "../../src/store/counting.js";
import { LeaseKeeper } from "../../src/store/lease.js";
import { LocalStore } from "../../src/store/local.js";
import { MemoryStore } from "../../src/store/memory.js";
import type { Store } from "../../src/store/store.js";
import { processIdentity } from "../../src/util/process-identity.js";
import { captureWarnings, seqDataset, seqPartitioning, seqSchema } from "../helpers/collection-fixtures.js";
import { DyingStore } from "../helpers/dying-store.js";

async function newCollection(store: Store = new MemoryStore(), catalogEnabled = true) {
  const col = await createCollection(store, {
    schema: seqSchema(),
    axis: "num",
    partitioning: seqPartitioning(),
    catalogEnabled,
  });
  return { store, col };
}

function nums(ds: Dataset | null): number[] {
  assert.ok(ds);
  return Array.from(ds.getVariable("num").array.data as BigInt64Array, Number);
}

/** A store whose writes under `failUnder` fail, after `delayMs`. */
class FailingStore extends DyingStore {
  constructor(
    inner: Store,
    readonly failUnder: string,
    readonly delayMs = 0,
  ) {
    super(inner);
  }
  override async writeBytes(key: string, data: Uint8Array): Promise<void> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (key.startsWith(this.failUnder)) throw new Error(`injected failure writing ${key}`);
    return super.writeBytes(key, data);
  }
}

describe("writer leases", () => {
  it("a live writer's partition makes another writer wait, then fail with a ConflictError naming partition and holder", async () => {
    const { store, col } = await newCollection();
    await col.insert(seqDataset(col.schema, [1]));
    const keeper = new LeaseKeeper(store, {
      prefix: "_zc_meta/leases",
      ttlMs: 30_000,
      waitMs: 0,
      operation: "insert someone-else",
    });
    const held = await keeper.acquire("num=1");
    try {
      const started = Date.now();
      await config.override({ "lease.wait": 300 }, async () => {
        await assert.rejects(col.insert(seqDataset(col.schema, [1], { offset: 5 })), (err) => {
          assert.ok(err instanceof ConflictError, String(err));
          assert.equal(err.partition, "num=1");
          assert.match(err.holder ?? "", new RegExp(`${processIdentity().pid} \\(insert someone-else\\)`));
          assert.match(err.message, /'num=1'.*being written by/);
          return true;
        });
      });
      assert.ok(Date.now() - started >= 250, "it waited first");
      // Nothing of the refused write landed; the stored partition is intact.
      assert.deepEqual(nums(await col.query()), [1]);
    } finally {
      await held.release();
    }
    // Once released, the same insert goes through.
    await col.insert(seqDataset(col.schema, [1], { offset: 5 }));
  });

  it("waits for a live writer that finishes within the wait, then merges on top of its result", async () => {
    const { store, col } = await newCollection();
    await col.insert(seqDataset(col.schema, [1]));
    const keeper = new LeaseKeeper(store, {
      prefix: "_zc_meta/leases",
      ttlMs: 30_000,
      waitMs: 0,
      operation: "insert x",
    });
    const held = await keeper.acquire("num=1");
    setTimeout(() => void held.release(), 200);
    await col.insert(seqDataset(col.schema, [1, 1]), { merge: merge.concat });
    assert.deepEqual(nums(await col.query()), [1, 1, 1]);
  });

  it("takes over at once the lease of a process of this host that no longer runs", async () => {
    const { store, col } = await newCollection();
    const gone = spawnSync(process.execPath, [
      "-e",
      "process.stdout.write(String(process.pid))",
    ]).stdout.toString();
    const me = processIdentity();
    await store.writeBytes(
      "_zc_meta/leases/num=2.lease",
      encodeJson({
        format_version: 1,
        host: me.host,
        pid: Number(gone),
        token: "dead",
        operation: "insert 0-dead",
        acquired: new Date().toISOString(),
        nonce: "n",
        expires: Date.now() + 600_000,
      }),
    );
    const started = Date.now();
    await config.override({ "lease.wait": 60_000 }, () => col.insert(seqDataset(col.schema, [2])));
    assert.ok(Date.now() - started < 5_000);
    assert.deepEqual(await col.partitions(), ["num=2"]);
    assert.deepEqual(await store.list("_zc_meta/leases"), [], "the lease was released");
  });
});

describe("lease acquisition", () => {
  const keeperOn = (store: Store, operation: string) =>
    new LeaseKeeper(store, { prefix: "_zc_meta/leases", ttlMs: 30_000, waitMs: 0, operation });

  it("creates an absent lease with one conditional write, and reads a present one before refusing it", async () => {
    const store = new CountingStore(new MemoryStore());
    const held = await keeperOn(store, "insert a").acquire("num=1");
    assert.deepEqual([store.counts.get, store.counts.put], [0, 1], "no read before the create");
    store.reset();
    await assert.rejects(keeperOn(store, "insert b").acquire("num=1"), (err) => {
      assert.ok(err instanceof ConflictError, String(err));
      assert.match(err.message, /\(insert a\)/);
      return true;
    });
    assert.deepEqual([store.counts.get, store.counts.put], [1, 1], "the refused create, then one read");
    await held.release();
    assert.ok(await keeperOn(store, "insert b").acquire("num=1"));
  });

  it("lets exactly one of 16 racing writers hold a lease, in memory and on a local disk", async () => {
    for (const store of [new MemoryStore(), new LocalStore(mkdtempSync(join(tmpdir(), "zc-lease-")))]) {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 16 }, (_, i) => keeperOn(store, `insert w${i}`).acquire("num=7")),
      );
      const won = outcomes.filter((o) => o.status === "fulfilled");
      assert.equal(won.length, 1, store.rootUri);
      for (const o of outcomes)
        if (o.status === "rejected") assert.ok(o.reason instanceof ConflictError, String(o.reason));
    }
  });
});

describe("several writers on one store", () => {
  it("writers of disjoint partitions all succeed and the catalog lists every partition", async () => {
    const store = new MemoryStore();
    await newCollection(store);
    const writers = await Promise.all(
      Array.from({ length: 12 }, () => openCollection(store, { mode: "rw" })),
    );
    await Promise.all(writers.map((w, i) => w.insert(seqDataset(w.schema, [2 * i, 2 * i + 1]))));
    const col = await openCollection(store);
    const expected = Array.from({ length: 24 }, (_, i) => `num=${i}`);
    assert.deepEqual(await col.partitions(), expected);
    assert.deepEqual(await col.partitions({ fromStore: true }), expected);
  });

  it("writers merging into one partition are serialised: every row of every writer is kept", async () => {
    const store = new MemoryStore();
    const { col } = await newCollection(store);
    await col.insert(seqDataset(col.schema, [7]));
    const writers = await Promise.all(Array.from({ length: 6 }, () => openCollection(store, { mode: "rw" })));
    await Promise.all(writers.map((w) => w.insert(seqDataset(w.schema, [7]), { merge: merge.concat })));
    assert.deepEqual(nums(await col.query()), Array(7).fill(7));
  });
});

describe("a failing insert ends clean", () => {
  it("waits for its other partition writes before rejecting: nothing appears afterwards, the catalog lists what was written", async () => {
    const inner = new MemoryStore();
    await newCollection(inner);
    const failing = new FailingStore(inner, "num=3/", 5);
    const col = await openCollection(failing, { mode: "rw" });
    await assert.rejects(
      config.override({ "partition.concurrency": 8 }, () =>
        col.insert(seqDataset(col.schema, [0, 1, 2, 3, 4, 5])),
      ),
      /injected failure writing num=3\//,
    );
    const after = await openCollection(inner);
    const listed = await after.partitions();
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(
      await after.partitions({ fromStore: true }),
      listed,
      "nothing appeared after the rejection",
    );
    assert.ok(!listed.includes("num=3"));
    assert.deepEqual(await inner.listPrefix("_zc_meta/journal"), []);
  });

  it("an abort stops at a safe point: a replaced partition keeps its old content or gets the new one", async () => {
    const store = new MemoryStore();
    const { col } = await newCollection(store);
    await col.insert(seqDataset(col.schema, [0, 1, 2, 3], { offset: 0 }));
    for (let k = 0; k < 8; k++) {
      const ctl = new AbortController();
      const pending = col.insert(seqDataset(col.schema, [0, 1, 2, 3], { offset: 100 }), {
        signal: ctl.signal,
      });
      setTimeout(() => ctl.abort(new Error("stop")), k);
      await pending.catch((err: Error) => assert.equal(err.message, "stop"));
      for await (const [path, ds] of col.iterate()) {
        const k = Number(path.slice(4));
        const v = Array.from(ds.getVariable("value").array.data as Float32Array);
        const old = [10 * k, 10 * k + 1, 10 * k + 2];
        assert.ok(
          [old, old.map((x) => x + 100)].some((want) => JSON.stringify(want) === JSON.stringify(v)),
          `${path}: ${v}`,
        );
      }
      assert.equal((await col.partitions({ fromStore: true })).length, 4);
      assert.deepEqual(await store.listPrefix("_zc_meta/journal"), []);
    }
  });
});

describe("inserting a dataset that lacks variables", () => {
  it("is refused with a SchemaError listing them when a stored partition holds them; nothing is written", async () => {
    const { store, col } = await newCollection(new MemoryStore(), false);
    await col.insert(seqDataset(col.schema, [1, 2]));
    const before = await store.list();
    const partial = seqDataset(col.schema, [2, 3]).select(["num"]);
    await assert.rejects(col.insert(partial), (err) => {
      assert.ok(err instanceof SchemaError);
      assert.match(err.message, /lacks 1 variable\(s\) of the collection \(value\)/);
      assert.match(err.message, /partition 'num=2'/);
      assert.match(err.message, /fillMissing/);
      return true;
    });
    assert.deepEqual(await store.list(), before);
  });

  it("into new partitions only, is accepted", async () => {
    const { col } = await newCollection(new MemoryStore(), false);
    await col.insert(seqDataset(col.schema, [1]));
    await col.insert(seqDataset(col.schema, [5]).select(["num"]));
    assert.deepEqual(await col.partitions(), ["num=1", "num=5"]);
  });

  it("with fillMissing, fills them with their fill value and keeps the stored rows' values", async () => {
    const { col } = await newCollection(new MemoryStore(), false);
    await col.insert(seqDataset(col.schema, [2]));
    await col.insert(seqDataset(col.schema, [2]).select(["num"]), { fillMissing: true, merge: merge.concat });
    const ds = await col.query();
    assert.deepEqual(nums(ds), [2, 2]);
    const v = Array.from(ds?.getVariable("value").array.data as Float32Array);
    assert.deepEqual(v.slice(0, 3), [0, 1, 2]);
    assert.ok(v.slice(3).every(Number.isNaN));
  });
});

describe("a catalog that cannot be trusted", () => {
  it("listing paths that are not partition paths of the collection is refused with a warning, and the store is walked", async () => {
    const { store, col } = await newCollection();
    await col.insert(seqDataset(col.schema, [1, 2]));
    const bogus = ["num=1", "num=2", ...Array.from({ length: 100_000 }, (_, i) => `junk/${i}`)];
    await store.writeBytes(
      "_catalog/state.json",
      encodeJson({ format_version: 1, paths: bogus, checksum: await catalogChecksum(bogus) }),
    );
    const started = Date.now();
    const { result, warnings } = await captureWarnings(() => col.query());
    assert.ok(Date.now() - started < 5_000);
    assert.deepEqual(nums(result), [1, 2]);
    assert.ok(
      warnings.some((w) => /not a partition path of this collection/.test(w)),
      String(warnings),
    );
  });

  it("listing partitions that are gone: query warns and skips them; repair rewrites the catalog", async () => {
    const { store, col } = await newCollection();
    await col.insert(seqDataset(col.schema, [1, 2]));
    const stale = ["num=1", "num=2", "num=9"];
    await store.writeBytes(
      "_catalog/state.json",
      encodeJson({ format_version: 1, paths: stale, checksum: await catalogChecksum(stale) }),
    );
    const { result, warnings } = await captureWarnings(() => col.query());
    assert.deepEqual(nums(result), [1, 2]);
    assert.ok(
      warnings.some((w) =>
        /1 partition\(s\) listed by the catalog .* are not in the store \('num=9'\)/.test(w),
      ),
    );
    const report = await col.repair();
    assert.deepEqual(report.catalog, { added: [], removed: ["num=9"] });
    assert.deepEqual(await col.partitions(), ["num=1", "num=2"]);
  });
});

describe("recovery", () => {
  it("a read-write open completes an interrupted replacement; repair reports what it did", async () => {
    const inner = new MemoryStore();
    const { col } = await newCollection(inner);
    await col.insert(seqDataset(col.schema, [1, 2]));
    // Crash right after the first intent was written (the commit point of num=1 or num=2).
    let dieAt = 1;
    for (; dieAt < 200; dieAt++) {
      const probe = new DyingStore(inner, dieAt);
      const c = await openCollection(probe, { mode: "rw", recover: false });
      await c.insert(seqDataset(c.schema, [1, 2], { offset: 100 })).catch(() => undefined);
      if ((await inner.list("_zc_meta/journal")).some((k) => k.endsWith(".intent"))) break;
      // no intent yet: let recovery clean up, then try one instant later
      await expire(inner);
      await openCollection(inner, { mode: "rw" });
    }
    await expire(inner);
    const repaired = await (await openCollection(inner, { mode: "rw", recover: false })).repair();
    assert.equal(repaired.recovered.length, 1);
    const [op] = repaired.recovered;
    assert.equal(op?.operation, "insert");
    assert.equal(op?.rolledForward.length, 1);
    assert.deepEqual(await inner.list("_zc_meta"), []);
    const values = nums(await (await openCollection(inner)).query());
    assert.deepEqual(values, [1, 2]);
  });
});

/** Expires every record and lease: the writer that left them is gone. */
async function expire(store: Store): Promise<void> {
  for (const key of await store.list("_zc_meta")) {
    if (!key.endsWith(".lease") && !/journal\/[^/]+\.json$/.test(key)) continue;
    const text = new TextDecoder().decode(await store.readBytes(key));
    await store.writeBytes(key, encodeJson({ ...JSON.parse(text), expires: 0 }));
  }
}
