import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { ReadOnlyError, StoreError } from "../../src/errors.js";
import { openStore } from "../../src/store/open.js";
import { ObjectStore, parseS3StorageOptions, parseS3Url } from "../../src/store/s3.js";
import { type MotoServer, startMoto } from "../helpers/moto.js";
import { storeContract } from "./contract.js";

let moto: MotoServer;
let n = 0;
before(async () => {
  moto = await startMoto();
});
after(async () => {
  await moto?.stop();
});

const url = (): string => `s3://${moto.bucket}/t${n++}`;

/** A raw client on the moto server whose commands are tallied by name. */
function countingClient(): { client: S3Client; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const client = new S3Client({
    endpoint: moto.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? "?";
      calls.set(name, (calls.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: "initialize", name: "countCommands" },
  );
  return { client, calls };
}

storeContract("ObjectStore (moto)", async () => {
  const u = url();
  const store = new ObjectStore(u, { storageOptions: moto.storageOptions });
  return {
    store,
    readOnly: async () => openStore(u, { readOnly: true, storageOptions: moto.storageOptions }),
    cleanup: () => store.close(),
    allocates: true,
  };
});

describe("ObjectStore", () => {
  it("maps keys below the URL prefix and never touches a sibling prefix", async () => {
    const base = url();
    const a = new ObjectStore(`${base}/`, { storageOptions: moto.storageOptions });
    const b = new ObjectStore(`${base}-sibling`, { storageOptions: moto.storageOptions });
    assert.equal(a.rootUri, base);
    assert.equal(a.bucket, moto.bucket);
    assert.equal(a.prefix, base.slice(`s3://${moto.bucket}/`.length));
    await a.writeBytes("k/v", new Uint8Array([1]));
    await b.writeBytes("k/v", new Uint8Array([2]));
    const { client } = countingClient();
    const raw = new ObjectStore(`s3://${moto.bucket}`, { client });
    assert.deepEqual(await raw.readBytes(`${a.prefix}/k/v`), new Uint8Array([1]));
    await a.deletePrefix("");
    assert.deepEqual(await a.list(), []);
    assert.deepEqual(await b.list(), ["k/v"]);
    await b.deletePrefix("");
    await Promise.all([a.close(), b.close(), raw.close()]);
    client.destroy();
  });

  it("works at the bucket root", async () => {
    const bucket = `root-${n++}`;
    const { client } = countingClient();
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    const store = new ObjectStore(`s3://${bucket}`, { client });
    assert.equal(store.rootUri, `s3://${bucket}`);
    assert.equal(store.prefix, "");
    assert.equal(await store.exists(""), false);
    await store.writeBytes("year=2024/zarr.json", new Uint8Array([1]));
    await store.writeBytes("_zcollection.json", new Uint8Array([2]));
    assert.equal(await store.exists(""), true);
    assert.deepEqual(await store.listPrefix(""), ["_zcollection.json", "year=2024"]);
    assert.deepEqual(await store.listDir(""), ["year=2024"]);
    await store.deletePrefix("");
    assert.deepEqual(await store.list(), []);
    client.destroy();
  });

  it("paginates listings and batches deletes by pageSize", async () => {
    const { client, calls } = countingClient();
    const base = url();
    const store = new ObjectStore(base, { client, pageSize: 2 });
    const keys = ["p/a", "p/b", "p/c/0", "p/d/0", "p/e"];
    for (const k of keys) await store.writeBytes(k, new Uint8Array([1]));
    await store.writeBytes("p", new Uint8Array([9])); // an object named like the prefix
    calls.clear();
    assert.deepEqual(await store.list("p"), keys);
    assert.equal(calls.get("ListObjectsV2Command"), 3, "5 keys in pages of 2");
    calls.clear();
    assert.deepEqual(await store.listPrefix("p"), ["a", "b", "c", "d", "e"]);
    assert.deepEqual(await store.listDir("p"), ["c", "d"]);
    assert.equal(calls.get("ListObjectsV2Command"), 6);
    calls.clear();
    await store.deletePrefix("p");
    assert.equal(calls.get("ListObjectsV2Command"), 3);
    assert.equal(calls.get("DeleteObjectsCommand"), 3, "6 keys (incl. 'p') in batches of 2");
    assert.deepEqual(await store.list(), []);
    assert.equal(await store.readBytes("p"), undefined);
    client.destroy();
  });

  it("uses one HEAD for an object and a one-key listing for a prefix", async () => {
    const { client, calls } = countingClient();
    const store = new ObjectStore(url(), { client });
    await store.writeBytes("g/zarr.json", new Uint8Array([1]));
    calls.clear();
    assert.equal(await store.exists("g/zarr.json"), true);
    assert.deepEqual(Object.fromEntries(calls), { HeadObjectCommand: 1 });
    calls.clear();
    assert.equal(await store.exists("g"), true);
    assert.deepEqual(Object.fromEntries(calls), { HeadObjectCommand: 1, ListObjectsV2Command: 1 });
    calls.clear();
    assert.deepEqual(await store.readRange("g/zarr.json", { suffixLength: 1 }), new Uint8Array([1]));
    assert.deepEqual(Object.fromEntries(calls), { GetObjectCommand: 1 });
    client.destroy();
  });

  it("reports a missing bucket as a StoreError, not as a missing key", async () => {
    const store = new ObjectStore("s3://no-such-bucket-zc/x", { storageOptions: moto.storageOptions });
    await assert.rejects(store.readBytes("k"), (err: unknown) => {
      assert.ok(err instanceof StoreError);
      assert.match(
        err.message,
        /S3 GET of 's3:\/\/no-such-bucket-zc\/x\/k' failed \(HTTP 404\): NoSuchBucket/,
      );
      assert.equal(err.key, "s3://no-such-bucket-zc/x/k");
      return true;
    });
    await assert.rejects(store.writeBytes("k", new Uint8Array(1)), /NoSuchBucket/);
    await store.close();
    await store.close();
  });

  it("reads objects written by another S3 client", async () => {
    const { client } = countingClient();
    const store = new ObjectStore(url(), { client });
    await client.send(
      new PutObjectCommand({
        Bucket: moto.bucket,
        Key: `${store.prefix}/raw.bin`,
        Body: new Uint8Array([4, 5, 6]),
      }),
    );
    assert.deepEqual(await store.readBytes("raw.bin"), new Uint8Array([4, 5, 6]));
    assert.deepEqual(await store.readRange("raw.bin", { offset: 1, length: 1 }), new Uint8Array([5]));
    client.destroy();
  });

  it("is dispatched by openStore and honours readOnly", async () => {
    const store = await openStore(url(), { readOnly: true, storageOptions: moto.storageOptions });
    assert.ok(store instanceof ObjectStore);
    await assert.rejects(store.writeBytes("a", new Uint8Array(1)), ReadOnlyError);
    await store.close();
  });

  it("validates URLs and storage options, naming the culprit", () => {
    assert.deepEqual(parseS3Url("s3://b"), { bucket: "b", prefix: "" });
    assert.deepEqual(parseS3Url("s3://b/x/y/"), { bucket: "b", prefix: "x/y" });
    assert.throws(() => parseS3Url("s3://"), /invalid S3 URL 's3:\/\/'/);
    assert.throws(() => parseS3Url("s3://b/x/../y"), StoreError);
    assert.throws(
      () => new ObjectStore("s3://b", { storageOptions: { endPoint: "x" } }),
      /unknown S3 storage option 'endPoint'/,
    );
    assert.throws(
      () => parseS3StorageOptions({ endpoint: "localhost:9000" }, "s3://b"),
      /'endpoint' .*http\(s\):\/\//,
    );
    assert.throws(
      () => parseS3StorageOptions({ forcePathStyle: "yes" }, "s3://b"),
      /'forcePathStyle'.*boolean/,
    );
    assert.throws(() => parseS3StorageOptions({ maxAttempts: 0 }, "s3://b"), /'maxAttempts'/);
    assert.throws(() => parseS3StorageOptions({ accessKeyId: "k" }, "s3://b"), /'secretAccessKey'/);
    assert.throws(
      () => parseS3StorageOptions({ credentials: { accessKeyId: "k" } }, "s3://b"),
      /'credentials.secretAccessKey'/,
    );
    assert.deepEqual(
      parseS3StorageOptions(
        { credentials: { accessKeyId: "k", secretAccessKey: "s" }, region: "eu-west-3" },
        "s3://b",
      ),
      { credentials: { accessKeyId: "k", secretAccessKey: "s" }, region: "eu-west-3" },
    );
    assert.throws(() => new ObjectStore("s3://b", { pageSize: 1001 }), /invalid pageSize 1001/);
    const { client } = countingClient();
    assert.throws(
      () => new ObjectStore("s3://b", { client, storageOptions: { region: "x" } }),
      /either a client or storageOptions/,
    );
    client.destroy();
  });
});

describe("ObjectStore retries", () => {
  /** An S3 look-alike that fails the first `failures` requests with `failure`. */
  let server: Server;
  let endpoint: string;
  let failures = 0;
  let failure: [number, string] = [503, "SlowDown"];
  let requests = 0;
  before(async () => {
    server = createServer((req, res) => {
      requests++;
      req.resume();
      if (failures > 0) {
        failures--;
        res.writeHead(failure[0], { "content-type": "application/xml" });
        res.end(`<Error><Code>${failure[1]}</Code><Message>try again</Message></Error>`);
        return;
      }
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": "5" });
      res.end("hello");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const store = (maxAttempts: number) =>
    new ObjectStore("s3://b/p", {
      storageOptions: { endpoint, accessKeyId: "k", secretAccessKey: "s", maxAttempts },
    });

  it("retries 5xx answers, then succeeds", async () => {
    failures = 2;
    failure = [500, "InternalError"];
    requests = 0;
    const s = store(3);
    assert.equal(new TextDecoder().decode(await s.readBytes("k")), "hello");
    assert.equal(requests, 3);
    await s.close();
  });

  it("retries throttling, and gives up after maxAttempts with a StoreError naming the key", async () => {
    failures = 100;
    failure = [503, "SlowDown"];
    requests = 0;
    const s = store(2);
    await assert.rejects(s.readBytes("k"), /S3 GET of 's3:\/\/b\/p\/k' failed \(HTTP 503\): SlowDown/);
    assert.equal(requests, 2);
    failures = 0;
    await s.close();
  });
});
