/**
 * The write journal of a collection: where an operation records what it is
 * doing so that a crash at any instant can be finished or undone by the
 * next writer (see docs/safety.md).
 *
 * Everything lives under one reserved top-level prefix that partition walks
 * skip, in this library and in the Python one (docs/format.md §1 reserves
 * `_zc_meta`):
 *
 * ```
 * _zc_meta/
 * ├── journal/<op>.json                  one record per running operation (owner, expiry, partitions)
 * ├── journal/<op>/<target>.intent       "publish staging/<op>/<target> as <target>": the commit point of a replacement
 * ├── staging/<op>/<target>/…            the complete new content of a replaced target
 * ├── trash/<op>/<target>/…              the old content while a directory swap is under way
 * └── leases/<target>.lease              who writes <target> now
 * ```
 *
 * On Icechunk, `_zc_meta` is the tree of redirected keys (docs/format.md §11), so
 * the journal root there is `_zc_journal` (itself redirected, invisible to
 * walks); only operation records are written there, since commits are
 * atomic already.
 *
 * @module
 */

import { decodeJson, encodeJson } from "../json.js";
import { isStale } from "../store/lease.js";
import type { Store } from "../store/store.js";
import { processIdentity } from "../util/process-identity.js";

/** What kind of operation a record describes, and so how recovery completes it. */
export type OperationKind = "insert" | "update" | "drop";

/**
 * An operation record, `journal/<id>.json`. It is written before the
 * operation touches anything and deleted after its last step, and renewed
 * while it runs (like a lease), so that recovery can tell a running
 * operation from a dead one.
 */
export interface OperationRecord {
  readonly format_version: 1;
  /** Operation id (time-ordered, URL- and path-safe). */
  readonly id: string;
  readonly operation: OperationKind;
  readonly host: string;
  readonly pid: number;
  readonly token: string;
  /** Start time, ISO 8601. */
  readonly started: string;
  /** Milliseconds since the epoch after which the record is stale unless renewed. */
  readonly expires: number;
  /** Partition paths the operation may create, replace or delete (catalog reconciliation). */
  readonly partitions: readonly string[];
}

/** A replacement's commit point, `journal/<op>/<target>.intent`. */
export interface ReplaceIntent {
  readonly format_version: 1;
  /** The target prefix (a partition path, or `_immutable/<variable>`). */
  readonly target: string;
  /** The prefix holding its complete new content. */
  readonly staged: string;
}

/** Key layout of the journal in one store. */
export class JournalLayout {
  /** Root prefix: `_zc_meta`, or `_zc_journal` on transactional stores. */
  readonly root: string;

  constructor(store: Store) {
    this.root = store.transactional ? "_zc_journal" : "_zc_meta";
  }

  /** Prefix of the operation records. */
  get journal(): string {
    return `${this.root}/journal`;
  }

  /** Prefix of the leases. */
  get leases(): string {
    return `${this.root}/leases`;
  }

  /** Key of the record of operation `id`. */
  recordKey(id: string): string {
    return `${this.root}/journal/${id}.json`;
  }

  /** Prefix of the intents of operation `id`. */
  intentsOf(id: string): string {
    return `${this.root}/journal/${id}`;
  }

  /** Key of the intent of operation `id` on `target`. */
  intentKey(id: string, target: string): string {
    return `${this.root}/journal/${id}/${target}.intent`;
  }

  /** Prefix of the staged content of `target` by operation `id`. */
  staged(id: string, target: string): string {
    return `${this.root}/staging/${id}/${target}`;
  }

  /** Prefix of the old content of `target` while operation `id` swaps it out. */
  trash(id: string, target: string): string {
    return `${this.root}/trash/${id}/${target}`;
  }

  /** Prefixes of everything operation `id` may leave behind, record excluded. */
  leftovers(id: string): string[] {
    return [`${this.root}/staging/${id}`, `${this.root}/trash/${id}`, this.intentsOf(id)];
  }
}

/** A new operation id: base-36 milliseconds then random hex, sortable by start time. */
export function newOperationId(): string {
  const bytes = new Uint8Array(4);
  globalThis.crypto.getRandomValues(bytes);
  const rand = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${Date.now().toString(36)}-${rand}`;
}

/** A record for a new operation of this process. */
export function newRecord(
  id: string,
  operation: OperationKind,
  partitions: readonly string[],
  ttlMs: number,
): OperationRecord {
  const me = processIdentity();
  return {
    format_version: 1,
    id,
    operation,
    host: me.host,
    pid: me.pid,
    token: me.token,
    started: new Date().toISOString(),
    expires: Date.now() + ttlMs,
    partitions: [...partitions],
  };
}

/** Encodes a journal document (compact JSON). */
export function encodeDocument(doc: OperationRecord | ReplaceIntent): Uint8Array {
  return encodeJson(doc);
}

/** The record of operation `id`, or `undefined` when absent or unreadable. */
export async function readRecord(
  store: Store,
  layout: JournalLayout,
  id: string,
): Promise<OperationRecord | undefined> {
  const bytes = await store.readBytes(layout.recordKey(id));
  if (bytes === undefined) return undefined;
  try {
    const doc = decodeJson(bytes, layout.recordKey(id)) as unknown as Partial<OperationRecord> | null;
    if (doc === null || typeof doc !== "object" || typeof doc.expires !== "number") return undefined;
    const partitions = Array.isArray(doc.partitions)
      ? doc.partitions.filter((p) => typeof p === "string")
      : [];
    return { ...(doc as OperationRecord), partitions };
  } catch {
    return undefined;
  }
}

/** The intent at `key`, or `undefined` when absent or unreadable. */
export async function readIntent(store: Store, key: string): Promise<ReplaceIntent | undefined> {
  const bytes = await store.readBytes(key);
  if (bytes === undefined) return undefined;
  try {
    const doc = decodeJson(bytes, key) as unknown as Partial<ReplaceIntent> | null;
    if (doc === null || typeof doc !== "object") return undefined;
    if (typeof doc.target !== "string" || typeof doc.staged !== "string") return undefined;
    return doc as ReplaceIntent;
  } catch {
    return undefined;
  }
}

/** Whether an operation record belongs to an operation that can no longer finish by itself. */
export function isAbandoned(record: OperationRecord | undefined, now = Date.now()): boolean {
  if (record === undefined) return true;
  return isStale(record, now);
}

/** Ids of the operations that have a record or left intents, sorted (oldest first). */
export async function listOperations(store: Store, layout: JournalLayout): Promise<string[]> {
  const names = await store.listPrefix(layout.journal);
  return [...new Set(names.map((n) => (n.endsWith(".json") ? n.slice(0, -5) : n)))].sort();
}
