/**
 * Attribute values (docs/format.md §3.7): schema-level attributes are JSON-cleaned
 * when a schema object is built — typed arrays and {@link NDArray}s become
 * (nested) lists, `Map`s become objects with string keys, integers beyond
 * ±2^53 stay exact as `bigint`, and NaN/±Infinity stay numbers (the JSON
 * writer prints them as bare tokens like Python).
 *
 * @module
 */

import { SchemaError } from "../errors.js";
import type { JsonValue } from "../json.js";
import { NDArray } from "../ndarray.js";

/** One attribute value: a JSON value whose big integers are `bigint`. */
export type AttrValue = JsonValue;

/** A read-only attribute mapping. */
export type Attrs = Readonly<Record<string, AttrValue>>;

function cleanValue(value: unknown, where: string, name: string): AttrValue | undefined {
  if (value === null) return null;
  switch (typeof value) {
    case "undefined":
      return undefined;
    case "boolean":
    case "string":
    case "number":
      return value;
    case "bigint":
      return Number.isSafeInteger(Number(value)) ? Number(value) : value;
    case "object":
      break;
    default:
      throw new SchemaError(
        `attribute '${name}' of ${where}: ${typeof value} values cannot be stored in JSON`,
      );
  }
  if (value instanceof NDArray) return nest(value.toArray(), value.shape, where, name);
  if (Array.isArray(value)) return value.map((x) => cleanValue(x, where, name) ?? null);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return Array.from(
      value as unknown as ArrayLike<number | bigint>,
      (x) => cleanValue(x, where, name) ?? null,
    );
  }
  if (value instanceof Map) {
    const out: Record<string, AttrValue> = {};
    for (const [k, v] of value) {
      const c = cleanValue(v, where, `${name}.${String(k)}`);
      if (c !== undefined) out[String(k)] = c;
    }
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    const kind = (value as { constructor?: { name?: string } }).constructor?.name ?? "object";
    throw new SchemaError(`attribute '${name}' of ${where}: a ${kind} cannot be stored in JSON`);
  }
  const out: Record<string, AttrValue> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const c = cleanValue(v, where, `${name}.${k}`);
    if (c !== undefined) out[k] = c;
  }
  return out;
}

function nest(flat: readonly unknown[], shape: readonly number[], where: string, name: string): AttrValue {
  if (shape.length === 0) return cleanValue(flat[0], where, name) ?? null;
  if (shape.length === 1) return flat.map((x) => cleanValue(x, where, name) ?? null);
  const step = flat.length / (shape[0] as number);
  const out: AttrValue[] = [];
  for (let i = 0; i < (shape[0] as number); i++) {
    out.push(nest(flat.slice(i * step, (i + 1) * step), shape.slice(1), where, name));
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * A frozen, JSON-cleaned deep copy of an attribute mapping (docs/format.md §3.7).
 * Members whose value is `undefined` are dropped.
 *
 * @param where names the owner in error messages (`variable 'v'`, `group '/a'`).
 * @throws SchemaError naming the attribute and its owner for values JSON
 *   cannot hold (functions, symbols, `Date` and other class instances).
 */
export function cleanAttrs(attrs: unknown, where: string): Attrs {
  if (attrs === null || attrs === undefined) return Object.freeze({});
  if (typeof attrs !== "object" || Array.isArray(attrs)) {
    throw new SchemaError(
      `attributes of ${where} must be an object; got ${Array.isArray(attrs) ? "an array" : typeof attrs}`,
    );
  }
  const out: Record<string, AttrValue> = {};
  const entries =
    attrs instanceof Map ? [...attrs.entries()] : Object.entries(attrs as Record<string, unknown>);
  for (const [k, v] of entries) {
    const c = cleanValue(v, where, String(k));
    if (c !== undefined) out[String(k)] = c;
  }
  return deepFreeze(out);
}

/** A mutable deep copy of attributes (for the data model, whose `attrs` are live). */
export function copyAttrs(attrs: Attrs): Record<string, AttrValue> {
  return structuredClone(attrs) as Record<string, AttrValue>;
}

/** Structural equality of two attribute values (NaN equals NaN; bigint equals the same number). */
export function attrsEqual(a: unknown, b: unknown): boolean {
  if (typeof a === "number" && typeof b === "number") return a === b || (Number.isNaN(a) && Number.isNaN(b));
  if ((typeof a === "bigint" || typeof a === "number") && (typeof b === "bigint" || typeof b === "number")) {
    return Number.isInteger(Number(a)) && Number.isInteger(Number(b)) && BigInt(a) === BigInt(b);
  }
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every(
    (k) =>
      Object.hasOwn(b, k) && attrsEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}
