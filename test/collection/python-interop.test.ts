/**
 * Collections written by the Python zcollection (test/fixtures/pyzcollection,
 * expected.json): `strings` (str variables stored as zarr-python's
 * `fixed_length_utf32`, schema dtype `<U0`), `sequence` and `date_nested`
 * open and query to exactly what Python read — every variable's canonical
 * SHA-256, the filtered queries, a query of only the non-string variables —
 * and we insert into a copy of `strings` (a new partition, a merge into a
 * partition Python wrote) and read the right strings back.
 *
 * Python lists and concatenates partitions in lexicographic path order
 * (`cycle_number=12` before `cycle_number=3`); we use the natural order
 * (docs/behaviour.md §18 #4). Results are compared after putting our rows in
 * Python's partition order, using `rows_per_partition`.
 */
import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { type Collection, openCollection } from "../../src/collection/index.js";
import { Dataset } from "../../src/data/index.js";
import { type AnyStorage, type DType, fromNumpyDtype, type TypedArray } from "../../src/dtype.js";
import { NDArray } from "../../src/ndarray.js";
import { LocalStore } from "../../src/store/local.js";
import { readArray, readArrayMetadata } from "../../src/zarr/index.js";
import { RecordingStore } from "../helpers/collection-fixtures.js";
import { canonicalSha256, utf32Sha256 } from "../helpers/zarr-cases.js";

const FIXTURES = fileURLToPath(new URL("../fixtures/pyzcollection/", import.meta.url));

interface VariableDoc {
  dtype: string;
  shape: number[];
  dimensions: string[];
  attrs: Record<string, unknown>;
  sha256: string;
  values?: string[];
  /** numpy dtype of Python's query result for a string variable (`<U6`). */
  query_dtype?: string;
  /** SHA-256 of that result's raw UTF-32LE buffer. */
  sha256_utf32?: string;
  zarr_data_type?: Record<string, unknown>;
}
interface FilteredDoc {
  filters: string;
  select?: string[];
  partitions: string[];
  rows: number;
  variables: Record<string, { shape: number[]; sha256: string }>;
}
interface CollectionDoc {
  axis: string;
  partitions: string[];
  rows: number;
  rows_per_partition: Record<string, number>;
  variables: Record<string, VariableDoc>;
  filtered: FilteredDoc[];
}
type Expected = Record<"strings" | "sequence" | "date_nested", CollectionDoc>;

let expected: Expected;
before(async () => {
  expected = JSON.parse(await readFile(join(FIXTURES, "expected.json"), "utf8")) as Expected;
});

function arrayOf(ds: Dataset, path: string): NDArray {
  const v = ds.allVariables().get(path);
  assert.ok(v, `variable '${path}' in the result`);
  return v.array;
}

/**
 * The rows of `a` (partition axis first) reordered from our partition order
 * to `pythonOrder`, each partition holding `rows[p]` rows.
 */
function toPythonOrder(
  a: NDArray,
  ourOrder: readonly string[],
  pythonOrder: readonly string[],
  rows: Readonly<Record<string, number>>,
): NDArray {
  const start = new Map<string, number>();
  let at = 0;
  for (const p of ourOrder) {
    start.set(p, at);
    at += rows[p] as number;
  }
  assert.equal(at, a.shape[0], "rows of the result = sum of the partitions' rows");
  const rowSize = a.shape.slice(1).reduce((x, y) => x * y, 1);
  const src = a.data as AnyStorage;
  const pieces = pythonOrder.map((p) => {
    const s = (start.get(p) as number) * rowSize;
    return [s, s + (rows[p] as number) * rowSize] as const;
  });
  let out: AnyStorage;
  if (Array.isArray(src)) {
    out = pieces.flatMap(([s, e]) => src.slice(s, e));
  } else {
    const typed = src as TypedArray;
    const dst = new (typed.constructor as new (n: number) => TypedArray)(typed.length);
    let o = 0;
    for (const [s, e] of pieces) {
      dst.set(typed.subarray(s, e) as never, o);
      o += e - s;
    }
    out = dst;
  }
  return new NDArray(a.dtype, [...a.shape], out as never);
}

/** The strings Python read from one partition of a string variable (its rows of `values`). */
function pythonStrings(doc: CollectionDoc, path: string, partition: string): string[] {
  const values = doc.variables[path]?.values;
  assert.ok(values, `values of ${path}`);
  let start = 0;
  for (const p of doc.partitions) {
    if (p === partition) break;
    start += doc.rows_per_partition[p] as number;
  }
  return values.slice(start, start + (doc.rows_per_partition[partition] as number));
}

/** Whether the variable spans the partition axis (as its first dimension). */
function isPartitioned(doc: CollectionDoc, path: string): boolean {
  return doc.variables[path]?.dimensions[0] === doc.axis;
}

function sorted(xs: Iterable<string>): string[] {
  return [...xs].sort();
}

/**
 * Checks `ds` (the result of a query over `ours`, our order) against the
 * variables Python found over `python` (its order).
 */
function assertResult(
  ds: Dataset,
  doc: CollectionDoc,
  ours: readonly string[],
  python: readonly string[],
  variables: Readonly<Record<string, { shape: number[]; sha256: string }>>,
  what: string,
): void {
  assert.deepEqual(sorted(ds.allVariables().keys()), sorted(Object.keys(variables)), `${what}: variables`);
  for (const [path, v] of Object.entries(variables)) {
    const raw = arrayOf(ds, path);
    assert.deepEqual(raw.shape, v.shape, `${what}: shape of ${path}`);
    const a = isPartitioned(doc, path) ? toPythonOrder(raw, ours, python, doc.rows_per_partition) : raw;
    assert.equal(canonicalSha256(a), v.sha256, `${what}: values of ${path}`);
  }
}

for (const name of ["strings", "sequence", "date_nested"] as const) {
  describe(`Python collection ${name}`, () => {
    let collection: Collection;
    let ours: string[];
    before(async () => {
      collection = await openCollection(join(FIXTURES, name), { mode: "r" });
      ours = await collection.partitions();
    });

    it("lists the partitions Python wrote (in our natural order)", () => {
      const doc = expected[name];
      assert.deepEqual(sorted(ours), sorted(doc.partitions));
      if (name === "sequence") {
        // Python: cycle_number=12 before cycle_number=3, pass_number=101 before pass_number=7.
        assert.deepEqual(ours, [
          "cycle_number=3/pass_number=7",
          "cycle_number=3/pass_number=8",
          "cycle_number=3/pass_number=101",
          "cycle_number=12/pass_number=7",
          "cycle_number=12/pass_number=9",
        ]);
      }
    });

    it("reads the schema: dtypes, dimensions, attributes", () => {
      const doc = expected[name];
      for (const [path, v] of Object.entries(doc.variables)) {
        const vs = collection.schema.getVariable(path);
        assert.equal(vs.dtype, fromNumpyDtype(v.dtype), `dtype of ${path}`);
        assert.deepEqual([...vs.dimensions], v.dimensions, `dimensions of ${path}`);
        assert.deepEqual(vs.attrs, v.attrs, `attributes of ${path}`);
      }
    });

    it("queries every variable exactly (canonical SHA-256)", async () => {
      const doc = expected[name];
      const ds = await collection.query();
      assert.ok(ds);
      assertResult(ds, doc, ours, doc.partitions, doc.variables, "full query");
      for (const [path, v] of Object.entries(doc.variables)) {
        if (v.values === undefined) continue;
        const a = toPythonOrder(arrayOf(ds, path), ours, doc.partitions, doc.rows_per_partition);
        assert.equal(a.dtype, "string");
        assert.deepEqual(a.data, v.values, `strings of ${path}`);
        // The same bytes as Python's `<U n` result, padded to its width.
        const width = Number(/^[<>]U(\d+)$/.exec(v.query_dtype ?? "")?.[1]);
        assert.equal(utf32Sha256(a, width), v.sha256_utf32, `UTF-32 buffer of ${path}`);
      }
    });

    it("runs the filtered queries Python ran", async () => {
      const doc = expected[name];
      for (const f of doc.filtered) {
        const what = `filters "${f.filters}"${f.select ? ` select ${f.select.join(",")}` : ""}`;
        const matched = await collection.partitions({ filters: f.filters });
        assert.deepEqual(sorted(matched), sorted(f.partitions), `${what}: partitions`);
        const ds = await collection.query({
          filters: f.filters,
          ...(f.select === undefined ? {} : { variables: f.select }),
        });
        assert.ok(ds, what);
        assertResult(ds, doc, matched, f.partitions, f.variables, what);
      }
    });
  });
}

describe("Python collection strings: string variables", () => {
  it("stores each partition's strings as fixed_length_utf32 of the insert's width, read as string", async () => {
    const doc = expected.strings;
    const store = new LocalStore(join(FIXTURES, "strings"), { readOnly: true });
    for (const variable of ["station", "label"]) {
      const widths = doc.variables[variable]?.zarr_data_type as Record<string, unknown>;
      for (const [partition, dataType] of Object.entries(widths)) {
        const meta = await readArrayMetadata(store, `${partition}/${variable}`);
        assert.ok(meta);
        assert.equal(meta.dtype, "string");
        assert.deepEqual(meta.dataType, dataType, `${partition}/${variable}`);
        assert.equal(meta.fillValue, "");
        const a = await readArray(store, `${partition}/${variable}`, { metadata: meta });
        assert.equal(a.shape[0], doc.rows_per_partition[partition]);
      }
    }
  });

  it("a query of only non-string variables reads no string array", async () => {
    const doc = expected.strings;
    const probe = new RecordingStore(new LocalStore(join(FIXTURES, "strings"), { readOnly: true }));
    const collection = await openCollection(probe, { mode: "r" });
    const ours = await collection.partitions();
    probe.reset();
    const ds = await collection.query({ variables: ["time", "value", "pass_number"] });
    assert.ok(ds);
    const want = Object.fromEntries(
      ["time", "value", "pass_number"].map((p) => [p, doc.variables[p] as VariableDoc]),
    );
    assertResult(ds, doc, ours, doc.partitions, want, "non-string query");
    assert.deepEqual(
      probe.reads.filter((k) => /\/(station|label)\//.test(k)),
      [],
      "no key of station or label read",
    );
  });
});

describe("inserting into a collection Python wrote (strings)", () => {
  let dir: string;
  let collection: Collection;
  let store: LocalStore;
  const newStation = ["Ушуайя", "", "🌊🌊-buoy-longer-than-any-python-width-東京", "TLS"];
  const newLabel = ["c8p3-ñ", "x", "", "🌊"];
  const mergedStation = ["KRU", "", "Nouméa-2"];
  const mergedLabel = ["merged-ñ-🌊", "", "m2"];

  function rows(schemaOf: Collection, cycle: number, passes: number[], station: string[], label: string[]) {
    const n = passes.length;
    const t0 = 1_710_000_000_000n;
    return Dataset.fromArrays(schemaOf.schema, {
      cycle_number: new Int16Array(n).fill(cycle),
      pass_number: Int16Array.from(passes),
      time: NDArray.from(BigInt64Array.from(passes.map((p, i) => t0 + BigInt(p * 1000 + i))), {
        dtype: "datetime64[ms]" as DType,
      }),
      station,
      label,
      value: Float32Array.from(passes.map((p) => p / 4)),
    });
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "zc-pystrings-"));
    await cp(join(FIXTURES, "strings"), dir, { recursive: true });
    store = new LocalStore(dir);
    collection = await openCollection(store, { mode: "rw" });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("adds a new partition and merges into one Python wrote; reads back the right strings", async () => {
    const doc = expected.strings;
    const written = await collection.insert(rows(collection, 8, [3, 4, 5, 6], newStation, newLabel));
    assert.deepEqual(written, ["cycle_number=8/pass_number=1"]);
    const merged = await collection.insert(rows(collection, 6, [2, 7, 9], mergedStation, mergedLabel), {
      merge: "concat",
    });
    assert.deepEqual(merged, ["cycle_number=6/pass_number=1"]);

    const reopened = await openCollection(dir, { mode: "r" });
    const fresh = await reopened.query({ filters: "cycle_number == 8" });
    assert.ok(fresh);
    assert.deepEqual(arrayOf(fresh, "station").data, newStation);
    assert.deepEqual(arrayOf(fresh, "label").data, newLabel);

    // Concat appends our rows after the ones Python stored in cycle_number=6/pass_number=1.
    const six = await reopened.query({ filters: "cycle_number == 6" });
    assert.ok(six);
    for (const [path, added] of [
      ["station", mergedStation],
      ["label", mergedLabel],
    ] as const) {
      const python = pythonStrings(doc, path, "cycle_number=6/pass_number=1");
      assert.deepEqual(arrayOf(six, path).data, [...python, ...added], `merged ${path}`);
    }

    // The partitions we did not touch still read as Python wrote them.
    for (const partition of doc.partitions.filter((p) => !p.startsWith("cycle_number=6/"))) {
      const [cycle, pass] = partition.split("/").map((kv) => kv.split("=")[1]);
      const ds = await reopened.query({ filters: `cycle_number == ${cycle} and pass_number == ${pass}` });
      assert.ok(ds, partition);
      for (const path of ["station", "label"]) {
        assert.deepEqual(arrayOf(ds, path).data, pythonStrings(doc, path, partition), `${partition}/${path}`);
      }
    }
  });

  it("writes what we wrote as variable-length UTF-8 (string + vlen-utf8); Python's partitions keep fixed_length_utf32", async () => {
    for (const partition of ["cycle_number=8/pass_number=1", "cycle_number=6/pass_number=1"]) {
      for (const variable of ["station", "label"]) {
        const doc = JSON.parse(await readFile(join(dir, partition, variable, "zarr.json"), "utf8")) as {
          data_type: unknown;
          fill_value: unknown;
          codecs: { name: string; configuration?: { codecs?: { name: string }[] } }[];
        };
        assert.equal(doc.data_type, "string", `${partition}/${variable}`);
        assert.equal(doc.fill_value, "");
        const names = doc.codecs.flatMap((c) =>
          c.name === "sharding_indexed" ? (c.configuration?.codecs ?? []).map((i) => i.name) : [c.name],
        );
        assert.equal(names[0], "vlen-utf8", `${partition}/${variable} serializer`);
      }
    }
    const untouched = (await readArrayMetadata(store, "cycle_number=5/pass_number=51/label"))?.dataType;
    assert.deepEqual(untouched, { name: "fixed_length_utf32", configuration: { length_bytes: 60 } });
    // The schema keeps Python's declaration.
    const config = JSON.parse(await readFile(join(dir, "_zcollection.json"), "utf8")) as {
      schema: { variables: { name: string; dtype: string }[] };
    };
    assert.equal(config.schema.variables.find((v) => v.name === "station")?.dtype, "<U0");
  });
});
