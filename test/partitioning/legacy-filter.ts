// The filter parser that src/partitioning/filter.ts replaced (issue 14), kept unchanged
// as the oracle of filter-legacy.test.ts only: nothing else may import it. Delete both
// files once the comparison is no longer wanted.

/**
 * The partition filter language (docs/behaviour.md §7, §18 #5).
 *
 * A filter is a Python boolean expression over the components of a partition
 * key: `year == 2024 and 1 <= month <= 3`, `(year, month) >= (2024, 3)`,
 * `cycle_number in (31, 32)`, `cycle > -1`. {@link compileFilter} turns it into a
 * predicate over the key dictionary ({@link keyToDict}).
 *
 * The text is read by a hand-written tokenizer and a recursive-descent parser
 * of Python's whole expression grammar (never `eval` or `Function`), so that
 * every construct is recognised and either evaluated or refused by name:
 *
 * - evaluated: literals (Python ints incl. `0x10`, `0o7`, `0b1`, `1_000`;
 *   floats; imaginary numbers; strings and bytes with escapes and implicit
 *   concatenation; `True`, `False`, `None`, `...`), names (partition key
 *   components), tuple / list / set displays (all evaluate to a tuple),
 *   comparisons `== != < <= > >= in not in` (chained, lazy, short-circuit),
 *   `and` / `or` / `not` (short-circuit, boolean results), parentheses, and
 *   unary `-` / `+` on numbers (a deliberate difference with Python
 *   zcollection, docs/behaviour.md §18 #5);
 * - refused with `disallowed syntax in filter: <Node>` (the name of Python's
 *   AST node, first one in breadth-first order like Python): attribute
 *   access, calls, subscripts, binary arithmetic and bitwise operators, `~`,
 *   `is`, conditional expressions, lambdas, `:=`, comprehensions, f-strings,
 *   dict displays, starred expressions, `await`, `yield`, and `=`.
 *
 * Positions in messages and in {@link ExpressionError.position} are 0-based
 * offsets in UTF-16 code units. Nesting deeper than {@link MAX_FILTER_DEPTH}
 * is refused rather than overflowing the stack.
 *
 * Divergences from Python, all raising {@link ExpressionError}: leading
 * whitespace or a leading newline is refused as "unexpected indent" (as the
 * specification states); ordering values of incomparable types and `in`
 * against a non-container (Python's TypeError); unknown names (Python's
 * ExpressionError as well); `\N{name}` escapes are not supported.
 *
 * @module
 */

import { ExpressionError } from "../../src/errors.js";

/** The key dictionary a filter is evaluated on: `{ year: 2024, month: 3 }`. */
export type FilterKey = Record<string, number | string>;

/** A compiled filter: whether a partition (given its key dictionary) is selected. */
export type FilterPredicate = (key: Record<string, number | string>) => boolean;

/** What {@link compileFilter} accepts: an expression, a predicate, or nothing (select all). */
export type FilterInput = string | FilterPredicate | null | undefined;

/** Deepest nesting of brackets and unary operators a filter may have. */
export const MAX_FILTER_DEPTH = 200;

/**
 * Compiles a filter expression into a predicate over key dictionaries
 * (docs/behaviour.md §7).
 *
 * - `null`, `undefined` or `""` → a predicate that is always true;
 * - a function → returned unchanged;
 * - a string → parsed now; evaluation happens on each call.
 *
 * @example
 * const keep = compileFilter("year == 2024 and 1 <= month <= 3");
 * keep({ year: 2024, month: 2 }); // true
 *
 * @throws ExpressionError at compile time: `invalid filter expression: <what>
 *   at position N` for syntax errors, `disallowed syntax in filter: <Node> at
 *   position N` for constructs outside the language. The returned predicate
 *   throws ExpressionError when it evaluates a name missing from the key
 *   (`unknown partition key 'x'`), orders values of incomparable types
 *   (`2024 < 'a'`), or applies `in` to a non-container.
 */
export function compileFilter(expr: FilterInput): FilterPredicate {
  if (expr === null || expr === undefined || expr === "") return () => true;
  if (typeof expr === "function") return expr;
  if (typeof expr !== "string") {
    throw new ExpressionError(
      `filter must be a string, a function or null; got ${typeof expr}`,
      String(expr as unknown),
    );
  }
  const tree = parseFilter(expr);
  const fn = compileNode(tree, expr);
  return (key) => truthy(fn(key as Context));
}

// ---------------------------------------------------------------------------
// Values (Python semantics)

/** A Python `bytes` value; `latin1` holds one character per byte (0..255). */
class PyBytes {
  constructor(readonly latin1: string) {}
}

/** A Python `complex` value (only pure imaginary literals can be written). */
class PyComplex {
  constructor(
    readonly re: number,
    readonly im: number,
  ) {}
}

/** Python's `Ellipsis` (`...`). */
class PyEllipsis {}
const ELLIPSIS = new PyEllipsis();

/** Any value an expression evaluates to. Tuples are arrays; booleans are ints in comparisons. */
type Value = number | bigint | string | boolean | null | PyBytes | PyComplex | PyEllipsis | readonly Value[];

type Context = Readonly<Record<string, unknown>>;

function isNumeric(v: Value): v is number | bigint | boolean {
  const t = typeof v;
  return t === "number" || t === "bigint" || t === "boolean";
}

function numeric(v: number | bigint | boolean): number | bigint {
  return typeof v === "boolean" ? (v ? 1 : 0) : v;
}

function truthy(v: Value): boolean {
  switch (typeof v) {
    case "number":
      return v !== 0; // NaN is true, like Python
    case "bigint":
      return v !== 0n;
    case "string":
      return v.length > 0;
    case "boolean":
      return v;
    default:
      if (v === null) return false;
      if (Array.isArray(v)) return v.length > 0;
      if (v instanceof PyBytes) return v.latin1.length > 0;
      if (v instanceof PyComplex) return v.re !== 0 || v.im !== 0;
      return true;
  }
}

/** Python's type name of a value, for messages. */
function typeName(v: Value): string {
  switch (typeof v) {
    case "number":
      return Number.isInteger(v) ? "int" : "float";
    case "bigint":
      return "int";
    case "string":
      return "str";
    case "boolean":
      return "bool";
    default:
      if (v === null) return "NoneType";
      if (Array.isArray(v)) return "tuple";
      if (v instanceof PyBytes) return "bytes";
      if (v instanceof PyComplex) return "complex";
      return "ellipsis";
  }
}

function reprString(s: string, quote = "'"): string {
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === "\\" || ch === quote) out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out + quote;
}

function reprNumber(n: number): string {
  if (Number.isNaN(n)) return "nan";
  if (n === Number.POSITIVE_INFINITY) return "inf";
  if (n === Number.NEGATIVE_INFINITY) return "-inf";
  return String(n);
}

/** Python's `repr` of a value, for messages. */
function repr(v: Value): string {
  switch (typeof v) {
    case "number":
      return reprNumber(v);
    case "bigint":
      return String(v);
    case "string":
      return reprString(v);
    case "boolean":
      return v ? "True" : "False";
    default:
      if (v === null) return "None";
      if (Array.isArray(v))
        return v.length === 1 ? `(${repr(v[0] as Value)},)` : `(${v.map(repr).join(", ")})`;
      if (v instanceof PyBytes) return `b${reprString(v.latin1)}`;
      if (v instanceof PyComplex) {
        const im = `${reprNumber(v.im)}j`;
        return v.re === 0 && !Object.is(v.re, -0) ? im : `(${reprNumber(v.re)}${v.im < 0 ? "" : "+"}${im})`;
      }
      return "Ellipsis";
  }
}

/** Python `==`. */
function pyEquals(a: Value, b: Value): boolean {
  if (a === b) return typeof a !== "number" || !Number.isNaN(a);
  if (isNumeric(a) && isNumeric(b)) {
    // Loose equality is exact between number and bigint.
    // biome-ignore lint/suspicious/noDoubleEquals: number/bigint comparison by value
    return numeric(a) == numeric(b);
  }
  if (a instanceof PyComplex || b instanceof PyComplex) {
    const ca = a instanceof PyComplex ? a : isNumeric(a) ? new PyComplex(Number(numeric(a)), 0) : null;
    const cb = b instanceof PyComplex ? b : isNumeric(b) ? new PyComplex(Number(numeric(b)), 0) : null;
    return ca !== null && cb !== null && ca.re === cb.re && ca.im === cb.im;
  }
  if (a instanceof PyBytes && b instanceof PyBytes) return a.latin1 === b.latin1;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!pyEquals(a[i] as Value, b[i] as Value)) return false;
    return true;
  }
  return false;
}

/** Compares strings by code point (JavaScript's `<` compares UTF-16 code units). */
function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      // Surrogates (D800–DFFF) encode code points above FFFF: move them past E000–FFFF.
      if (x >= 0xd800 && y >= 0xd800) {
        x += x >= 0xe000 ? -0x800 : 0x2000;
        y += y >= 0xe000 ? -0x800 : 0x2000;
      }
      return x - y;
    }
  }
  return a.length - b.length;
}

type OrderOp = "<" | "<=" | ">" | ">=";
type CompareOp = "==" | "!=" | OrderOp | "in" | "not in" | "is" | "is not";

function orderResult(op: OrderOp, c: number): boolean {
  switch (op) {
    case "<":
      return c < 0;
    case "<=":
      return c <= 0;
    case ">":
      return c > 0;
    default:
      return c >= 0;
  }
}

/** Thrown by the value layer; turned into an ExpressionError with the expression and position. */
class EvalFailure {
  constructor(readonly message: string) {}
}

/** Python ordering; throws {@link EvalFailure} for incomparable operands (Python's TypeError). */
function pyOrder(op: OrderOp, a: Value, b: Value): boolean {
  if (isNumeric(a) && isNumeric(b)) {
    const x = numeric(a);
    const y = numeric(b);
    // Mixed number/bigint relational operators are exact; NaN gives false.
    switch (op) {
      case "<":
        return x < y;
      case "<=":
        return x <= y;
      case ">":
        return x > y;
      default:
        return x >= y;
    }
  }
  if (typeof a === "string" && typeof b === "string") return orderResult(op, compareCodePoints(a, b));
  if (a instanceof PyBytes && b instanceof PyBytes) {
    return orderResult(op, a.latin1 < b.latin1 ? -1 : a.latin1 > b.latin1 ? 1 : 0);
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const x = a[i] as Value;
      const y = b[i] as Value;
      if (!pyEquals(x, y)) return pyOrder(op, x, y);
    }
    return orderResult(op, a.length - b.length);
  }
  throw new EvalFailure(`'${op}' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`);
}

/** Python `item in container`. */
function pyContains(container: Value, item: Value): boolean {
  if (Array.isArray(container)) {
    for (const el of container) if (pyEquals(el as Value, item)) return true;
    return false;
  }
  if (typeof container === "string") {
    if (typeof item !== "string") {
      throw new EvalFailure(`'in <string>' requires string as left operand, not ${typeName(item)}`);
    }
    return container.includes(item);
  }
  if (container instanceof PyBytes) {
    if (item instanceof PyBytes) return container.latin1.includes(item.latin1);
    if (isNumeric(item) && Number.isInteger(Number(numeric(item)))) {
      const byte = Number(numeric(item));
      if (byte < 0 || byte > 255) throw new EvalFailure(`byte must be in range(0, 256)`);
      return container.latin1.includes(String.fromCharCode(byte));
    }
    throw new EvalFailure(`a bytes-like object is required, not '${typeName(item)}'`);
  }
  throw new EvalFailure(`argument of type '${typeName(container)}' is not iterable`);
}

/** Applies a comparison; an incomparable pair fails with a message naming both operands. */
function applyCompare(op: CompareOp, a: Value, b: Value): boolean {
  try {
    return compareValues(op, a, b);
  } catch (err) {
    if (err instanceof EvalFailure)
      throw new EvalFailure(`cannot evaluate ${repr(a)} ${op} ${repr(b)}: ${err.message}`);
    throw err;
  }
}

function compareValues(op: CompareOp, a: Value, b: Value): boolean {
  switch (op) {
    case "==":
      return pyEquals(a, b);
    case "!=":
      return !pyEquals(a, b);
    case "in":
      return pyContains(b, a);
    case "not in":
      return !pyContains(b, a);
    case "is":
    case "is not":
      // Refused at compile time; never evaluated.
      throw new EvalFailure(`'${op}' is not supported`);
    default:
      return pyOrder(op, a, b);
  }
}

/** Unary minus / plus; throws {@link EvalFailure} for non-numbers. */
function unaryNumber(op: "-" | "+", v: Value): Value {
  if (isNumeric(v)) {
    const n = numeric(v);
    return op === "-" ? -n : n;
  }
  if (v instanceof PyComplex) return op === "-" ? new PyComplex(-v.re, -v.im) : v;
  throw new EvalFailure(
    `cannot evaluate ${op}${repr(v)}: bad operand type for unary ${op}: '${typeName(v)}'`,
  );
}

// ---------------------------------------------------------------------------
// Syntax tree

type Node =
  | { readonly t: "const"; readonly pos: number; readonly value: Value }
  | { readonly t: "name"; readonly pos: number; readonly id: string }
  | { readonly t: "seq"; readonly pos: number; readonly elts: readonly Node[] }
  | { readonly t: "bool"; readonly pos: number; readonly and: boolean; readonly values: readonly Node[] }
  | {
      readonly t: "unary";
      readonly pos: number;
      readonly op: "not" | "-" | "+" | "~";
      readonly operand: Node;
    }
  | {
      readonly t: "cmp";
      readonly pos: number;
      readonly left: Node;
      readonly ops: readonly { readonly op: CompareOp; readonly pos: number }[];
      readonly rights: readonly Node[];
    }
  /** A construct outside the language, named like Python's AST node; its sub-tree is not kept. */
  | { readonly t: "bad"; readonly pos: number; readonly what: string };

function bad(what: string, pos: number): Node {
  return { t: "bad", pos, what };
}

/**
 * The first disallowed node in breadth-first order (Python's `ast.walk`), or
 * undefined. Operators are children of their node, like in Python's tree.
 */
function firstDisallowed(root: Node): Node | undefined {
  const queue: Node[] = [root];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i] as Node;
    switch (node.t) {
      case "bad":
        return node;
      case "seq":
        for (const e of node.elts) queue.push(e);
        break;
      case "bool":
        for (const v of node.values) queue.push(v);
        break;
      case "unary":
        if (node.op === "~") queue.push(bad("Invert", node.pos));
        queue.push(node.operand);
        break;
      case "cmp":
        queue.push(node.left);
        for (const o of node.ops) {
          if (o.op === "is") queue.push(bad("Is", o.pos));
          else if (o.op === "is not") queue.push(bad("IsNot", o.pos));
        }
        for (const r of node.rights) queue.push(r);
        break;
      default:
        break;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Tokenizer

type TokenType = "name" | "keyword" | "number" | "string" | "op" | "newline" | "end";
type StringKind = "str" | "bytes" | "f" | "t";

interface Token {
  readonly type: TokenType;
  /** Source text (operators, names, keywords) or a short description (numbers, strings). */
  readonly text: string;
  /** 0-based offset of the first character. */
  readonly pos: number;
  /** Literal value (numbers and strings). */
  readonly value?: Value;
  /** Kind of a string literal. */
  readonly kind?: StringKind;
}

const KEYWORDS = new Set([
  "False",
  "None",
  "True",
  "and",
  "as",
  "assert",
  "async",
  "await",
  "break",
  "class",
  "continue",
  "def",
  "del",
  "elif",
  "else",
  "except",
  "finally",
  "for",
  "from",
  "global",
  "if",
  "import",
  "in",
  "is",
  "lambda",
  "nonlocal",
  "not",
  "or",
  "pass",
  "raise",
  "return",
  "try",
  "while",
  "with",
  "yield",
]);

/** Keywords Python lets follow a number directly (`1if x else 2`, `1or 2`). */
const KEYWORDS_AFTER_NUMBER = new Set(["and", "or", "not", "in", "is", "if", "else", "for"]);

const STRING_PREFIXES = new Set(["r", "u", "b", "br", "rb", "f", "fr", "rf", "t", "tr", "rt"]);

const OPERATORS_3 = new Set(["**=", "//=", ">>=", "<<=", "..."]);
const OPERATORS_2 = new Set([
  "!=",
  "==",
  "<=",
  ">=",
  "<<",
  ">>",
  "**",
  "//",
  "->",
  ":=",
  "+=",
  "-=",
  "*=",
  "/=",
  "%=",
  "&=",
  "|=",
  "^=",
  "@=",
]);
const OPERATORS_1 = "()[]{},:.;+-*/%&|^~<>=@";

const AUGMENTED_ASSIGNMENTS = new Set([
  "+=",
  "-=",
  "*=",
  "/=",
  "//=",
  "%=",
  "**=",
  ">>=",
  "<<=",
  "&=",
  "|=",
  "^=",
  "@=",
]);

const IDENTIFIER = /[\p{XID_Start}_][\p{XID_Continue}]*/uy;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A Python int literal as a number when exact, else a bigint. */
function intValue(digits: string, radix: number): number | bigint {
  if (radix === 10 && digits.length <= 15) return Number(digits);
  const prefix = radix === 16 ? "0x" : radix === 8 ? "0o" : radix === 2 ? "0b" : "";
  const big = BigInt(prefix + digits);
  return big <= MAX_SAFE ? Number(big) : big;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isAsciiIdentifierChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || isDigit(c) || c === 95;
}

function isIdentifierChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || isDigit(c) || c === 95 || c > 127;
}

function hexCode(c: number): string {
  return `U+${c.toString(16).toUpperCase().padStart(4, "0")}`;
}

/** A token; every token has the same shape (monomorphic property access). */
function token(type: TokenType, text: string, pos: number, value?: Value, kind?: StringKind): Token {
  return { type, text, pos, value, kind };
}

/** Lazy tokenizer of a Python expression, tracking brackets. */
class Lexer {
  private i = 0;
  private readonly brackets: { ch: string; pos: number }[] = [];
  private emitted = false;

  constructor(private readonly src: string) {}

  fail(what: string, pos: number): never {
    throw new ExpressionError(`invalid filter expression: ${what} at position ${pos}`, this.src, {
      position: pos,
    });
  }

  next(): Token {
    const src = this.src;
    const n = src.length;
    let lineStart = this.i === 0;
    for (;;) {
      // Spaces within a line.
      const before = this.i;
      while (this.i < n) {
        const c = src.charCodeAt(this.i);
        if (c === 32 || c === 9 || c === 12) this.i++;
        else break;
      }
      if (this.i >= n) {
        const open = this.brackets[this.brackets.length - 1];
        if (open !== undefined) this.fail(`'${open.ch}' was never closed`, open.pos);
        return token("end", "", n);
      }
      const c = src.charCodeAt(this.i);
      if (c === 35 /* # */) {
        while (this.i < n && src[this.i] !== "\n" && src[this.i] !== "\r") this.i++;
        continue;
      }
      if (c === 10 || c === 13) {
        this.i += c === 13 && src.charCodeAt(this.i + 1) === 10 ? 2 : 1;
        if (this.brackets.length > 0) continue;
        if (!this.emitted) {
          lineStart = true;
          continue;
        }
        return token("newline", "\n", this.i - 1);
      }
      if (c === 92 /* \ */) {
        const d = src.charCodeAt(this.i + 1);
        if (d === 10 || d === 13) {
          this.i += d === 13 && src.charCodeAt(this.i + 2) === 10 ? 3 : 2;
          continue;
        }
        this.fail("unexpected character after line continuation character", this.i);
      }
      if (lineStart && !this.emitted && this.i > before) this.fail("unexpected indent", before);
      this.emitted = true;
      return this.token();
    }
  }

  private token(): Token {
    const src = this.src;
    const start = this.i;
    const c = src.charCodeAt(start);
    if (isDigit(c) || (c === 46 && isDigit(src.charCodeAt(start + 1)))) return this.number();
    if (c === 39 || c === 34) return this.string(start, "");
    if (isIdentifierChar(c) && !isDigit(c)) {
      // ASCII fast path; names with other characters go through the Unicode rules.
      let end = start + 1;
      while (end < src.length && isAsciiIdentifierChar(src.charCodeAt(end))) end++;
      let word: string | undefined;
      const ascii = c < 128 && (end >= src.length || src.charCodeAt(end) < 128);
      if (ascii) word = src.slice(start, end);
      if (word === undefined) {
        IDENTIFIER.lastIndex = start;
        word = IDENTIFIER.exec(src)?.[0];
      }
      if (word !== undefined) {
        const q = src.charCodeAt(start + word.length);
        if ((q === 39 || q === 34) && STRING_PREFIXES.has(word.toLowerCase())) {
          this.i = start + word.length;
          return this.string(start, word.toLowerCase());
        }
        this.i = start + word.length;
        if (KEYWORDS.has(word)) return token("keyword", word, start);
        return token("name", ascii ? word : word.normalize("NFKC"), start);
      }
    }
    const one = src[start] as string;
    if (OPERATORS_1.includes(one)) {
      const next = src.charCodeAt(start + 1);
      // Every operator of two or three characters ends in '=' or repeats its first, or is '->'.
      if (next === 61 || next === c || (c === 45 && next === 62)) {
        const three = src.slice(start, start + 3);
        if (OPERATORS_3.has(three)) {
          this.i += 3;
          return token("op", three, start);
        }
        const two = src.slice(start, start + 2);
        if (OPERATORS_2.has(two)) {
          this.i += 2;
          return token("op", two, start);
        }
      }
      this.i += 1;
      this.track(one, start);
      return token("op", one, start);
    }
    if (c === 33 /* ! */ && src.charCodeAt(start + 1) === 61) {
      this.i += 2;
      return token("op", "!=", start);
    }
    const cp = src.codePointAt(start) as number;
    if (cp === 0) this.fail("null byte", start);
    if (cp < 32 || cp === 127 || (cp >= 0x80 && cp < 0xa0) || /\s/u.test(String.fromCodePoint(cp))) {
      this.fail(`invalid non-printable character ${hexCode(cp)}`, start);
    }
    this.fail(`invalid character '${String.fromCodePoint(cp)}' (${hexCode(cp)})`, start);
  }

  private track(ch: string, pos: number): void {
    if (ch === "(" || ch === "[" || ch === "{") {
      this.brackets.push({ ch, pos });
    } else if (ch === ")" || ch === "]" || ch === "}") {
      const open = this.brackets.pop();
      if (open === undefined) this.fail(`unmatched '${ch}'`, pos);
      const expected = open.ch === "(" ? ")" : open.ch === "[" ? "]" : "}";
      if (expected !== ch) {
        this.fail(`closing parenthesis '${ch}' does not match opening parenthesis '${open.ch}'`, pos);
      }
    }
  }

  /** Scans `digit (_? digit)*` from `i` for the given digit test; returns the end. */
  private digits(i: number, test: (c: number) => boolean, kind: string): number {
    const src = this.src;
    if (!test(src.charCodeAt(i))) return i;
    i++;
    for (;;) {
      const c = src.charCodeAt(i);
      if (test(c)) i++;
      else if (c === 95 /* _ */) {
        if (!test(src.charCodeAt(i + 1))) this.fail(`invalid ${kind} literal`, i);
        i += 2;
      } else return i;
    }
  }

  private number(): Token {
    const src = this.src;
    const start = this.i;
    // Fast path: a plain decimal integer without separators, e.g. `2024`.
    let end = start;
    while (isDigit(src.charCodeAt(end))) end++;
    if (end > start && end - start <= 15 && (src.charCodeAt(start) !== 48 || end - start === 1)) {
      const c = src.charCodeAt(end);
      if (!(isIdentifierChar(c) || c === 46)) {
        this.i = end;
        const text = src.slice(start, end);
        return token("number", text, start, Number(text));
      }
    }
    const c1 = src[start + 1]?.toLowerCase();
    if (src[start] === "0" && (c1 === "x" || c1 === "o" || c1 === "b")) {
      const spec =
        c1 === "x"
          ? {
              radix: 16,
              kind: "hexadecimal",
              test: (c: number) => isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70),
            }
          : c1 === "o"
            ? { radix: 8, kind: "octal", test: (c: number) => c >= 48 && c <= 55 }
            : { radix: 2, kind: "binary", test: (c: number) => c === 48 || c === 49 };
      let i = start + 2;
      if (src.charCodeAt(i) === 95) i++; // 0x_1f
      const end = this.digits(i, spec.test, spec.kind);
      if (spec.radix !== 16 && isDigit(src.charCodeAt(end))) {
        this.fail(`invalid digit '${src[end]}' in ${spec.kind} literal`, end);
      }
      if (end === i) this.fail(`invalid ${spec.kind} literal`, start);
      this.i = end;
      this.checkAfterNumber(start, spec.kind);
      const text = src.slice(start, end);
      return token("number", text, start, intValue(src.slice(i, end).replaceAll("_", ""), spec.radix));
    }
    let i = this.digits(start, isDigit, "decimal");
    let isFloat = false;
    if (src[i] === ".") {
      isFloat = true;
      i = this.digits(i + 1, isDigit, "decimal");
    }
    const e = src[i];
    if (e === "e" || e === "E") {
      let j = i + 1;
      if (src[j] === "+" || src[j] === "-") j++;
      if (isDigit(src.charCodeAt(j))) {
        isFloat = true;
        i = this.digits(j, isDigit, "decimal");
      }
    }
    let imaginary = false;
    if (src[i] === "j" || src[i] === "J") {
      imaginary = true;
      i++;
    }
    this.i = i;
    this.checkAfterNumber(start, "decimal");
    const text = src.slice(start, i);
    const clean = text.replaceAll("_", "");
    if (imaginary) return token("number", text, start, new PyComplex(0, Number(clean.slice(0, -1))));
    if (isFloat) return token("number", text, start, Number(clean));
    if (clean.length > 1 && clean[0] === "0" && /[1-9]/.test(clean)) {
      this.fail(
        "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers",
        start,
      );
    }
    return token("number", text, start, intValue(clean, 10));
  }

  /** A number directly followed by a name is an error unless the name is a keyword Python allows there. */
  private checkAfterNumber(start: number, kind: string): void {
    const c = this.src.charCodeAt(this.i);
    if (!isIdentifierChar(c)) return;
    IDENTIFIER.lastIndex = this.i;
    const word = IDENTIFIER.exec(this.src)?.[0];
    if (word !== undefined && KEYWORDS_AFTER_NUMBER.has(word)) return;
    this.fail(`invalid ${kind} literal`, start);
  }

  private string(start: number, prefix: string): Token {
    const src = this.src;
    const n = src.length;
    const raw = prefix.includes("r");
    const kind: StringKind = prefix.includes("b")
      ? "bytes"
      : prefix.includes("f")
        ? "f"
        : prefix.includes("t")
          ? "t"
          : "str";
    const q = src[this.i] as string;
    const triple = src.startsWith(q + q + q, this.i);
    let i = this.i + (triple ? 3 : 1);
    let out = "";
    const unterminated = triple ? "unterminated triple-quoted string literal" : "unterminated string literal";
    for (;;) {
      if (i >= n) this.fail(unterminated, start);
      const ch = src[i] as string;
      if (ch === q && (!triple || src.startsWith(q + q + q, i))) {
        i += triple ? 3 : 1;
        break;
      }
      if ((ch === "\n" || ch === "\r") && !triple) this.fail(unterminated, start);
      if (ch === "\\") {
        if (i + 1 >= n) this.fail(unterminated, start);
        if (raw || kind === "f" || kind === "t") {
          out += src.slice(i, i + 2);
          i += 2;
          continue;
        }
        i = this.escape(i, kind === "bytes", (s) => {
          out += s;
        });
        continue;
      }
      if (kind === "bytes" && ch.charCodeAt(0) > 127)
        this.fail("bytes can only contain ASCII literal characters", i);
      out += ch;
      i++;
    }
    this.i = i;
    const value: Value = kind === "bytes" ? new PyBytes(out) : out;
    return token("string", src.slice(start, i), start, value, kind);
  }

  /** Decodes the escape sequence at `i` (a backslash); returns the index after it. */
  private escape(i: number, bytes: boolean, emit: (s: string) => void): number {
    const src = this.src;
    const e = src[i + 1] as string;
    const simple: Record<string, string> = {
      "\\": "\\",
      "'": "'",
      '"': '"',
      a: "\x07",
      b: "\b",
      f: "\f",
      n: "\n",
      r: "\r",
      t: "\t",
      v: "\v",
    };
    const mapped = simple[e];
    if (mapped !== undefined) {
      emit(mapped);
      return i + 2;
    }
    if (e === "\n") return i + 2;
    if (e === "\r") return src[i + 2] === "\n" ? i + 3 : i + 2;
    if (e >= "0" && e <= "7") {
      let j = i + 1;
      while (j < i + 4 && src[j] !== undefined && (src[j] as string) >= "0" && (src[j] as string) <= "7") j++;
      const code = Number.parseInt(src.slice(i + 1, j), 8);
      emit(String.fromCharCode(bytes ? code & 0xff : code));
      return j;
    }
    const hex = (len: number, name: string): number => {
      const digits = src.slice(i + 2, i + 2 + len);
      if (digits.length !== len || !/^[0-9a-fA-F]+$/.test(digits)) this.fail(`truncated ${name} escape`, i);
      return Number.parseInt(digits, 16);
    };
    if (e === "x") {
      emit(String.fromCharCode(hex(2, "\\xXX")));
      return i + 4;
    }
    if (!bytes && e === "u") {
      emit(String.fromCharCode(hex(4, "\\uXXXX")));
      return i + 6;
    }
    if (!bytes && e === "U") {
      const code = hex(8, "\\UXXXXXXXX");
      if (code > 0x10ffff) this.fail("illegal Unicode character in \\U escape", i);
      emit(String.fromCodePoint(code));
      return i + 10;
    }
    if (!bytes && e === "N") this.fail("\\N{name} escapes are not supported", i);
    // Unknown escapes are kept as written (Python warns but accepts them).
    if (bytes && e.charCodeAt(0) > 127) this.fail("bytes can only contain ASCII literal characters", i + 1);
    emit(`\\${e}`);
    return i + 2;
  }
}

// ---------------------------------------------------------------------------
// Parser (Python's expression grammar; precedence or < and < not < comparison
// < | < ^ < & < shifts < + - < * / // % @ < unary < ** < await < primary)

/** Binding power of binary operators (all refused as BinOp; the tree shape decides which is reported). */
const BINARY_PRECEDENCE = new Map<string, number>([
  ["|", 1],
  ["^", 2],
  ["&", 3],
  ["<<", 4],
  [">>", 4],
  ["+", 5],
  ["-", 5],
  ["*", 6],
  ["/", 6],
  ["//", 6],
  ["%", 6],
  ["@", 6],
]);
const COMPARISONS = new Set(["==", "!=", "<", "<=", ">", ">="]);
const CLOSERS = new Set([")", "]", "}"]);

class Parser {
  private readonly lexer: Lexer;
  private readonly buffer: Token[] = [];
  private depth = 0;

  constructor(private readonly src: string) {
    this.lexer = new Lexer(src);
  }

  private peek(k = 0): Token {
    while (this.buffer.length <= k) this.buffer.push(this.lexer.next());
    return this.buffer[k] as Token;
  }

  private advance(): Token {
    const t = this.peek();
    this.buffer.shift();
    return t;
  }

  private isOp(text: string, k = 0): boolean {
    const t = this.peek(k);
    return t.type === "op" && t.text === text;
  }

  private isKeyword(text: string, k = 0): boolean {
    const t = this.peek(k);
    return t.type === "keyword" && t.text === text;
  }

  private fail(what: string, pos: number): never {
    return this.lexer.fail(what, pos);
  }

  private disallowed(what: string, pos: number): never {
    throw new ExpressionError(`disallowed syntax in filter: ${what} at position ${pos}`, this.src, {
      position: pos,
    });
  }

  private enter(pos: number): void {
    if (++this.depth > MAX_FILTER_DEPTH) {
      this.fail(`expression nested too deeply (more than ${MAX_FILTER_DEPTH} levels)`, pos);
    }
  }

  private leave(): void {
    this.depth--;
  }

  /** Reports an unexpected token; assignments are named as disallowed constructs. */
  private unexpected(t: Token): never {
    if (t.type === "op") {
      if (t.text === "=") this.disallowed("Assign", t.pos);
      if (AUGMENTED_ASSIGNMENTS.has(t.text)) this.disallowed("AugAssign", t.pos);
      if (t.text === ":=") this.disallowed("NamedExpr", t.pos);
    }
    this.fail(`unexpected ${describe(t)}`, t.pos);
  }

  private expectOp(text: string): Token {
    const t = this.peek();
    if (t.type !== "op" || t.text !== text) this.unexpected(t);
    return this.advance();
  }

  private expectKeyword(text: string, message: string): void {
    const t = this.peek();
    if (t.type !== "keyword" || t.text !== text) {
      if (t.type === "op" && (t.text === "=" || t.text === ":=" || AUGMENTED_ASSIGNMENTS.has(t.text)))
        this.unexpected(t);
      this.fail(message, t.pos);
    }
    this.advance();
  }

  /** Whether the next token can begin an expression (to accept trailing commas). */
  private startsExpression(): boolean {
    const t = this.peek();
    switch (t.type) {
      case "name":
      case "number":
      case "string":
        return true;
      case "keyword":
        return ["not", "lambda", "await", "True", "False", "None"].includes(t.text);
      case "op":
        return ["(", "[", "{", "-", "+", "~", "*", "..."].includes(t.text);
      default:
        return false;
    }
  }

  /** `expressions NEWLINE* ENDMARKER` (mode "eval"). */
  parse(): Node {
    const first = this.peek();
    if (first.type === "end" || first.type === "newline") this.fail("empty expression", first.pos);
    const node = this.parseExpressionList();
    while (this.peek().type === "newline") this.advance();
    const t = this.peek();
    if (t.type !== "end") this.unexpected(t);
    return node;
  }

  /** `item (',' item)* [',']` → the item, or a tuple when there is a comma. */
  private parseExpressionList(): Node {
    const first = this.parseStarNamed();
    if (!this.isOp(",")) return first;
    const elts = [first];
    while (this.isOp(",")) {
      this.advance();
      if (!this.startsExpression()) break;
      elts.push(this.parseStarNamed());
    }
    return { t: "seq", pos: first.pos, elts };
  }

  private parseStarNamed(): Node {
    if (this.isOp("*")) {
      const star = this.advance();
      this.parseBinary();
      return bad("Starred", star.pos);
    }
    return this.parseNamed();
  }

  private parseNamed(): Node {
    if (this.peek().type === "name" && this.isOp(":=", 1)) {
      this.advance();
      const walrus = this.advance();
      this.parseExpression();
      return bad("NamedExpr", walrus.pos);
    }
    return this.parseExpression();
  }

  /** `lambda ... : expression | disjunction ['if' disjunction 'else' expression]` */
  private parseExpression(): Node {
    if (this.isKeyword("lambda")) return this.parseLambda();
    const node = this.parseDisjunction();
    if (!this.isKeyword("if")) return node;
    const ifTok = this.advance();
    this.parseDisjunction();
    this.expectKeyword("else", "expected 'else' after 'if' expression");
    this.enter(ifTok.pos);
    this.parseExpression();
    this.leave();
    return bad("IfExp", ifTok.pos);
  }

  private parseLambda(): Node {
    const tok = this.advance();
    // Parameters are skipped up to the ':' at this bracket level; the whole lambda is refused anyway.
    let level = 0;
    for (;;) {
      const t = this.peek();
      if (t.type === "end" || t.type === "newline") this.fail("expected ':'", t.pos);
      if (t.type === "op") {
        if (t.text === ":" && level === 0) break;
        if (t.text === "(" || t.text === "[" || t.text === "{") level++;
        else if (CLOSERS.has(t.text)) {
          if (level === 0) this.unexpected(t);
          level--;
        }
      }
      this.advance();
    }
    this.advance();
    this.enter(tok.pos);
    this.parseExpression();
    this.leave();
    return bad("Lambda", tok.pos);
  }

  private parseDisjunction(): Node {
    const first = this.parseConjunction();
    if (!this.isKeyword("or")) return first;
    const values = [first];
    while (this.isKeyword("or")) {
      this.advance();
      values.push(this.parseConjunction());
    }
    return { t: "bool", pos: first.pos, and: false, values };
  }

  private parseConjunction(): Node {
    const first = this.parseInversion();
    if (!this.isKeyword("and")) return first;
    const values = [first];
    while (this.isKeyword("and")) {
      this.advance();
      values.push(this.parseInversion());
    }
    return { t: "bool", pos: first.pos, and: true, values };
  }

  private parseInversion(): Node {
    if (this.isKeyword("not")) {
      const tok = this.advance();
      this.enter(tok.pos);
      const operand = this.parseInversion();
      this.leave();
      return { t: "unary", pos: tok.pos, op: "not", operand };
    }
    return this.parseComparison();
  }

  private parseComparison(): Node {
    const left = this.parseBinary();
    const ops: { op: CompareOp; pos: number }[] = [];
    const rights: Node[] = [];
    for (;;) {
      const t = this.peek();
      let op: CompareOp;
      if (t.type === "op" && COMPARISONS.has(t.text)) {
        this.advance();
        op = t.text as CompareOp;
      } else if (this.isKeyword("in")) {
        this.advance();
        op = "in";
      } else if (this.isKeyword("not") && this.isKeyword("in", 1)) {
        this.advance();
        this.advance();
        op = "not in";
      } else if (this.isKeyword("is")) {
        this.advance();
        if (this.isKeyword("not")) {
          this.advance();
          op = "is not";
        } else {
          op = "is";
        }
      } else {
        break;
      }
      ops.push({ op, pos: t.pos });
      rights.push(this.parseBinary());
    }
    return ops.length === 0 ? left : { t: "cmp", pos: left.pos, left, ops, rights };
  }

  /** Binary arithmetic and bitwise operators (all refused as BinOp), by precedence climbing. */
  private parseBinary(minPrecedence = 1): Node {
    let left = this.parseFactor();
    for (;;) {
      const t = this.peek();
      const precedence = t.type === "op" ? BINARY_PRECEDENCE.get(t.text) : undefined;
      if (precedence === undefined || precedence < minPrecedence) return left;
      this.advance();
      this.parseBinary(precedence + 1);
      left = bad("BinOp", t.pos);
    }
  }

  /** `('+' | '-' | '~') factor | power`; signs on numeric literals are folded. */
  private parseFactor(): Node {
    const t = this.peek();
    if (t.type === "op" && (t.text === "-" || t.text === "+" || t.text === "~")) {
      this.advance();
      this.enter(t.pos);
      const operand = this.parseFactor();
      this.leave();
      const op = t.text as "-" | "+" | "~";
      if (op !== "~" && operand.t === "const") {
        try {
          return { t: "const", pos: t.pos, value: unaryNumber(op, operand.value) };
        } catch (err) {
          if (err instanceof EvalFailure) {
            throw new ExpressionError(`${err.message} at position ${t.pos}`, this.src, { position: t.pos });
          }
          throw err;
        }
      }
      return { t: "unary", pos: t.pos, op, operand };
    }
    return this.parsePower();
  }

  private parsePower(): Node {
    const base = this.parseAwaitPrimary();
    if (!this.isOp("**")) return base;
    const tok = this.advance();
    this.enter(tok.pos);
    this.parseFactor();
    this.leave();
    return bad("BinOp", tok.pos);
  }

  private parseAwaitPrimary(): Node {
    if (this.isKeyword("await")) {
      const tok = this.advance();
      this.parsePrimary();
      return bad("Await", tok.pos);
    }
    return this.parsePrimary();
  }

  /** `atom ('.' NAME | '(' args ')' | '[' slices ']')*` */
  private parsePrimary(): Node {
    let node = this.parseAtom();
    for (;;) {
      const t = this.peek();
      if (t.type !== "op") return node;
      if (t.text === ".") {
        this.advance();
        const name = this.peek();
        if (name.type !== "name") this.unexpected(name);
        this.advance();
        node = bad("Attribute", t.pos);
      } else if (t.text === "(") {
        this.parseCallArguments();
        node = bad("Call", t.pos);
      } else if (t.text === "[") {
        this.parseSlices();
        node = bad("Subscript", t.pos);
      } else {
        return node;
      }
    }
  }

  private parseCallArguments(): void {
    const open = this.advance();
    this.enter(open.pos);
    while (!this.isOp(")")) {
      if (this.isOp("*") || this.isOp("**")) {
        this.advance();
        this.parseExpression();
      } else if (this.peek().type === "name" && this.isOp("=", 1)) {
        this.advance();
        this.advance();
        this.parseExpression();
      } else {
        this.parseNamed();
        if (this.startsComprehension()) this.parseComprehension();
      }
      if (!this.isOp(",")) break;
      this.advance();
    }
    this.expectOp(")");
    this.leave();
  }

  private parseSlices(): void {
    const open = this.advance();
    this.enter(open.pos);
    if (this.isOp("]")) this.unexpected(this.peek());
    for (;;) {
      if (this.isOp("*")) {
        this.parseStarNamed();
      } else {
        if (!this.isOp(":")) this.parseNamed();
        for (let parts = 0; parts < 2 && this.isOp(":"); parts++) {
          this.advance();
          if (!this.isOp(":") && !this.isOp(",") && !this.isOp("]")) this.parseExpression();
        }
      }
      if (!this.isOp(",")) break;
      this.advance();
      if (this.isOp("]")) break;
    }
    this.expectOp("]");
    this.leave();
  }

  private startsComprehension(): boolean {
    return this.isKeyword("for") || (this.isKeyword("async") && this.isKeyword("for", 1));
  }

  /** `('async'? 'for' targets 'in' disjunction ('if' disjunction)*)+` */
  private parseComprehension(): void {
    while (this.startsComprehension()) {
      if (this.isKeyword("async")) this.advance();
      this.advance();
      for (;;) {
        if (this.isOp("*")) this.advance();
        this.parseBinary();
        if (!this.isOp(",")) break;
        this.advance();
        if (this.isKeyword("in")) break;
      }
      this.expectKeyword("in", "expected 'in' in comprehension");
      this.parseDisjunction();
      while (this.isKeyword("if")) {
        this.advance();
        this.parseDisjunction();
      }
    }
  }

  private parseAtom(): Node {
    const t = this.peek();
    switch (t.type) {
      case "name":
        this.advance();
        return { t: "name", pos: t.pos, id: t.text };
      case "number":
        this.advance();
        return { t: "const", pos: t.pos, value: t.value as Value };
      case "string":
        return this.parseStrings();
      case "keyword":
        if (t.text === "True" || t.text === "False" || t.text === "None") {
          this.advance();
          return { t: "const", pos: t.pos, value: t.text === "None" ? null : t.text === "True" };
        }
        return this.unexpected(t);
      case "op":
        if (t.text === "...") {
          this.advance();
          return { t: "const", pos: t.pos, value: ELLIPSIS };
        }
        if (t.text === "(") return this.parseParenthesised();
        if (t.text === "[") return this.parseList();
        if (t.text === "{") return this.parseBraces();
        return this.unexpected(t);
      default:
        return this.unexpected(t);
    }
  }

  /** Adjacent string literals concatenate; f-strings and t-strings are refused. */
  private parseStrings(): Node {
    const first = this.peek();
    let text = "";
    let refused: string | undefined;
    const isBytes = first.kind === "bytes";
    while (this.peek().type === "string") {
      const t = this.advance();
      if ((t.kind === "bytes") !== isBytes) this.fail("cannot mix bytes and nonbytes literals", t.pos);
      if (t.kind === "f") refused ??= "JoinedStr";
      else if (t.kind === "t") refused ??= "TemplateStr";
      else text += t.value instanceof PyBytes ? t.value.latin1 : (t.value as string);
    }
    if (refused !== undefined) return bad(refused, first.pos);
    return { t: "const", pos: first.pos, value: isBytes ? new PyBytes(text) : text };
  }

  private parseParenthesised(): Node {
    const open = this.advance();
    this.enter(open.pos);
    let node: Node;
    if (this.isOp(")")) {
      node = { t: "seq", pos: open.pos, elts: [] };
    } else if (this.isKeyword("yield")) {
      const y = this.advance();
      let what = "Yield";
      if (this.isKeyword("from")) {
        this.advance();
        this.parseExpression();
        what = "YieldFrom";
      } else if (this.startsExpression()) {
        this.parseExpressionList();
      }
      node = bad(what, y.pos);
    } else {
      const first = this.parseStarNamed();
      if (this.startsComprehension()) {
        this.parseComprehension();
        node = bad("GeneratorExp", open.pos);
      } else if (this.isOp(",")) {
        const elts = [first];
        while (this.isOp(",")) {
          this.advance();
          if (this.isOp(")")) break;
          elts.push(this.parseStarNamed());
        }
        node = { t: "seq", pos: open.pos, elts };
      } else {
        node = first;
      }
    }
    this.expectOp(")");
    this.leave();
    return node;
  }

  private parseList(): Node {
    const open = this.advance();
    this.enter(open.pos);
    const elts: Node[] = [];
    let node: Node | undefined;
    if (!this.isOp("]")) {
      elts.push(this.parseStarNamed());
      if (this.startsComprehension()) {
        this.parseComprehension();
        node = bad("ListComp", open.pos);
      } else {
        while (this.isOp(",")) {
          this.advance();
          if (this.isOp("]")) break;
          elts.push(this.parseStarNamed());
        }
      }
    }
    this.expectOp("]");
    this.leave();
    return node ?? { t: "seq", pos: open.pos, elts };
  }

  /** `{}` and `{k: v}` are dicts (refused); `{a, b}` is a set (a tuple here). */
  private parseBraces(): Node {
    const open = this.advance();
    this.enter(open.pos);
    let node: Node;
    let isDict = true;
    let first: Node | undefined;
    if (this.isOp("**")) {
      this.parseDictItem();
    } else if (!this.isOp("}")) {
      first = this.parseStarNamed();
      isDict = this.isOp(":");
      if (isDict) {
        this.advance();
        this.parseExpression();
      }
    }
    if (isDict) {
      node = bad("Dict", open.pos);
      if (first !== undefined && this.startsComprehension()) {
        this.parseComprehension();
        node = bad("DictComp", open.pos);
      } else {
        while (this.isOp(",")) {
          this.advance();
          if (this.isOp("}")) break;
          this.parseDictItem();
        }
      }
    } else if (this.startsComprehension()) {
      this.parseComprehension();
      node = bad("SetComp", open.pos);
    } else {
      const elts: Node[] = [first as Node];
      while (this.isOp(",")) {
        this.advance();
        if (this.isOp("}")) break;
        elts.push(this.parseStarNamed());
      }
      node = { t: "seq", pos: open.pos, elts };
    }
    this.expectOp("}");
    this.leave();
    return node;
  }

  private parseDictItem(): void {
    if (this.isOp("**")) {
      this.advance();
      this.parseBinary();
      return;
    }
    this.parseExpression();
    this.expectOp(":");
    this.parseExpression();
  }
}

function describe(t: Token): string {
  switch (t.type) {
    case "end":
      return "end of expression";
    case "newline":
      return "newline";
    case "name":
      return `name '${t.text}'`;
    case "keyword":
      return `keyword '${t.text}'`;
    case "number":
      return `number ${t.text}`;
    case "string":
      return `string ${t.text.length > 20 ? `${t.text.slice(0, 20)}…` : t.text}`;
    default:
      return `'${t.text}'`;
  }
}

/**
 * Parses a filter expression and checks it against the allowed constructs.
 *
 * @throws ExpressionError for syntax errors and disallowed constructs.
 */
function parseFilter(expr: string): Node {
  if (/^\s/u.test(expr)) {
    throw new ExpressionError("invalid filter expression: unexpected indent at position 0", expr, {
      position: 0,
    });
  }
  const tree = new Parser(expr).parse();
  const refused = firstDisallowed(tree);
  if (refused !== undefined && refused.t === "bad") {
    throw new ExpressionError(
      `disallowed syntax in filter: ${refused.what} at position ${refused.pos}`,
      expr,
      {
        position: refused.pos,
      },
    );
  }
  return tree;
}

// ---------------------------------------------------------------------------
// Compilation to closures

type Evaluator = (ctx: Context) => Value;

function keyValue(value: unknown, name: string, expr: string, pos: number): Value {
  switch (typeof value) {
    case "number":
    case "string":
    case "bigint":
    case "boolean":
      return value;
    default:
      if (value === null) return null;
      throw new ExpressionError(
        `partition key '${name}' has a value of unsupported type ${typeof value} at position ${pos}`,
        expr,
        { position: pos },
      );
  }
}

function failAt(err: unknown, expr: string, pos: number): never {
  if (err instanceof EvalFailure) {
    throw new ExpressionError(`${err.message} at position ${pos}`, expr, { position: pos });
  }
  throw err;
}

function compileNode(node: Node, expr: string): Evaluator {
  switch (node.t) {
    case "const": {
      const value = node.value;
      return () => value;
    }
    case "name": {
      const { id, pos } = node;
      return (ctx) => {
        if (!Object.hasOwn(ctx, id)) {
          throw new ExpressionError(`unknown partition key '${id}' at position ${pos}`, expr, {
            position: pos,
          });
        }
        return keyValue(ctx[id], id, expr, pos);
      };
    }
    case "seq": {
      const items = node.elts.map((e) => compileNode(e, expr));
      return (ctx) => items.map((f) => f(ctx));
    }
    case "bool": {
      const items = node.values.map((e) => compileNode(e, expr));
      if (node.and) {
        return (ctx) => {
          for (const f of items) if (!truthy(f(ctx))) return false;
          return true;
        };
      }
      return (ctx) => {
        for (const f of items) if (truthy(f(ctx))) return true;
        return false;
      };
    }
    case "unary": {
      const operand = compileNode(node.operand, expr);
      const { op, pos } = node;
      if (op === "not") return (ctx) => !truthy(operand(ctx));
      if (op === "~")
        throw new ExpressionError(`disallowed syntax in filter: Invert at position ${pos}`, expr, {
          position: pos,
        });
      return (ctx) => {
        try {
          return unaryNumber(op, operand(ctx));
        } catch (err) {
          return failAt(err, expr, pos);
        }
      };
    }
    case "cmp": {
      const left = compileNode(node.left, expr);
      const rights = node.rights.map((e) => compileNode(e, expr));
      const ops = node.ops;
      return (ctx) => {
        let current = left(ctx);
        for (let i = 0; i < rights.length; i++) {
          const right = (rights[i] as Evaluator)(ctx);
          const { op, pos } = ops[i] as { op: CompareOp; pos: number };
          let ok: boolean;
          try {
            ok = applyCompare(op, current, right);
          } catch (err) {
            return failAt(err, expr, pos);
          }
          if (!ok) return false;
          current = right;
        }
        return true;
      };
    }
    default:
      throw new ExpressionError(`disallowed syntax in filter: ${node.what} at position ${node.pos}`, expr, {
        position: node.pos,
      });
  }
}
