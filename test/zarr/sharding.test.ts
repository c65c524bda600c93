import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CodecError } from "../../src/errors.js";
import {
  assembleShard,
  DEFAULT_INDEX_CODECS,
  decodeShardIndex,
  EMPTY,
  parseSharding,
  planShardReads,
  shardingDescriptor,
} from "../../src/zarr/index.js";

const sharding = (location: "start" | "end" = "end", indexCodecs: unknown[] = [...DEFAULT_INDEX_CODECS]) =>
  parseSharding(
    {
      name: "sharding_indexed",
      configuration: {
        chunk_shape: [2, 3],
        codecs: [{ name: "bytes", configuration: { endian: "little" } }],
        index_codecs: indexCodecs,
        index_location: location,
      },
    },
    "int16",
    [4, 6],
    "arr/zarr.json",
  );

describe("sharding_indexed", () => {
  it("parses the configuration: 4 inner chunks, index of 16·N + 4 bytes", () => {
    const s = sharding();
    assert.deepEqual(s.chunksPerShard, [2, 2]);
    assert.equal(s.count, 4);
    assert.equal(s.indexSize, 68);
    assert.equal(sharding("end", [{ name: "bytes" }]).indexSize, 64);
    assert.equal(sharding("start").indexLocation, "start");
  });

  it("writes the descriptor of docs/format.md §6.4", () => {
    assert.deepEqual(shardingDescriptor([128, 8], [{ name: "bytes", configuration: { endian: "little" } }]), {
      name: "sharding_indexed",
      configuration: {
        chunk_shape: [128, 8],
        codecs: [{ name: "bytes", configuration: { endian: "little" } }],
        index_codecs: [{ name: "bytes", configuration: { endian: "little" } }, { name: "crc32c" }],
        index_location: "end",
      },
    });
  });

  it("refuses inner chunks that do not divide the shard and unknown index codecs, naming the key", () => {
    const bad = (cfg: Record<string, unknown>) => () =>
      parseSharding({ name: "sharding_indexed", configuration: cfg }, "int16", [4, 6], "arr/zarr.json");
    const named = (e: unknown) => e instanceof CodecError && e.key === "arr/zarr.json";
    assert.throws(bad({ chunk_shape: [3, 3], codecs: [{ name: "bytes" }] }), named);
    assert.throws(
      bad({
        chunk_shape: [2, 3],
        codecs: [{ name: "bytes" }],
        index_codecs: [{ name: "bytes" }, { name: "zstd" }],
      }),
      named,
    );
    assert.throws(bad({ chunk_shape: [2, 3], codecs: [{ name: "rot13" }] }), named);
  });

  it("assembles chunks + index + crc32c and decodes the index back", () => {
    const s = sharding();
    const a = new Uint8Array([1, 2, 3]);
    const b = new Uint8Array([4, 5]);
    const shard = assembleShard([a, undefined, b, undefined], s.count) as Uint8Array;
    assert.equal(shard.length, 5 + 68);
    assert.deepEqual(Array.from(shard.subarray(0, 5)), [1, 2, 3, 4, 5]);
    const index = decodeShardIndex(shard.subarray(5), s, "arr/c/0/0");
    assert.deepEqual(Array.from(index.offsets), [0, EMPTY, 3, EMPTY]);
    assert.deepEqual(Array.from(index.lengths), [3, EMPTY, 2, EMPTY]);
    assert.equal(assembleShard([undefined, undefined, undefined, undefined], 4), undefined);
  });

  it("rejects a corrupted or wrongly sized index naming the shard", () => {
    const s = sharding();
    const shard = assembleShard([new Uint8Array([1]), undefined, undefined, undefined], 4) as Uint8Array;
    const tail = shard.slice(1);
    tail[3] = (tail[3] as number) ^ 1;
    const named = (e: unknown) =>
      e instanceof CodecError && e.key === "arr/c/1/0" && e.message.includes("arr/c/1/0");
    assert.throws(() => decodeShardIndex(tail, s, "arr/c/1/0"), named);
    assert.throws(() => decodeShardIndex(tail.subarray(1), s, "arr/c/1/0"), named);
  });

  it("plans merged ranged reads: skips absent chunks, merges neighbours, splits on large gaps", () => {
    const index = {
      offsets: new Float64Array([0, 100, EMPTY, 200_000, 150]),
      lengths: new Float64Array([100, 50, EMPTY, 10, 40]),
    };
    assert.deepEqual(planShardReads(index, [0, 1, 2, 3, 4]), [
      { offset: 0, length: 190, chunks: [0, 1, 4] },
      { offset: 200_000, length: 10, chunks: [3] },
    ]);
    assert.deepEqual(planShardReads(index, [4, 0], 0), [
      { offset: 0, length: 100, chunks: [0] },
      { offset: 150, length: 40, chunks: [4] },
    ]);
    assert.deepEqual(planShardReads(index, [2]), []);
  });
});
