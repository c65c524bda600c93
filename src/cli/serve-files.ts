/**
 * Read-only file serving for `zcollection serve`: the objects of a local
 * collection (and the viewer's files) with single-range requests, exact
 * `Content-Length`, `Accept-Ranges` and nothing outside the root.
 *
 * Confinement: a request path is split into percent-decoded segments;
 * empty, `.` and `..` segments, segments holding a separator or a NUL byte
 * are refused; the file's real path (symbolic links resolved) must lie
 * inside the real path of the root. Only regular files are served.
 *
 * @module
 */

import { createReadStream } from "node:fs";
import { readdir, realpath, stat } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { extname, join, sep } from "node:path";

/** A byte range of a file, both ends included. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * Parses a `Range` header against a file of `size` bytes (RFC 9110 §14):
 * `null` when absent, malformed or asking for several ranges (the whole
 * file is then sent), `"unsatisfiable"` when it starts past the end.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | null | "unsatisfiable" {
  if (header === undefined) return null;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header);
  if (m === null || (m[1] === "" && m[2] === "")) return null;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  if (start >= size) return "unsatisfiable";
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (end < start) return null;
  return { start, end };
}

/**
 * The percent-decoded segments of a request path below a mount point, or
 * `null` when one is unsafe (empty, `.`, `..`, a separator, NUL) or badly
 * encoded.
 */
export function safeSegments(path: string): string[] | null {
  const raw = path.replace(/^\/+/, "");
  if (raw === "") return [];
  const out: string[] = [];
  for (const part of raw.split("/")) {
    let seg: string;
    try {
      seg = decodeURIComponent(part);
    } catch {
      return null;
    }
    if (seg === "" || seg === "." || seg === ".." || /[/\\\0]/.test(seg)) return null;
    out.push(seg);
  }
  return out;
}

/** Where a request path leads inside a root directory. */
export type Resolved =
  | { readonly kind: "file"; readonly path: string; readonly size: number; readonly mtimeMs: number }
  | { readonly kind: "directory"; readonly path: string }
  | { readonly kind: "missing" };

/**
 * Resolves `segments` below `rootReal` (the root's real path): a regular
 * file or a directory whose real path is inside the root, else `missing`
 * (also for anything reached through a symbolic link leading out).
 */
export async function resolveInside(rootReal: string, segments: readonly string[]): Promise<Resolved> {
  let real: string;
  try {
    real = await realpath(join(rootReal, ...segments));
  } catch {
    return { kind: "missing" };
  }
  if (real !== rootReal && !real.startsWith(rootReal.endsWith(sep) ? rootReal : rootReal + sep)) {
    return { kind: "missing" };
  }
  try {
    const st = await stat(real);
    if (st.isFile()) return { kind: "file", path: real, size: st.size, mtimeMs: st.mtimeMs };
    if (st.isDirectory()) return { kind: "directory", path: real };
  } catch {
    // Vanished between realpath and stat.
  }
  return { kind: "missing" };
}

/**
 * The entries of a directory, sorted: `names` all of them, `dirs` the
 * sub-directories (symbolic links not followed). Empty when it cannot be read.
 */
export async function listNames(dir: string): Promise<{ names: string[]; dirs: string[] }> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    const names = entries.map((e) => e.name).sort();
    const dirs = entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    return { names, dirs };
  } catch {
    return { names: [], dirs: [] };
  }
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};

/** The `Content-Type` of a file by its extension (`application/octet-stream` by default). */
export function contentType(path: string): string {
  return TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";
}

/**
 * Sends a resolved file: 200 with the whole file, 206 with one range, or
 * 416 for a range past the end; no body for HEAD. Returns the number of
 * body bytes sent (announced by `Content-Length`).
 */
export function sendFile(
  res: ServerResponse,
  file: { path: string; size: number; mtimeMs: number },
  opts: { method: string; range: string | undefined; headers?: Record<string, string> },
): Promise<number> {
  const base: Record<string, string> = {
    "Content-Type": contentType(file.path),
    "Accept-Ranges": "bytes",
    "Last-Modified": new Date(file.mtimeMs).toUTCString(),
    ETag: `"${file.size.toString(16)}-${Math.floor(file.mtimeMs).toString(16)}"`,
    "Cache-Control": "no-cache",
    ...opts.headers,
  };
  const range = parseRange(opts.range, file.size);
  if (range === "unsatisfiable") {
    res.writeHead(416, { ...base, "Content-Range": `bytes */${file.size}`, "Content-Length": "0" });
    res.end();
    return Promise.resolve(0);
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? file.size - 1;
  const length = file.size === 0 ? 0 : end - start + 1;
  const headers: Record<string, string> = { ...base, "Content-Length": String(length) };
  if (range !== null) headers["Content-Range"] = `bytes ${start}-${end}/${file.size}`;
  res.writeHead(range === null ? 200 : 206, headers);
  if (opts.method === "HEAD" || length === 0) {
    res.end();
    return Promise.resolve(0);
  }
  return new Promise((resolve) => {
    const stream = createReadStream(file.path, { start, end });
    stream.on("error", () => {
      res.destroy();
      resolve(0);
    });
    stream.on("end", () => resolve(length));
    stream.pipe(res);
  });
}

/** Total size and number of the regular files below `dir` (symbolic links not followed), up to `limit` files. */
export async function treeSize(dir: string, limit = 200_000): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  const pending = [dir];
  while (pending.length > 0 && files < limit) {
    const current = pending.pop() as string;
    let entries: import("node:fs").Dirent[];
    try {
      entries = await readdir(current, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = join(current, e.name);
      if (e.isDirectory()) pending.push(p);
      else if (e.isFile()) {
        try {
          bytes += (await stat(p)).size;
          files++;
        } catch {
          // Removed meanwhile.
        }
      }
    }
  }
  return { bytes, files };
}
