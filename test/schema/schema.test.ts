import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CodecStack, profile } from "../../src/codecs/index.js";
import * as config from "../../src/config.js";
import { NAT } from "../../src/dtype.js";
import { FormatVersionError, SchemaError } from "../../src/errors.js";
import { parseJson, stringifyJson } from "../../src/json.js";
import {
  DatasetSchema,
  Dimension,
  GroupSchema,
  Schema,
  SchemaBuilder,
  VariableRole,
  VariableSchema,
} from "../../src/schema/index.js";

const ZSTD = {
  array_to_array: [],
  array_to_bytes: { name: "bytes", configuration: { endian: "little" } },
  bytes_to_bytes: [{ name: "zstd", configuration: { level: 3, checksum: false } }],
  sharded: true,
  shard_target_bytes: 134217728,
};

/** A `_zcollection.json` schema object as Python writes it (docs/format.md §3.1), with a nested group. */
const SCHEMA_TEXT = `{
  "name": "/",
  "dimensions": [
    {"name": "num", "size": null, "chunks": 4, "shards": null},
    {"name": "x", "size": 3, "chunks": 3, "shards": null}
  ],
  "variables": [
    {"name": "num", "dtype": "<i8", "dimensions": ["num"], "fill_value": -9223372036854775808,
     "codecs": ${JSON.stringify(ZSTD)}, "attrs": {}, "role": "user", "immutable": false},
    {"name": "value", "dtype": "<f4", "dimensions": ["num", "x"], "fill_value": "NaN",
     "codecs": ${JSON.stringify(ZSTD)}, "attrs": {"units": "m", "valid_min": NaN, "scale": Infinity}, "role": "user", "immutable": false},
    {"name": "static", "dtype": "<f4", "dimensions": ["x"], "fill_value": null,
     "codecs": ${JSON.stringify(ZSTD)}, "attrs": {}, "role": "aux", "immutable": true},
    {"name": "time", "dtype": "<M8[ns]", "dimensions": ["num"], "fill_value": null,
     "codecs": ${JSON.stringify(ZSTD)}, "attrs": {}, "role": "user", "immutable": false}
  ],
  "groups": [
    {"name": "data_01", "dimensions": [], "variables": [], "attrs": {"band": "ku"},
     "groups": [
       {"name": "ku", "dimensions": [{"name": "wf", "size": 8, "chunks": null, "shards": null}],
        "variables": [
          {"name": "power", "dtype": "<f8", "dimensions": ["num", "wf"], "fill_value": "-Infinity",
           "codecs": ${JSON.stringify(ZSTD)}, "attrs": {"long_name": "power"}, "role": "user", "immutable": false}
        ],
        "groups": [], "attrs": {}}
     ]}
  ],
  "attrs": {"title": "demo", "big": 12345678901234567890},
  "format_version": 1
}`;

function expectSchemaError(
  fn: () => unknown,
  message: string | RegExp,
  fields: Partial<SchemaError> = {},
): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SchemaError, `expected SchemaError, got ${String(err)}`);
    if (typeof message === "string") assert.equal(err.message, message);
    else assert.match(err.message, message);
    for (const [k, v] of Object.entries(fields))
      assert.equal((err as unknown as Record<string, unknown>)[k], v, k);
    return true;
  });
}

describe("DatasetSchema JSON (docs/format.md §3.2–3.7)", () => {
  const schema = DatasetSchema.fromJSON(parseJson(SCHEMA_TEXT));

  it("decodes every field with its in-memory type", () => {
    assert.deepEqual([...schema.dimensions.keys()], ["num", "x"]);
    assert.equal(schema.dimensions.get("num")?.size, null);
    assert.equal(schema.dimensions.get("x")?.chunks, 3);
    const num = schema.variables.get("num") as VariableSchema;
    assert.equal(num.dtype, "int64");
    assert.equal(num.fillValue, -(2n ** 63n));
    const value = schema.variables.get("value") as VariableSchema;
    assert.equal(value.dtype, "float32");
    assert.ok(Number.isNaN(value.fillValue as number));
    assert.ok(Number.isNaN(value.attrs.valid_min as number));
    assert.equal(value.attrs.scale, Number.POSITIVE_INFINITY);
    assert.equal(schema.variables.get("static")?.role, VariableRole.AUXILIARY);
    assert.equal(schema.variables.get("static")?.immutable, true);
    assert.equal(schema.variables.get("time")?.dtype, "datetime64[ns]");
    const power = schema.getGroup("/data_01/ku").variables.get("power") as VariableSchema;
    assert.equal(power.fillValue, Number.NEGATIVE_INFINITY);
    assert.equal(schema.attrs.big, 12345678901234567890n);
    assert.equal(schema.formatVersion, 1);
    // Python's cloud-balanced stack, kept as stored: ours, without the zstd frame checksum.
    assert.deepEqual(value.codecs.toJSON(), ZSTD);
    assert.deepEqual(value.codecs.toJSON(), {
      ...profile("cloud-balanced").toJSON(),
      bytes_to_bytes: [{ name: "zstd", configuration: { level: 3, checksum: false } }],
    });
  });

  it("writes the documented key order and exact tokens", () => {
    const text = stringifyJson(schema.toJSON(), { indent: 2 });
    const json = schema.toJSON();
    assert.deepEqual(Object.keys(json), [
      "name",
      "dimensions",
      "variables",
      "groups",
      "attrs",
      "format_version",
    ]);
    assert.deepEqual(Object.keys(json.variables[0] ?? {}), [
      "name",
      "dtype",
      "dimensions",
      "fill_value",
      "codecs",
      "attrs",
      "role",
      "immutable",
    ]);
    assert.deepEqual(Object.keys(json.groups[0] ?? {}), [
      "name",
      "dimensions",
      "variables",
      "groups",
      "attrs",
    ]);
    assert.deepEqual(Object.keys(json.dimensions[0] ?? {}), ["name", "size", "chunks", "shards"]);
    assert.match(text, /"fill_value": -9223372036854775808,/);
    assert.match(text, /"fill_value": "NaN",/);
    assert.match(text, /"fill_value": "-Infinity",/);
    assert.match(text, /"valid_min": NaN,/);
    assert.match(text, /"scale": Infinity/);
    assert.match(text, /"big": 12345678901234567890/);
    assert.match(text, /"dtype": "<M8\[ns\]"/);
    assert.match(text, /"role": "aux"/);
  });

  it("round-trips text → schema → text → schema identically", () => {
    const text = stringifyJson(schema.toJSON(), { indent: 2 });
    const again = DatasetSchema.fromJSON(parseJson(text));
    assert.ok(again.equals(schema));
    assert.equal(stringifyJson(again.toJSON(), { indent: 2 }), text);
    // The parsed text equals the plain object toJSON() returns (bigint only beyond 2^53).
    assert.deepEqual(parseJson(text), schema.toJSON());
  });

  it("applies the documented defaults for missing keys", () => {
    const s = DatasetSchema.fromJSON({
      dimensions: [{ name: "t" }],
      variables: [{ name: "v", dtype: "<i4", dimensions: ["t"] }],
    });
    assert.equal(s.name, "/");
    assert.equal(s.formatVersion, 1);
    const t = s.dimensions.get("t") as Dimension;
    assert.deepEqual([t.size, t.chunks, t.shards], [null, null, null]);
    const v = s.variables.get("v") as VariableSchema;
    assert.equal(v.fillValue, null);
    assert.equal(v.role, VariableRole.USER);
    assert.equal(v.immutable, false);
    assert.deepEqual(v.attrs, {});
    assert.ok(v.codecs.equals(profile()));
    assert.deepEqual(s.attrs, {});
    assert.equal(s.groups.size, 0);
  });

  it("substitutes the default stack when array_to_bytes is null and keeps a custom one", () => {
    const s = DatasetSchema.fromJSON({
      dimensions: [{ name: "t" }],
      variables: [
        {
          name: "a",
          dtype: "<f8",
          dimensions: ["t"],
          codecs: { ...ZSTD, array_to_bytes: null, sharded: false },
        },
        {
          name: "b",
          dtype: "<f8",
          dimensions: ["t"],
          codecs: { ...ZSTD, sharded: false, shard_target_bytes: null },
        },
      ],
    });
    assert.equal(s.variables.get("a")?.codecs.sharded, true);
    assert.equal(s.variables.get("b")?.codecs.sharded, false);
  });

  it("keeps the last entry of duplicated names", () => {
    const s = DatasetSchema.fromJSON({
      dimensions: [
        { name: "t", size: 1 },
        { name: "t", size: 2 },
      ],
      variables: [
        { name: "v", dtype: "<i4", dimensions: ["t"] },
        { name: "v", dtype: "<f8", dimensions: [] },
      ],
    });
    assert.equal(s.dimensions.get("t")?.size, 2);
    assert.equal(s.variables.size, 1);
    assert.equal(s.variables.get("v")?.dtype, "float64");
  });

  it("refuses a newer or older format_version with FormatVersionError", () => {
    assert.throws(
      () => DatasetSchema.fromJSON({ format_version: 2 }),
      (e: unknown) =>
        e instanceof FormatVersionError &&
        e.version === 2 &&
        e.message === "on-disk format version 2 is newer than supported 1; please upgrade zcollection",
    );
    assert.throws(
      () => DatasetSchema.fromJSON({ format_version: 0 }),
      (e: unknown) =>
        e instanceof FormatVersionError && e.message === "no upgrader registered from version 0 to 1",
    );
  });

  it("reports undecodable fill values naming the variable", () => {
    const bad = (dtype: string, fill: unknown) => () =>
      DatasetSchema.fromJSON({ variables: [{ name: "v", dtype, dimensions: [], fill_value: fill }] });
    expectSchemaError(bad("|i1", 300), "could not decode fill_value 300 for variable 'v' of dtype int8", {
      variable: "v",
    });
    expectSchemaError(bad("<i4", 1.5), /could not decode fill_value 1.5 for variable 'v'/);
    expectSchemaError(bad("<i8", "NaN"), /could not decode fill_value "NaN" for variable 'v' of dtype int64/);
    expectSchemaError(bad("<u8", -1), /could not decode fill_value -1/);
    expectSchemaError(bad("|b1", "yes"), /could not decode fill_value "yes"/);
  });

  it("decodes fill values by casting to the dtype", () => {
    const fill = (dtype: string, value: unknown) =>
      DatasetSchema.fromJSON({
        variables: [{ name: "v", dtype, dimensions: [], fill_value: value }],
      }).variables.get("v")?.fillValue;
    assert.equal(fill("<u8", 18446744073709551615n), 18446744073709551615n);
    assert.equal(fill("<i8", 7), 7n);
    assert.equal(fill("<f4", 0.1), Math.fround(0.1));
    assert.equal(fill("<f8", "Infinity"), Number.POSITIVE_INFINITY);
    assert.equal(fill("|b1", true), true);
    assert.equal(fill("<M8[s]", 86400), 86400n);
    assert.equal(fill("<m8[ms]", -5), -5n);
    assert.equal(fill("|O", "n/a"), "n/a");
  });

  it("encodes NaT as null and coarse datetime fills as the tick count", () => {
    const s = Schema()
      .withDimension("t")
      .withVariable("a", { dtype: "datetime64[ns]", dimensions: ["t"], fillValue: NAT })
      .withVariable("b", { dtype: "datetime64[s]", dimensions: ["t"], fillValue: "1970-01-02" })
      .withVariable("c", { dtype: "uint64", dimensions: ["t"], fillValue: 2n ** 64n - 1n })
      .withVariable("d", { dtype: "string", dimensions: ["t"], fillValue: "" })
      .build();
    const vars = s.toJSON().variables;
    assert.deepEqual(
      vars.map((v) => v.fill_value),
      [null, 86400, 18446744073709551615n, ""],
    );
    assert.equal(vars[3]?.dtype, "|O");
    assert.equal(vars[3]?.codecs.array_to_bytes?.name, "vlen-utf8");
  });

  it("names the variable of an unknown role or dtype", () => {
    expectSchemaError(
      () =>
        DatasetSchema.fromJSON({ variables: [{ name: "v", dtype: "<f4", dimensions: [], role: "boss" }] }),
      /variable 'v': unknown role "boss"/,
      { variable: "v" },
    );
    expectSchemaError(
      () => DatasetSchema.fromJSON({ variables: [{ name: "v", dtype: "<c8", dimensions: [] }] }),
      "variable 'v': unsupported dtype '<c8'",
    );
  });
});

describe("Dimension (docs/behaviour.md §4.1)", () => {
  it("accepts positive integers or null", () => {
    const d = new Dimension("x", { size: 3, chunks: 2, shards: 4 });
    assert.deepEqual(d.toJSON(), { name: "x", size: 3, chunks: 2, shards: 4 });
    assert.ok(Dimension.fromJSON(d.toJSON()).equals(d));
    assert.ok(Object.isFrozen(d));
  });

  it("rejects non-positive or fractional fields naming the dimension and the field", () => {
    expectSchemaError(
      () => new Dimension("x", { size: 0 }),
      "dimension 'x': Dimension.size must be a positive integer or null, got 0",
      {
        dimension: "x",
      },
    );
    expectSchemaError(
      () => new Dimension("y", { chunks: -2 }),
      /dimension 'y': Dimension.chunks must be .* got -2/,
    );
    expectSchemaError(
      () => new Dimension("z", { shards: 1.5 }),
      /dimension 'z': Dimension.shards .* got 1.5/,
    );
    expectSchemaError(() => Schema().withDimension("w", { size: -1 }), /dimension 'w': Dimension.size/);
    expectSchemaError(() => Dimension.fromJSON({ name: "v", size: 0 }), /dimension 'v'/);
  });
});

describe("VariableSchema (docs/behaviour.md §4.3)", () => {
  it("defaults codecs to the configured profile, also for a stack without a serializer", async () => {
    const v = new VariableSchema("v", { dtype: "float32", dimensions: ["t"] });
    assert.ok(v.codecs.equals(profile("cloud-balanced")));
    const empty = new VariableSchema("v", { dtype: "float32", dimensions: ["t"], codecs: new CodecStack() });
    assert.ok(empty.codecs.equals(profile("cloud-balanced")));
    await config.override({ "codec.profile": "local-fast" }, () => {
      const w = new VariableSchema("w", { dtype: "float32", dimensions: ["t"] });
      assert.ok(w.codecs.equals(profile("local-fast")));
    });
    await config.override({ "codec.profile": "cloud-cold" }, () => {
      const read = VariableSchema.fromJSON({ name: "r", dtype: "<f4", dimensions: [] });
      assert.ok(read.codecs.equals(profile("cloud-balanced")), "readers use the default profile");
    });
    const custom = profile("cloud-cold");
    assert.equal(new VariableSchema("v", { dtype: "int8", dimensions: [], codecs: custom }).codecs, custom);
  });

  it("types the fill value per dtype and refuses lossy ones at construction", () => {
    assert.equal(new VariableSchema("v", { dtype: "int64", dimensions: [], fillValue: -1 }).fillValue, -1n);
    assert.equal(new VariableSchema("v", { dtype: "int16", dimensions: [], fillValue: 7n }).fillValue, 7);
    assert.equal(new VariableSchema("v", { dtype: "bool", dimensions: [], fillValue: 1 }).fillValue, true);
    assert.equal(
      new VariableSchema("v", { dtype: "datetime64[ns]", dimensions: [], fillValue: "NaT" }).fillValue,
      NAT,
    );
    expectSchemaError(
      () => new VariableSchema("v", { dtype: "uint8", dimensions: [], fillValue: 256 }),
      "invalid fill_value 256 for variable 'v' of dtype uint8",
    );
    expectSchemaError(
      () => new VariableSchema("v", { dtype: "string", dimensions: [], fillValue: 0 }),
      /invalid fill_value 0/,
    );
  });

  it("rejects bad names, dtypes and dimensions naming the variable", () => {
    expectSchemaError(
      () => new VariableSchema("a/b", { dtype: "int8", dimensions: [] }),
      /non-empty string without '\/'/,
    );
    expectSchemaError(
      () => new VariableSchema("v", { dtype: "float16" as "float32", dimensions: [] }),
      /unknown dtype "float16" \(variable 'v'\)/,
    );
    expectSchemaError(
      () => new VariableSchema("v", { dtype: "int8", dimensions: "t" as unknown as string[] }),
      /variable 'v': dimensions must be an array/,
    );
  });

  it("JSON-cleans attributes and freezes them", () => {
    const v = new VariableSchema("v", {
      dtype: "float64",
      dimensions: [],
      attrs: { a: new Float32Array([1, 2]), b: new Map([[1, "x"]]), c: 5n, d: undefined, e: [NaN] },
    });
    assert.deepEqual(v.attrs, { a: [1, 2], b: { "1": "x" }, c: 5, e: [Number.NaN] });
    assert.ok(Object.isFrozen(v.attrs));
    assert.ok(Object.isFrozen(v.attrs.a));
    expectSchemaError(
      () => new VariableSchema("v", { dtype: "float64", dimensions: [], attrs: { when: new Date(0) } }),
      "attribute 'when' of variable 'v': a Date cannot be stored in JSON",
    );
  });

  it("withImmutable and with return modified copies", () => {
    const v = new VariableSchema("v", { dtype: "float64", dimensions: ["t"], fillValue: 1 });
    const w = v.withImmutable(true);
    assert.equal(v.immutable, false);
    assert.equal(w.immutable, true);
    assert.equal(w.ndim, 1);
    assert.equal(v.with({ dtype: "int32" }).fillValue, 1);
    assert.equal(v.with({ name: "u" }).name, "u");
  });
});

describe("SchemaBuilder (docs/behaviour.md §4.8) and validation (§4.5)", () => {
  it("normalises group paths: /a/b, a/b and a//b/ are the same group", () => {
    const s = Schema()
      .withDimension("t", { chunks: 10 })
      .withDimension("x", { size: 2, group: "/a/b" })
      .withVariable("u", { dtype: "float32", dimensions: ["t", "x"], group: "a/b" })
      .withVariable("w", { dtype: "float32", dimensions: ["t"], group: "a//b/" })
      .withAttribute("k", 1, { group: "/a/b/" })
      .withGroup("a", { attrs: { level: 1 } })
      .withGroup("a", { attrs: { other: 2 } })
      .withGroup("/c/")
      .build();
    assert.deepEqual([...s.groups.keys()], ["a", "c"]);
    const b = s.getGroup("a/b");
    assert.deepEqual([...b.variables.keys()], ["u", "w"]);
    assert.deepEqual(b.attrs, { k: 1 });
    assert.deepEqual(s.getGroup("/a").attrs, { level: 1, other: 2 });
    assert.equal(s.getGroup("c").variables.size, 0, "empty groups are kept");
    assert.deepEqual([...s.allVariables().keys()], ["a/b/u", "a/b/w"]);
    assert.equal(s.getGroup(""), s);
    assert.equal(s.getGroup("/"), s);
  });

  it("replaces re-declared dimensions and variables in place", () => {
    const s = Schema()
      .withDimension("t", { chunks: 1 })
      .withVariable("a", { dtype: "int8", dimensions: ["t"] })
      .withVariable("b", { dtype: "int8", dimensions: ["t"] })
      .withDimension("t", { chunks: 5 })
      .withVariable("a", { dtype: "int16", dimensions: [] })
      .build();
    assert.equal(s.dimensions.get("t")?.chunks, 5);
    assert.deepEqual([...s.variables.keys()], ["a", "b"]);
    assert.equal(s.variables.get("a")?.dtype, "int16");
  });

  it("rejects a dimension not visible from the variable's group", () => {
    expectSchemaError(
      () =>
        Schema()
          .withDimension("t")
          .withDimension("x", { size: 2, group: "/a" })
          .withVariable("v", { dtype: "int8", dimensions: ["t", "x"], group: "/b" })
          .build(),
      "variable 'v' in group '/b' references unknown dimension 'x'; visible: ['t']",
      { variable: "b/v", group: "/b", dimension: "x" },
    );
  });

  it("inherits ancestor dimensions, and a child declaration shadows the ancestor's", () => {
    const s = Schema()
      .withDimension("t")
      .withDimension("x", { size: 2, chunks: 2 })
      .withDimension("x", { size: 5, chunks: 1, group: "/a/b" })
      .withDimension("y", { size: 3, chunks: 3, group: "/a" })
      .withVariable("v", { dtype: "int8", dimensions: ["t", "x", "y"], group: "/a/b" })
      .build();
    assert.equal(s.visibleDimensions("/a/b").get("x")?.size, 5);
    assert.equal(s.visibleDimensions("/a").get("x")?.size, 2);
    assert.deepEqual(s.dimChunks, { t: null, x: 2, y: 3 });
    assert.deepEqual(s.dimSizes, { t: null, x: 2 });
  });

  it("SchemaBuilder.from restarts from an existing schema", () => {
    const base = Schema()
      .withDimension("t")
      .withVariable("a", { dtype: "int8", dimensions: ["t"] })
      .build();
    const s = SchemaBuilder.from(base)
      .withVariable("b", { dtype: "int8", dimensions: ["t"], group: "g" })
      .build();
    assert.deepEqual([...s.allVariables().keys()], ["a", "g/b"]);
    assert.deepEqual([...base.allVariables().keys()], ["a"]);
  });
});

function tree(): DatasetSchema {
  return Schema()
    .withDimension("time", { chunks: 100 })
    .withDimension("x", { size: 4 })
    .withVariable("time", { dtype: "datetime64[ns]", dimensions: ["time"] })
    .withVariable("lon", { dtype: "float64", dimensions: ["x"] })
    .withVariable("count", { dtype: "int32", dimensions: [] })
    .withDimension("wf", { size: 8, chunks: 8, group: "/data_01/ku" })
    .withVariable("power", { dtype: "float32", dimensions: ["time", "wf"], group: "/data_01/ku" })
    .withVariable("range", { dtype: "float32", dimensions: ["time"], group: "/data_01/ku" })
    .withVariable("flag", { dtype: "int8", dimensions: ["time"], group: "/data_01" })
    .withVariable("sig", { dtype: "float32", dimensions: ["time"], group: "/data_02" })
    .withGroup("/data_03", { attrs: { empty: true } })
    .withAttribute("title", "demo")
    .build();
}

describe("GroupSchema navigation (docs/behaviour.md §4.4)", () => {
  const s = tree();

  it("allVariables keys root variables by short name and nested ones by path", () => {
    assert.deepEqual(
      [...s.allVariables().keys()],
      ["time", "lon", "count", "data_01/flag", "data_01/ku/power", "data_01/ku/range", "data_02/sig"],
    );
  });

  it("iterGroups is depth-first pre-order without self", () => {
    assert.deepEqual(
      [...s.iterGroups()].map((g) => g.name),
      ["data_01", "ku", "data_02", "data_03"],
    );
    assert.deepEqual(
      [...s.walk()].map(([p]) => p),
      ["/", "/data_01", "/data_01/ku", "/data_02", "/data_03"],
    );
  });

  it("getGroup names the missing path", () => {
    expectSchemaError(() => s.getGroup("/data_01/kx"), "unknown group '/data_01/kx'", {
      group: "/data_01/kx",
    });
    assert.equal(s.getGroup("data_01//ku/").name, "ku");
  });

  it("getVariable finds paths and names misses", () => {
    assert.equal(s.getVariable("/data_01/ku/power").dtype, "float32");
    assert.equal(s.getVariable("lon").dtype, "float64");
    expectSchemaError(() => s.getVariable("data_01/nope"), "unknown variable 'data_01/nope'");
    assert.equal(s.hasVariable("data_02/sig"), true);
    assert.equal(s.hasVariable("sig"), false);
  });

  it("withGroup inserts under a path, creating intermediates and replacing same-named children", () => {
    const g = new GroupSchema("extra", { attrs: { a: 1 } });
    const s2 = s.withGroup("/new/deeper", g);
    assert.ok(s2 instanceof DatasetSchema);
    assert.equal(s2.getGroup("new/deeper/extra").attrs.a, 1);
    assert.equal(s.hasGroup("new"), false, "the original is untouched");
    const replaced = s.withGroup("/", new GroupSchema("data_02"));
    assert.deepEqual([...replaced.groups.keys()], ["data_01", "data_02", "data_03"]);
    assert.equal(replaced.getGroup("data_02").variables.size, 0);
    const plain = new GroupSchema("p").withGroup("a", new GroupSchema("b"));
    assert.equal(plain.getGroup("a/b").name, "b");
  });

  it("maps are read-only and schema objects frozen", () => {
    assert.throws(
      () => (s.variables as Map<string, VariableSchema>).set("x", s.getVariable("lon")),
      TypeError,
    );
    assert.throws(() => (s.groups as Map<string, GroupSchema>).delete("data_01"), TypeError);
    assert.ok(Object.isFrozen(s));
    assert.ok(Object.isFrozen(s.getGroup("data_01")));
  });
});

describe("DatasetSchema.select (docs/behaviour.md §4.7)", () => {
  const s = tree();

  it("keeps named variables, all root dimensions and attrs, and prunes empty groups", () => {
    const sel = s.select(["time", "/data_01/ku/power"]);
    assert.deepEqual([...sel.allVariables().keys()], ["time", "data_01/ku/power"]);
    assert.deepEqual([...sel.dimensions.keys()], ["time", "x"]);
    assert.deepEqual(sel.attrs, { title: "demo" });
    assert.deepEqual([...sel.groups.keys()], ["data_01"]);
    assert.equal(sel.getGroup("data_01/ku").dimensions.get("wf")?.size, 8);
    assert.equal(sel.getGroup("data_01").variables.size, 0);
  });

  it("selects nothing nested from short names; a root-only selection keeps no group", () => {
    const sel = s.select(["lon"]);
    assert.equal(sel.groups.size, 0);
    assert.deepEqual([...sel.variables.keys()], ["lon"]);
    expectSchemaError(() => s.select(["power"]), "unknown variable 'power'");
    expectSchemaError(() => s.select(["data_01/nope"]), "unknown variable 'data_01/nope'");
    expectSchemaError(() => s.select("time" as unknown as string[]), /expects an array of variable names/);
  });

  it("an empty selection keeps only the root", () => {
    const sel = s.select([]);
    assert.equal(sel.allVariables().size, 0);
    assert.equal(sel.groups.size, 0);
    assert.equal(sel.dimensions.size, 2);
  });
});

describe("DatasetSchema.withPartitionAxis (docs/behaviour.md §4.6)", () => {
  it("flags variables that do not span the axis as immutable", () => {
    const b = tree().withPartitionAxis("time");
    const flags = Object.fromEntries([...b.allVariables()].map(([k, v]) => [k, v.immutable]));
    assert.deepEqual(flags, {
      time: false,
      lon: true,
      count: true,
      "data_01/flag": false,
      "data_01/ku/power": false,
      "data_01/ku/range": false,
      "data_02/sig": false,
    });
    assert.deepEqual([...b.variablesByRole({ immutable: true }).keys()], ["lon", "count"]);
    assert.deepEqual([...b.variablesByRole({ immutable: false }).keys()], ["time"]);
    assert.deepEqual([...b.allVariablesByRole({ immutable: true }).keys()], ["lon", "count"]);
    assert.equal(b.allVariablesByRole().size, 7);
    assert.equal(b.allVariablesByRole({ role: VariableRole.FILLER }).size, 0);
    assert.deepEqual(b.attrs, { title: "demo" });
    assert.equal(b.getGroup("data_03").attrs.empty, true);
  });

  it("rejects an axis that is not a root dimension", () => {
    expectSchemaError(
      () => tree().withPartitionAxis("wf"),
      "partitioning axis 'wf' is not a root dimension",
      {
        dimension: "wf",
      },
    );
  });

  it("rejects a non-axis unbounded dimension naming variable, group and dimension", () => {
    const s = Schema()
      .withDimension("time")
      .withDimension("other", { group: "/g" })
      .withVariable("v", { dtype: "int8", dimensions: ["time", "other"], group: "/g" })
      .build();
    expectSchemaError(
      () => s.withPartitionAxis("time"),
      /^variable 'v' in group '\/g' spans the unbounded dimension 'other', which is not the partitioning axis 'time'/,
      { variable: "g/v", group: "/g", dimension: "other" },
    );
  });

  it("survives a JSON round trip with the flags as stored", () => {
    const b = tree().withPartitionAxis("time");
    const again = DatasetSchema.fromJSON(parseJson(stringifyJson(b.toJSON(), { indent: 2 })));
    assert.ok(again.equals(b));
    assert.equal(again.getVariable("lon").immutable, true);
  });
});
