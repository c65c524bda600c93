/**
 * Discovering partitions without a catalog (docs/format.md §4.4).
 *
 * @module
 */

import {
  canonicalLines,
  canonicalPrefix,
  type DecodedPath,
  type PathLayout,
  pathLayoutOf,
  readCanonical,
  readExactly,
  sortDecoded,
} from "../partitioning/keys.js";
import { keyToDict, type Partitioning } from "../partitioning/partitioning.js";
import type { Store } from "../store/store.js";
import { joinPath } from "../store/store.js";
import { mapConcurrent } from "../util/concurrency.js";

/** Top-level names that are never partitions (docs/format.md §1). */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  "_catalog",
  "_immutable",
  "_zcollection.json",
  "zarr.json",
  "_zc_meta",
]);

/**
 * Every partition path found by walking the store: `depth` levels of
 * sub-directories (the number of key components), keeping a leaf only when
 * `<leaf>/zarr.json` exists, so an interrupted write (arrays without their
 * group document) is never listed. Reserved names are skipped at the top.
 * The result is sorted in string order (docs/format.md §4.3); callers re-sort
 * naturally.
 *
 * With `fixed` (what {@link fixedComponents} finds in a filter), a
 * directory `name=value` whose integer value differs from the one fixed for
 * its level is neither listed nor checked: a filter fixing every component
 * costs one LIST per level and one `exists`, not one per partition. Only
 * names sure not to match are skipped; the caller still applies the filter.
 * `null` (a filter contradicting itself) lists nothing.
 */
export async function walkPartitions(
  store: Store,
  partitioning: Partitioning,
  opts: { signal?: AbortSignal; concurrency?: number; fixed?: ReadonlyMap<number, number> | null } = {},
): Promise<string[]> {
  if (opts.fixed === null) return [];
  const depth = partitioning.axis.length;
  const axis = partitioning.axis;
  /** Whether the directory `name` at level `d` may hold a match. */
  const mayMatch = (name: string, d: number): boolean => {
    const wanted = opts.fixed?.get(d);
    const prefix = `${axis[d]}=`;
    if (wanted === undefined || !name.startsWith(prefix)) return true;
    const value = Number(name.slice(prefix.length));
    return !Number.isInteger(value) || value === wanted;
  };
  let level: string[] = [""];
  for (let d = 0; d < depth; d++) {
    const children = await mapConcurrent(
      level,
      opts.concurrency ?? 16,
      async (prefix) => {
        const names = await store.listDir(prefix);
        return names
          .filter((name) => !(d === 0 && RESERVED_NAMES.has(name)) && !name.startsWith("."))
          .filter((name) => mayMatch(name, d))
          .sort()
          .map((name) => joinPath(prefix, name));
      },
      opts.signal,
    );
    level = children.flat();
  }
  const published = await mapConcurrent(
    level,
    opts.concurrency ?? 16,
    async (path) => ((await store.exists(joinPath(path, "zarr.json"))) ? path : undefined),
    opts.signal,
  );
  return published.filter((p): p is string => p !== undefined).sort();
}

/** Python's keywords: a filter reads them as keywords or literals, never as key names. */
const PYTHON_KEYWORDS: ReadonlySet<string> = new Set(
  (
    "False None True and as assert async await break class continue def del elif else except finally for " +
    "from global if import in is lambda nonlocal not or pass raise return try while with yield"
  ).split(" "),
);
/** One `name == integer` term (decimal, no leading zeros, optional minus; spaces around `==`). */
const EQUALITY = /^([A-Za-z_][A-Za-z0-9_]*) *== *(-?(?:0|[1-9][0-9]*))$/;

/**
 * The components a filter fixes, when the filter is nothing but
 * `name == integer` terms joined by `and` (`year == 2024 and month == 3`),
 * every name a component of `axis`: a map from component index to value,
 * `null` when two terms contradict each other. `undefined` for any other
 * filter (a function, other operators, brackets, comments, tabs, other
 * literals…), which must be evaluated on every key.
 *
 * Call it only on a filter that compiled. On a key with exactly the
 * components of `axis`, such a filter is true exactly when the key holds
 * the values of the map, and its evaluation never throws: listing can
 * compare values instead of evaluating the filter.
 */
export function fixedComponents(
  filter: unknown,
  axis: readonly string[],
): Map<number, number> | null | undefined {
  if (typeof filter !== "string" || filter === "") return undefined;
  const fixed = new Map<number, number>();
  let contradiction = false;
  for (const term of filter.split(/ +and +/)) {
    const m = EQUALITY.exec(term);
    if (m === null) return undefined;
    const name = m[1] as string;
    const index = axis.indexOf(name);
    const value = Number(m[2]) + 0;
    if (index < 0 || PYTHON_KEYWORDS.has(name) || !Number.isSafeInteger(value)) return undefined;
    const previous = fixed.get(index);
    if (previous !== undefined && previous !== value) contradiction = true;
    fixed.set(index, value);
  }
  return contradiction ? null : fixed;
}

/**
 * Reads the paths of a catalog for one collection: whether each is exactly
 * a partition path of the collection's partitioning, the values of its
 * key, and which paths a filter selects.
 */
export class CatalogReader {
  readonly #partitioning: Partitioning;
  readonly #layout: PathLayout | undefined;
  /** The check of whole lines (`canonicalLines`), made at its first use; `null` when it cannot be used. */
  #lines: RegExp | null | undefined;

  /** A reader of the paths of `partitioning` (its {@link PathLayout} when it has one). */
  constructor(partitioning: Partitioning) {
    this.#partitioning = partitioning;
    this.#layout = pathLayoutOf(partitioning);
    // Lines are told apart by "\n": a component name holding one would make them ambiguous.
    if (this.#layout?.axis.some((name) => name.includes("\n"))) this.#lines = null;
  }

  /**
   * Whether `path` is exactly how the partitioning encodes a key
   * (`encode(decode(path)) === path`); when it is, the key's values are
   * written to `values`, in component order.
   */
  read(path: string, values: (number | string)[] = []): boolean {
    return this.#layout !== undefined
      ? readCanonical(path, this.#layout, values)
      : readExactly(this.#partitioning, path, values);
  }

  /**
   * The first of `paths` (sorted, unique, as a catalog holds them) that is
   * not exactly a partition path, or `undefined` when they all are (a
   * catalog listing anything else is not trusted). `lines`, the paths each
   * followed by `"\n"` in pieces of whole lines when known (see
   * `catalogLines`), are checked with one regular expression first.
   */
  firstForeign(paths: readonly string[], lines?: readonly string[]): string | undefined {
    if (this.#layout !== undefined && lines !== undefined && this.#lines !== null) {
      this.#lines ??= canonicalLines(this.#layout);
      const pattern = this.#lines;
      if (lines.every((piece) => pattern.test(piece))) return undefined;
    }
    const values: (number | string)[] = [];
    for (const path of paths) if (!this.read(path, values)) return path;
    return undefined;
  }

  /**
   * The paths among `paths` (sorted, unique, every one a partition path)
   * whose keys `filter` selects, in natural key order.
   *
   * A filter of equalities ({@link fixedComponents}) on the paths of a
   * built-in partitioning (whose keys hold integers) is answered by
   * comparing the values the paths hold: when it fixes the first
   * components, only the paths beginning with their text (one range of the
   * sorted list, found by bisection) are read. Any other filter is
   * evaluated (`predicate`, its compiled form) on each key.
   *
   * @throws what `predicate` throws (ExpressionError for an unknown key component…).
   */
  select(
    paths: readonly string[],
    filter: unknown,
    predicate: (key: Record<string, number | string>) => boolean,
  ): string[] {
    // Only with a known layout: its keys hold integers, which the comparison of values assumes.
    const fixed = this.#layout === undefined ? undefined : fixedComponents(filter, this.#layout.axis);
    if (fixed === null) return [];
    const selected: DecodedPath[] = [];
    if (fixed === undefined) {
      const all = filter === null || filter === undefined || filter === "";
      for (const path of paths) {
        const key = this.#partitioning.decode(path);
        if (all || predicate(keyToDict(key))) selected.push({ path, key });
      }
      return sortDecoded(selected);
    }
    const [from, to] = this.#range(paths, fixed);
    const indices = [...fixed.keys()];
    const wanted = [...fixed.values()];
    const values: (number | string)[] = [];
    for (let p = from; p < to; p++) {
      const path = paths[p] as string;
      this.read(path, values);
      let match = true;
      for (let i = 0; i < indices.length && match; i++) match = values[indices[i] as number] === wanted[i];
      if (match) selected.push({ path, key: this.#partitioning.decode(path) });
    }
    return sortDecoded(selected);
  }

  /**
   * The range `[from, to)` of `paths` (sorted) that can hold keys with the
   * `fixed` values: those beginning with the text of the fixed leading
   * components (every path when the first component is not fixed).
   */
  #range(paths: readonly string[], fixed: ReadonlyMap<number, number>): [number, number] {
    const leading: number[] = [];
    for (let i = 0; fixed.has(i); i++) leading.push(fixed.get(i) as number);
    const layout = this.#layout;
    if (layout === undefined || leading.length === 0) return [0, paths.length];
    const whole = leading.length === layout.axis.length;
    // A key's path, or the beginning of the paths of all keys sharing the leading values.
    const prefix = canonicalPrefix(layout, leading) + (whole ? "" : "/");
    let lo = 0;
    let hi = paths.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((paths[mid] as string) < prefix) lo = mid + 1;
      else hi = mid;
    }
    let to = lo;
    if (whole) to = paths[lo] === prefix ? lo + 1 : lo;
    else while (to < paths.length && (paths[to] as string).startsWith(prefix)) to++;
    return [lo, to];
  }
}
