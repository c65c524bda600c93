/**
 * Where the viewer reads its collection, and how: the URL (`?url=` or what
 * `zcollection serve` announces at `/api/info`), an {@link HttpStore} —
 * listing through `serve`'s `/api/list` when served locally, so that
 * collections without a catalog open too — wrapped in a
 * {@link CountingStore} whose counts the page shows.
 *
 * @module
 */

import { Collection } from "../collection/collection.js";
import { CountingStore } from "../store/counting.js";
import { HttpStore, type HttpStoreOptions } from "../store/http.js";

/** What `zcollection serve` answers at `/api/info` (see `src/cli/serve.ts`). */
export interface ServeInfo {
  readonly collection: string;
  readonly source: string;
  readonly listing: boolean;
  readonly stored: { bytes: number; files: number } | null;
}

/**
 * An HttpStore that lists directories through `zcollection serve`'s
 * `GET /api/list?prefix=<dir>` (plain HTTP cannot list).
 */
export class ServedStore extends HttpStore {
  readonly #listUrl: string;

  /**
   * @param url - the collection's base URL.
   * @param listUrl - absolute URL of the server's `/api/list`.
   */
  constructor(url: string, listUrl: string, opts: HttpStoreOptions = {}) {
    super(url, opts);
    this.#listUrl = listUrl;
  }

  /** The sub-directories of `prefix` (empty when it does not exist). */
  override async listDir(prefix: string): Promise<string[]> {
    return (await this.#list(prefix)).dirs;
  }

  /** The entries (objects and sub-directories) of `prefix`. */
  override async listPrefix(prefix: string): Promise<string[]> {
    return (await this.#list(prefix)).names;
  }

  async #list(prefix: string): Promise<{ names: string[]; dirs: string[] }> {
    const u = new URL(this.#listUrl);
    u.searchParams.set("prefix", prefix.replace(/^\/+|\/+$/g, ""));
    const res = await fetch(u.href);
    if (!res.ok) throw new Error(`GET ${u.href} failed: ${res.status}`);
    const body = (await res.json()) as { names?: unknown; dirs?: unknown };
    const strings = (v: unknown) =>
      Array.isArray(v) ? v.filter((n): n is string => typeof n === "string") : [];
    return { names: strings(body.names), dirs: strings(body.dirs) };
  }
}

/** An opened collection and what the page shows about how it was read. */
export interface Source {
  /** The collection, read-only. */
  readonly collection: Collection;
  /** The counting wrapper every read goes through. */
  readonly counter: CountingStore;
  /** The collection's URL as given. */
  readonly url: string;
  /** What `serve` said, when the page is served by it. */
  readonly info: ServeInfo | null;
}

/**
 * What `zcollection serve` wrote into the page (`#zc-serve-info`, the same
 * as its `/api/info`), or `null` when the page is hosted elsewhere.
 */
export function readServeInfo(doc: Document): ServeInfo | null {
  const text = doc.getElementById("zc-serve-info")?.textContent;
  if (text === undefined || text === null || text.trim() === "") return null;
  try {
    const info = JSON.parse(text) as Partial<ServeInfo>;
    return typeof info.collection === "string" ? (info as ServeInfo) : null;
  } catch {
    return null;
  }
}

/**
 * The collection URL of the page: `?url=` when given (relative URLs
 * resolve against the page), else the one `serve` announces, else `null`.
 */
export function collectionUrl(page: URL, info: ServeInfo | null): string | null {
  const given = page.searchParams.get("url");
  if (given !== null && given.trim() !== "") return new URL(given.trim(), page).href.replace(/\/+$/, "");
  if (info !== null) return new URL(info.collection, page).href.replace(/\/+$/, "");
  return null;
}

/**
 * Opens the collection at `url` read-only through a counting store; lists
 * through `serve` when the URL is the one it serves.
 */
export async function openSource(url: string, info: ServeInfo | null, page: URL): Promise<Source> {
  const served = info?.listing === true && new URL(info.collection, page).href.replace(/\/+$/, "") === url;
  const store = served ? new ServedStore(url, new URL("api/list", page).href) : new HttpStore(url);
  const counter = new CountingStore(store);
  const collection = await Collection.open(counter, { mode: "r" });
  return { collection, counter, url, info };
}

/** Requests made through a counting store (GET, ranged GET, HEAD and listings). */
export function requestCount(counter: CountingStore): number {
  const c = counter.counts;
  return c.get + c.getRange + c.exists + c.list;
}
