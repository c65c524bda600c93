/**
 * The write paths of a collection — insert, update, drop — on both kinds of
 * store:
 *
 * - stores with conditional writes (local disk, memory, S3): each operation
 *   is journaled, each partition written under its lease, replacements
 *   staged (./write-operation.ts, ./staged-replace.ts);
 * - transactional stores (Icechunk): the data is one commit; the shared
 *   parent groups and `_immutable/` are committed first in a commit of
 *   their own, and the catalog last in another, both retried on conflict,
 *   so that writers of disjoint partitions never conflict with each other.
 *   A record in the journal covers the gap between the data commit and
 *   the catalog commit.
 *
 * @module
 */

import type { Dataset } from "../data/dataset.js";
import { sliceRows, takeRows } from "../data/rows.js";
import { CollectionExistsError, SchemaError } from "../errors.js";
import type { MergeCallable } from "../merge/index.js";
import type { Catalog } from "../partitioning/catalog.js";
import type { PartitionGroup } from "../partitioning/index.js";
import type { DatasetSchema } from "../schema/index.js";
import type { Store } from "../store/store.js";
import { mapConcurrent } from "../util/concurrency.js";
import { ensureParentGroups, metadataKey } from "../zarr/index.js";
import { encodeDocument, JournalLayout, newOperationId, newRecord } from "./journal.js";
import {
  partitionExists,
  readPartition,
  selectPaths,
  writeImmutables,
  writePartition,
  writePartitionContent,
} from "./partition-io.js";
import { recoverOperations, retryConflicts } from "./recovery.js";
import { WriteOperation } from "./write-operation.js";

/** What the write paths need to know of a collection. */
export interface MutationContext {
  readonly store: Store;
  readonly schema: DatasetSchema;
  readonly axis: string;
  /** The partitioning dimension. */
  readonly dimension: string;
  /** The catalog, when enabled. */
  readonly catalog: Catalog | undefined;
  /** Partitions processed at once. */
  readonly concurrency: number;
}

/** Options of {@link insertPartitions}. */
export interface InsertPartitionsOptions {
  signal?: AbortSignal | undefined;
  onProgress?: ((p: { done: number; total: number; partition?: string }) => void) | undefined;
  overwrite?: boolean | undefined;
  merge?: MergeCallable | undefined;
}

/** Runs recovery before a write on a store with conditional writes (no wait for live writers). */
export async function recoverBeforeWrite(ctx: MutationContext, signal?: AbortSignal): Promise<void> {
  await recoverOperations(ctx.store, { catalog: ctx.catalog, ...(signal ? { signal } : {}) });
}

/**
 * Writes the partitions of `bound` (already cast to the schema and split
 * into `groups`) and the immutable variables.
 *
 * @returns the paths written, in order of first appearance.
 */
export async function insertPartitions(
  ctx: MutationContext,
  bound: Dataset,
  groups: readonly PartitionGroup[],
  opts: InsertPartitionsOptions,
): Promise<string[]> {
  return ctx.store.transactional
    ? insertTransactional(ctx, bound, groups, opts)
    : insertJournaled(ctx, bound, groups, opts);
}

/** The rows of one group, merged with the stored partition when asked. */
async function groupData(
  ctx: MutationContext,
  bound: Dataset,
  group: PartitionGroup,
  published: boolean,
  opts: InsertPartitionsOptions,
  signal: AbortSignal,
): Promise<Dataset> {
  if (published && opts.overwrite === false) {
    throw new CollectionExistsError(
      `partition '${group.path}' already exists in ${ctx.store.rootUri} (insert with overwrite: false)`,
      ctx.store.rootUri,
    );
  }
  let part =
    group.rows === null
      ? sliceRows(bound, ctx.dimension, group.start, group.stop)
      : takeRows(bound, ctx.dimension, group.rows);
  if (opts.merge !== undefined && published) {
    const existing = await readPartition(
      ctx.store,
      group.path,
      ctx.schema,
      selectPaths(ctx.schema, undefined),
      {
        signal,
      },
    );
    if (existing !== undefined) {
      part = await opts.merge(existing, part, { axis: ctx.axis, partitioningDim: ctx.dimension });
    }
  }
  return part;
}

async function insertJournaled(
  ctx: MutationContext,
  bound: Dataset,
  groups: readonly PartitionGroup[],
  opts: InsertPartitionsOptions,
): Promise<string[]> {
  const { store, schema } = ctx;
  const hasImmutables = [...bound.allVariables().keys()].some((p) => {
    const path = p.replace(/^\/+/, "");
    return schema.hasVariable(path) && schema.getVariable(path).immutable;
  });
  if (groups.length === 0 && !hasImmutables) return [];
  const op = await WriteOperation.begin(store, {
    operation: "insert",
    partitions: groups.map((g) => g.path),
    catalog: ctx.catalog,
  });
  return settleOperation(op, opts.signal, async () => {
    await writeImmutables(store, bound, schema, {
      ...(opts.signal ? { signal: opts.signal } : {}),
      replace: (target, write) => op.replace(target, write, opts.signal ? { signal: opts.signal } : {}),
    });
    let done = 0;
    return mapConcurrent(
      groups,
      ctx.concurrency,
      (group, _i, signal) =>
        op.withTarget(
          group.path,
          async (handle) => {
            // Both checks at once (one round trip): whether the partition is published, and whether
            // an interrupted in-place write left objects under it (cleared before writing there).
            const [published, leftovers] = await Promise.all([
              partitionExists(store, group.path),
              store.exists(group.path),
            ]);
            const part = await groupData(ctx, bound, group, published, opts, signal);
            await handle.replace(
              async (prefix, o) => {
                if (prefix === group.path) await ensureParentGroups(store, prefix);
                await writePartitionContent(store, prefix, part, schema, {
                  key: group.key,
                  attrs: part.attrs,
                  concurrency: ctx.concurrency,
                  ...(o.signal ? { signal: o.signal } : {}),
                });
              },
              { published, leftovers, signal },
            );
            done += 1;
            opts.onProgress?.({ done, total: groups.length, partition: group.path });
            return group.path;
          },
          { signal, catalogPath: group.path },
        ),
      opts.signal,
    );
  });
}

async function insertTransactional(
  ctx: MutationContext,
  bound: Dataset,
  groups: readonly PartitionGroup[],
  opts: InsertPartitionsOptions,
): Promise<string[]> {
  const { store, schema } = ctx;
  const signal = opts.signal;
  // Shared documents first, in a small commit of their own: writers of
  // disjoint partitions then never change the same node in their data commits.
  await retryConflicts(() =>
    store.session(
      async () => {
        for (const group of groups) await ensureParentGroups(store, group.path);
        await writeImmutables(store, bound, schema, signal ? { signal } : {});
      },
      { message: "zcollection insert (parent groups)" },
    ),
  );
  if (groups.length === 0) return [];
  const paths = groups.map((g) => g.path);
  return journaledCommit(ctx, "insert", paths, async () => {
    let done = 0;
    return mapConcurrent(
      groups,
      ctx.concurrency,
      async (group, _i, inner) => {
        const published = await partitionExists(store, group.path);
        const part = await groupData(ctx, bound, group, published, opts, inner);
        await writePartition(store, group.path, part, schema, {
          key: group.key,
          attrs: part.attrs,
          concurrency: ctx.concurrency,
          signal: inner,
        });
        done += 1;
        opts.onProgress?.({ done, total: groups.length, partition: group.path });
        return group.path;
      },
      signal,
    );
  });
}

/**
 * On a transactional store: runs `write` in one commit together with an
 * operation record, then updates the catalog and deletes the record in a
 * second commit, retried on conflict.
 */
async function journaledCommit<T>(
  ctx: MutationContext,
  kind: "insert" | "drop" | "update",
  paths: readonly string[],
  write: () => Promise<T>,
): Promise<T> {
  const { store } = ctx;
  const layout = new JournalLayout(store);
  const id = newOperationId();
  const journaled = ctx.catalog !== undefined && kind !== "update";
  const result = await store.session(
    async () => {
      if (journaled)
        await store.writeBytes(layout.recordKey(id), encodeDocument(newRecord(id, kind, paths, 0)));
      return write();
    },
    { message: `zcollection ${kind}` },
  );
  if (journaled) {
    await retryConflicts(() =>
      store.session(
        async () => {
          if (kind === "insert") await ctx.catalog?.add(paths);
          else await ctx.catalog?.remove(paths);
          await store.deleteKey(layout.recordKey(id));
        },
        { message: "zcollection catalog" },
      ),
    );
  }
  return result;
}

/**
 * Rewrites each of `paths` with what `produce` returns for it (`undefined`:
 * leave it), each under its lease and staged. `produce` runs while the
 * lease is held, so what it reads of the stored target cannot change before
 * the write. With `create`, a target that is not stored yet is written (its
 * ancestor groups created) — the overlay partitions of a view; otherwise
 * every target is a published partition.
 *
 * @returns the paths rewritten.
 */
export async function updatePartitions(
  ctx: MutationContext,
  paths: readonly string[],
  produce: (path: string, signal: AbortSignal) => Promise<Dataset | undefined>,
  opts: {
    signal?: AbortSignal | undefined;
    onProgress?: InsertPartitionsOptions["onProgress"];
    create?: boolean;
  },
): Promise<string[]> {
  const { store, schema } = ctx;
  let done = 0;
  const progress = (path: string) => {
    done += 1;
    opts.onProgress?.({ done, total: paths.length, partition: path });
  };
  if (store.transactional) {
    return journaledCommit(ctx, "update", paths, () =>
      mapConcurrent(
        paths,
        ctx.concurrency,
        async (path, _i, inner) => {
          const ds = await produce(path, inner);
          if (ds !== undefined)
            await writePartition(store, path, ds, schema, { attrs: ds.attrs, signal: inner });
          progress(path);
          return path;
        },
        opts.signal,
      ),
    );
  }
  const op = await WriteOperation.begin(store, { operation: "update", partitions: paths });
  return settleOperation(op, opts.signal, () =>
    mapConcurrent(
      paths,
      ctx.concurrency,
      (path, _i, signal) =>
        op.withTarget(
          path,
          async (handle) => {
            const ds = await produce(path, signal);
            if (ds !== undefined) {
              await handle.replace(
                async (prefix, o) => {
                  if (opts.create === true && prefix === path) await ensureParentGroups(store, prefix);
                  await writePartitionContent(store, prefix, ds, schema, {
                    attrs: ds.attrs,
                    ...(o.signal ? { signal: o.signal } : {}),
                  });
                },
                opts.create === true ? { signal } : { published: true, signal },
              );
            }
            progress(path);
            return path;
          },
          { signal },
        ),
      opts.signal,
    ),
  );
}

/**
 * Deletes `paths` (each unpublished first, then its objects), removes them
 * from the catalog, then the parent groups left empty
 * ({@link removeEmptyGroups}): on a transactional store in the same
 * commit; elsewhere once the drop is committed, so that a crash leaves at
 * worst empty groups.
 */
export async function dropPartitions(
  ctx: MutationContext,
  paths: readonly string[],
  opts: { signal?: AbortSignal | undefined; onProgress?: InsertPartitionsOptions["onProgress"] },
): Promise<string[]> {
  const { store } = ctx;
  let done = 0;
  const dropOne = async (path: string) => {
    await store.deleteKey(metadataKey(path));
    await store.deletePrefix(path);
    done += 1;
    opts.onProgress?.({ done, total: paths.length, partition: path });
    return path;
  };
  if (paths.length === 0) return [];
  let removed: RemovedGroup[] = [];
  let out: string[];
  if (store.transactional) {
    out = await journaledCommit(ctx, "drop", paths, async () => {
      const dropped: string[] = [];
      for (const path of paths) {
        opts.signal?.throwIfAborted();
        dropped.push(await dropOne(path));
      }
      removed = await removeEmptyGroups(store, dropped);
      return dropped;
    });
  } else {
    const op = await WriteOperation.begin(store, {
      operation: "drop",
      partitions: paths,
      catalog: ctx.catalog,
    });
    out = await settleOperation(op, opts.signal, () =>
      mapConcurrent(
        paths,
        ctx.concurrency,
        (path, _i, signal) => op.withTarget(path, () => dropOne(path), { signal, catalogPath: path }),
        opts.signal,
      ),
    );
    removed = await removeEmptyGroups(store, out);
  }
  await restoreRefilledGroups(store, removed);
  return out;
}

/** A group document {@link removeEmptyGroups} deleted, kept to be written back if the group fills again. */
export interface RemovedGroup {
  readonly path: string;
  readonly document: Uint8Array;
}

/** Whether the group at `path` holds nothing but its document and empty sub-prefixes (removed groups). */
async function isEmptyGroup(store: Store, path: string): Promise<boolean> {
  const dirs = new Set(await store.listDir(path));
  for (const name of await store.listPrefix(path)) {
    if (name === "zarr.json") continue;
    if (!dirs.has(name)) return false; // an object of its own
    const child = `${path}/${name}`;
    if ((await store.exists(metadataKey(child))) || (await store.list(child)).length > 0) return false;
  }
  return true;
}

/**
 * Deletes the documents of the ancestor groups of `dropped` (not the root)
 * left without children, deepest first: dropping the last month of a year
 * removes `year=…/zarr.json` too. A group with a child or any other object
 * is kept, and so are its ancestors. A crash in between leaves empty groups.
 *
 * @returns the groups removed, with their documents.
 */
export async function removeEmptyGroups(store: Store, dropped: readonly string[]): Promise<RemovedGroup[]> {
  const ancestors = new Set<string>();
  for (const path of dropped) {
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) ancestors.add(parts.slice(0, i).join("/"));
  }
  const depth = (p: string) => p.split("/").length;
  const kept = new Set<string>();
  const removed: RemovedGroup[] = [];
  for (const group of [...ancestors].sort((a, b) => depth(b) - depth(a) || (a < b ? -1 : 1))) {
    if (kept.has(group)) continue;
    const document = await store.readBytes(metadataKey(group));
    if (document !== undefined && (await isEmptyGroup(store, group))) {
      await store.deleteKey(metadataKey(group));
      removed.push({ path: group, document });
    } else if (document !== undefined) {
      const parts = group.split("/");
      for (let i = 1; i <= parts.length; i++) kept.add(parts.slice(0, i).join("/"));
    }
  }
  return removed;
}

/**
 * Writes back, parents first, the removed groups another writer filled
 * meanwhile (a partition created under one between the check and the
 * deletion). Later writers re-create the groups (`ensureParentGroups`),
 * except one that checked them just before the deletion and writes after this.
 */
export async function restoreRefilledGroups(store: Store, removed: readonly RemovedGroup[]): Promise<void> {
  const refilled: RemovedGroup[] = [];
  for (const g of removed) if ((await store.list(g.path)).length > 0) refilled.push(g);
  refilled.sort((a, b) => a.path.split("/").length - b.path.split("/").length);
  for (const g of refilled) {
    if (!(await store.exists(metadataKey(g.path)))) await store.writeBytes(metadataKey(g.path), g.document);
  }
}

/**
 * Runs the partition tasks of a journaled operation, then commits it
 * whether they succeeded or not (the catalog must list what was written),
 * and only then rethrows the first failure — or the abort, when the signal
 * fired while the last tasks were finishing.
 */
export async function settleOperation<T>(
  op: WriteOperation,
  signal: AbortSignal | undefined,
  tasks: () => Promise<T>,
): Promise<T> {
  let outcome: { value: T } | { error: unknown };
  try {
    const value = await tasks();
    signal?.throwIfAborted();
    outcome = { value };
  } catch (error) {
    outcome = { error };
  }
  await op.commit();
  if ("error" in outcome) throw outcome.error;
  return outcome.value;
}

/**
 * Partitioned variables of the schema that `ds` lacks (immutable ones are
 * not partitioned), as paths.
 */
export function missingVariables(schema: DatasetSchema, ds: Dataset): string[] {
  const present = new Set([...ds.allVariables().keys()].map((p) => p.replace(/^\/+/, "")));
  return [...schema.allVariables()]
    .filter(([p, vs]) => !vs.immutable && !present.has(p))
    .map(([p]) => p)
    .sort();
}

/**
 * Refuses an insert that lacks some partitioned variables when one of its
 * target partitions is already stored: writing it would delete the stored
 * values of those variables.
 *
 * @throws SchemaError listing the variables and naming a stored partition.
 */
export async function checkMissingVariables(
  store: Store,
  missing: readonly string[],
  paths: readonly string[],
  listed: ReadonlySet<string> | undefined,
): Promise<void> {
  if (missing.length === 0) return;
  const stored = listed
    ? paths.filter((p) => listed.has(p))
    : (
        await mapConcurrent(paths, 16, async (p) => ((await partitionExists(store, p)) ? p : undefined))
      ).filter((p): p is string => p !== undefined);
  if (stored.length === 0) return;
  throw new SchemaError(
    `the inserted dataset lacks ${missing.length} variable(s) of the collection (${missing.join(", ")}) ` +
      `and partition '${stored[0]}'${stored.length > 1 ? ` (and ${stored.length - 1} more)` : ""} already ` +
      "holds them: writing it would delete their stored values. Insert them, or ask for fill values " +
      "explicitly (insert option fillMissing: true, CLI --fill-missing)",
    { variable: missing[0] as string },
  );
}
