/**
 * `openStore(url)`: from a URL or a path to a {@link Store} (docs/behaviour.md §13.6).
 *
 * URL parsing is a pure step ({@link parseStoreUrl}); opening follows. The
 * Icechunk backend is loaded with a dynamic import, so the stores module
 * stays light and browser-safe.
 *
 * @module
 */

import { StoreError } from "../errors.js";
import { importNodeOnly } from "../util/node-only.js";
import { importWithWasiNote } from "../util/wasi-note.js";
import { HttpStore } from "./http.js";
import { LocalStore } from "./local.js";
import { MemoryStore } from "./memory.js";
import { ObjectStore } from "./s3.js";
import type { Store } from "./store.js";

/** Where a store URL points, before anything is opened. */
export type StoreLocation =
  /** `memory://` (fresh store, `name` undefined) or `memory://<name>` (shared by name). */
  | { kind: "memory"; name: string | undefined }
  /** A bare path or a `file://` URL (percent-decoded path). */
  | { kind: "local"; path: string }
  /** `s3://bucket[/prefix]`. */
  | { kind: "s3"; url: string }
  /** `http://` or `https://` base URL. */
  | { kind: "http"; url: string }
  /** `icechunk://<path>[?branch=|tag=|snapshot=]`. */
  | { kind: "icechunk"; path: string; branch?: string; tag?: string; snapshot?: string };

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /** Open read-only: writes and deletes throw ReadOnlyError (HTTP stores are always read-only). */
  readOnly?: boolean;
  /**
   * Backend settings: for `s3://` see `S3StorageOptions` (endpoint, region,
   * credentials, forcePathStyle, maxAttempts); for `http(s)://` see
   * `HttpStoreOptions` (headers, fetch, maxAttempts); for `icechunk://` they
   * go to `IcechunkStore.open`. Local and memory stores take none.
   */
  storageOptions?: Record<string, unknown>;
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;
const ICECHUNK_PARAMS = ["branch", "tag", "snapshot"] as const;

function decode(text: string, url: string): string {
  try {
    return decodeURIComponent(text);
  } catch (err) {
    throw new StoreError(`invalid percent-encoding in store URL '${url}'`, { key: url, cause: err });
  }
}

/**
 * Classifies a store URL (docs/behaviour.md §13.6), without I/O.
 *
 * - `memory://` → a fresh memory store; `memory://name` → the shared store `name`.
 * - No `://` → a local path (bare paths, Windows drive paths).
 * - `file://host/path` → the local path `/path`, percent-decoded; the host is
 *   ignored (`file:///C:/x` → `C:/x`).
 * - `s3://`, `http://`, `https://` → as given.
 * - `icechunk:///abs/path` → `/abs/path`; `icechunk://rel/path` → `rel/path`
 *   (relative to the working directory); an optional query selects
 *   `branch`, `tag` or `snapshot`.
 *
 * @throws StoreError "unrecognised store URL: '<url>'" for any other scheme;
 *   StoreError for an empty path or a bad query.
 */
export function parseStoreUrl(url: string): StoreLocation {
  if (typeof url !== "string" || url === "") throw new StoreError("store URL must be a non-empty string");
  const m = SCHEME.exec(url);
  if (m === null) return { kind: "local", path: url };
  const scheme = (m[1] as string).toLowerCase();
  const rest = url.slice(m[0].length);
  switch (scheme) {
    case "memory": {
      const name = rest.replace(/\/+$/, "");
      return { kind: "memory", name: name === "" ? undefined : name };
    }
    case "file": {
      if (rest === "") throw new StoreError(`store URL '${url}' has no path`, { key: url });
      let pathname: string;
      try {
        pathname = new URL(url).pathname;
      } catch (err) {
        throw new StoreError(`invalid file URL '${url}'`, { key: url, cause: err });
      }
      let path = decode(pathname, url);
      if (/^\/[A-Za-z]:/.test(path)) path = path.slice(1); // file:///C:/data → C:/data
      return { kind: "local", path };
    }
    case "s3":
      return { kind: "s3", url };
    case "http":
    case "https":
      return { kind: "http", url };
    case "icechunk": {
      const q = rest.indexOf("?");
      const path = decode(q < 0 ? rest : rest.slice(0, q), url);
      if (path === "" || path === "/") throw new StoreError(`store URL '${url}' has no path`, { key: url });
      const loc: StoreLocation = { kind: "icechunk", path };
      if (q >= 0) {
        for (const [name, value] of new URLSearchParams(rest.slice(q + 1))) {
          if (!(ICECHUNK_PARAMS as readonly string[]).includes(name) || value === "") {
            throw new StoreError(
              `invalid query parameter '${name}' in store URL '${url}' (accepted: branch, tag, snapshot)`,
              { key: url },
            );
          }
          loc[name as (typeof ICECHUNK_PARAMS)[number]] = value;
        }
      }
      return loc;
    }
    default:
      throw new StoreError(
        `unrecognised store URL: '${url}' (supported: a path, file://, memory://, s3://, http(s)://, icechunk://)`,
        { key: url },
      );
  }
}

function refuseOptions(opts: OpenStoreOptions, kind: string, url: string): void {
  const keys = Object.keys(opts.storageOptions ?? {});
  if (keys.length > 0) {
    throw new StoreError(`${kind} stores take no storage options; got ${keys.join(", ")} for '${url}'`, {
      key: url,
    });
  }
}

/**
 * Opens the store a URL or path names (docs/behaviour.md §13.6 with §18 #13:
 * opening never creates anything). See {@link parseStoreUrl} for the
 * accepted forms. `memory://name` returns a handle on the process-wide
 * store `name` (so opening it twice shares data); `memory://` a fresh one.
 *
 * @example
 * const store = await openStore("s3://bucket/ssh", {
 *   readOnly: true,
 *   storageOptions: { endpoint: "http://127.0.0.1:9000", region: "eu-west-1" },
 * });
 *
 * @throws StoreError for an unrecognised URL, or storage options the
 *   backend does not accept.
 */
export async function openStore(url: string, opts: OpenStoreOptions = {}): Promise<Store> {
  const loc = parseStoreUrl(url);
  const readOnly = opts.readOnly ?? false;
  switch (loc.kind) {
    case "memory":
      refuseOptions(opts, "memory", url);
      return new MemoryStore({ name: loc.name, readOnly });
    case "local":
      refuseOptions(opts, "local", url);
      return new LocalStore(loc.path, { readOnly });
    case "s3":
      return new ObjectStore(loc.url, { readOnly, storageOptions: opts.storageOptions ?? {} });
    case "http":
      return new HttpStore(loc.url, opts.storageOptions ?? {});
    case "icechunk": {
      // Node's WASI warning, where Icechunk falls back to WebAssembly, becomes one note of ours.
      const { IcechunkStore } = await importWithWasiNote(() =>
        importNodeOnly<typeof import("./icechunk.js")>(new URL("./icechunk.js", import.meta.url).href),
      );
      return IcechunkStore.open(loc.path, {
        readOnly,
        ...(loc.branch === undefined ? {} : { branch: loc.branch }),
        ...(loc.tag === undefined ? {} : { tag: loc.tag }),
        ...(loc.snapshot === undefined ? {} : { snapshot: loc.snapshot }),
        ...(opts.storageOptions === undefined ? {} : { storageOptions: opts.storageOptions }),
      });
    }
  }
}
