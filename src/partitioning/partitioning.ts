/**
 * The {@link Partitioning} contract (BEHAVIOUR §6.1), partition keys and
 * paths (FORMAT §4), and the helpers shared by the built-in partitionings:
 * column checks, run grouping, path decoding, natural key order, and
 * {@link fromJSON} (FORMAT §3.6).
 *
 * @module
 */

import { PartitionError } from "../errors.js";
import { NDArray } from "../ndarray.js";
import { DatePartitioning, type Resolution } from "./date.js";
import { GroupedSequence } from "./grouped-sequence.js";
import { Sequence } from "./sequence.js";

/**
 * A partition key: ordered `(component name, value)` pairs, e.g.
 * `[["year", 2024], ["month", 3]]` or `[["cycle_number", 31], ["pass_number", 100]]`.
 * The built-in partitionings only produce safe integers (`number`).
 */
export type PartitionKey = ReadonlyArray<readonly [string, number | string]>;

/** Rows `[start, stop)` of a dataset along the partitioning dimension. */
export interface PartitionSlice {
  readonly start: number;
  readonly stop: number;
}

/**
 * What {@link Partitioning.split} needs of a variable: its dimension names
 * and its values, which must be an in-memory {@link NDArray}.
 */
export interface SplittableVariable {
  readonly dimensions: readonly string[];
  readonly data: unknown;
}

/**
 * What {@link Partitioning.split} needs of a dataset: its root variables by
 * name. The `Dataset` class satisfies it.
 */
export interface SplittableDataset {
  readonly variables: ReadonlyMap<string, SplittableVariable>;
}

/**
 * All the rows of one partition key (BEHAVIOUR §18 #1), as gathered by
 * {@link Partitioning.splitGrouped}.
 *
 * When the key's rows form one contiguous run, `rows` is `null` and the rows
 * are `[start, stop)`. Otherwise `rows` lists the row indices in ascending
 * order (the runs of the key concatenated in row order) and `[start, stop)`
 * is their span (first row, last row + 1).
 */
export interface PartitionGroup {
  readonly key: PartitionKey;
  /** The encoded key, relative to the collection root (FORMAT §4.1). */
  readonly path: string;
  readonly rows: Int32Array | null;
  readonly start: number;
  readonly stop: number;
}

/** JSON descriptor of a {@link DatePartitioning} (FORMAT §3.6; keys in write order). */
export interface DatePartitioningJSON {
  name: "date";
  variable: string;
  resolution: Resolution;
  dimension: string;
}

/** JSON descriptor of a {@link Sequence} partitioning (FORMAT §3.6; keys in write order). */
export interface SequencePartitioningJSON {
  name: "sequence";
  variables: string[];
  dimension: string;
}

/** JSON descriptor of a {@link GroupedSequence} partitioning (FORMAT §3.6; keys in write order). */
export interface GroupedSequencePartitioningJSON {
  name: "grouped-sequence";
  variables: string[];
  dimension: string;
  size: number;
  start: number;
}

/** The `partitioning` object of `_zcollection.json` (FORMAT §3.6). */
export type PartitioningJSON =
  | DatePartitioningJSON
  | SequencePartitioningJSON
  | GroupedSequencePartitioningJSON;

/**
 * Maps the rows of a dataset along one dimension to partition keys, and keys
 * to relative paths (BEHAVIOUR §6).
 */
export interface Partitioning {
  /** `"date"`, `"sequence"` or `"grouped-sequence"`. */
  readonly name: string;
  /** Names of the key components, in key order (`["year", "month"]`, `["cycle", "pass"]`). */
  readonly axis: readonly string[];
  /** The dataset dimension the partitioning splits. */
  readonly dimension: string;
  /**
   * One `(key, rows)` pair per maximal run of consecutive rows sharing a key,
   * in row order (BEHAVIOUR §6.2): unsorted input yields several runs for one
   * key. Empty input yields nothing.
   *
   * @throws PartitionError when a partitioning variable is missing, not 1-D
   *   along {@link dimension}, not in memory, of the wrong dtype, or holds a
   *   value that cannot form a key.
   */
  split(ds: SplittableDataset): Iterable<[PartitionKey, PartitionSlice]>;
  /**
   * The runs of {@link split} gathered per key (BEHAVIOUR §18 #1): one entry
   * per key, in order of first appearance, each path once.
   *
   * @throws PartitionError like {@link split}.
   */
  splitGrouped(ds: SplittableDataset): PartitionGroup[];
  /**
   * The relative path of a key (FORMAT §4.1).
   *
   * @throws PartitionError when the key's component names differ from
   *   {@link axis} or a value is not an integer.
   */
  encode(key: PartitionKey): string;
  /**
   * The key of a relative path (FORMAT §4.2). Component names and count are
   * not checked.
   *
   * @throws PartitionError naming the path for a segment without `=` or a
   *   value that is not an integer.
   */
  decode(path: string): PartitionKey;
  /** The JSON descriptor written in `_zcollection.json` (FORMAT §3.6). */
  toJSON(): PartitioningJSON;
}

/** The key as a `{ component: value }` dictionary, the context of filters (BEHAVIOUR §6.1). */
export function keyToDict(key: PartitionKey): Record<string, number | string> {
  return Object.fromEntries(key);
}

// ---------------------------------------------------------------------------
// Python repr helpers for messages

/** Python `repr` of a string. */
export function pyStr(s: string): string {
  return `'${s.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

/** Python `repr` of a tuple of strings: `('a',)`, `('a', 'b')`, `()`. */
export function pyTuple(items: readonly string[]): string {
  return items.length === 1 ? `(${pyStr(items[0] as string)},)` : `(${items.map(pyStr).join(", ")})`;
}

// ---------------------------------------------------------------------------
// Names, integers and paths

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

// ---------------------------------------------------------------------------
// Splitting helpers shared by the built-in partitionings

/** One run of consecutive rows sharing a key. */
export interface KeyRun {
  readonly key: PartitionKey;
  readonly start: number;
  readonly stop: number;
}

/**
 * The in-memory 1-D values of a partitioning variable (BEHAVIOUR §6.3–6.5).
 *
 * @param what prefixes the "missing" and "1-D" messages (`"Date "` or `""`).
 * @throws PartitionError naming the variable when it is missing from the root
 *   group, not exactly 1-D along `dimension`, or not loaded in memory.
 */
export function partitionColumn(
  ds: SplittableDataset,
  name: string,
  dimension: string,
  what: string,
): NDArray {
  const variable = ds.variables.get(name);
  if (variable === undefined) {
    throw new PartitionError(`variable ${pyStr(name)} required for ${what}partitioning is missing`, {
      variable: name,
    });
  }
  const dims = variable.dimensions;
  if (dims.length !== 1 || dims[0] !== dimension) {
    throw new PartitionError(
      `${what}variable ${pyStr(name)} must be 1-D along ${pyStr(dimension)}; got dims=${pyTuple(dims)}`,
      { variable: name },
    );
  }
  const data = variable.data;
  if (!(data instanceof NDArray)) {
    throw new PartitionError(`variable ${pyStr(name)} must be loaded in memory to partition`, {
      variable: name,
    });
  }
  if (data.ndim !== 1) {
    throw new PartitionError(
      `${what}variable ${pyStr(name)} must be 1-D along ${pyStr(dimension)}; got an array of shape [${data.shape.join(", ")}]`,
      { variable: name },
    );
  }
  return data;
}

/**
 * Checks that partitioning columns have the same length.
 *
 * @throws PartitionError naming the two variables.
 */
export function checkSameLength(
  names: readonly string[],
  columns: readonly { readonly size: number }[],
): number {
  const n = columns[0]?.size ?? 0;
  columns.forEach((c, i) => {
    if (c.size !== n) {
      throw new PartitionError(
        `partitioning variables ${pyStr(names[0] as string)} and ${pyStr(names[i] as string)} have different lengths (${n} and ${c.size})`,
        { variable: names[i] as string },
      );
    }
  });
  return n;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * A key value as a safe-integer `number` (64-bit values arrive as bigint).
 *
 * @throws PartitionError naming the variable and the row when the value is
 *   beyond ±(2^53 − 1).
 */
export function keyNumber(value: number | bigint, variable: string, row: number): number {
  if (typeof value === "bigint") {
    if (value > MAX_SAFE || value < -MAX_SAFE) {
      throw new PartitionError(
        `value ${value} of variable ${pyStr(variable)} at row ${row} is beyond the safe integer range of partition keys (±(2^53 - 1))`,
        { variable },
      );
    }
    return Number(value);
  }
  if (!Number.isSafeInteger(value)) {
    throw new PartitionError(
      `value ${value} of variable ${pyStr(variable)} at row ${row} is not an integer within ±(2^53 - 1)`,
      { variable },
    );
  }
  return value;
}

/**
 * Gathers runs per key (BEHAVIOUR §18 #1): one group per key in order of
 * first appearance; rows of a key stay in ascending order.
 */
export function groupRuns(runs: readonly KeyRun[], encode: (key: PartitionKey) => string): PartitionGroup[] {
  const byPath = new Map<string, { key: PartitionKey; runs: KeyRun[] }>();
  for (const run of runs) {
    const path = encode(run.key);
    const entry = byPath.get(path);
    if (entry === undefined) byPath.set(path, { key: run.key, runs: [run] });
    else entry.runs.push(run);
  }
  const groups: PartitionGroup[] = [];
  for (const [path, { key, runs: parts }] of byPath) {
    const first = parts[0] as KeyRun;
    const last = parts[parts.length - 1] as KeyRun;
    if (parts.length === 1) {
      groups.push({ key, path, rows: null, start: first.start, stop: first.stop });
      continue;
    }
    let total = 0;
    for (const p of parts) total += p.stop - p.start;
    const rows = new Int32Array(total);
    let k = 0;
    for (const p of parts) for (let r = p.start; r < p.stop; r++) rows[k++] = r;
    groups.push({ key, path, rows, start: first.start, stop: last.stop });
  }
  return groups;
}

/** Runs as the `(key, slice)` pairs of {@link Partitioning.split}. */
export function runsToSlices(runs: readonly KeyRun[]): [PartitionKey, PartitionSlice][] {
  return runs.map((r) => [r.key, { start: r.start, stop: r.stop }]);
}

// ---------------------------------------------------------------------------
// JSON (FORMAT §3.6)

function field<T>(
  j: Record<string, unknown>,
  name: string,
  check: (v: unknown) => v is T,
  expected: string,
): T {
  const v = j[name];
  if (!check(v)) {
    throw new PartitionError(
      `invalid ${String(j.name)} partitioning descriptor: ${pyStr(name)} must be ${expected}; got ${JSON.stringify(v) ?? "nothing"}`,
    );
  }
  return v;
}

const isString = (v: unknown): v is string => typeof v === "string";
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isInteger = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v);

/**
 * Rebuilds a partitioning from its JSON descriptor (FORMAT §3.6): `date`
 * needs `variable` and `resolution` (`dimension` missing or null → the
 * variable); `sequence` needs `variables` and `dimension`;
 * `grouped-sequence` also needs `size` (`start` defaults to 0).
 *
 * @throws PartitionError naming the partitioning for an unknown `name`
 *   (Python raises ValueError), or naming the field that is missing or of
 *   the wrong type.
 */
export function fromJSON(j: unknown): Partitioning {
  if (typeof j !== "object" || j === null || Array.isArray(j)) {
    throw new PartitionError(
      `invalid partitioning descriptor: expected an object; got ${JSON.stringify(j) ?? String(j)}`,
    );
  }
  const obj = j as Record<string, unknown>;
  switch (obj.name) {
    case "date": {
      const dimension = obj.dimension;
      if (dimension !== undefined && dimension !== null && typeof dimension !== "string") {
        field(obj, "dimension", isString, "a string or null");
      }
      return new DatePartitioning(field(obj, "variable", isString, "a string"), {
        resolution: field(obj, "resolution", isString, "a string") as Resolution,
        dimension: typeof dimension === "string" ? dimension : undefined,
      });
    }
    case "sequence":
      return new Sequence(field(obj, "variables", isStringArray, "an array of strings"), {
        dimension: field(obj, "dimension", isString, "a string"),
      });
    case "grouped-sequence":
      return new GroupedSequence(field(obj, "variables", isStringArray, "an array of strings"), {
        dimension: field(obj, "dimension", isString, "a string"),
        size: field(obj, "size", isInteger, "an integer"),
        start:
          obj.start === undefined || obj.start === null ? 0 : field(obj, "start", isInteger, "an integer"),
      });
    default:
      throw new PartitionError(
        `unknown partitioning ${typeof obj.name === "string" ? pyStr(obj.name) : (JSON.stringify(obj.name) ?? "(no name)")}`,
      );
  }
}
