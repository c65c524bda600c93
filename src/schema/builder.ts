/**
 * {@link SchemaBuilder} and {@link Schema}: the fluent way to declare a
 * {@link DatasetSchema} (docs/behaviour.md §4.8).
 *
 * @example
 * const schema = Schema()
 *   .withDimension("time", { chunks: 4096 })
 *   .withDimension("x", { size: 240 })
 *   .withVariable("time", { dtype: "datetime64[ns]", dimensions: ["time"] })
 *   .withVariable("power", { dtype: "float32", dimensions: ["time", "x"], fillValue: Number.NaN, group: "/data_01/ku" })
 *   .build();
 *
 * @module
 */

import type { CodecStack } from "../codecs/index.js";
import { assertDType, type DType } from "../dtype.js";
import { SchemaError } from "../errors.js";
import { type AttrValue, cleanAttrs } from "./attrs.js";
import { DatasetSchema } from "./dataset.js";
import { Dimension } from "./dimension.js";
import { GroupSchema } from "./group.js";
import { splitPath } from "./path.js";
import { type VariableRole, VariableSchema } from "./variable.js";

interface Node {
  dimensions: Map<string, Dimension>;
  variables: Map<string, VariableSchema>;
  groups: Map<string, Node>;
  attrs: Record<string, AttrValue>;
}

const emptyNode = (): Node => ({ dimensions: new Map(), variables: new Map(), groups: new Map(), attrs: {} });

function nodeOf(group: GroupSchema): Node {
  return {
    dimensions: new Map(group.dimensions),
    variables: new Map(group.variables),
    groups: new Map([...group.groups].map(([k, g]) => [k, nodeOf(g)])),
    attrs: { ...group.attrs },
  };
}

/** Options of {@link SchemaBuilder.withVariable}. */
export interface WithVariableOptions {
  /** Element type. */
  dtype: DType;
  /** Dimension names (validated at {@link SchemaBuilder.build}). */
  dimensions: readonly string[];
  /** Fill value, cast to the dtype (see `castFillValue`). */
  fillValue?: unknown;
  /** Codec stack; absent → the default for the dtype and the configured profile. */
  codecs?: CodecStack | null;
  /** Attributes. */
  attrs?: Readonly<Record<string, unknown>>;
  /** Role, default USER. */
  role?: VariableRole;
  /** Target group path (`"/a/b"`, `"a/b"`, `"a//b/"`; absent, `""` or `"/"` = root). */
  group?: string | null;
}

/**
 * Mutable builder of a {@link DatasetSchema}. Every `with*` method returns
 * the builder; group paths are created (with intermediates) on first use;
 * re-declaring a dimension or variable on the same group replaces it.
 * Dimension references are validated by {@link build}.
 */
export class SchemaBuilder {
  readonly #root: Node;
  #formatVersion: number | undefined;

  constructor() {
    this.#root = emptyNode();
  }

  /** A builder pre-filled with an existing schema (a DatasetSchema keeps its `formatVersion`). */
  static from(schema: GroupSchema): SchemaBuilder {
    const b = new SchemaBuilder();
    const n = nodeOf(schema);
    b.#root.dimensions = n.dimensions;
    b.#root.variables = n.variables;
    b.#root.groups = n.groups;
    b.#root.attrs = n.attrs;
    if (schema instanceof DatasetSchema) b.#formatVersion = schema.formatVersion;
    return b;
  }

  #node(group: string | null | undefined): Node {
    let node = this.#root;
    for (const seg of splitPath(group)) {
      let next = node.groups.get(seg);
      if (next === undefined) {
        next = emptyNode();
        node.groups.set(seg, next);
      }
      node = next;
    }
    return node;
  }

  /**
   * Declares (or replaces) a dimension on a group.
   *
   * @throws SchemaError at once for a non-positive size/chunks/shards, naming the dimension and field.
   */
  withDimension(
    name: string,
    opts: {
      size?: number | null;
      chunks?: number | null;
      shards?: number | null;
      group?: string | null;
    } = {},
  ): this {
    const dim = new Dimension(name, opts);
    this.#node(opts.group).dimensions.set(name, dim);
    return this;
  }

  /**
   * Declares (or replaces) a variable on a group.
   *
   * @throws SchemaError at once for an unknown dtype, an invalid fill value or
   *   invalid attributes, naming the variable.
   */
  withVariable(name: string, opts: WithVariableOptions): this {
    assertDType(opts.dtype, `variable '${name}'`);
    const v = new VariableSchema(name, {
      dtype: opts.dtype,
      dimensions: opts.dimensions,
      fillValue: opts.fillValue,
      codecs: opts.codecs ?? null,
      attrs: opts.attrs ?? null,
      ...(opts.role === undefined ? {} : { role: opts.role }),
    });
    this.#node(opts.group).variables.set(name, v);
    return this;
  }

  /** Adds (or replaces) a ready-made variable schema on a group. */
  addVariable(variable: VariableSchema, opts: { group?: string | null } = {}): this {
    if (!(variable instanceof VariableSchema))
      throw new SchemaError(`addVariable expects a VariableSchema; got ${String(variable)}`);
    this.#node(opts.group).variables.set(variable.name, variable);
    return this;
  }

  /**
   * Sets one attribute of a group (the root by default).
   *
   * @throws SchemaError when JSON cannot hold the value.
   */
  withAttribute(name: string, value: unknown, opts: { group?: string | null } = {}): this {
    const node = this.#node(opts.group);
    const cleaned = cleanAttrs({ [name]: value }, `group '/${splitPath(opts.group).join("/")}'`);
    if (Object.hasOwn(cleaned, name)) node.attrs[name] = cleaned[name] as AttrValue;
    else delete node.attrs[name];
    return this;
  }

  /** Creates a group path (with intermediates); `attrs` are merged into the group's attributes. */
  withGroup(path: string, opts: { attrs?: Readonly<Record<string, unknown>> } = {}): this {
    const node = this.#node(path);
    if (opts.attrs)
      Object.assign(node.attrs, cleanAttrs(opts.attrs, `group '/${splitPath(path).join("/")}'`));
    return this;
  }

  /** Sets the schema format version written to JSON (default 1; docs/format.md §3.8). */
  withFormatVersion(version: number): this {
    this.#formatVersion = version;
    return this;
  }

  /**
   * Freezes the declarations into a {@link DatasetSchema}; groups declared
   * but left empty are kept.
   *
   * @throws SchemaError when a variable references a dimension not visible from its group (docs/behaviour.md §4.5).
   */
  build(): DatasetSchema {
    const freeze = (name: string, n: Node): GroupSchema =>
      new GroupSchema(name, {
        dimensions: n.dimensions.values(),
        variables: n.variables.values(),
        groups: [...n.groups].map(([k, c]) => freeze(k, c)),
        attrs: n.attrs,
      });
    return new DatasetSchema({
      dimensions: this.#root.dimensions.values(),
      variables: this.#root.variables.values(),
      groups: [...this.#root.groups].map(([k, c]) => freeze(k, c)),
      attrs: this.#root.attrs,
      ...(this.#formatVersion === undefined ? {} : { formatVersion: this.#formatVersion }),
    });
  }
}

/** A new, empty {@link SchemaBuilder} (Python's `Schema()`). */
export function Schema(): SchemaBuilder {
  return new SchemaBuilder();
}
