/**
 * `collection.query({ rows })` / `iterate({ rows })`: only the rows an
 * index selects are read, and only the chunks (inner chunks of shards)
 * holding them are fetched. Every result is compared, variable by variable
 * and value by value, with the same rows cut from a full query — on real
 * products (Sentinel-6A, sharded; ASCAT 2-D swaths, unsharded, hourly
 * partitions), on the collection written by Python zcollection (sharded,
 * with an absent inner chunk and a partial last shard) and over S3.
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { alongTrackDay, runsOf, S6A_PRODUCTS } from "../../src/bench/rows.js";
import { profile } from "../../src/codecs/index.js";
import { type Collection, createCollection, openCollection } from "../../src/collection/index.js";
import * as config from "../../src/config.js";
import { concatRows, Dataset, takeRows } from "../../src/data/index.js";
import { PartitionError } from "../../src/errors.js";
import { NDArray } from "../../src/ndarray.js";
import { openNetCDF } from "../../src/netcdf/index.js";
import { DatePartitioning } from "../../src/partitioning/index.js";
import { SchemaBuilder } from "../../src/schema/index.js";
import { CountingStore } from "../../src/store/counting.js";
import { MemoryStore } from "../../src/store/memory.js";
import { openStore } from "../../src/store/open.js";
import type { Store } from "../../src/store/store.js";
import {
  decodeShardIndex,
  EMPTY,
  normalizeRowRanges,
  parseSharding,
  planRowSpans,
  readArrayMetadata,
  readArrayRanges,
  writeArray,
} from "../../src/zarr/index.js";
import { captureWarnings, RecordingStore } from "../helpers/collection-fixtures.js";
import { type MotoServer, startMoto } from "../helpers/moto.js";

const DATA = "examples/data";
const S6A = S6A_PRODUCTS.map((f) => `${DATA}/${f}`);
const ASCAT = [
  "ascat_20150702_084200_metopa_45145_eps_o_250_2300_ovw.l2.nc",
  "ascat_20150702_102400_metopa_45146_eps_o_250_2300_ovw.l2.nc",
].map((f) => `${DATA}/${f}`);
const DATE_NESTED = fileURLToPath(new URL("../fixtures/pyzcollection/date_nested", import.meta.url));

type Ranges = Array<[number, number]>;

// ---------------------------------------------------------------------------
// oracle: the same rows cut from a full query

/** Rows of each partition (natural order), read through `iterate` of one variable along `dim`. */
async function partitionLengths(col: Collection, variable: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const [path, ds] of col.iterate({ variables: [variable] })) {
    out.set(
      path,
      ds.getVariable(variable).shape[
        col.schema.getVariable(variable).dimensions.indexOf(col.dimension)
      ] as number,
    );
  }
  return out;
}

/**
 * The rows `rows` selects, cut from `col.query(opts)` (all partitions
 * matching the filters, concatenated): ranges sorted, merged, clamped.
 */
async function cutFromFullQuery(
  col: Collection,
  rows: ReadonlyMap<string, ReadonlyArray<readonly [number, number]>>,
  lengths: ReadonlyMap<string, number>,
  opts: { filters?: string; variables?: string[] } = {},
): Promise<Dataset | null> {
  const full = await col.query(opts);
  if (full === null) return null;
  const matching = await col.partitions(opts.filters === undefined ? {} : { filters: opts.filters });
  const indices: number[] = [];
  let offset = 0;
  for (const path of matching) {
    const n = lengths.get(path) ?? 0;
    for (const [a, b] of normalizeRowRanges(rows.get(path) ?? [], path)) {
      for (let i = a; i < Math.min(b, n); i++) indices.push(offset + i);
    }
    offset += n;
  }
  return takeRows(full, col.dimension, indices);
}

/** Asserts same variables (paths), dtypes, shapes and values (`Object.is`: NaN equals NaN, -0 is not 0). */
function assertSameData(got: Dataset | null, want: Dataset | null, what: string): void {
  assert.ok(got !== null && want !== null, `${what}: a dataset on both sides`);
  const g = got.allVariables();
  const w = want.allVariables();
  assert.deepEqual([...g.keys()].sort(), [...w.keys()].sort(), `${what}: variables`);
  for (const [path, v] of w) {
    const a = (g.get(path) as typeof v).array;
    const b = v.array;
    assert.equal(a.dtype, b.dtype, `${what}: dtype of ${path}`);
    assert.deepEqual(a.shape, b.shape, `${what}: shape of ${path}`);
    const x = a.data as ArrayLike<unknown>;
    const y = b.data as ArrayLike<unknown>;
    for (let i = 0; i < y.length; i++) {
      if (!Object.is(x[i], y[i]))
        assert.fail(`${what}: ${path}[${i}] = ${String(x[i])}, expected ${String(y[i])}`);
    }
  }
}

/**
 * What reading `ranges` of the partition at `partition` must fetch: every
 * `zarr.json` of its arrays and its own, and for each shard (or chunk)
 * holding a selected row: the whole object when unsharded, else its index
 * and the present inner chunks holding selected rows. Computed from the
 * stored shard indexes, independently of the reader.
 */
async function rowsByteBudget(store: Store, partition: string, dim: string, ranges: Ranges): Promise<number> {
  const keys = await store.list(partition);
  let bytes = 0;
  for (const key of keys.filter((k) => k.endsWith("zarr.json"))) {
    const doc = (await store.readBytes(key)) as Uint8Array;
    const arrayPath = key.slice(0, -"/zarr.json".length);
    const meta = JSON.parse(new TextDecoder().decode(doc)) as { node_type: string };
    if (key !== `${partition}/zarr.json` && meta.node_type !== "array") continue; // nested group documents are not read
    bytes += doc.length;
    if (meta.node_type !== "array") continue;
    const am = (await readArrayMetadata(store, arrayPath)) as NonNullable<
      Awaited<ReturnType<typeof readArrayMetadata>>
    >;
    const axis = (am.dimensionNames ?? []).indexOf(dim);
    assert.ok(axis === 0 && am.shape.length <= 2, `${arrayPath}: rows along the first axis`);
    const n = am.shape[0] as number;
    const clamped = normalizeRowRanges(ranges, "")
      .map(([a, b]) => [a, Math.min(b, n)] as const)
      .filter(([a, b]) => b > a);
    const grid = am.chunkShape[0] as number;
    const sharded = am.codecs[0]?.name === "sharding_indexed";
    const sharding = sharded ? parseSharding(am.codecs[0]!, am.dtype, am.chunkShape, key) : undefined;
    const unit = sharding?.innerShape[0] ?? grid;
    for (let s = 0; s * grid < n; s++) {
      const objectKey = `${arrayPath}/c/${s}${am.shape.length === 2 ? "/0" : ""}`;
      const object = await store.readBytes(objectKey);
      if (object === undefined) continue;
      const inner = new Set<number>();
      for (const [a, b] of clamped) {
        for (let r = Math.max(a, s * grid); r < Math.min(b, (s + 1) * grid); r++)
          inner.add(Math.floor((r - s * grid) / unit));
      }
      if (inner.size === 0) continue;
      if (sharding === undefined) {
        bytes += object.length;
        continue;
      }
      const index = decodeShardIndex(
        object.subarray(object.length - sharding.indexSize),
        sharding,
        objectKey,
      );
      bytes += sharding.indexSize;
      for (const i of inner) if (index.offsets[i] !== EMPTY) bytes += index.lengths[i] as number;
    }
  }
  return bytes;
}

// ---------------------------------------------------------------------------
// fixtures

/** Sentinel-6A passes 191 + 192 in one day partition, `time` in inner chunks of 64 rows, shards of 256. */
async function s6Collection(store: Store): Promise<{ col: Collection; partition: string }> {
  const day = await alongTrackDay(S6A, { chunks: 64, shards: 256 });
  const col = await createCollection(store, {
    schema: day.schema,
    axis: day.axis,
    partitioning: day.partitioning,
  });
  const [partition] = await col.insert(day.dataset);
  return { col, partition: partition as string };
}

/** The two ASCAT orbits (2-D swaths, 1632 rows each), unsharded chunks of 100 rows, one partition per hour. */
async function ascatCollection(store: Store): Promise<Collection> {
  return config.override({ "codec.profile": "local-fast" }, async () => {
    const products = [];
    for (const f of ASCAT) products.push(await openNetCDF(f));
    const first = products[0] as (typeof products)[number];
    const schema = SchemaBuilder.from(first.schema).withDimension(first.axis, { chunks: 100 }).build();
    const parts = products.map((p) => {
      const arrays = new Map<string, NDArray>();
      for (const [path, v] of p.dataset.allVariables()) arrays.set(path, v.array);
      return { arrays, attrs: p.dataset.attrs };
    });
    const ds = concatRows(
      parts.map((p) => Dataset.fromArrays(schema, p.arrays, { attrs: p.attrs })),
      first.axis,
    );
    const col = await createCollection(store, {
      schema,
      axis: first.axis,
      partitioning: new DatePartitioning("time", { resolution: "h", dimension: first.axis }),
    });
    await col.insert(ds);
    return col;
  });
}

// ---------------------------------------------------------------------------

describe("query({ rows }) on Sentinel-6A passes (1-D, nested group, sharded)", () => {
  let col: Collection;
  let partition: string;
  let inner: MemoryStore;
  let lengths: Map<string, number>;
  let passes: Map<number, Ranges>;
  before(async () => {
    inner = new MemoryStore();
    ({ col, partition } = await s6Collection(inner));
    lengths = await partitionLengths(col, "time");
    const ds = await col.query({ variables: ["pass_number"] });
    passes = runsOf(Array.from((ds as Dataset).getVariable("pass_number").array.data as Int16Array));
  });

  it("finds one day partition of 1200 rows, pass 191 then pass 192", () => {
    assert.equal(partition, "year=2021/month=04/day=03");
    assert.deepEqual(lengths, new Map([[partition, 1200]]));
    assert.deepEqual(
      passes,
      new Map([
        [191, [[0, 600]]],
        [192, [[600, 1200]]],
      ]),
    );
  });

  it("reads each pass exactly as cut from the full query (every variable, /ku included)", async () => {
    for (const [pass, ranges] of passes) {
      const rows = new Map([[partition, ranges]]);
      const got = await col.query({ rows });
      assertSameData(got, await cutFromFullQuery(col, rows, lengths), `pass ${pass}`);
      assert.equal((got as Dataset).getVariable("time").shape[0], 600);
      assert.ok((got as Dataset).allVariables().has("ku/ssha"));
    }
  });

  it("reads several ranges: unsorted, overlapping, adjacent, in one inner chunk, across chunk and shard boundaries, clamped", async () => {
    const cases: Ranges[] = [
      [[60, 70]], // across an inner chunk boundary (64)
      [[250, 260]], // across a shard boundary (256)
      [
        [1, 3],
        [5, 9],
      ], // two ranges of one inner chunk
      [
        [700, 710],
        [5, 9],
        [7, 20],
        [20, 25],
      ], // unsorted, overlapping, adjacent
      [
        [0, 64],
        [128, 192],
        [256, 512],
      ], // whole inner chunks and a whole shard
      [
        [1190, 5000],
        [100, 101],
      ], // clamped to the partition
      [[200, 1100]],
      [[0, 1200]],
      [
        [0, 1],
        [63, 65],
        [255, 257],
        [511, 513],
        [1199, 1200],
      ],
    ];
    for (const ranges of cases) {
      const rows = new Map([[partition, ranges]]);
      assertSameData(
        await col.query({ rows }),
        await cutFromFullQuery(col, rows, lengths),
        JSON.stringify(ranges),
      );
    }
  });

  it("returns rows in the order of the sorted, merged ranges", async () => {
    const got = await col.query({
      rows: new Map([
        [
          partition,
          [
            [700, 702],
            [10, 12],
          ] as Ranges,
        ],
      ]),
      variables: ["pass_number"],
    });
    assert.deepEqual(
      Array.from((got as Dataset).getVariable("pass_number").array.data as Int16Array),
      [191, 191, 192, 192],
    );
  });

  it("fetches only the inner chunks holding the rows: exact bytes, fewer than the whole partition", async () => {
    const probe = new CountingStore(inner);
    const reader = await openCollection(probe);
    const pass191 = passes.get(191) as Ranges;
    const budgets = [
      ["pass 191", pass191],
      [
        "two short ranges",
        [
          [10, 20],
          [900, 910],
        ] as Ranges,
      ],
      ["a shard boundary", [[250, 260]] as Ranges],
    ] as const;
    probe.reset();
    await reader.query({ filters: "day == 3" });
    const whole = probe.counts;
    for (const [what, ranges] of budgets) {
      probe.reset();
      const got = await reader.query({ rows: new Map([[partition, ranges]]) });
      const c = probe.counts;
      assert.equal(
        c.bytesRead,
        await rowsByteBudget(inner, partition, "time", [...ranges]),
        `${what}: exact bytes`,
      );
      assert.ok(c.bytesRead < whole.bytesRead, `${what}: ${c.bytesRead} < ${whole.bytesRead}`);
      assert.equal(c.list, 0, `${what}: no listing`);
      assert.equal(
        (got as Dataset).getVariable("time").shape[0],
        ranges.reduce((n, [a, b]) => n + b - a, 0),
      );
    }
    // the whole partition: every shard object, once each
    assert.equal(whole.bytesRead, await rowsByteBudget(inner, partition, "time", [[0, 1200]]));
    assert.equal(whole.getRange, 0);
  });

  it("reads two ranges of one shard with one index fetch and no inner chunk twice", async () => {
    const probe = new RecordingStore(inner);
    const reader = await openCollection(probe);
    probe.reset();
    // rows 10..20 and 100..110: two spans (inner chunks 0 and 1) of shard 0
    await reader.query({
      rows: new Map([
        [
          partition,
          [
            [10, 20],
            [100, 110],
          ] as Ranges,
        ],
      ]),
      variables: ["altitude"],
    });
    const shard = `${partition}/altitude/c/0`;
    const shardReads = probe.reads.filter((k) => k === shard);
    assert.equal(shardReads.length, 3, "one index + one range per inner chunk");
    assert.equal(probe.counts.getRange, 3);
  });

  it("iterate({ rows }) yields the partition with just those rows", async () => {
    const rows = new Map([[partition, [[590, 610]] as Ranges]]);
    const seen: Array<[string, number]> = [];
    for await (const [path, ds] of col.iterate({ rows })) {
      seen.push([path, ds.getVariable("time").shape[0] as number]);
      assertSameData(ds, await cutFromFullQuery(col, rows, lengths), "iterate");
    }
    assert.deepEqual(seen, [[partition, 20]]);
  });

  it("map({ rows }) sees only those rows; update refuses rows", async () => {
    const sizes = await col.map((ds) => ds.getVariable("time").shape[0], {
      rows: new Map([[partition, [[0, 5]] as Ranges]]),
    });
    assert.deepEqual(sizes, new Map([[partition, 5]]));
    await assert.rejects(
      col.update((ds) => ds, { rows: new Map([[partition, [[0, 5]] as Ranges]]) }),
      (e: unknown) => e instanceof TypeError && /rows/.test(e.message),
    );
  });
});

describe("query({ rows }) on ASCAT swaths (2-D, unsharded, hourly partitions)", () => {
  let col: Collection;
  let lengths: Map<string, number>;
  before(async () => {
    col = await ascatCollection(new MemoryStore());
    lengths = await partitionLengths(col, "time");
    const [first] = lengths.keys();
    const meta = await readArrayMetadata(col.store, `${first}/wind_speed`);
    assert.deepEqual(
      [meta?.chunkShape, meta?.codecs[0]?.name],
      [[100, 42], "bytes"],
      "unsharded chunks of 100 rows",
    );
  });

  it("reads ranges of several partitions, in natural partition order whatever the map order", async () => {
    const paths = [...lengths.keys()];
    assert.ok(paths.length >= 4, `several hourly partitions: ${paths.join(", ")}`);
    const rows = new Map<string, Ranges>();
    for (const p of [...paths].reverse()) {
      const n = lengths.get(p) as number;
      rows.set(p, [
        [Math.floor(n / 2), Math.floor(n / 2) + 150],
        [0, 3],
        [n - 7, n + 10],
      ]);
    }
    const got = await col.query({ rows });
    assertSameData(got, await cutFromFullQuery(col, rows, lengths), "several partitions");
    const expectedRows = paths.reduce((n, p) => {
      const len = lengths.get(p) as number;
      return (
        n +
        normalizeRowRanges(rows.get(p) ?? [], p).reduce(
          (m, [a, b]) => m + Math.min(b, len) - Math.min(a, len),
          0,
        )
      );
    }, 0);
    assert.deepEqual((got as Dataset).getVariable("wind_speed").shape, [expectedRows, 42]);
  });

  it("filters and rows: only the partitions both select", async () => {
    const paths = [...lengths.keys()];
    const rows = new Map<string, Ranges>(paths.map((p) => [p, [[10, 230]]]));
    const hour = Number(/hour=(\d+)/.exec(paths[1] as string)?.[1]);
    const filters = `hour >= ${hour}`;
    const got = await col.query({ rows, filters, variables: ["time", "lat", "wind_speed"] });
    const want = await cutFromFullQuery(col, rows, lengths, {
      filters,
      variables: ["time", "lat", "wind_speed"],
    });
    assertSameData(got, want, "filters + rows");
    assert.equal(
      (got as Dataset).getVariable("time").shape[0],
      paths.slice(1).reduce((n, p) => n + Math.max(0, Math.min(230, lengths.get(p) as number) - 10), 0),
    );
    const seen: string[] = [];
    for await (const [path] of col.iterate({ rows, filters: `hour == ${hour}` })) seen.push(path);
    assert.deepEqual(seen, [paths[1]]);
  });
});

describe("query({ rows }) on the collection written by Python zcollection (date_nested)", () => {
  let col: Collection;
  let lengths: Map<string, number>;
  before(async () => {
    col = await openCollection(DATE_NESTED);
    lengths = await partitionLengths(col, "time");
  });

  it("has the layout the cases rely on", () => {
    assert.deepEqual(
      lengths,
      new Map([
        ["year=2023/month=01", 605],
        ["year=2023/month=02", 476],
        ["year=2023/month=03", 863],
        ["year=2023/month=04", 116],
      ]),
    );
  });

  it("reads around the absent inner chunk (rows 192..287 of January) and into the partial last shard", async () => {
    const jan = "year=2023/month=01";
    const cases: Ranges[] = [
      [[190, 290]], // the absent inner chunk and its neighbours
      [[200, 250]], // only the absent inner chunk: fill values
      [[380, 390]], // across the shard boundary (384)
      [[600, 700]], // the end of the partial last shard, clamped
      [
        [0, 10],
        [95, 97],
        [383, 385],
        [604, 605],
      ],
      [[0, 605]],
    ];
    for (const ranges of cases) {
      const rows = new Map([[jan, ranges]]);
      const got = await col.query({ rows });
      assertSameData(got, await cutFromFullQuery(col, rows, lengths), JSON.stringify(ranges));
      // the immutable x_ac is attached whole
      assert.deepEqual((got as Dataset).getVariable("x_ac").shape, [10]);
    }
    const hole = await col.query({ rows: new Map([[jan, [[200, 250]] as Ranges]]), variables: ["ssh"] });
    assert.ok(
      Array.from((hole as Dataset).getVariable("ssh").array.data as Float32Array).every(Number.isNaN),
    );
  });

  it("reads several partitions, with filters and a subset of variables, and iterates", async () => {
    const rows = new Map<string, Ranges>([
      ["year=2023/month=04", [[100, 200]]],
      [
        "year=2023/month=01",
        [
          [500, 520],
          [10, 30],
        ],
      ],
      [
        "year=2023/month=03",
        [
          [383, 390],
          [0, 1],
          [860, 863],
        ],
      ],
      ["year=2023/month=02", []],
    ]);
    assertSameData(await col.query({ rows }), await cutFromFullQuery(col, rows, lengths), "all");
    const variables = ["ssh", "data_01/ku/sig0", "x_ac"];
    assertSameData(
      await col.query({ rows, filters: "month >= 2", variables }),
      await cutFromFullQuery(col, rows, lengths, { filters: "month >= 2", variables }),
      "filters + variables",
    );
    const seen: Array<[string, number]> = [];
    for await (const [path, ds] of col.iterate({ rows }))
      seen.push([path, ds.getVariable("ssh").shape[0] as number]);
    assert.deepEqual(seen, [
      ["year=2023/month=01", 40],
      ["year=2023/month=03", 11],
      ["year=2023/month=04", 16],
    ]);
  });
});

describe("query({ rows }): what is read, and errors", () => {
  let col: Collection;
  let probe: RecordingStore;
  let partition: string;
  before(async () => {
    probe = new RecordingStore(new MemoryStore());
    ({ col, partition } = await s6Collection(probe));
  });

  it("an empty range list reads nothing of that partition; nothing at all gives null", async () => {
    probe.reset();
    assert.equal(await col.query({ rows: new Map([[partition, []]]) }), null);
    assert.equal(await col.query({ rows: new Map() }), null);
    assert.deepEqual(probe.reads, []);
    const yielded: string[] = [];
    for await (const [path] of col.iterate({ rows: new Map([[partition, [[3, 3]] as Ranges]]) }))
      yielded.push(path);
    assert.deepEqual(yielded, []);
  });

  it("ranges past the partition's end read zero rows", async () => {
    const got = await col.query({ rows: new Map([[partition, [[5000, 6000]] as Ranges]]) });
    assert.equal((got as Dataset).getVariable("time").shape[0], 0);
    assert.deepEqual((got as Dataset).getVariable("ku/ssha").shape, [0]);
  });

  it("skips (with a warning) a partition path that is not in the store", async () => {
    const rows = new Map<string, Ranges>([
      ["year=2021/month=04/day=04", [[0, 10]]],
      [partition, [[0, 10]]],
    ]);
    const { result, warnings } = await captureWarnings(() => col.query({ rows, variables: ["time"] }));
    assert.equal((result as Dataset).getVariable("time").shape[0], 10);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] as string, /rows option.*year=2021\/month=04\/day=04.*skipped/);
    const { result: none } = await captureWarnings(() =>
      col.query({ rows: new Map([["year=2021/month=04/day=04", [[0, 1]] as Ranges]]) }),
    );
    assert.equal(none, null);
  });

  it("refuses bad ranges before any I/O, naming the partition and the range", async () => {
    for (const [bad, message] of [
      [[-1, 5], /\[-1, 5\).*partition 'year=2021\/month=04\/day=03'.*non-negative/],
      [[5, 2], /\[5, 2\).*partition 'year=2021\/month=04\/day=03'.*start is after stop/],
      [[1.5, 2], /\[1\.5, 2\).*integer/],
      [[0, Number.POSITIVE_INFINITY], /\[0, Infinity\).*integer/],
    ] as const) {
      probe.reset();
      await assert.rejects(
        col.query({ rows: new Map([[partition, [[0, 1], bad as unknown as [number, number]]]]) }),
        (e: unknown) => e instanceof RangeError && message.test(e.message),
      );
      await assert.rejects(
        col.iterate({ rows: new Map([[partition, [bad as unknown as [number, number]]]]) }).next(),
        RangeError,
      );
      assert.deepEqual(probe.reads, [], "nothing read");
    }
    await assert.rejects(
      col.query({ rows: new Map([[partition, [[1, 2, 3]] as unknown as Ranges]]) }),
      TypeError,
    );
  });

  it("refuses a key that is not a partition path, and rows that are not a Map", async () => {
    probe.reset();
    await assert.rejects(
      col.query({ rows: new Map([["day=03", [[0, 1]] as Ranges]]) }),
      (e: unknown) =>
        e instanceof PartitionError && e.path === "day=03" && /not a partition path/.test(e.message),
    );
    await assert.rejects(
      col.query({ rows: { [partition]: [[0, 1]] } as unknown as Map<string, Ranges> }),
      (e: unknown) => e instanceof TypeError && /rows must be a Map/.test(e.message),
    );
    assert.deepEqual(probe.reads, []);
  });

  it("accepts a ReadonlyMap of readonly ranges (what Indexer.lookup returns)", async () => {
    const rows: ReadonlyMap<string, ReadonlyArray<readonly [number, number]>> = new Map([
      [partition, [[0, 2]] as const],
    ]);
    const got = await col.query({ rows, variables: ["time"] });
    assert.equal((got as Dataset).getVariable("time").shape[0], 2);
  });
});

describe("readArrayRanges and planRowSpans (zarr layer)", () => {
  it("plans spans: ranges sharing a fetch unit read together, others apart", () => {
    assert.deepEqual(
      planRowSpans(
        [
          [0, 5],
          [7, 9],
          [10, 12],
          [25, 27],
          [28, 31],
        ],
        10,
      ),
      [
        {
          start: 0,
          stop: 9,
          ranges: [
            [0, 5],
            [7, 9],
          ],
        },
        { start: 10, stop: 12, ranges: [[10, 12]] },
        {
          start: 25,
          stop: 31,
          ranges: [
            [25, 27],
            [28, 31],
          ],
        },
      ],
    );
    assert.deepEqual(
      normalizeRowRanges(
        [
          [9, 12],
          [0, 2],
          [2, 4],
          [3, 3],
          [10, 11],
        ],
        "x",
      ),
      [
        [0, 4],
        [9, 12],
      ],
    );
  });

  it("reads a 2-D sharded array's ranges along its first axis, fill where inner chunks are absent", async () => {
    const store = new MemoryStore();
    const rows = 50;
    const data = Float32Array.from({ length: rows * 3 }, (_, i) =>
      Math.floor(i / 3) >= 16 && Math.floor(i / 3) < 24 ? Number.NaN : i,
    );
    await writeArray(store, "a", NDArray.from(data, { shape: [rows, 3] }), {
      chunks: [8, 3],
      shards: [32, 3],
      codecs: profile("cloud-balanced"),
      fillValue: Number.NaN,
    });
    const probe = new CountingStore(store);
    const got = await readArrayRanges(probe, "a", 0, [
      [30, 34],
      [2, 4],
      [17, 19],
      [45, 60],
    ]);
    const want = [2, 3, 17, 18, 30, 31, 32, 33, 45, 46, 47, 48, 49].flatMap((r) => [
      data[3 * r],
      data[3 * r + 1],
      data[3 * r + 2],
    ]);
    assert.deepEqual(got.shape, [13, 3]);
    assert.deepEqual(Array.from(got.data as Float32Array), want);
    // zarr.json, then shard 0: its index (once for three spans), inner chunks 0 and 3 (2 is absent);
    // shard 1: its index, inner chunk 0, inner chunks 1 and 2 (one range)
    assert.equal(probe.counts.get, 1);
    assert.equal(probe.counts.getRange, 3 + 3);
    const empty = await readArrayRanges(probe, "a", 0, []);
    assert.deepEqual(empty.shape, [0, 3]);
  });
});

describe("query({ rows }) over S3 (moto)", () => {
  let moto: MotoServer;
  before(async () => {
    moto = await startMoto({ bucket: "rows" });
  });
  after(async () => {
    await moto?.stop();
  });

  it("reads pass 191 as cut from the full query, with ranged GETs and fewer bytes", async () => {
    const url = "s3://rows/s6";
    const store = await openStore(url, { storageOptions: moto.storageOptions });
    const { partition } = await s6Collection(store);
    const probe = new CountingStore(
      await openStore(url, { readOnly: true, storageOptions: moto.storageOptions }),
    );
    const col = await openCollection(probe);
    const lengths = new Map([[partition, 1200]]);
    const rows = new Map([[partition, [[0, 600]] as Ranges]]);
    probe.reset();
    const got = await col.query({ rows });
    const part = probe.counts;
    probe.reset();
    const want = await cutFromFullQuery(col, rows, lengths);
    const whole = probe.counts;
    assertSameData(got, want, "s3");
    assert.ok(part.getRange > 0);
    assert.ok(part.bytesRead < whole.bytesRead, `${part.bytesRead} < ${whole.bytesRead}`);
    assert.equal(part.bytesRead, await rowsByteBudget(store, partition, "time", [[0, 600]]));
  });
});
