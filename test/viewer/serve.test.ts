import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type RunningServer, startServer } from "../../src/cli/serve.js";
import { parseRange, safeSegments } from "../../src/cli/serve-files.js";

describe("serve: ranges and paths (pure)", () => {
  it("parses single ranges, suffixes, open ends; ignores several ranges", () => {
    assert.deepEqual(parseRange("bytes=0-9", 100), { start: 0, end: 9 });
    assert.deepEqual(parseRange("bytes=90-", 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange("bytes=-10", 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange("bytes=-500", 100), { start: 0, end: 99 });
    assert.deepEqual(parseRange("bytes=10-500", 100), { start: 10, end: 99 });
    assert.equal(parseRange("bytes=100-", 100), "unsatisfiable");
    assert.equal(parseRange("bytes=-0", 100), "unsatisfiable");
    assert.equal(parseRange("bytes=0-1,5-6", 100), null);
    assert.equal(parseRange("items=0-1", 100), null);
    assert.equal(parseRange(undefined, 100), null);
  });
  it("refuses dot segments, separators and NUL after decoding", () => {
    assert.deepEqual(safeSegments("/a/b%3Dc/zarr.json"), ["a", "b=c", "zarr.json"]);
    for (const bad of [
      "/a/../b",
      "/..",
      "/a/%2e%2e/b",
      "/a/%2F/b",
      "/a/%5C",
      "/a//b",
      "/a/%00",
      "/%E0%A4%A",
    ]) {
      assert.equal(safeSegments(bad), null, bad);
    }
  });
});

describe("serve: the HTTP server", () => {
  let dir: string;
  let server: RunningServer;
  let base: string;
  const body = Buffer.from("0123456789abcdefghij");

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "zc-serve-"));
    const root = join(dir, "col");
    mkdirSync(join(root, "year=2024"), { recursive: true });
    writeFileSync(join(root, "_zcollection.json"), "{}");
    writeFileSync(join(root, "year=2024", "data"), body);
    writeFileSync(join(dir, "secret.txt"), "secret");
    mkdirSync(join(dir, "outside"));
    writeFileSync(join(dir, "outside", "file"), "outside");
    symlinkSync(join(dir, "secret.txt"), join(root, "link-out"));
    symlinkSync(join(dir, "outside"), join(root, "dir-out"));
    symlinkSync(join(root, "year=2024", "data"), join(root, "link-in"));
    const viewer = join(dir, "viewer");
    mkdirSync(viewer);
    writeFileSync(join(viewer, "index.html"), "<!doctype html><title>v</title>");
    writeFileSync(join(viewer, "viewer.js"), "export {};");
    server = await startServer({ collection: `file://${root}`, port: 0, viewerDir: viewer });
    base = server.url.replace(/\/$/, "");
  });
  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("listens on 127.0.0.1 and serves the viewer page and /api/info", async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(server.url);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
    const html = await page.text();
    assert.match(html, /<script type="application\/json" id="zc-serve-info">\{"collection":"\/collection"/);
    assert.equal(Number(page.headers.get("content-length")), Buffer.byteLength(html));
    const info = (await (await fetch(`${base}/api/info`)).json()) as Record<string, unknown>;
    assert.equal(info.collection, "/collection");
    assert.equal(info.listing, true);
    // Symbolic links are not followed: the two regular files only.
    assert.deepEqual(info.stored, { bytes: 2 + body.length, files: 2 });
  });

  it("answers whole objects, ranges, HEAD and 416 with exact lengths, Accept-Ranges and CORS", async () => {
    const whole = await fetch(`${base}/collection/year=2024/data`);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get("content-length"), String(body.length));
    assert.equal(whole.headers.get("accept-ranges"), "bytes");
    assert.equal(whole.headers.get("access-control-allow-origin"), "*");
    assert.deepEqual(Buffer.from(await whole.arrayBuffer()), body);
    const part = await fetch(`${base}/collection/year%3D2024/data`, { headers: { Range: "bytes=5-9" } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get("content-range"), `bytes 5-9/${body.length}`);
    assert.equal(part.headers.get("content-length"), "5");
    assert.equal(await part.text(), "56789");
    const tail = await fetch(`${base}/collection/year=2024/data`, { headers: { Range: "bytes=-3" } });
    assert.equal(await tail.text(), "hij");
    const head = await fetch(`${base}/collection/year=2024/data`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), String(body.length));
    const past = await fetch(`${base}/collection/year=2024/data`, { headers: { Range: "bytes=100-" } });
    assert.equal(past.status, 416);
    assert.equal(past.headers.get("content-range"), `bytes */${body.length}`);
    const pre = await fetch(`${base}/collection/year=2024/data`, {
      method: "OPTIONS",
      headers: { Origin: "http://example.org", "Access-Control-Request-Headers": "range" },
    });
    assert.equal(pre.status, 204);
    assert.match(pre.headers.get("access-control-allow-headers") ?? "", /Range/);
  });

  it("is read-only and serves nothing outside the collection root", async () => {
    for (const method of ["PUT", "POST", "DELETE"]) {
      const res = await fetch(`${base}/collection/year=2024/data`, { method, body: "x" });
      assert.equal(res.status, 405, method);
      await res.body?.cancel();
    }
    const paths = [
      "/collection/link-out",
      "/collection/dir-out/file",
      "/collection/%2e%2e/secret.txt",
      "/collection/year=2024/%2e%2e%2f%2e%2e%2fsecret.txt",
      "/collection/year=2024",
      "/collection/missing",
    ];
    for (const path of paths) {
      const res = await fetch(`${base}${path}`);
      assert.equal(res.status, 404, path);
      await res.body?.cancel();
    }
    // A raw request keeps the dot segments that fetch would remove.
    const { request } = await import("node:http");
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${base}/collection/../secret.txt`, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.path = "/collection/../secret.txt";
      req.on("error", reject);
      req.end();
    });
    assert.equal(status, 404);
    const inside = await fetch(`${base}/collection/link-in`);
    assert.equal(inside.status, 200, "a link staying inside the root is served");
    assert.deepEqual(Buffer.from(await inside.arrayBuffer()), body);
  });

  it("lists directories for the viewer and counts collection requests", async () => {
    const before = server.stats();
    type Listing = { names: string[]; dirs: string[] };
    const list = (await (await fetch(`${base}/api/list?prefix=`)).json()) as Listing;
    assert.deepEqual(list.names, ["_zcollection.json", "dir-out", "link-in", "link-out", "year=2024"]);
    assert.deepEqual(list.dirs, ["year=2024"], "directories only, links not followed");
    const sub = (await (await fetch(`${base}/api/list?prefix=year%3D2024`)).json()) as Listing;
    assert.deepEqual(sub, { names: ["data"], dirs: [] });
    const out = (await (await fetch(`${base}/api/list?prefix=dir-out`)).json()) as Listing;
    assert.deepEqual(out, { names: [], dirs: [] });
    await (
      await fetch(`${base}/collection/year=2024/data`, { headers: { Range: "bytes=0-3" } })
    ).arrayBuffer();
    const after = server.stats();
    assert.equal(after.requests - before.requests, 4);
    const stats = (await (await fetch(`${base}/api/stats`)).json()) as { requests: number; bytes: number };
    assert.deepEqual(stats, after);
  });

  it("refuses a directory without a collection and non-local, non-HTTP URLs", async () => {
    await assert.rejects(startServer({ collection: dir, port: 0, viewerDir: join(dir, "viewer") }), {
      name: "CollectionNotFoundError",
    });
    await assert.rejects(startServer({ collection: "memory://x", port: 0, viewerDir: join(dir, "viewer") }), {
      name: "UsageError",
    });
  });
});
