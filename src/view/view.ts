/**
 * {@link View}: variables added on top of a collection one may only read
 * (docs/behaviour.md §11, docs/format.md §10). The overlay lives in a store of its own, one
 * Zarr group per base partition, at the base partition's path; the base is
 * never written.
 *
 * @module
 */

import { attach, padMissing, withPartsAttrs } from "../collection/assemble.js";
import { Collection } from "../collection/collection.js";
import { type MutationContext, updatePartitions } from "../collection/mutations.js";
import type { Filters, OperationOptions, ReadOptions } from "../collection/options.js";
import {
  buildDataset,
  readImmutables,
  readPartition,
  readPartitionRows,
  selectPaths,
} from "../collection/partition-io.js";
import { recoverOperations } from "../collection/recovery.js";
import { ROOT_CONFIG_KEY } from "../collection/root-config.js";
import * as config from "../config.js";
import type { Dataset } from "../data/dataset.js";
import { concatRows } from "../data/rows.js";
import { CollectionExistsError, ReadOnlyError } from "../errors.js";
import type { ExecutorOption, FunctionRef, Json } from "../executor/api.js";
import { isFunctionRef, loadFunction, normalizeFunctionRef } from "../executor/functions.js";
import type { NDArray } from "../ndarray.js";
import type { DatasetSchema, VariableSchema } from "../schema/index.js";
import { openStore } from "../store/open.js";
import type { Store } from "../store/store.js";
import { buildViewSchema, readViewConfig, VIEW_CONFIG_KEY, writeViewConfig } from "./config.js";
import {
  checkOverlayValues,
  mergeOverlay,
  type OverlayValues,
  type RoutedVariables,
  routeVariables,
} from "./overlay.js";
import { ViewReference } from "./reference.js";

/** Options of {@link View.create}. */
export interface ViewCreateOptions {
  /** The base collection, or its URL (opened read-only). */
  base: Collection | string;
  /** The overlay variables: root variables over root dimensions of the base. */
  variables: readonly VariableSchema[];
  /** How the view records its base (default: the base store's URL). */
  reference?: ViewReference | string;
  /** Replace a view already at this store, its overlay data included. */
  overwrite?: boolean;
  /** Options for `openStore` when the view store is given as a URL. */
  storageOptions?: Record<string, unknown>;
}

/** Options of {@link View.open}. */
export interface ViewOpenOptions {
  /**
   * The base collection, or its URL. Default: the view's reference,
   * resolved against the view's URL (see {@link ViewReference.resolve}),
   * opened read-only.
   */
  base?: Collection | string;
  /** Refuse updates (default: whether the view store is read-only). */
  readOnly?: boolean;
  /** Options for `openStore` when the view store or base is given as a URL. */
  storageOptions?: Record<string, unknown>;
  signal?: AbortSignal;
  /** Finish interrupted overlay writes before returning (default true when writable). */
  recover?: boolean;
}

/** Options of {@link View.update}. */
export interface ViewUpdateOptions extends OperationOptions {
  filters?: Filters;
  /** Variables `fn` receives (base and overlay names); default all. */
  variables?: Iterable<string>;
  /**
   * Run the partitions on an executor: a queue URL (`redis://…` or `postgres://…`, BullMQ
   * workers started with `zcollection worker`) or an Executor. `fn` must
   * then be named as `{ module, export }`.
   */
  executor?: ExecutorOption;
  /** Options of the view's store, sent to the workers (default: their environment's). */
  storageOptions?: Record<string, Json>;
}

/** What {@link View.updatePlan} prepares for the partitions of one update. */
export interface OverlayUpdatePlan {
  readonly wanted: readonly VariableSchema[];
  readonly drop: ReadonlySet<string>;
  readonly basePaths: ReadonlySet<string>;
  readonly immutables: Array<[string, VariableSchema, NDArray]>;
}

/**
 * The function of {@link View.update}: given one partition of the base
 * merged with the overlay variables already written there, returns new
 * values for some overlay variables (`{}` or `undefined`: nothing to write).
 */
export type ViewUpdateFunction = (ds: Dataset, partition: string) => OverlayValues | Promise<OverlayValues>;

function isStore(value: unknown): value is Store {
  return typeof value === "object" && value !== null && typeof (value as Store).readBytes === "function";
}

async function resolveStore(
  store: Store | string,
  opts: { readOnly?: boolean; storageOptions?: Record<string, unknown> | undefined },
): Promise<Store> {
  if (isStore(store)) return store;
  return openStore(store, {
    ...(opts.readOnly === true ? { readOnly: true } : {}),
    ...(opts.storageOptions ? { storageOptions: opts.storageOptions } : {}),
  });
}

async function resolveBase(base: Collection | string, storageOptions?: Record<string, unknown>) {
  if (base instanceof Collection) return base;
  return Collection.open(base, { mode: "r", ...(storageOptions ? { storageOptions } : {}) });
}

/**
 * A view: overlay variables stored in their own store, read together with a
 * base collection's variables as if they were one collection.
 *
 * Where Python's behaviour is a defect, this class does better (docs/behaviour.md
 * §18 #8): {@link View.query} keeps the base's nested groups and fills the
 * overlay variables of partitions without overlay data; the function of
 * {@link View.update} sees the base merged with the overlay already written,
 * and a returned name that is not an overlay variable is an error.
 */
export class View {
  /** The base collection (read only; never written). */
  readonly base: Collection;
  /** The store holding the overlay and `_zcollection_view.json`. */
  readonly store: Store;
  /** How the view records its base. */
  readonly reference: ViewReference;
  /** The overlay schema (docs/format.md §10): the base's root dimensions and the overlay variables. */
  readonly viewSchema: DatasetSchema;
  /** Whether {@link View.update} is refused. */
  readonly readOnly: boolean;
  /** The schema of what {@link View.query} returns: the base's, with the overlay variables at the root. */
  readonly schema: DatasetSchema;

  private constructor(
    base: Collection,
    store: Store,
    reference: ViewReference,
    viewSchema: DatasetSchema,
    readOnly: boolean,
  ) {
    this.base = base;
    this.store = store;
    this.reference = reference;
    this.viewSchema = viewSchema;
    this.readOnly = readOnly;
    const baseRoot = [...base.schema.variables.values()].filter((v) => !viewSchema.variables.has(v.name));
    this.schema = base.schema.copyWith({ variables: [...baseRoot, ...viewSchema.variables.values()] });
  }

  /** The overlay variable names, in schema order. */
  get variables(): readonly string[] {
    return [...this.viewSchema.variables.keys()];
  }

  /**
   * Creates a view: checks the overlay variables against the base and
   * writes `_zcollection_view.json` (docs/behaviour.md §11.1, docs/format.md §10).
   *
   * @param store the view's store or its URL; it must not hold a collection
   *   (in particular, it cannot be the base's own store).
   * @throws CollectionExistsError when a view exists there and `overwrite`
   *   is not set, or when the store holds a collection; SchemaError for an
   *   overlay variable named like a base root variable or over a dimension
   *   that is not a base root dimension; ReadOnlyError for a read-only store.
   */
  static async create(store: Store | string, opts: ViewCreateOptions): Promise<View> {
    const base = await resolveBase(opts.base, opts.storageOptions);
    const target = await resolveStore(store, { storageOptions: opts.storageOptions });
    if (target.readOnly) throw new ReadOnlyError(`store ${target.rootUri} is read-only`, target.rootUri);
    if (target.rootUri === base.store.rootUri || (await target.exists(ROOT_CONFIG_KEY))) {
      throw new CollectionExistsError(
        `${target.rootUri} holds a collection; a view needs a store of its own`,
        target.rootUri,
      );
    }
    const exists = await target.exists(VIEW_CONFIG_KEY);
    if (exists && opts.overwrite !== true) {
      throw new CollectionExistsError(`a view already exists at ${target.rootUri}`, target.rootUri);
    }
    const viewSchema = buildViewSchema(base, opts.variables);
    const reference =
      opts.reference === undefined
        ? new ViewReference(base.store.rootUri)
        : opts.reference instanceof ViewReference
          ? opts.reference
          : new ViewReference(opts.reference);
    await target.session(
      async () => {
        if (exists) {
          // Like a collection's overwrite (docs/behaviour.md §18 #6): the old overlay goes; the document last.
          for (const name of await target.listPrefix("")) {
            if (name !== VIEW_CONFIG_KEY) await target.deletePrefix(name);
          }
        }
        await writeViewConfig(target, { reference, schema: viewSchema });
      },
      { message: "create view" },
    );
    return new View(base, target, reference, viewSchema, false);
  }

  /**
   * Opens a view (docs/behaviour.md §11.2). The base given is trusted; without one,
   * the recorded reference is resolved against the view's URL and opened
   * read-only. A writable view first finishes the overlay writes a crashed
   * writer left.
   *
   * @throws CollectionNotFoundError "no view config at <uri>" when the store
   *   holds no view, or when the base cannot be found; SchemaError for an
   *   invalid view document.
   */
  static async open(store: Store | string, opts: ViewOpenOptions = {}): Promise<View> {
    const target = await resolveStore(store, {
      readOnly: opts.readOnly === true,
      storageOptions: opts.storageOptions,
    });
    const { reference, schema } = await readViewConfig(target, opts.signal ? { signal: opts.signal } : {});
    const base = await resolveBase(opts.base ?? reference.resolve(target.rootUri), opts.storageOptions);
    const view = new View(base, target, reference, schema, opts.readOnly === true || target.readOnly);
    if (!view.readOnly && opts.recover !== false && !target.transactional) {
      await recoverOperations(target, opts.signal ? { signal: opts.signal } : {});
    }
    return view;
  }

  /** The base's partitions matching `filters` (docs/behaviour.md §11.2), natural key order. */
  partitions(opts: { filters?: Filters; signal?: AbortSignal } = {}): Promise<string[]> {
    return this.base.partitions(opts);
  }

  /** The overlay schemas of `names` (`undefined`: all). */
  #overlaySchemas(names: readonly string[] | undefined): VariableSchema[] {
    const all = [...this.viewSchema.variables.values()];
    return names === undefined ? all : all.filter((v) => names.includes(v.name));
  }

  /**
   * The base names to read: those routed to the base, plus one partitioning
   * variable when none of them spans the partitioning dimension (to count
   * rows, so that overlay variables can be filled); `drop` lists the
   * variables added that way.
   */
  #baseRead(route: RoutedVariables): { names: string[] | undefined; drop: Set<string> } {
    if (route.base === undefined) return { names: undefined, drop: new Set() };
    const dim = this.base.dimension;
    const selected = selectPaths(this.base.schema, route.base);
    const spans = [...selected].some((p) => this.base.schema.getVariable(p).dimensions.includes(dim));
    if (spans || route.overlay?.length === 0) return { names: route.base, drop: new Set() };
    const counter = [...this.base.schema.allVariables()].find(
      ([, vs]) => !vs.immutable && vs.dimensions.includes(dim),
    )?.[0];
    if (counter === undefined) return { names: route.base, drop: new Set() };
    return { names: [...route.base, counter], drop: new Set([counter]) };
  }

  /**
   * The overlay of `path` (the `names` asked, all when undefined; only the
   * rows of `ranges` when given); `undefined` when the view has none there.
   */
  #readOverlay(
    path: string,
    names: readonly string[] | undefined,
    signal?: AbortSignal,
    ranges?: ReadonlyArray<readonly [number, number]>,
  ) {
    const paths = selectPaths(this.viewSchema, names);
    const o = signal ? { signal } : {};
    return ranges === undefined
      ? readPartition(this.store, path, this.viewSchema, paths, o)
      : readPartitionRows(this.store, path, this.viewSchema, paths, this.base.dimension, ranges, o);
  }

  /**
   * Reads the matching partitions of the base and of the overlay and
   * concatenates them along the partitioning dimension (docs/behaviour.md §11.4):
   * all base variables — nested groups included, unlike Python — plus the
   * overlay variables. An overlay variable that a partition has no data for
   * holds its fill value there (Python raises).
   *
   * With `rows` (what `Indexer.lookup` returns), only those rows are read,
   * from the base and from the overlay.
   *
   * @returns `null` when no partition matches.
   * @throws ExpressionError for an invalid filter; SchemaError when
   *   `variables` is a string.
   */
  async query(opts: ReadOptions = {}): Promise<Dataset | null> {
    const route = routeVariables(this.variables, opts.variables);
    const wanted = this.#overlaySchemas(route.overlay);
    const { names, drop } = this.#baseRead(route);
    const parts = await this.base.map(
      async (ds, path) => {
        const overlay =
          wanted.length === 0
            ? undefined
            : await this.#readOverlay(path, route.overlay, opts.signal, opts.rows?.get(path));
        return mergeOverlay(ds, overlay, {
          schema: this.schema,
          dimension: this.base.dimension,
          wanted,
          drop,
        });
      },
      { ...opts, ...(names === undefined ? {} : { variables: names }) },
    );
    if (parts.size === 0) return null;
    const datasets = [...parts.values()];
    // Several partitions: only the attributes they agree on, no partition key (../data/product-attrs.ts).
    return withPartsAttrs(
      concatRows(padMissing(datasets, this.schema, this.base.dimension), this.base.dimension),
      datasets,
    );
  }

  /**
   * Yields `[path, dataset]` one partition at a time (base and overlay
   * merged as in {@link View.query}), reading the next only when asked.
   */
  async *iterate(opts: ReadOptions = {}): AsyncGenerator<[string, Dataset]> {
    const route = routeVariables(this.variables, opts.variables);
    const wanted = this.#overlaySchemas(route.overlay);
    const { names, drop } = this.#baseRead(route);
    const base = this.base.iterate({ ...opts, ...(names === undefined ? {} : { variables: names }) });
    for await (const [path, ds] of base) {
      const overlay =
        wanted.length === 0
          ? undefined
          : await this.#readOverlay(path, route.overlay, opts.signal, opts.rows?.get(path));
      yield [
        path,
        mergeOverlay(ds, overlay, { schema: this.schema, dimension: this.base.dimension, wanted, drop }),
      ];
    }
  }

  /**
   * Computes overlay variables partition by partition (docs/behaviour.md §11.3):
   * for each matching base partition, `fn` receives the base partition
   * (immutable variables attached) merged with the overlay variables
   * already written there (fill values where there are none), restricted to
   * `variables` when given; the variables it returns replace theirs in the
   * overlay group, the overlay variables it does not return are kept.
   * Returning `{}` writes nothing for that partition. Each overlay group is
   * written under a lease and replaced through staging, so a crash or a
   * concurrent update leaves either the old or the new overlay, never a mix
   * (docs/safety.md). The base is only read.
   *
   * @returns every matching partition path (written or not), natural key order.
   * @throws ReadOnlyError for a read-only view; SchemaError when `fn`
   *   returns a name that is not an overlay variable (Python ignores it), an
   *   array of the wrong shape, or values that do not cast to the variable's
   *   dtype without loss; ConflictError when another writer holds an overlay
   *   partition past the wait; the signal's reason when aborted.
   */
  async update(fn: ViewUpdateFunction | FunctionRef, opts: ViewUpdateOptions = {}): Promise<string[]> {
    if (this.readOnly)
      throw new ReadOnlyError(`view at ${this.store.rootUri} is read-only`, this.store.rootUri);
    const signal = opts.signal;
    signal?.throwIfAborted();
    if (!this.store.transactional) await recoverOperations(this.store, signal ? { signal } : {});
    const paths = await this.base.partitions({
      filters: opts.filters ?? null,
      ...(signal ? { signal } : {}),
    });
    const variables = opts.variables === undefined ? undefined : [...opts.variables];
    if (opts.executor !== undefined) {
      const { updateViewOnExecutor } = await import("./distributed.js");
      return updateViewOnExecutor(this, fn, paths, variables, opts);
    }
    const call = isFunctionRef(fn) ? await loadFunction<ViewUpdateFunction>(normalizeFunctionRef(fn)) : fn;
    const plan = await this.updatePlan(variables, paths.length > 0, signal);
    const ctx: MutationContext = {
      store: this.store,
      schema: this.viewSchema,
      axis: this.base.axis,
      dimension: this.base.dimension,
      catalog: undefined,
      concurrency: config.partitionConcurrency(),
    };
    return updatePartitions(ctx, paths, (path, inner) => this.overlayPartition(path, call, plan, inner), {
      signal,
      onProgress: opts.onProgress,
      create: true,
    });
  }

  /**
   * What {@link View.update} reads for `variables`: the base paths, the
   * overlay variables, the immutable variables (read once when `read`).
   *
   * @internal shared with the update tasks of workers.
   */
  async updatePlan(
    variables: readonly string[] | undefined,
    read: boolean,
    signal?: AbortSignal,
  ): Promise<OverlayUpdatePlan> {
    const route = routeVariables(this.variables, variables);
    const wanted = this.#overlaySchemas(route.overlay);
    const { names, drop } = this.#baseRead(route);
    const basePaths = selectPaths(this.base.schema, names);
    const immutables = read
      ? await readImmutables(this.base.store, this.base.schema, basePaths, signal ? { signal } : {})
      : [];
    return { wanted, drop, basePaths, immutables };
  }

  /**
   * The new overlay group of `path`: `fn` called on the base partition
   * merged with the stored overlay; the overlay variables it does not
   * return are kept. `undefined` when it returns nothing (or the base
   * partition is gone). Call it while holding the partition's lease.
   *
   * @internal shared with the update tasks of workers.
   * @throws SchemaError for what {@link checkOverlayValues} refuses.
   */
  async overlayPartition(
    path: string,
    fn: ViewUpdateFunction,
    plan: OverlayUpdatePlan,
    signal: AbortSignal,
  ): Promise<Dataset | undefined> {
    const dimension = this.base.dimension;
    const read = await readPartition(this.base.store, path, this.base.schema, plan.basePaths, { signal });
    if (read === undefined) return undefined;
    const base = plan.immutables.length === 0 ? read : attach(read, plan.immutables, this.base.schema);
    const stored = await this.#readOverlay(path, undefined, signal);
    const input = mergeOverlay(base, stored, {
      schema: this.schema,
      dimension,
      wanted: plan.wanted,
      drop: plan.drop,
    });
    const values = await fn(input, path);
    signal.throwIfAborted();
    const returned = checkOverlayValues(values, path, base, this.viewSchema, dimension, this.store.rootUri);
    if (returned.length === 0) return undefined;
    const names = new Set(returned.map(([n]) => n));
    const kept: Array<[string, VariableSchema, NDArray]> = [];
    for (const [n, v] of stored?.allVariables() ?? []) {
      if (!names.has(n) && v.data !== null) kept.push([n, v.schema, v.data as NDArray]);
    }
    return buildDataset(this.viewSchema, [...kept, ...returned], {});
  }

  /** One-line description. */
  toString(): string {
    return `<View ${this.store.rootUri} over ${this.base.store.rootUri} variables=[${this.variables.join(", ")}]${
      this.readOnly ? " (read-only)" : ""
    }>`;
  }
}
