/**
 * The catalog document reads and writes the native way (`JSON.parse`,
 * `JSON.stringify`, `node:crypto`, linear merges) and must give exactly
 * what the hand-written JSON of src/json.ts and Web Crypto gave: the same
 * bytes on disk (Python reads them), the same state read back.
 */

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import fc from "fast-check";
import { decodeJson, encodeJson } from "../../src/json.js";
import {
  CATALOG_KEY,
  Catalog,
  type CatalogState,
  catalogChecksum,
  catalogLines,
  parseCatalog,
  sortUnique,
} from "../../src/partitioning/catalog.js";
import { MemoryStore } from "../../src/store/memory.js";

const FIXTURE = new URL("../fixtures/pyzcollection/date_nested/_catalog/state.json", import.meta.url);

/** The previous `sortUnique`: a Set, then a sort in code-unit order. */
function referenceSort(paths: Iterable<string>): string[] {
  return [...new Set(paths)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The previous `catalogChecksum`: Web Crypto over the whole text. */
async function referenceChecksum(paths: Iterable<string>): Promise<string> {
  const text = referenceSort(paths)
    .map((p) => `${p}\n`)
    .join("");
  const digest = await globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return `sha256:${Buffer.from(digest).toString("hex")}`;
}

/** The previous `parseCatalog`: src/json.ts's parser. */
async function referenceParse(bytes: Uint8Array): Promise<CatalogState | undefined> {
  let doc: unknown;
  try {
    doc = decodeJson(bytes, CATALOG_KEY);
  } catch {
    return undefined;
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return undefined;
  const raw = (doc as { paths?: unknown }).paths;
  const paths = Array.isArray(raw) ? raw.filter((p): p is string => typeof p === "string") : [];
  const expected = await referenceChecksum(paths);
  const stored = (doc as { checksum?: unknown }).checksum;
  if (typeof stored !== "string" || stored === "")
    return { paths: referenceSort(paths), checksum: expected, valid: true };
  return { paths: referenceSort(paths), checksum: stored, valid: stored === expected };
}

/** The previous document: src/json.ts's compact JSON with `\uXXXX` escapes. */
async function referenceDocument(paths: Iterable<string>): Promise<Uint8Array> {
  const sorted = referenceSort(paths);
  return encodeJson({ format_version: 1, paths: sorted, checksum: await referenceChecksum(sorted) });
}

async function written(paths: Iterable<string>): Promise<Uint8Array> {
  const store = new MemoryStore();
  await new Catalog(store).write(paths);
  return (await store.readBytes(CATALOG_KEY)) as Uint8Array;
}

const utf8 = (text: string) => new TextEncoder().encode(text);

/** Paths with every kind of character JSON and `ensure_ascii` treat specially. */
const AWKWARD = [
  "year=2024/month=01",
  'quote"d',
  "back\\slash",
  "tab\there",
  "new\nline",
  "nul\u0000",
  "del\u007f",
  "é",
  "日本",
  "emoji 😀",
  "lone \ud800 high",
  "lone \udc00 low",
  "\u2028\u2029",
  "",
  "/",
];

describe("catalog document: byte for byte what src/json.ts wrote", () => {
  it("writes the Python fixture's document again from its paths", async () => {
    const bytes = new Uint8Array(await readFile(FIXTURE));
    const state = await parseCatalog(bytes);
    assert.ok(state?.valid);
    assert.deepEqual(await written(state.paths), bytes);
  });

  it("escapes like ensure_ascii: quotes, backslashes, control characters, DEL, non-ASCII, surrogates", async () => {
    for (const path of AWKWARD)
      assert.deepEqual(await written([path, "a"]), await referenceDocument([path, "a"]), path);
    assert.deepEqual(await written(AWKWARD), await referenceDocument(AWKWARD));
    assert.deepEqual(await written([]), await referenceDocument([]));
  });

  it("matches for random paths of any characters, sorted or not, with duplicates", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.string(),
            fc.string({ unit: "grapheme" }),
            fc.string({ unit: "binary" }),
            fc.constantFrom(...AWKWARD),
          ),
        ),
        async (paths) => {
          assert.deepEqual(await written(paths), await referenceDocument(paths));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("hashes long catalogs in pieces to the same checksum", async () => {
    const paths = Array.from({ length: 5000 }, (_, i) => `num=${i}`);
    assert.equal(await catalogChecksum(paths), await referenceChecksum(paths));
    assert.equal(await catalogChecksum([...paths].reverse()), await referenceChecksum(paths));
    const sorted = sortUnique(paths);
    assert.equal(catalogLines(sorted).join(""), sorted.map((p) => `${p}\n`).join(""));
    assert.deepEqual(await written(paths), await referenceDocument(paths));
  });
});

describe("parseCatalog: the state src/json.ts's parser gave", () => {
  const documents: Array<[string, string | Uint8Array]> = [
    ["a catalog", '{"format_version":1,"paths":["b","a","c","a"],"checksum":"sha256:00"}'],
    ["no checksum", '{"format_version":1,"paths":["b","a"]}'],
    ["empty checksum", '{"paths":["b"],"checksum":""}'],
    ["no paths", '{"format_version":1,"checksum":"sha256:00"}'],
    ["paths not an array", '{"paths":"a","checksum":"x"}'],
    ["non-string paths", '{"paths":["a",1,null,true,"b",12345678901234567890,{"x":1},["c"]]}'],
    ["Python's tokens", '{"format_version":NaN,"paths":["a"],"extra":[Infinity,-Infinity]}'],
    ["nesting beyond 512", `{"paths":["a"],"deep":${"[".repeat(600)}${"]".repeat(600)}}`],
    ["nesting of 300", `{"paths":["a"],"deep":${"[".repeat(300)}${"]".repeat(300)}}`],
    ["a nested object", '{"paths":["a"],"meta":{"x":[1,2]}}'],
    ["duplicate keys", '{"paths":["a"],"paths":["z","y"]}'],
    ["__proto__", '{"__proto__":{"paths":["p"]},"paths":["a"]}'],
    ["escapes", '{"paths":["\\u00e9","\\"q\\"","\\ud800","a\\/b"]}'],
    ["whitespace", ' \n\t{ "paths" : [ "b" , "a" ] }\r\n'],
    ["a big integer version", '{"format_version":123456789012345678901234567890,"paths":["a"]}'],
    ["not an object", '["a","b"]'],
    ["a string", '"paths"'],
    ["null", "null"],
    ["not JSON", "{paths: [a]}"],
    ["trailing comma", '{"paths":["a",]}'],
    ["trailing text", '{"paths":["a"]} x'],
    ["empty", ""],
    ["a BOM", '\ufeff{"paths":["a"]}'],
    ["invalid UTF-8", new Uint8Array([0x7b, 0x22, 0x70, 0xff, 0x22, 0x7d])],
    ["a lone surrogate in UTF-8", new Uint8Array([...utf8('{"paths":["'), 0xed, 0xa0, 0x80, ...utf8('"]}')])],
  ];
  for (const [name, doc] of documents) {
    it(name, async () => {
      const bytes = typeof doc === "string" ? utf8(doc) : doc;
      assert.deepEqual(await parseCatalog(bytes), await referenceParse(bytes));
    });
  }

  it("a valid document just written", async () => {
    const paths = ["year=2024/month=02", "year=2024/month=01"];
    const bytes = await referenceDocument(paths);
    const state = await parseCatalog(bytes);
    assert.deepEqual(state, await referenceParse(bytes));
    assert.equal(state?.valid, true);
    assert.deepEqual(state?.paths, ["year=2024/month=01", "year=2024/month=02"]);
  });
});

describe("sortUnique and Catalog.add: linear when already sorted, the same result", () => {
  it("sortUnique returns a sorted unique copy", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 4 }), { maxLength: 40 }),
        fc.boolean(),
        (paths, presort) => {
          const input = presort ? referenceSort(paths) : paths;
          const out = sortUnique(input);
          assert.deepEqual(out, referenceSort(paths));
          assert.notEqual(out, input);
          assert.deepEqual(sortUnique(new Set(input)), referenceSort(paths));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("add merges into a long catalog block by block: new paths anywhere, some already there", async () => {
    const stored = Array.from({ length: 5000 }, (_, i) => `num=${String(i * 2).padStart(5, "0")}`);
    const store = new MemoryStore();
    const catalog = new Catalog(store);
    await catalog.write(stored);
    let expected = stored;
    for (const added of [
      ["num=00001"],
      ["a", "zzz"],
      ["num=02047", "num=02048", "num=02049", "num=04095", "num=09999"],
      stored.slice(100, 3000),
      [],
      Array.from({ length: 3000 }, (_, i) => `num=${String(i * 3 + 1).padStart(5, "0")}`),
    ]) {
      expected = referenceSort([...expected, ...added]);
      assert.deepEqual(await catalog.add(added), expected);
      assert.deepEqual(await store.readBytes(CATALOG_KEY), await referenceDocument(expected));
      assert.equal((await catalog.read())?.valid, true);
    }
  });

  it("add gives the sorted union, from a stored catalog or from an unsorted walk", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ maxLength: 3 }), { maxLength: 30 }),
        fc.array(fc.string({ maxLength: 3 }), { maxLength: 10 }),
        fc.boolean(),
        async (stored, added, tampered) => {
          const store = new MemoryStore();
          // A walker returning paths out of order and repeated.
          const walked = [...stored].reverse().concat(stored.slice(0, 2));
          const catalog = new Catalog(store, { walk: async () => walked });
          await catalog.write(stored);
          if (tampered) {
            const doc = JSON.parse(new TextDecoder().decode(await store.readBytes(CATALOG_KEY))) as {
              checksum: string;
            };
            doc.checksum = "sha256:0";
            await store.writeBytes(CATALOG_KEY, utf8(JSON.stringify(doc)));
          }
          const out = await catalog.add(added);
          assert.deepEqual(out, referenceSort([...stored, ...added]));
          assert.deepEqual(
            await store.readBytes(CATALOG_KEY),
            await referenceDocument([...stored, ...added]),
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});
