/**
 * {@link Dataset}: the root group of the data tree, bound to a
 * {@link DatasetSchema} (docs/behaviour.md §5.3).
 *
 * @module
 */

import type * as arrow from "apache-arrow";
import type { TypedArray } from "../dtype.js";
import { SchemaError } from "../errors.js";
import { type ArrayInput, castChecked, NDArray } from "../ndarray.js";
import { DatasetSchema } from "../schema/dataset.js";
import type { GroupSchema } from "../schema/group.js";
import { splitPath } from "../schema/path.js";
import { arrowToParts, groupToArrow } from "./arrow.js";
import { entriesOf, Group, type GroupsInput, type VariablesInput } from "./group.js";
import { isLazyArray } from "./lazy.js";
import { Variable } from "./variable.js";

/** Options of the {@link Dataset} constructor. */
export interface DatasetOptions {
  /**
   * Materialise every schema group even when no nested key is given (the
   * tree a partition read returns). Default false: groups are built only when
   * a nested key (`grp/var`) is present (docs/behaviour.md §5.3).
   */
  fullTree?: boolean;
}

/** Arrays accepted by {@link Dataset.fromArrays}, keyed by variable path. */
export type ArraysInput =
  | Readonly<Record<string, NDArray | TypedArray | ArrayInput | readonly string[]>>
  | ReadonlyMap<string, NDArray | TypedArray | ArrayInput | readonly string[]>;

function isMapping(input: VariablesInput | null | undefined): boolean {
  if (input === null || input === undefined) return false;
  if (input instanceof Map) return true;
  return typeof (input as Iterable<Variable>)[Symbol.iterator] !== "function";
}

/** Builds the child groups of the schema tree, attaching nested variables by path. */
function buildTree(
  schema: GroupSchema,
  nested: Map<string, Variable>,
  segs: string[],
  parentAttrs?: ReadonlyMap<string, Readonly<Record<string, unknown>>>,
): Group[] {
  const out: Group[] = [];
  for (const [name, child] of schema.groups) {
    const path = [...segs, name];
    const prefix = path.join("/");
    const vars: Array<[string, Variable]> = [];
    for (const vname of child.variables.keys()) {
      const v = nested.get(`${prefix}/${vname}`);
      if (v !== undefined) {
        vars.push([vname, v]);
        nested.delete(`${prefix}/${vname}`);
      }
    }
    const kids = buildTree(child, nested, path, parentAttrs);
    out.push(new Group(child, new Map(vars), kids, parentAttrs?.get(`/${prefix}`) ?? null, { name }));
  }
  return out;
}

/**
 * The root of a data tree: variables, child groups and attributes bound to
 * a {@link DatasetSchema}.
 */
export class Dataset extends Group {
  declare readonly schema: DatasetSchema;

  /**
   * Variable routing (docs/behaviour.md §5.3):
   * - mapping form (`Record` or `Map`): a key without `/` puts the variable at
   *   the root under that key (the root variable need not exist in the
   *   schema); a key with `/` (leading slashes ignored) addresses a nested
   *   schema variable by path;
   * - iterable form: every variable goes to the root under its own name;
   * - when a nested key is given (or `opts.fullTree`), the **whole** schema
   *   group tree is materialised (attrs from the schema groups) and nested
   *   variables are attached where `<group path>/<schema variable name>`
   *   equals their key. Explicit `groups` win over built ones of the same name.
   *
   * Divergence from Python: a nested key that matches no schema variable
   * raises instead of being dropped silently.
   *
   * @param attrs `null`/absent → a copy of the schema's root attrs.
   * @throws SchemaError "unknown variable '<key>'" for an unmatched nested
   *   key, or for inconsistent dimension lengths within a group.
   */
  constructor(
    schema: DatasetSchema,
    variables?: VariablesInput | null,
    groups?: GroupsInput | null,
    attrs?: Readonly<Record<string, unknown>> | null,
    opts: DatasetOptions & { groupAttrs?: ReadonlyMap<string, Readonly<Record<string, unknown>>> } = {},
  ) {
    if (!(schema instanceof DatasetSchema))
      throw new SchemaError(`Dataset needs a DatasetSchema; got ${String(schema)}`);
    const root: Array<[string, Variable]> = [];
    const nested = new Map<string, Variable>();
    if (isMapping(variables)) {
      for (const [key, v] of entriesOf(variables)) {
        if (key.includes("/")) nested.set(splitPath(key).join("/"), v);
        else root.push([key, v]);
      }
    } else {
      root.push(...entriesOf(variables));
    }
    const explicit = entriesOf(groups);
    let children: Array<[string, Group]> = explicit;
    if (nested.size > 0 || opts.fullTree === true) {
      const order = new Map(
        buildTree(schema, nested, [], opts.groupAttrs).map((g) => [g.name, g] as [string, Group]),
      );
      for (const [k, g] of explicit) order.set(k, g);
      children = [...order];
      const [unknown] = nested.keys();
      if (unknown !== undefined)
        throw new SchemaError(`unknown variable '${unknown}' (not in the schema)`, { variable: unknown });
    }
    super(schema, new Map(root), new Map(children), attrs, { name: "/" });
  }

  /**
   * A dataset from plain arrays keyed by variable path (`"v"`, `"grp/var"`,
   * `"/grp/var"`), each cast to its schema dtype with `castChecked` (lossy
   * casts refused). A nested key materialises the whole schema group tree.
   * Shapes are checked against fixed dimension sizes and against the other
   * variables using the same dimension declaration (anywhere in the tree).
   *
   * Divergence from Python: unknown keys — root or nested — raise instead of
   * being kept (root) or dropped (nested).
   *
   * @throws SchemaError naming the key for an unknown variable, a rank or
   *   dimension-length mismatch, or a lossy cast.
   */
  static fromArrays(
    schema: DatasetSchema,
    arrays: ArraysInput,
    opts: { attrs?: Readonly<Record<string, unknown>> | null } = {},
  ): Dataset {
    const entries = arrays instanceof Map ? [...arrays] : Object.entries(arrays);
    const index = new Map(schema.variableEntries().map((e) => [e.path, e]));
    const vars = new Map<string, Variable>();
    const seen = new Map<string, { length: number; variable: string }>();
    for (const [key, input] of entries) {
      const path = splitPath(key).join("/");
      const entry = index.get(path);
      if (entry === undefined)
        throw new SchemaError(`unknown variable '${key}' (not in the schema)`, { variable: key });
      const vs = entry.variable;
      if (isLazyArray(input))
        throw new SchemaError(`variable '${key}': fromArrays needs loaded arrays`, { variable: key });
      const raw = input instanceof NDArray ? input : NDArray.from(input as ArrayInput);
      if (raw.ndim !== vs.ndim) {
        throw new SchemaError(`variable '${path}': data has ${raw.ndim} dims, schema declares ${vs.ndim}`, {
          variable: path,
        });
      }
      const data = castChecked(raw, vs.dtype, path);
      vs.dimensions.forEach((d, i) => {
        const n = data.shape[i] as number;
        const dim = entry.visible.get(d);
        if (dim?.size !== null && dim?.size !== undefined && dim.size !== n) {
          throw new SchemaError(
            `variable '${path}': dimension '${d}' has length ${n} but the schema declares size ${dim.size}`,
            { variable: path, dimension: d },
          );
        }
        // Which group declares the dimension seen from this variable's group.
        const declaring = declaringGroup(schema, entry.groupPath, d);
        const id = `${declaring}\u0000${d}`;
        const prev = seen.get(id);
        if (prev === undefined) seen.set(id, { length: n, variable: path });
        else if (prev.length !== n) {
          throw new SchemaError(
            `inconsistent size for dimension '${d}': ${prev.length} vs ${n} (variable '${path}'; '${prev.variable}' has ${prev.length})`,
            { variable: path, dimension: d },
          );
        }
      });
      vars.set(entry.groupPath === "/" ? path : `/${path}`, new Variable(vs, data));
    }
    return new Dataset(schema, vars, null, opts.attrs ?? null);
  }

  /**
   * A dataset restricted to the named variables (docs/behaviour.md §5.3): the schema
   * is `schema.select(names)`; names with `/` address nested variables (the
   * selected group tree is materialised, keeping this dataset's group
   * attributes), others root variables. Root attrs are kept.
   *
   * @throws SchemaError "unknown variable '<name>'" for a name not in the
   *   schema or without data in this dataset; also for a single string.
   */
  select(names: Iterable<string>): Dataset {
    if (typeof names === "string") {
      throw new SchemaError(`select expects an array of variable names, not the string '${names}'`);
    }
    const list = [...names];
    const schema = this.schema.select(list);
    const vars = new Map<string, Variable>();
    for (const n of list) {
      const key = splitPath(n).join("/");
      vars.set(key.includes("/") ? `/${key}` : key, this.getVariable(key));
    }
    const groupAttrs = new Map<string, Record<string, unknown>>();
    for (const [p, g] of this.walk()) if (p !== "/") groupAttrs.set(p, g.attrs);
    return new Dataset(schema, vars, null, this.attrs, { groupAttrs });
  }

  /** Loads every lazy variable of the tree (concurrently) and returns the loaded dataset. */
  async load(opts?: { signal?: AbortSignal }): Promise<Dataset> {
    if (!this.isLazy) return this;
    const all = [...this.allVariables()];
    const loaded = await Promise.all(all.map(async ([p, v]) => [p, await v.load(opts)] as const));
    const byPath = new Map(loaded);
    return rebuildDataset(this, (v, p) => byPath.get(p) ?? v);
  }

  /**
   * The own variables of one group as an Apache Arrow table: 1-D variables as
   * columns, N-D variables as (nested) FixedSizeList columns; see
   * `groupToArrow` for the type mapping and the field metadata that lets
   * {@link fromArrow} restore dtypes, dimensions, fill values and attributes.
   *
   * @param opts.group group path (default the root).
   * @param opts.variables restricts the columns (own variable names of the group).
   * @throws SchemaError for lazy variables, 0-d variables, or columns of different lengths.
   */
  toArrow(opts: { group?: string; variables?: Iterable<string> } = {}): arrow.Table {
    return groupToArrow(this.getGroup(opts.group ?? "/"), opts.variables);
  }

  /**
   * A flat dataset from an Apache Arrow table (one root variable per column).
   * Columns written by {@link toArrow} get back their dtype, dimensions, fill
   * value and attributes; other columns get the dimension `"row"` and, for
   * FixedSizeList columns, `<column>_dim1`, `<column>_dim2`, …; every
   * dimension's size is its length. See `arrowToParts`.
   *
   * @throws SchemaError for an unsupported Arrow type, naming the column.
   */
  static fromArrow(table: arrow.Table): Dataset {
    const parts = arrowToParts(table);
    const vars = parts.variables.map(([vs, data]) => new Variable(vs, data));
    return new Dataset(parts.schema, vars, null, parts.attrs);
  }

  protected override reprHeader(): string {
    return "<Dataset>";
  }
}

function declaringGroup(schema: DatasetSchema, groupPath: string, dim: string): string {
  const segs = splitPath(groupPath);
  for (let i = segs.length; i >= 0; i--) {
    const path = segs.slice(0, i).join("/");
    if (schema.getGroup(path).dimensions.has(dim)) return `/${path}`;
  }
  return "/";
}

/**
 * A copy of `ds` with each variable replaced by `fn(variable, path)` (`null`
 * drops it), keeping the group tree, names and attributes.
 */
export function rebuildDataset(ds: Dataset, fn: (v: Variable, path: string) => Variable | null): Dataset {
  const make = (g: Group, prefix: string): { vars: Map<string, Variable>; kids: Map<string, Group> } => {
    const vars = new Map<string, Variable>();
    for (const [k, v] of g.variables) {
      const r = fn(v, prefix + k);
      if (r !== null) vars.set(k, r);
    }
    const kids = new Map<string, Group>();
    for (const [k, c] of g.groups) {
      const sub = make(c, `${prefix}${k}/`);
      kids.set(k, new Group(c.schema, sub.vars, sub.kids, c.attrs, { name: k }));
    }
    return { vars, kids };
  };
  const top = make(ds, "");
  return new Dataset(ds.schema, top.vars, top.kids, ds.attrs);
}
