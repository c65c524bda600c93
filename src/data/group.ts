/**
 * {@link Group}: a node of the in-memory data tree — variables, child groups
 * and attributes (docs/behaviour.md §5.2).
 *
 * @module
 */

import { SchemaError } from "../errors.js";
import { type AttrValue, cleanAttrs, copyAttrs } from "../schema/attrs.js";
import type { Dimension } from "../schema/dimension.js";
import { GroupSchema } from "../schema/group.js";
import { splitPath } from "../schema/path.js";
import { alignedLines, attributeLines, cutLine, formatBytes, formatDimensions, MAX_LINE } from "./repr.js";
import { Variable } from "./variable.js";

/** Variables given to a group: a mapping (key = entry name) or an iterable (each variable's own name). */
export type VariablesInput =
  | Readonly<Record<string, Variable>>
  | ReadonlyMap<string, Variable>
  | Iterable<Variable>;

/** Child groups given to a group: a mapping (key = entry name) or an iterable (each group's own name). */
export type GroupsInput = Readonly<Record<string, Group>> | ReadonlyMap<string, Group> | Iterable<Group>;

const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/** `[entry name, item]` pairs of a mapping or an iterable of named items. */
export function entriesOf<T extends { readonly name: string }>(
  input: Readonly<Record<string, T>> | ReadonlyMap<string, T> | Iterable<T> | null | undefined,
): Array<[string, T]> {
  if (input === null || input === undefined) return [];
  if (input instanceof Map) return [...(input as Map<string, T>)];
  if (typeof (input as Iterable<T>)[Symbol.iterator] === "function") {
    return [...(input as Iterable<T>)].map((x) => [x.name, x]);
  }
  return Object.entries(input as Record<string, T>);
}

/**
 * A group of the data tree. `variables` and `groups` are ordered, read-only
 * views (use {@link addVariable}/{@link addGroup}); `attrs` is the live,
 * mutable attribute object.
 */
export class Group {
  /** The schema of this group. */
  readonly schema: GroupSchema;
  /** Short name (`"/"` for a root). */
  readonly name: string;
  /** The live attributes (a mutable object; defaults to a copy of the schema attrs). */
  readonly attrs: Record<string, AttrValue>;
  readonly #variables = new Map<string, Variable>();
  readonly #groups = new Map<string, Group>();
  #parent: Group | null;

  /**
   * @param attrs `null`/absent → a copy of `schema.attrs`.
   * @param opts.name defaults to `schema.name`.
   * @throws SchemaError for inconsistent dimension lengths among the
   *   variables ("inconsistent size for dimension 'd': A vs B (variable
   *   'v')") or duplicated names.
   */
  constructor(
    schema: GroupSchema,
    variables?: VariablesInput | null,
    groups?: GroupsInput | null,
    attrs?: Readonly<Record<string, unknown>> | null,
    opts: { name?: string; parent?: Group | null } = {},
  ) {
    if (!(schema instanceof GroupSchema))
      throw new SchemaError(`Group needs a GroupSchema; got ${String(schema)}`);
    this.schema = schema;
    this.name = opts.name ?? schema.name;
    this.#parent = opts.parent ?? null;
    this.attrs =
      attrs === null || attrs === undefined
        ? copyAttrs(schema.attrs)
        : copyAttrs(cleanAttrs(attrs, `group '${this.name}'`));
    for (const [k, v] of entriesOf(variables)) {
      if (!(v instanceof Variable)) throw new SchemaError(`group '${this.name}': '${k}' is not a Variable`);
      this.#variables.set(k, v);
    }
    for (const [k, g] of entriesOf(groups)) {
      if (!(g instanceof Group)) throw new SchemaError(`group '${this.name}': '${k}' is not a Group`);
      g.#parent = this;
      this.#groups.set(k, g);
    }
    this.#checkSizes();
  }

  #checkSizes(extra?: [string, Variable]): void {
    const seen = new Map<string, number>();
    const entries: Array<[string, Variable]> = [...this.#variables];
    if (extra) entries.push(extra);
    for (const [key, v] of entries) {
      if (v.data === null) continue;
      const shape = v.data.shape;
      v.dimensions.forEach((d, i) => {
        const n = shape[i] as number;
        const prev = seen.get(d);
        if (prev === undefined) seen.set(d, n);
        else if (prev !== n) {
          throw new SchemaError(
            `inconsistent size for dimension '${d}': ${prev} vs ${n} (variable '${key}')`,
            {
              variable: key,
              dimension: d,
              group: this.longName(),
            },
          );
        }
      });
    }
  }

  /** The parent group, `null` for a root. */
  get parent(): Group | null {
    return this.#parent;
  }

  /** Own variables in order. */
  get variables(): ReadonlyMap<string, Variable> {
    return this.#variables;
  }

  /** Direct child groups in order. */
  get groups(): ReadonlyMap<string, Group> {
    return this.#groups;
  }

  /** Dimension name → length from own variables (first seen wins; ancestors not included). */
  get dimensions(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const v of this.#variables.values()) {
      if (v.data === null) continue;
      v.dimensions.forEach((d, i) => {
        if (!Object.hasOwn(out, d)) out[d] = v.data?.shape[i] as number;
      });
    }
    return out;
  }

  /**
   * Length of dimension `name` as carried by the variables of the subtree
   * (own variables first, then descendants depth-first pre-order), or
   * `undefined` when no variable with data spans it.
   */
  dimensionSize(name: string): number | undefined {
    for (const [, g] of this.walk()) {
      for (const v of g.#variables.values()) {
        const n = v.lengthOf(name);
        if (n !== undefined) return n;
      }
    }
    return undefined;
  }

  /** Whether any variable of the subtree is lazy (or without data). */
  get isLazy(): boolean {
    for (const v of this.#variables.values()) if (v.isLazy) return true;
    for (const g of this.#groups.values()) if (g.isLazy) return true;
    return false;
  }

  /** Bytes of every variable of the subtree. */
  get nbytes(): number {
    let n = 0;
    for (const v of this.#variables.values()) n += v.nbytes;
    for (const g of this.#groups.values()) n += g.nbytes;
    return n;
  }

  /** Whether this group has no parent. */
  isRoot(): boolean {
    return this.#parent === null;
  }

  /** `"/"` for a parentless group, else `"/" + names from the top-most non-root ancestor down` (e.g. `/data_01/ku`). */
  longName(): string {
    const names: string[] = [];
    for (let g: Group | null = this; g !== null && g.#parent !== null; g = g.#parent) names.unshift(g.name);
    return `/${names.join("/")}`;
  }

  /** The top of the tree this group belongs to. */
  root(): Group {
    let g: Group = this;
    while (g.#parent !== null) g = g.#parent;
    return g;
  }

  /**
   * Attaches a child group (re-parenting it).
   *
   * @throws SchemaError "group 'g' already exists in '/…'".
   */
  addGroup(group: Group): void {
    if (!(group instanceof Group)) throw new SchemaError(`addGroup needs a Group; got ${String(group)}`);
    if (this.#groups.has(group.name)) {
      throw new SchemaError(`group '${group.name}' already exists in '${this.longName()}'`, {
        group: group.name,
      });
    }
    group.#parent = this;
    this.#groups.set(group.name, group);
  }

  /**
   * Attaches a variable under its own name. Unlike Python, the size check
   * runs before attaching, so a refused variable is not left behind.
   *
   * @throws SchemaError "variable 'v' already exists in '/…'", or for an
   *   inconsistent dimension length.
   */
  addVariable(variable: Variable): void {
    if (!(variable instanceof Variable))
      throw new SchemaError(`addVariable needs a Variable; got ${String(variable)}`);
    if (this.#variables.has(variable.name)) {
      throw new SchemaError(`variable '${variable.name}' already exists in '${this.longName()}'`, {
        variable: variable.name,
      });
    }
    this.#checkSizes([variable.name, variable]);
    this.#variables.set(variable.name, variable);
  }

  /** Merges `attrs` into the live attributes. @throws SchemaError for values JSON cannot hold. */
  updateAttributes(attrs: Readonly<Record<string, unknown>>): void {
    Object.assign(this.attrs, copyAttrs(cleanAttrs(attrs, `group '${this.longName()}'`)));
  }

  /** Every variable of the subtree: own ones by short name, descendants' by `grp/sub/name` (relative to this group). */
  allVariables(): Map<string, Variable> {
    const out = new Map<string, Variable>();
    const rec = (g: Group, prefix: string) => {
      for (const [k, v] of g.#variables) out.set(prefix + k, v);
      for (const [k, c] of g.#groups) rec(c, `${prefix}${k}/`);
    };
    rec(this, "");
    return out;
  }

  /** Descendant groups, depth-first pre-order (self excluded). */
  *iterGroups(): Generator<Group> {
    for (const g of this.#groups.values()) {
      yield g;
      yield* g.iterGroups();
    }
  }

  /** `[longName, group]` for this group then every descendant, depth-first pre-order. */
  *walk(): Generator<[string, Group]> {
    yield [this.longName(), this];
    for (const g of this.iterGroups()) yield [g.longName(), g];
  }

  /**
   * The first dimension named `name` declared in the schema of this group or
   * of an ancestor (walking up), or `null`.
   */
  findDimension(name: string): Dimension | null {
    for (let g: Group | null = this; g !== null; g = g.#parent) {
      const d = g.schema.dimensions.get(name);
      if (d !== undefined) return d;
    }
    return null;
  }

  /** The first variable named `name`: own first, then descendants depth-first pre-order; `null` when absent. */
  findVariable(name: string): Variable | null {
    const own = this.#variables.get(name);
    if (own !== undefined) return own;
    for (const g of this.iterGroups()) {
      const v = g.#variables.get(name);
      if (v !== undefined) return v;
    }
    return null;
  }

  /** The first group named `name`: own children first, then descendants depth-first pre-order; `null` when absent. */
  findGroup(name: string): Group | null {
    const own = this.#groups.get(name);
    if (own !== undefined) return own;
    for (const g of this.iterGroups()) {
      const c = g.#groups.get(name);
      if (c !== undefined) return c;
    }
    return null;
  }

  /** The group at `path`, or undefined: absolute paths (leading `/`) start at the root, others at this group. */
  #resolveGroup(path: string): Group | undefined {
    let g: Group | undefined = path.startsWith("/") ? this.root() : this;
    for (const seg of splitPath(path)) {
      g = g.#groups.get(seg);
      if (g === undefined) return undefined;
    }
    return g;
  }

  /**
   * The group at `path` (absolute from the root when it starts with `/`,
   * else relative to this group; empty segments ignored).
   *
   * @throws SchemaError "unknown group '<path>'".
   */
  getGroup(path: string): Group {
    const g = this.#resolveGroup(path);
    if (g === undefined) throw new SchemaError(`unknown group '${path}'`, { group: path });
    return g;
  }

  /**
   * The variable at `path` (`v`, `grp/sub/v`, `/grp/sub/v`; the last segment
   * is the variable).
   *
   * @throws SchemaError "path '<p>' has no leaf variable name", "unknown
   *   group '<p>'" or "unknown variable '<p>'".
   */
  getVariable(path: string): Variable {
    const segs = splitPath(path);
    if (segs.length === 0 || path.endsWith("/")) {
      throw new SchemaError(`path '${path}' has no leaf variable name`, { variable: path });
    }
    const leaf = segs.pop() as string;
    const g = this.#resolveGroup(`${path.startsWith("/") ? "/" : ""}${segs.join("/")}`);
    if (g === undefined) throw new SchemaError(`unknown group '${path}'`, { variable: path });
    const v = g.#variables.get(leaf);
    if (v === undefined) throw new SchemaError(`unknown variable '${path}'`, { variable: path });
    return v;
  }

  /** Whether {@link getVariable} would find `path`. */
  hasVariable(path: string): boolean {
    const segs = splitPath(path);
    const leaf = segs.pop();
    if (leaf === undefined) return false;
    const g = this.#resolveGroup(`${path.startsWith("/") ? "/" : ""}${segs.join("/")}`);
    return g === undefined ? false : g.#variables.has(leaf);
  }

  /** The header of the repr: `<Group /data_01>` (`<Dataset>` for a dataset). */
  protected reprHeader(): string {
    return `<Group ${this.longName()}>`;
  }

  /**
   * Multi-line repr, in the manner of xarray: the header with the size of
   * the subtree, the own dimensions, one aligned line per variable (name,
   * dimensions, dtype, size, a preview of its first and last values), the
   * attributes and one line per child group; lines cut at 120 characters.
   */
  toString(): string {
    const lines = [
      `${this.reprHeader()} Size: ${formatBytes(this.nbytes)}`,
      `Dimensions:  ${formatDimensions(this.dimensions)}`,
      "Data variables:",
    ];
    if (this.#variables.size === 0) lines.push("    <empty>");
    const rows = [...this.#variables].map(([k, v]) => [
      k,
      `(${v.dimensions.join(", ")})`,
      v.dtype,
      formatBytes(v.nbytes),
    ]);
    const fixed = alignedLines(rows, [false, false, false, true]);
    [...this.#variables.values()].forEach((v, i) => {
      const head = fixed[i] as string;
      lines.push(`${head}  ${v.preview(Math.max(20, MAX_LINE - [...head].length - 2))}`);
    });
    if (Object.keys(this.attrs).length > 0) lines.push("Attributes:", ...attributeLines(this.attrs));
    if (this.#groups.size > 0) {
      lines.push("Groups:");
      const groupRows = [...this.#groups].map(([k, g]) => {
        const nv = g.#variables.size;
        const ng = g.#groups.size;
        return [
          k,
          formatBytes(g.nbytes),
          `(${nv} variable${nv === 1 ? "" : "s"}, ${ng} subgroup${ng === 1 ? "" : "s"})`,
        ];
      });
      lines.push(...alignedLines(groupRows, [false, true, false]));
    }
    return lines.map((l) => cutLine(l)).join("\n");
  }

  /** Node's `util.inspect` / `console.log` show {@link toString}. */
  [INSPECT](): string {
    return this.toString();
  }
}
