/**
 * Partition keys as text (docs/format.md §4): component names, integer values, paths
 * and their natural order, shared by the built-in partitionings; with the
 * Python `repr` of strings their messages use.
 *
 * @module
 */

import { PartitionError } from "../errors.js";
import type { Partitioning, PartitionKey } from "./partitioning.js";

/** Python `repr` of a string. */
export function pyStr(s: string): string {
  return `'${s.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

/** Python `repr` of a tuple of strings: `('a',)`, `('a', 'b')`, `()`. */
export function pyTuple(items: readonly string[]): string {
  return items.length === 1 ? `(${pyStr(items[0] as string)},)` : `(${items.map(pyStr).join(", ")})`;
}

/**
 * Checks the name of a key component: non-empty, without `/` or `=`, which
 * would make paths ambiguous.
 *
 * @throws PartitionError naming the variable.
 */
export function checkComponentName(name: unknown, what: string): string {
  if (typeof name !== "string" || name === "" || name.includes("/") || name.includes("=")) {
    throw new PartitionError(
      `${what}: invalid variable name ${typeof name === "string" ? pyStr(name) : String(name)}; ` +
        "names must be non-empty and contain neither '/' nor '='",
      typeof name === "string" ? { variable: name } : undefined,
    );
  }
  return name;
}

const PY_INT = /^[+-]?[0-9](?:_?[0-9])*$/;

/**
 * Parses text like Python `int()` in base 10 (docs/format.md §4.2): surrounding
 * whitespace, a leading `+` or `-`, leading zeros and single `_` between
 * digits are accepted. Only ASCII digits are accepted.
 *
 * @returns the value, or `undefined` when the text is not an integer or is
 *   beyond ±(2^53 − 1).
 */
export function parsePythonInt(text: string): number | undefined {
  const t = text.trim();
  if (!PY_INT.test(t)) return undefined;
  const value = Number(t.replaceAll("_", ""));
  // `+ 0` turns "-0" into 0, like Python.
  return Number.isSafeInteger(value) ? value + 0 : undefined;
}

/**
 * Decodes a partition path into a key (docs/format.md §4.2): leading and trailing
 * `/` are stripped, the path is split on `/`, each segment at its first `=`,
 * and the value parsed with {@link parsePythonInt}. Names are not checked.
 *
 * @throws PartitionError naming the path for a segment without `=` or a
 *   value that is not an integer (Python raises ValueError for the latter).
 */
export function decodePath(path: string): PartitionKey {
  const trimmed = path.replace(/^\/+|\/+$/g, "");
  const key: [string, number][] = [];
  for (const segment of trimmed.split("/")) {
    const eq = segment.indexOf("=");
    if (eq < 0) {
      throw new PartitionError(`invalid partition path segment ${pyStr(segment)} in ${pyStr(path)}`, {
        path,
      });
    }
    const name = segment.slice(0, eq);
    const raw = segment.slice(eq + 1);
    const value = parsePythonInt(raw);
    if (value === undefined) {
      throw new PartitionError(
        `invalid value ${pyStr(raw)} for ${pyStr(name)} in partition path ${pyStr(path)}: not an integer`,
        { path },
      );
    }
    key.push([name, value]);
  }
  return key;
}

/**
 * How the built-in partitionings write the path of a key (docs/format.md §4.1):
 * `name=value` for each component of `axis`, joined by `/`, each value
 * zero-padded to its width (see {@link padInteger}; 0: no padding).
 */
export interface PathLayout {
  /** Names of the key components, in key order. */
  readonly axis: readonly string[];
  /** Zero-padding width of each component's value (the sign counts toward it). */
  readonly widths: readonly number[];
}

/**
 * The {@link PathLayout} of `partitioning`'s paths: what its `pathLayout()`
 * returns (the built-in partitionings), else `undefined` (paths are then
 * read with `decode` and `encode`).
 */
export function pathLayoutOf(partitioning: Partitioning): PathLayout | undefined {
  const own = (partitioning as { pathLayout?: unknown }).pathLayout;
  return typeof own === "function" ? (own.call(partitioning) as PathLayout | undefined) : undefined;
}

/**
 * Whether `path` is exactly how a key is written in `layout` — the same as
 * `encode(decode(path)) === path` for the built-in partitionings — and
 * when it is, the key's values are written to `values[0 … axis.length − 1]`.
 * One pass over the text without trimming, splitting, regular expressions
 * or allocation.
 */
export function readCanonical(path: string, layout: PathLayout, values: (number | string)[]): boolean {
  const { axis, widths } = layout;
  const n = path.length;
  let pos = 0;
  for (let i = 0; i < axis.length; i++) {
    const name = axis[i] as string;
    if (i > 0) {
      if (path.charCodeAt(pos) !== 0x2f /* / */) return false;
      pos++;
    }
    if (!path.startsWith(name, pos)) return false;
    pos += name.length;
    if (path.charCodeAt(pos) !== 0x3d /* = */) return false;
    pos++;
    const negative = path.charCodeAt(pos) === 0x2d; /* - */
    if (negative) pos++;
    const start = pos;
    let zeros = 0;
    let value = 0;
    for (; pos < n; pos++) {
      const c = path.charCodeAt(pos);
      if (c < 0x30 || c > 0x39) break;
      if (c === 0x30 && value === 0) zeros++;
      value = value * 10 + (c - 0x30);
    }
    const digits = pos - start;
    // More than 16 digits is either beyond 2^53 or padded beyond any width.
    if (digits === 0 || digits > 16 || !Number.isSafeInteger(value)) return false;
    // The significant digits: those after the leading zeros; one for zero.
    const significant = value === 0 ? 1 : digits - zeros;
    // The sign counts toward the width.
    if (digits !== Math.max((widths[i] ?? 0) - (negative ? 1 : 0), significant)) return false;
    // "-0…0" decodes to 0, which encodes without the sign.
    if (negative && value === 0) return false;
    values[i] = negative ? -value : value;
  }
  return pos === n;
}

/**
 * Whether `path` is exactly how `partitioning` encodes a key
 * (`encode(decode(path)) === path`; never throws); when it is, the key's
 * values are written to `values`, in component order. The generic form of
 * {@link readCanonical}.
 */
export function readExactly(
  partitioning: Pick<Partitioning, "encode" | "decode">,
  path: string,
  values: (number | string)[],
): boolean {
  let key: PartitionKey;
  try {
    key = partitioning.decode(path);
    if (partitioning.encode(key) !== path) return false;
  } catch {
    return false;
  }
  for (let i = 0; i < key.length; i++) values[i] = (key[i] as readonly [string, number | string])[1];
  return true;
}

/** A value of `width` as the regular expression of {@link canonicalLines}. */
function valuePattern(width: number): string {
  // At most 15 significant digits: always within 2^53.
  const positive = width <= 1 ? "0|[1-9]\\d{0,14}" : `\\d{${width}}|[1-9]\\d{${width},14}`;
  const w = width - 1;
  // Negative: the digits after the sign are not all zeros.
  const negative = w <= 1 ? "[1-9]\\d{0,14}" : `(?=\\d{0,${w - 1}}[1-9])\\d{${w}}|[1-9]\\d{${w},14}`;
  return `(?:${positive}|-(?:${negative}))`;
}

/**
 * A regular expression matching texts of paths each followed by `"\n"`
 * (the text a catalog's checksum is computed on), every path exactly how
 * a key is written in `layout` with values of at most 15 significant
 * digits. A match proves every path is exactly a partition path; no match
 * proves nothing (a value of 16 digits may still be one): check each path
 * with {@link readCanonical} then.
 */
export function canonicalLines(layout: PathLayout): RegExp {
  const parts = layout.axis.map(
    (name, i) => `${name.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&")}=${valuePattern(layout.widths[i] ?? 0)}`,
  );
  return new RegExp(`^(?:${parts.join("\\/")}\\n)*$`);
}

/**
 * The beginning of the path of every key whose first `values.length`
 * components hold `values`, as written in `layout` (no trailing `/`).
 */
export function canonicalPrefix(layout: PathLayout, values: readonly number[]): string {
  return values.map((v, i) => `${layout.axis[i]}=${padInteger(v, layout.widths[i] ?? 0)}`).join("/");
}

/** `format(value, "0{width}d")` of Python: the sign counts toward the width (docs/format.md §4.1). */
export function padInteger(value: number, width: number): string {
  const digits = String(Math.abs(value));
  return value < 0 ? `-${digits.padStart(width - 1, "0")}` : digits.padStart(width, "0");
}

/**
 * Checks that a key has exactly the components of `axis`, in order, with
 * integer values, and returns the values.
 *
 * @throws PartitionError naming the key and the expected components.
 */
export function keyIntegers(key: PartitionKey, axis: readonly string[], partitioning: string): number[] {
  const names = key.map(([name]) => name);
  if (names.length !== axis.length || names.some((n, i) => n !== axis[i])) {
    throw new PartitionError(
      `cannot encode key ${formatKey(key)}: the ${partitioning} partitioning expects the components ${pyTuple(axis)}`,
    );
  }
  return key.map(([name, value]) => {
    const n =
      typeof value === "string" ? parsePythonInt(value) : Number.isSafeInteger(value) ? value : undefined;
    if (n === undefined) {
      throw new PartitionError(
        `cannot encode key ${formatKey(key)}: the value of ${pyStr(name)} is not an integer within ±(2^53 - 1)`,
      );
    }
    return n;
  });
}

/** A key as text for messages: `(year=2024, month=3)`. */
export function formatKey(key: PartitionKey): string {
  return `(${key.map(([n, v]) => `${n}=${typeof v === "string" ? pyStr(v) : String(v)}`).join(", ")})`;
}

// ---------------------------------------------------------------------------
// Natural order (docs/behaviour.md §18 #4)

function compareValues(a: number | string, b: number | string): number {
  if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "number") return -1;
  if (typeof b === "number") return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Natural order of decoded keys (docs/behaviour.md §18 #4): component by component,
 * numbers numerically (`num=2` before `num=10`, `c=-10` before `c=-2`),
 * numbers before strings, strings by code unit; equal values are ordered by
 * component name; a key that is a prefix of another comes first.
 *
 * @returns a negative number, zero or a positive number, like a sort comparator.
 */
export function compareKeys(a: PartitionKey, b: PartitionKey): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const [na, va] = a[i] as readonly [string, number | string];
    const [nb, vb] = b[i] as readonly [string, number | string];
    const c = compareValues(va, vb);
    if (c !== 0) return c;
    if (na !== nb) return na < nb ? -1 : 1;
  }
  return a.length - b.length;
}

/** A partition path with its decoded key. */
export interface DecodedPath {
  /** The partition path. */
  readonly path: string;
  /** Its key (`decode(path)`). */
  readonly key: PartitionKey;
}

/** Natural order of decoded paths: {@link compareKeys}, then the paths in string order. */
function compareDecoded(x: DecodedPath, y: DecodedPath): number {
  return compareKeys(x.key, y.key) || (x.path < y.path ? -1 : x.path > y.path ? 1 : 0);
}

/**
 * The paths of `decoded` in the natural order of their keys (as
 * {@link sortPaths} orders decodable paths). Input already in that order —
 * the usual case: catalogs of date partitions are — is only checked, in
 * linear time. `decoded` is not modified.
 */
export function sortDecoded(decoded: readonly DecodedPath[]): string[] {
  let ordered = true;
  for (let i = 1; i < decoded.length; i++) {
    if (compareDecoded(decoded[i - 1] as DecodedPath, decoded[i] as DecodedPath) > 0) {
      ordered = false;
      break;
    }
  }
  const list = ordered ? decoded : [...decoded].sort(compareDecoded);
  return list.map((d) => d.path);
}

/**
 * Sorts partition paths in the natural order of their decoded keys
 * ({@link compareKeys}); paths that do not decode come last, in string
 * order. Returns a new array.
 */
export function sortPaths(paths: Iterable<string>, partitioning: Pick<Partitioning, "decode">): string[] {
  const decoded: DecodedPath[] = [];
  const undecodable: string[] = [];
  for (const path of paths) {
    try {
      decoded.push({ path, key: partitioning.decode(path) });
    } catch (err) {
      if (!(err instanceof PartitionError)) throw err;
      undecodable.push(path);
    }
  }
  undecodable.sort();
  return [...sortDecoded(decoded), ...undecodable];
}
