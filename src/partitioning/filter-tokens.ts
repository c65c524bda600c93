/**
 * The tokens of the filter language: names, numbers and strings written as in
 * Python, operators, line breaks (docs/behaviour.md §7). Lexical errors carry
 * Python's wording ("unterminated string literal", "'(' was never closed").
 *
 * @module
 */

import { ExpressionError } from "../errors.js";
import type { Value } from "./filter-values.js";

/** A token; `pos` is its 0-based offset in UTF-16 code units. */
export interface Token {
  readonly type: "name" | "keyword" | "number" | "string" | "op" | "newline" | "end";
  /** The text as written (a name is NFKC-normalised, as Python does). */
  readonly text: string;
  readonly pos: number;
  /** The value of a number or a string. */
  readonly value?: Value;
}

/** `invalid filter expression: <what> at position <pos>[; <hint>]`. */
export function syntaxError(src: string, what: string, pos: number, hint?: string): ExpressionError {
  const message = `invalid filter expression: ${what} at position ${pos}${hint === undefined ? "" : `; ${hint}`}`;
  return new ExpressionError(message, src, { position: pos });
}

/** Python's keywords: none of them can name a key. */
const KEYWORDS = new Set(
  (
    "False None True and as assert async await break class continue def del elif else except finally for " +
    "from global if import in is lambda nonlocal not or pass raise return try while with yield"
  ).split(" "),
);
const IDENTIFIER = /[\p{XID_Start}_]\p{XID_Continue}*/uy;
/** Every Python operator, so that a refused one is reported whole (`+=`, `**`, `:=`). */
const OPERATOR =
  /\*\*=|\/\/=|>>=|<<=|\.\.\.|[-+*/%&|^@=!<>:]=|<<|>>|\*\*|\/\/|->|[()[\]{},:.;+\-*/%&|^~<>=@]/y;
/** Digits of each radix, `_` allowed between two of them. */
const DIGITS: Record<string, [RegExp, string]> = {
  "": [/[0-9](?:_?[0-9])*/y, "decimal"],
  x: [/[0-9a-f](?:_?[0-9a-f])*/iy, "hexadecimal"],
  o: [/[0-7](?:_?[0-7])*/y, "octal"],
  b: [/[01](?:_?[01])*/y, "binary"],
};
/** The rest of a string literal after its opening quote(s), up to and including the closing one(s). */
const BODY: Record<string, RegExp> = {
  "'": /(?:[^\\'\r\n]|\\[\s\S])*'/y,
  '"': /(?:[^\\"\r\n]|\\[\s\S])*"/y,
  "'''": /(?:[^\\]|\\[\s\S])*?'''/y,
  '"""': /(?:[^\\]|\\[\s\S])*?"""/y,
};
/** An escape: `\x41`, `\u00e9`, `\U0001F600`, `\101` (octal), or a backslash and any character. */
const ESCAPE = /\\(x[\da-fA-F]{2}|u[\da-fA-F]{4}|U[\da-fA-F]{8}|[0-7]{1,3}|\r\n|[\s\S])/g;
/** Python's escapes of one character; a backslash before a line break continues the line. */
const ESCAPES: Record<string, string> = {
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
  "\n": "",
  "\r": "",
  "\r\n": "",
};
const PAIRS: Record<string, string> = { ")": "(", "]": "[", "}": "{" };
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const hex = (cp: number) => `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;

/**
 * A reader of the tokens of an expression: each call returns the next token,
 * then `end` for ever. Tokens are made as the parser asks for them, so that
 * they die young. Line breaks inside brackets, comments and `\`
 * continuations are dropped; a line break elsewhere is a `newline` token.
 *
 * @throws ExpressionError (see {@link syntaxError}) for text that is not a token.
 */
export function tokenize(src: string): () => Token {
  const tokens: Token[] = []; // read but not yet returned
  let emitted = 0;
  const open: Token[] = [];
  const fail = (what: string, pos: number, hint?: string): never => {
    throw syntaxError(src, what, pos, hint);
  };
  const push = (type: Token["type"], pos: number, end: number, value?: Value): number => {
    const text = src.slice(pos, end);
    const ascii = type !== "name" || !/[^\0-\x7f]/.test(text);
    tokens.push({ type, text: ascii ? text : text.normalize("NFKC"), pos, value });
    emitted++;
    return end;
  };
  const matchAt = (re: RegExp, i: number): string | undefined => {
    re.lastIndex = i;
    return re.test(src) ? src.slice(i, re.lastIndex) : undefined;
  };
  const digits = (radix: string, i: number): number => {
    const [re, kind] = DIGITS[radix] as [RegExp, string];
    const end = i + (matchAt(re, i)?.length ?? 0);
    return end > i && src[end] === "_" ? fail(`invalid ${kind} literal`, end) : end;
  };

  const number = (pos: number): number => {
    // The common case first: a decimal integer of at most 15 digits, such as 2024, read exactly by Number.
    let end = pos;
    while (end - pos < 16 && src.charCodeAt(end) >= 48 && src.charCodeAt(end) <= 57) end++;
    if (
      end - pos < 16 &&
      (src[pos] !== "0" || end === pos + 1) &&
      !/[\w.\u0080-\uffff]/.test(src[end] ?? "")
    ) {
      return push("number", pos, end, Number(src.slice(pos, end)));
    }
    const radix = /^0[xob]/i.test(src.slice(pos, pos + 2)) ? (src[pos + 1] as string).toLowerCase() : "";
    const first = radix === "" ? pos : src[pos + 2] === "_" ? pos + 3 : pos + 2;
    const kind = (DIGITS[radix] as [RegExp, string])[1];
    end = digits(radix, first);
    let integer = true;
    if (radix === "") {
      if (src[end] === ".") [integer, end] = [false, digits("", end + 1)];
      const exponent = /^[eE][+-]?\d/.exec(src.slice(end, end + 3))?.[0];
      if (exponent !== undefined) [integer, end] = [false, digits("", end + exponent.length - 1)];
      if (src[end] === "j" || src[end] === "J") {
        fail("unexpected 'j'", end, "complex numbers are not allowed in a filter");
      }
    } else {
      if (radix !== "x" && /\d/.test(src[end] ?? ""))
        fail(`invalid digit '${src[end]}' in ${kind} literal`, end);
      if (end === first) fail(`invalid ${kind} literal`, pos);
    }
    // Only a keyword may follow a number directly (`1or 2`), as in Python.
    const word = /[\w\u0080-\uffff]/.test(src[end] ?? "") ? (matchAt(IDENTIFIER, end) ?? "") : undefined;
    if (word !== undefined && !/^(and|or|not|in|is|if|else|for)$/.test(word))
      fail(`invalid ${kind} literal`, pos);
    const clean = src.slice(first, end).replaceAll("_", "");
    if (integer && radix === "" && /^0+[1-9]/.test(clean)) {
      fail(
        "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers",
        pos,
      );
    }
    const big = integer ? BigInt(radix === "" ? clean : `0${radix}${clean}`) : undefined;
    return push("number", pos, end, big === undefined ? Number(clean) : big <= MAX_SAFE ? Number(big) : big);
  };

  const string = (pos: number, i: number, raw: boolean): number => {
    const quote = src.startsWith((src[i] as string).repeat(3), i)
      ? (src[i] as string).repeat(3)
      : (src[i] as string);
    const rest = matchAt(BODY[quote] as RegExp, i + quote.length);
    if (rest === undefined)
      fail(`unterminated ${quote.length === 3 ? "triple-quoted " : ""}string literal`, pos);
    const start = i + quote.length;
    const end = start + (rest as string).length;
    const decode = (match: string, e: string, at: number): string => {
      const width = { x: 2, u: 4, U: 8 }[e[0] as "x"];
      const code = Number.parseInt(e.slice(1), 16);
      if (width !== undefined && e.length === 1)
        fail(`truncated \\${e}${"X".repeat(width)} escape`, start + at);
      if (width !== undefined && code > 0x10ffff) fail("illegal Unicode character in \\U escape", start + at);
      if (width !== undefined) return String.fromCodePoint(code);
      if (e === "N") fail("\\N{name} escapes are not supported", start + at);
      return /^[0-7]/.test(e) ? String.fromCharCode(Number.parseInt(e, 8)) : (ESCAPES[e] ?? match);
    };
    const body = src.slice(start, end - quote.length);
    return push("string", pos, end, raw ? body : body.replace(ESCAPE, decode));
  };

  let i = 0;
  /** Reads a token, or a comment, a line continuation or a line break inside brackets. */
  const step = (): void => {
    const indent = i;
    while (src[i] === " " || src[i] === "\t" || src[i] === "\f") i++;
    const c = src[i];
    if (c === undefined) {
      const unclosed = open.pop();
      if (unclosed !== undefined) fail(`'${unclosed.text}' was never closed`, unclosed.pos);
      push("end", src.length, src.length);
    } else if (c === "#") {
      while (i < src.length && src[i] !== "\n" && src[i] !== "\r") i++;
    } else if (c === "\n" || c === "\r") {
      i += src.startsWith("\r\n", i) ? 2 : 1;
      if (open.length === 0 && emitted > 0) push("newline", i - 1, i);
    } else if (c === "\\") {
      if (src[i + 1] !== "\n" && src[i + 1] !== "\r") {
        fail("unexpected character after line continuation character", i);
      }
      i += src.startsWith("\r\n", i + 1) ? 3 : 2;
    } else if (emitted === 0 && i > indent) {
      fail("unexpected indent", indent);
    } else if (/\d/.test(c) || (c === "." && /\d/.test(src[i + 1] ?? ""))) {
      i = number(i);
    } else if (c === "'" || c === '"') {
      i = string(i, i, false);
    } else {
      const word = matchAt(IDENTIFIER, i);
      const op = word !== undefined ? undefined : ",()[]{}".includes(c) ? c : matchAt(OPERATOR, i);
      if (word !== undefined) {
        const pos = i;
        i += word.length;
        const prefix = /^['"]/.test(src[i] ?? "") ? word.toLowerCase() : "";
        if (prefix === "r" || prefix === "u") i = string(pos, i, prefix === "r");
        else if (/^([bft]r?|r[bft])$/.test(prefix)) {
          const kind = prefix.includes("b")
            ? "bytes literals"
            : prefix.includes("f")
              ? "f-strings"
              : "t-strings";
          fail(`unexpected string prefix '${word}'`, pos, `${kind} are not allowed in a filter`);
        } else if (KEYWORDS.has(word)) push("keyword", pos, i);
        else push("name", pos, i);
      } else if (op !== undefined) {
        const opener =
          PAIRS[op] === undefined ? undefined : (open.pop()?.text ?? fail(`unmatched '${op}'`, i));
        if (opener !== undefined && opener !== PAIRS[op]) {
          fail(`closing parenthesis '${op}' does not match opening parenthesis '${opener}'`, i);
        }
        i = push("op", i, i + op.length);
        if (op === "(" || op === "[" || op === "{") open.push(tokens.at(-1) as Token);
      } else {
        const cp = src.codePointAt(i) as number;
        if (cp === 0) fail("null byte", i);
        if (cp < 32 || cp === 127 || (cp >= 0x80 && cp < 0xa0) || /\s/u.test(String.fromCodePoint(cp))) {
          fail(`invalid non-printable character ${hex(cp)}`, i);
        }
        const hint = c === "!" ? "use 'not' to negate a condition" : undefined;
        fail(`invalid character '${String.fromCodePoint(cp)}' (${hex(cp)})`, i, hint);
      }
    }
  };
  return () => {
    while (tokens.length === 0) step();
    return tokens.shift() as Token;
  };
}
