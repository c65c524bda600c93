/**
 * The partition catalog `_catalog/state.json` (docs/format.md §9, docs/behaviour.md §10):
 * the sorted list of partition paths plus a SHA-256 checksum, so that a cold
 * open lists partitions with one GET and no LIST.
 *
 * Unlike Python, the checksum is verified on read (docs/behaviour.md §18 #7): a
 * mismatch makes {@link Catalog.read} report the catalog as untrustworthy and
 * callers fall back to a walk.
 *
 * @module
 */

import { ConflictError } from "../errors.js";
import { decodeJson } from "../json.js";
import type { Store } from "../store/store.js";

/** Key of the catalog document. */
export const CATALOG_KEY = "_catalog/state.json";
/** Prefix of the catalog. */
export const CATALOG_DIR = "_catalog";

/** What {@link Catalog.read} found. */
export interface CatalogState {
  /** Partition paths, sorted (string order) and unique. */
  readonly paths: readonly string[];
  /** `"sha256:<hex>"` as stored (or recomputed when absent). */
  readonly checksum: string;
  /** Whether the stored checksum matches the paths. */
  readonly valid: boolean;
}

/** Whether `a` and `b` hold the same bytes (four at a time where both views are aligned). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let i = 0;
  if (a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0) {
    const words = a.length >>> 2;
    const wa = new Uint32Array(a.buffer, a.byteOffset, words);
    const wb = new Uint32Array(b.buffer, b.byteOffset, words);
    for (let w = 0; w < words; w++) if (wa[w] !== wb[w]) return false;
    i = words * 4;
  }
  for (; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether `paths` is strictly increasing in string (code-unit) order: sorted and unique. */
function isSortedUnique(paths: readonly string[]): boolean {
  for (let i = 1; i < paths.length; i++) {
    if (!((paths[i - 1] as string) < (paths[i] as string))) return false;
  }
  return true;
}

/**
 * Sorted (JavaScript string order: UTF-16 code units), de-duplicated copy of `paths` (docs/format.md §4.3).
 * An input already sorted and unique (a stored catalog always is) is only
 * checked and copied, in linear time.
 */
export function sortUnique(paths: Iterable<string>): string[] {
  const list = Array.isArray(paths) ? (paths as string[]) : [...paths];
  if (isSortedUnique(list)) return list.slice();
  return [...new Set(list)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Fresh arrays known to be sorted and unique (made by {@link sortedUnion}): not checked again. */
const SORTED = new WeakSet<readonly string[]>();

/** The checksum text of some sorted path lists, in pieces of whole lines, with the number of lines of each. */
interface Lines {
  readonly pieces: readonly string[];
  readonly counts: readonly number[];
}

/** The {@link Lines} of the last catalogs read and of their unions (see {@link catalogLines}). */
const LINES = new WeakMap<readonly string[], Lines>();
/** Paths per piece of {@link catalogLines}: pieces small enough to stay out of V8's large-object space. */
const PIECE = 1024;

/** `paths` (a block of a sorted list) each followed by `"\n"`. */
function piece(paths: readonly string[]): string {
  return `${paths.join("\n")}\n`;
}

function linesOf(paths: readonly string[]): Lines {
  const pieces: string[] = [];
  const counts: number[] = [];
  for (let i = 0; i < paths.length; i += PIECE) {
    const block = paths.slice(i, i + PIECE);
    pieces.push(piece(block));
    counts.push(block.length);
  }
  return { pieces, counts };
}

/**
 * The text a catalog's checksum is computed on — each of the sorted unique
 * `paths` followed by `"\n"` (docs/format.md §9) — in pieces of whole lines (one
 * long string costs twice as much to build and hash). For the `paths` of
 * a {@link CatalogState} just read, the pieces hashed then (kept as long
 * as that array lives); otherwise built.
 */
export function catalogLines(paths: readonly string[]): readonly string[] {
  return (LINES.get(paths) ?? linesOf(paths)).pieces;
}

/** The sorted union of `a[from, to)` and `b[bFrom, bTo)`, both sorted and unique. */
function merge(
  a: readonly string[],
  from: number,
  to: number,
  b: readonly string[],
  bFrom: number,
  bTo: number,
) {
  const out: string[] = [];
  let i = from;
  let j = bFrom;
  while (i < to && j < bTo) {
    const x = a[i] as string;
    const y = b[j] as string;
    if (x < y) {
      out.push(x);
      i++;
    } else {
      out.push(y);
      j++;
      if (x === y) i++;
    }
  }
  while (i < to) out.push(a[i++] as string);
  while (j < bTo) out.push(b[j++] as string);
  return out;
}

/**
 * The union of `current` and `extra` (sorted and unique), sorted and
 * unique. When `current` is a catalog just read (its lines known) or sorted
 * and unique, it is merged block by block: blocks that receive no new path
 * are copied, and so are their pieces of the checksum text, which the
 * union keeps for {@link catalogLines}.
 */
function sortedUnion(current: readonly string[], extra: readonly string[]): string[] {
  const known = LINES.get(current);
  if (known === undefined && !isSortedUnique(current)) return sortUnique([...current, ...extra]);
  const blocks: string[][] = [];
  const pieces: string[] = [];
  const counts: number[] = [];
  let e = 0;
  let lo = 0;
  for (let b = 0; lo < current.length; b++) {
    const hi = Math.min(current.length, lo + (known === undefined ? PIECE : (known.counts[b] as number)));
    // The new paths up to the block's last path (all that are left for the last block).
    const last = hi === current.length ? undefined : (current[hi - 1] as string);
    const from = e;
    while (e < extra.length && (last === undefined || (extra[e] as string) <= last)) e++;
    const block = from === e ? current.slice(lo, hi) : merge(current, lo, hi, extra, from, e);
    blocks.push(block);
    pieces.push(from === e && known !== undefined ? (known.pieces[b] as string) : piece(block));
    counts.push(block.length);
    lo = hi;
  }
  if (e < extra.length) {
    const rest = extra.slice(e);
    blocks.push(rest);
    pieces.push(piece(rest));
    counts.push(rest.length);
  }
  const out = ([] as string[]).concat(...blocks);
  SORTED.add(out);
  LINES.set(out, { pieces, counts });
  return out;
}

/** What Node's `node:crypto` offers here (`process.getBuiltinModule`, Node ≥ 20.16); absent in browsers. */
interface NodeCrypto {
  createHash(algorithm: string): NodeHash;
}

/** A `node:crypto` Hash, as used here. */
interface NodeHash {
  update(data: string, encoding: "utf8"): NodeHash;
  digest(encoding: "hex"): string;
}

const nodeCrypto = (
  globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
).process?.getBuiltinModule?.("node:crypto") as NodeCrypto | undefined;

/**
 * SHA-256 of the concatenated `pieces` as `"sha256:<hex>"`: `node:crypto`
 * under Node (half the CPU of Web Crypto, which needs the text encoded
 * first), else Web Crypto. Either way the promise settles in a later turn
 * of the event loop, as Web Crypto's does (pending timers and warnings are
 * delivered in between).
 */
async function sha256(pieces: readonly string[]): Promise<string> {
  if (nodeCrypto !== undefined) {
    const hash = nodeCrypto.createHash("sha256");
    for (const piece of pieces) hash.update(piece, "utf8");
    const hex = hash.digest("hex");
    await new Promise((resolve) => setImmediate(resolve));
    return `sha256:${hex}`;
  }
  const digest = await globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(pieces.join("")));
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  return `sha256:${hex}`;
}

/**
 * `"sha256:"` + hex SHA-256 over the sorted unique paths, each followed by
 * `"\n"` (docs/format.md §9). Uses `node:crypto` under Node, Web Crypto elsewhere
 * (browsers); the digest is the same.
 */
export function catalogChecksum(paths: Iterable<string>): Promise<string> {
  return sha256(catalogLines(sortUnique(paths)));
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Whether every member of `doc` is a primitive or an array of primitives:
 * then the document is nested two levels deep at most, which
 * {@link parseJson} accepts whenever `JSON.parse` does.
 */
function isFlat(doc: object): boolean {
  for (const value of Object.values(doc)) {
    if (typeof value !== "object" || value === null) continue;
    if (!Array.isArray(value)) return false;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === "object" && item !== null) return false;
    }
  }
  return true;
}

/**
 * The catalog document's JSON value, or `undefined` when the bytes are not
 * UTF-8 or not JSON (Python's tokens `NaN`/`Infinity` allowed, as
 * {@link decodeJson} reads them). The native `JSON.parse` reads what it
 * can — a catalog always — and the result is what `decodeJson` would give
 * for what a catalog holds (strings; numbers, which are not used, may be
 * rounded); anything else goes through `decodeJson`'s parser.
 */
function parseDocument(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return undefined;
  }
  try {
    const doc: unknown = JSON.parse(text);
    if (typeof doc !== "object" || doc === null || Array.isArray(doc) || isFlat(doc)) return doc;
  } catch {
    // Not plain JSON: Python's tokens, or not JSON at all.
  }
  try {
    return decodeJson(bytes, CATALOG_KEY);
  } catch {
    return undefined;
  }
}

/** The strings of a freshly parsed `paths` member, sorted and unique (`raw` itself when it already is). */
function pathsOf(raw: unknown): string[] {
  if (!Array.isArray(raw)) return [];
  let list = raw as unknown[];
  for (let i = 0; i < list.length; i++) {
    if (typeof list[i] !== "string") {
      list = list.filter((p) => typeof p === "string");
      break;
    }
  }
  const paths = list as string[];
  return isSortedUnique(paths) ? paths : sortUnique(paths);
}

/**
 * Parses a catalog document (docs/format.md §9 read rules): `undefined` when it is
 * not valid JSON/UTF-8 or not an object; `paths` missing → `[]`; checksum
 * missing → recomputed (then `valid`).
 */
export async function parseCatalog(bytes: Uint8Array): Promise<CatalogState | undefined> {
  const doc = parseDocument(bytes);
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return undefined;
  const paths = pathsOf((doc as { paths?: unknown }).paths);
  const lines = linesOf(paths);
  LINES.set(paths, lines);
  const expected = await sha256(lines.pieces);
  const stored = (doc as { checksum?: unknown }).checksum;
  if (typeof stored !== "string" || stored === "") return { paths, checksum: expected, valid: true };
  return { paths, checksum: stored, valid: stored === expected };
}

const NON_ASCII = /[\u007f-\uffff]/g;
const UTF8_ENCODER = new TextEncoder();

/**
 * The catalog document of sorted unique `paths` (compact JSON, docs/format.md §9
 * key order): byte for byte what `encodeJson` (src/json.ts) writes
 * (non-ASCII escaped as `\uXXXX`, like Python's `ensure_ascii`), from the
 * native `JSON.stringify`.
 */
async function encodeCatalog(sorted: readonly string[]): Promise<Uint8Array> {
  const doc = { format_version: 1, paths: sorted, checksum: await sha256(catalogLines(sorted)) };
  const text = JSON.stringify(doc);
  const bytes = UTF8_ENCODER.encode(text);
  // As many bytes as UTF-16 code units: all ASCII; then only DEL would need escaping.
  if (bytes.length === text.length && !text.includes("\u007f")) return bytes;
  return UTF8_ENCODER.encode(
    text.replace(NON_ASCII, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`),
  );
}

/** Options of {@link Catalog}. */
export interface CatalogOptions {
  /**
   * Lists the partitions by walking the store. When given, {@link Catalog.add}
   * and {@link Catalog.remove} start from the walk instead of the stored
   * paths when the stored checksum does not match them, so that an update
   * never re-signs a tampered list (docs/behaviour.md §18 #7).
   */
  walk?: () => Promise<Iterable<string>>;
}

/** Reads and writes `_catalog/state.json` of one collection store. */
export class Catalog {
  readonly #walk: (() => Promise<Iterable<string>>) | undefined;
  /** What this object last wrote by compare-and-swap: the next update swaps against it before reading. */
  #written: { readonly version: string; readonly paths: string[] } | undefined;
  /** The document {@link Catalog.read} parsed last: the same bytes read again are not parsed again. */
  #lastRead: { readonly bytes: Uint8Array; readonly state: CatalogState | undefined } | undefined;

  constructor(
    readonly store: Store,
    opts: CatalogOptions = {},
  ) {
    this.#walk = opts.walk;
  }

  /** Whether the catalog document exists. */
  exists(): Promise<boolean> {
    return this.store.exists(CATALOG_KEY);
  }

  /**
   * The stored state, or `undefined` when the document is missing or is not
   * valid JSON/UTF-8 (docs/format.md §9 read rules). `paths` missing → `[]`; checksum
   * missing → recomputed (then `valid`).
   */
  async read(opts?: { signal?: AbortSignal }): Promise<CatalogState | undefined> {
    const bytes = await this.store.readBytes(CATALOG_KEY, opts);
    if (bytes === undefined) return undefined;
    // A listing per query reads the catalog each time; parsing and hashing 10 000 paths costs
    // milliseconds, comparing them with the last document read microseconds.
    const last = this.#lastRead;
    if (last !== undefined && sameBytes(last.bytes, bytes)) return last.state;
    const state = await parseCatalog(bytes);
    this.#lastRead = { bytes, state };
    return state;
  }

  /**
   * Writes exactly `paths` (sorted, unique, with checksum) as one atomic
   * store write; compact JSON, key order `format_version`, `paths`, `checksum`.
   */
  async write(paths: Iterable<string>): Promise<string[]> {
    const sorted = SORTED.has(paths as readonly string[]) ? (paths as string[]) : sortUnique(paths);
    this.#written = undefined;
    await this.store.writeBytes(CATALOG_KEY, await encodeCatalog(sorted));
    return sorted;
  }

  /**
   * The paths updates start from: `[]` when the document is missing or
   * unreadable (docs/format.md §9: a deleted catalog is recreated with the new paths
   * only); the walk when the checksum fails and a walker was given; else
   * the stored paths.
   */
  async #start(state: CatalogState | undefined): Promise<string[]> {
    if (state === undefined) return [];
    if (!state.valid && this.#walk !== undefined) return [...(await this.#walk())];
    // Not copied: a state read for this update only (so that its lines are found again).
    return state.paths as string[];
  }

  /**
   * Read-modify-write of the catalog: `change` receives the current paths
   * (see {@link Catalog.add} for what "current" is) and returns the new
   * ones. On stores with conditional writes the write is a compare-and-swap
   * against the version read, retried (re-reading, calling `change` again)
   * while other writers update the catalog in between, so concurrent
   * writers never lose each other's partitions; the first swap of an update
   * is tried against what this object wrote last, without reading, and the
   * catalog is read only when that fails. Elsewhere (Icechunk, inside its
   * transaction) it is a plain read then write.
   *
   * @returns the paths written.
   * @throws ConflictError when the swap kept failing for `attempts` tries.
   */
  async update(change: (current: string[]) => Iterable<string>, attempts = 100): Promise<string[]> {
    if (!this.store.conditionalWrites) {
      return this.write(change(await this.#start(await this.read())));
    }
    let pause = 5;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      // First against what this object wrote last (no read: one round trip when no other writer
      // came in between; the swap fails otherwise), then against what is stored.
      const last = attempt === 1 ? this.#written : undefined;
      this.#written = undefined;
      const current = last === undefined ? await this.store.readVersioned(CATALOG_KEY) : undefined;
      const state = current === undefined ? undefined : await parseCatalog(current.data);
      const changed = change(last?.paths ?? (await this.#start(state)));
      const next = SORTED.has(changed as readonly string[]) ? (changed as string[]) : sortUnique(changed);
      const version = await this.store.writeConditional(
        CATALOG_KEY,
        await encodeCatalog(next),
        last?.version ?? current?.version ?? null,
      );
      if (version !== undefined) {
        this.#written = { version, paths: next };
        return next;
      }
      if (last !== undefined) continue; // changed by another writer: read it, at once
      await new Promise((r) => setTimeout(r, pause * (0.5 + Math.random())));
      pause = Math.min(pause * 2, 200);
    }
    throw new ConflictError(
      `${CATALOG_KEY} of ${this.store.rootUri} kept changing under ${attempts} update attempts`,
      CATALOG_KEY,
    );
  }

  /** Adds paths: `current ∪ paths` (a linear merge of the sorted lists). */
  add(paths: Iterable<string>): Promise<string[]> {
    const extra = sortUnique(paths);
    return this.update((current) => sortedUnion(current, extra));
  }

  /** Removes paths: `current − paths`. */
  remove(paths: Iterable<string>): Promise<string[]> {
    const drop = new Set(paths);
    return this.update((current) => current.filter((p) => !drop.has(p)));
  }

  /** Deletes the `_catalog` prefix. */
  drop(): Promise<void> {
    this.#written = undefined;
    return this.store.deletePrefix(CATALOG_DIR);
  }
}
