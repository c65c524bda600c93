/**
 * A read-only store over plain HTTP(S) (docs/behaviour.md §13.4 for `http(s)://`).
 *
 * Uses only `fetch`, so it works in browsers and in Node ≥ 20. Plain HTTP
 * cannot list a directory: the listing methods throw a {@link StoreError}.
 * A collection served over HTTP must therefore be catalog-enabled
 * (`catalogEnabled: true` at creation): its `_catalog/state.json` names the
 * partitions, and every other read is a GET of a known key.
 *
 * @module
 */

import { StoreError } from "../errors.js";
import {
  checkRange,
  errorMessage,
  isAbortError,
  isEmptyRange,
  normalizeKey,
  rangeHeader,
  resolveRange,
} from "./keys.js";
import { type RangeQuery, type ReadOptions, Store } from "./store.js";

/** The `fetch` signature the store needs (the global one by default). */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** Options of {@link HttpStore} (also its `storageOptions` in `openStore`). */
export type HttpStoreOptions = {
  /** Headers added to every request (e.g. `Authorization`). */
  headers?: Record<string, string>;
  /** A `fetch` implementation (default: the global `fetch`). */
  fetch?: FetchLike;
  /**
   * Attempts per request, first included (default 3). Network errors and
   * HTTP 429/500/502/503/504 are retried after 100 ms, 200 ms, ... (with jitter).
   */
  maxAttempts?: number;
};

/** Statuses read as "no such object": 404, and 403 (what S3-style hosts answer for a missing key). */
const MISSING = new Set([403, 404]);
/** Statuses worth another attempt. */
const TRANSIENT = new Set([429, 500, 502, 503, 504]);

/**
 * Validates raw `storageOptions` for an `http(s)://` store.
 *
 * @throws StoreError naming the offending option.
 */
export function parseHttpStoreOptions(raw: Readonly<Record<string, unknown>>, uri: string): HttpStoreOptions {
  const out: HttpStoreOptions = {};
  const bad = (name: string, want: string): never => {
    throw new StoreError(`invalid HTTP storage option '${name}' for ${uri}: expected ${want}`, { key: uri });
  };
  for (const [name, v] of Object.entries(raw)) {
    if (v === undefined) continue;
    switch (name) {
      case "headers":
        if (
          typeof v !== "object" ||
          v === null ||
          Object.values(v as Record<string, unknown>).some((x) => typeof x !== "string")
        ) {
          bad(name, "an object of string values");
        }
        out.headers = { ...(v as Record<string, string>) };
        break;
      case "fetch":
        out.fetch = typeof v === "function" ? (v as FetchLike) : bad(name, "a function");
        break;
      case "maxAttempts":
        out.maxAttempts =
          Number.isInteger(v) && (v as number) >= 1 ? (v as number) : bad(name, "an integer >= 1");
        break;
      default:
        throw new StoreError(
          `unknown HTTP storage option '${name}' for ${uri} (known: headers, fetch, maxAttempts)`,
          { key: uri },
        );
    }
  }
  return out;
}

/** Percent-encodes one key segment, keeping the sub-delimiters allowed in a path (`=`, `,`, `:`, `@`...). */
function encodeSegment(s: string): string {
  return encodeURIComponent(s).replace(/%(3D|2C|3A|40|21|24|26|27|28|29|2A|3B)/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      signal?.removeEventListener("abort", abort);
      resolve();
    }
    function abort(): void {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener("abort", abort, { once: true });
  });
}

/**
 * Objects under a base URL: key `k` is `GET <base>/<k>` (segments
 * percent-encoded; a query string on the base URL, e.g. a token, is kept on
 * every request). Always read-only. 404 and 403 read as a missing key; any
 * other non-success status is a StoreError naming the URL.
 *
 * - Ranges use the `Range` header; a server that ignores it (200 with the
 *   whole body) is handled by slicing; 416 (range past the end) is empty.
 * - `exists` is a HEAD of the key: it detects objects, not "directories".
 * - `listPrefix`, `listDir`, `list` throw StoreError (no listing over HTTP;
 *   use a catalog-enabled collection).
 */
export class HttpStore extends Store {
  /** The base URL without query string, fragment or trailing `/`. */
  readonly rootUri: string;
  /** Always true. */
  readonly readOnly = true;
  private readonly base: URL;
  private readonly basePath: string;
  private readonly headers: Record<string, string>;
  private readonly fetchFn: FetchLike;
  private readonly maxAttempts: number;

  /**
   * @param url - `http://` or `https://` base URL of the store root.
   * @throws StoreError on a URL that is not http(s) or invalid options.
   */
  constructor(url: string, opts: HttpStoreOptions | Readonly<Record<string, unknown>> = {}) {
    super();
    let base: URL;
    try {
      base = new URL(url);
    } catch (err) {
      throw new StoreError(`invalid HTTP URL '${url}'`, { key: url, cause: err });
    }
    if (base.protocol !== "http:" && base.protocol !== "https:") {
      throw new StoreError(`HttpStore needs an http:// or https:// URL, got '${url}'`, { key: url });
    }
    base.hash = "";
    this.base = base;
    this.basePath = base.pathname.replace(/\/+$/, "");
    this.rootUri = `${base.origin}${this.basePath}`;
    const o = parseHttpStoreOptions(opts, this.rootUri);
    this.headers = o.headers ?? {};
    if (o.fetch === undefined && typeof globalThis.fetch !== "function") {
      throw new StoreError(`no fetch() available for ${this.rootUri}`, { key: url });
    }
    this.fetchFn = o.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.maxAttempts = o.maxAttempts ?? 3;
  }

  /**
   * The URL requested for `key`: the base URL with the percent-encoded key
   * appended to its path (query string kept).
   *
   * @throws StoreError on an invalid key.
   */
  url(key: string): string {
    const k = normalizeKey(key, this.rootUri);
    const u = new URL(this.base.href);
    if (k !== "") u.pathname = `${this.basePath}/${k.split("/").map(encodeSegment).join("/")}`;
    return u.href;
  }

  /** One request with bounded retries on network errors and transient statuses. */
  private async request(
    method: "GET" | "HEAD",
    url: string,
    extra: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      let res: Response | undefined;
      let failure: unknown;
      try {
        res = await this.fetchFn(url, {
          method,
          headers: { ...this.headers, ...extra },
          ...(signal === undefined ? {} : { signal }),
        });
      } catch (err) {
        if (isAbortError(err)) throw err;
        failure = err;
      }
      if (res !== undefined && !TRANSIENT.has(res.status)) return res;
      if (attempt >= this.maxAttempts) {
        if (res !== undefined) return res;
        throw new StoreError(`HTTP ${method} ${url} failed: ${errorMessage(failure)}`, {
          key: url,
          cause: failure,
        });
      }
      await res?.body?.cancel().catch(() => undefined);
      await sleep(100 * 2 ** (attempt - 1) * (0.5 + Math.random() / 2), signal);
    }
  }

  private statusError(method: string, url: string, res: Response): StoreError {
    return new StoreError(`HTTP ${method} ${url} failed: ${res.status} ${res.statusText}`.trimEnd(), {
      key: url,
    });
  }

  override async readBytes(key: string, opts?: ReadOptions): Promise<Uint8Array | undefined> {
    const url = this.url(key);
    const res = await this.request("GET", url, {}, opts?.signal);
    if (MISSING.has(res.status)) {
      await res.body?.cancel().catch(() => undefined);
      return undefined;
    }
    if (!res.ok) throw this.statusError("GET", url, res);
    return new Uint8Array(await res.arrayBuffer());
  }

  /** A GET with a `Range` header; a 200 answer (range ignored) is sliced locally. */
  override async readRange(
    key: string,
    range: RangeQuery,
    opts?: ReadOptions,
  ): Promise<Uint8Array | undefined> {
    const k = normalizeKey(key, this.rootUri);
    checkRange(range, k, this.rootUri);
    if (isEmptyRange(range)) return (await this.exists(k)) ? new Uint8Array(0) : undefined;
    const url = this.url(k);
    const res = await this.request("GET", url, { Range: rangeHeader(range) }, opts?.signal);
    if (MISSING.has(res.status)) {
      await res.body?.cancel().catch(() => undefined);
      return undefined;
    }
    if (res.status === 416) {
      await res.body?.cancel().catch(() => undefined);
      return new Uint8Array(0);
    }
    if (!res.ok) throw this.statusError("GET", url, res);
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (res.status !== 206) {
      const { start, end } = resolveRange(range, bytes.length);
      return bytes.slice(start, end);
    }
    const m = /^bytes (\d+)-/.exec(res.headers.get("content-range") ?? "");
    if ("offset" in range && m !== null && Number(m[1]) !== range.offset) {
      throw new StoreError(
        `HTTP GET ${url}: asked for bytes from ${range.offset}, got '${res.headers.get("content-range")}'`,
        { key: url },
      );
    }
    return bytes;
  }

  /** Whether the object exists (HEAD; a server refusing HEAD gets a 1-byte ranged GET). */
  override async exists(key: string): Promise<boolean> {
    const url = this.url(key);
    let res = await this.request("HEAD", url, {});
    if (res.status === 405 || res.status === 501) {
      res = await this.request("GET", url, { Range: "bytes=0-0" });
      await res.body?.cancel().catch(() => undefined);
      if (res.status === 416) return true;
    }
    if (res.ok) return true;
    if (MISSING.has(res.status)) return false;
    throw this.statusError("HEAD", url, res);
  }

  private noListing(prefix: string): never {
    throw new StoreError(
      `cannot list '${prefix}' at ${this.rootUri}: plain HTTP has no directory listing; ` +
        "open a catalog-enabled collection (created with catalogEnabled: true) so partitions come " +
        "from _catalog/state.json",
      { key: this.rootUri },
    );
  }

  /** @throws StoreError always: HTTP cannot list. */
  override async listPrefix(prefix: string): Promise<string[]> {
    return this.noListing(prefix);
  }

  /** @throws StoreError always: HTTP cannot list. */
  override async listDir(prefix: string): Promise<string[]> {
    return this.noListing(prefix);
  }

  /** @throws StoreError always: HTTP cannot list. */
  override async list(prefix = ""): Promise<string[]> {
    return this.noListing(prefix);
  }

  /** @throws ReadOnlyError always. */
  override async writeBytes(key: string, _data: Uint8Array): Promise<void> {
    this.assertWritable(normalizeKey(key, this.rootUri));
  }

  /** @throws ReadOnlyError always. */
  override async deleteKey(key: string): Promise<void> {
    this.assertWritable(normalizeKey(key, this.rootUri));
  }

  /** @throws ReadOnlyError always. */
  override async deletePrefix(prefix: string): Promise<void> {
    this.assertWritable(normalizeKey(prefix, this.rootUri));
  }
}
