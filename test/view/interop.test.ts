/**
 * Views written by the Python zcollection (test/fixtures/pyzcollection):
 * we read their overlay exactly, and where Python raises or drops data
 * (partial overlays, nested groups) we return what docs/behaviour.md §18 #8 decides.
 */
import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { openCollection } from "../../src/collection/index.js";
import { readPartition, selectPaths } from "../../src/collection/partition-io.js";
import type { Dataset } from "../../src/data/dataset.js";
import type { NDArray } from "../../src/ndarray.js";
import { LocalStore } from "../../src/store/local.js";
import { View, ViewReference } from "../../src/view/index.js";
import { canonicalSha256 } from "../helpers/zarr-cases.js";

const FIXTURES = fileURLToPath(new URL("../fixtures/pyzcollection/", import.meta.url));

interface VariableDoc {
  dtype?: string;
  shape: number[];
  sha256: string;
}
interface FilteredDoc {
  filters: string | null;
  select?: string[];
  partitions: string[];
  rows?: number;
  variables?: Record<string, VariableDoc>;
  raises?: { type: string; match: string };
}
interface ViewDoc {
  reference: { uri: string };
  view_variables: Record<string, { dtype: string; dimensions: string[]; fill_value: unknown }>;
  overlay: Record<string, Record<string, VariableDoc>>;
  partitions: string[];
  rows?: number;
  variables?: Record<string, VariableDoc>;
  raises?: { type: string; match: string };
  filtered: FilteredDoc[];
}
interface Expected {
  date_nested: { variables: Record<string, VariableDoc>; rows_per_partition: Record<string, number> };
  view_over_date_nested: ViewDoc;
  view_partial: ViewDoc;
}

let expected: Expected;
before(async () => {
  expected = JSON.parse(await readFile(join(FIXTURES, "expected.json"), "utf8")) as Expected;
});

function array(ds: Dataset, path: string): NDArray {
  const v = ds.allVariables().get(path);
  assert.ok(v, `variable '${path}' in the result`);
  return v.data as NDArray;
}

function assertVariables(ds: Dataset, docs: Record<string, VariableDoc>, what: string): void {
  for (const [path, doc] of Object.entries(docs)) {
    const a = array(ds, path);
    assert.deepEqual(a.shape, doc.shape, `${what}: shape of ${path}`);
    assert.equal(canonicalSha256(a), doc.sha256, `${what}: values of ${path}`);
  }
}

for (const name of ["view_over_date_nested", "view_partial"] as const) {
  describe(`Python view ${name}`, () => {
    let view: View;
    before(async () => {
      // The reference "../date_nested" is resolved against the view's own URL.
      view = await View.open(join(FIXTURES, name), { readOnly: true });
    });

    it("opens with the recorded reference, schema and base", () => {
      const doc = expected[name];
      assert.equal(view.reference.uri, doc.reference.uri);
      assert.ok(view.reference instanceof ViewReference);
      assert.deepEqual([...view.variables].sort(), Object.keys(doc.view_variables).sort());
      for (const [v, vd] of Object.entries(doc.view_variables)) {
        const vs = view.viewSchema.getVariable(v);
        assert.deepEqual([...vs.dimensions], vd.dimensions);
      }
      assert.ok(view.readOnly);
      assert.equal(view.base.store.rootUri, `file://${join(FIXTURES, "date_nested")}`);
    });

    it("lists the base partitions", async () => {
      assert.deepEqual(await view.partitions(), expected[name].partitions);
    });

    it("holds exactly the overlay Python wrote, partition by partition", async () => {
      const store = new LocalStore(join(FIXTURES, name), { readOnly: true });
      for (const path of expected[name].partitions) {
        const ds = await readPartition(store, path, view.viewSchema, selectPaths(view.viewSchema, undefined));
        const doc = expected[name].overlay[path];
        if (doc === undefined) {
          assert.equal(ds, undefined, `${path} has no overlay`);
          continue;
        }
        assert.ok(ds);
        assert.deepEqual([...ds.allVariables().keys()].sort(), Object.keys(doc).sort(), path);
        assertVariables(ds, doc, `${name} ${path}`);
      }
    });

    it("query() returns base and overlay; nested base groups are kept", async () => {
      const ds = await view.query();
      assert.ok(ds);
      const doc = expected[name];
      if (doc.variables) assertVariables(ds, doc.variables, `${name} query()`);
      // Python drops data_01/ku/sig0 whenever overlay data is merged: we keep it, as the base holds it.
      assertVariables(
        ds,
        { "data_01/ku/sig0": expected.date_nested.variables["data_01/ku/sig0"] as VariableDoc },
        `${name} query()`,
      );
    });

    it("filtered queries match Python where Python succeeds", async () => {
      for (const f of expected[name].filtered) {
        if (f.raises !== undefined || f.variables === undefined) continue;
        const ds = await view.query({ filters: f.filters, ...(f.select ? { variables: f.select } : {}) });
        assert.ok(ds, `query(${f.filters})`);
        assertVariables(ds, f.variables, `${name} query(${f.filters}, ${f.select?.join(",")})`);
        if (f.select) {
          // Exactly what was asked for (Python drops the nested variable: we return it).
          const got = [...ds.allVariables().keys()].sort();
          assert.deepEqual(got, [...f.select].sort(), `selection of query(${f.filters})`);
        }
      }
    });
  });
}

describe("Python view_partial: partitions without overlay data", () => {
  let view: View;
  let full: Dataset;
  before(async () => {
    view = await View.open(join(FIXTURES, "view_partial"), { readOnly: true });
    const ds = await view.query();
    assert.ok(ds);
    full = ds;
  });

  it("query() succeeds where Python raises, with fill values for the missing overlay rows", async () => {
    const rows = expected.date_nested.rows_per_partition;
    const order = expected.view_partial.partitions;
    const total = order.reduce((n, p) => n + (rows[p] as number), 0);
    const flag = array(full, "flag");
    const ssh = array(full, "ssh_corrected");
    assert.equal(flag.shape[0], total);
    assert.equal(ssh.shape[0], total);
    let start = 0;
    const overlay = expected.view_partial.overlay;
    for (const path of order) {
      const n = rows[path] as number;
      const flagPart = flag.slice(start, start + n);
      const sshPart = ssh.slice(start, start + n);
      const doc = overlay[path];
      if (doc?.flag) assert.equal(canonicalSha256(flagPart), doc.flag.sha256, `flag of ${path}`);
      else
        assert.ok(
          (flagPart.data as Int8Array).every((x) => x === -128),
          `flag of ${path} is its fill value`,
        );
      if (doc?.ssh_corrected) assert.equal(canonicalSha256(sshPart), doc.ssh_corrected.sha256);
      else
        assert.ok(
          (sshPart.data as Float32Array).every((x) => Number.isNaN(x)),
          `ssh_corrected of ${path}`,
        );
      start += n;
    }
  });

  it("the base variables equal the base collection's", async () => {
    const base = await openCollection(join(FIXTURES, "date_nested"));
    const ds = await base.query();
    assert.ok(ds);
    for (const path of ["time", "ssh", "surface_type", "x_ac", "data_01/ku/sig0"]) {
      assert.equal(canonicalSha256(array(full, path)), canonicalSha256(array(ds, path)), path);
    }
  });
});

describe("views on a copy of the Python fixtures", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "zc-view-py-"));
    await cp(join(FIXTURES, "date_nested"), join(dir, "date_nested"), { recursive: true });
    await cp(join(FIXTURES, "view_partial"), join(dir, "view_partial"), { recursive: true });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("update() on a Python view fills in the missing overlay, keeping what Python wrote", async () => {
    const view = await View.open(join(dir, "view_partial"));
    const before = expected.view_partial.overlay;
    const written = await view.update(
      (ds, path): Record<string, Int8Array> => {
        const ssh = array(ds, "ssh").data as Float32Array;
        const flag = array(ds, "flag");
        // What Python wrote is visible to the function: March has ssh_corrected, no flag.
        if (path === "year=2023/month=03") {
          assert.ok((flag.data as Int8Array).every((x) => x === -128));
          assert.equal(canonicalSha256(array(ds, "ssh_corrected")), before[path]?.ssh_corrected?.sha256);
        }
        return before[path]?.flag
          ? {}
          : {
              flag: Int8Array.from(
                ssh.filter((_, i) => i % 10 === 0),
                () => 1,
              ),
            };
      },
      { variables: ["ssh", "flag", "ssh_corrected"] },
    );
    assert.deepEqual(written, expected.view_partial.partitions);
    const store = new LocalStore(join(dir, "view_partial"), { readOnly: true });
    const march = await readPartition(
      store,
      "year=2023/month=03",
      view.viewSchema,
      selectPaths(view.viewSchema, undefined),
    );
    assert.ok(march);
    // The ssh_corrected Python wrote is kept; the new flag is there.
    assert.equal(
      canonicalSha256(array(march, "ssh_corrected")),
      before["year=2023/month=03"]?.ssh_corrected?.sha256,
    );
    assert.ok((array(march, "flag").data as Int8Array).every((x) => x === 1));
    const jan = await readPartition(
      store,
      "year=2023/month=01",
      view.viewSchema,
      selectPaths(view.viewSchema, undefined),
    );
    assert.ok(jan);
    assert.equal(canonicalSha256(array(jan, "flag")), before["year=2023/month=01"]?.flag?.sha256);
  });
});
