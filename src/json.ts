/**
 * JSON as Python writes it (docs/format.md §2): bare `NaN`, `Infinity`, `-Infinity`
 * tokens and integers beyond ±2^53 kept exact.
 *
 * Plain `JSON.parse` throws on the tokens and rounds big integers;
 * `JSON.stringify` writes `null` for NaN and cannot write bigints. This small
 * module does both directions:
 *
 * - {@link parseJson}: integer literals outside the safe range become
 *   `bigint`; everything else is as `JSON.parse` gives.
 * - {@link stringifyJson}: `bigint` is written digit-exact, non-finite
 *   numbers as the bare tokens; indentation of 2 (Python `indent=2`) or
 *   compact (`separators=(",", ":")`).
 *
 * @module
 */

import { SchemaError } from "./errors.js";

/** A parsed JSON value (with exact big integers). */
export type JsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/** Error of {@link parseJson}: a {@link SchemaError} naming the source and the offset. */
export class JsonSyntaxError extends SchemaError {}

/**
 * Parses JSON text, accepting the Python tokens `NaN`, `Infinity` and
 * `-Infinity`, and keeping integers outside ±(2^53 − 1) exact as `bigint`.
 *
 * @param source names the document in error messages (e.g. a store key).
 * @throws JsonSyntaxError naming `source` and the character offset.
 */
export function parseJson(text: string, source = "JSON document"): JsonValue {
  let i = 0;
  const n = text.length;
  const fail = (what: string): never => {
    throw new JsonSyntaxError(`invalid JSON in ${source} at offset ${i}: ${what}`);
  };
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const literal = (word: string, value: JsonValue): JsonValue => {
    if (text.startsWith(word, i)) {
      i += word.length;
      return value;
    }
    return fail(`unexpected token ${JSON.stringify(text.slice(i, i + 10))}`);
  };
  const parseString = (): string => {
    // Fast path: find the closing quote, fall back to JSON.parse for escapes.
    const start = i;
    i++;
    let escaped = false;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x5c) {
        escaped = true;
        i += 2;
        continue;
      }
      if (c === 0x22) break;
      if (c < 0x20) fail("control character in string");
      i++;
    }
    if (i >= n) fail("unterminated string");
    i++;
    const raw = text.slice(start, i);
    if (!escaped) return raw.slice(1, -1);
    try {
      return JSON.parse(raw) as string;
    } catch {
      return fail("invalid string escape");
    }
  };
  const parseNumber = (): number | bigint => {
    const m = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    m.lastIndex = i;
    const r = m.exec(text);
    if (r === null) return fail("invalid number");
    i += r[0].length;
    if (r[1] === undefined && r[2] === undefined) {
      const v = Number(r[0]);
      return Number.isSafeInteger(v) ? v : BigInt(r[0]);
    }
    return Number(r[0]);
  };
  const value = (depth: number): JsonValue => {
    if (depth > 512) fail("nesting too deep");
    ws();
    const c = text[i];
    switch (c) {
      case "{": {
        i++;
        const obj: { [key: string]: JsonValue } = {};
        ws();
        if (text[i] === "}") {
          i++;
          return obj;
        }
        for (;;) {
          ws();
          if (text[i] !== '"') fail("expected a string key");
          const key = parseString();
          ws();
          if (text[i] !== ":") fail("expected ':'");
          i++;
          const v = value(depth + 1);
          Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
          ws();
          if (text[i] === ",") {
            i++;
            continue;
          }
          if (text[i] === "}") {
            i++;
            return obj;
          }
          fail("expected ',' or '}'");
        }
      }
      case "[": {
        i++;
        const arr: JsonValue[] = [];
        ws();
        if (text[i] === "]") {
          i++;
          return arr;
        }
        for (;;) {
          arr.push(value(depth + 1));
          ws();
          if (text[i] === ",") {
            i++;
            continue;
          }
          if (text[i] === "]") {
            i++;
            return arr;
          }
          fail("expected ',' or ']'");
        }
      }
      case '"':
        return parseString();
      case "t":
        return literal("true", true);
      case "f":
        return literal("false", false);
      case "n":
        return literal("null", null);
      case "N":
        return literal("NaN", Number.NaN);
      case "I":
        return literal("Infinity", Number.POSITIVE_INFINITY);
      case "-":
        if (text.startsWith("-Infinity", i)) return literal("-Infinity", Number.NEGATIVE_INFINITY);
        return parseNumber();
      default:
        if (c !== undefined && c >= "0" && c <= "9") return parseNumber();
        return fail(
          c === undefined ? "unexpected end of input" : `unexpected character ${JSON.stringify(c)}`,
        );
    }
  };
  const result = value(0);
  ws();
  if (i < n) fail("trailing characters");
  return result;
}

/** Options of {@link stringifyJson}. */
export interface StringifyOptions {
  /** Spaces of indentation (Python `indent=2`); `0` or absent = compact `,`/`:` separators. */
  indent?: number;
  /**
   * Escape non-ASCII characters as `\uXXXX` like Python's `ensure_ascii`
   * (default true).
   */
  ensureAscii?: boolean;
}

/** Any value {@link stringifyJson} accepts (JSON values plus `undefined` members, which are skipped). */
export type JsonInput =
  | JsonValue
  | undefined
  | readonly JsonInput[]
  | { readonly [key: string]: JsonInput }
  | { toJSON(): unknown };

/**
 * Serialises like Python's `json.dumps`: bigints digit-exact, non-finite
 * numbers as bare `NaN`/`Infinity`/`-Infinity`, objects in insertion order,
 * `indent` spaces (Python puts `", "`/`": "` only when indenting).
 */
export function stringifyJson(value: unknown, opts: StringifyOptions = {}): string {
  const indent = opts.indent ?? 0;
  const ascii = opts.ensureAscii ?? true;
  const str = (s: string): string => {
    const q = JSON.stringify(s);
    return ascii
      ? q.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
      : q;
  };
  const out = (v: unknown, level: number): string | undefined => {
    if (v === null) return "null";
    switch (typeof v) {
      case "undefined":
      case "function":
      case "symbol":
        return undefined;
      case "boolean":
        return v ? "true" : "false";
      case "bigint":
        return v.toString();
      case "number":
        if (Number.isNaN(v)) return "NaN";
        if (v === Number.POSITIVE_INFINITY) return "Infinity";
        if (v === Number.NEGATIVE_INFINITY) return "-Infinity";
        return JSON.stringify(v);
      case "string":
        return str(v);
    }
    const obj = v as { toJSON?: () => unknown };
    if (typeof obj.toJSON === "function" && !Array.isArray(v)) return out(obj.toJSON(), level);
    const pad = indent > 0 ? `\n${" ".repeat(indent * (level + 1))}` : "";
    const end = indent > 0 ? `\n${" ".repeat(indent * level)}` : "";
    const sep = indent > 0 ? "," : ",";
    if (Array.isArray(v) || ArrayBuffer.isView(v)) {
      const items = Array.from(v as ArrayLike<unknown>, (x) => out(x, level + 1) ?? "null");
      if (items.length === 0) return "[]";
      return `[${pad}${items.join(sep + pad)}${end}]`;
    }
    const parts: string[] = [];
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const s = out(x, level + 1);
      if (s !== undefined) parts.push(`${str(k)}${indent > 0 ? ": " : ":"}${s}`);
    }
    if (parts.length === 0) return "{}";
    return `{${pad}${parts.join(sep + pad)}${end}}`;
  };
  return out(value, 0) ?? "null";
}

/** UTF-8 encodes {@link stringifyJson} output. */
export function encodeJson(value: unknown, opts?: StringifyOptions): Uint8Array {
  return new TextEncoder().encode(stringifyJson(value, opts));
}

/**
 * Decodes UTF-8 bytes and parses them with {@link parseJson}.
 *
 * @throws JsonSyntaxError naming `source` for invalid UTF-8 or invalid JSON.
 */
export function decodeJson(bytes: Uint8Array, source = "JSON document"): JsonValue {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new JsonSyntaxError(`invalid UTF-8 in ${source}`, { cause });
  }
  return parseJson(text, source);
}
