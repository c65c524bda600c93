/**
 * Key mapping of the Icechunk store (docs/format.md §11): which keys Icechunk can
 * hold natively, and where the others are redirected.
 *
 * Icechunk accepts only Zarr keys: node documents (`zarr.json`) and chunk
 * keys. Any other key `k` (`_zcollection.json`, `_catalog/state.json`, ...)
 * is stored as the attributes of an empty group at
 * `_zc_meta/<k with "/" replaced by "__">/zarr.json`, whose document is
 * `{"node_type":"group","zarr_format":3,"attributes":{"_payload":"<text>"}}`.
 *
 * Pure functions, no I/O.
 *
 * @module
 */

import { StoreError } from "../errors.js";

/** Root of the redirected (non-Zarr) keys inside the repository (docs/format.md §11). */
export const META_ROOT = "_zc_meta";

/**
 * Whether Icechunk stores `key` natively (docs/format.md §11): it is `zarr.json`,
 * ends with `/zarr.json`, starts with `c/` or contains `/c/` — or is the
 * chunk `c` of a 0-d array (`c`, `…/c`), which the Python library's rule (docs/format.md §11)
 * omits.
 */
export function isZarrKey(key: string): boolean {
  return (
    key === "zarr.json" ||
    key.endsWith("/zarr.json") ||
    key.startsWith("c/") ||
    key.includes("/c/") ||
    // The only chunk of a 0-d array is `c` (docs/format.md §6.6); the Python library's rule omits it.
    key === "c" ||
    key.endsWith("/c")
  );
}

/** Whether `key` lies in the reserved `_zc_meta` tree (never visible to callers). */
export function isReservedKey(key: string): boolean {
  return key === META_ROOT || key.startsWith(`${META_ROOT}/`);
}

/** Name of the `_zc_meta` child group holding the non-Zarr `key` (`_catalog/state.json` → `_catalog__state.json`). */
export function metaName(key: string): string {
  return key.replaceAll("/", "__");
}

/** The original key of a `_zc_meta` child group name (inverse of {@link metaName}). */
export function keyOfMetaName(name: string): string {
  return name.replaceAll("__", "/");
}

/**
 * Where the non-Zarr `key` is stored (`_zc_meta/<name>/zarr.json`).
 *
 * @throws StoreError when the key cannot be redirected without ambiguity:
 *   empty segments, a segment that starts or ends with `_` next to a `/`
 *   (`a_/b` and `a/_b` would share one name), or `__` inside a segment.
 */
export function metaKeyFor(key: string): string {
  const name = metaName(key);
  if (key === "" || key.split("/").some((s) => s === "") || keyOfMetaName(name) !== key) {
    throw new StoreError(
      `key '${key}' cannot be stored in an Icechunk repository: non-Zarr keys are redirected to ` +
        `'${META_ROOT}/<key with "/" replaced by "__">' and this one would not map back unambiguously`,
      { key },
    );
  }
  return `${META_ROOT}/${name}/zarr.json`;
}

/** The compact group document holding the text of a redirected key (docs/format.md §11). */
export function encodeMetaDocument(text: string): string {
  return JSON.stringify({ node_type: "group", zarr_format: 3, attributes: { _payload: text } });
}

/**
 * The text stored in a redirected key's group document.
 *
 * @throws StoreError naming `key` when the document is not a group with a string `_payload` attribute.
 */
export function decodeMetaDocument(doc: string, key: string): string {
  let payload: unknown;
  try {
    payload = (JSON.parse(doc) as { attributes?: { _payload?: unknown } }).attributes?._payload;
  } catch (cause) {
    throw new StoreError(`corrupt redirection document for key '${key}': not JSON`, { key, cause });
  }
  if (typeof payload !== "string") {
    throw new StoreError(`corrupt redirection document for key '${key}': no string '_payload' attribute`, {
      key,
    });
  }
  return payload;
}

/** The document of an empty group (root and `_zc_meta` bootstrap, docs/format.md §11). */
export const EMPTY_GROUP_DOCUMENT = '{"node_type":"group","zarr_format":3,"attributes":{}}';

/** Whether `key` equals `prefix` or lies below it (`""` = everything). */
export function isUnder(key: string, prefix: string): boolean {
  return prefix === "" || key === prefix || key.startsWith(`${prefix}/`);
}

/**
 * The immediate child of `prefix` on the way to `key`, and whether that
 * child is itself a prefix (`key` continues below it); `undefined` when
 * `key` is not strictly below `prefix`.
 */
export function childOf(key: string, prefix: string): { name: string; isPrefix: boolean } | undefined {
  if (prefix !== "" && !key.startsWith(`${prefix}/`)) return undefined;
  const rest = prefix === "" ? key : key.slice(prefix.length + 1);
  if (rest === "") return undefined;
  const slash = rest.indexOf("/");
  return slash < 0 ? { name: rest, isPrefix: false } : { name: rest.slice(0, slash), isPrefix: true };
}

/** Strips leading and trailing `/` from a key or prefix. */
export function normalizeKey(key: string): string {
  return key.replace(/^\/+|\/+$/g, "");
}
