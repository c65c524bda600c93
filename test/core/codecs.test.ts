import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  autoCodecs,
  CodecStack,
  computeShardShape,
  DEFAULT_PROFILE,
  profile,
  profileNames,
  shardDecision,
  shardTargetBytes,
} from "../../src/codecs/index.js";
import { SchemaError } from "../../src/errors.js";

const MiB = 1024 * 1024;

describe("codec profiles (docs/format.md §3.6.1)", () => {
  it("lists the three profiles, cloud-balanced by default", () => {
    assert.deepEqual(profileNames(), ["local-fast", "cloud-balanced", "cloud-cold"]);
    assert.equal(DEFAULT_PROFILE, "cloud-balanced");
    assert.deepEqual(profile().toJSON(), profile("cloud-balanced").toJSON());
  });
  it("produces exactly the documented stacks", () => {
    // zstd with its frame checksum (zarr-python key order: level, checksum).
    const zstd = (level: number) => ({ name: "zstd", configuration: { level, checksum: true } });
    const bytes = { name: "bytes", configuration: { endian: "little" } };
    assert.deepEqual(profile("local-fast").toJSON(), {
      array_to_array: [],
      array_to_bytes: bytes,
      bytes_to_bytes: [zstd(3)],
      sharded: false,
      shard_target_bytes: null,
    });
    assert.deepEqual(profile("cloud-balanced").toJSON(), {
      array_to_array: [],
      array_to_bytes: bytes,
      bytes_to_bytes: [zstd(3)],
      sharded: true,
      shard_target_bytes: 134217728,
    });
    assert.deepEqual(profile("cloud-cold").toJSON(), {
      array_to_array: [],
      array_to_bytes: bytes,
      bytes_to_bytes: [zstd(9)],
      sharded: true,
      shard_target_bytes: 536870912,
    });
    assert.equal(shardTargetBytes("local-fast"), null);
  });
  it("replaces filters and the compressor on request", () => {
    const s = profile("local-fast", { compressor: { name: "gzip", configuration: { level: 5 } } });
    assert.deepEqual(s.bytesToBytes, [{ name: "gzip", configuration: { level: 5 } }]);
    const f = profile(null, { filters: [{ name: "transpose", configuration: { order: [1, 0] } }] });
    assert.equal(f.arrayToArray.length, 1);
  });
  it("rejects unknown profiles naming them", () => {
    assert.throws(
      () => profile("fastest"),
      (e: unknown) => e instanceof SchemaError && e.message.includes("'fastest'"),
    );
  });
  it("gives variable-length strings the vlen-utf8 serializer", () => {
    assert.equal(autoCodecs("string").arrayToBytes?.name, "vlen-utf8");
    assert.equal(autoCodecs("float32").arrayToBytes?.name, "bytes");
  });
  it("fromJSON substitutes the default profile for an incomplete stack", () => {
    assert.ok(CodecStack.fromJSON(null).equals(profile()));
    assert.ok(CodecStack.fromJSON({ array_to_bytes: null }).equals(profile()));
    const j = profile("cloud-cold").toJSON();
    assert.ok(CodecStack.fromJSON(JSON.parse(JSON.stringify(j))).equals(profile("cloud-cold")));
  });
});

describe("shard decision (docs/behaviour.md §12.3 worked examples)", () => {
  const cases: Array<
    [number[], (number | null)[], Parameters<typeof computeShardShape>[2], number, number[] | null]
  > = [
    [[4096, 240], [50000, 240], "float32", 128 * MiB, [32768, 240]],
    [[4096], [50000], "datetime64[s]", 128 * MiB, [32768]],
    [[128, 8], [4096, 8], "float32", 128 * MiB, [4096, 8]],
    [[128], [4096], "int64", 128 * MiB, [4096]],
    [[4], [2], "int64", 128 * MiB, null],
    [[4, 3], [3, 3], "float32", 128 * MiB, null],
    [[64, 64], [1024, 4096], "float64", 1 * MiB, [1024, 128]],
    [[1048576], [1048576], "float64", 1 * MiB, null],
  ];
  for (const [inner, shape, dtype, target, expected] of cases) {
    it(`${inner} in ${shape} (${dtype}, ${target / MiB} MiB) -> ${expected}`, () => {
      assert.deepEqual(shardDecision(inner, shape, dtype, target), expected);
    });
  }
  it("computes an unbounded shard and keeps small arrays whole", () => {
    assert.deepEqual(computeShardShape([4096, 240], [null, 240], "float32", 128 * MiB), [131072, 240]);
    assert.deepEqual(computeShardShape([64, 64], [64, 64], "float64", 64 * MiB), [64, 64]);
  });
  it("rejects rank mismatches", () => {
    assert.throws(() => computeShardShape([1, 2], [3], "float32", 10), SchemaError);
  });
  it("is null without a target", () => {
    assert.equal(shardDecision([4], [100], "float32", null), null);
  });
});
