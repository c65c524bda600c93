/**
 * Where an index file lives: a URL or path split into the store holding
 * the directory and the key of the file in it, so that an index can sit
 * next to its collection on any store (docs/format.md §12 leaves the location to
 * the caller).
 *
 * @module
 */

import { StoreError } from "../errors.js";
import { openStore } from "../store/open.js";
import type { Store } from "../store/store.js";

/** Options of `Indexer.write` and `Indexer.read`. */
export interface IndexFileOptions {
  /** Backend settings for the store of the file (`s3://`: endpoint, region, credentials...; see `openStore`). */
  storageOptions?: Record<string, unknown>;
  /** Aborts the read or write (checked before the store is asked). */
  signal?: AbortSignal;
}

/** A file URL split into the URL of its directory's store and its key there. */
export interface IndexFileLocation {
  /** Store URL or path of the directory (`s3://bucket/prefix`, `memory://name`, `/data`, `.`). */
  root: string;
  /** Name of the file in that store (`index.parquet`). */
  key: string;
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

/**
 * Splits an index file URL or path at its last `/` (pure, no I/O).
 *
 * - bare paths: `index.parquet` → `.` + `index.parquet`; `/a/b.parquet` → `/a` + `b.parquet`;
 * - `file:///a/b.parquet` → `file:///a` + `b.parquet` (the key percent-decoded);
 * - `s3://bucket/p/i.parquet`, `https://host/p/i.parquet`: at the last `/`,
 *   which must follow a bucket or host;
 * - `memory://name/p/i.parquet` → `memory://name` + `p/i.parquet` (a memory
 *   store is named by one segment).
 *
 * @throws StoreError for an empty URL, a URL ending with `/`, a URL
 *   without a directory part (`memory://i.parquet`), or an `icechunk://`
 *   URL (its path names a repository, not a directory).
 */
export function splitIndexUrl(url: string): IndexFileLocation {
  if (typeof url !== "string" || url === "")
    throw new StoreError("index file URL must be a non-empty string");
  const m = SCHEME.exec(url);
  if (m === null) {
    const cut = Math.max(url.lastIndexOf("/"), url.lastIndexOf("\\"));
    const key = url.slice(cut + 1);
    if (key === "")
      throw new StoreError(`index file path '${url}' names a directory, not a file`, { key: url });
    return { root: cut < 0 ? "." : cut === 0 ? url.slice(0, 1) : url.slice(0, cut), key };
  }
  const scheme = (m[1] as string).toLowerCase();
  if (scheme === "icechunk") {
    throw new StoreError(
      `index files cannot be stored at '${url}': an icechunk:// URL names a repository, not a directory`,
      { key: url },
    );
  }
  const rest = url.slice(m[0].length);
  // A memory store is named by the first segment; the rest is the key.
  const cut = scheme === "memory" ? rest.indexOf("/") : rest.lastIndexOf("/");
  const rawKey = rest.slice(cut + 1);
  if (rawKey === "")
    throw new StoreError(`index file URL '${url}' names a directory, not a file`, { key: url });
  if (scheme === "file") {
    let key: string;
    try {
      key = decodeURIComponent(rawKey);
    } catch (cause) {
      throw new StoreError(`invalid percent-encoding in index file URL '${url}'`, { key: url, cause });
    }
    return { root: `${m[0]}${cut <= 0 ? "/" : rest.slice(0, cut)}`, key };
  }
  if (cut <= 0) {
    throw new StoreError(
      `index file URL '${url}' has no directory part; write it as ${m[0]}<${scheme === "memory" ? "name" : "bucket or host"}>/${rawKey}`,
      { key: url },
    );
  }
  return { root: `${m[0]}${rest.slice(0, cut)}`, key: rawKey };
}

async function withStore<T>(
  url: string,
  opts: IndexFileOptions,
  readOnly: boolean,
  fn: (store: Store, key: string) => Promise<T>,
): Promise<T> {
  const { root, key } = splitIndexUrl(url);
  const store = await openStore(root, {
    readOnly,
    ...(opts.storageOptions === undefined ? {} : { storageOptions: opts.storageOptions }),
  });
  try {
    return await fn(store, key);
  } finally {
    await store.close();
  }
}

/**
 * The bytes of the file at `url`.
 *
 * @throws StoreError when there is no such file, or the store fails.
 */
export function readIndexFile(url: string, opts: IndexFileOptions = {}): Promise<Uint8Array> {
  return withStore(url, opts, true, async (store, key) => {
    opts.signal?.throwIfAborted();
    const bytes = await store.readBytes(key, opts.signal ? { signal: opts.signal } : {});
    if (bytes === undefined) throw new StoreError(`no index file at '${url}'`, { key: url });
    return bytes;
  });
}

/**
 * Writes `bytes` as the file at `url` (replacing it; atomic on local disks
 * and object stores), creating local parent directories as needed.
 *
 * @throws StoreError when the store fails; ReadOnlyError for a read-only store (`http(s)://`).
 */
export function writeIndexFile(url: string, bytes: Uint8Array, opts: IndexFileOptions = {}): Promise<void> {
  return withStore(url, opts, false, async (store, key) => {
    opts.signal?.throwIfAborted();
    await store.writeBytes(key, bytes);
  });
}
