/**
 * The command line's side of data safety (docs/safety.md): `repair`, the
 * warnings of `ls`/`inspect`/`query` when the catalog disagrees with the
 * store or an interrupted write awaits recovery, and `ingest` refusing a
 * product that lacks stored variables unless `--fill-missing`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createCollection, openCollection } from "../../src/collection/index.js";
import { encodeJson } from "../../src/json.js";
import { catalogChecksum } from "../../src/partitioning/catalog.js";
import { LocalStore } from "../../src/store/local.js";
import type { Store } from "../../src/store/store.js";
import { seqDataset, seqPartitioning, seqSchema } from "../helpers/collection-fixtures.js";
import { DyingStore } from "../helpers/dying-store.js";
import { DATA_DIR } from "../netcdf/expected.js";
import { runCli, tempDir } from "./helpers.js";

const CS = "CS_OFFL_SIR_TDP_LI_ANTARC_20100718T001450_20100718T001611_01_02650_B001.nc";

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups) await c();
});

async function dir(prefix: string): Promise<string> {
  const t = await tempDir(prefix);
  cleanups.push(t.cleanup);
  return t.dir;
}

/** Expires every record and lease: their writer is gone. */
async function expire(store: Store): Promise<void> {
  for (const key of await store.list("_zc_meta")) {
    if (!key.endsWith(".lease") && !/journal\/[^/]+\.json$/.test(key)) continue;
    const text = new TextDecoder().decode(await store.readBytes(key));
    await store.writeBytes(key, encodeJson({ ...JSON.parse(text), expires: 0 }));
  }
}

describe("zcollection repair and the read commands' warnings", () => {
  it("an interrupted replacement: ls warns and points to repair, repair completes it, then ls is quiet", async () => {
    const path = join(await dir("zc-cli-safety-"), "c");
    const store = new LocalStore(path);
    const col = await createCollection(store, {
      schema: seqSchema(),
      axis: "num",
      partitioning: seqPartitioning(),
      catalogEnabled: true,
    });
    await col.insert(seqDataset(col.schema, [1, 2]));
    // Kill the replacement right after its first commit point.
    for (let dieAt = 1; dieAt < 300; dieAt++) {
      const dying = new DyingStore(store, dieAt);
      const c = await openCollection(dying, { mode: "rw", recover: false });
      await c.insert(seqDataset(c.schema, [1, 2], { offset: 100 })).catch(() => undefined);
      if ((await store.list("_zc_meta/journal")).some((k) => k.endsWith(".intent"))) break;
      await expire(store);
      await openCollection(store, { mode: "rw" });
    }
    await expire(store);

    const ls = await runCli(["ls", path]);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(
      ls.stderr,
      /warning: 1 interrupted write\(s\) await recovery \(insert .* interrupted\); run `zcollection repair /,
    );
    const listed = ls.stdout.trim().split("\n");
    assert.ok(
      listed.every((p) => p === "num=1" || p === "num=2"),
      ls.stdout,
    );

    const repair = await runCli(["repair", path]);
    assert.equal(repair.code, 0, repair.stderr);
    assert.match(repair.stdout, /^recovered interrupted insert \S+ by .*: 1 replacement\(s\) completed/m);

    const again = await runCli(["ls", path]);
    assert.equal(again.stderr, "");
    assert.equal(again.stdout, "num=1\nnum=2\n");
    assert.equal((await runCli(["repair", path])).stdout, "nothing to repair\n");
  });

  it("a catalog listing a gone partition and omitting a stored one: ls, inspect and query show the store and say so", async () => {
    const path = join(await dir("zc-cli-safety-"), "c");
    const col = await createCollection(new LocalStore(path), {
      schema: seqSchema(),
      axis: "num",
      partitioning: seqPartitioning(),
      catalogEnabled: true,
    });
    await col.insert(seqDataset(col.schema, [1, 2, 3]));
    const stale = ["num=1", "num=2", "num=9"];
    await col.store.writeBytes(
      "_catalog/state.json",
      encodeJson({ format_version: 1, paths: stale, checksum: await catalogChecksum(stale) }),
    );
    const ls = await runCli(["ls", path]);
    assert.equal(ls.stdout, "num=1\nnum=2\nnum=3\n");
    assert.match(
      ls.stderr,
      /warning: the catalog of .* disagrees with the store: it lists 1 partition\(s\) that are not there \(num=9\) and omits 1 \(num=3\); showing the partitions in the store\. Run `zcollection repair /,
    );
    const inspect = await runCli(["inspect", path, "--json"]);
    assert.equal(JSON.parse(inspect.stdout).n_partitions, 3);
    const query = await runCli(["query", path, "--format", "csv", "--variables", "num"]);
    assert.equal(query.code, 0, query.stderr);
    assert.deepEqual(query.stdout.trim().split("\n").slice(1), ["1", "2", "3"]);

    const repair = await runCli(["repair", path]);
    assert.match(repair.stdout, /catalog rebuilt from the store: 1 partition\(s\) added, 1 removed/);
    const clean = await runCli(["ls", path]);
    assert.equal(clean.stderr, "");
    assert.equal(clean.stdout, "num=1\nnum=2\nnum=3\n");
  });
});

describe("zcollection ingest of a product lacking stored variables", () => {
  it("is refused (exit 2, the variables named, nothing changed) unless --fill-missing", async () => {
    const path = join(await dir("zc-cli-safety-"), "c");
    const full = await runCli(["ingest", path, join(DATA_DIR, CS), "--key", "date"]);
    assert.equal(full.code, 0, full.stderr);
    const before = await runCli(["query", path, "--format", "csv"]);

    const partial = await runCli([
      "ingest",
      path,
      join(DATA_DIR, CS),
      "--variables",
      "time,elevation,latitude,longitude",
    ]);
    assert.equal(partial.code, 2);
    assert.match(
      partial.stderr,
      /^error: '.*CS_.*\.nc': the inserted dataset lacks \d+ variable\(s\) of the collection \(.*uncertainty.*\)/m,
    );
    // In the terms of the command line: the flag, not the library's insert option.
    assert.match(partial.stderr, /Insert them, or ask for fill values explicitly \(--fill-missing\)\n$/);
    assert.equal((await runCli(["query", path, "--format", "csv"])).stdout, before.stdout);

    const filled = await runCli([
      "ingest",
      path,
      join(DATA_DIR, CS),
      "--variables",
      "time,elevation,latitude,longitude",
      "--fill-missing",
    ]);
    assert.equal(filled.code, 0, filled.stderr);
    const col = await openCollection(path);
    const ds = await col.query({ variables: ["elevation", "uncertainty"] });
    assert.ok(ds);
    // The product's rows carry the variable's fill value where it had none (no _FillValue in the
    // product: the Zarr default, 0).
    const fill = (col.schema.getVariable("uncertainty").fillValue as number | null) ?? 0;
    const uncertainty = Array.from(ds.getVariable("uncertainty").array.data as Float64Array);
    assert.equal(uncertainty.length, 1765);
    assert.ok(
      uncertainty.every((u) => Object.is(u, fill)),
      `fill ${fill}: ${uncertainty.slice(0, 5)}`,
    );
  });
});
