/**
 * {@link VariableSchema} and {@link VariableRole} (docs/behaviour.md §4.2–4.3,
 * docs/format.md §3.4).
 *
 * @module
 */

import { autoCodecs, CodecStack, type CodecStackJSON } from "../codecs/index.js";
import { get as getConfig } from "../config.js";
import { assertDType, type DType, fromNumpyDtype, toNumpyDtype } from "../dtype.js";
import { SchemaError } from "../errors.js";
import { type Attrs, type AttrValue, attrsEqual, cleanAttrs } from "./attrs.js";
import {
  castFillValue,
  decodeFillValue,
  encodeFillValue,
  type FillValue,
  type FillValueJSON,
  fillValuesEqual,
} from "./fill.js";

/** What a variable is for (docs/behaviour.md §4.2). Pure metadata: no behaviour depends on it. */
export enum VariableRole {
  /** A user variable (default). */
  USER = "user",
  /** A variable filled in by the library. */
  FILLER = "filler",
  /** An auxiliary variable. */
  AUXILIARY = "aux",
}

const ROLES: readonly string[] = [VariableRole.USER, VariableRole.FILLER, VariableRole.AUXILIARY];

/** Parses a role string. @throws SchemaError naming the variable for an unknown role. */
export function parseRole(value: unknown, variable: string): VariableRole {
  if (value === undefined || value === null) return VariableRole.USER;
  if (typeof value === "string" && ROLES.includes(value)) return value as VariableRole;
  throw new SchemaError(
    `variable '${variable}': unknown role ${JSON.stringify(value)}; expected one of ${ROLES.map((r) => `'${r}'`).join(", ")}`,
    { variable },
  );
}

/** JSON form of a {@link VariableSchema} (docs/format.md §3.4, keys in write order). */
export interface VariableSchemaJSON {
  name: string;
  dtype: string;
  dimensions: string[];
  fill_value: FillValueJSON;
  codecs: CodecStackJSON;
  attrs: Record<string, AttrValue>;
  role: string;
  immutable: boolean;
}

/** Options of the {@link VariableSchema} constructor. */
export interface VariableSchemaOptions {
  /** Element type. */
  dtype: DType;
  /** Dimension names, outermost first (empty for a 0-d variable). */
  dimensions: readonly string[];
  /** Fill value, cast to the dtype with {@link castFillValue}; default `null`. */
  fillValue?: unknown;
  /**
   * Codec stack; absent, `null` or without `arrayToBytes` → `autoCodecs(dtype,
   * config "codec.profile")` (docs/behaviour.md §4.3).
   */
  codecs?: CodecStack | null;
  /** Attributes (JSON-cleaned, docs/format.md §3.7). */
  attrs?: Readonly<Record<string, unknown>> | null;
  /** Role, default {@link VariableRole.USER}. */
  role?: VariableRole;
  /** Whether the variable does not span the partition axis (set by `withPartitionAxis`); default false. */
  immutable?: boolean;
}

function checkName(name: unknown, what: string): string {
  if (typeof name !== "string" || name.length === 0 || name.includes("/")) {
    throw new SchemaError(
      `${what} name must be a non-empty string without '/'; got ${JSON.stringify(name)}`,
      {
        variable: typeof name === "string" ? name : undefined,
      },
    );
  }
  return name;
}

/**
 * The declaration of one variable: dtype, dimensions, fill value, codecs,
 * attributes, role and the immutable flag. Immutable value.
 */
export class VariableSchema {
  /** Short name, unique within its group (no `/`). */
  readonly name: string;
  /** Element type. */
  readonly dtype: DType;
  /** Dimension names, outermost first. */
  readonly dimensions: readonly string[];
  /** Fill value typed per dtype (see {@link FillValue}), or `null`. */
  readonly fillValue: FillValue;
  /** Codec stack (always with a serializer). */
  readonly codecs: CodecStack;
  /** Attributes (frozen, JSON-cleaned). */
  readonly attrs: Attrs;
  /** Role (metadata only). */
  readonly role: VariableRole;
  /** Whether the variable does not span the partition axis (stored under `_immutable/`). */
  readonly immutable: boolean;

  /**
   * @throws SchemaError naming the variable for an empty name or a name
   *   containing `/`, an unknown dtype, non-string dimension names, a fill
   *   value that cannot be cast to the dtype, an unknown role or attributes
   *   JSON cannot hold.
   */
  constructor(name: string, opts: VariableSchemaOptions) {
    this.name = checkName(name, "variable");
    this.dtype = assertDType(opts.dtype, `variable '${name}'`);
    const dims = opts.dimensions as unknown;
    if (
      typeof dims === "string" ||
      !Array.isArray(dims) ||
      dims.some((d) => typeof d !== "string" || d.length === 0)
    ) {
      throw new SchemaError(
        `variable '${name}': dimensions must be an array of non-empty names; got ${JSON.stringify(dims)}`,
        {
          variable: name,
        },
      );
    }
    this.dimensions = Object.freeze([...(dims as string[])]);
    this.fillValue = castFillValue(this.dtype, opts.fillValue, name);
    const codecs = opts.codecs;
    this.codecs =
      codecs instanceof CodecStack && codecs.arrayToBytes !== null
        ? codecs
        : autoCodecs(this.dtype, getConfig("codec.profile"));
    this.attrs = cleanAttrs(opts.attrs, `variable '${name}'`);
    this.role = parseRole(opts.role, name);
    this.immutable = opts.immutable === true;
    Object.freeze(this);
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.dimensions.length;
  }

  /** A copy with `immutable` replaced (docs/behaviour.md §4.3). */
  withImmutable(immutable: boolean): VariableSchema {
    return immutable === this.immutable ? this : this.with({ immutable });
  }

  /** A copy with some fields replaced (the fill value is re-cast when the dtype changes). */
  with(changes: Partial<VariableSchemaOptions> & { name?: string }): VariableSchema {
    return new VariableSchema(changes.name ?? this.name, {
      dtype: changes.dtype ?? this.dtype,
      dimensions: changes.dimensions ?? this.dimensions,
      fillValue: "fillValue" in changes ? changes.fillValue : this.fillValue,
      codecs: changes.codecs ?? this.codecs,
      attrs: changes.attrs ?? this.attrs,
      role: changes.role ?? this.role,
      immutable: changes.immutable ?? this.immutable,
    });
  }

  /** Structural equality (fill NaN equals NaN; codecs compared by JSON). */
  equals(other: VariableSchema): boolean {
    return (
      this.name === other.name &&
      this.dtype === other.dtype &&
      this.dimensions.length === other.dimensions.length &&
      this.dimensions.every((d, i) => d === other.dimensions[i]) &&
      fillValuesEqual(this.fillValue, other.fillValue) &&
      this.codecs.equals(other.codecs) &&
      attrsEqual(this.attrs, other.attrs) &&
      this.role === other.role &&
      this.immutable === other.immutable
    );
  }

  /** JSON per docs/format.md §3.4 (fill value encoded with {@link encodeFillValue}). */
  toJSON(): VariableSchemaJSON {
    return {
      name: this.name,
      dtype: toNumpyDtype(this.dtype),
      dimensions: [...this.dimensions],
      fill_value: encodeFillValue(this.dtype, this.fillValue),
      codecs: this.codecs.toJSON(),
      attrs: structuredClone(this.attrs) as Record<string, AttrValue>,
      role: this.role,
      immutable: this.immutable,
    };
  }

  /**
   * Reads docs/format.md §3.4 JSON. `fill_value` missing → null, `codecs` missing or
   * without `array_to_bytes` → the default profile's stack for the dtype
   * (whatever `codec.profile` is configured to), `attrs` → `{}`, `role` →
   * `"user"`, `immutable` → false.
   *
   * @throws SchemaError naming the variable for a missing name, dtype or
   *   dimensions, an unsupported dtype string, an undecodable fill value
   *   ("could not decode fill_value …") or an unknown role.
   */
  static fromJSON(json: unknown): VariableSchema {
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      throw new SchemaError(`variable must be a JSON object; got ${JSON.stringify(json)}`);
    }
    const j = json as Record<string, unknown>;
    const name = j.name;
    if (typeof name !== "string") throw new SchemaError("variable without a string name in schema JSON");
    if (typeof j.dtype !== "string") {
      throw new SchemaError(`variable '${name}': missing or invalid dtype ${JSON.stringify(j.dtype)}`, {
        variable: name,
      });
    }
    let dtype: DType;
    try {
      dtype = fromNumpyDtype(j.dtype);
    } catch (cause) {
      throw new SchemaError(`variable '${name}': unsupported dtype '${j.dtype}'`, { variable: name, cause });
    }
    if (!Array.isArray(j.dimensions)) {
      throw new SchemaError(`variable '${name}': missing or invalid dimensions`, { variable: name });
    }
    // Readers substitute the default profile (not the configured one) for a missing serializer (docs/format.md §3.4).
    let codecs: CodecStack = autoCodecs(dtype);
    if (j.codecs !== undefined && j.codecs !== null) {
      try {
        const parsed = CodecStack.fromJSON(j.codecs);
        // A stack without a serializer is replaced by the default for this dtype.
        const raw = j.codecs as { array_to_bytes?: unknown };
        codecs = raw.array_to_bytes === null || raw.array_to_bytes === undefined ? autoCodecs(dtype) : parsed;
      } catch (cause) {
        throw new SchemaError(`variable '${name}': invalid codecs`, { variable: name, cause });
      }
    }
    return new VariableSchema(name, {
      dtype,
      dimensions: j.dimensions as string[],
      fillValue: decodeFillValue(dtype, j.fill_value, name),
      codecs,
      attrs: (j.attrs ?? null) as Record<string, unknown> | null,
      role: parseRole(j.role, name),
      immutable: j.immutable === true,
    });
  }

  /** Short description: `VariableSchema(power: float32 [time, x])`. */
  toString(): string {
    return `VariableSchema(${this.name}: ${this.dtype} [${this.dimensions.join(", ")}])`;
  }
}
