import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as config from "../../src/config.js";
import {
  CodecError,
  CollectionNotFoundError,
  ExpressionError,
  isZCollectionError,
  PartitionError,
  ReadOnlyError,
  SchemaError,
  StoreError,
  ZCollectionError,
} from "../../src/errors.js";

describe("config", () => {
  it("has the documented defaults and restores overrides", async () => {
    config.reset();
    assert.equal(config.get("partition.concurrency"), 8);
    assert.equal(config.get("codec.profile"), "cloud-balanced");
    assert.equal(config.get("catalog.enabled"), false);
    assert.ok(config.get("codec.workers") >= 1);
    await assert.rejects(
      config.override({ "partition.concurrency": 2 }, () => {
        assert.equal(config.get("partition.concurrency"), 2);
        throw new Error("boom");
      }),
      /boom/,
    );
    assert.equal(config.get("partition.concurrency"), 8);
    config.set({ "partition.concurrency": 0 });
    assert.equal(config.partitionConcurrency(), 1);
    config.reset();
  });
  it("rejects unknown keys and wrong types", () => {
    assert.throws(() => config.get("nope" as config.ConfigKey), /unknown zcollection config key: 'nope'/);
    assert.throws(
      () => config.set({ "nope.key": 1 } as Partial<config.ConfigValues>),
      config.UnknownConfigKeyError,
    );
    assert.throws(() => config.set({ "catalog.enabled": "yes" as unknown as boolean }), TypeError);
  });
});

describe("errors", () => {
  it("tags, fields, cause and the guard", () => {
    const cause = new Error("root");
    const e = new SchemaError("variable 'ssh' is bad", { variable: "ssh", cause });
    assert.ok(e instanceof ZCollectionError);
    assert.equal(e._tag, "SchemaError");
    assert.equal(e.name, "SchemaError");
    assert.equal(e.variable, "ssh");
    assert.equal(e.cause, cause);
    assert.ok(isZCollectionError(e));
    assert.ok(isZCollectionError(e, "SchemaError"));
    assert.ok(!isZCollectionError(e, "StoreError"));
    assert.ok(!isZCollectionError(new Error("x")));
    assert.ok(!isZCollectionError({ _tag: "Other" }));
    const c = new CodecError("chunk c/0 corrupted", { key: "v/c/0" });
    assert.ok(c instanceof StoreError);
    assert.ok(isZCollectionError(c, "StoreError"));
    assert.equal(new ExpressionError("bad", "year ==", { position: 7 }).position, 7);
    assert.equal(new ReadOnlyError("ro", "file:///x").uri, "file:///x");
    assert.equal(new CollectionNotFoundError("none", "memory://a")._tag, "CollectionNotFoundError");
    assert.equal(new PartitionError("p", { variable: "time" }).variable, "time");
  });
});
