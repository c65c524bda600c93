import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NAT } from "../../src/dtype.js";
import { CodecError, SchemaError } from "../../src/errors.js";
import {
  arrayMetadataText,
  chunkKey,
  decodeFillValue,
  defaultFillValue,
  encodeGroupMetadata,
  metadataKey,
  normalizeFillValue,
  parseNodeMetadata,
  pythonFloatRepr,
} from "../../src/zarr/index.js";

const enc = (s: string) => new TextEncoder().encode(s);

describe("pythonFloatRepr (Python repr of floats)", () => {
  const cases: [number, string][] = [
    [0, "0.0"],
    [-0, "-0.0"],
    [1.5, "1.5"],
    [-2.5, "-2.5"],
    [100, "100.0"],
    [0.1, "0.1"],
    [0.0001, "0.0001"],
    [1e-5, "1e-05"],
    [1e-7, "1e-07"],
    [1.5e-10, "1.5e-10"],
    [1234567890123456, "1234567890123456.0"],
    [1e16, "1e+16"],
    [1.2345678901234568e17, "1.2345678901234568e+17"],
    [1e22, "1e+22"],
    [1e100, "1e+100"],
    [5e-324, "5e-324"],
    [Math.fround(0.1), "0.10000000149011612"],
  ];
  for (const [value, text] of cases) {
    it(`${value} → ${text}`, () => assert.equal(pythonFloatRepr(value), text));
  }
});

describe("fill values (docs/format.md §6.5)", () => {
  it("defaults per data type", () => {
    assert.equal(defaultFillValue("bool"), false);
    assert.equal(defaultFillValue("int32"), 0);
    assert.equal(defaultFillValue("int64"), 0n);
    assert.equal(defaultFillValue("uint64"), 0n);
    assert.equal(defaultFillValue("float32"), 0);
    assert.equal(defaultFillValue("datetime64[ns]"), NAT);
    assert.equal(defaultFillValue("timedelta64[s]"), NAT);
    assert.equal(defaultFillValue("string"), "");
  });

  it("decodes special floats, hex bit patterns, NaT and exact 64-bit integers", () => {
    assert.ok(Number.isNaN(decodeFillValue("NaN", "float32", "k") as number));
    assert.equal(decodeFillValue("Infinity", "float64", "k"), Number.POSITIVE_INFINITY);
    assert.equal(decodeFillValue("-Infinity", "float32", "k"), Number.NEGATIVE_INFINITY);
    assert.ok(Number.isNaN(decodeFillValue("0x7fc00000", "float32", "k") as number));
    assert.equal(decodeFillValue("0x3fc00000", "float32", "k"), 1.5);
    assert.equal(decodeFillValue("0x3ff0000000000000", "float64", "k"), 1);
    assert.equal(decodeFillValue("NaT", "datetime64[ns]", "k"), NAT);
    assert.equal(decodeFillValue(-(2n ** 63n), "datetime64[s]", "k"), NAT);
    assert.equal(decodeFillValue(2n ** 64n - 1n, "uint64", "k"), 2n ** 64n - 1n);
    assert.equal(decodeFillValue(7, "int64", "k"), 7n);
    assert.equal(decodeFillValue(255, "uint8", "k"), 255);
    assert.equal(decodeFillValue(true, "bool", "k"), true);
    assert.equal(decodeFillValue("", "string", "k"), "");
    assert.equal(decodeFillValue(3, "float64", "k"), 3);
    assert.equal(decodeFillValue(null, "int16", "k"), 0);
  });

  it("rejects values that do not fit with a CodecError naming the key", () => {
    const bad: [unknown, string][] = [
      [256, "uint8"],
      [-1, "uint32"],
      [1.5, "int32"],
      [2n ** 63n, "int64"],
      ["x", "float32"],
      ["0x7fc0", "float32"],
      [1, "string"],
      [2, "bool"],
    ];
    for (const [value, dtype] of bad) {
      assert.throws(
        () => decodeFillValue(value as never, dtype as never, "a/b/zarr.json"),
        (e: unknown) =>
          e instanceof CodecError && e.key === "a/b/zarr.json" && e.message.includes("a/b/zarr.json"),
        `${String(value)} for ${dtype}`,
      );
    }
  });

  it("normalizeFillValue names the array in a SchemaError", () => {
    assert.throws(
      () => normalizeFillValue(300, "int8", "part/var"),
      (e: unknown) =>
        e instanceof SchemaError && e.message.includes("'part/var'") && e.message.includes("int8"),
    );
    assert.throws(() => normalizeFillValue(1e39, "float32", "v"), SchemaError);
    assert.equal(normalizeFillValue("NaT", "datetime64[ms]", "v"), NAT);
    assert.equal(normalizeFillValue(5, "datetime64[ms]", "v"), 5n);
    assert.equal(normalizeFillValue(1, "bool", "v"), true);
    assert.ok(Number.isNaN(normalizeFillValue("NaN", "float64", "v") as number));
  });
});

describe("chunk keys (docs/format.md §6.6)", () => {
  it("default, dotted default and v2 encodings, 0-d arrays", () => {
    assert.equal(chunkKey({ name: "default", separator: "/" }, [1, 0, 12]), "c/1/0/12");
    assert.equal(chunkKey({ name: "default", separator: "." }, [1, 0]), "c.1.0");
    assert.equal(chunkKey({ name: "v2", separator: "." }, [1, 0]), "1.0");
    assert.equal(chunkKey({ name: "default", separator: "/" }, []), "c");
    assert.equal(chunkKey({ name: "v2", separator: "." }, []), "0");
    assert.equal(metadataKey(""), "zarr.json");
    assert.equal(metadataKey("/a/b/"), "a/b/zarr.json");
  });
});

describe("zarr.json documents", () => {
  it("writes a 0-d array without dimension_names and with an exact NaT fill", () => {
    const text = arrayMetadataText({
      shape: [],
      dtype: "datetime64[ns]",
      chunkShape: [],
      fillValue: NAT,
      codecs: [{ name: "bytes", configuration: { endian: "little" } }],
      dimensionNames: [],
    });
    assert.ok(!text.includes("dimension_names"));
    assert.ok(text.includes('"fill_value": -9223372036854775808,'));
    assert.ok(text.includes('"name": "numpy.datetime64"'));
    const node = parseNodeMetadata(enc(text), "t/zarr.json");
    assert.equal(node.nodeType, "array");
    if (node.nodeType === "array") {
      assert.equal(node.fillValue, NAT);
      assert.equal(node.dtype, "datetime64[ns]");
      assert.deepEqual(node.shape, []);
      assert.equal(node.dimensionNames, undefined);
    }
  });

  it("writes integral float fill values with a decimal point and 64-bit fills digit-exact", () => {
    const base = { shape: [3], chunkShape: [3], codecs: [{ name: "bytes" }], dimensionNames: ["x"] };
    assert.ok(arrayMetadataText({ ...base, dtype: "float64", fillValue: 3 }).includes('"fill_value": 3.0,'));
    assert.ok(
      arrayMetadataText({ ...base, dtype: "float32", fillValue: Number.NaN }).includes(
        '"fill_value": "NaN",',
      ),
    );
    assert.ok(
      arrayMetadataText({ ...base, dtype: "float32", fillValue: Number.NEGATIVE_INFINITY }).includes(
        '"fill_value": "-Infinity",',
      ),
    );
    assert.ok(
      arrayMetadataText({ ...base, dtype: "uint64", fillValue: 2n ** 64n - 1n }).includes(
        '"fill_value": 18446744073709551615,',
      ),
    );
    assert.ok(arrayMetadataText({ ...base, dtype: "int32", fillValue: -5 }).includes('"fill_value": -5,'));
    assert.ok(arrayMetadataText({ ...base, dtype: "bool", fillValue: true }).includes('"fill_value": true,'));
  });

  it("writes a group document like zarr-python", () => {
    assert.equal(
      new TextDecoder().decode(encodeGroupMetadata({})),
      '{\n  "attributes": {},\n  "zarr_format": 3,\n  "node_type": "group"\n}',
    );
    const node = parseNodeMetadata(
      enc('{"attributes": {"a": NaN, "b": 9007199254740993}, "zarr_format": 3, "node_type": "group"}'),
      "g/zarr.json",
    );
    assert.equal(node.nodeType, "group");
    assert.ok(Number.isNaN(node.attributes.a as number));
    assert.equal(node.attributes.b, 9007199254740993n);
  });

  it("reads the v2 chunk key encoding and its default separator", () => {
    const doc = {
      shape: [4],
      data_type: "int8",
      chunk_grid: { name: "regular", configuration: { chunk_shape: [2] } },
      chunk_key_encoding: { name: "v2" },
      fill_value: 0,
      codecs: [{ name: "bytes" }],
      zarr_format: 3,
      node_type: "array",
    };
    const node = parseNodeMetadata(enc(JSON.stringify(doc)), "a/zarr.json");
    assert.ok(node.nodeType === "array");
    assert.deepEqual(node.chunkKeyEncoding, { name: "v2", separator: "." });
    assert.deepEqual(node.attributes, {});
  });

  it("reads fixed_length_utf32: string dtype, the width bound to the bytes serializer, never to the shard index", () => {
    const doc = (codecs: unknown, fill: unknown = "") =>
      enc(
        JSON.stringify({
          shape: [5],
          data_type: { name: "fixed_length_utf32", configuration: { length_bytes: 8 } },
          chunk_grid: { name: "regular", configuration: { chunk_shape: [4] } },
          fill_value: fill,
          codecs,
          zarr_format: 3,
          node_type: "array",
        }),
      );
    const plain = parseNodeMetadata(
      doc([{ name: "bytes", configuration: { endian: "big" } }, { name: "zstd" }]),
      "s/zarr.json",
    );
    assert.ok(plain.nodeType === "array");
    assert.equal(plain.dtype, "string");
    assert.deepEqual(plain.dataType, { name: "fixed_length_utf32", configuration: { length_bytes: 8 } });
    assert.deepEqual(plain.codecs, [
      { name: "bytes", configuration: { endian: "big", length_bytes: 8 } },
      { name: "zstd" },
    ]);
    assert.equal(plain.fillValue, "");
    const index = [{ name: "bytes", configuration: { endian: "little" } }, { name: "crc32c" }];
    const sharded = parseNodeMetadata(
      doc([
        {
          name: "sharding_indexed",
          configuration: { chunk_shape: [2], codecs: ["bytes"], index_codecs: index, index_location: "end" },
        },
      ]),
      "s/zarr.json",
    );
    assert.ok(sharded.nodeType === "array");
    assert.deepEqual(sharded.codecs, [
      {
        name: "sharding_indexed",
        configuration: {
          chunk_shape: [2],
          codecs: [{ name: "bytes", configuration: { length_bytes: 8 } }],
          index_codecs: index,
          index_location: "end",
        },
      },
    ]);
    // A fill value is what numpy holds at that width: cut to 2 code points, trailing NULs stripped.
    const fill = parseNodeMetadata(doc([{ name: "bytes" }], "🌊é!"), "s/zarr.json");
    assert.ok(fill.nodeType === "array");
    assert.equal(fill.fillValue, "🌊é");
    const nul = parseNodeMetadata(doc([{ name: "bytes" }], "a\u0000"), "s/zarr.json");
    assert.ok(nul.nodeType === "array");
    assert.equal(nul.fillValue, "a");
  });

  it("refuses unsupported data types naming the key", () => {
    for (const dt of [
      "float16",
      "complex64",
      '{"name": "fixed_length_utf32", "configuration": {"length_bytes": 6}}',
      '{"name": "null_terminated_bytes", "configuration": {"length_bytes": 8}}',
    ]) {
      const dataType = dt.startsWith("{") ? dt : `"${dt}"`;
      const text = `{"shape": [1], "data_type": ${dataType}, "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [1]}}, "fill_value": 0, "codecs": [{"name": "bytes"}], "zarr_format": 3, "node_type": "array"}`;
      assert.throws(
        () => parseNodeMetadata(enc(text), "v/zarr.json"),
        (e: unknown) =>
          e instanceof CodecError && e.key === "v/zarr.json" && /unsupported data type/.test(e.message),
        dt,
      );
    }
  });

  it("refuses malformed documents naming the key", () => {
    const good = {
      shape: [4],
      data_type: "int8",
      chunk_grid: { name: "regular", configuration: { chunk_shape: [2] } },
      fill_value: 0,
      codecs: [{ name: "bytes" }],
      zarr_format: 3,
      node_type: "array",
    };
    const variants: Record<string, unknown>[] = [
      { ...good, shape: [-1] },
      { ...good, shape: "4" },
      { ...good, chunk_grid: { name: "regular", configuration: { chunk_shape: [0] } } },
      { ...good, chunk_grid: { name: "regular", configuration: { chunk_shape: [2, 2] } } },
      { ...good, codecs: [] },
      { ...good, dimension_names: ["a", "b"] },
      { ...good, storage_transformers: [{ name: "x" }] },
      { ...good, chunk_key_encoding: { name: "custom" } },
      { ...good, attributes: [] },
      { ...good, node_type: undefined },
    ];
    for (const v of variants) {
      assert.throws(
        () => parseNodeMetadata(enc(JSON.stringify(v)), "bad/zarr.json"),
        (e: unknown) =>
          e instanceof CodecError && e.key === "bad/zarr.json" && e.message.includes("bad/zarr.json"),
        JSON.stringify(v),
      );
    }
    assert.throws(
      () => parseNodeMetadata(new Uint8Array([0xff, 0xfe]), "bin/zarr.json"),
      (e: unknown) => e instanceof CodecError && e.key === "bin/zarr.json",
    );
  });
});
