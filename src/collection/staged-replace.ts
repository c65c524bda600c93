/**
 * The staged-replace protocol: how a stored target (a partition group, or an
 * array under `_immutable/`) is replaced so that a crash at any instant
 * leaves either its old or its new content — never neither, never a mix.
 *
 * 1. The new content is written under `staging/<op>/<target>` (arrays first,
 *    the group or array document last, so "staged document present" means
 *    "staged content complete").
 * 2. The writer confirms it still holds the target's lease, then writes the
 *    intent `journal/<op>/<target>.intent`: the commit point. Before it,
 *    recovery discards the staged content; after it, recovery publishes it.
 * 3. Publish, ignoring aborts:
 *    - where the store can move a prefix atomically (a directory rename on a
 *      local disk, a re-keying in memory): move the old target to
 *      `trash/<op>/<target>`, then the staged content to the target — two
 *      renames; between them the target is briefly absent;
 *    - elsewhere (S3 has no rename): unpublish the target (delete its
 *      document), delete its objects, copy the staged objects in (server-side
 *      copies on S3), its document last. Readers see the target absent for
 *      the duration of the copy, never a mix.
 * 4. Delete the intent, then the staged and trashed prefixes.
 *
 * Every step from 3 on is idempotent given the intent, which is how
 * {@link settleTarget} rolls an interrupted replacement forward.
 *
 * A target that is not published (no document) needs no staging: it is
 * invisible until its document is written last, so it is written in place.
 *
 * @module
 */

import { StoreError } from "../errors.js";
import type { Store } from "../store/store.js";
import { joinPath, relativePath } from "../store/store.js";
import { mapConcurrent } from "../util/concurrency.js";
import { metadataKey } from "../zarr/index.js";
import { encodeDocument, type JournalLayout, readIntent } from "./journal.js";

/** Writes a target's content under a prefix: children first, the document at `metadataKey(prefix)` last. */
export type ContentWriter = (prefix: string, opts: { signal?: AbortSignal }) => Promise<void>;

/** What {@link replaceTarget} did. */
export type ReplaceOutcome = "created" | "replaced";

/** Context of one operation's replacements. */
export interface ReplaceContext {
  readonly store: Store;
  readonly layout: JournalLayout;
  /** The operation id. */
  readonly id: string;
  /** Called right before the commit point; throws when the target's lease was lost. */
  readonly confirm: () => Promise<void>;
  /** Told when a target's intent is written (`true`) and when it is finished (`false`). */
  readonly onIntent?: (target: string, pending: boolean) => void;
  /** Told when a target starts being staged. */
  readonly onStaging?: (target: string) => void;
}

/** Objects copied at once when publishing by copy. */
const COPY_CONCURRENCY = 16;

/** Options of {@link replaceTarget}: what the caller already knows of the target, and an abort signal. */
export interface ReplaceOptions {
  readonly signal?: AbortSignal;
  /** Whether the target is published (its group document exists); checked when not given. */
  readonly published?: boolean;
  /**
   * Whether objects lie under an unpublished target (left by an interrupted
   * in-place write, cleared before writing there); checked when not given.
   */
  readonly leftovers?: boolean;
}

/**
 * Writes `target` with `write`: in place when it is not published, through
 * staging and an intent otherwise (see the module comment). The caller
 * holds the target's lease.
 *
 * Aborting (`signal`) before the commit point discards the staged content
 * and rejects with the signal's reason; after it, the publication completes
 * first.
 *
 * @throws the writer's error (staged content discarded), ConflictError when
 *   the lease was lost before the commit point, StoreError on store failures
 *   (after the commit point, the intent stays for recovery).
 */
export async function replaceTarget(
  ctx: ReplaceContext,
  target: string,
  write: ContentWriter,
  opts: ReplaceOptions = {},
): Promise<ReplaceOutcome> {
  const { store, layout, id } = ctx;
  const published = opts.published ?? (await store.exists(metadataKey(target)));
  if (!published) {
    // Leftovers of an interrupted in-place write are invisible; clear them.
    if (opts.leftovers ?? (await store.exists(target))) await store.deletePrefix(target);
    try {
      await write(target, opts.signal ? { signal: opts.signal } : {});
    } catch (err) {
      if (!(await store.exists(metadataKey(target)))) await store.deletePrefix(target).catch(() => undefined);
      throw err;
    }
    return "created";
  }
  const staged = layout.staged(id, target);
  ctx.onStaging?.(target);
  try {
    await write(staged, opts.signal ? { signal: opts.signal } : {});
    opts.signal?.throwIfAborted();
    await ctx.confirm();
  } catch (err) {
    await store.deletePrefix(staged).catch(() => undefined);
    throw err;
  }
  ctx.onIntent?.(target, true);
  await store.writeBytes(layout.intentKey(id, target), encodeDocument({ format_version: 1, target, staged }));
  await publish(store, layout, id, target, staged);
  await finishIntent(store, layout, id, target, staged);
  ctx.onIntent?.(target, false);
  return "replaced";
}

/**
 * Publishes content another process staged for `target` at `staged` (the
 * content was written there completely, its document last): steps 2–4 of
 * the protocol. The caller holds the target's lease.
 *
 * @throws StoreError naming the target when the staged document is absent
 *   (the content is incomplete); ConflictError when the lease was lost.
 */
export async function publishStaged(
  ctx: ReplaceContext,
  target: string,
  staged: string,
): Promise<ReplaceOutcome> {
  const { store, layout, id } = ctx;
  if (!(await store.exists(metadataKey(staged)))) {
    throw new StoreError(
      `the content staged for '${target}' at '${staged}' is incomplete (no group document)`,
      {
        key: staged,
      },
    );
  }
  const published = await store.exists(metadataKey(target));
  ctx.onStaging?.(target);
  await ctx.confirm();
  ctx.onIntent?.(target, true);
  await store.writeBytes(layout.intentKey(id, target), encodeDocument({ format_version: 1, target, staged }));
  await publish(store, layout, id, target, staged);
  await finishIntent(store, layout, id, target, staged);
  ctx.onIntent?.(target, false);
  return published ? "replaced" : "created";
}

/**
 * Moves the complete staged content of `target` into place (step 3); a
 * no-op when the staged document is gone (already published).
 */
async function publish(
  store: Store,
  layout: JournalLayout,
  id: string,
  target: string,
  staged: string,
): Promise<void> {
  if (!(await store.exists(metadataKey(staged)))) return;
  const trash = layout.trash(id, target);
  if (await store.exists(target)) {
    if (await store.renamePrefix(target, trash)) {
      await store.renamePrefix(staged, target);
      return;
    }
  } else if (await store.renamePrefix(staged, target)) {
    return;
  }
  await publishByCopy(store, staged, target);
}

/** Step 3 without rename: unpublish, clear, copy the staged objects with the document last. */
async function publishByCopy(store: Store, staged: string, target: string): Promise<void> {
  await store.deleteKey(metadataKey(target));
  await store.deletePrefix(target);
  const keys = (await store.list(staged)).map((k) => relativePath(k, staged));
  const documentLast = keys.filter((k) => k !== "zarr.json");
  await mapConcurrent(documentLast, COPY_CONCURRENCY, (k) =>
    store.copyObject(joinPath(staged, k), joinPath(target, k)),
  );
  await store.copyObject(metadataKey(staged), metadataKey(target));
}

/** Step 4: the intent first (the replacement is done), then what staging and trash hold. */
async function finishIntent(
  store: Store,
  layout: JournalLayout,
  id: string,
  target: string,
  staged: string,
): Promise<void> {
  await store.deleteKey(layout.intentKey(id, target));
  await store.deletePrefix(staged);
  await store.deletePrefix(layout.trash(id, target));
}

/**
 * Completes what operation `id` left unfinished on `target`: publishes its
 * staged content when the intent was written (roll forward), otherwise
 * discards it. The caller holds the target's lease (taken over from `id`).
 *
 * @returns "rolled-forward" when an intent was found and completed, else "discarded".
 */
export async function settleTarget(
  store: Store,
  layout: JournalLayout,
  id: string,
  target: string,
): Promise<"rolled-forward" | "discarded"> {
  const intentKey = layout.intentKey(id, target);
  const intent = await readIntent(store, intentKey);
  const staged = intent?.staged ?? layout.staged(id, target);
  if (intent === undefined) {
    await store.deleteKey(intentKey); // unreadable: written partially? it was never the commit point
    await store.deletePrefix(staged);
    await store.deletePrefix(layout.trash(id, target));
    return "discarded";
  }
  await publish(store, layout, id, target, staged);
  await finishIntent(store, layout, id, target, staged);
  return "rolled-forward";
}
