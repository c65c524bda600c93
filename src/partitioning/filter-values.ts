/**
 * The values of the filter language and Python's rules for comparing them
 * (docs/behaviour.md §7), so that a filter selects here what it selects in Python
 * zcollection: `True == 1`, `(2024, 3) < (2024, 4)`, `2024 == '2024'` is
 * false but `2024 < 'a'` is an error, strings order by code point.
 *
 * @module
 */

/** A value: tuples are arrays; integers beyond 2^53 are bigints; `None` is null. */
export type Value = number | bigint | string | boolean | null | readonly Value[];

/** A failure to evaluate, to which the filter adds the expression and the position. */
export class EvalFailure {
  constructor(readonly message: string) {}
}

const isNumber = (v: Value): v is number | bigint | boolean =>
  typeof v === "number" || typeof v === "bigint" || typeof v === "boolean";
const numeric = (v: number | bigint | boolean): number | bigint => (typeof v === "boolean" ? Number(v) : v);

/** Python's truthiness: 0, `''`, `()`, `None` and `False` are false; NaN is true. */
export const truthy = (v: Value): boolean =>
  Array.isArray(v) ? v.length > 0 : typeof v === "number" ? v !== 0 : Boolean(v);

function typeName(v: Value): string {
  if (v === null || Array.isArray(v)) return v === null ? "NoneType" : "tuple";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  return typeof v === "bigint" ? "int" : typeof v === "string" ? "str" : "bool";
}

const ESCAPED: Record<string, string> = { "\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** Python's `repr`, for messages: `'a'`, `(1,)`, `True`, `None`, `inf`. */
export function repr(v: Value): string {
  if (Array.isArray(v)) return v.length === 1 ? `(${repr(v[0] as Value)},)` : `(${v.map(repr).join(", ")})`;
  if (typeof v === "string") {
    // `\`, `'` and the control characters (below U+0020, and U+007F) are escaped.
    const escaped = (c: string) => ESCAPED[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
    return `'${v.replace(/[\\']|[^ -~\u0080-\uffff]/g, escaped)}'`;
  }
  if (typeof v === "number" && !Number.isFinite(v)) return Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
  return v === null ? "None" : v === true ? "True" : v === false ? "False" : String(v);
}

function equals(a: Value, b: Value): boolean {
  // biome-ignore lint/suspicious/noDoubleEquals: a number and a bigint compare exactly by value
  if (isNumber(a) && isNumber(b)) return numeric(a) == numeric(b);
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => equals(x, b[i]));
  return a === b;
}

function order(op: string, a: Value, b: Value): boolean {
  let c: number;
  if (isNumber(a) && isNumber(b)) {
    const [x, y] = [numeric(a), numeric(b)]; // exact between number and bigint; NaN orders false
    return op === "<" ? x < y : op === "<=" ? x <= y : op === ">" ? x > y : x >= y;
  }
  if (typeof a === "string" && typeof b === "string") {
    // By code point: UTF-16 surrogates (D800–DFFF) encode code points above FFFF, so they go after E000–FFFF.
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    const unit = (u: number) => (u >= 0xe000 ? u - 0x800 : u >= 0xd800 ? u + 0x2000 : u);
    c = i < a.length && i < b.length ? unit(a.charCodeAt(i)) - unit(b.charCodeAt(i)) : a.length - b.length;
  } else if (Array.isArray(a) && Array.isArray(b)) {
    const i = a.findIndex((x, j) => j < b.length && !equals(x, b[j]));
    if (i >= 0) return order(op, a[i] as Value, b[i] as Value);
    c = a.length - b.length;
  } else {
    throw new EvalFailure(`'${op}' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`);
  }
  return op === "<" ? c < 0 : op === "<=" ? c <= 0 : op === ">" ? c > 0 : c >= 0;
}

/**
 * `a op b` for a comparison operator (`==`, `!=`, `<`, `<=`, `>`, `>=`,
 * `in`, `not in`).
 *
 * @throws EvalFailure naming both operands when Python would raise TypeError.
 */
export function compare(op: string, a: Value, b: Value): boolean {
  try {
    if (op === "==" || op === "!=") return equals(a, b) === (op === "==");
    if (op !== "in" && op !== "not in") return order(op, a, b);
    if (Array.isArray(b)) return b.some((x) => equals(x, a)) === (op === "in");
    if (typeof b !== "string") throw new EvalFailure(`argument of type '${typeName(b)}' is not iterable`);
    if (typeof a !== "string") {
      throw new EvalFailure(`'in <string>' requires string as left operand, not ${typeName(a)}`);
    }
    return b.includes(a) === (op === "in");
  } catch (err) {
    if (!(err instanceof EvalFailure)) throw err;
    throw new EvalFailure(`cannot evaluate ${repr(a)} ${op} ${repr(b)}: ${err.message}`);
  }
}

/**
 * Unary `-` or `+` (a boolean becomes an integer).
 *
 * @throws EvalFailure for anything but a number or a boolean.
 */
export function sign(op: string, v: Value): Value {
  if (isNumber(v)) return op === "-" ? -numeric(v) : numeric(v);
  throw new EvalFailure(
    `cannot evaluate ${op}${repr(v)}: bad operand type for unary ${op}: '${typeName(v)}'`,
  );
}
