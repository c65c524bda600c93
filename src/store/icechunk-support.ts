/**
 * Helpers of the Icechunk store (./icechunk.ts) that need none of its
 * state: opening the repository, naming versions, reading error messages.
 *
 * @module
 */

import type {
  Session as IcechunkSession,
  ReadonlySessionOptions,
  Repository,
  Storage,
} from "@earthmover/icechunk";
import { StoreError } from "../errors.js";
import { keyOfMetaName, META_ROOT, metaKeyFor } from "./icechunk-keys.js";
import { loadIcechunkBinding } from "./icechunk-lazy.js";

/** What selects a version: a tag, a snapshot, or else a branch. */
export interface VersionSelection {
  readonly tag?: string | undefined;
  readonly snapshot?: string | undefined;
}

/** Which version a read-only session opens, and how to name it in messages. */
export function versionTarget(
  opts: VersionSelection,
  branch: string,
): { label: string; select: ReadonlySessionOptions } {
  if (opts.tag !== undefined) return { label: `tag '${opts.tag}'`, select: { tag: opts.tag } };
  if (opts.snapshot !== undefined) {
    return { label: `snapshot '${opts.snapshot}'`, select: { snapshotId: opts.snapshot } };
  }
  return { label: `branch '${branch}'`, select: { branch } };
}

export async function openRepository(storage: Storage, uri: string, readOnly: boolean): Promise<Repository> {
  const { Repository } = await loadIcechunkBinding();
  try {
    if (await Repository.exists(storage)) return await Repository.open(storage);
  } catch (cause) {
    throw new StoreError(`${uri}: cannot open the Icechunk repository: ${firstLine(cause)}`, {
      key: uri,
      cause,
    });
  }
  if (readOnly) throw new StoreError(`${uri}: no Icechunk repository there (opened read-only)`, { key: uri });
  try {
    return await Repository.create(storage);
  } catch (cause) {
    // Created by another process meanwhile?
    if (await Repository.exists(storage).catch(() => false)) return Repository.open(storage);
    const detail = /clean prefix/i.test(firstLine(cause))
      ? "the directory is not empty and holds no Icechunk repository"
      : firstLine(cause);
    throw new StoreError(`${uri}: cannot create an Icechunk repository: ${detail}`, { key: uri, cause });
  }
}

/** The `_zc_meta` key of a redirected key, or a key that cannot exist when the name is not redirectable. */
export function metaKeyForRead(key: string): string {
  try {
    return metaKeyFor(key);
  } catch {
    return `${META_ROOT}/${key.replaceAll("/", "__")}/zarr.json`;
  }
}

export function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n")[0]?.trim() ?? "";
}

export function isNodeNotFound(err: unknown): boolean {
  return /node not found/i.test(firstLine(err));
}

/** A short list of what a session changed, in caller keys (for conflict messages). */
export async function describeChanges(session: IcechunkSession): Promise<string> {
  try {
    const diff = await session.status();
    const nodes = [
      ...diff.newGroups,
      ...diff.newArrays,
      ...diff.updatedGroups,
      ...diff.updatedArrays,
      ...diff.deletedGroups,
      ...diff.deletedArrays,
      ...Object.keys((diff.updatedChunks ?? {}) as Record<string, unknown>),
    ].map((p) => {
      const rel = p.replace(/^\/+/, "");
      return rel.startsWith(`${META_ROOT}/`) ? keyOfMetaName(rel.slice(META_ROOT.length + 1)) : rel || "/";
    });
    const unique = [...new Set(nodes)].sort();
    return unique.length === 0
      ? "no node changes"
      : unique.slice(0, 5).join(", ") + (unique.length > 5 ? `, and ${unique.length - 5} more` : "");
  } catch {
    return "changes unknown";
  }
}
