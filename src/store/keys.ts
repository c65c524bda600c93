/**
 * Key and range validation shared by the store backends (docs/behaviour.md §13).
 *
 * Every backend funnels the keys it receives through {@link normalizeKey} so
 * that the same key means the same object everywhere, and nothing can
 * escape a store's root (`..`), whatever the backend.
 *
 * @module
 */

import { StoreError } from "../errors.js";
import type { RangeQuery } from "./store.js";

/**
 * The canonical form of a relative key: leading and trailing `/` removed.
 * `""` is the root.
 *
 * @param key - a relative key such as `year=2024/zarr.json`.
 * @param uri - root URI of the store, used in the error message.
 * @throws StoreError when a segment is empty (`a//b`), `.` or `..`, or the key
 *   holds a NUL or a backslash.
 */
export function normalizeKey(key: string, uri: string): string {
  if (typeof key !== "string") throw new StoreError(`store key must be a string, got ${typeof key} (${uri})`);
  const k = key.replace(/^\/+|\/+$/g, "");
  if (k === "") return "";
  if (/[\0\\]/.test(k)) {
    throw new StoreError(`invalid store key '${key}' in ${uri}: NUL and backslash are not allowed`, {
      key,
    });
  }
  for (const part of k.split("/")) {
    if (part === "" || part === "." || part === "..") {
      throw new StoreError(`invalid store key '${key}' in ${uri}: empty, '.' or '..' segment`, { key });
    }
  }
  return k;
}

/** A range resolved against an object size: `[start, end)` in bytes. */
export interface ResolvedRange {
  readonly start: number;
  readonly end: number;
}

/**
 * Checks a {@link RangeQuery}: offsets and lengths must be non-negative
 * safe integers.
 *
 * @throws StoreError naming `key` otherwise.
 */
export function checkRange(range: RangeQuery, key: string, uri: string): void {
  const ok = (n: unknown): boolean => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
  const valid =
    typeof range === "object" &&
    range !== null &&
    ("suffixLength" in range ? ok(range.suffixLength) : ok(range.offset) && ok(range.length));
  if (!valid) {
    throw new StoreError(
      `invalid byte range ${JSON.stringify(range)} for '${key}' in ${uri}: ` +
        "expected {offset, length} or {suffixLength} with non-negative integers",
      { key },
    );
  }
}

/**
 * Clamps a range to an object of `size` bytes (a suffix longer than the
 * object is the whole object; an offset past the end is empty).
 */
export function resolveRange(range: RangeQuery, size: number): ResolvedRange {
  if ("suffixLength" in range) return { start: Math.max(0, size - range.suffixLength), end: size };
  const start = Math.min(range.offset, size);
  return { start, end: Math.min(size, start + range.length) };
}

/** Whether `range` selects zero bytes whatever the object size. */
export function isEmptyRange(range: RangeQuery): boolean {
  return "suffixLength" in range ? range.suffixLength === 0 : range.length === 0;
}

/** The `Range` header value of an HTTP/S3 ranged GET (`bytes=a-b` or `bytes=-n`); the range must not be empty. */
export function rangeHeader(range: RangeQuery): string {
  if ("suffixLength" in range) return `bytes=-${range.suffixLength}`;
  return `bytes=${range.offset}-${range.offset + range.length - 1}`;
}

/**
 * Sorted, de-duplicated strings (code-unit order, identical on every
 * backend so that listings compare equal across stores).
 */
export function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

/** Whether an error is an abort (`AbortError`), which stores re-throw untouched. */
export function isAbortError(err: unknown): boolean {
  return (
    typeof err === "object" &&
    err !== null &&
    ((err as { name?: unknown }).name === "AbortError" || (err as { code?: unknown }).code === "ABORT_ERR")
  );
}

/** A short printable message of an unknown error value. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** `n` random bytes as lowercase hex (Web Crypto; works in Node ≥ 20 and browsers). */
export function randomHex(n: number): string {
  const bytes = new Uint8Array(n);
  globalThis.crypto.getRandomValues(bytes);
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}
