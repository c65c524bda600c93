import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { ReadOnlyError, StoreError } from "../../src/errors.js";
import { HttpStore } from "../../src/store/http.js";
import { LocalStore } from "../../src/store/local.js";
import { openStore } from "../../src/store/open.js";
import { freePort } from "../helpers/moto.js";

interface Seen {
  method: string;
  path: string;
  range: string | undefined;
  status: number;
  auth: string | undefined;
}

/** How the test server misbehaves, reset before each test. */
const mode = { ignoreRange: false, refuseHead: false, flaky: 0 };
let seen: Seen[] = [];
let dir: string;
let local: LocalStore;
let server: Server;
let base: string;

/**
 * Serves `local` under `/data` with Range support (single ranges: `a-b`,
 * `a-`, `-n`), 416 past the end; `/data/forbidden/*` → 403, `/data/broken` → 500,
 * `/data/flaky` → 503 while `mode.flaky` > 0.
 */
async function handle(req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) {
  const url = new URL(req.url ?? "/", "http://localhost");
  const path = decodeURIComponent(url.pathname);
  const reply = (status: number, headers: Record<string, string> = {}, body?: Uint8Array) => {
    seen.push({
      method: req.method ?? "",
      path: url.pathname + url.search,
      range: req.headers.range,
      status,
      auth: req.headers.authorization,
    });
    res.writeHead(status, headers);
    res.end(req.method === "HEAD" ? undefined : body);
  };
  if (!path.startsWith("/data/")) return reply(404);
  const key = path.slice("/data/".length);
  if (key.startsWith("forbidden/")) return reply(403);
  if (key === "broken") return reply(500);
  if (key === "flaky" && mode.flaky > 0) {
    mode.flaky--;
    return reply(503);
  }
  if (req.method === "HEAD" && mode.refuseHead) return reply(405);
  const body = key === "flaky" ? new TextEncoder().encode("steady") : await local.readBytes(key);
  if (body === undefined) return reply(404);
  const size = String(body.length);
  const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? "");
  if (m === null || mode.ignoreRange) return reply(200, { "content-length": size }, body);
  let start: number;
  let end: number;
  if (m[1] === "") {
    start = Math.max(0, body.length - Number(m[2]));
    end = body.length - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? body.length - 1 : Math.min(Number(m[2]), body.length - 1);
  }
  if (start >= body.length) return reply(416, { "content-range": `bytes */${size}` });
  return reply(
    206,
    { "content-range": `bytes ${start}-${end}/${size}`, "content-length": String(end - start + 1) },
    body.subarray(start, end + 1),
  );
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "zc-http-"));
  local = new LocalStore(dir);
  const tree: Record<string, string> = {
    "_zcollection.json": '{"format_version":1}',
    "_catalog/state.json": '{"partitions":["year=2024"]}',
    "year=2024/zarr.json": '{"zarr_format":3,"node_type":"group"}',
    "year=2024/time/c/0": "0123456789",
    "dir with space/é=1,2.bin": "special",
  };
  for (const [k, v] of Object.entries(tree)) await local.writeBytes(k, new TextEncoder().encode(v));
  server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/data`;
});
after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  seen = [];
  Object.assign(mode, { ignoreRange: false, refuseHead: false, flaky: 0 });
});

const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

describe("HttpStore", () => {
  it("reads whole objects written by a LocalStore", async () => {
    const store = new HttpStore(`${base}/`);
    assert.equal(store.rootUri, base);
    assert.equal(store.readOnly, true);
    assert.equal(text(await store.readBytes("_zcollection.json")), '{"format_version":1}');
    assert.equal(text(await store.get("/year=2024/zarr.json")), '{"zarr_format":3,"node_type":"group"}');
    assert.deepEqual(
      seen.map((s) => [s.method, s.path, s.status]),
      [
        ["GET", "/data/_zcollection.json", 200],
        ["GET", "/data/year=2024/zarr.json", 200],
      ],
    );
  });

  it("reads ranges with the Range header", async () => {
    const store = new HttpStore(base);
    const key = "year=2024/time/c/0";
    assert.equal(text(await store.readRange(key, { offset: 2, length: 3 })), "234");
    assert.equal(text(await store.readRange(key, { suffixLength: 4 })), "6789");
    assert.equal(text(await store.readRange(key, { offset: 8, length: 10 })), "89");
    assert.deepEqual(await store.readRange(key, { offset: 10, length: 2 }), new Uint8Array(0));
    assert.deepEqual(await store.readRange(key, { offset: 3, length: 0 }), new Uint8Array(0));
    assert.equal(await store.readRange("nope", { offset: 0, length: 0 }), undefined);
    assert.equal(await store.readRange("nope", { suffixLength: 2 }), undefined);
    assert.deepEqual(
      seen.filter((s) => s.method === "GET").map((s) => [s.range, s.status]),
      [
        ["bytes=2-4", 206],
        ["bytes=-4", 206],
        ["bytes=8-17", 206],
        ["bytes=10-11", 416],
        ["bytes=-2", 404],
      ],
    );
    assert.deepEqual(
      seen.filter((s) => s.method === "HEAD").map((s) => [s.path, s.status]),
      [
        ["/data/year=2024/time/c/0", 200],
        ["/data/nope", 404],
      ],
    );
  });

  it("slices the body when the server ignores Range", async () => {
    mode.ignoreRange = true;
    const store = new HttpStore(base);
    const key = "year=2024/time/c/0";
    assert.equal(text(await store.readRange(key, { offset: 2, length: 3 })), "234");
    assert.equal(text(await store.readRange(key, { suffixLength: 4 })), "6789");
    assert.deepEqual(await store.readRange(key, { offset: 20, length: 3 }), new Uint8Array(0));
    assert.deepEqual(
      seen.map((s) => s.status),
      [200, 200, 200],
    );
  });

  it("reads 404 and 403 as missing; other errors name the URL; transient errors are retried", async () => {
    const store = new HttpStore(base, { maxAttempts: 3 });
    assert.equal(await store.readBytes("nope.json"), undefined);
    assert.equal(await store.readBytes("forbidden/x"), undefined);
    assert.equal(await store.exists("forbidden/x"), false);
    await assert.rejects(store.readBytes("broken"), (err: unknown) => {
      assert.ok(err instanceof StoreError);
      assert.equal(err.message, `HTTP GET ${base}/broken failed: 500 Internal Server Error`);
      assert.equal(err.key, `${base}/broken`);
      return true;
    });
    mode.flaky = 2;
    seen = [];
    assert.equal(text(await store.readBytes("flaky")), "steady");
    assert.deepEqual(
      seen.map((s) => s.status),
      [503, 503, 200],
    );
    mode.flaky = 5;
    await assert.rejects(new HttpStore(base, { maxAttempts: 2 }).readBytes("flaky"), /failed: 503/);
  });

  it("reports an unreachable server as a StoreError", async () => {
    const port = await freePort();
    const store = new HttpStore(`http://127.0.0.1:${port}/x`, { maxAttempts: 1 });
    await assert.rejects(store.readBytes("k"), (err: unknown) => {
      assert.ok(err instanceof StoreError);
      assert.match(err.message, new RegExp(`^HTTP GET http://127.0.0.1:${port}/x/k failed`));
      return true;
    });
  });

  it("checks existence with HEAD, falling back to a 1-byte GET", async () => {
    const store = new HttpStore(base);
    assert.equal(await store.exists("year=2024/zarr.json"), true);
    assert.equal(await store.exists("year=2024/nope"), false);
    mode.refuseHead = true;
    assert.equal(await store.exists("year=2024/zarr.json"), true);
    assert.equal(await store.exists("nope"), false);
    assert.deepEqual(
      seen.map((s) => [s.method, s.range, s.status]),
      [
        ["HEAD", undefined, 200],
        ["HEAD", undefined, 404],
        ["HEAD", undefined, 405],
        ["GET", "bytes=0-0", 206],
        ["HEAD", undefined, 405],
        ["GET", "bytes=0-0", 404],
      ],
    );
  });

  it("cannot list, and explains that a catalog-enabled collection is needed", async () => {
    const store = new HttpStore(base);
    for (const call of [() => store.listPrefix(""), () => store.listDir("year=2024"), () => store.list()]) {
      await assert.rejects(call(), (err: unknown) => {
        assert.ok(err instanceof StoreError);
        assert.match(err.message, /plain HTTP has no directory listing; open a catalog-enabled collection/);
        assert.match(err.message, new RegExp(`at ${base}`));
        return true;
      });
    }
    assert.equal(seen.length, 0);
  });

  it("refuses every mutation with ReadOnlyError", async () => {
    const store = new HttpStore(base);
    await assert.rejects(store.writeBytes("a/b", new Uint8Array(1)), (err: unknown) => {
      assert.ok(err instanceof ReadOnlyError);
      assert.match(err.message, /refused write of 'a\/b'/);
      return true;
    });
    await assert.rejects(store.deleteKey("_zcollection.json"), ReadOnlyError);
    await assert.rejects(store.deletePrefix("year=2024"), ReadOnlyError);
    assert.equal(seen.length, 0);
    assert.equal(text(await local.readBytes("_zcollection.json")), '{"format_version":1}');
  });

  it("encodes keys, keeps the base query string and sends configured headers", async () => {
    const store = await openStore(`${base}?token=abc#frag`, {
      storageOptions: { headers: { Authorization: "Bearer xyz" } },
    });
    assert.ok(store instanceof HttpStore);
    assert.equal(store.rootUri, base, "no query string in the diagnostic URI");
    assert.equal(
      store.url("dir with space/é=1,2.bin"),
      `${base}/dir%20with%20space/%C3%A9=1,2.bin?token=abc`,
    );
    assert.equal(text(await store.readBytes("dir with space/é=1,2.bin")), "special");
    assert.deepEqual(seen[0], {
      method: "GET",
      path: "/data/dir%20with%20space/%C3%A9=1,2.bin?token=abc",
      range: undefined,
      status: 200,
      auth: "Bearer xyz",
    });
  });

  it("honours an aborted signal", async () => {
    const ctl = new AbortController();
    ctl.abort();
    await assert.rejects(new HttpStore(base).readBytes("_zcollection.json", { signal: ctl.signal }), {
      name: "AbortError",
    });
  });

  it("validates its URL and options", () => {
    assert.throws(
      () => new HttpStore("ftp://x/y"),
      /needs an http:\/\/ or https:\/\/ URL, got 'ftp:\/\/x\/y'/,
    );
    assert.throws(() => new HttpStore("http://"), /invalid HTTP URL 'http:\/\/'/);
    assert.throws(() => new HttpStore(base, { retries: 2 }), /unknown HTTP storage option 'retries'/);
    assert.throws(() => new HttpStore(base, { headers: { a: 1 } }), /'headers'/);
    assert.throws(() => new HttpStore(base, { maxAttempts: 0 }), /'maxAttempts'/);
  });
});
