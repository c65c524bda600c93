/**
 * Partition keys as text (FORMAT §4): component names, integer values, paths
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
 * Parses text like Python `int()` in base 10 (FORMAT §4.2): surrounding
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
 * Decodes a partition path into a key (FORMAT §4.2): leading and trailing
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

/** `format(value, "0{width}d")` of Python: the sign counts toward the width (FORMAT §4.1). */
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
// Natural order (BEHAVIOUR §18 #4)

function compareValues(a: number | string, b: number | string): number {
  if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "number") return -1;
  if (typeof b === "number") return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Natural order of decoded keys (BEHAVIOUR §18 #4): component by component,
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

/**
 * Sorts partition paths in the natural order of their decoded keys
 * ({@link compareKeys}); paths that do not decode come last, in string
 * order. Returns a new array.
 */
export function sortPaths(paths: Iterable<string>, partitioning: Pick<Partitioning, "decode">): string[] {
  const decoded: { path: string; key: PartitionKey }[] = [];
  const undecodable: string[] = [];
  for (const path of paths) {
    try {
      decoded.push({ path, key: partitioning.decode(path) });
    } catch (err) {
      if (!(err instanceof PartitionError)) throw err;
      undecodable.push(path);
    }
  }
  decoded.sort((x, y) => compareKeys(x.key, y.key) || (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
  undecodable.sort();
  return [...decoded.map((d) => d.path), ...undecodable];
}
