/**
 * Index files: Parquet round trips of every supported dtype (several row
 * groups, snappy, dictionary pages) on memory://, file:// URLs and bare
 * paths; read errors; how file URLs split into a store and a key.
 */

import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import type { Collection } from "../../src/collection/index.js";
import { isZCollectionError, StoreError } from "../../src/errors.js";
import * as zc from "../../src/index.js";
import { Indexer, runsOf, splitIndexUrl } from "../../src/indexing/index.js";
import { NDArray } from "../../src/ndarray.js";
import { fieldTypes, sample } from "./fixtures.js";

let col: Collection;
let dir: string;
before(async () => {
  col = await sample();
  dir = await mkdtemp(join(tmpdir(), "zc-indexer-files-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("Parquet round trips", () => {
  /** An index with a column of every supported dtype and `rows` rows (several row groups past 1000). */
  async function everyDtype(rows: number): Promise<Indexer> {
    const i = Array.from({ length: rows }, (_, k) => k);
    return Indexer.build(col, {
      filters: "num == 0",
      builder: () => ({
        b: NDArray.from(
          i.map((k) => k % 3 === 0),
          { dtype: "bool" },
        ),
        i8: Int8Array.from(i, (k) => (k % 256) - 128),
        i16: Int16Array.from(i, (k) => -k),
        i32: Int32Array.from(i, (k) => k * 1000 - 2 ** 30),
        u8: Uint8Array.from(i, (k) => k % 256),
        u16: Uint16Array.from(i, (k) => 65535 - (k % 65536)),
        u32: Uint32Array.from(i, (k) => 2 ** 32 - 1 - k),
        i64: BigInt64Array.from(i, (k) => -(2n ** 62n) + BigInt(k)),
        u64: BigUint64Array.from(i, (k) => 2n ** 63n + BigInt(k)),
        f32: Float32Array.from(i, (k) => k / 4),
        f64: Float64Array.from(i, (k) => (k === 1 ? Number.NaN : k / 3)),
        s: i.map((k) => `pass ${k % 7} – é`),
        ts: NDArray.from(
          BigInt64Array.from(i, (k) => 1_617_410_457n + BigInt(k)),
          { dtype: "datetime64[s]" },
        ),
        tms: NDArray.from(
          BigInt64Array.from(i, (k) => BigInt(k)),
          { dtype: "datetime64[ms]" },
        ),
        tns: NDArray.from(
          BigInt64Array.from(i, (k) => 1_617_410_457_123_456_789n + BigInt(k)),
          {
            dtype: "datetime64[ns]",
          },
        ),
        td: NDArray.from(
          BigInt64Array.from(i, (k) => BigInt(k) * 7n),
          { dtype: "timedelta64[us]" },
        ),
        day: NDArray.from(
          BigInt64Array.from(i, (k) => BigInt(k % 40)),
          { dtype: "datetime64[D]" },
        ),
        _start: new Int32Array(rows).fill(0),
        _stop: new Int32Array(rows).fill(1),
      }),
    });
  }

  function assertSameIndex(a: Indexer, b: Indexer): void {
    assert.deepEqual(b.columnNames, a.columnNames);
    for (const name of a.columnNames) {
      assert.equal(b.column(name).dtype, a.column(name).dtype, name);
      assert.deepEqual(b.column(name).data, a.column(name).data, name);
    }
    assert.deepEqual(fieldTypes(b.table), fieldTypes(a.table));
  }

  it("keeps every dtype and value exactly, over several row groups", async () => {
    const index = await everyDtype(2500);
    const bytes = await index.toParquet();
    const back = await Indexer.fromParquet(bytes);
    assertSameIndex(index, back);
    assert.equal(back.column("u16").dtype, "uint16");
    // pyarrow's defaults (docs/format.md §12): snappy everywhere, dictionary pages for repetitive columns.
    const { parquetMetadata } = await import("hyparquet");
    const meta = parquetMetadata(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    );
    assert.ok(meta.row_groups.length >= 2, `${meta.row_groups.length} row groups`);
    const chunks = meta.row_groups.flatMap((g) => g.columns.map((c) => c.meta_data));
    assert.ok(chunks.every((c) => c?.codec === "SNAPPY"));
    for (const name of ["s", "_partition"]) {
      const chunk = chunks.find((c) => c?.path_in_schema[0] === name);
      assert.ok(chunk?.dictionary_page_offset !== undefined, `${name} is dictionary-encoded`);
    }
    assert.deepEqual(back.lookup({ u16: 65535, s: "pass 0 – é" }), new Map([["num=0", [[0, 1]]]]));
  });

  it("write/read through memory://, file:// URLs and bare paths", async () => {
    const index = await Indexer.build(col, { builder: runsOf(["cycle", "pass"]) });
    const targets = [
      "memory://indexer-files/_indices/passes.parquet",
      pathToFileURL(join(dir, "a dir", "passes.parquet")).href,
      join(dir, "nested", "deeper", "passes.parquet"),
    ];
    for (const target of targets) {
      await index.write(target);
      const back = await Indexer.read(target);
      assertSameIndex(index, back);
      assert.deepEqual(back.lookup({ pass: 6 }), index.lookup({ pass: 6 }));
    }
    // The file:// URL was percent-decoded into a real path.
    const bytes = await readFile(join(dir, "a dir", "passes.parquet"));
    assert.equal(new TextDecoder().decode(bytes.subarray(0, 4)), "PAR1");
    // The memory store is shared by name.
    const store = await zc.openStore("memory://indexer-files");
    assert.ok(await store.exists("_indices/passes.parquet"));
  });

  it("read errors: missing file, not Parquet, missing reserved column", async () => {
    await assert.rejects(Indexer.read(join(dir, "absent.parquet")), (err: unknown) => {
      assert.ok(err instanceof StoreError);
      assert.match(err.message, /no index file at '.*absent\.parquet'/);
      return true;
    });
    await writeFile(join(dir, "junk.parquet"), "not parquet at all");
    await assert.rejects(Indexer.read(join(dir, "junk.parquet")), (err: unknown) => {
      assert.ok(isZCollectionError(err, "StoreError"));
      assert.match((err as Error).message, /junk\.parquet' is not a readable Parquet file/);
      return true;
    });
    const { parquetWriteBuffer } = await import("hyparquet-writer");
    const noStop = parquetWriteBuffer({
      columnData: [
        { name: "_partition", data: ["a"] },
        { name: "_start", data: new BigInt64Array([0n]) },
      ],
    });
    await assert.rejects(
      Indexer.fromParquet(new Uint8Array(noStop), "x.parquet"),
      /index 'x.parquet' has no '_stop' column/,
    );
  });
});

describe("splitIndexUrl", () => {
  it("splits at the last slash, per scheme", () => {
    assert.deepEqual(splitIndexUrl("index.parquet"), { root: ".", key: "index.parquet" });
    assert.deepEqual(splitIndexUrl("/i.parquet"), { root: "/", key: "i.parquet" });
    assert.deepEqual(splitIndexUrl("data/c/i.parquet"), { root: "data/c", key: "i.parquet" });
    assert.deepEqual(splitIndexUrl("file:///d/my%20i.parquet"), { root: "file:///d", key: "my i.parquet" });
    assert.deepEqual(splitIndexUrl("file:///i.parquet"), { root: "file:///", key: "i.parquet" });
    assert.deepEqual(splitIndexUrl("s3://bucket/p/q/i.parquet"), {
      root: "s3://bucket/p/q",
      key: "i.parquet",
    });
    assert.deepEqual(splitIndexUrl("memory://n/i.parquet"), { root: "memory://n", key: "i.parquet" });
    assert.deepEqual(splitIndexUrl("memory://n/d/i.parquet"), { root: "memory://n", key: "d/i.parquet" });
    assert.deepEqual(splitIndexUrl("https://h:8080/a/i.parquet"), {
      root: "https://h:8080/a",
      key: "i.parquet",
    });
  });
  it("refuses directories, URLs without a directory, icechunk://", () => {
    assert.throws(() => splitIndexUrl(""), StoreError);
    assert.throws(() => splitIndexUrl("s3://bucket/dir/"), /names a directory/);
    assert.throws(
      () => splitIndexUrl("memory://i.parquet"),
      /has no directory part; write it as memory:\/\/<name>\/i.parquet/,
    );
    assert.throws(() => splitIndexUrl("icechunk:///repo/i.parquet"), /names a repository/);
  });
});
