/**
 * The partition filter language (docs/behaviour.md §7): a boolean expression over the
 * components of a partition key, such as `year == 2024 and 1 <= month <= 3`,
 * `(year, month) >= (2024, 3)`, `cycle_number in (31, 32)` or `pass > -1`.
 * {@link compileFilter} reads it with a tokenizer and a recursive-descent
 * parser of this grammar (never `eval`), into a predicate over key
 * dictionaries ({@link keyToDict}):
 *
 * ```text
 * filter     = items                                  two or more items: a tuple
 * items      = expression ("," expression)* [","]
 * expression = and ("or" and)*
 * and        = not ("and" not)*
 * not        = "not" not | comparison
 * comparison = unary (("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not" "in") unary)*
 * unary      = ("-" | "+") unary | atom
 * atom       = name | number | string+ | "True" | "False" | "None"
 *            | "(" [items] ")" | "[" [items] "]" | "{" items "}"
 * ```
 *
 * Names, numbers and strings are Python's: identifiers other than Python
 * keywords; `2024`, `0x7e8`, `0o7`, `0b1`, `1_000`, `1.5`, `.5`, `1e3`;
 * `'a'`, `"a"`, `'''a'''`, `r'a'`, `u'a'` with Python's escapes, adjacent
 * strings joined. `#` comments, line breaks inside brackets and `\`
 * continuations are allowed, leading whitespace is not ("unexpected indent").
 *
 * Evaluation is Python's: `and`, `or`, `not` short-circuit and give booleans;
 * `a < b < c` evaluates each operand at most once and stops at the first
 * false link; brackets of all three kinds make tuples, compared element by
 * element; `==` between different types is false, ordering them is an error,
 * as is `in` against anything but a tuple or a string (a substring test). A
 * name is looked up only when evaluated: `year == 2023 and bogus` is false
 * for year 2024. Unlike Python zcollection, unary signs are allowed
 * (`cycle > -1`); bytes, complex numbers and `...` are not values; an integer
 * key compared with a string literal (`year == '2024'`, `year in ('2024',)`)
 * is an error rather than a silent mismatch.
 *
 * Anything else is an ExpressionError `invalid filter expression: unexpected
 * … at position N`, with a hint in plain words where one helps (`function
 * calls are not allowed in a filter`, `use == to compare`). Positions count
 * UTF-16 code units from 0. Refusing text longer than {@link MAX_FILTER_LENGTH}
 * or nested deeper than {@link MAX_FILTER_DEPTH} bounds the time and the stack.
 *
 * @module
 */

import { ExpressionError } from "../errors.js";
import { syntaxError, type Token, tokenize } from "./filter-tokens.js";
import { compare, EvalFailure, repr, sign, truthy, type Value } from "./filter-values.js";

/** The key dictionary a filter is evaluated on: `{ year: 2024, month: 3 }`. */
export type FilterKey = Record<string, number | string>;
/** A compiled filter: whether a partition (given its key dictionary) is selected. */
export type FilterPredicate = (key: Record<string, number | string>) => boolean;
/** What {@link compileFilter} accepts: an expression, a predicate, or nothing (select all). */
export type FilterInput = string | FilterPredicate | null | undefined;
/** Deepest nesting of brackets, `not` and unary signs a filter may have. */
export const MAX_FILTER_DEPTH = 200;
/** Longest filter accepted, in UTF-16 code units (1 MiB, compiled in well under a second). */
export const MAX_FILTER_LENGTH = 1 << 20;

/**
 * Compiles a filter into a predicate over key dictionaries: `null`,
 * `undefined` and `""` select everything, a function is returned unchanged,
 * a string is parsed now and evaluated on each call.
 *
 * @example
 * compileFilter("year == 2024 and 1 <= month <= 3")({ year: 2024, month: 2 }); // true
 *
 * @throws ExpressionError for text outside the language or longer than
 *   {@link MAX_FILTER_LENGTH}. The predicate throws ExpressionError when it
 *   evaluates a name missing from the key (`unknown partition key 'x'`),
 *   orders incomparable values (`2024 < 'a'`), applies `in` to a value that
 *   is not a container, or compares an integer key with a string literal.
 */
export function compileFilter(expr: FilterInput): FilterPredicate {
  if (expr === null || expr === undefined || expr === "") return () => true;
  if (typeof expr === "function") return expr;
  if (typeof expr !== "string") {
    throw new ExpressionError(
      `filter must be a string, a function or null; got ${typeof expr}`,
      String(expr),
    );
  }
  if (expr.length > MAX_FILTER_LENGTH) {
    const message = `filter expression of ${expr.length} characters is longer than MAX_FILTER_LENGTH (${MAX_FILTER_LENGTH})`;
    throw new ExpressionError(message, `${expr.slice(0, 80)}…`, { position: MAX_FILTER_LENGTH });
  }
  const fn = new Parser(expr).parse();
  return (key) => truthy(fn(key));
}

// ---------------------------------------------------------------------------
// Parser: each rule returns the evaluator of what it read.

type Context = Readonly<Record<string, unknown>>;

/**
 * An evaluator, and what the parser knows of it: `literal` for a constant
 * (unary signs fold into it), `key` for a bare name, `text` for a string
 * literal or a bracket `display` holding one.
 */
type Expr = ((ctx: Context) => Value) & { literal?: boolean; key?: string; text?: string; display?: boolean };

/** What an operator or keyword found where it does not belong probably meant. */
const HINTS: [RegExp, string][] = [
  [/^\($/, "function calls are not allowed in a filter"],
  [/^\[$/, "indexing is not allowed in a filter"],
  [/^\.$/, "attribute access is not allowed in a filter"],
  [/^\.\.\.$/, "'...' is not a value in a filter"],
  [/^=$/, "use == to compare"],
  [/^(:|\*\*|\/\/|<<|>>|[-+*/%&|^@])=$/, "assignments are not allowed in a filter"],
  [/^(\*\*?|\/\/?|[-+%@])$/, "arithmetic is not allowed in a filter"],
  [/^(\^|<<|>>)$/, "bitwise operators are not allowed in a filter"],
  [/^&$/, "use 'and' to combine conditions"],
  [/^\|$/, "use 'or' to combine conditions"],
  [/^~$/, "use 'not' to negate a condition"],
  [/^is$/, "use == or != to compare"],
  [/^(if|else)$/, "conditional expressions are not allowed in a filter"],
  [/^for$/, "comprehensions are not allowed in a filter"],
  [/^lambda$/, "functions are not allowed in a filter"],
];

function constant(value: Value): Expr {
  const e: Expr = () => value;
  e.literal = true;
  if (typeof value === "string") e.text = value;
  return e;
}

/** A tuple of `items`, or of `values` when all of them are literals. */
function tuple(items: readonly Expr[], values?: readonly Value[]): Expr {
  const e: Expr = values === undefined ? (ctx) => items.map((item) => item(ctx)) : () => values;
  e.display = true;
  const text =
    values?.find((v) => typeof v === "string") ?? items.find((item) => item.literal && item.text)?.text;
  e.text = typeof text === "string" ? text : undefined;
  return e;
}

/**
 * The key and the string of `key == 'text'`, `'text' != key`, `key in ('text',
 * …)` or `key not in [..., 'text']`: an error once the key's value is known to
 * be an integer, where Python would silently find them different.
 */
function stringOperand(
  op: string,
  a: Expr,
  b: Expr,
): { key: string; text: string; keyFirst: boolean } | undefined {
  if (op === "in" || op === "not in") {
    return a.key !== undefined && b.display && b.text !== undefined
      ? { key: a.key, text: b.text, keyFirst: true }
      : undefined;
  }
  if (op !== "==" && op !== "!=") return undefined;
  if (a.key !== undefined && b.literal && b.text !== undefined)
    return { key: a.key, text: b.text, keyFirst: true };
  if (b.key !== undefined && a.literal && a.text !== undefined)
    return { key: b.key, text: a.text, keyFirst: false };
  return undefined;
}

class Parser {
  private readonly next: () => Token;
  /** The tokens read ahead. */
  private readonly ahead: Token[] = [];
  /** The token read last. */
  private previous: Token | undefined;
  private depth = 0;

  constructor(private readonly src: string) {
    if (/^\s/u.test(src)) throw syntaxError(src, "unexpected indent", 0);
    this.next = tokenize(src);
  }

  /** `items NEWLINE* END`: the whole filter. */
  parse(): Expr {
    if (this.peek().type === "end") throw syntaxError(this.src, "empty expression", this.peek().pos);
    const items = [this.expression()];
    const comma = this.is("op", ",");
    while (this.accept("op", ",")) {
      const t = this.peek(); // `year,` is a tuple: stop at a trailing comma
      if (!/^(name|number|string)$/.test(t.type) && !/^([([{+-]|not|True|False|None)$/.test(t.text)) break;
      items.push(this.expression());
    }
    while (this.peek().type === "newline") this.advance();
    if (this.peek().type !== "end") this.unexpected();
    return comma ? tuple(items) : (items[0] as Expr);
  }

  private peek(n = 0): Token {
    while (this.ahead.length <= n) this.ahead.push(this.next());
    return this.ahead[n] as Token;
  }

  private advance(): Token {
    this.previous = this.peek();
    this.ahead.shift();
    return this.previous;
  }

  private is(type: Token["type"], text: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t.type === type && t.text === text;
  }

  private accept(type: Token["type"], text: string): boolean {
    if (!this.is(type, text)) return false;
    this.advance();
    return true;
  }

  /** Fails on the current token, with a hint of what was probably meant. */
  private unexpected(hint?: string): never {
    const t = this.peek();
    const prev = this.previous;
    const afterValue = /^(name|number|string|True|False|None|[)\]}])$/.test(
      prev?.type === "op" || prev?.type === "keyword" ? prev.text : (prev?.type ?? ""),
    );
    if (hint === undefined && (t.type === "op" || t.type === "keyword")) {
      const unpacking = (t.text === "*" || t.text === "**") && !afterValue;
      hint = unpacking ? "unpacking is not allowed in a filter" : HINTS.find(([re]) => re.test(t.text))?.[1];
    }
    throw syntaxError(this.src, `unexpected ${describe(t)}`, t.pos, hint);
  }

  private enter(pos: number): void {
    if (++this.depth > MAX_FILTER_DEPTH) {
      throw syntaxError(this.src, `expression nested too deeply (more than ${MAX_FILTER_DEPTH} levels)`, pos);
    }
  }

  private expression(): Expr {
    const items = [this.conjunction()];
    while (this.accept("keyword", "or")) items.push(this.conjunction());
    return items.length === 1 ? (items[0] as Expr) : (ctx) => items.some((f) => truthy(f(ctx)));
  }

  private conjunction(): Expr {
    const items = [this.inversion()];
    while (this.accept("keyword", "and")) items.push(this.inversion());
    return items.length === 1 ? (items[0] as Expr) : (ctx) => items.every((f) => truthy(f(ctx)));
  }

  private inversion(): Expr {
    if (!this.is("keyword", "not")) return this.comparison();
    this.enter(this.advance().pos);
    const operand = this.inversion();
    this.depth--;
    return (ctx) => !truthy(operand(ctx));
  }

  private comparison(): Expr {
    const operands = [this.unary()];
    const links: { op: string; pos: number; clash: ReturnType<typeof stringOperand> }[] = [];
    for (;;) {
      const t = this.peek();
      const notIn = this.is("keyword", "not") && this.is("keyword", "in", 1);
      if (!((t.type === "op" && /^([=!<>]=|<|>)$/.test(t.text)) || this.is("keyword", "in") || notIn)) break;
      const op = notIn ? "not in" : t.text;
      this.advance();
      if (notIn) this.advance();
      operands.push(this.unary());
      links.push({
        op,
        pos: t.pos,
        clash: stringOperand(op, operands.at(-2) as Expr, operands.at(-1) as Expr),
      });
    }
    if (links.length === 0) return operands[0] as Expr;
    return (ctx) => {
      let left = (operands[0] as Expr)(ctx);
      for (const [i, { op, pos, clash }] of links.entries()) {
        const right = (operands[i + 1] as Expr)(ctx);
        const keyValue = clash?.keyFirst ? left : right;
        if (clash !== undefined && (typeof keyValue === "number" || typeof keyValue === "bigint")) {
          const what = `cannot compare integer partition key '${clash.key}' with the string ${repr(clash.text)}`;
          const message = `${what} at position ${pos}; remove the quotes to compare numbers`;
          throw new ExpressionError(message, this.src, { position: pos });
        }
        if (!this.evaluate(pos, () => compare(op, left, right))) return false;
        left = right;
      }
      return true;
    };
  }

  private unary(): Expr {
    const t = this.peek();
    if (t.type !== "op" || (t.text !== "-" && t.text !== "+")) return this.atom();
    this.advance();
    this.enter(t.pos);
    const operand = this.unary();
    this.depth--;
    if (operand.literal) return constant(this.evaluate(t.pos, () => sign(t.text, operand({}))));
    const [op, pos] = [t.text, t.pos];
    return (ctx) => this.evaluate(pos, () => sign(op, operand(ctx)));
  }

  private atom(): Expr {
    const t = this.peek();
    if (t.type === "name") {
      this.advance();
      const [id, pos] = [t.text, t.pos]; // not the token, which the predicate would keep alive
      const name: Expr = (ctx) => this.lookup(ctx, id, pos);
      name.key = id;
      return name;
    }
    if (t.type === "number" || (t.type === "keyword" && /^(True|False|None)$/.test(t.text))) {
      this.advance();
      return constant(
        t.type === "number" ? (t.value as Value) : t.text === "None" ? null : t.text === "True",
      );
    }
    let text = ""; // adjacent strings are joined
    while (this.peek().type === "string") text += this.advance().value as string;
    if (t.type === "string") return constant(text);
    if (t.type !== "op" || !/^[([{]$/.test(t.text)) return this.unexpected();
    // `(…)`, `[…]` and `{…}` are tuples, but `(x)` is `x`; `{}` and `{k: v}` are dictionaries.
    const close = { "(": ")", "[": "]", "{": "}" }[t.text as "("];
    this.advance();
    this.enter(t.pos);
    let items: Expr[] = [];
    // While all items are literals, their values: a long list of cycles keeps no closure per item.
    let values: Value[] | undefined = [];
    let comma = false;
    if (close === "}" && this.is("op", "}"))
      this.unexpected("'{}' is a dictionary; write () for an empty tuple");
    while (!this.is("op", close)) {
      const item = this.expression();
      if (values !== undefined && item.literal) values.push(item({}));
      else {
        if (values !== undefined) [items, values] = [values.map(constant), undefined];
        items.push(item);
      }
      if (close === "}" && this.is("op", ":")) this.unexpected("dictionaries are not allowed in a filter");
      if (!this.accept("op", ",")) break;
      comma = true;
    }
    if (!this.accept("op", close)) this.unexpected();
    this.depth--;
    if (close !== ")" || comma || (values ?? items).length !== 1) return tuple(items, values);
    return values === undefined ? (items[0] as Expr) : constant(values[0] as Value);
  }

  private lookup(ctx: Context, id: string, pos: number): Value {
    if (!Object.hasOwn(ctx, id)) {
      throw new ExpressionError(`unknown partition key '${id}' at position ${pos}`, this.src, {
        position: pos,
      });
    }
    const value = ctx[id];
    if (value === null || /^(number|string|bigint|boolean)$/.test(typeof value)) return value as Value;
    const message = `partition key '${id}' has a value of unsupported type ${typeof value} at position ${pos}`;
    throw new ExpressionError(message, this.src, { position: pos });
  }

  /** Runs a step of the value layer, turning its failure into an ExpressionError at `pos`. */
  private evaluate<T>(pos: number, step: () => T): T {
    try {
      return step();
    } catch (err) {
      if (!(err instanceof EvalFailure)) throw err;
      throw new ExpressionError(`${err.message} at position ${pos}`, this.src, { position: pos });
    }
  }
}

function describe(t: Token): string {
  if (t.type === "end" || t.type === "newline") return t.type === "end" ? "end of expression" : "newline";
  if (t.type === "op") return `'${t.text}'`;
  if (t.type === "name" || t.type === "keyword") return `${t.type} '${t.text}'`;
  return `${t.type} ${t.text.length > 20 ? `${t.text.slice(0, 20)}…` : t.text}`;
}
