/**
 * ObjectStore conditional writes (`If-None-Match: *`, `If-Match`), server-side
 * copy and the re-reading of response bodies cut mid-stream, against a real
 * moto server (and a real cutting HTTP proxy in front of it).
 */

import assert from "node:assert/strict";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { ReadOnlyError, StoreError } from "../../src/errors.js";
import { ObjectStore } from "../../src/store/s3.js";
import { type MotoServer, startMoto } from "../helpers/moto.js";

let moto: MotoServer;
let n = 0;
before(async () => {
  moto = await startMoto({ bucket: "zc-conditional" });
});
after(async () => {
  await moto?.stop();
});

const url = (): string => `s3://${moto.bucket}/c${n++}`;
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined): string | undefined =>
  b === undefined ? undefined : new TextDecoder().decode(b);

/** A fresh store below its own prefix; closed by the caller. */
function freshStore(opts: { readOnly?: boolean; u?: string } = {}): ObjectStore {
  return new ObjectStore(opts.u ?? url(), {
    storageOptions: moto.storageOptions,
    ...(opts.readOnly === undefined ? {} : { readOnly: opts.readOnly }),
  });
}

/**
 * An HTTP proxy to moto that cuts the body of the next `cuts` successful GET
 * responses (`setCuts` resets the budget): it sends the headers (with the full
 * Content-Length) and half the body, then destroys the socket.
 */
async function cuttingProxy(
  cuts: number,
  onCut?: () => void,
): Promise<{
  endpoint: string;
  gets: () => number;
  setCuts: (next: number) => void;
  close: () => Promise<void>;
}> {
  const upstream = new URL(moto.endpoint);
  let gets = 0;
  let left = cuts;
  const server: Server = createServer((req, res) => {
    const up = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (upRes) => {
        const status = upRes.statusCode ?? 502;
        const cut = req.method === "GET" && (status === 200 || status === 206) && left > 0;
        if (req.method === "GET") gets++;
        if (!cut) {
          res.writeHead(status, upRes.headers);
          upRes.pipe(res);
          return;
        }
        left--;
        const chunks: Buffer[] = [];
        upRes.on("data", (c: Buffer) => chunks.push(c));
        upRes.on("end", () => {
          const body = Buffer.concat(chunks);
          res.writeHead(status, upRes.headers);
          res.write(body.subarray(0, Math.floor(body.length / 2)), () => {
            onCut?.();
            res.socket?.destroy();
          });
        });
      },
    );
    up.on("error", () => res.socket?.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    gets: () => gets,
    setCuts: (next) => {
      left = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe("ObjectStore conditional writes (moto)", () => {
  it("creates exclusively: the first write wins, the second is refused", async () => {
    const store = freshStore();
    assert.equal(store.conditionalWrites, true);
    const v1 = await store.writeConditional("lease.json", bytes("first"), null);
    assert.equal(typeof v1, "string");
    assert.match(v1 as string, /^".+"$/, "the ETag is kept as S3 gives it, quotes included");
    assert.equal(await store.writeConditional("lease.json", bytes("second"), null), undefined);
    assert.deepEqual(await store.readVersioned("lease.json"), { data: bytes("first"), version: v1 });
    assert.equal(await store.readVersioned("missing.json"), undefined);
    await store.deletePrefix("");
    await store.close();
  });

  it("compares and swaps on the ETag; a stale ETag changes nothing", async () => {
    const store = freshStore();
    const v1 = (await store.writeConditional("state.json", bytes("v1"), null)) as string;
    const v2 = await store.writeConditional("state.json", bytes("v2"), v1);
    assert.equal(typeof v2, "string");
    assert.notEqual(v2, v1);
    assert.equal(await store.writeConditional("state.json", bytes("v3"), v1), undefined);
    assert.deepEqual(await store.readVersioned("state.json"), { data: bytes("v2"), version: v2 });
    assert.equal(
      await store.writeConditional("absent.json", bytes("x"), v1),
      undefined,
      "If-Match on an absent object",
    );
    assert.equal(await store.readBytes("absent.json"), undefined);
    await store.deletePrefix("");
    await store.close();
  });

  it("lets exactly one of 20 concurrent exclusive creates win", async () => {
    const store = freshStore();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.writeConditional("race", bytes(`writer ${i}`), null)),
    );
    const winners = results.flatMap((v, i) => (v === undefined ? [] : [i]));
    assert.equal(winners.length, 1, `winners: ${winners.join(", ")}`);
    assert.equal(text(await store.readBytes("race")), `writer ${winners[0]}`);
    await store.deletePrefix("");
    await store.close();
  });

  it("loses no update among 10 concurrent compare-and-swap increments", async () => {
    const store = freshStore();
    await store.writeBytes("counter", bytes("0"));
    let conflicts = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        for (;;) {
          const cur = await store.readVersioned("counter");
          assert.ok(cur !== undefined);
          const next = bytes(String(Number(text(cur.data)) + 1));
          if ((await store.writeConditional("counter", next, cur.version)) !== undefined) return;
          conflicts++;
        }
      }),
    );
    assert.equal(text(await store.readBytes("counter")), "10");
    assert.ok(conflicts > 0, "the writers did race");
    await store.deletePrefix("");
    await store.close();
  });

  it("copies on the server, keys with '=', spaces and '+' included", async () => {
    const store = freshStore();
    const data = bytes("partition bytes");
    await store.writeBytes("year=2024/a b+c.bin", data);
    await store.copyObject("year=2024/a b+c.bin", "year=2025/d e=f.bin");
    assert.deepEqual(await store.readBytes("year=2025/d e=f.bin"), data);
    assert.deepEqual(await store.readBytes("year=2024/a b+c.bin"), data);
    await store.copyObject("year=2024/a b+c.bin", "year=2024/a b+c.bin");
    assert.deepEqual(await store.readBytes("year=2024/a b+c.bin"), data);
    await assert.rejects(store.copyObject("year=2024/no such.bin", "x"), (err: unknown) => {
      assert.ok(err instanceof StoreError);
      assert.equal(err.key, "year=2024/no such.bin");
      assert.match(err.message, /cannot copy 'year=2024\/no such\.bin'.*no such object/);
      return true;
    });
    assert.equal(await store.readBytes("x"), undefined);
    await store.deletePrefix("");
    await store.close();
  });

  it("refuses conditional writes and copies on a read-only store, still reads versions", async () => {
    const u = url();
    const rw = freshStore({ u });
    const v = await rw.writeConditional("k", bytes("x"), null);
    const ro = freshStore({ u, readOnly: true });
    assert.equal(ro.conditionalWrites, false);
    await assert.rejects(ro.writeConditional("k", bytes("y"), null), ReadOnlyError);
    await assert.rejects(ro.writeConditional("k", bytes("y"), v as string), ReadOnlyError);
    await assert.rejects(ro.copyObject("k", "k2"), ReadOnlyError);
    assert.equal(await ro.renamePrefix("a", "b").catch((e: unknown) => e instanceof ReadOnlyError), true);
    assert.equal(await rw.renamePrefix("a", "b"), false, "no atomic rename on S3");
    assert.deepEqual(await ro.readVersioned("k"), { data: bytes("x"), version: v });
    await rw.deletePrefix("");
    await Promise.all([rw.close(), ro.close()]);
  });
});

describe("ObjectStore re-reads response bodies cut mid-stream", () => {
  const payload = new Uint8Array(64 * 1024).map((_, i) => (i * 7) % 251);

  it("returns the right bytes when the first GETs are cut", async () => {
    const u = url();
    const writer = freshStore({ u });
    await writer.writeBytes("chunk", payload);
    const proxy = await cuttingProxy(2);
    const store = new ObjectStore(u, {
      storageOptions: { ...moto.storageOptions, endpoint: proxy.endpoint },
    });
    try {
      assert.deepEqual(await store.readBytes("chunk"), payload);
      assert.equal(proxy.gets(), 3, "two cut GETs, then a whole one");
      proxy.setCuts(4);
      assert.deepEqual(
        await store.readRange("chunk", { offset: 1000, length: 20_000 }),
        payload.slice(1000, 21_000),
      );
      assert.equal(proxy.gets(), 3 + 5, "four cuts, the fifth and last attempt whole");
      proxy.setCuts(1);
      assert.deepEqual(await store.readRange("chunk", { suffixLength: 10 }), payload.slice(-10));
      proxy.setCuts(1);
      const versioned = await store.readVersioned("chunk");
      assert.deepEqual(versioned?.data, payload);
      assert.equal(versioned?.version, (await writer.readVersioned("chunk"))?.version);
      assert.equal(proxy.gets(), 3 + 5 + 2 + 2);
      // Into the caller's memory: asked for once, refilled from the start by the attempt that succeeds.
      proxy.setCuts(2);
      const arena = new Uint8Array(new SharedArrayBuffer(payload.length + 32));
      const sizes: number[] = [];
      const got = await store.readBytes("chunk", {
        allocate: (n) => {
          sizes.push(n);
          return arena.subarray(32, 32 + n);
        },
      });
      assert.deepEqual(sizes, [payload.length]);
      assert.equal(got?.buffer, arena.buffer);
      assert.deepEqual(Uint8Array.from(got ?? []), payload);
      assert.equal(proxy.gets(), 3 + 5 + 2 + 2 + 3);
    } finally {
      await store.close();
      await proxy.close();
      await writer.deletePrefix("");
      await writer.close();
    }
  });

  it("gives up with a StoreError after maxAttempts when every body is cut", async () => {
    const u = url();
    const writer = freshStore({ u });
    await writer.writeBytes("chunk", payload);
    const proxy = await cuttingProxy(Number.POSITIVE_INFINITY);
    const store = new ObjectStore(u, {
      storageOptions: { ...moto.storageOptions, endpoint: proxy.endpoint, maxAttempts: 3 },
    });
    try {
      await assert.rejects(store.readBytes("chunk"), (err: unknown) => {
        assert.ok(err instanceof StoreError, `not a StoreError: ${String(err)}`);
        assert.match(err.message, /S3 GET of 's3:\/\/.*\/chunk' failed after 3 attempts/);
        assert.equal(err.key, `${u}/chunk`);
        return true;
      });
      assert.equal(proxy.gets(), 3);
      await assert.rejects(store.readRange("chunk", { offset: 0, length: 40_000 }), StoreError);
      assert.equal(proxy.gets(), 6);
    } finally {
      await store.close();
      await proxy.close();
      await writer.deletePrefix("");
      await writer.close();
    }
  });

  it("does not retry a read aborted by its signal", async () => {
    const u = url();
    const writer = freshStore({ u });
    await writer.writeBytes("chunk", payload);
    const ctl = new AbortController();
    const proxy = await cuttingProxy(Number.POSITIVE_INFINITY, () => ctl.abort());
    const store = new ObjectStore(u, {
      storageOptions: { ...moto.storageOptions, endpoint: proxy.endpoint },
    });
    try {
      await assert.rejects(store.readBytes("chunk", { signal: ctl.signal }), (err: unknown) => {
        assert.equal((err as { name?: unknown }).name, "AbortError");
        assert.ok(!(err instanceof StoreError));
        return true;
      });
      assert.equal(proxy.gets(), 1);
    } finally {
      await store.close();
      await proxy.close();
      await writer.deletePrefix("");
      await writer.close();
    }
  });
});
