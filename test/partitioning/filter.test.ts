import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ExpressionError, isZCollectionError } from "../../src/errors.js";
import { compileFilter, MAX_FILTER_DEPTH, MAX_FILTER_LENGTH } from "../../src/partitioning/index.js";

const KEY = { year: 2024, month: 3, day: 5, cycle: 31, pass_number: -2, mission: "s3a" };

/**
 * Expressions and their value over KEY. Every row was checked against Python's
 * own `eval` over the same names, except the two marked rows where list
 * displays evaluate to tuples as docs/behaviour.md §7 specifies, and the rows with a
 * unary sign, which Python zcollection refuses.
 */
const GRAMMAR: readonly (readonly [string, boolean])[] = [
  ["1 < month < 3", false],
  ["year == 2024", true],
  ["year == 2023", false],
  ["year != 2023", true],
  ["year < 2025", true],
  ["year <= 2024", true],
  ["year > 2024", false],
  ["year >= 2024", true],
  ["1 <= month <= 3", true],
  ["1 <= month <= 2", false],
  ["4 <= month <= 6", false],
  ["1 < month < 4 < day", true],
  ["month == 3 == 3", true],
  ["3 == month != 4", true],
  ["year == 2024 and month == 3", true],
  ["year == 2024 and month == 4", false],
  ["year == 2023 or month == 3", true],
  ["year == 2023 or month == 4", false],
  ["not year == 2023", true],
  ["not not year", true],
  ["not year", false],
  ["not year == 2024 or month == 3", true],
  ["not (year == 2024 or month == 3)", false],
  ["year == 2023 or year == 2024 and month == 4", false],
  ["(year == 2023 or year == 2024) and month == 3", true],
  ["year == 2024 or year == 2023 and month == 4", true],
  ["month in (1, 2, 3)", true],
  ["month in [1, 2]", false],
  ["month in {3}", true],
  ["month not in (1, 2)", true],
  ["month not in [3]", false],
  ["month in ()", false],
  ["(month,) == (3,)", true],
  ["month in (3,)", true],
  ["(year, month) >= (2024, 3)", true],
  ["(year, month) > (2024, 3)", false],
  ["(year, month) < (2024, 4)", true],
  ["(year, month, day) <= (2024, 3, 4)", false],
  ["(year, month) == (2024, 3)", true],
  ["(year, month) != [2024, 3]", false],
  ["(2024,) < (year, month)", true],
  ["() < (year,)", true],
  ["(year, month) in ((2024, 3), (2023, 1))", true],
  ["mission == 's3a'", true],
  ['mission == "s3b"', false],
  ["'3' in mission", true],
  ["'x' not in mission", true],
  ["mission < 's3b'", true],
  ["mission > 'S'", true],
  ["'' in mission", true],
  ["mission == 3", false],
  ["mission in (1, 2)", false],
  ["3 != mission", true],
  ["'2024' == '2024'", true],
  ["(year, '2024') != (2024, 2024)", true],
  ["year in (mission, 2024)", true],
  ["cycle > -1", true],
  ["pass_number == -2", true],
  ["pass_number < -1", true],
  ["-pass_number == 2", true],
  ["-cycle < 0", true],
  ["pass_number in (-2, -1)", true],
  ["pass_number > -2.5", true],
  ["- - 3 == 3", true],
  ["+month == 3", true],
  ["-(1) == -1", true],
  ["0x7e8 == year", true],
  ["0o3 == month", true],
  ["0b11 == month", true],
  ["0X7E8 == year", true],
  ["2_024 == year", true],
  ["0 == 0_0", true],
  ["1.5 < month", true],
  ["month == 3.0", true],
  ["month < 3.000001", true],
  ["3e0 == month", true],
  ["1e999 > year", true],
  ["0.5e1 == 5", true],
  [".5 < 1", true],
  ["1. == 1", true],
  ["True", true],
  ["False", false],
  ["None", false],
  ["True == 1", true],
  ["month > True", true],
  ["None == None", true],
  ["None != 0", true],
  ["'a' 'b' == 'ab'", true],
  ["'it''s' == 'its'", true],
  ["'\\x41\\u0042\\U00000043' == 'ABC'", true],
  ["'\\101' == 'A'", true],
  ["r'\\n' == '\\\\n'", true],
  ["'\\n' == '\\x0a'", true],
  ["'\\q' == '\\\\q'", true],
  ["'''a'b''' == \"a'b\"", true],
  ["u'x' == 'x'", true],
  ["year", true],
  ["0", false],
  ["''", false],
  ["'0'", true],
  ["()", false],
  ["(0,)", true],
  ["[]", false],
  ["0.0", false],
  ["year, month", true],
  ["year,", true],
  ["year == 2024 # a comment", true],
  ["(year ==\n 2024)", true],
  ["year ==\\\n 2024", true],
  ["year == 2024\n", true],
  ["[1,\n 2,\n] == (1, 2)", true],
  ["(year == 2024) == True", true],
  ["(month < 2) in (False,)", true],
  ["((((year))))", true],
  ["99999999999999999999 > year", true],
  ["-99999999999999999999 < pass_number", true],
  ["9007199254740993 != 9007199254740992", true],
  ["year == 2024  ", true],
  ["year == 2024\n\n", true],
  ["year == 2024\r", true],
  ["(year ==\r\n 2024)", true],
];

/** Runs `fn`, expecting an ExpressionError; returns it. */
function expressionError(fn: () => unknown): ExpressionError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ExpressionError, `expected ExpressionError, got ${String(err)}`);
    assert.ok(isZCollectionError(err, "ExpressionError"));
    return err;
  }
  assert.fail("expected an ExpressionError");
}

describe("compileFilter: valid grammar (docs/behaviour.md §7)", () => {
  for (const [expr, expected] of GRAMMAR) {
    it(`${JSON.stringify(expr)} → ${expected}`, () => {
      assert.equal(compileFilter(expr)(KEY), expected);
    });
  }

  it("null, undefined and the empty string select everything", () => {
    for (const expr of [null, undefined, ""]) {
      const f = compileFilter(expr);
      assert.equal(f({}), true);
      assert.equal(f(KEY), true);
    }
  });

  it("passes a predicate function through unchanged", () => {
    const fn = (k: Record<string, number | string>) => k.year === 2024;
    assert.equal(compileFilter(fn), fn);
  });

  it("evaluates each compiled predicate on fresh keys", () => {
    const f = compileFilter("(year, month) >= (2024, 3) and cycle not in (1, 2)");
    assert.equal(f({ year: 2024, month: 3, cycle: 3 }), true);
    assert.equal(f({ year: 2024, month: 2, cycle: 3 }), false);
    assert.equal(f({ year: 2025, month: 1, cycle: 2 }), false);
  });

  it("returns booleans from and/or, not the operand values", () => {
    assert.equal(compileFilter("month and mission")(KEY), true);
    assert.equal(compileFilter("0 or month")(KEY), true);
    assert.equal(compileFilter("'' or 0")(KEY), false);
  });

  it("accepts Unicode identifiers and keys named like builtins", () => {
    assert.equal(compileFilter("année == 2024")({ année: 2024 }), true);
    assert.equal(compileFilter("constructor == 1")({ constructor: 1 }), true);
  });
});

describe("compileFilter: short-circuit and laziness", () => {
  it("does not evaluate unknown names on the skipped side", () => {
    assert.equal(compileFilter("year == 2023 and bogus == 1")(KEY), false);
    assert.equal(compileFilter("year == 2024 or bogus")(KEY), true);
    assert.equal(compileFilter("year < 2000 < bogus")(KEY), false);
    assert.equal(compileFilter("not (year == 2023 and bogus)")(KEY), true);
  });

  it("raises for unknown names that are evaluated, naming the key and position", () => {
    const err = expressionError(() => compileFilter("year == 2024 and bogus == 1")(KEY));
    assert.equal(err.message, "unknown partition key 'bogus' at position 17");
    assert.equal(err.position, 17);
    assert.equal(err.expression, "year == 2024 and bogus == 1");
    expressionError(() => compileFilter("2000 < year < bogus")(KEY));
    expressionError(() => compileFilter("bogus or year")(KEY));
  });

  it("looks names up as own properties only", () => {
    expressionError(() => compileFilter("toString")({}));
    expressionError(() => compileFilter("__proto__")({}));
  });

  it("evaluates every operand of a chain at most once, left to right", () => {
    const seen: string[] = [];
    const key = new Proxy(
      { a: 1, b: 2, c: 3 },
      {
        get(target, name: string) {
          seen.push(name);
          return target[name as "a"];
        },
      },
    );
    assert.equal(compileFilter("a < b < c")(key), true);
    assert.deepEqual(seen, ["a", "b", "c"]);
    seen.length = 0;
    assert.equal(compileFilter("b < a < c")(key), false);
    assert.deepEqual(seen, ["b", "a"]);
  });
});

describe("compileFilter: errors at evaluation", () => {
  it("refuses ordering across incomparable types, naming the operands", () => {
    const err = expressionError(() => compileFilter("year < 'a'")(KEY));
    assert.equal(
      err.message,
      "cannot evaluate 2024 < 'a': '<' not supported between instances of 'int' and 'str' at position 5",
    );
    assert.equal(err.position, 5);
    const tuple = expressionError(() => compileFilter("(1, 'a') < (1, 2)")(KEY));
    assert.match(
      tuple.message,
      /^cannot evaluate \(1, 'a'\) < \(1, 2\): '<' not supported between instances of 'str' and 'int'/,
    );
    expressionError(() => compileFilter("None < 1")(KEY));
    expressionError(() => compileFilter("month < mission")(KEY));
  });

  it("refuses `in` against a non-container and non-strings in strings", () => {
    const err = expressionError(() => compileFilter("year in 3")(KEY));
    assert.equal(
      err.message,
      "cannot evaluate 2024 in 3: argument of type 'int' is not iterable at position 5",
    );
    expressionError(() => compileFilter("month in mission")(KEY));
    expressionError(() => compileFilter("'a' in None")(KEY));
    expressionError(() => compileFilter("'a' in 1.5")(KEY));
  });

  it("refuses unary minus on strings (at compile time for literals)", () => {
    expressionError(() => compileFilter("-'a'"));
    const err = expressionError(() => compileFilter("-mission == 1")(KEY));
    assert.match(err.message, /bad operand type for unary -: 'str' at position 0$/);
  });
});

describe("compileFilter: an integer key compared with a string (issue 12 item 7)", () => {
  const cases: readonly (readonly [string, string, number])[] = [
    ["year == '2024'", "cannot compare integer partition key 'year' with the string '2024'", 5],
    ["year != '2024'", "cannot compare integer partition key 'year' with the string '2024'", 5],
    ["'2010' == year", "cannot compare integer partition key 'year' with the string '2010'", 7],
    ["year in ('2010', '2011')", "cannot compare integer partition key 'year' with the string '2010'", 5],
    ["year not in [2010, '2011']", "cannot compare integer partition key 'year' with the string '2011'", 5],
    ["2000 < year == 'x'", "cannot compare integer partition key 'year' with the string 'x'", 12],
  ];
  for (const [expr, message, position] of cases) {
    it(`${JSON.stringify(expr)} names the key and the string`, () => {
      const err = expressionError(() => compileFilter(expr)(KEY));
      assert.equal(err.message, `${message} at position ${position}; remove the quotes to compare numbers`);
      assert.equal(err.position, position);
      assert.equal(err.expression, expr);
    });
  }

  it("is an error only when the key's value is an integer, and only if that link is evaluated", () => {
    assert.equal(compileFilter("mission == 's3a'")(KEY), true);
    assert.equal(compileFilter("mission in ('s3a', 's3b')")(KEY), true);
    assert.equal(compileFilter("year == '2024'")({ year: "2024" }), true);
    assert.equal(compileFilter("year == 2023 and year == '2023'")(KEY), false);
    assert.equal(compileFilter("year < 2000 < year == 'x'")(KEY), false);
  });
});

describe("compileFilter: constructs outside the language", () => {
  // [expression, what is unexpected, position, hint]
  const calls = "function calls are not allowed in a filter";
  const arithmetic = "arithmetic is not allowed in a filter";
  const bitwise = "bitwise operators are not allowed in a filter";
  const assignments = "assignments are not allowed in a filter";
  const comprehensions = "comprehensions are not allowed in a filter";
  const cases: readonly (readonly [string, string, number, string | undefined])[] = [
    ["__import__('os')", "'('", 10, calls],
    ["year.__class__", "'.'", 4, "attribute access is not allowed in a filter"],
    ["[x for x in y]", "keyword 'for'", 3, comprehensions],
    ["(x for x in y)", "keyword 'for'", 3, comprehensions],
    ["{x for x in y}", "keyword 'for'", 3, comprehensions],
    ["{k: v for k, v in y}", "':'", 2, "dictionaries are not allowed in a filter"],
    ["{}", "'}'", 1, "'{}' is a dictionary; write () for an empty tuple"],
    ["{'a': 1}", "':'", 4, "dictionaries are not allowed in a filter"],
    ["lambda: 1", "keyword 'lambda'", 0, "functions are not allowed in a filter"],
    ["lambda x, *a, y=(1, 2), **k: x", "keyword 'lambda'", 0, "functions are not allowed in a filter"],
    ["year if 1 else 2", "keyword 'if'", 5, "conditional expressions are not allowed in a filter"],
    ["a[0]", "'['", 1, "indexing is not allowed in a filter"],
    ["a[1:2, ::3]", "'['", 1, "indexing is not allowed in a filter"],
    ['f"x"', "string prefix 'f'", 0, "f-strings are not allowed in a filter"],
    ["'a' f'{b}'", "string prefix 'f'", 4, "f-strings are not allowed in a filter"],
    ["T'x'", "string prefix 'T'", 0, "t-strings are not allowed in a filter"],
    ["year = 1", "'='", 5, "use == to compare"],
    ["year == 2024 and month = 3", "'='", 23, "use == to compare"],
    ["(year = 1)", "'='", 6, "use == to compare"],
    ["year += 1", "'+='", 5, assignments],
    ["(year := 1)", "':='", 6, assignments],
    ["year := 1", "':='", 5, assignments],
    ["year + 1 > 2000", "'+'", 5, arithmetic],
    ["year - 1", "'-'", 5, arithmetic],
    ["year * 2", "'*'", 5, arithmetic],
    ["year / 2", "'/'", 5, arithmetic],
    ["year // 2", "'//'", 5, arithmetic],
    ["year % 2 == 0", "'%'", 5, arithmetic],
    ["year ** 2", "'**'", 5, arithmetic],
    ["year @ x", "'@'", 5, arithmetic],
    ["year | 1", "'|'", 5, "use 'or' to combine conditions"],
    ["year && month", "'&'", 5, "use 'and' to combine conditions"],
    ["year ^ 1", "'^'", 5, bitwise],
    ["year << 1", "'<<'", 5, bitwise],
    ["year >> 1", "'>>'", 5, bitwise],
    ["~year", "'~'", 0, "use 'not' to negate a condition"],
    ["year is 1", "keyword 'is'", 5, "use == or != to compare"],
    ["year is not None", "keyword 'is'", 5, "use == or != to compare"],
    ["f(*a, **k, x=1)", "'('", 1, calls],
    ["f(x for x in y)", "'('", 1, calls],
    ["(*a, b)", "'*'", 1, "unpacking is not allowed in a filter"],
    ["[*a]", "'*'", 1, "unpacking is not allowed in a filter"],
    ["{**a}", "'**'", 1, "unpacking is not allowed in a filter"],
    ["year, *a", "'*'", 6, "unpacking is not allowed in a filter"],
    ["await x", "keyword 'await'", 0, undefined],
    ["(yield)", "keyword 'yield'", 1, undefined],
    ["(yield from x)", "keyword 'yield'", 1, undefined],
    ["1(2)", "'('", 1, calls],
    ["'abc'[0]", "'['", 5, "indexing is not allowed in a filter"],
    ["~a or f(x)", "'~'", 0, "use 'not' to negate a condition"],
    ["year == 1 and (a.b or c[0])", "'.'", 16, "attribute access is not allowed in a filter"],
    // Values that Python has and filters do not.
    ["...", "'...'", 0, "'...' is not a value in a filter"],
    ["b'ab' == b'a' b'b'", "string prefix 'b'", 0, "bytes literals are not allowed in a filter"],
    ["97 in Rb'a'", "string prefix 'Rb'", 6, "bytes literals are not allowed in a filter"],
    ["1j == 1j", "'j'", 1, "complex numbers are not allowed in a filter"],
    ["-1.5J != 0", "'j'", 4, "complex numbers are not allowed in a filter"],
  ];
  for (const [expr, what, position, hint] of cases) {
    it(`${JSON.stringify(expr)} → unexpected ${what} at ${position}`, () => {
      const err = expressionError(() => compileFilter(expr));
      const suffix = hint === undefined ? "" : `; ${hint}`;
      assert.equal(
        err.message,
        `invalid filter expression: unexpected ${what} at position ${position}${suffix}`,
      );
      assert.equal(err.position, position);
      assert.equal(err.expression, expr);
    });
  }

  it("never names a Python syntax node", () => {
    for (const expr of ["f(x)", "a.b", "a[0]", "x if y else z", "lambda: 0", "{}", "a + 1", "~a", "a is b"]) {
      assert.doesNotMatch(
        expressionError(() => compileFilter(expr)).message,
        /Call|Attribute|Subscript|IfExp|Lambda|Dict|BinOp|Invert|Is\b|disallowed/,
      );
    }
  });
});

describe("compileFilter: syntax errors", () => {
  const cases: readonly (readonly [string, string, number, string?])[] = [
    ["year ==", "unexpected end of expression", 7],
    ["year == 2024 and", "unexpected end of expression", 16],
    ["'abc", "unterminated string literal", 0],
    ["year == 'abc", "unterminated string literal", 8],
    ["'''abc", "unterminated triple-quoted string literal", 0],
    ["'a\nb'", "unterminated string literal", 0],
    [" year == 2024", "unexpected indent", 0],
    ["\tyear", "unexpected indent", 0],
    ["\nyear == 2024", "unexpected indent", 0],
    ["# comment\n  year", "unexpected indent", 10],
    ["((year)", "'(' was never closed", 0],
    ["year)", "unmatched ')'", 4],
    ["(year]", "closing parenthesis ']' does not match opening parenthesis '('", 5],
    [
      "01",
      "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers",
      0,
    ],
    ["0o8", "invalid digit '8' in octal literal", 2],
    ["0b", "invalid binary literal", 0],
    ["0x", "invalid hexadecimal literal", 0],
    ["1__0", "invalid decimal literal", 1],
    ["1_", "invalid decimal literal", 1],
    ["1abc", "invalid decimal literal", 0],
    ["year $ 1", "invalid character '$' (U+0024)", 5],
    ["year ? 1", "invalid character '?' (U+003F)", 5],
    ["year\0", "null byte", 4],
    ["year \u0001", "invalid non-printable character U+0001", 5],
    ["a <> b", "unexpected '>'", 3],
    ["year year", "unexpected name 'year'", 5],
    ["year\nmonth", "unexpected name 'month'", 5],
    ["import os", "unexpected keyword 'import'", 0],
    ["not", "unexpected end of expression", 3],
    ["not in x", "unexpected keyword 'in'", 4],
    ["year == not month", "unexpected keyword 'not'", 8],
    ["year if 1", "unexpected keyword 'if'", 5, "conditional expressions are not allowed in a filter"],
    ["a.if", "unexpected '.'", 1, "attribute access is not allowed in a filter"],
    ["b'é'", "unexpected string prefix 'b'", 0, "bytes literals are not allowed in a filter"],
    ["!year", "invalid character '!' (U+0021)", 0, "use 'not' to negate a condition"],
    ["0x1fj", "invalid hexadecimal literal", 0],
    ["'\\x4'", "truncated \\xXX escape", 1],
    ["'\\N{DASH}'", "\\N{name} escapes are not supported", 1],
    ["year \\ 1", "unexpected character after line continuation character", 5],
    ["# only a comment", "empty expression", 16],
    ["a[]", "unexpected '['", 1, "indexing is not allowed in a filter"],
    // Python keywords cannot name keys in a filter.
    ["pass == 1", "unexpected keyword 'pass'", 0],
  ];
  for (const [expr, what, position, hint] of cases) {
    it(`${JSON.stringify(expr)} → ${what}`, () => {
      const err = expressionError(() => compileFilter(expr));
      const suffix = hint === undefined ? "" : `; ${hint}`;
      assert.equal(err.message, `invalid filter expression: ${what} at position ${position}${suffix}`);
      assert.equal(err.position, position);
    });
  }

  it("refuses a non-string, non-function filter", () => {
    expressionError(() => compileFilter(42 as unknown as string));
  });

  it(`limits nesting to ${MAX_FILTER_DEPTH} levels instead of overflowing the stack`, () => {
    const deep = [
      `${"(".repeat(10_000)}year${")".repeat(10_000)}`,
      `${"[".repeat(10_000)}year${"]".repeat(10_000)}`,
      `${"{".repeat(10_000)}year${"}".repeat(10_000)}`,
      `${"not ".repeat(10_000)}year`,
      `${"-".repeat(10_000)}1`,
      `${"+ ".repeat(10_000)}month`,
      `${"(not [-".repeat(10_000)}1${"])".repeat(10_000)}`,
    ];
    for (const expr of deep) {
      const err = expressionError(() => compileFilter(expr));
      assert.match(
        err.message,
        /^invalid filter expression: expression nested too deeply \(more than 200 levels\) at position \d+$/,
      );
    }
    const ok = `${"(".repeat(MAX_FILTER_DEPTH - 1)}year${")".repeat(MAX_FILTER_DEPTH - 1)} == 2024`;
    assert.equal(compileFilter(ok)(KEY), true);
    assert.equal(compileFilter(`${"not ".repeat(100)}year`)(KEY), true);
    assert.equal(compileFilter(`${"-".repeat(MAX_FILTER_DEPTH)}1 == 1`)(KEY), true);
    // Deep nests of refused constructs stop at the first one, long before any depth.
    for (const expr of [
      `${"~".repeat(10_000)}1`,
      "2".concat(" ** 2".repeat(10_000)),
      "1".concat(" if 1 else 1".repeat(10_000)),
      "lambda: ".repeat(10_000).concat("1"),
      `${"f(".repeat(10_000)}${")".repeat(10_000)}`,
      `${"a[".repeat(10_000)}0${"]".repeat(10_000)}`,
    ]) {
      assert.match(
        expressionError(() => compileFilter(expr)).message,
        /^invalid filter expression: unexpected /,
      );
    }
  });

  it(`refuses expressions longer than MAX_FILTER_LENGTH (${MAX_FILTER_LENGTH}) before reading them`, () => {
    const ok = "month == 3".padEnd(MAX_FILTER_LENGTH, " ");
    assert.equal(compileFilter(ok)(KEY), true);
    for (const huge of [`${ok}x`, "(".repeat(50_000_000)]) {
      const err = expressionError(() => compileFilter(huge));
      assert.equal(
        err.message,
        `filter expression of ${huge.length} characters is longer than MAX_FILTER_LENGTH (${MAX_FILTER_LENGTH})`,
      );
      assert.equal(err.position, MAX_FILTER_LENGTH);
      assert.equal(err.expression, `${huge.slice(0, 80)}…`, "the error does not carry the whole text");
    }
  });

  it("handles long flat expressions without recursion", () => {
    const many = Array.from({ length: 20_000 }, (_, i) => `month == ${i + 4}`).join(" or ");
    assert.equal(compileFilter(many)(KEY), false);
    const tuple = `month in (${Array.from({ length: 50_000 }, (_, i) => i + 3).join(", ")})`;
    assert.equal(compileFilter(tuple)(KEY), true);
  });
});

describe("compileFilter: arbitrary input", () => {
  const isExpressionError = (err: unknown) => err instanceof ExpressionError;

  it("either compiles or throws ExpressionError, and evaluation yields a boolean or ExpressionError", () => {
    const junk = fc.oneof(
      fc.string({ unit: "binary", maxLength: 40 }),
      fc.string({ maxLength: 40 }),
      fc
        .array(
          fc.constantFrom(
            "year",
            "month",
            "mission",
            "bogus",
            "(",
            ")",
            "[",
            "]",
            "{",
            "}",
            ",",
            ":",
            ".",
            "==",
            "<",
            "<=",
            "in",
            "not",
            "and",
            "or",
            "is",
            "if",
            "else",
            "for",
            "lambda",
            "-",
            "+",
            "*",
            "~",
            "=",
            ":=",
            "1",
            "-2",
            "0x1f",
            "1.5",
            "1j",
            "'s3a'",
            "b'x'",
            "f'x'",
            "'",
            '"',
            "\\",
            "\n",
            " ",
            "#",
            "True",
            "None",
            "...",
          ),
          { maxLength: 12 },
        )
        .map((parts) => parts.join(" ")),
    );
    fc.assert(
      fc.property(junk, (expr) => {
        let predicate: ((k: Record<string, number | string>) => boolean) | undefined;
        try {
          predicate = compileFilter(expr);
        } catch (err) {
          assert.ok(isExpressionError(err), `compile ${JSON.stringify(expr)}: ${String(err)}`);
          return;
        }
        try {
          assert.equal(typeof predicate(KEY), "boolean");
        } catch (err) {
          assert.ok(isExpressionError(err), `evaluate ${JSON.stringify(expr)}: ${String(err)}`);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("treats letters of any script as names", () => {
    expressionError(() => compileFilter("\u00ff\u00fe")(KEY));
    assert.equal(compileFilter("\u00ff\u00fe == 1")({ "\u00ff\u00fe": 1 }), true);
  });

  it("rejects junk bytes", () => {
    for (const expr of ["\u0000\u00ff\u0001", "\u0080\u009f", "\u{1F600}", "year\u00a0== 1", "\ud800"]) {
      expressionError(() => compileFilter(expr));
    }
  });
});
