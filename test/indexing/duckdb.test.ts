/**
 * DuckDB (`@duckdb/node-api`) as an independent Parquet implementation:
 * it must read our index files with the right column types and values, and
 * we must read the files it writes (snappy, dictionary pages, OPTIONAL
 * columns, USMALLINT as INT32 + UINT_16, BIGINT, VARCHAR, DATE, TIMESTAMP).
 */

import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { parquetMetadata } from "hyparquet";
import { type Collection, createCollection } from "../../src/collection/index.js";
import { Dataset } from "../../src/data/index.js";
import { SchemaError } from "../../src/errors.js";
import { Indexer, runsOf } from "../../src/indexing/index.js";
import { NDArray } from "../../src/ndarray.js";
import { Sequence } from "../../src/partitioning/index.js";
import { Schema } from "../../src/schema/index.js";

let dir: string;
let instance: DuckDBInstance;
let duck: DuckDBConnection;
let index: Indexer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "zc-indexer-duckdb-"));
  instance = await DuckDBInstance.create(":memory:");
  duck = await instance.connect();
  const schema = Schema()
    .withDimension("num", { chunks: 16 })
    .withVariable("num", { dtype: "int64", dimensions: ["num"] })
    .withVariable("cycle_number", { dtype: "uint16", dimensions: ["num"] })
    .withVariable("pass_number", { dtype: "uint16", dimensions: ["num"] })
    .withVariable("orbit", { dtype: "int64", dimensions: ["num"] })
    .withVariable("mission", { dtype: "string", dimensions: ["num"] })
    .build();
  const col = await createCollection("memory://indexer-duckdb", {
    schema,
    axis: "num",
    partitioning: new Sequence(["num"], { dimension: "num" }),
  });
  await col.insert(
    Dataset.fromArrays(schema, {
      num: new BigInt64Array([0n, 0n, 0n, 1n, 1n, 2n]),
      cycle_number: new Uint16Array([14, 14, 14, 14, 15, 65535]),
      pass_number: new Uint16Array([191, 191, 192, 192, 1, 254]),
      orbit: new BigInt64Array([2n ** 40n, 2n ** 40n, 2n ** 40n + 1n, 2n ** 40n + 1n, -3n, 0n]),
      mission: ["S6A", "S6A", "S6A", "S6A", "S6A", "JA1 é"],
    }),
  );
  index = await Indexer.build(col, { builder: runsOf(["cycle_number", "pass_number", "orbit", "mission"]) });
});

after(async () => {
  duck.closeSync();
  instance.closeSync();
  await rm(dir, { recursive: true, force: true });
});

async function describeTypes(file: string): Promise<string[]> {
  const reader = await duck.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}')`);
  return reader.getRowObjects().map((r) => `${String(r.column_name)}:${String(r.column_type)}`);
}

/** A collection with one partition `num=3` of one row. */
async function numbered(url: string): Promise<Collection> {
  const col = await createCollection(url, {
    schema: Schema()
      .withDimension("num", { chunks: 4 })
      .withVariable("num", { dtype: "int64", dimensions: ["num"] })
      .build(),
    axis: "num",
    partitioning: new Sequence(["num"], { dimension: "num" }),
  });
  await col.insert(Dataset.fromArrays(col.schema, { num: new BigInt64Array([3n]) }));
  return col;
}

async function rows(sql: string): Promise<Array<Record<string, unknown>>> {
  return (await duck.runAndReadAll(sql)).getRowObjects() as Array<Record<string, unknown>>;
}

describe("DuckDB reads our index files", () => {
  it("with the column types of docs/format.md §12 and the exact values", async () => {
    const file = join(dir, "ours.parquet");
    await index.write(file);
    assert.deepEqual(await describeTypes(file), [
      "cycle_number:USMALLINT",
      "pass_number:USMALLINT",
      "orbit:BIGINT",
      "mission:VARCHAR",
      "_start:BIGINT",
      "_stop:BIGINT",
      "_partition:VARCHAR",
    ]);
    assert.deepEqual(await rows(`SELECT * FROM read_parquet('${file}')`), [
      {
        cycle_number: 14,
        pass_number: 191,
        orbit: 2n ** 40n,
        mission: "S6A",
        _start: 0n,
        _stop: 2n,
        _partition: "num=0",
      },
      {
        cycle_number: 14,
        pass_number: 192,
        orbit: 2n ** 40n + 1n,
        mission: "S6A",
        _start: 2n,
        _stop: 3n,
        _partition: "num=0",
      },
      {
        cycle_number: 14,
        pass_number: 192,
        orbit: 2n ** 40n + 1n,
        mission: "S6A",
        _start: 0n,
        _stop: 1n,
        _partition: "num=1",
      },
      {
        cycle_number: 15,
        pass_number: 1,
        orbit: -3n,
        mission: "S6A",
        _start: 1n,
        _stop: 2n,
        _partition: "num=1",
      },
      {
        cycle_number: 65535,
        pass_number: 254,
        orbit: 0n,
        mission: "JA1 é",
        _start: 0n,
        _stop: 1n,
        _partition: "num=2",
      },
    ]);
    // The same query through DuckDB and through lookup.
    const hits = await rows(
      `SELECT _partition, _start, _stop FROM read_parquet('${file}') WHERE cycle_number = 14 AND pass_number = 192 ORDER BY _partition, _start`,
    );
    assert.deepEqual(
      index.lookup({ cycle_number: 14, pass_number: 192 }),
      new Map(hits.map((r) => [r._partition as string, [[Number(r._start), Number(r._stop)]]])),
    );
  });

  it("reads the zero-row index and the other dtypes (bool, floats, timestamps, unsigned)", async () => {
    const emptyFile = join(dir, "empty.parquet");
    const col = await numbered("memory://indexer-duckdb-numbers");
    const empty = await Indexer.build(col, { builder: runsOf(["num"]), filters: "num == 99" });
    await empty.write(emptyFile);
    assert.deepEqual(await describeTypes(emptyFile), ["_partition:VARCHAR", "_start:BIGINT", "_stop:BIGINT"]);
    assert.deepEqual(await rows(`SELECT count(*) AS n FROM read_parquet('${emptyFile}')`), [{ n: 0n }]);

    const file = join(dir, "typed.parquet");
    const other = await Indexer.build(col, {
      builder: () => ({
        flag: NDArray.from([true, false], { dtype: "bool" }),
        f32: new Float32Array([0.5, -1]),
        f64: new Float64Array([Math.PI, Number.NaN]),
        u8: new Uint8Array([255, 0]),
        u32: new Uint32Array([2 ** 32 - 1, 7]),
        u64: new BigUint64Array([2n ** 64n - 1n, 1n]),
        i8: new Int8Array([-128, 127]),
        i16: new Int16Array([-32768, 32767]),
        t_s: NDArray.from(new BigInt64Array([1_617_410_457n, 0n]), { dtype: "datetime64[s]" }),
        t_us: NDArray.from(new BigInt64Array([1_617_410_457_000_001n, 0n]), { dtype: "datetime64[us]" }),
        t_ns: NDArray.from(new BigInt64Array([1_617_410_457_000_000_001n, 0n]), { dtype: "datetime64[ns]" }),
        _start: new Int32Array([0, 0]),
        _stop: new Int32Array([1, 1]),
      }),
    });
    await other.write(file);
    assert.deepEqual(await describeTypes(file), [
      "flag:BOOLEAN",
      "f32:FLOAT",
      "f64:DOUBLE",
      "u8:UTINYINT",
      "u32:UINTEGER",
      "u64:UBIGINT",
      "i8:TINYINT",
      "i16:SMALLINT",
      "t_s:TIMESTAMP",
      "t_us:TIMESTAMP",
      "t_ns:TIMESTAMP_NS",
      "_start:BIGINT",
      "_stop:BIGINT",
      "_partition:VARCHAR",
    ]);
    const [first] = await rows(
      `SELECT flag, f32, f64, u8, u32, u64, i8, i16, strftime(t_s, '%Y-%m-%dT%H:%M:%S') AS t_s, epoch_us(t_us) AS t_us, epoch_ns(t_ns) AS t_ns FROM read_parquet('${file}') LIMIT 1`,
    );
    assert.deepEqual(first, {
      flag: true,
      f32: 0.5,
      f64: Math.PI,
      u8: 255,
      u32: 2 ** 32 - 1,
      u64: 2n ** 64n - 1n,
      i8: -128,
      i16: -32768,
      t_s: "2021-04-03T00:40:57",
      t_us: 1_617_410_457_000_001n,
      t_ns: 1_617_410_457_000_000_001n,
    });
  });
});

describe("we read the files DuckDB writes", () => {
  it("USMALLINT, BIGINT, VARCHAR (snappy, dictionary-encoded) into uint16, int64, string", async () => {
    const file = join(dir, "duck.parquet");
    // 30 000 rows so that DuckDB dictionary-encodes the repeated values.
    await duck.run(`COPY (
        SELECT (14 + i // 10000)::USMALLINT AS cycle_number,
               (i % 254 + 1)::USMALLINT AS pass_number,
               (i * 1000000000000)::BIGINT AS orbit,
               'year=2021/month=0' || (1 + i % 3) AS _partition,
               (i % 1000)::BIGINT AS _start,
               (i % 1000 + 1)::BIGINT AS _stop
        FROM range(30000) t(i)
      ) TO '${file}' (FORMAT parquet, COMPRESSION snappy)`);
    const meta = parquetMetadata(
      await import("node:fs/promises").then(async (fs) => {
        const b = await fs.readFile(file);
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
      }),
    );
    const chunks = meta.row_groups.flatMap((g) => g.columns.map((c) => c.meta_data));
    assert.ok(chunks.every((c) => c?.codec === "SNAPPY"));
    assert.ok(
      chunks.some(
        (c) => c?.dictionary_page_offset !== undefined && c.encodings.some((e) => e.endsWith("_DICTIONARY")),
      ),
      "DuckDB used dictionary pages",
    );

    const read = await Indexer.read(file);
    assert.deepEqual(read.keyColumns, ["cycle_number", "pass_number", "orbit"]);
    assert.equal(read.numRows, 30000);
    assert.equal(read.column("cycle_number").dtype, "uint16");
    assert.equal(read.column("pass_number").dtype, "uint16");
    assert.equal(read.column("orbit").dtype, "int64");
    assert.equal(read.column("_partition").dtype, "string");
    assert.deepEqual(
      read.table.schema.fields.map((f) => `${f.name}:${String(f.type)}`),
      [
        "cycle_number:Uint16",
        "pass_number:Uint16",
        "orbit:Int64",
        "_partition:Utf8",
        "_start:Int64",
        "_stop:Int64",
      ],
    );
    // Every value, against DuckDB's own reading of the file.
    const all = await rows(`SELECT * FROM read_parquet('${file}')`);
    const cols = ["cycle_number", "pass_number", "orbit", "_partition", "_start", "_stop"];
    for (const name of cols) {
      const got = Array.from(read.column(name).data as ArrayLike<unknown>);
      assert.deepEqual(
        got,
        all.map((r) => r[name]),
        name,
      );
    }
    // lookup agrees with SQL.
    const sql = await rows(
      `SELECT _partition, _start, _stop FROM read_parquet('${file}') WHERE cycle_number = 16 AND pass_number IN (3, 200)`,
    );
    const expected = new Map<string, Array<[number, number]>>();
    for (const r of sql) {
      const p = r._partition as string;
      expected.set(p, [...(expected.get(p) ?? []), [Number(r._start), Number(r._stop)]]);
    }
    for (const list of expected.values()) list.sort((a, b) => a[0] - b[0]);
    assert.deepEqual(read.lookup({ cycle_number: 16, pass_number: [3, 200] }), expected);
  });

  it("DATE, TIMESTAMP, INTEGER offsets, a zero-row file; nulls refused naming the column", async () => {
    const file = join(dir, "duck-times.parquet");
    await duck.run(`COPY (
        SELECT DATE '2021-04-03' + i::INT AS day,
               TIMESTAMP '2021-04-03 00:40:57' + to_microseconds(i) AS t,
               i::INTEGER AS _start, (i + 1)::INTEGER AS _stop, 'p' AS _partition
        FROM range(3) t(i)
      ) TO '${file}' (FORMAT parquet)`);
    const read = await Indexer.read(file);
    assert.equal(read.column("day").dtype, "datetime64[D]");
    assert.deepEqual([...(read.column("day").data as BigInt64Array)], [18720n, 18721n, 18722n]);
    assert.equal(read.column("t").dtype, "datetime64[us]");
    assert.equal((read.column("t").data as BigInt64Array)[1], 1_617_410_457_000_001n);
    assert.equal(read.column("_start").dtype, "int64");
    assert.deepEqual(read.lookup({ day: "2021-04-04" }), new Map([["p", [[1, 2]]]]));

    const empty = join(dir, "duck-empty.parquet");
    await duck.run(
      `COPY (SELECT 1::USMALLINT AS k, 'p' AS _partition, 0::BIGINT AS _start, 0::BIGINT AS _stop LIMIT 0) TO '${empty}' (FORMAT parquet)`,
    );
    const none = await Indexer.read(empty);
    assert.deepEqual(none.columnNames, ["k", "_partition", "_start", "_stop"]);
    assert.equal(none.column("k").dtype, "uint16");
    assert.deepEqual(none.lookup({ k: 1 }), new Map());

    const nulls = join(dir, "duck-nulls.parquet");
    await duck.run(
      `COPY (SELECT CASE WHEN i = 1 THEN NULL ELSE i END::USMALLINT AS k, 'p' AS _partition, 0::BIGINT AS _start, 0::BIGINT AS _stop FROM range(3) t(i)) TO '${nulls}' (FORMAT parquet)`,
    );
    await assert.rejects(Indexer.read(nulls), (err: unknown) => {
      assert.ok(err instanceof SchemaError);
      assert.equal(err.variable, "k");
      assert.match(
        err.message,
        /Parquet column 'k' of '.*duck-nulls\.parquet' has a null at row 1; uint16 cannot represent it/,
      );
      return true;
    });
    const noPartition = join(dir, "duck-no-partition.parquet");
    await duck.run(
      `COPY (SELECT 0::BIGINT AS _start, 1::BIGINT AS _stop) TO '${noPartition}' (FORMAT parquet)`,
    );
    await assert.rejects(Indexer.read(noPartition), /has no '_partition' column/);
  });
});
