/**
 * A static HTTP server over a local directory for tests: GET and HEAD with
 * single-range requests (`bytes=a-b`, `a-`, `-n`), 404 for what is absent.
 * Listens on a free 127.0.0.1 port; `close()` stops it.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { LocalStore } from "../../src/store/local.js";

/** A running server: its base URL (no trailing slash) and how to stop it. */
export interface StaticServer {
  readonly url: string;
  /** Requests served, as `METHOD path [range]`. */
  readonly requests: string[];
  close(): Promise<void>;
}

/** Serves the files below `dir` at `http://127.0.0.1:<port>/`. */
export async function serveDirectory(dir: string): Promise<StaticServer> {
  const local = new LocalStore(dir, { readOnly: true });
  const requests: string[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const key = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname).replace(
        /^\/+/,
        "",
      );
      requests.push(`${req.method} /${key}${req.headers.range ? ` ${req.headers.range}` : ""}`);
      const body = key === "" ? undefined : await local.readBytes(key);
      if (body === undefined) {
        res.writeHead(404).end();
        return;
      }
      const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? "");
      if (m === null) {
        res.writeHead(200, { "content-length": String(body.length) });
        res.end(req.method === "HEAD" ? undefined : body);
        return;
      }
      const start = m[1] === "" ? Math.max(0, body.length - Number(m[2])) : Number(m[1]);
      const end = m[1] !== "" && m[2] !== "" ? Math.min(Number(m[2]), body.length - 1) : body.length - 1;
      if (start >= body.length) {
        res.writeHead(416, { "content-range": `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, {
        "content-range": `bytes ${start}-${end}/${body.length}`,
        "content-length": String(end - start + 1),
      });
      res.end(req.method === "HEAD" ? undefined : body.subarray(start, end + 1));
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
