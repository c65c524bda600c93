/**
 * {@link Variable}: a {@link VariableSchema} with its data (docs/behaviour.md §5.1).
 *
 * @module
 */

import { type DType, itemSize } from "../dtype.js";
import { SchemaError } from "../errors.js";
import { type ArrayInput, NDArray, shapeSize } from "../ndarray.js";
import { type AttrValue, copyAttrs } from "../schema/attrs.js";
import type { FillValue } from "../schema/fill.js";
import { VariableSchema } from "../schema/variable.js";
import { isLazyArray, type LazyArray } from "./lazy.js";
import { attributeLines, cutLine, formatBytes, formatDimensions, MAX_LINE, previewValues } from "./repr.js";

/** Data a {@link Variable} holds: loaded, lazy, or none. */
export type VariableData = NDArray | LazyArray | null;

/** Input accepted by the {@link Variable} constructor. */
export type VariableInput =
  | NDArray
  | LazyArray
  | ArrayInput
  | readonly (number | bigint | string | boolean)[]
  | null;

const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/**
 * A variable: its schema and its data (an {@link NDArray}, a
 * {@link LazyArray} or `null`). Immutable: operations return new variables.
 *
 * The dtype of an NDArray or lazy array is **not** checked against the
 * schema (as in Python); `Dataset.fromArrays` casts, and writers cast to the
 * schema dtype before writing (docs/behaviour.md §18 #3).
 */
export class Variable {
  /** The declaration. */
  readonly schema: VariableSchema;
  /** The values: loaded, lazy, or `null`. */
  readonly data: VariableData;

  /**
   * @param data an NDArray or LazyArray (kept as is), a typed array or plain
   *   array (converted with `NDArray.from` to the schema dtype, as a 1-D
   *   array), or `null`.
   * @throws SchemaError "variable 'v': data has N dims, schema declares M"
   *   when the rank of the data differs from the schema's.
   */
  constructor(schema: VariableSchema, data: VariableInput) {
    if (!(schema instanceof VariableSchema))
      throw new SchemaError(`Variable needs a VariableSchema; got ${String(schema)}`);
    this.schema = schema;
    let d: VariableData;
    if (data === null || data === undefined) d = null;
    else if (data instanceof NDArray || isLazyArray(data)) d = data;
    else if (ArrayBuffer.isView(data) || typeof (data as ArrayLike<unknown>).length === "number") {
      d = NDArray.from(data as ArrayInput, { dtype: schema.dtype });
    } else {
      throw new SchemaError(
        `variable '${schema.name}': unsupported data ${Object.prototype.toString.call(data)}`,
        {
          variable: schema.name,
        },
      );
    }
    if (d !== null && d.shape.length !== schema.ndim) {
      throw new SchemaError(
        `variable '${schema.name}': data has ${d.shape.length} dims, schema declares ${schema.ndim}`,
        {
          variable: schema.name,
        },
      );
    }
    this.data = d;
    Object.freeze(this);
  }

  /** Short name (from the schema). */
  get name(): string {
    return this.schema.name;
  }

  /** Dimension names (from the schema). */
  get dimensions(): readonly string[] {
    return this.schema.dimensions;
  }

  /** Declared dtype (from the schema). */
  get dtype(): DType {
    return this.schema.dtype;
  }

  /** Fill value (from the schema). */
  get fillValue(): FillValue {
    return this.schema.fillValue;
  }

  /** A fresh mutable copy of the schema attributes. */
  get attrs(): Record<string, AttrValue> {
    return copyAttrs(this.schema.attrs);
  }

  /** Whether the data is not a loaded NDArray (`null` counts as lazy, like Python). */
  get isLazy(): boolean {
    return !(this.data instanceof NDArray);
  }

  /** Shape of the data (`[]` without data). */
  get shape(): number[] {
    return this.data === null ? [] : [...this.data.shape];
  }

  /** Number of dimensions (from the schema). */
  get ndim(): number {
    return this.schema.ndim;
  }

  /** Length along dimension `name`, or `undefined` when the variable does not span it or has no data. */
  lengthOf(name: string): number | undefined {
    const i = this.schema.dimensions.indexOf(name);
    return i < 0 || this.data === null ? undefined : this.data.shape[i];
  }

  /** Size in bytes: element count × the schema dtype's item size; 0 without data. */
  get nbytes(): number {
    return this.data === null ? 0 : shapeSize(this.data.shape) * itemSize(this.schema.dtype);
  }

  /**
   * The loaded data.
   *
   * @throws SchemaError naming the variable when the data is lazy or absent
   *   (use {@link toArray} or {@link load} first).
   */
  get array(): NDArray {
    if (this.data instanceof NDArray) return this.data;
    throw new SchemaError(
      `variable '${this.name}' ${this.data === null ? "has no data" : "is lazy; load it first (await variable.toArray())"}`,
      { variable: this.name },
    );
  }

  /**
   * The values as an NDArray, reading lazy data.
   *
   * @throws SchemaError naming the variable when it has no data.
   */
  async toArray(opts?: { signal?: AbortSignal }): Promise<NDArray> {
    if (this.data instanceof NDArray) return this.data;
    if (this.data === null)
      throw new SchemaError(`variable '${this.name}' has no data`, { variable: this.name });
    return this.data.load(opts);
  }

  /** This variable with its data loaded (itself when already loaded or without data). */
  async load(opts?: { signal?: AbortSignal }): Promise<Variable> {
    if (this.data === null || this.data instanceof NDArray) return this;
    return new Variable(this.schema, await this.data.load(opts));
  }

  /** A variable with the same schema and other data. */
  withData(data: VariableInput): Variable {
    return new Variable(this.schema, data);
  }

  /** A variable with the same data and another schema (same rank). */
  withSchema(schema: VariableSchema): Variable {
    return new Variable(schema, this.data);
  }

  /**
   * The values line of a repr, at most `width` characters: the first and
   * last values (`0.1 0.2 0.3 … nan nan 7`, fill values as `nan`/`NaT`),
   * `<not loaded>` for lazy data or `<no data>`.
   */
  preview(width = MAX_LINE): string {
    if (this.data === null) return "<no data>";
    if (!(this.data instanceof NDArray)) return "<not loaded>";
    return previewValues(this.data, { attrs: this.schema.attrs, fillValue: this.schema.fillValue }, width);
  }

  /**
   * Multi-line repr: `<Variable name (time: 5, x: 4) float32> Size: 80 B`
   * (dimension names alone without data), a preview of the values, and the
   * attributes.
   */
  toString(): string {
    const dims =
      this.data === null
        ? `(${this.schema.dimensions.join(", ")})`
        : formatDimensions(this.schema.dimensions.map((d, i) => [d, this.data?.shape[i] as number] as const));
    const lines = [
      cutLine(`<Variable ${this.name} ${dims} ${this.dtype}> Size: ${formatBytes(this.nbytes)}`),
      `  ${this.preview(MAX_LINE - 2)}`,
    ];
    if (Object.keys(this.schema.attrs).length > 0) {
      lines.push("Attributes:", ...attributeLines(this.schema.attrs));
    }
    return lines.join("\n");
  }

  /** Node's `util.inspect` / `console.log` show {@link toString}. */
  [INSPECT](): string {
    return this.toString();
  }
}
