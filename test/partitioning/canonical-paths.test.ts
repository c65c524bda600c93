/**
 * The one-pass reading of partition paths that listings use on large
 * catalogs (src/partitioning/keys.ts: `readCanonical`, `canonicalLines`,
 * `canonicalPrefix`, `sortDecoded`) must agree exactly with the definition
 * it replaces: a path is a partition path when `encode(decode(path))`
 * gives it back, and its key is `decode(path)`.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  Date as DatePartitioning,
  GroupedSequence,
  type Partitioning,
  type PartitionKey,
  Sequence,
  sortPaths,
} from "../../src/partitioning/index.js";
import {
  canonicalLines,
  canonicalPrefix,
  type DecodedPath,
  type PathLayout,
  pathLayoutOf,
  readCanonical,
  readExactly,
  sortDecoded,
} from "../../src/partitioning/keys.js";

const PARTITIONINGS: Partitioning[] = [
  new DatePartitioning("time", { resolution: "Y" }),
  new DatePartitioning("time", { resolution: "D" }),
  new DatePartitioning("time", { resolution: "s" }),
  new Sequence(["cycle_number", "pass_number"], { dimension: "num_lines" }),
  new Sequence(["num"], { dimension: "num" }),
  new GroupedSequence(["cycle", "pass"], { dimension: "n", size: 10, start: 1 }),
];

/** The definition: the key of `path` when `encode(decode(path)) === path`. */
function exactKey(p: Partitioning, path: string): PartitionKey | undefined {
  try {
    const key = p.decode(path);
    return p.encode(key) === path ? key : undefined;
  } catch {
    return undefined;
  }
}

/** Values that stress the encodings: zero, signs, widths, 15 and 16 digits, beyond 2^53. */
const VALUE_TEXTS = [
  "0",
  "00",
  "000",
  "0000",
  "00000",
  "-0",
  "-00",
  "-000",
  "-0000",
  "1",
  "01",
  "001",
  "0001",
  "00001",
  "-1",
  "-01",
  "-001",
  "-0001",
  "12",
  "012",
  "123",
  "0123",
  "1234",
  "01234",
  "12345",
  "-12",
  "-123",
  "-1234",
  "-0123",
  "+1",
  "+0001",
  " 1",
  "1 ",
  "1_0",
  "1e3",
  "0x10",
  "١٢",
  "",
  "999999999999999",
  "9999999999999999",
  "9007199254740991",
  "9007199254740992",
  "-9007199254740991",
  "-9007199254740992",
  "00009007199254740991",
  "123456789012345678",
];

/** Candidate paths for a partitioning: its own encodings, variants of them, and broken forms. */
function candidates(p: Partitioning): string[] {
  const out = new Set<string>();
  const axis = p.axis;
  const combos = (i: number): string[][] =>
    i === axis.length
      ? [[]]
      : VALUE_TEXTS.flatMap((v) => combos(i + 1).map((rest) => [`${axis[i]}=${v}`, ...rest]));
  // Every pair of values for axes of one or two components; deeper ones vary one component at a time.
  if (axis.length <= 2) for (const parts of combos(0)) out.add(parts.join("/"));
  const base = axis.map((name, i) => `${name}=${i === 0 ? "2024" : "03"}`);
  for (let i = 0; i < axis.length; i++) {
    for (const v of VALUE_TEXTS) {
      const parts = [...base];
      parts[i] = `${axis[i]}=${v}`;
      out.add(parts.join("/"));
    }
  }
  const valid = base.join("/");
  for (const broken of [
    `/${valid}`,
    `${valid}/`,
    `${valid}//`,
    `${valid}/extra=1`,
    base.slice(0, -1).join("/"),
    valid.replace("=", "=="),
    valid.replace("/", "//"),
    valid.toUpperCase(),
    ` ${valid}`,
    `${valid}\n`,
    `x${valid}`,
    "",
    "/",
    "=",
    `${axis[0]}`,
    `${axis[0]}=`,
  ]) {
    out.add(broken);
  }
  return [...out];
}

describe("readCanonical: one pass, the same answer as encode(decode(path)) === path", () => {
  for (const p of PARTITIONINGS) {
    it(`${p.name} ${p.axis.join("/")}`, () => {
      const layout = pathLayoutOf(p);
      assert.ok(layout !== undefined);
      for (const path of candidates(p)) {
        const expected = exactKey(p, path);
        const values: (number | string)[] = [];
        assert.equal(
          readCanonical(path, layout, values),
          expected !== undefined,
          `path ${JSON.stringify(path)}`,
        );
        const generic: (number | string)[] = [];
        assert.equal(readExactly(p, path, generic), expected !== undefined, `path ${JSON.stringify(path)}`);
        if (expected !== undefined) {
          assert.deepEqual(
            values.slice(0, axis(p)),
            expected.map(([, v]) => v),
          );
          assert.deepEqual(generic, values.slice(0, axis(p)));
        }
      }
    });
  }

  it("reads back every key it encodes, values within ±(2^53 − 1)", () => {
    for (const p of PARTITIONINGS) {
      const layout = pathLayoutOf(p) as PathLayout;
      fc.assert(
        fc.property(
          fc.array(
            fc.oneof(
              fc.integer({ min: -10_000, max: 10_000 }),
              fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
            ),
            { minLength: p.axis.length, maxLength: p.axis.length },
          ),
          (values) => {
            const path = p.encode(p.axis.map((name, i) => [name, values[i] as number] as const));
            const read: (number | string)[] = [];
            assert.ok(readCanonical(path, layout, read), path);
            assert.deepEqual(
              read,
              values.map((v) => v + 0),
            );
          },
        ),
        { numRuns: 300 },
      );
    }
  });

  it("agrees with the definition on random text made of path characters", () => {
    const p = new DatePartitioning("time", { resolution: "M" });
    const layout = pathLayoutOf(p) as PathLayout;
    const piece = fc.constantFrom("year", "month", "=", "/", "-", "0", "1", "2", "9", "+", " ", "_");
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 24 }), (parts) => {
        const path = parts.join("");
        assert.equal(readCanonical(path, layout, []), exactKey(p, path) !== undefined, path);
      }),
      { numRuns: 3000 },
    );
  });

  it("has no layout for a subclass that encodes otherwise: listings then use decode and encode", () => {
    class Upper extends Sequence {
      override encode(key: PartitionKey): string {
        return super.encode(key).toUpperCase();
      }
    }
    const p = new Upper(["num"], { dimension: "num" });
    assert.equal(pathLayoutOf(p), undefined);
    assert.notEqual(pathLayoutOf(new Sequence(["num"], { dimension: "num" })), undefined);
  });
});

function axis(p: Partitioning): number {
  return p.axis.length;
}

/** Whether a value of the key of `path` has 16 significant digits (the regular expression leaves those to readCanonical). */
function long(p: Partitioning, path: string): boolean {
  return (exactKey(p, path) ?? []).some(([, v]) => Math.abs(v as number) >= 1e15);
}

describe("canonicalLines: one regular expression over the checksum text", () => {
  for (const p of PARTITIONINGS) {
    it(`never accepts a line that is not a partition path, accepts those of ≤ 15 digits (${p.name} ${p.axis.join("/")})`, () => {
      const layout = pathLayoutOf(p) as PathLayout;
      const lines = canonicalLines(layout);
      const paths = candidates(p).filter((path) => !path.includes("\n"));
      for (const path of paths) {
        const exact = exactKey(p, path) !== undefined;
        const matched = lines.test(`${path}\n`);
        if (matched) assert.ok(exact, `matched ${JSON.stringify(path)}`);
        if (exact && !long(p, path)) assert.ok(matched, `did not match ${JSON.stringify(path)}`);
      }
      const valid = paths.filter((path) => exactKey(p, path) !== undefined && !long(p, path));
      assert.ok(valid.length > 0);
      assert.ok(lines.test(valid.map((path) => `${path}\n`).join("")));
      assert.ok(lines.test(""));
      assert.ok(!lines.test(`${valid[0]}\nnot=a/path\n${valid[0]}\n`));
      assert.ok(!lines.test(valid.join("\n")), "the last line needs its newline");
    });
  }
});

describe("canonicalPrefix", () => {
  it("is the beginning of the encoded path of every key with those leading values", () => {
    for (const p of PARTITIONINGS) {
      const layout = pathLayoutOf(p) as PathLayout;
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: -100_000, max: 100_000 }), {
            minLength: p.axis.length,
            maxLength: p.axis.length,
          }),
          fc.nat(),
          (values, cut) => {
            const m = 1 + (cut % p.axis.length);
            const path = p.encode(p.axis.map((name, i) => [name, values[i] as number] as const));
            assert.equal(canonicalPrefix(layout, values.slice(0, m)), path.split("/").slice(0, m).join("/"));
          },
        ),
        { numRuns: 200 },
      );
    }
  });
});

describe("sortDecoded: natural order of decoded paths", () => {
  it("orders as sortPaths, whether the input is already ordered or not", () => {
    const p = new Sequence(["a", "b"], { dimension: "n" });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -30, max: 30 }), fc.integer({ min: -30, max: 30 })), {
          maxLength: 60,
        }),
        (pairs) => {
          const paths = pairs.map(([a, b]) => `a=${a}/b=${b}`);
          const decoded: DecodedPath[] = paths.map((path) => ({ path, key: p.decode(path) }));
          const expected = sortPaths(paths, p);
          assert.deepEqual(sortDecoded(decoded), expected);
          const ordered = expected.map((path) => ({ path, key: p.decode(path) }));
          assert.deepEqual(sortDecoded(ordered), expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
