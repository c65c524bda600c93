/**
 * {@link GroupSchema}: a node of the schema tree — its dimensions,
 * variables, child groups and attributes (docs/behaviour.md §4.4, docs/format.md §3.2).
 *
 * @module
 */

import { SchemaError } from "../errors.js";
import { type Attrs, type AttrValue, attrsEqual, cleanAttrs } from "./attrs.js";
import { Dimension, type DimensionJSON } from "./dimension.js";
import { splitPath, variableKey } from "./path.js";
import { VariableSchema, type VariableSchemaJSON } from "./variable.js";

/** JSON form of a nested group (docs/format.md §3.2, keys in write order). */
export interface GroupSchemaJSON {
  name: string;
  dimensions: DimensionJSON[];
  variables: VariableSchemaJSON[];
  groups: GroupSchemaJSON[];
  attrs: Record<string, AttrValue>;
}

/** A read-only `Map`: `set`, `delete` and `clear` throw a `TypeError` once built. */
export class FrozenMap<K, V> extends Map<K, V> {
  private readonly frozen: boolean;

  constructor(entries?: Iterable<readonly [K, V]>) {
    super();
    if (entries) for (const [k, v] of entries) super.set(k, v);
    this.frozen = true;
  }

  override set(key: K, value: V): this {
    if (this.frozen) throw new TypeError("this map is read-only");
    return super.set(key, value);
  }

  override delete(_key: K): boolean {
    throw new TypeError("this map is read-only");
  }

  override clear(): void {
    throw new TypeError("this map is read-only");
  }
}

/** Anything accepted where a collection of named items is expected: an iterable of items or a map of them. */
export type NamedItems<T extends { readonly name: string }> = Iterable<T> | ReadonlyMap<string, T>;

/** Options of the {@link GroupSchema} constructor. */
export interface GroupSchemaOptions {
  /** Dimensions declared on this group (each keyed by its own name; duplicates: last wins). */
  dimensions?: NamedItems<Dimension>;
  /** Variables of this group (keyed by their own name; duplicates: last wins). */
  variables?: NamedItems<VariableSchema>;
  /** Child groups (keyed by their own name; duplicates: last wins). */
  groups?: NamedItems<GroupSchema>;
  /** Group attributes (JSON-cleaned). */
  attrs?: Readonly<Record<string, unknown>> | null;
}

/** The fields a group copy may replace (see {@link GroupSchema.copyWith}). */
export interface GroupSchemaParts {
  dimensions?: Iterable<Dimension>;
  variables?: Iterable<VariableSchema>;
  groups?: Iterable<GroupSchema>;
  attrs?: Readonly<Record<string, unknown>>;
}

function itemsOf<T extends { readonly name: string }>(items: NamedItems<T> | undefined): T[] {
  if (items === undefined || items === null) return [];
  const maybeMap = items as ReadonlyMap<string, T>;
  if (typeof maybeMap.get === "function" && typeof maybeMap.values === "function" && !Array.isArray(items)) {
    return [...maybeMap.values()];
  }
  return [...(items as Iterable<T>)];
}

function byName<T extends { readonly name: string }>(
  items: NamedItems<T> | undefined,
  check: (x: unknown) => boolean,
  what: string,
): FrozenMap<string, T> {
  const list = itemsOf(items);
  for (const x of list) {
    if (!check(x)) throw new SchemaError(`expected a ${what}; got ${String(x)}`);
  }
  return new FrozenMap(list.map((x) => [x.name, x] as const));
}

/** A variable of a schema tree with where it lives (see {@link GroupSchema.variableEntries}). */
export interface VariableEntry {
  /** Key as in `allVariables()`: the short name at the root, else `grp/sub/name`. */
  path: string;
  /** Absolute path of the group holding it (`"/"` or `"/grp/sub"`). */
  groupPath: string;
  /** The variable. */
  variable: VariableSchema;
  /** Dimensions visible from the variable's group (own declarations shadow the ancestors'). */
  visible: ReadonlyMap<string, Dimension>;
}

/**
 * A schema group: dimensions, variables and child groups (read-only maps in
 * declaration order) and attributes. Immutable value. A standalone group does
 * not validate dimension references; {@link DatasetSchema} (the root) does.
 */
export class GroupSchema {
  /** Short name (`"/"` for the root). */
  readonly name: string;
  /** Dimensions declared on this group. */
  readonly dimensions: ReadonlyMap<string, Dimension>;
  /** Variables of this group. */
  readonly variables: ReadonlyMap<string, VariableSchema>;
  /** Child groups. */
  readonly groups: ReadonlyMap<string, GroupSchema>;
  /** Attributes (frozen, JSON-cleaned). */
  readonly attrs: Attrs;

  /**
   * @throws SchemaError for a name that is empty or contains `/` (other than
   *   the root's `"/"`), items of the wrong class, or attributes JSON cannot hold.
   */
  constructor(name: string, opts: GroupSchemaOptions = {}) {
    if (typeof name !== "string" || (name !== "/" && (name.length === 0 || name.includes("/")))) {
      throw new SchemaError(
        `group name must be "/" or a non-empty string without '/'; got ${JSON.stringify(name)}`,
      );
    }
    this.name = name;
    this.dimensions = byName(opts.dimensions, (x) => x instanceof Dimension, "Dimension");
    this.variables = byName(opts.variables, (x) => x instanceof VariableSchema, "VariableSchema");
    this.groups = byName(opts.groups, (x) => x instanceof GroupSchema && x.name !== "/", "named GroupSchema");
    this.attrs = cleanAttrs(opts.attrs, `group '${name}'`);
    if (new.target === GroupSchema) Object.freeze(this);
  }

  /**
   * A copy of this group with some parts replaced. Subclasses override it to
   * keep their class (a {@link DatasetSchema} stays one).
   */
  copyWith(parts: GroupSchemaParts): GroupSchema {
    return new GroupSchema(this.name, {
      dimensions: parts.dimensions ?? this.dimensions.values(),
      variables: parts.variables ?? this.variables.values(),
      groups: parts.groups ?? this.groups.values(),
      attrs: parts.attrs ?? this.attrs,
    });
  }

  /** Every descendant group, depth-first pre-order, excluding this one. */
  *iterGroups(): Generator<GroupSchema> {
    for (const g of this.groups.values()) {
      yield g;
      yield* g.iterGroups();
    }
  }

  /**
   * `[path, group]` for this group (`"/"`) then every descendant
   * (`"/a"`, `"/a/b"`, relative to this group), depth-first pre-order.
   */
  *walk(): Generator<[string, GroupSchema]> {
    const rec = function* (prefix: string, g: GroupSchema): Generator<[string, GroupSchema]> {
      yield [prefix === "" ? "/" : prefix, g];
      for (const c of g.groups.values()) yield* rec(`${prefix}/${c.name}`, c);
    };
    yield* rec("", this);
  }

  /**
   * Every variable of the tree keyed by path: own variables by short name,
   * descendants' as `grp/sub/name` (docs/behaviour.md §4.4), depth-first pre-order.
   */
  allVariables(): Map<string, VariableSchema> {
    const out = new Map<string, VariableSchema>();
    for (const e of this.variableEntries()) out.set(e.path, e.variable);
    return out;
  }

  /**
   * Every variable of the tree with its path, its group's absolute path and
   * the dimensions visible from its group (own declarations shadow the
   * ancestors'), depth-first pre-order.
   */
  variableEntries(): VariableEntry[] {
    const out: VariableEntry[] = [];
    const rec = (g: GroupSchema, segs: string[], inherited: ReadonlyMap<string, Dimension>) => {
      const visible = new Map(inherited);
      for (const [k, d] of g.dimensions) visible.set(k, d);
      const groupPath = `/${segs.join("/")}`;
      for (const v of g.variables.values())
        out.push({ path: variableKey(segs, v.name), groupPath, variable: v, visible });
      for (const c of g.groups.values()) rec(c, [...segs, c.name], visible);
    };
    rec(this, [], new Map());
    return out;
  }

  /**
   * The group at `path` below this one (`/` separated, empty segments
   * ignored; `""` and `"/"` give this group).
   *
   * @throws SchemaError "unknown group '<path>'" (Python: KeyError).
   */
  getGroup(path: string): GroupSchema {
    let g: GroupSchema = this;
    for (const seg of splitPath(path)) {
      const next = g.groups.get(seg);
      if (next === undefined) throw new SchemaError(`unknown group '${path}'`, { group: path });
      g = next;
    }
    return g;
  }

  /** Whether a group exists at `path` below this one. */
  hasGroup(path: string): boolean {
    let g: GroupSchema | undefined = this;
    for (const seg of splitPath(path)) {
      g = g.groups.get(seg);
      if (g === undefined) return false;
    }
    return true;
  }

  /**
   * The variable at `path`: a short name for an own variable, or
   * `grp/sub/name` (a leading `/` is ignored).
   *
   * @throws SchemaError "unknown variable '<path>'".
   */
  getVariable(path: string): VariableSchema {
    const segs = splitPath(path);
    const leaf = segs.pop();
    const g =
      leaf === undefined || !this.hasGroup(segs.join("/")) ? undefined : this.getGroup(segs.join("/"));
    const v = leaf === undefined ? undefined : g?.variables.get(leaf);
    if (v === undefined) throw new SchemaError(`unknown variable '${path}'`, { variable: path });
    return v;
  }

  /** Whether {@link getVariable} would find `path`. */
  hasVariable(path: string): boolean {
    const segs = splitPath(path);
    const leaf = segs.pop();
    if (leaf === undefined || !this.hasGroup(segs.join("/"))) return false;
    return this.getGroup(segs.join("/")).variables.has(leaf);
  }

  /**
   * The dimensions visible from the group at `groupPath`: this group's, then
   * each group down the path, a child's declaration shadowing its ancestors'.
   *
   * @throws SchemaError "unknown group '<path>'".
   */
  visibleDimensions(groupPath: string): Map<string, Dimension> {
    const out = new Map<string, Dimension>(this.dimensions);
    let g: GroupSchema = this;
    for (const seg of splitPath(groupPath)) {
      const next = g.groups.get(seg);
      if (next === undefined) throw new SchemaError(`unknown group '${groupPath}'`, { group: groupPath });
      g = next;
      for (const [k, d] of g.dimensions) out.set(k, d);
    }
    return out;
  }

  /**
   * A copy with `group` inserted under `parentPath` (keeping its own name);
   * missing intermediate groups are created empty and an existing child of
   * the same name is replaced in place (docs/behaviour.md §4.4). On a
   * {@link DatasetSchema} the result is a (validated) DatasetSchema — Python
   * returns a plain group there; keeping the class is more useful.
   */
  withGroup(parentPath: string, group: GroupSchema): GroupSchema {
    if (!(group instanceof GroupSchema) || group.name === "/") {
      throw new SchemaError(`withGroup needs a named GroupSchema; got ${String(group)}`);
    }
    const insert = (node: GroupSchema, segs: readonly string[]): GroupSchema => {
      const [head, ...rest] = segs;
      if (head === undefined) return node.copyWith({ groups: replaceChild(node, group) });
      const child = node.groups.get(head) ?? new GroupSchema(head);
      return node.copyWith({ groups: replaceChild(node, insert(child, rest)) });
    };
    return insert(this, splitPath(parentPath));
  }

  /** Structural equality of two trees (names, dimensions, variables, groups, attrs; order-insensitive). */
  equals(other: GroupSchema): boolean {
    const same = <T>(a: ReadonlyMap<string, T>, b: ReadonlyMap<string, T>, eq: (x: T, y: T) => boolean) =>
      a.size === b.size && [...a].every(([k, x]) => b.has(k) && eq(x, b.get(k) as T));
    return (
      this.name === other.name &&
      same(this.dimensions, other.dimensions, (a, b) => a.equals(b)) &&
      same(this.variables, other.variables, (a, b) => a.equals(b)) &&
      same(this.groups, other.groups, (a, b) => a.equals(b)) &&
      attrsEqual(this.attrs, other.attrs)
    );
  }

  /** JSON of this group per docs/format.md §3.2 (nested-group shape: no `format_version`). */
  toJSON(): GroupSchemaJSON {
    return {
      name: this.name,
      dimensions: [...this.dimensions.values()].map((d) => d.toJSON()),
      variables: [...this.variables.values()].map((v) => v.toJSON()),
      groups: [...this.groups.values()].map((g) => g.toJSON()),
      attrs: structuredClone(this.attrs) as Record<string, AttrValue>,
    };
  }

  /**
   * Reads a nested group object (docs/format.md §3.2). Missing `dimensions`,
   * `variables`, `groups` → empty; `attrs` → `{}`; duplicate names in an
   * array: the last wins.
   *
   * @throws SchemaError for a malformed object, naming the group. A nested
   *   group without a name is refused (Python would name it "/", which cannot
   *   be addressed by path).
   */
  static fromJSON(json: unknown): GroupSchema {
    const parts = parseGroupParts(json, "group");
    const name = (json as { name?: unknown }).name;
    if (typeof name !== "string" || name === "/" || name.length === 0) {
      throw new SchemaError(`nested group without a valid name in schema JSON: ${JSON.stringify(name)}`);
    }
    return new GroupSchema(name, parts);
  }

  /** Short description: `GroupSchema('/data_01': 2 variables, 1 group)`. */
  toString(): string {
    return `GroupSchema('${this.name}': ${this.variables.size} variables, ${this.groups.size} groups)`;
  }
}

function replaceChild(node: GroupSchema, child: GroupSchema): GroupSchema[] {
  const map = new Map(node.groups);
  map.set(child.name, child);
  return [...map.values()];
}

/**
 * Parses the members shared by root and nested group objects (docs/format.md §3.2).
 *
 * @param where names the object in error messages.
 * @throws SchemaError for a non-object or a member that is not an array/object.
 */
export function parseGroupParts(
  json: unknown,
  where: string,
): Required<Pick<GroupSchemaOptions, "dimensions" | "variables" | "groups">> & {
  attrs: Record<string, unknown> | null;
} {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new SchemaError(`${where} must be a JSON object`);
  }
  const j = json as Record<string, unknown>;
  const label = typeof j.name === "string" ? `${where} '${j.name}'` : where;
  const list = (key: string): unknown[] => {
    const v = j[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw new SchemaError(`${label}: '${key}' must be an array`);
    return v;
  };
  const attrs = j.attrs;
  if (attrs !== undefined && attrs !== null && (typeof attrs !== "object" || Array.isArray(attrs))) {
    throw new SchemaError(`${label}: 'attrs' must be an object`);
  }
  return {
    dimensions: list("dimensions").map((d) => Dimension.fromJSON(d)),
    variables: list("variables").map((v) => VariableSchema.fromJSON(v)),
    groups: list("groups").map((g) => GroupSchema.fromJSON(g)),
    attrs: (attrs ?? null) as Record<string, unknown> | null,
  };
}
