/**
 * Textual representation of the data model (BEHAVIOUR §5.4): byte sizes,
 * dimension lists, Python-style `repr` of attribute values and the table
 * layout shared by {@link Dataset}, {@link Group} and {@link Variable}.
 *
 * @module
 */

import type { DType } from "../dtype.js";

const MAX_LINE = 120;

/**
 * A byte count as Python zcollection prints it: `"<n> B"` below 1024, else
 * the first of kB, MB, GB, TB whose value is below 1024 with two decimals
 * (round-half-even on the exact value, so 1048575 B is `"1024.00 kB"`),
 * and PB beyond (`"1.00 PB"` for 1024^5, even when ≥ 1024 PB).
 */
export function formatBytes(n: number): string {
  if (n < 1024) return `${Math.trunc(n)} B`;
  const units = ["kB", "MB", "GB", "TB", "PB"];
  let k = 1;
  let value = n / 1024;
  while (k < 5 && value >= 1024) {
    k++;
    value /= 1024;
  }
  // Exact two-decimal rounding, half to even, of n / 1024^k.
  const num = BigInt(Math.trunc(n)) * 100n;
  const den = 1024n ** BigInt(k);
  let q = num / den;
  const r2 = (num % den) * 2n;
  if (r2 > den || (r2 === den && q % 2n === 1n)) q += 1n;
  return `${q / 100n}.${(q % 100n).toString().padStart(2, "0")} ${units[k - 1]}`;
}

/** `"()"` when empty, else `"(name: size, name: size)"`. */
export function formatDimensions(
  dims: Readonly<Record<string, number>> | ReadonlyArray<readonly [string, number]>,
): string {
  const entries = Array.isArray(dims)
    ? (dims as ReadonlyArray<readonly [string, number]>)
    : Object.entries(dims);
  if (entries.length === 0) return "()";
  return `(${entries.map(([k, v]) => `${k}: ${v}`).join(", ")})`;
}

/** numpy's name of a dtype, as printed in the dtype column (`string` → `object`). */
export function numpyDtypeName(dtype: DType): string {
  return dtype === "string" ? "object" : dtype;
}

/** Python's `repr` of a float (`nan`, `inf`, `1e-05`, `1e+16`, `0.1`); integral values below 1e16 print as integers. */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Number.POSITIVE_INFINITY) return "inf";
  if (x === Number.NEGATIVE_INFINITY) return "-inf";
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return Object.is(x, -0) ? "-0" : String(x);
  const [mantissa, expText] = x.toExponential().split("e") as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    const sign = exp < 0 ? "-" : "+";
    return `${mantissa}e${sign}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  const neg = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  let text: string;
  if (exp < 0) text = `0.${"0".repeat(-exp - 1)}${digits}`;
  else if (digits.length > exp + 1) text = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  else text = `${digits}${"0".repeat(exp + 1 - digits.length)}.0`;
  return neg ? `-${text}` : text;
}

/** Python's `repr` of a string: single quotes unless it contains `'` and no `"`, with Python escapes. */
export function pythonStringRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === "\\") out += "\\\\";
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else if (c >= 0x80 && c <= 0xa0) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out + quote;
}

/**
 * Python's `repr` of a JSON-like value: strings in quotes, `None`, `True`,
 * `False`, floats like Python, lists `[1, 2]`, dicts `{'a': 1}`; typed arrays
 * print as lists.
 */
export function pythonRepr(value: unknown): string {
  if (value === null || value === undefined) return "None";
  switch (typeof value) {
    case "string":
      return pythonStringRepr(value);
    case "number":
      return pythonFloatRepr(value);
    case "bigint":
      return value.toString();
    case "boolean":
      return value ? "True" : "False";
    case "object":
      break;
    default:
      return String(value);
  }
  if (Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView))) {
    return `[${Array.from(value as ArrayLike<unknown>, pythonRepr).join(", ")}]`;
  }
  if (value instanceof Map) {
    return `{${[...value].map(([k, v]) => `${pythonRepr(k)}: ${pythonRepr(v)}`).join(", ")}}`;
  }
  return `{${Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `${pythonStringRepr(k)}: ${pythonRepr(v)}`)
    .join(", ")}}`;
}

/** Cuts a line longer than 120 characters to 117 characters plus `"..."`. */
export function cutLine(line: string): string {
  return line.length > MAX_LINE ? `${line.slice(0, MAX_LINE - 3)}...` : line;
}

/** Column width of a table: max(7, longest name). */
export function columnWidth(names: Iterable<string>): number {
  let w = 7;
  for (const n of names) w = Math.max(w, n.length);
  return w;
}

/** The `Attributes:` lines (`    {name:<W} : {repr}`), each cut at 120 characters. */
export function attributeLines(attrs: Readonly<Record<string, unknown>>, indent = "    "): string[] {
  const keys = Object.keys(attrs);
  const w = columnWidth(keys);
  return keys.map((k) => cutLine(`${indent}${k.padEnd(w)} : ${pythonRepr(attrs[k])}`));
}
