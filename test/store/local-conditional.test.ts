/**
 * Conditional writes, prefix renames and symbolic-link confinement of the
 * local store, on real files in a temporary directory (no mocks), including
 * races between processes; and the same single-process properties of the
 * memory store.
 */

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ReadOnlyError, StoreError } from "../../src/errors.js";
import { contentVersion } from "../../src/store/fs-atomic.js";
import { isTransientName, LocalStore } from "../../src/store/local.js";
import { MemoryStore } from "../../src/store/memory.js";
import type { Store } from "../../src/store/store.js";

let scratch: string;
let n = 0;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), "zc-local-cas-"));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});
const fresh = (): string => join(scratch, `s${n++}`);
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined): string | undefined =>
  b === undefined ? undefined : new TextDecoder().decode(b);

const CHILD = join(import.meta.dirname, "../helpers/local-cas-child.ts");

/**
 * Runs one child process per argument list against `dir`, releases them
 * all at once (after every child printed `ready`), and returns the JSON each
 * printed last.
 */
async function race(dir: string, argLists: string[][]): Promise<Array<Record<string, unknown>>> {
  const go = `go-${n++}`;
  let ready = 0;
  let release!: () => void;
  const allReady = new Promise<void>((r) => {
    release = r;
  });
  const runs = argLists.map(
    (args) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", CHILD, dir, go, ...args], {
          stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        let err = "";
        child.stdout.on("data", (chunk: Buffer) => {
          const before = out;
          out += chunk.toString();
          if (!before.includes("ready\n") && out.includes("ready\n") && ++ready === argLists.length)
            release();
        });
        child.stderr.on("data", (chunk: Buffer) => {
          err += chunk.toString();
        });
        child.on("error", reject);
        child.on("exit", (code) => {
          if (code !== 0) {
            release(); // do not leave the others waiting
            reject(new Error(`child ${args.join(" ")} exited with ${code}: ${err}`));
            return;
          }
          const lines = out.trim().split("\n");
          resolve(JSON.parse(lines[lines.length - 1] as string) as Record<string, unknown>);
        });
      }),
  );
  await Promise.race([allReady, Promise.all(runs)]);
  await writeFile(join(dir, go), "");
  return Promise.all(runs);
}

/** The properties every store with conditional writes has within one process. */
function singleProcessProperties(name: string, make: () => Store): void {
  describe(`${name}: conditional writes in one process`, () => {
    it("lets exactly one of many concurrent exclusive creates win", async () => {
      const store = make();
      assert.equal(store.conditionalWrites, true);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.writeConditional("lease", bytes(`writer ${i}`), null)),
      );
      const winners = results.flatMap((v, i) => (v === undefined ? [] : [i]));
      assert.equal(winners.length, 1);
      const got = await store.readVersioned("lease");
      assert.deepEqual(got, { data: bytes(`writer ${winners[0]}`), version: results[winners[0] as number] });
      assert.equal(await store.writeConditional("lease", bytes("late"), null), undefined);
      assert.equal(await store.readVersioned("missing"), undefined);
    });

    it("swaps on the current version only", async () => {
      const store = make();
      const v1 = (await store.writeConditional("state.json", bytes("v1"), null)) as string;
      assert.equal(typeof v1, "string");
      const v2 = (await store.writeConditional("state.json", bytes("v2"), v1)) as string;
      assert.equal(typeof v2, "string");
      assert.notEqual(v2, v1);
      assert.equal(await store.writeConditional("state.json", bytes("v3"), v1), undefined, "stale version");
      assert.deepEqual(await store.readVersioned("state.json"), { data: bytes("v2"), version: v2 });
      // A plain write is a new version too.
      await store.writeBytes("state.json", bytes("plain"));
      assert.equal(await store.writeConditional("state.json", bytes("v3"), v2), undefined);
      // A version of an absent object never matches, and creates nothing.
      assert.equal(await store.writeConditional("absent.json", bytes("x"), v2), undefined);
      assert.equal(await store.exists("absent.json"), false);
      await store.deleteKey("state.json");
      assert.equal(await store.writeConditional("state.json", bytes("v4"), v2), undefined);
      assert.notEqual(await store.writeConditional("state.json", bytes("v4"), null), undefined);
    });

    it("counts to 180 with 6 concurrent writers of 30 increments", async () => {
      const store = make();
      await store.writeConditional("counter", bytes("0"), null);
      const writer = async (): Promise<void> => {
        for (let i = 0; i < 30; i++) {
          for (;;) {
            const cur = (await store.readVersioned("counter")) as { data: Uint8Array; version: string };
            const next = bytes(String(Number(text(cur.data)) + 1));
            if ((await store.writeConditional("counter", next, cur.version)) !== undefined) break;
          }
        }
      };
      await Promise.all(Array.from({ length: 6 }, writer));
      assert.equal(text(await store.readBytes("counter")), "180");
    });

    it("renames a prefix with everything below it and refuses an existing target", async () => {
      const store = make();
      await store.writeBytes("staging/op/year=2024/zarr.json", bytes("doc"));
      await store.writeBytes("staging/op/year=2024/x/c/0", bytes("chunk"));
      await store.writeBytes("year=2025/zarr.json", bytes("other"));
      assert.equal(await store.renamePrefix("staging/op/year=2024", "year=2024"), true);
      assert.deepEqual(await store.list("year=2024"), ["year=2024/x/c/0", "year=2024/zarr.json"]);
      assert.equal(text(await store.readBytes("year=2024/x/c/0")), "chunk");
      assert.equal(await store.exists("staging/op/year=2024"), false);
      assert.equal(await store.exists("staging/op/year=2024/zarr.json"), false);

      await assert.rejects(store.renamePrefix("year=2024", "year=2025"), StoreError);
      assert.equal(text(await store.readBytes("year=2025/zarr.json")), "other");
      assert.equal(text(await store.readBytes("year=2024/zarr.json")), "doc");
      await assert.rejects(store.renamePrefix("nothing-here", "elsewhere"), /nothing-here/);
      await assert.rejects(store.renamePrefix("", "elsewhere"), StoreError);
      await assert.rejects(store.renamePrefix("year=2024", "year=2024/inner"), StoreError);
      assert.equal(text(await store.readBytes("year=2024/zarr.json")), "doc");
      // Objects move too.
      assert.equal(await store.renamePrefix("year=2025/zarr.json", "trash/zarr.json"), true);
      assert.equal(text(await store.readBytes("trash/zarr.json")), "other");
      assert.equal(await store.readBytes("year=2025/zarr.json"), undefined);
    });
  });
}

singleProcessProperties("LocalStore", () => new LocalStore(fresh()));
singleProcessProperties("MemoryStore", () => new MemoryStore());

describe("LocalStore: conditional writes across processes", () => {
  it("counts to 180 with 6 processes of 30 compare-and-swap increments", { timeout: 120_000 }, async () => {
    const dir = fresh();
    const store = new LocalStore(dir);
    await store.writeConditional("state/counter", bytes("0"), null);
    const results = await race(
      dir,
      Array.from({ length: 6 }, () => ["increment", "state/counter", "30"]),
    );
    assert.equal(results.length, 6);
    assert.equal(text(await store.readBytes("state/counter")), "180");
    // Neither temporary nor lock files are left behind, nor listed.
    assert.deepEqual(await readdir(join(dir, "state")), ["counter"]);
  });

  it("lets exactly one of 8 processes create an object", { timeout: 120_000 }, async () => {
    const dir = fresh();
    await mkdir(dir, { recursive: true });
    const results = await race(
      dir,
      Array.from({ length: 8 }, (_, i) => ["create", "leases/p.lease", `writer ${i}`]),
    );
    const winners = results.flatMap((r, i) => (r.won === true ? [i] : []));
    assert.equal(winners.length, 1);
    assert.equal(await readFile(join(dir, "leases", "p.lease"), "utf8"), `writer ${winners[0]}`);
    assert.deepEqual(await readdir(join(dir, "leases")), ["p.lease"]);
  });
});

describe("LocalStore: conditional writes on disk", () => {
  it("is refused on a read-only store", async () => {
    const root = fresh();
    await new LocalStore(root).writeBytes("k", bytes("x"));
    const ro = new LocalStore(root, { readOnly: true });
    assert.equal(ro.conditionalWrites, false);
    await assert.rejects(ro.writeConditional("k", bytes("y"), null), ReadOnlyError);
    await assert.rejects(ro.renamePrefix("k", "l"), ReadOnlyError);
    assert.equal(text((await ro.readVersioned("k"))?.data), "x");
  });

  it("hides lock and temporary files from listings and breaks a stale lock", async () => {
    const root = fresh();
    const store = new LocalStore(root);
    const v1 = (await store.writeConditional("journal/op.json", bytes("1"), null)) as string;
    const lock = join(root, "journal", ".op.json.lock");
    await writeFile(lock, "");
    await writeFile(join(root, "journal", ".op.json.1234.abcdef.tmp"), "torn");
    assert.equal(isTransientName(".op.json.lock"), true);
    assert.equal(isTransientName("op.json"), false);
    assert.deepEqual(await store.listPrefix("journal"), ["op.json"]);
    assert.deepEqual(await store.list(), ["journal/op.json"]);
    // A lock left by a dead process long ago does not block forever.
    const old = new Date(Date.now() - 120_000);
    await utimes(lock, old, old);
    const v2 = await store.writeConditional("journal/op.json", bytes("2"), v1);
    assert.notEqual(v2, undefined);
    assert.equal(existsSync(lock), false);
    assert.equal(text(await store.readBytes("journal/op.json")), "2");
  });

  it("breaks at once a fresh lock left by a process of this host that no longer runs (killed inside a swap)", async () => {
    const root = fresh();
    const store = new LocalStore(root);
    const v1 = (await store.writeConditional("c/state.json", bytes("1"), null)) as string;
    const gone = spawnSync(process.execPath, [
      "-e",
      "process.stdout.write(String(process.pid))",
    ]).stdout.toString();
    await writeFile(join(root, "c", ".state.json.lock"), `${hostname()} ${gone}`);
    const started = Date.now();
    assert.notEqual(await store.writeConditional("c/state.json", bytes("2"), v1), undefined);
    assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms`);
    assert.equal(text(await store.readBytes("c/state.json")), "2");
  });

  it("never gives two writes the same version, even when inode and time repeat", async () => {
    const root = fresh();
    const store = new LocalStore(root);
    const versions = new Set<string>();
    let v = (await store.writeConditional("k", bytes("0"), null)) as string;
    versions.add(v);
    for (let i = 1; i <= 50; i++) {
      v = (await store.writeConditional("k", bytes(String(i % 10)), v)) as string;
      assert.equal(typeof v, "string");
      assert.equal(versions.has(v), false, `version ${v} seen before`);
      versions.add(v);
    }
    assert.equal((await store.readVersioned("k"))?.version, v);
    // Inodes are reused at once and coarse clocks repeat times: the digest of the bytes tells such writes apart.
    const etag = "2a-1b2c3d-1";
    assert.notEqual(contentVersion(etag, bytes("1")), contentVersion(etag, bytes("2")));
    assert.equal(contentVersion(etag, bytes("1")), contentVersion(etag, bytes("1")));
  });

  it("renames a directory in one step (same inode) and creates the target's parent", async () => {
    const root = fresh();
    const store = new LocalStore(root);
    await store.writeBytes("staging/a/zarr.json", bytes("doc"));
    await store.writeBytes("staging/a/v/c/0", bytes("chunk"));
    const before = await stat(join(root, "staging", "a"));
    assert.equal(await store.renamePrefix("staging/a", "deep/new/a"), true);
    const moved = await stat(join(root, "deep", "new", "a"));
    assert.equal(moved.ino, before.ino);
    assert.deepEqual(await store.list("deep"), ["deep/new/a/v/c/0", "deep/new/a/zarr.json"]);
    assert.equal(existsSync(join(root, "staging", "a")), false);
    // A target that exists as a non-empty directory or a file is refused; both stay intact.
    await store.writeBytes("other/zarr.json", bytes("other"));
    await store.writeBytes("file", bytes("f"));
    await assert.rejects(store.renamePrefix("deep/new/a", "other"), /other/);
    await assert.rejects(store.renamePrefix("deep/new/a", "file"), StoreError);
    await assert.rejects(store.renamePrefix("file", "other/zarr.json"), StoreError);
    assert.deepEqual(await store.list(), [
      "deep/new/a/v/c/0",
      "deep/new/a/zarr.json",
      "file",
      "other/zarr.json",
    ]);
    assert.equal(text(await store.readBytes("other/zarr.json")), "other");
  });
});

describe("LocalStore: symbolic links", () => {
  it("refuses to write, read or delete through a link that leads out of the root", async () => {
    const root = fresh();
    const outside = fresh();
    await mkdir(outside, { recursive: true });
    await writeFile(join(outside, "secret"), "outside");
    const store = new LocalStore(root);
    await store.writeBytes("_zcollection.json", bytes("{}"));
    await symlink(outside, join(root, "year=2024"));

    const refused = /'year=2024\/[^']*' resolves outside the store root.*symbolic link/;
    await assert.rejects(store.writeBytes("year=2024/x/c/0", bytes("data")), (err: unknown) => {
      assert.ok(err instanceof StoreError);
      assert.match(err.message, refused);
      assert.ok(err.message.includes(`'year=2024' -> '${outside}'`), err.message);
      return true;
    });
    await assert.rejects(store.writeBytes("year=2024/zarr.json", bytes("data")), refused);
    await assert.rejects(store.writeConditional("year=2024/l.lease", bytes("data"), null), refused);
    await assert.rejects(store.readBytes("year=2024/secret"), refused);
    await assert.rejects(store.readRange("year=2024/secret", { offset: 0, length: 3 }), refused);
    await assert.rejects(store.readVersioned("year=2024/secret"), refused);
    await assert.rejects(store.deleteKey("year=2024/secret"), refused);
    await assert.rejects(store.deletePrefix("year=2024/inner"), refused);
    await assert.rejects(store.renamePrefix("year=2024/secret", "moved"), refused);
    await assert.rejects(store.listPrefix("year=2024"), StoreError);
    assert.deepEqual((await readdir(outside)).sort(), ["secret"]);
    assert.equal(await readFile(join(outside, "secret"), "utf8"), "outside");

    // Not a directory of the store: partition walks never see it.
    assert.deepEqual(await store.listDir(""), []);
    // Deleting the link itself removes the link, not what it points to.
    await store.deletePrefix("year=2024");
    assert.equal(existsSync(join(root, "year=2024")), false);
    assert.equal(await readFile(join(outside, "secret"), "utf8"), "outside");
  });

  it("does not read a file that is a link out of the root", async () => {
    const root = fresh();
    const outside = join(fresh(), "secret");
    await mkdir(join(outside, ".."), { recursive: true });
    await writeFile(outside, "outside");
    const store = new LocalStore(root);
    await store.writeBytes("a/zarr.json", bytes("{}"));
    await symlink(outside, join(root, "a", "leak"));
    await assert.rejects(store.readBytes("a/leak"), /symbolic link/);
    await assert.rejects(store.readRange("a/leak", { suffixLength: 2 }), /symbolic link/);
    await assert.rejects(store.readVersioned("a/leak"), /symbolic link/);
  });

  it("keeps links that stay inside the root working", async () => {
    const root = fresh();
    const store = new LocalStore(root);
    await store.writeBytes("real/zarr.json", bytes("doc"));
    await symlink(join(root, "real"), join(root, "linked"));
    await symlink("zarr.json", join(root, "real", "alias.json"));
    await store.writeBytes("linked/x/c/0", bytes("chunk"));
    assert.equal(text(await store.readBytes("real/x/c/0")), "chunk");
    assert.equal(text(await store.readBytes("linked/zarr.json")), "doc");
    assert.equal(text(await store.readBytes("real/alias.json")), "doc");
    assert.equal(text(await store.readRange("linked/x/c/0", { suffixLength: 2 })), "nk");
    assert.equal(text((await store.readVersioned("linked/zarr.json"))?.data), "doc");
    assert.deepEqual(await store.listDir(""), ["linked", "real"]);
    assert.notEqual(await store.writeConditional("linked/l.lease", bytes("l"), null), undefined);
    await store.deleteKey("linked/x/c/0");
    assert.equal(existsSync(join(root, "real", "x", "c", "0")), false);
  });

  it("accepts a root that is itself a link", async () => {
    const target = fresh();
    await mkdir(target, { recursive: true });
    const root = fresh();
    await symlink(target, root);
    const store = new LocalStore(root);
    await store.writeBytes("year=2024/zarr.json", bytes("doc"));
    assert.equal(await readFile(join(target, "year=2024", "zarr.json"), "utf8"), "doc");
    assert.deepEqual(await store.listDir(""), ["year=2024"]);
  });
});
