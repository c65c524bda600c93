/**
 * Creating, updating and querying views over a base collection on every
 * store: the on-disk layout Python reads (docs/format.md §10), the errors, the base
 * left untouched.
 */
import assert from "node:assert/strict";
import { cp, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { type Collection, openCollection } from "../../src/collection/index.js";
import type { Dataset } from "../../src/data/dataset.js";
import {
  CollectionExistsError,
  CollectionNotFoundError,
  ReadOnlyError,
  SchemaError,
} from "../../src/errors.js";
import { NDArray } from "../../src/ndarray.js";
import { VariableSchema } from "../../src/schema/index.js";
import { LocalStore } from "../../src/store/local.js";
import { openStore } from "../../src/store/open.js";
import { View, ViewReference } from "../../src/view/index.js";
import { type MotoServer, startMoto } from "../helpers/moto.js";
import { type StaticServer, serveDirectory } from "../helpers/static-server.js";

const FIXTURES = fileURLToPath(new URL("../fixtures/pyzcollection/", import.meta.url));
const PARTITIONS = ["year=2023/month=01", "year=2023/month=02", "year=2023/month=03", "year=2023/month=04"];

function overlayVariables(): VariableSchema[] {
  return [
    new VariableSchema("ssh_corrected", {
      dtype: "float32",
      dimensions: ["time", "x_ac"],
      fillValue: Number.NaN,
      attrs: { units: "m", comment: "ssh - 0.1" },
    }),
    new VariableSchema("flag", { dtype: "int8", dimensions: ["time"], fillValue: -128 }),
  ];
}

function data(ds: Dataset, path: string): NDArray {
  const v = ds.allVariables().get(path);
  assert.ok(v?.data, `variable '${path}'`);
  return v.data as NDArray;
}

/** ssh - 0.1 and the count of NaN per row, as the Python fixture's view computes them. */
function derive(ds: Dataset): Record<string, NDArray> {
  const ssh = data(ds, "ssh");
  const [rows, width] = ssh.shape as [number, number];
  const src = ssh.data as Float32Array;
  const corrected = new Float32Array(src.length);
  const flag = new Int8Array(rows);
  for (let i = 0; i < src.length; i++) corrected[i] = Math.fround((src[i] as number) - Math.fround(0.1));
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < width; c++) if (Number.isNaN(src[r * width + c])) flag[r] = (flag[r] as number) + 1;
  }
  return {
    ssh_corrected: new NDArray("float32", [rows, width], corrected),
    flag: new NDArray("int8", [rows], flag),
  };
}

async function fileTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) {
      const p = join(e.parentPath, e.name);
      out.set(p.slice(dir.length), (await readFile(p)).toString("base64"));
    }
  }
  return out;
}

let dir: string;
let baseDir: string;
let base: Collection;
let baseFull: Dataset;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "zc-view-"));
  baseDir = join(dir, "base");
  await cp(join(FIXTURES, "date_nested"), baseDir, { recursive: true });
  base = await openCollection(baseDir);
  const ds = await base.query();
  assert.ok(ds);
  baseFull = ds;
});
after(() => rm(dir, { recursive: true, force: true }));

describe("View.create / update / query on a local base", () => {
  let view: View;
  let before: Map<string, string>;

  it("creates the view document Python reads (compact JSON, docs/format.md §10)", async () => {
    before = await fileTree(baseDir);
    view = await View.create(join(dir, "v1"), {
      base,
      variables: overlayVariables(),
      reference: "../base",
    });
    const text = await readFile(join(dir, "v1", "_zcollection_view.json"), "utf8");
    const doc = JSON.parse(text);
    assert.deepEqual(Object.keys(doc), ["format_version", "reference", "schema"]);
    assert.equal(doc.format_version, 1);
    assert.deepEqual(doc.reference, { uri: "../base" });
    assert.ok(!text.includes("\n") && !text.includes(": "), "compact JSON");
    assert.deepEqual(
      doc.schema.dimensions.map((d: { name: string }) => d.name),
      [...base.schema.dimensions.keys()],
    );
    assert.deepEqual(
      doc.schema.variables.map((v: { name: string; immutable: boolean }) => [v.name, v.immutable]),
      [
        ["ssh_corrected", false],
        ["flag", false],
      ],
    );
    assert.deepEqual(doc.schema.groups, []);
    assert.deepEqual(view.variables, ["ssh_corrected", "flag"]);
    assert.equal(view.readOnly, false);
  });

  it("a view with no overlay data yet returns the base and fill values", async () => {
    const ds = await view.query({ filters: "month == 2" });
    assert.ok(ds);
    const flag = data(ds, "flag");
    assert.ok((flag.data as Int8Array).every((x) => x === -128));
    assert.ok((data(ds, "ssh_corrected").data as Float32Array).every(Number.isNaN));
    assert.ok(ds.allVariables().has("data_01/ku/sig0"), "nested base groups are kept");
  });

  it("update writes overlay groups with attributes {} and no partition key", async () => {
    const written = await view.update((ds) => {
      assert.ok(ds.allVariables().has("x_ac"), "immutable variables attached");
      assert.ok(ds.allVariables().has("data_01/ku/sig0"), "nested groups included");
      return derive(ds);
    });
    assert.deepEqual(written, PARTITIONS);
    for (const p of PARTITIONS) {
      const group = JSON.parse(await readFile(join(dir, "v1", p, "zarr.json"), "utf8"));
      assert.deepEqual(group.attributes, {});
      const array = JSON.parse(await readFile(join(dir, "v1", p, "ssh_corrected", "zarr.json"), "utf8"));
      assert.deepEqual(array.dimension_names, ["time", "x_ac"]);
      assert.deepEqual(array.attributes, { units: "m", comment: "ssh - 0.1" });
    }
    assert.ok((await readdir(join(dir, "v1"))).includes("zarr.json"), "implicit root group");
  });

  it("query equals the base plus the derived variables, row for row", async () => {
    const ds = await view.query();
    assert.ok(ds);
    const expected = derive(baseFull);
    assert.deepEqual(data(ds, "ssh_corrected").data, expected.ssh_corrected?.data);
    assert.deepEqual(data(ds, "flag").data, expected.flag?.data);
    for (const path of baseFull.allVariables().keys()) {
      assert.deepEqual(data(ds, path).data, data(baseFull, path).data, path);
    }
  });

  it("the Python view fixture holds the same overlay as ours", async () => {
    const python = await View.open(join(FIXTURES, "view_over_date_nested"), { readOnly: true });
    const theirs = await python.query({ variables: ["ssh_corrected"] });
    const ours = await view.query({ variables: ["ssh_corrected"] });
    assert.ok(theirs && ours);
    assert.deepEqual(data(ours, "ssh_corrected").data, data(theirs, "ssh_corrected").data);
    assert.deepEqual([...ours.allVariables().keys()], ["ssh_corrected"]);
  });

  it("update's function sees the base merged with the overlay already written", async () => {
    const seen: number[] = [];
    await view.update(
      (ds) => {
        seen.push((data(ds, "flag").data as Int8Array).reduce((a, b) => a + b, 0));
        assert.deepEqual([...ds.allVariables().keys()], ["flag"], "only what was asked for");
        const flag = data(ds, "flag");
        return {
          flag: new NDArray(
            "int8",
            flag.shape,
            (flag.data as Int8Array).map((x) => x + 1),
          ),
        };
      },
      { filters: "month == 1", variables: ["flag"] },
    );
    const ds = await view.query({ filters: "month == 1" });
    assert.ok(ds);
    const before = derive(ds).flag?.data as Int8Array;
    assert.deepEqual(
      data(ds, "flag").data,
      before.map((x) => x + 1),
    );
    assert.equal(seen.length, 1);
    // ssh_corrected, not returned, is kept.
    assert.deepEqual(data(ds, "ssh_corrected").data, derive(ds).ssh_corrected?.data);
  });

  it("a function returning {} writes nothing but the path is returned", async () => {
    const paths = await view.update(() => ({}), { filters: "month == 4" });
    assert.deepEqual(paths, ["year=2023/month=04"]);
  });

  it("iterate yields each partition merged", async () => {
    const seen: string[] = [];
    for await (const [path, ds] of view.iterate({ variables: ["time", "flag"] })) {
      seen.push(path);
      assert.deepEqual([...ds.allVariables().keys()].sort(), ["flag", "time"]);
      assert.equal(data(ds, "flag").shape[0], data(ds, "time").shape[0]);
    }
    assert.deepEqual(seen, PARTITIONS);
  });

  it("the base's files are byte for byte unchanged", async () => {
    assert.deepEqual(await fileTree(baseDir), before);
  });
});

describe("View errors", () => {
  it("refuses a name of a base variable, an unknown dimension, a twice-given name", async () => {
    await assert.rejects(
      View.create(join(dir, "bad1"), {
        base,
        variables: [new VariableSchema("ssh", { dtype: "float32", dimensions: ["time"] })],
        reference: "x",
      }),
      (e: unknown) =>
        e instanceof SchemaError && /'ssh' collides with a base-collection variable/.test(e.message),
    );
    await assert.rejects(
      View.create(join(dir, "bad2"), {
        base,
        variables: [new VariableSchema("y", { dtype: "float32", dimensions: ["time", "range"] })],
        reference: "x",
      }),
      (e: unknown) => e instanceof SchemaError && /'y' references unknown dimension 'range'/.test(e.message),
    );
  });

  it("refuses an existing view without overwrite, and the base's own store", async () => {
    await View.create(join(dir, "dup"), { base, variables: overlayVariables(), reference: "../base" });
    await assert.rejects(
      View.create(join(dir, "dup"), { base, variables: overlayVariables(), reference: "../base" }),
      CollectionExistsError,
    );
    const again = await View.create(join(dir, "dup"), {
      base,
      variables: overlayVariables().slice(1),
      reference: new ViewReference("../base"),
      overwrite: true,
    });
    assert.deepEqual(again.variables, ["flag"]);
    await assert.rejects(
      View.create(baseDir, { base, variables: overlayVariables(), reference: "." }),
      (e: unknown) => e instanceof CollectionExistsError && /a view needs a store of its own/.test(e.message),
    );
  });

  it("opening a store without a view is CollectionNotFoundError", async () => {
    await assert.rejects(
      View.open(join(dir, "nothing-here"), { base }),
      (e: unknown) => e instanceof CollectionNotFoundError && /no view config at/.test(e.message),
    );
  });

  it("an unknown returned name or a wrong shape is a SchemaError naming it, and nothing is written", async () => {
    const view = await View.create(join(dir, "strict"), {
      base,
      variables: overlayVariables(),
      reference: "../base",
    });
    await assert.rejects(
      view.update((ds) => ({
        flag: new Int8Array(data(ds, "time").shape[0] as number),
        sst: new Float32Array(3),
      })),
      (e: unknown) => e instanceof SchemaError && /returned 'sst'/.test(e.message),
    );
    await assert.rejects(
      view.update(() => ({ flag: new Int8Array(3) })),
      (e: unknown) => e instanceof SchemaError && /'flag'.*has shape \[3\]/.test(e.message),
    );
    await assert.rejects(
      view.update((ds) => ({ flag: new Float64Array(data(ds, "time").shape[0] as number).fill(0.5) })),
      (e: unknown) => e instanceof SchemaError && /'flag': cannot cast float64 to int8/.test(e.message),
    );
    const names = await readdir(join(dir, "strict"));
    assert.ok(!names.includes("year=2023"), `nothing written: ${names.join(", ")}`);
  });

  it("a read-only view refuses update", async () => {
    const view = await View.open(join(dir, "v1"), { base, readOnly: true });
    await assert.rejects(
      view.update(() => ({})),
      ReadOnlyError,
    );
  });
});

describe("base and overlay in different stores", () => {
  let moto: MotoServer;
  let http: StaticServer;
  before(async () => {
    moto = await startMoto();
    http = await serveDirectory(baseDir);
  });
  after(async () => {
    await http.close();
    await moto.stop();
  });

  async function check(view: View): Promise<void> {
    assert.deepEqual(await view.update((ds) => derive(ds)), PARTITIONS);
    const ds = await view.query({ filters: "month >= 3" });
    assert.ok(ds);
    assert.deepEqual(data(ds, "flag").data, derive(ds).flag?.data);
    const full = await view.query();
    assert.equal(data(full as Dataset, "flag").shape[0], data(baseFull, "time").shape[0]);
  }

  it("base over HTTP (read-only), overlay on file://", async () => {
    const view = await View.create(join(dir, "over-http"), {
      base: http.url,
      variables: overlayVariables(),
      reference: http.url,
    });
    assert.ok(view.base.readOnly);
    await check(view);
    assert.ok(!http.requests.some((r) => !r.startsWith("GET ") && !r.startsWith("HEAD ")), "only reads");
    // Opening without a base follows the recorded absolute reference.
    const reopened = await View.open(join(dir, "over-http"), { readOnly: true });
    assert.equal(reopened.base.store.rootUri.replace(/\/$/, ""), http.url);
  });

  it("base on S3 opened read-only, overlay on file://; the bucket is unchanged", async () => {
    const s3 = await openStore(`s3://${moto.bucket}/base`, { storageOptions: moto.storageOptions });
    const local = new LocalStore(baseDir, { readOnly: true });
    for (const key of await local.list("")) {
      const bytes = await local.readBytes(key);
      if (bytes) await s3.writeBytes(key, bytes);
    }
    const keysBefore = (await s3.list("")).sort();
    const s3Base = await openCollection(`s3://${moto.bucket}/base`, { storageOptions: moto.storageOptions });
    const view = await View.create(join(dir, "over-s3"), { base: s3Base, variables: overlayVariables() });
    assert.equal(view.reference.uri, s3Base.store.rootUri);
    await check(view);
    assert.deepEqual((await s3.list("")).sort(), keysBefore);
  });

  it("overlay on S3 and in memory", async () => {
    for (const url of [`s3://${moto.bucket}/overlay`, "memory://view-overlay"]) {
      const view = await View.create(url, {
        base,
        variables: overlayVariables(),
        reference: baseDir,
        ...(url.startsWith("s3") ? { storageOptions: moto.storageOptions } : {}),
      });
      await check(view);
    }
  });

  it("overlay in an Icechunk repository", async () => {
    const view = await View.create(`icechunk://${join(dir, "overlay.icechunk")}`, {
      base,
      variables: overlayVariables(),
      reference: baseDir,
    });
    await check(view);
    const reopened = await View.open(`icechunk://${join(dir, "overlay.icechunk")}`, { readOnly: true });
    const ds = await reopened.query({ filters: "month == 1", variables: ["flag"] });
    assert.ok(ds);
    assert.equal(data(ds, "flag").shape[0], 605);
  });
});
