/**
 * The filter grammar against the parser it replaced (issue 14): on generated
 * expressions, the new one accepts exactly what the old one accepted and
 * evaluates it to the same result or the same evaluation error. The old
 * parser lives in `legacy-filter.ts` for this comparison only.
 *
 * Two differences are deliberate and counted apart: bytes, complex numbers
 * and `...` are no longer values, and an integer key compared with a string
 * literal is an error instead of a silent mismatch.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ExpressionError } from "../../src/errors.js";
import { compileFilter } from "../../src/partitioning/filter.js";
import { compileFilter as legacyCompileFilter } from "./legacy-filter.js";

type Key = Record<string, number | string>;
type Outcome = { phase: "compile"; message: string } | { phase: "evaluate"; message: string } | boolean;

function outcome(compile: (expr: string) => (key: Key) => boolean, expr: string, key: Key): Outcome {
  let predicate: (key: Key) => boolean;
  try {
    predicate = compile(expr);
  } catch (err) {
    assert.ok(err instanceof ExpressionError, `compiling ${JSON.stringify(expr)}: ${String(err)}`);
    return { phase: "compile", message: err.message };
  }
  try {
    return predicate(key);
  } catch (err) {
    assert.ok(err instanceof ExpressionError, `evaluating ${JSON.stringify(expr)}: ${String(err)}`);
    return { phase: "evaluate", message: err.message };
  }
}

const name = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.constantFrom("year", "month", "day", "cycle", "pass_number", "mission", "année"),
  },
  { weight: 1, arbitrary: fc.constant("bogus") },
);
const integer = fc.oneof(
  { weight: 6, arbitrary: fc.nat(40).map(String) },
  { weight: 3, arbitrary: fc.integer({ min: 2020, max: 2028 }).map(String) },
  fc.nat(255).map((n) => `0x${n.toString(16)}`),
  fc.nat(63).map((n) => `0O${n.toString(8)}`),
  fc.nat(15).map((n) => `0b${n.toString(2)}`),
  fc.nat(99_999).map((n) => n.toLocaleString("en-US").replaceAll(",", "_")),
  fc.bigInt(2n ** 53n - 3n, 2n ** 70n).map(String),
  fc.constantFrom("0", "00", "0_0", "9007199254740993", "99999999999999999999"),
);
const float = fc.oneof(
  fc.constantFrom("1.5", ".5", "1.", "3e0", "3E+0", "1e999", "0.0", "2.0", "1e-3", "1_0.5", "0e0", "2024.0"),
  fc.integer({ min: 0, max: 500 }).map((n) => (n / 10).toFixed(1)),
);
const string = fc.oneof(
  fc.constantFrom("'s3a'", '"s3b"', "''", "'2024'", "'3'", "'S'", "u's3a'", "'''s'3a'''", '"""x"""'),
  fc.constantFrom("'s' '3a'", "'\\x733a'", "'\\163\\063a'", "r'\\n'", "'\\n'", "'\\q'", "'\\u00e9'", "'é'"),
  fc.string({ unit: fc.constantFrom("a", "s", "3", " ", "\\\\", "é"), maxLength: 4 }).map((s) => `'${s}'`),
);
const constant = fc.constantFrom("True", "False", "None");
/** Values the old parser accepted and the new one refuses on purpose. */
const dropped = fc.constantFrom("b'a'", "b'3' b'a'", "1j", "0j", "...", "2.5J");
const comparison = fc.constantFrom("==", "!=", "<", "<=", ">", ">=", "in", "not in");
const space = fc.constantFrom(" ", " ", " ", "  ", "\t");

const { expression } = fc.letrec<{ expression: string; operand: string; atom: string }>((tie) => ({
  atom: fc.oneof(
    { weight: 8, arbitrary: name },
    { weight: 6, arbitrary: integer },
    { weight: 2, arbitrary: float },
    { weight: 3, arbitrary: string },
    { weight: 2, arbitrary: constant },
  ),
  operand: fc.oneof(
    { maxDepth: 3, depthIdentifier: "filter" },
    { weight: 10, arbitrary: tie("atom") },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.constantFrom("-", "+", "- -"), tie("operand")).map(([s, o]) => s + o),
    },
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          fc.constantFrom("()", "[]", "{}"),
          fc.array(tie("expression"), { maxLength: 3 }),
          fc.boolean(),
          fc.constantFrom(", ", ",", ",\n "),
        )
        .map(([[open, close], items, trailing, comma]) => {
          if (open === "{" && items.length === 0) items.push("1");
          return `${open}${items.join(comma)}${trailing && items.length > 0 ? "," : ""}${close}`;
        }),
    },
    { weight: 2, arbitrary: tie("expression").map((e) => `(${e})`) },
  ),
  expression: fc.oneof(
    { maxDepth: 3, depthIdentifier: "filter" },
    {
      weight: 6,
      arbitrary: fc
        .tuple(tie("operand"), fc.array(fc.tuple(space, comparison, space, tie("operand")), { maxLength: 3 }))
        .map(([first, links]) => first + links.map((l) => l.join("")).join("")),
    },
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          tie("expression"),
          fc.constantFrom(" and ", " or ", "and ", " or\n"),
          tie("expression"),
          fc.nat(3),
        )
        .map(([a, op, b, form]) => (form === 0 ? `(${a}${op}${b})` : `${a}${op.replace("\n", " ")}${b}`)),
    },
    { weight: 1, arbitrary: tie("expression").map((e) => `not ${e}`) },
  ),
}));

/** A few edits that make near misses: a refused token, a missing or doubled character, a comment. */
const noise = fc.constantFrom(
  "(",
  ")",
  ",",
  "=",
  "+",
  "*",
  ".",
  "not",
  "in",
  "is",
  "if",
  "[",
  "]",
  "'",
  "#",
  "\\\n",
  "\n",
  " ",
  "0",
  "_",
  "e",
  "j",
  "x",
);
const filter = fc.oneof(
  { weight: 7, arbitrary: expression },
  { weight: 1, arbitrary: fc.tuple(expression, expression).map(([a, b]) => `${a}, ${b}`) },
  { weight: 1, arbitrary: expression.map((e) => `${e} # note`) },
  { weight: 1, arbitrary: fc.tuple(dropped, expression).map(([d, e]) => `${d} != ${e}`) },
  {
    weight: 3,
    arbitrary: fc.tuple(expression, fc.nat(), fc.nat(2), noise).map(([e, at, removed, inserted]) => {
      const i = at % (e.length + 1);
      return e.slice(0, i) + inserted + e.slice(i + removed);
    }),
  },
);
const key = fc.record({
  year: fc.integer({ min: 2020, max: 2028 }),
  month: fc.integer({ min: 1, max: 12 }),
  day: fc.integer({ min: 0, max: 31 }),
  cycle: fc.integer({ min: -2, max: 40 }),
  pass_number: fc.integer({ min: -3, max: 3 }),
  mission: fc.constantFrom("s3a", "s3b", "", "2024", "S"),
  année: fc.integer({ min: 2020, max: 2028 }),
});

describe("compileFilter against the parser it replaced", () => {
  it("accepts and evaluates exactly what the old parser did, on 100 000 generated filters", (t) => {
    const counts = {
      true: 0,
      false: 0,
      compileError: 0,
      evaluateError: 0,
      dropped: 0,
      integerVersusString: 0,
    };
    fc.assert(
      fc.property(filter, key, (expr, k) => {
        const legacy = outcome(legacyCompileFilter, expr, k);
        const current = outcome(compileFilter, expr, k);
        if (typeof current === "object" && /bytes literals|complex numbers|'\.\.\.'/.test(current.message)) {
          counts.dropped++;
          return;
        }
        if (
          typeof current === "object" &&
          current.message.startsWith("cannot compare integer partition key")
        ) {
          assert.equal(current.phase, "evaluate");
          assert.notEqual(typeof legacy === "object" && legacy.phase, "compile", expr);
          counts.integerVersusString++;
          return;
        }
        if (typeof legacy === "object" && typeof current === "object") {
          assert.equal(current.phase, legacy.phase, `${JSON.stringify(expr)}: ${current.message}`);
          // Evaluation errors keep their messages; syntax errors say it in other words.
          if (legacy.phase === "evaluate")
            assert.equal(current.message, legacy.message, JSON.stringify(expr));
          counts[legacy.phase === "compile" ? "compileError" : "evaluateError"]++;
          return;
        }
        assert.deepEqual(current, legacy, JSON.stringify(expr));
        counts[String(current) as "true" | "false"]++;
      }),
      { numRuns: 100_000 },
    );
    t.diagnostic(`outcomes: ${JSON.stringify(counts)}`);
    // The generator reaches every outcome often enough for the comparison to mean something.
    for (const [outcome, n] of Object.entries(counts)) assert.ok(n >= 500, `${outcome}: only ${n}`);
  });
});
