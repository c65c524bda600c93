/**
 * Reading and writing one partition group, and the `_immutable/` group
 * (docs/format.md §5–8, docs/behaviour.md §14).
 *
 * A partition's content is complete once its group document exists: every
 * array (chunks then `zarr.json`) and nested group document is written
 * first and the partition's own `zarr.json` last. Listings only report
 * partitions whose group document exists (docs/format.md §4.4), so a process killed
 * mid-write never leaves a half-written partition visible. Replacing a
 * published partition is the collection's business (staged replacement,
 * ./staged-replace.ts); the functions here write wherever they are told.
 *
 * @module
 */

import { Dataset } from "../data/dataset.js";
import type { Group } from "../data/group.js";
import { Variable } from "../data/variable.js";
import { type AnyStorage, type DType, isBigIntDType } from "../dtype.js";
import { SchemaError } from "../errors.js";
import { castChecked, NDArray } from "../ndarray.js";
import type { PartitionKey } from "../partitioning/index.js";
import type { DatasetSchema, VariableEntry, VariableSchema } from "../schema/index.js";
import type { Store } from "../store/store.js";
import { joinPath } from "../store/store.js";
import { mapConcurrent } from "../util/concurrency.js";
import {
  type ArrayMetadata,
  encodeGroupMetadata,
  ensureParentGroups,
  metadataKey,
  normalizeRowRanges,
  type RowRange,
  readArray,
  readArrayMetadata,
  readArrayRanges,
  readGroup,
  type WriteArrayOptions,
  writeArray,
  writeGroup,
} from "../zarr/index.js";

/** Prefix of the non-partitioned variables (docs/format.md §8). */
export const IMMUTABLE_DIR = "_immutable";

/** Attribute holding the partition key in each partition group (docs/format.md §5.1). */
export const PARTITION_KEY_ATTR = "_zc_partition_key";

/** Options shared by the partition I/O functions. */
export interface PartitionIOOptions {
  signal?: AbortSignal;
  /** Variables written or read at once. */
  concurrency?: number;
}

const LAYOUT_TABLES = new WeakMap<
  DatasetSchema,
  { chunksTable: Record<string, number | null>; entries: Map<string, VariableEntry> }
>();

/** The schema's chunk table and variable entries by path, computed once per schema. */
function layoutTables(schema: DatasetSchema) {
  let tables = LAYOUT_TABLES.get(schema);
  if (tables === undefined) {
    tables = {
      chunksTable: schema.dimChunks,
      entries: new Map(schema.variableEntries().map((e) => [e.path, e])),
    };
    LAYOUT_TABLES.set(schema, tables);
  }
  return tables;
}

/**
 * The `writeArray` options of a variable: its dimension names, codecs, fill
 * value and attributes, the declared chunk extents (docs/format.md §6.3: the chunk
 * table of the schema) and explicit shard extents (docs/behaviour.md §18 #11).
 */
function arrayOptions(
  schema: DatasetSchema,
  path: string,
  vs: VariableSchema,
  signal?: AbortSignal,
): WriteArrayOptions {
  const { chunksTable, entries } = layoutTables(schema);
  const entry = entries.get(path);
  return {
    dimensionNames: vs.dimensions,
    chunks: vs.dimensions.map((d) => chunksTable[d] ?? entry?.visible.get(d)?.chunks ?? null),
    shards: vs.dimensions.map((d) => entry?.visible.get(d)?.shards ?? null),
    codecs: vs.codecs,
    fillValue: vs.fillValue as number | bigint | boolean | string | null,
    attributes: vs.attrs,
    ...(signal ? { signal } : {}),
  };
}

/** Writes one variable as an array at `<prefix>/<path>`, cast to its schema dtype. */
async function writeVariable(
  store: Store,
  prefix: string,
  path: string,
  variable: Variable,
  schema: DatasetSchema,
  signal: AbortSignal | undefined,
): Promise<void> {
  const vs = schema.hasVariable(path) ? schema.getVariable(path) : variable.schema;
  const data = castChecked(await variable.toArray(signal ? { signal } : undefined), vs.dtype, path);
  await writeArray(store, joinPath(prefix, path), data, arrayOptions(schema, path, vs, signal));
}

/** Group paths (relative, e.g. `data_01/ku`) of a dataset tree, parents first, root excluded. */
function childGroups(ds: Dataset): Array<[string, Group]> {
  const out: Array<[string, Group]> = [];
  for (const [name, g] of ds.walk()) {
    const rel = name.replace(/^\/+/, "");
    if (rel !== "") out.push([rel, g]);
  }
  return out;
}

/** Options of {@link writePartitionContent} and {@link writePartition}. */
export interface WritePartitionOptions extends PartitionIOOptions {
  /** The partition key, stored as `_zc_partition_key` (docs/format.md §5.1). */
  key?: PartitionKey;
  /** Root attributes of the group (default: the dataset's). */
  attrs?: Readonly<Record<string, unknown>>;
}

/**
 * Writes `ds` as a partition group at `prefix` (docs/behaviour.md §8.4 step 8):
 * every variable the collection schema does not flag immutable, cast to its
 * schema dtype (lossy casts refused), nested groups with their attributes,
 * then the group document with `attrs ∪ {_zc_partition_key}` last — so that
 * the group document's presence means the content is complete. Writes
 * nothing else: no ancestor groups, no deletion of what `prefix` held. The
 * prefix is the partition path itself or its staging prefix.
 *
 * @throws SchemaError for a lossy cast or an invalid layout, naming the variable.
 */
export async function writePartitionContent(
  store: Store,
  prefix: string,
  ds: Dataset,
  schema: DatasetSchema,
  opts: WritePartitionOptions = {},
): Promise<void> {
  const signal = opts.signal;
  signal?.throwIfAborted();
  const variables = [...ds.allVariables()].filter(
    ([p]) => !(schema.hasVariable(p) && schema.getVariable(p).immutable),
  );
  await mapConcurrent(
    variables,
    opts.concurrency ?? 4,
    ([p, v], _i, inner) => writeVariable(store, prefix, p, v, schema, inner),
    signal,
  );
  for (const [rel, g] of childGroups(ds)) {
    await store.writeBytes(metadataKey(joinPath(prefix, rel)), encodeGroupMetadata(g.attrs));
  }
  const attrs: Record<string, unknown> = { ...(opts.attrs ?? ds.attrs) };
  if (opts.key !== undefined) attrs[PARTITION_KEY_ATTR] = opts.key.map(([k, v]) => [k, v]);
  signal?.throwIfAborted();
  await store.writeBytes(metadataKey(prefix), encodeGroupMetadata(attrs));
}

/**
 * Writes `ds` as the partition group at `path` in place: whatever `path`
 * held is unpublished and deleted first, the ancestor groups are created
 * when absent (docs/format.md §5.2), then {@link writePartitionContent}. Only safe
 * inside a transaction (Icechunk) or for a partition that is not published;
 * elsewhere replacements go through the staged-replace protocol.
 *
 * @throws SchemaError for a lossy cast or an invalid layout, naming the variable.
 */
export async function writePartition(
  store: Store,
  path: string,
  ds: Dataset,
  schema: DatasetSchema,
  opts: WritePartitionOptions = {},
): Promise<void> {
  opts.signal?.throwIfAborted();
  if (await store.exists(path)) {
    await store.deleteKey(metadataKey(path));
    await store.deletePrefix(path);
  }
  await ensureParentGroups(store, path);
  await writePartitionContent(store, path, ds, schema, opts);
}

/** Whether the partition group at `path` is published (`<path>/zarr.json` exists). */
export function partitionExists(store: Store, path: string): Promise<boolean> {
  return store.exists(metadataKey(path));
}

/**
 * Selects variable paths of `schema` by the names a caller gave (short root
 * names, `grp/var` or `/grp/var`); unknown names are ignored (docs/behaviour.md §8.5).
 * `undefined` selects everything.
 *
 * @throws SchemaError when `names` is a single string (docs/behaviour.md §18 #10).
 */
export function selectPaths(schema: DatasetSchema, names: Iterable<string> | undefined): Set<string> {
  const all = [...schema.allVariables().keys()];
  if (names === undefined) return new Set(all);
  if (typeof names === "string") {
    throw new SchemaError(`variables must be an array of names, not the string '${names}'`);
  }
  const wanted = new Set([...names].map((n) => n.replace(/^\/+/, "")));
  return new Set(all.filter((p) => wanted.has(p)));
}

/** The schema's variables in `paths` that partitions store (not immutable), in schema order. */
function partitionedVariables(
  schema: DatasetSchema,
  paths: ReadonlySet<string>,
): Array<[string, VariableSchema]> {
  return [...schema.allVariables()].filter(([p, vs]) => !vs.immutable && paths.has(p));
}

/**
 * Reads the partition at `path`: the non-immutable schema variables in
 * `paths` that are stored there (absent arrays are skipped), the whole schema
 * group tree, root attributes from the partition group.
 *
 * @returns `undefined` when the partition group is not published.
 */
export async function readPartition(
  store: Store,
  path: string,
  schema: DatasetSchema,
  paths: ReadonlySet<string>,
  opts: ReadPartitionOptions = {},
): Promise<Dataset | undefined> {
  const layout = opts.layout ?? (await readPartitionLayout(store, path, schema, paths, opts));
  if (layout === undefined) return undefined;
  const wanted = partitionedVariables(schema, paths);
  const loaded = await readVariables(store, path, wanted, opts, undefined, layout.arrays, opts.into);
  return buildDataset(schema, loaded, layout.attrs);
}

/** Options of {@link readPartition}. */
export interface ReadPartitionOptions extends PartitionIOOptions {
  /** The partition's layout when already read ({@link readPartitionLayout}): no document is read again. */
  layout?: PartitionLayout;
  /**
   * Storage each variable (by path) is read into instead of new storage:
   * exactly its stored size, of its stored data type (see `readArray`'s
   * `into`). Variables not named here get new storage.
   */
  into?: ReadonlyMap<string, AnyStorage>;
}

/** A partition's documents: the group's attributes and the metadata of its stored arrays, by variable path. */
export interface PartitionLayout {
  readonly attrs: Readonly<Record<string, unknown>>;
  /** The wanted variables stored in the partition (absent ones are not keys). */
  readonly arrays: ReadonlyMap<string, ArrayMetadata>;
}

/**
 * Reads the group document of the partition at `path` and, at the same
 * time, the `zarr.json` of each non-immutable schema variable in `paths`
 * (one GET each, as {@link readPartition} would): enough to size every
 * array before reading any chunk.
 *
 * @returns `undefined` when the partition group is not published.
 */
export async function readPartitionLayout(
  store: Store,
  path: string,
  schema: DatasetSchema,
  paths: ReadonlySet<string>,
  opts: PartitionIOOptions = {},
): Promise<PartitionLayout | undefined> {
  const signal = opts.signal;
  const wanted = partitionedVariables(schema, paths);
  // The array documents' paths come from the schema: read them with the group document, in one
  // round trip rather than two on a store with latency. The group document, written last, still
  // decides whether the partition is published.
  const reading = mapConcurrent(
    wanted,
    opts.concurrency ?? 8,
    async ([p]) => [p, await readArrayMetadata(store, joinPath(path, p), signal ? { signal } : {})] as const,
    signal,
  );
  reading.catch(() => undefined); // awaited below unless the group is absent
  const group = await readGroup(store, path);
  if (group === undefined) return undefined;
  const metas = await reading;
  const arrays = new Map<string, ArrayMetadata>();
  for (const [p, meta] of metas) if (meta !== undefined) arrays.set(p, meta);
  return { attrs: group.attributes, arrays };
}

/**
 * Reads the rows `ranges` of the partition at `path` along `dimension` (the
 * partitioning dimension): like {@link readPartition}, but each variable
 * spanning `dimension` holds only those rows — concatenated in the order of
 * the ranges once sorted, with overlapping or adjacent ranges merged, each
 * clamped to the partition's length — and only the chunks (in sharded
 * arrays the inner chunks, by ranged reads of the shard) holding them are
 * fetched, each once (`readArrayRanges`). Variables not spanning
 * `dimension` are read whole.
 *
 * @returns `undefined` when the partition group is not published.
 * @throws RangeError naming the partition and the range for a negative
 *   bound, a bound that is not an integer, or a start after its stop
 *   (before any I/O); TypeError for ranges that are not `[start, stop]` pairs.
 */
export async function readPartitionRows(
  store: Store,
  path: string,
  schema: DatasetSchema,
  paths: ReadonlySet<string>,
  dimension: string,
  ranges: Iterable<RowRange>,
  opts: PartitionIOOptions = {},
): Promise<Dataset | undefined> {
  const rows = normalizeRowRanges(ranges, `partition '${path}'`);
  const group = await readGroup(store, path);
  if (group === undefined) return undefined;
  const wanted = partitionedVariables(schema, paths);
  const loaded = await readVariables(store, path, wanted, opts, { dimension, ranges: rows });
  return buildDataset(schema, loaded, group.attributes);
}

/**
 * Reads the arrays of `variables` below `prefix`; missing arrays are left
 * out. With `rows`, the arrays spanning `rows.dimension` (by their stored
 * dimension names, else the schema's) hold only those rows. With `known`,
 * the arrays' metadata comes from there (absent = not stored) instead of
 * the store; with `into`, a variable named there is read into that storage.
 */
async function readVariables(
  store: Store,
  prefix: string,
  variables: ReadonlyArray<[string, VariableSchema]>,
  opts: PartitionIOOptions,
  rows?: { dimension: string; ranges: readonly RowRange[] },
  known?: ReadonlyMap<string, ArrayMetadata>,
  into?: ReadonlyMap<string, AnyStorage>,
): Promise<Array<[string, VariableSchema, NDArray]>> {
  const signal = opts.signal;
  const arrays = await mapConcurrent(
    variables,
    opts.concurrency ?? 8,
    async ([p, vs]) => {
      const arrayPath = joinPath(prefix, p);
      const metadata =
        known === undefined
          ? await readArrayMetadata(store, arrayPath, signal ? { signal } : {})
          : known.get(p);
      if (metadata === undefined) return undefined;
      const target = rows === undefined ? into?.get(p) : undefined;
      const read = {
        metadata,
        ...(signal ? { signal } : {}),
        ...(target === undefined ? {} : { into: target }),
      };
      const axis =
        rows === undefined ? -1 : (metadata.dimensionNames ?? vs.dimensions).indexOf(rows.dimension);
      const data =
        rows === undefined || axis < 0
          ? await readArray(store, arrayPath, read)
          : await readArrayRanges(store, arrayPath, axis, rows.ranges, read);
      return [p, vs, data] as [string, VariableSchema, NDArray];
    },
    signal,
  );
  return arrays.filter((a): a is [string, VariableSchema, NDArray] => a !== undefined);
}

/** A Dataset over the full schema tree from loaded arrays keyed by variable path. */
export function buildDataset(
  schema: DatasetSchema,
  arrays: ReadonlyArray<[string, VariableSchema, NDArray]>,
  attrs: Readonly<Record<string, unknown>> | null,
): Dataset {
  const vars = new Map<string, Variable>();
  for (const [p, vs, data] of arrays) {
    const typed = data.dtype === vs.dtype ? data : coerce(data, vs.dtype, p);
    vars.set(p.includes("/") ? `/${p}` : p, new Variable(vs, typed));
  }
  return new Dataset(schema, vars, null, attrs, { fullTree: true });
}

/** Stored arrays of another dtype (e.g. written by Python with the in-memory dtype, docs/format.md §6.2) cast to the schema dtype. */
function coerce(data: NDArray, dtype: DType, path: string): NDArray {
  try {
    return castChecked(data, dtype, path);
  } catch {
    // A stored dtype wider than declared: keep the stored values rather than lose them.
    return isBigIntDType(data.dtype) === isBigIntDType(dtype) ? data.astype(dtype) : data;
  }
}

// ---------------------------------------------------------------------------
// immutable variables (docs/format.md §8, docs/behaviour.md §18 #2)

/**
 * Replaces the array at `target` with what `write` puts under a prefix (the
 * staged-replace protocol of the collection); `undefined` writes in place.
 */
export type ArrayReplacer = (
  target: string,
  write: (prefix: string, opts: { signal?: AbortSignal }) => Promise<void>,
) => Promise<unknown>;

/**
 * Writes the immutable variables of `ds` under `_immutable/` — only those
 * whose stored values differ (or that are absent); variables the dataset
 * omits are never deleted (docs/behaviour.md §18 #2). Each changed array is written
 * through `opts.replace` when given (staged replacement), otherwise
 * overwritten in place (inside a transaction).
 *
 * @returns the paths of the variables (re)written.
 */
export async function writeImmutables(
  store: Store,
  ds: Dataset,
  schema: DatasetSchema,
  opts: PartitionIOOptions & { replace?: ArrayReplacer } = {},
): Promise<string[]> {
  const signal = opts.signal;
  const immutables = [...ds.allVariables()].filter(
    ([p]) => schema.hasVariable(p) && schema.getVariable(p).immutable,
  );
  if (immutables.length === 0) return [];
  const changed = await mapConcurrent(
    immutables,
    opts.concurrency ?? 4,
    async ([p, v], _i, inner) => {
      const vs = schema.getVariable(p);
      const data = castChecked(await v.toArray({ signal: inner }), vs.dtype, p);
      const arrayPath = joinPath(IMMUTABLE_DIR, p);
      const metadata = await readArrayMetadata(store, arrayPath);
      if (metadata !== undefined && metadata.dtype === data.dtype) {
        const stored = await readArray(store, arrayPath, { metadata });
        if (arraysEqual(stored, data)) return undefined;
      }
      if (opts.replace === undefined) {
        await writeArray(store, arrayPath, data, { ...arrayOptions(schema, p, vs, inner), overwrite: true });
      } else {
        await opts.replace(arrayPath, async (prefix, o) => {
          await writeArray(store, prefix, data, arrayOptions(schema, p, vs, o.signal));
        });
      }
      return p;
    },
    signal,
  );
  const written = changed.filter((p): p is string => p !== undefined);
  if (written.length > 0) {
    // Group documents of _immutable/ and its nested groups: attributes {} (docs/format.md §8).
    const groups = new Set<string>([IMMUTABLE_DIR]);
    for (const p of written) {
      const segs = p.split("/").slice(0, -1);
      for (let i = 1; i <= segs.length; i++) groups.add(joinPath(IMMUTABLE_DIR, ...segs.slice(0, i)));
    }
    for (const g of [...groups].sort()) {
      if (!(await store.exists(metadataKey(g)))) await writeGroup(store, g, {});
    }
  }
  return written;
}

/**
 * Reads the immutable variables in `paths` from `_immutable/` (nothing when
 * `_immutable/zarr.json` is absent), as `[path, schema, array]` triples.
 */
export async function readImmutables(
  store: Store,
  schema: DatasetSchema,
  paths: ReadonlySet<string>,
  opts: PartitionIOOptions = {},
): Promise<Array<[string, VariableSchema, NDArray]>> {
  const wanted = [...schema.allVariables()].filter(([p, vs]) => vs.immutable && paths.has(p));
  if (wanted.length === 0) return [];
  if (!(await store.exists(metadataKey(IMMUTABLE_DIR)))) return [];
  return readVariables(store, IMMUTABLE_DIR, wanted, opts);
}

/** Same dtype, shape and values (NaN equal to NaN). */
export function arraysEqual(a: NDArray, b: NDArray): boolean {
  if (a.dtype !== b.dtype || a.shape.length !== b.shape.length) return false;
  if (a.shape.some((d, i) => d !== b.shape[i])) return false;
  const x = a.data as ArrayLike<unknown>;
  const y = b.data as ArrayLike<unknown>;
  for (let i = 0; i < x.length; i++) {
    const u = x[i];
    const v = y[i];
    if (u !== v && !(Number.isNaN(u) && Number.isNaN(v))) return false;
  }
  return true;
}

/** A variable of `vs` holding only its fill value, with `rows` rows along `dim` and `like`'s other extents. */
export function fillVariable(vs: VariableSchema, like: NDArray, dim: string, rows: number): Variable {
  const shape = like.shape.map((n, i) => (vs.dimensions[i] === dim ? rows : n));
  const fill = vs.fillValue as number | bigint | boolean | string | null;
  return new Variable(vs, NDArray.full(vs.dtype, shape, fill));
}
