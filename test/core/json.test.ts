import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SchemaError } from "../../src/errors.js";
import { decodeJson, JsonSyntaxError, parseJson, stringifyJson } from "../../src/json.js";

describe("parseJson", () => {
  it("accepts Python's NaN/Infinity tokens", () => {
    const v = parseJson('{"a": NaN, "b": [Infinity, -Infinity], "c": 1.5}') as Record<string, unknown>;
    assert.ok(Number.isNaN(v.a));
    assert.deepEqual(v.b, [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    assert.equal(v.c, 1.5);
  });
  it("keeps integers beyond 2^53 exact", () => {
    const v = parseJson("[-9223372036854775808, 18446744073709551615, 9007199254740991, 1e20]") as unknown[];
    assert.deepEqual(v, [-(2n ** 63n), 2n ** 64n - 1n, 9007199254740991, 1e20]);
  });
  it("decodes escapes and unicode", () => {
    assert.equal(parseJson('"h\\u00e9llo \\u2603"'), "héllo ☃");
  });
  it("names the source and the offset on errors", () => {
    assert.throws(
      () => parseJson('{"a": nope}', "year=2024/zarr.json"),
      (e: unknown) =>
        e instanceof JsonSyntaxError &&
        e instanceof SchemaError &&
        /year=2024\/zarr.json at offset 6/.test(e.message),
    );
    assert.throws(() => parseJson("[1,]"), JsonSyntaxError);
    assert.throws(() => parseJson("{} x"), /trailing/);
    assert.throws(() => decodeJson(new Uint8Array([0xff]), "k"), /invalid UTF-8 in k/);
  });
});

describe("stringifyJson", () => {
  it("writes bigints digit-exact and non-finite numbers as bare tokens", () => {
    assert.equal(
      stringifyJson({ f: -(2n ** 63n), a: [Number.NaN, Number.POSITIVE_INFINITY] }),
      '{"f":-9223372036854775808,"a":[NaN,Infinity]}',
    );
  });
  it("indents like Python json.dumps(indent=2)", () => {
    assert.equal(
      stringifyJson({ a: [1, 2], b: {}, c: [] }, { indent: 2 }),
      '{\n  "a": [\n    1,\n    2\n  ],\n  "b": {},\n  "c": []\n}',
    );
  });
  it("escapes non-ASCII like ensure_ascii", () => {
    assert.equal(stringifyJson("é☃"), '"\\u00e9\\u2603"');
    assert.equal(stringifyJson("é", { ensureAscii: false }), '"é"');
  });
  it("round trips through parseJson", () => {
    const doc = { x: [1, -2.5, 2n ** 62n, null, true, "s"], y: { z: Number.NEGATIVE_INFINITY } };
    assert.deepEqual(parseJson(stringifyJson(doc, { indent: 2 })), doc);
  });
});
