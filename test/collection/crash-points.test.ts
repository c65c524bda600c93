/**
 * A write crashed at every instant in turn: the store dies at its n-th
 * mutation (every later call fails, as if the process had been killed
 * there), for n = 1, 2, … up to the last mutation of the write. After each
 * crash, recovery (the next read-write open) must leave every partition and
 * the immutable variable with either their old or their new content, the
 * catalog listing exactly the partitions in the store, and a re-run must
 * give the expected result. Deterministic, in-process (memory and local
 * stores, publication by rename and by copy as on S3); the kill tests of
 * real processes are in safety-kill.test.ts.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { type Collection, createCollection, openCollection } from "../../src/collection/index.js";
import { Dataset } from "../../src/data/index.js";
import { datetime64 } from "../../src/dtype.js";
import { decodeJson, encodeJson } from "../../src/json.js";
import * as merge from "../../src/merge/index.js";
import { NDArray } from "../../src/ndarray.js";
import { Date as DatePartitioning } from "../../src/partitioning/index.js";
import { type DatasetSchema, Schema } from "../../src/schema/index.js";
import { LocalStore } from "../../src/store/local.js";
import { MemoryStore } from "../../src/store/memory.js";
import type { Store } from "../../src/store/store.js";
import { DyingStore } from "../helpers/dying-store.js";

const DAYS = 3;
const ROWS = 600;
const VERSION = { A: 1, B: 2, U: 3 } as const;
type Version = keyof typeof VERSION;

function schema(): DatasetSchema {
  return Schema()
    .withDimension("time", { chunks: 256 })
    .withDimension("x", { size: 4, chunks: 4 })
    .withVariable("time", { dtype: "datetime64[s]", dimensions: ["time"] })
    .withVariable("v", { dtype: "float64", dimensions: ["time"], fillValue: Number.NaN })
    .withVariable("x", { dtype: "float64", dimensions: ["x"] })
    .build();
}

const T0 = datetime64("2024-03-01", "s");
const dayPath = (d: number) => `year=2024/month=03/day=0${d + 1}`;

/** Slots of a day: A and B the even ones, U the odd ones plus the first quarter of the even ones. */
function slots(v: Version): number[] {
  const even = Array.from({ length: ROWS }, (_, r) => 2 * r);
  if (v !== "U") return even;
  return [...even.slice(0, ROWS / 4), ...even.map((s) => s + 1)].sort((a, b) => a - b);
}

function dataset(v: Version): Dataset {
  const time: bigint[] = [];
  const values: number[] = [];
  for (let d = 0; d < DAYS; d++) {
    for (const s of slots(v)) {
      time.push(T0 + BigInt(d * 86_400 + s));
      values.push(VERSION[v] * 1e5 + s);
    }
  }
  return Dataset.fromArrays(schema(), {
    time: NDArray.from(BigInt64Array.from(time), { dtype: "datetime64[s]" }),
    v: new Float64Array(values),
    x: new Float64Array([0, 1, 2, 3].map((i) => i + 10 * VERSION[v])),
  });
}

/** The state a day's rows are in: "A", "B", "M" (= upsert(A, U)), or "torn". */
function classify(d: number, ds: Dataset): string {
  const time = ds.getVariable("time").array.data as BigInt64Array;
  const v = ds.getVariable("v").array.data as Float64Array;
  const want = (state: string): Map<number, number> => {
    const m = new Map<number, number>();
    if (state === "A" || state === "B") for (const s of slots(state)) m.set(s, VERSION[state]);
    else {
      for (const s of slots("A")) m.set(s, VERSION.A);
      for (const s of slots("U")) m.set(s, VERSION.U);
    }
    return m;
  };
  for (const state of ["A", "B", "M"]) {
    const m = want(state);
    if (m.size !== time.length) continue;
    let ok = true;
    for (let i = 0; i < time.length && ok; i++) {
      const s = Number((time[i] as bigint) - T0) - d * 86_400;
      ok = m.get(s) !== undefined && v[i] === (m.get(s) as number) * 1e5 + s;
    }
    if (ok) return state;
  }
  return "torn";
}

/** Makes every operation record and lease of the store expired: the crashed writer's time ran out. */
async function expireEverything(store: Store): Promise<void> {
  for (const key of await store.list("_zc_meta")) {
    if (!key.endsWith(".lease") && !/_zc_meta\/journal\/[^/]+\.json$/.test(key)) continue;
    const bytes = await store.readBytes(key);
    if (bytes === undefined) continue;
    const doc = decodeJson(bytes) as Record<string, unknown>;
    await store.writeBytes(key, encodeJson({ ...doc, expires: 0 }));
  }
}

interface Scenario {
  name: string;
  fresh: () => Promise<Store>;
  noRename: boolean;
  catalog: boolean;
  insert: Version;
  upsert: boolean;
  /** Crash at every `step`-th mutation (1: every one). */
  step: number;
}

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function base(scenario: Scenario): Promise<Store> {
  const store = await scenario.fresh();
  const col = await createCollection(store, {
    schema: schema(),
    axis: "time",
    partitioning: new DatePartitioning("time", { resolution: "D" }),
    catalogEnabled: scenario.catalog,
  });
  await col.insert(dataset("A"));
  return store;
}

async function states(col: Collection): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const [path, ds] of col.iterate({ fromStore: true })) {
    const d = Array.from({ length: DAYS }, (_, i) => i).find((i) => dayPath(i) === path);
    out.set(path, d === undefined ? "foreign" : classify(d, ds));
  }
  return out;
}

async function immutableState(col: Collection): Promise<number | undefined> {
  const ds = await col.query({ fromStore: true });
  if (ds === null || !ds.allVariables().has("x")) return undefined;
  return ((ds.getVariable("x").array.data as Float64Array)[0] as number) / 10;
}

async function runAt(scenario: Scenario, dieAt: number): Promise<{ died: boolean }> {
  const inner = await base(scenario);
  const dying = new DyingStore(inner, dieAt, { noRename: scenario.noRename });
  const col = await openCollection(dying, { mode: "rw" });
  const done = await col
    .insert(dataset(scenario.insert), scenario.upsert ? { merge: merge.upsert } : {})
    .then(
      () => true,
      (err: unknown) => {
        if ((err as Error).name !== "Crash") throw err;
        return false;
      },
    );
  const final = scenario.upsert ? "M" : scenario.insert;
  await expireEverything(inner);
  const recovered = await openCollection(inner, { mode: "rw" });
  const seen = await states(recovered);
  const where = `${scenario.name}, crash at mutation ${dieAt}`;
  assert.equal(seen.size, DAYS, `${where}: partitions in the store ${[...seen.keys()]}`);
  for (const [path, state] of seen)
    assert.ok(state === "A" || state === final, `${where}: ${path} is ${state}`);
  assert.ok(
    [VERSION.A, VERSION[scenario.insert]].includes(((await immutableState(recovered)) ?? 0) as 1),
    where,
  );
  if (scenario.catalog) {
    assert.deepEqual(
      await recovered.partitions(),
      await recovered.partitions({ fromStore: true }),
      `${where}: catalog`,
    );
  }
  assert.deepEqual(await inner.listPrefix("_zc_meta/journal"), [], `${where}: journal left behind`);
  // A re-run completes the insert.
  await recovered.insert(dataset(scenario.insert), scenario.upsert ? { merge: merge.upsert } : {});
  const end = await states(recovered);
  assert.deepEqual([...end.values()], Array(DAYS).fill(final), `${where}: after re-run`);
  assert.equal(await immutableState(recovered), VERSION[scenario.insert], `${where}: immutable after re-run`);
  return { died: !done };
}

const memory = async () => new MemoryStore();
const local = async () => {
  const dir = await mkdtemp(join(tmpdir(), "zc-crashpoints-"));
  dirs.push(dir);
  return new LocalStore(join(dir, "c"));
};

const scenarios: Scenario[] = [
  {
    name: "replace, memory (rename)",
    fresh: memory,
    noRename: false,
    catalog: false,
    insert: "B",
    upsert: false,
    step: 1,
  },
  {
    name: "replace, memory (copy, as S3), catalog",
    fresh: memory,
    noRename: true,
    catalog: true,
    insert: "B",
    upsert: false,
    step: 1,
  },
  {
    name: "upsert, memory (rename), catalog",
    fresh: memory,
    noRename: false,
    catalog: true,
    insert: "U",
    upsert: true,
    step: 1,
  },
  {
    name: "upsert, memory (copy, as S3)",
    fresh: memory,
    noRename: true,
    catalog: false,
    insert: "U",
    upsert: true,
    step: 1,
  },
  {
    name: "replace, local disk, catalog",
    fresh: local,
    noRename: false,
    catalog: true,
    insert: "B",
    upsert: false,
    step: 3,
  },
  {
    name: "upsert, local disk",
    fresh: local,
    noRename: false,
    catalog: false,
    insert: "U",
    upsert: true,
    step: 3,
  },
];

describe("a write crashed at every instant", { timeout: 600_000 }, () => {
  for (const scenario of scenarios) {
    it(`${scenario.name}: every partition old or new, catalog right, re-run complete`, async () => {
      // How many mutations the whole write makes.
      const inner = await base(scenario);
      const probe = new DyingStore(inner, Number.POSITIVE_INFINITY, { noRename: scenario.noRename });
      await (await openCollection(probe, { mode: "rw" })).insert(
        dataset(scenario.insert),
        scenario.upsert ? { merge: merge.upsert } : {},
      );
      const total = probe.mutations;
      assert.ok(total > 20, `only ${total} mutations`);
      let died = 0;
      let runs = 0;
      for (let n = 1; n <= total + 1; n += scenario.step) {
        runs++;
        if ((await runAt(scenario, n)).died) died++;
      }
      assert.ok(died >= (runs - 1) * 0.9, `the write died at ${died} of ${runs} instants`);
    });
  }
});
