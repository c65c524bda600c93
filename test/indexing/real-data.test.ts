/**
 * An index over real data: the two bundled Sentinel-6A passes (cycle 14,
 * passes 191 and 192, 600 rows at 1 Hz each) ingested with their
 * `cycle_number`/`pass_number` global attributes as uint16 variables into
 * an hourly date-partitioned collection, so that pass 192 straddles two
 * partitions and shares `hour=00` with pass 191.
 *
 * Every range `lookup` returns is checked against a full query; the index
 * round-trips through Parquet on file://, memory://, s3:// (moto_server)
 * and http:// exactly.
 */

import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Collection } from "../../src/collection/index.js";
import { Indexer, runsOf } from "../../src/indexing/index.js";
import { type MotoServer, startMoto } from "../helpers/moto.js";
import { HOUR0, HOUR1, ingest, type Product, readProduct, S6A } from "./s6a.js";

function assertSameIndex(a: Indexer, b: Indexer): void {
  assert.deepEqual(b.columnNames, a.columnNames);
  for (const name of a.columnNames) {
    assert.equal(b.column(name).dtype, a.column(name).dtype, name);
    assert.deepEqual(b.column(name).data, a.column(name).data, name);
  }
}

let products: Product[];
let col: Collection;
let index: Indexer;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "zc-indexer-s6a-"));
  products = [];
  for (const f of S6A) products.push(await readProduct(f));
  col = await ingest("memory://indexer-s6a", products);
  index = await Indexer.build(col, { builder: runsOf(["cycle_number", "pass_number"]) });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("an index of the Sentinel-6A passes by (cycle_number, pass_number)", () => {
  it("has one row per pass and partition, with uint16 keys", () => {
    assert.deepEqual(
      products.map((p) => [p.cycle, p.pass, p.times.length]),
      [
        [14, 191, 600],
        [14, 192, 600],
      ],
    );
    assert.deepEqual(index.keyColumns, ["cycle_number", "pass_number"]);
    assert.deepEqual(
      index.table.schema.fields.map((f) => `${f.name}:${String(f.type)}`),
      ["cycle_number:Uint16", "pass_number:Uint16", "_start:Int64", "_stop:Int64", "_partition:Utf8"],
    );
    // Pass 191 runs 00:40:57–00:50:56, pass 192 00:50:57–01:00:56.
    assert.deepEqual(
      index.table.toArray().map((r) => r.toJSON()),
      [
        { cycle_number: 14, pass_number: 191, _start: 0n, _stop: 600n, _partition: HOUR0 },
        { cycle_number: 14, pass_number: 192, _start: 600n, _stop: 1143n, _partition: HOUR0 },
        { cycle_number: 14, pass_number: 192, _start: 0n, _stop: 57n, _partition: HOUR1 },
      ],
    );
  });

  it("lookup ranges hold exactly the rows of the pass, as a full query reads them", async () => {
    const partitions = await col.partitions();
    assert.deepEqual(partitions, [HOUR0, HOUR1]);
    // Row offset of each partition in the full query (partitions in natural order).
    const offsets = new Map<string, number>();
    let at = 0;
    for await (const [path, ds] of col.iterate({ variables: ["time"] })) {
      offsets.set(path, at);
      at += ds.dimensionSize("time") as number;
    }
    const all = await col.query({ variables: ["time", "cycle_number", "pass_number"] });
    assert.ok(all !== null);
    const time = all.getVariable("time").array.data as BigInt64Array;
    const pass = all.getVariable("pass_number").array.data as Uint16Array;
    const cycle = all.getVariable("cycle_number").array.data as Uint16Array;
    assert.equal(time.length, 1200);
    for (const product of products) {
      const rows = index.lookup({ cycle_number: product.cycle, pass_number: product.pass });
      const selected = new Set<number>();
      const times: bigint[] = [];
      for (const [path, ranges] of rows) {
        for (const [start, stop] of ranges) {
          for (let r = start; r < stop; r++) {
            const row = (offsets.get(path) as number) + r;
            selected.add(row);
            times.push(time[row] as bigint);
          }
        }
      }
      // Every selected row has the pass, every row of the pass is selected...
      for (let row = 0; row < time.length; row++) {
        const isPass = pass[row] === product.pass && cycle[row] === product.cycle;
        assert.equal(selected.has(row), isPass, `row ${row}, pass ${product.pass}`);
      }
      // ...and the selected rows are the product's rows, in order, with its exact times.
      assert.deepEqual(BigInt64Array.from(times), product.times);
    }
    assert.deepEqual(
      index.lookup({ pass_number: [191, 192] }),
      new Map([
        [HOUR0, [[0, 1143]]],
        [HOUR1, [[0, 57]]],
      ]),
    );
    assert.deepEqual(index.lookup({ cycle_number: 14n, pass_number: 193 }), new Map());
  });

  it("lookup results are the `rows` of Collection.query", async () => {
    for (const product of products) {
      const rows = index.lookup({ cycle_number: product.cycle, pass_number: product.pass });
      const ds = await col.query({ rows, variables: ["time", "pass_number"] });
      assert.ok(ds !== null);
      assert.deepEqual(ds.getVariable("time").array.data, product.times);
      assert.ok((ds.getVariable("pass_number").array.data as Uint16Array).every((p) => p === product.pass));
    }
  });

  it("filters restrict the partitions indexed", async () => {
    const hour1 = await Indexer.build(col, { builder: runsOf(["pass_number"]), filters: "hour == 1" });
    assert.deepEqual(hour1.lookup({ pass_number: 192 }), new Map([[HOUR1, [[0, 57]]]]));
  });

  it("round-trips exactly through Parquet on file:// and memory://", async () => {
    for (const target of [
      `file://${join(dir, "_indices", "passes.parquet")}`,
      "memory://indexer-s6a/_indices/passes.parquet",
    ]) {
      await index.write(target);
      const back = await Indexer.read(target);
      assertSameIndex(index, back);
      assert.deepEqual(back.lookup({ pass_number: 192 }), index.lookup({ pass_number: 192 }));
    }
    // The memory index sits next to its collection, in the same store.
    assert.ok(await col.store.exists("_indices/passes.parquet"));
    assert.deepEqual(await col.partitions(), [HOUR0, HOUR1]);
  });

  it("is read over http:// from a plain file server", async () => {
    const file = join(dir, "_indices", "passes.parquet");
    await index.write(file);
    const body = await readFile(file);
    const server: Server = createServer((req, res) => {
      if (req.url === "/idx/passes.parquet")
        res.writeHead(200, { "Content-Length": String(body.length) }).end(body);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      assertSameIndex(index, await Indexer.read(`http://127.0.0.1:${port}/idx/passes.parquet`));
      await assert.rejects(Indexer.read(`http://127.0.0.1:${port}/idx/absent.parquet`), /no index file at/);
      await assert.rejects(index.write(`http://127.0.0.1:${port}/idx/new.parquet`), /read-only/);
    } finally {
      server.close();
    }
  });
});

describe("an index next to its collection on s3:// (moto_server)", () => {
  let moto: MotoServer;
  before(async () => {
    moto = await startMoto({ bucket: "indexer" });
  });
  after(async () => {
    await moto.stop();
  });

  it("builds from an s3:// collection, writes and reads s3://bucket/prefix/_indices/x.parquet", async () => {
    const url = `s3://${moto.bucket}/s6a`;
    const s3col = await ingest(url, products, moto.storageOptions);
    const s3index = await Indexer.build(s3col, { builder: runsOf(["cycle_number", "pass_number"]) });
    assertSameIndex(index, s3index);
    const target = `${url}/_indices/passes.parquet`;
    await s3index.write(target, { storageOptions: moto.storageOptions });
    assert.ok(await s3col.store.exists("_indices/passes.parquet"));
    const back = await Indexer.read(target, { storageOptions: moto.storageOptions });
    assertSameIndex(index, back);
    assert.deepEqual(back.lookup({ pass_number: 191 }), new Map([[HOUR0, [[0, 600]]]]));
    await assert.rejects(
      Indexer.read(`${url}/_indices/absent.parquet`, { storageOptions: moto.storageOptions }),
      /no index file at 's3:\/\/indexer\/s6a\/_indices\/absent\.parquet'/,
    );
  });
});
