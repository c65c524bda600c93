/**
 * {@link DatasetSchema}: the root of a schema tree, validated on
 * construction (docs/behaviour.md §4.5–4.7, docs/format.md §3.2, §3.8).
 *
 * @module
 */

import { FormatVersionError, SchemaError } from "../errors.js";
import type { Dimension } from "./dimension.js";
import {
  GroupSchema,
  type GroupSchemaJSON,
  type GroupSchemaOptions,
  type GroupSchemaParts,
  parseGroupParts,
} from "./group.js";
import { splitPath } from "./path.js";
import type { VariableRole, VariableSchema } from "./variable.js";

/** The schema format version this library writes and reads (docs/format.md §3.8). */
export const FORMAT_VERSION = 1;

/** JSON form of the root schema object (docs/format.md §3.2, keys in write order). */
export interface DatasetSchemaJSON extends GroupSchemaJSON {
  format_version: number;
}

/** Options of the {@link DatasetSchema} constructor. */
export interface DatasetSchemaOptions extends GroupSchemaOptions {
  /** Schema format version (default {@link FORMAT_VERSION}); kept as read. */
  formatVersion?: number;
}

/** Filter of {@link DatasetSchema.variablesByRole}. */
export interface RoleFilter {
  /** Keep only variables whose `immutable` flag equals this. */
  immutable?: boolean;
  /** Keep only variables of this role. */
  role?: VariableRole;
}

function pyList(names: readonly string[]): string {
  return `[${names.map((n) => `'${n}'`).join(", ")}]`;
}

/**
 * The root group of a schema (name forced to `"/"`) plus its
 * `formatVersion`. Construction validates the whole tree: every variable's
 * dimensions must be declared on its group or an ancestor (a child's
 * declaration shadows the ancestor's). Immutable value.
 */
export class DatasetSchema extends GroupSchema {
  /** Schema format version (docs/format.md §3.8). */
  readonly formatVersion: number;

  /**
   * @throws SchemaError "variable 'v' in group 'g' references unknown
   *   dimension 'd'; visible: [...]" (docs/behaviour.md §4.5), with `variable`,
   *   `group` and `dimension` fields set; or for any invalid part.
   */
  constructor(opts: DatasetSchemaOptions = {}) {
    super("/", opts);
    this.formatVersion = opts.formatVersion ?? FORMAT_VERSION;
    for (const e of this.variableEntries()) {
      for (const d of e.variable.dimensions) {
        if (!e.visible.has(d)) {
          const group = e.groupPath;
          throw new SchemaError(
            `variable '${e.variable.name}' in group '${group}' references unknown dimension '${d}'; visible: ${pyList([...e.visible.keys()].sort())}`,
            { variable: e.path, group, dimension: d },
          );
        }
      }
    }
    Object.freeze(this);
  }

  /** A copy with some parts replaced, keeping `formatVersion` (validated again). */
  override copyWith(parts: GroupSchemaParts): DatasetSchema {
    return new DatasetSchema({
      dimensions: parts.dimensions ?? this.dimensions.values(),
      variables: parts.variables ?? this.variables.values(),
      groups: parts.groups ?? this.groups.values(),
      attrs: parts.attrs ?? this.attrs,
      formatVersion: this.formatVersion,
    });
  }

  /** See {@link GroupSchema.withGroup}; returns a validated DatasetSchema. */
  override withGroup(parentPath: string, group: GroupSchema): DatasetSchema {
    return super.withGroup(parentPath, group) as DatasetSchema;
  }

  /** Root dimension name → size (`null` = unbounded). */
  get dimSizes(): Record<string, number | null> {
    const out: Record<string, number | null> = {};
    for (const [k, d] of this.dimensions) out[k] = d.size;
    return out;
  }

  /**
   * Chunk hints used by every array write (docs/behaviour.md §4.5): root dimensions
   * → chunks, then every descendant group's dimensions (depth-first
   * pre-order) added only when the name is not yet present.
   */
  get dimChunks(): Record<string, number | null> {
    const out: Record<string, number | null> = {};
    for (const [, g] of this.walk()) {
      for (const [k, d] of g.dimensions) if (!Object.hasOwn(out, k)) out[k] = d.chunks;
    }
    return out;
  }

  /** Root variables, optionally filtered on the immutable flag and the role, in declaration order. */
  variablesByRole(filter: RoleFilter = {}): Map<string, VariableSchema> {
    return filterVariables(this.variables, filter);
  }

  /** Like {@link variablesByRole} over {@link allVariables} (paths as keys). */
  allVariablesByRole(filter: RoleFilter = {}): Map<string, VariableSchema> {
    return filterVariables(this.allVariables(), filter);
  }

  /**
   * A schema restricted to the named variables (docs/behaviour.md §4.7). A name is
   * a path of {@link allVariables} (`"v"`, `"grp/var"`, or with leading
   * slashes `"/grp/var"`); a short name never matches a nested variable. The
   * result keeps all root dimensions and attrs; nested groups left with no
   * variables and no non-empty subgroups are pruned; kept groups keep their
   * dimensions and attrs.
   *
   * @throws SchemaError "unknown variable 'n'"; also when `names` is a single
   *   string rather than an iterable of names (docs/behaviour.md §18 #10).
   */
  select(names: Iterable<string>): DatasetSchema {
    if (typeof names === "string") {
      throw new SchemaError(`select expects an array of variable names, not the string '${names}'`);
    }
    const all = this.allVariables();
    const wanted = new Set<string>();
    for (const n of names) {
      const key = typeof n === "string" ? n.replace(/^\/+/, "") : undefined;
      if (key === undefined || !all.has(key))
        throw new SchemaError(`unknown variable '${String(n)}'`, { variable: String(n) });
      wanted.add(key);
    }
    const prune = (g: GroupSchema, segs: string[]): GroupSchema | null => {
      const prefix = segs.length === 0 ? "" : `${segs.join("/")}/`;
      const vars = [...g.variables.values()].filter((v) => wanted.has(prefix + v.name));
      const kids: GroupSchema[] = [];
      for (const c of g.groups.values()) {
        const k = prune(c, [...segs, c.name]);
        if (k !== null) kids.push(k);
      }
      if (segs.length > 0 && vars.length === 0 && kids.length === 0) return null;
      return g.copyWith({ variables: vars, groups: kids });
    };
    const kids: GroupSchema[] = [];
    for (const c of this.groups.values()) {
      const k = prune(c, [c.name]);
      if (k !== null) kids.push(k);
    }
    const vars = [...this.variables.values()].filter((v) => wanted.has(v.name));
    return this.copyWith({ variables: vars, groups: kids });
  }

  /**
   * The schema bound to a partition axis (docs/behaviour.md §4.6): `axis` must be a
   * root dimension; every other dimension a variable spans (in any group,
   * with inherited visibility) must have a fixed size; every variable's
   * `immutable` flag becomes "does not span `axis`" (0-d variables are
   * immutable).
   *
   * @throws SchemaError "partitioning axis 'x' is not a root dimension", or
   *   naming the variable, its group and the unbounded dimension.
   */
  withPartitionAxis(axis: string): DatasetSchema {
    if (!this.dimensions.has(axis)) {
      throw new SchemaError(`partitioning axis '${axis}' is not a root dimension`, { dimension: axis });
    }
    for (const e of this.variableEntries()) {
      for (const d of e.variable.dimensions) {
        if (d === axis) continue;
        const dim = e.visible.get(d) as Dimension;
        if (dim.size === null) {
          throw new SchemaError(
            `variable '${e.variable.name}' in group '${e.groupPath}' spans the unbounded dimension '${d}', ` +
              `which is not the partitioning axis '${axis}'; give '${d}' a size, or store each unbounded series in its own collection`,
            { variable: e.path, group: e.groupPath, dimension: d },
          );
        }
      }
    }
    const rebind = (g: GroupSchema): GroupSchema =>
      g.copyWith({
        variables: [...g.variables.values()].map((v) => v.withImmutable(!v.dimensions.includes(axis))),
        groups: [...g.groups.values()].map(rebind),
      });
    return rebind(this) as DatasetSchema;
  }

  /** Structural equality, including `formatVersion`. */
  override equals(other: GroupSchema): boolean {
    return (
      other instanceof DatasetSchema && other.formatVersion === this.formatVersion && super.equals(other)
    );
  }

  /** The `_zcollection.json` schema object (docs/format.md §3.2); serialise with `stringifyJson(x, { indent: 2 })`. */
  override toJSON(): DatasetSchemaJSON {
    return { ...super.toJSON(), name: "/", format_version: this.formatVersion };
  }

  /**
   * Reads the `_zcollection.json` schema object (docs/format.md §3.2) after the
   * version check of docs/format.md §3.8 (missing `format_version` = 1). The root
   * name is forced to `"/"`; immutable flags are kept as stored.
   *
   * @throws FormatVersionError for a version newer than {@link FORMAT_VERSION}
   *   or older (no upgraders exist); SchemaError for a malformed object or a
   *   tree that fails validation.
   */
  static override fromJSON(json: unknown): DatasetSchema {
    const parts = parseSchemaHeader(json);
    return new DatasetSchema({ ...parseGroupParts(json, "schema"), formatVersion: parts });
  }

  /** Short description: `DatasetSchema(3 variables, 1 group, format 1)`. */
  override toString(): string {
    const groups = [...this.iterGroups()].length;
    return `DatasetSchema(${this.allVariables().size} variables, ${groups} groups, format ${this.formatVersion})`;
  }
}

function parseSchemaHeader(json: unknown): number {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new SchemaError("schema must be a JSON object");
  }
  const raw = (json as { format_version?: unknown }).format_version;
  if (raw === undefined || raw === null) return FORMAT_VERSION;
  const v = typeof raw === "bigint" ? Number(raw) : raw;
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new SchemaError(`schema format_version must be an integer; got ${JSON.stringify(String(raw))}`);
  }
  if (v > FORMAT_VERSION) {
    throw new FormatVersionError(
      `on-disk format version ${v} is newer than supported ${FORMAT_VERSION}; please upgrade zcollection`,
      v,
    );
  }
  if (v < FORMAT_VERSION) {
    throw new FormatVersionError(`no upgrader registered from version ${v} to ${v + 1}`, v);
  }
  return v;
}

function filterVariables(
  vars: ReadonlyMap<string, VariableSchema>,
  filter: RoleFilter,
): Map<string, VariableSchema> {
  const out = new Map<string, VariableSchema>();
  for (const [k, v] of vars) {
    if (filter.immutable !== undefined && v.immutable !== filter.immutable) continue;
    if (filter.role !== undefined && v.role !== filter.role) continue;
    out.set(k, v);
  }
  return out;
}

/** Group paths (absolute, `"/a/b"`) of a schema, root first, depth-first pre-order. */
export function groupPaths(schema: GroupSchema): string[] {
  return [...schema.walk()].map(([p]) => p);
}

/** Whether `path` (any spelling: `"a/b"`, `"/a//b/"`) names the root. */
export function isRootPath(path: string | null | undefined): boolean {
  return splitPath(path).length === 0;
}
