/**
 * The plan of a read (`query`, `iterate`, `map`, `update`): which
 * partitions, variables and rows it reads, found before any partition is
 * read (./read-partitions.ts runs it). Used by `Collection`; knows nothing
 * of it.
 *
 * @module
 */

import { PartitionError } from "../errors.js";
import type { NDArray } from "../ndarray.js";
import {
  compileFilter,
  type FilterInput,
  keyToDict,
  type Partitioning,
  sortPaths,
} from "../partitioning/index.js";
import type { DatasetSchema, VariableSchema } from "../schema/index.js";
import type { Store } from "../store/store.js";
import { normalizeRowRanges } from "../zarr/index.js";
import type { Filters, ReadOptions, RowSelection } from "./options.js";
import { readImmutables, selectPaths } from "./partition-io.js";
import type { PartitionLister } from "./partition-lister.js";

/** What a read needs of a collection. */
export interface ReadTarget {
  readonly store: Store;
  readonly schema: DatasetSchema;
  readonly partitioning: Partitioning;
  /** The partitioning dimension. */
  readonly dimension: string;
}

/** What a read (`query`, `iterate`, `map`, `update`) reads: partitions, variables, rows. */
export interface ReadPlan {
  /** Partition paths to read, in natural key order. */
  paths: string[];
  /** Variable paths to read. */
  wanted: Set<string>;
  /** The immutable variables to attach. */
  immutables: Array<[string, VariableSchema, NDArray]>;
  /** With the `rows` option: the row ranges of each path (sorted, merged, not empty). */
  rows: Map<string, Array<[number, number]>> | undefined;
}

/**
 * The plan of a read with `opts`: the partitions `rows` names, or else
 * those `lister` lists for `filters`; the immutable variables are read
 * when some partition is to be read.
 */
export async function planRead(
  target: ReadTarget,
  lister: PartitionLister,
  opts: ReadOptions,
): Promise<ReadPlan> {
  const wanted = selectPaths(target.schema, opts.variables);
  const rows =
    opts.rows === undefined
      ? undefined
      : planRows(target, opts.rows, opts.filters ?? null, (path) => lister.isPartitionPath(path));
  const paths =
    rows !== undefined
      ? [...rows.keys()]
      : await lister.list({
          filters: opts.filters ?? null,
          ...(opts.signal ? { signal: opts.signal } : {}),
          ...(opts.fromStore === true ? { fromStore: true } : {}),
        });
  const immutables =
    paths.length === 0
      ? []
      : await readImmutables(target.store, target.schema, wanted, opts.signal ? { signal: opts.signal } : {});
  return { paths, wanted, immutables, rows };
}

/**
 * The partitions and row ranges a `rows` option selects (pure: no I/O):
 * its keys that match `filters`, in natural key order, each with its
 * ranges sorted and merged; keys whose list is empty are left out.
 *
 * @throws TypeError when `rows` is not a Map; PartitionError for a key
 *   that is not a partition path of the collection (`isPartitionPath`);
 *   RangeError/TypeError for an invalid range (see `normalizeRowRanges`);
 *   ExpressionError for an invalid filter.
 */
export function planRows(
  target: ReadTarget,
  rows: RowSelection,
  filters: Filters,
  isPartitionPath: (path: string) => boolean,
): Map<string, Array<[number, number]>> {
  if (
    typeof rows !== "object" ||
    rows === null ||
    typeof (rows as Partial<RowSelection>).get !== "function" ||
    typeof (rows as Partial<RowSelection>).entries !== "function"
  ) {
    throw new TypeError("rows must be a Map of partition path → [start, stop) row ranges");
  }
  const { partitioning } = target;
  const predicate = compileFilter(filters as FilterInput);
  const selected = new Map<string, Array<[number, number]>>();
  for (const [path, ranges] of rows.entries()) {
    if (typeof path !== "string" || !isPartitionPath(path)) {
      throw new PartitionError(
        `rows names '${String(path).slice(0, 200)}', which is not a partition path of this collection's ` +
          `${partitioning.name} partitioning (${target.store.rootUri})`,
        typeof path === "string" ? { path } : {},
      );
    }
    const merged = normalizeRowRanges(ranges, `partition '${path}'`);
    if (merged.length > 0 && predicate(keyToDict(partitioning.decode(path)))) selected.set(path, merged);
  }
  return new Map(sortPaths(selected.keys(), partitioning).map((p) => [p, selected.get(p) ?? []]));
}
