/**
 * `zcollection serve <url> [--port N] [--open]`: the collection viewer on
 * 127.0.0.1, and for a local (`file://`) collection the collection itself,
 * read-only.
 *
 * Routes (every answer carries `Access-Control-Allow-Origin: *`):
 * - `/`, `/index.html`, `/viewer.js`, ...: the viewer page (`dist/viewer/`),
 *   the page carrying what `/api/info` says in a `#zc-serve-info` block;
 * - `/collection/<key>`: the collection's objects, GET and HEAD with single
 *   ranges (`Accept-Ranges: bytes`, exact `Content-Length`), confined to the
 *   collection root (see `serve-files.ts`);
 * - `/api/list?prefix=<dir>`: `{"names": [...], "dirs": [...]}`, the
 *   entries and the sub-directories of a directory of the collection, so
 *   that the viewer lists the partitions of a collection without a catalog;
 * - `/api/info`: where the viewer finds the collection, and its stored size;
 * - `/api/stats`: `{"requests", "bytes"}`, the collection requests
 *   (`/collection/…` and `/api/list`) served so far and their body bytes.
 *
 * Each collection request is also logged on stdout (unless `--quiet`).
 * An `http(s)://` collection is not proxied: the viewer reads it directly.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, realpath, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CollectionNotFoundError } from "../errors.js";
import { parseStoreUrl } from "../store/open.js";
import { type CliIO, EXIT_OK, UsageError } from "./io.js";
import { listNames, resolveInside, safeSegments, sendFile, treeSize } from "./serve-files.js";

/** Options of {@link serve}. */
export interface ServeOptions {
  /** Port on 127.0.0.1; default {@link DEFAULT_PORT} or the next free one; 0 = any free port. */
  port?: number;
  /** Open the viewer in the default browser. */
  open?: boolean;
  /** Do not log the collection requests on stdout. */
  quiet?: boolean;
}

/** The port tried first when none is given (then the next nine, then any free one). */
export const DEFAULT_PORT = 8040;

/** What `/api/info` answers. */
export interface ServeInfo {
  /** URL of the collection for the page: relative to the server (`/collection`) or absolute (`https://…`). */
  readonly collection: string;
  /** The URL given on the command line. */
  readonly source: string;
  /** Whether `/api/list` lists the collection's directories. */
  readonly listing: boolean;
  /** Bytes and files stored (local collections), `null` otherwise. */
  readonly stored: { bytes: number; files: number } | null;
}

/** A running server. */
export interface RunningServer {
  /** The viewer's URL, `http://127.0.0.1:<port>/`. */
  readonly url: string;
  /** Collection requests served and their body bytes. */
  stats(): { requests: number; bytes: number };
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/** Options of {@link startServer}. */
export interface StartServerOptions {
  /** The collection URL or path (`file://`, a bare path, `http(s)://`). */
  readonly collection: string;
  /** Port; see {@link ServeOptions.port}. */
  readonly port?: number;
  /** Directory of the built viewer (default: found next to this module). */
  readonly viewerDir?: string;
  /** Called with one line per collection request. */
  readonly log?: (line: string) => void;
}

const CORS: Record<string, string> = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Expose-Headers": "Content-Range, Content-Length, Accept-Ranges, ETag, Last-Modified",
};

/** The built viewer: `dist/viewer/` beside `dist/cli/`, also found from `src/cli/` (tests under tsx). */
export function findViewerDir(): string | undefined {
  for (const rel of ["../viewer/", "../../dist/viewer/"]) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}index.html`) && existsSync(`${dir}viewer.js`)) return dir;
  }
  return undefined;
}

function sendJson(res: ServerResponse, status: number, value: unknown, method: string): number {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, {
    ...CORS,
    "Content-Type": "application/json",
    "Content-Length": String(body.length),
    "Cache-Control": "no-cache",
  });
  res.end(method === "HEAD" ? undefined : body);
  return method === "HEAD" ? 0 : body.length;
}

/** 404 without a body, so that the bytes counted are object bytes only. */
function notFound(res: ServerResponse): number {
  res.writeHead(404, { ...CORS, "Content-Length": "0", "Cache-Control": "no-cache" });
  res.end();
  return 0;
}

/** Where a collection is read from, as `serve` understands its URL. */
type Source = { kind: "local"; root: string } | { kind: "remote"; url: string };

async function locate(url: string): Promise<Source> {
  const loc = parseStoreUrl(url);
  if (loc.kind === "http") return { kind: "remote", url: loc.url.replace(/\/+$/, "") };
  if (loc.kind !== "local") {
    throw new UsageError(
      `serve reads local (file://) and http(s):// collections; got '${url}' (serve a local copy instead)`,
    );
  }
  let root: string;
  try {
    root = await realpath(loc.path);
    await stat(`${root}/_zcollection.json`);
  } catch {
    throw new CollectionNotFoundError(`no _zcollection.json at ${url}`, url);
  }
  return { kind: "local", root };
}

async function listen(server: Server, port: number | undefined): Promise<number> {
  const attempt = (p: number) =>
    new Promise<number>((resolve, reject) => {
      const onError = (err: Error) => {
        server.off("listening", onListening);
        reject(err);
      };
      const onListening = () => {
        server.off("error", onError);
        resolve((server.address() as AddressInfo).port);
      };
      server.once("error", onError);
      server.once("listening", onListening);
      server.listen(p, "127.0.0.1");
    });
  if (port !== undefined) return attempt(port);
  for (let p = DEFAULT_PORT; p < DEFAULT_PORT + 10; p++) {
    try {
      return await attempt(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    }
  }
  return attempt(0);
}

/**
 * Starts the server (see the module documentation) on 127.0.0.1.
 *
 * @throws CollectionNotFoundError when a local URL holds no collection;
 *   UsageError for a URL that is neither local nor http(s); Error when the
 *   viewer is not built or the port is taken.
 */
export async function startServer(opts: StartServerOptions): Promise<RunningServer> {
  const source = await locate(opts.collection);
  const viewerDir = opts.viewerDir ?? findViewerDir();
  if (viewerDir === undefined) throw new Error("the viewer is not built (run `npm run build`)");
  const viewerReal = await realpath(viewerDir);
  const stored = source.kind === "local" ? treeSize(source.root) : Promise.resolve(null);
  let requests = 0;
  let bytes = 0;
  const infoOf = async (): Promise<ServeInfo> => ({
    collection: source.kind === "local" ? "/collection" : source.url,
    source: opts.collection,
    listing: source.kind === "local",
    stored: await stored,
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const path = url.pathname;
    if (method === "OPTIONS") {
      res.writeHead(204, {
        ...CORS,
        "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
        "Access-Control-Allow-Headers": "Range, If-None-Match, If-Modified-Since",
        "Access-Control-Max-Age": "600",
      });
      res.end();
      return;
    }
    if (method !== "GET" && method !== "HEAD") {
      res.writeHead(405, { ...CORS, Allow: "GET, HEAD, OPTIONS", "Content-Length": "0" });
      res.end();
      return;
    }
    const isList = path === "/api/list";
    const isObject = path === "/collection" || path.startsWith("/collection/");
    if (isList || isObject) {
      requests++;
      let sent = 0;
      if (source.kind !== "local") sent = notFound(res);
      else if (isList) {
        const segs = safeSegments(url.searchParams.get("prefix") ?? "");
        const dir = segs === null ? undefined : await resolveInside(source.root, segs);
        const listing = dir?.kind === "directory" ? await listNames(dir.path) : { names: [], dirs: [] };
        sent = sendJson(res, 200, listing, method);
      } else {
        const segs = safeSegments(path.slice("/collection".length));
        const file = segs === null ? undefined : await resolveInside(source.root, segs);
        sent =
          file?.kind === "file"
            ? await sendFile(res, file, { method, range: req.headers.range, headers: CORS })
            : notFound(res);
      }
      bytes += sent;
      const range = req.headers.range === undefined ? "" : ` ${req.headers.range}`;
      opts.log?.(`${method} ${req.url ?? path}${range} ${res.statusCode} ${sent}`);
      return;
    }
    if (path === "/api/info") {
      sendJson(res, 200, await infoOf(), method);
      return;
    }
    if (path === "/api/stats") {
      sendJson(res, 200, { requests, bytes }, method);
      return;
    }
    if (path === "/" || path === "/index.html") {
      // The page learns where the collection is from this block (a static host has none).
      const info: ServeInfo = await infoOf();
      const json = JSON.stringify(info).replace(/</g, "\\u003c");
      const block = `<script type="application/json" id="zc-serve-info">${json}</script>\n`;
      const page = await readFile(join(viewerReal, "index.html"), "utf8");
      const html = page.includes("</head>") ? page.replace("</head>", `${block}</head>`) : block + page;
      const body = Buffer.from(html);
      res.writeHead(200, {
        ...CORS,
        "Content-Type": "text/html; charset=utf-8",
        "Content-Length": String(body.length),
        "Cache-Control": "no-cache",
      });
      res.end(method === "HEAD" ? undefined : body);
      return;
    }
    const segs = safeSegments(path);
    const file = segs === null ? undefined : await resolveInside(viewerReal, segs);
    if (file?.kind === "file") await sendFile(res, file, { method, range: req.headers.range, headers: CORS });
    else notFound(res);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, CORS);
      res.end();
    });
  });
  const port = await listen(server, opts.port);
  return {
    url: `http://127.0.0.1:${port}/`,
    stats: () => ({ requests, bytes }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Opens `url` in the desktop's browser, ignoring failures (no desktop, no opener). */
function openBrowser(url: string): void {
  const [cmd, args] =
    process.platform === "darwin"
      ? ["open", [url]]
      : process.platform === "win32"
        ? ["cmd", ["/c", "start", "", url]]
        : ["xdg-open", [url]];
  try {
    const child = spawn(cmd, args as string[], { stdio: "ignore", detached: true });
    child.on("error", () => undefined);
    child.unref();
  } catch {
    // No opener: the URL is printed anyway.
  }
}

/**
 * The `serve` command: starts the server, prints its URL, and runs until
 * `io.signal` aborts (Ctrl-C, SIGTERM).
 *
 * @returns 0 once stopped.
 * @throws see {@link startServer}.
 */
export async function serve(url: string, opts: ServeOptions, io: CliIO): Promise<number> {
  const server = await startServer({
    collection: url,
    ...(opts.port === undefined ? {} : { port: opts.port }),
    ...(opts.quiet === true ? {} : { log: (line: string) => io.stdout.write(`${line}\n`) }),
  });
  io.stdout.write(`serving ${url} read-only at ${server.url} (Ctrl-C to stop)\n`);
  if (opts.open === true) openBrowser(server.url);
  await new Promise<void>((resolve) => {
    if (io.signal === undefined) return;
    if (io.signal.aborted) resolve();
    else io.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await server.close();
  return EXIT_OK;
}
