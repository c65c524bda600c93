/**
 * {@link Dimension}: a named axis of a schema group (docs/behaviour.md §4.1,
 * docs/format.md §3.3).
 *
 * @module
 */

import { SchemaError } from "../errors.js";

/** JSON form of a {@link Dimension} (docs/format.md §3.3; all four keys always written). */
export interface DimensionJSON {
  name: string;
  size: number | null;
  chunks: number | null;
  shards: number | null;
}

/** Options of the {@link Dimension} constructor. */
export interface DimensionOptions {
  /** Fixed length; `null` (default) = unbounded (only the partition axis may be). */
  size?: number | null;
  /** Inner chunk length used when writing arrays; `null` (default) = the array's full extent. */
  chunks?: number | null;
  /** Shard extent along this dimension; `null` (default) = decided by the codec profile (docs/behaviour.md §18 #11). */
  shards?: number | null;
}

function checkField(name: string, field: "size" | "chunks" | "shards", value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = typeof value === "bigint" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n <= 0) {
    const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
    throw new SchemaError(
      `dimension '${name}': Dimension.${field} must be a positive integer or null, got ${shown}`,
      {
        dimension: name,
      },
    );
  }
  return n;
}

/**
 * A named dimension: its fixed `size` (or `null` for unbounded), the inner
 * chunk length `chunks` and the shard extent `shards` (each a positive
 * integer or `null`). Immutable value.
 */
export class Dimension {
  /** Name, unique within its group. */
  readonly name: string;
  /** Fixed length, or `null` for unbounded (the partition axis). */
  readonly size: number | null;
  /** Inner chunk length along this dimension, or `null` for the full extent (docs/format.md §6.3). */
  readonly chunks: number | null;
  /** Shard extent along this dimension, or `null` to let the codec profile decide. */
  readonly shards: number | null;

  /**
   * @throws SchemaError naming the dimension and the field when a name is
   *   empty or a size/chunks/shards value is not a positive integer or null
   *   (Python raises ValueError, docs/behaviour.md §4.1).
   */
  constructor(name: string, opts: DimensionOptions = {}) {
    if (typeof name !== "string" || name.length === 0) {
      throw new SchemaError(`dimension name must be a non-empty string; got ${JSON.stringify(name)}`);
    }
    this.name = name;
    this.size = checkField(name, "size", opts.size);
    this.chunks = checkField(name, "chunks", opts.chunks);
    this.shards = checkField(name, "shards", opts.shards);
    Object.freeze(this);
  }

  /** Whether the dimension has no fixed size. */
  get unbounded(): boolean {
    return this.size === null;
  }

  /** A copy with some fields replaced. */
  with(changes: DimensionOptions & { name?: string }): Dimension {
    return new Dimension(changes.name ?? this.name, {
      size: "size" in changes ? changes.size : this.size,
      chunks: "chunks" in changes ? changes.chunks : this.chunks,
      shards: "shards" in changes ? changes.shards : this.shards,
    });
  }

  /** Whether two dimensions have the same name and fields. */
  equals(other: Dimension): boolean {
    return (
      this.name === other.name &&
      this.size === other.size &&
      this.chunks === other.chunks &&
      this.shards === other.shards
    );
  }

  /** JSON per docs/format.md §3.3. */
  toJSON(): DimensionJSON {
    return { name: this.name, size: this.size, chunks: this.chunks, shards: this.shards };
  }

  /**
   * Reads docs/format.md §3.3 JSON; missing `size`/`chunks`/`shards` are `null`.
   *
   * @throws SchemaError when the object has no name or a field is invalid.
   */
  static fromJSON(json: unknown): Dimension {
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      throw new SchemaError(`dimension must be a JSON object; got ${JSON.stringify(json)}`);
    }
    const j = json as Record<string, unknown>;
    if (typeof j.name !== "string") throw new SchemaError(`dimension without a string name: ${describe(j)}`);
    return new Dimension(j.name, {
      size: j.size as number | null | undefined,
      chunks: j.chunks as number | null | undefined,
      shards: j.shards as number | null | undefined,
    });
  }

  /** `Dimension(name='x', size=3, chunks=3, shards=None)`-like text. */
  toString(): string {
    const f = (v: number | null) => (v === null ? "null" : String(v));
    return `Dimension(${this.name}, size=${f(this.size)}, chunks=${f(this.chunks)}, shards=${f(this.shards)})`;
  }
}

function describe(j: Record<string, unknown>): string {
  try {
    return JSON.stringify(j, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
  } catch {
    return "object";
  }
}
