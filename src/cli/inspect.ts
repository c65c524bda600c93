/**
 * `zcollection ls` and `zcollection inspect` (docs/behaviour.md §16): summaries of
 * a collection, or of a view (its base's partitions, base and overlay
 * variables).
 *
 * @module
 */

import { type Collection, openCollection } from "../collection/index.js";
import { attrText } from "../data/repr.js";
import { stringifyJson } from "../json.js";
import { checkedPartitions } from "./consistency.js";
import type { CliIO } from "./io.js";
import { openSource } from "./source.js";
import { absoluteUri } from "./terms.js";

/** Options of {@link ls}. */
export interface LsOptions {
  /** Partition filter expression (docs/behaviour.md §7). */
  filter?: string;
  /** One JSON array on one line instead of one path per line. */
  json?: boolean;
}

/** Opens a collection read-only (`_zcollection.json` must exist). */
export function openReadOnly(url: string, signal?: AbortSignal): Promise<Collection> {
  return openCollection(url, { mode: "r", ...(signal ? { signal } : {}) });
}

/**
 * Prints the partitions matching the filter in natural key order: one path
 * per line, or a JSON array on one line (`["a=1","a=2"]`) and a newline.
 *
 * @throws CollectionNotFoundError / StoreError (exit 2); ExpressionError for a bad filter (exit 1).
 */
export async function ls(url: string, opts: LsOptions, io: CliIO): Promise<number> {
  const col = (await openSource(url, io.signal ? { signal: io.signal } : {})).collection;
  const { paths: parts } = await checkedPartitions(col, url, opts.filter, io);
  if (opts.json === true) io.stdout.write(`${JSON.stringify(parts)}\n`);
  else for (const p of parts) io.stdout.write(`${p}\n`);
  return 0;
}

/** The `inspect --json` document (docs/behaviour.md §16), keys in the order documented there. */
export interface InspectInfo {
  uri: string;
  axis: string;
  partitioning: object;
  n_partitions: number;
  dimensions: Record<string, { size: number | null; chunks: number | null }>;
  variables: Record<string, { dtype: string; dimensions: string[]; immutable: boolean }>;
  attrs: Record<string, unknown>;
  /** For a view: its overlay store, recorded reference and overlay variables (the rest describes the base). */
  view?: {
    uri: string;
    reference: string;
    variables: Record<string, { dtype: string; dimensions: string[] }>;
  };
}

/** The summary `inspect` prints: root dimensions and root variables only, like Python. */
export async function inspectInfo(
  col: Collection,
  signal?: AbortSignal,
  partitions?: readonly string[],
): Promise<InspectInfo> {
  const schema = col.schema;
  const parts = partitions ?? (await col.partitions(signal ? { signal } : {}));
  const dimensions: InspectInfo["dimensions"] = {};
  for (const [name, dim] of schema.dimensions) dimensions[name] = { size: dim.size, chunks: dim.chunks };
  const variables: InspectInfo["variables"] = {};
  for (const [name, v] of schema.variables) {
    variables[name] = { dtype: v.dtype, dimensions: [...v.dimensions], immutable: v.immutable };
  }
  return {
    // A relative local path as an absolute file URL, never the malformed `file://rel/path`.
    uri: absoluteUri(col.store.rootUri),
    axis: col.axis,
    partitioning: col.partitioning.toJSON(),
    n_partitions: parts.length,
    dimensions,
    variables,
    attrs: { ...schema.attrs },
  };
}

/**
 * The text form of `inspect`: the partitioning as its JSON object on one
 * line, each dimension's size (`unlimited` for the partitioning axis) and
 * chunk length (`full` for the whole extent), each variable, and the
 * attributes (strings as they are, other values as JSON-like text).
 */
export function renderInspect(info: InspectInfo): string {
  const out: string[] = [
    `uri:          ${info.uri}`,
    `axis:         ${info.axis}`,
    `partitioning: ${stringifyJson(info.partitioning, { ensureAscii: false })}`,
    `partitions:   ${info.n_partitions}`,
    "dimensions:",
  ];
  for (const [name, d] of Object.entries(info.dimensions)) {
    out.push(`  ${name}: size=${d.size ?? "unlimited"} chunks=${d.chunks ?? "full"}`);
  }
  out.push("variables:");
  for (const [name, v] of Object.entries(info.variables)) {
    out.push(`  ${name}: ${v.dtype} (${v.dimensions.join(",")})${v.immutable ? " (immutable)" : ""}`);
  }
  const attrs = Object.entries(info.attrs);
  if (attrs.length > 0) {
    out.push("attrs:");
    for (const [k, v] of attrs) out.push(`  ${k}: ${attrText(v)}`);
  }
  if (info.view !== undefined) {
    out.unshift(`view:         ${info.view.uri}`, `reference:    ${info.view.reference}`);
    out[2] = `base:         ${info.uri}`;
    out.push("view variables:");
    for (const [name, v] of Object.entries(info.view.variables)) {
      out.push(`  ${name}: ${v.dtype} (${v.dimensions.join(",")})`);
    }
  }
  return out.map((l) => `${l}\n`).join("");
}

/**
 * Prints the summary of a collection: text, or with `json` a 2-space
 * indented JSON object (UTF-8, `null` for an unlimited size or a chunk
 * length spanning the whole extent) and a newline. For a
 * view, the summary of its base followed by the view's store, reference
 * and overlay variables (`view` in JSON).
 *
 * @throws CollectionNotFoundError / StoreError (exit 2).
 */
export async function inspect(url: string, opts: { json?: boolean }, io: CliIO): Promise<number> {
  const source = await openSource(url, io.signal ? { signal: io.signal } : {});
  const col = source.collection;
  const { paths } = await checkedPartitions(col, url, undefined, io);
  const info = await inspectInfo(col, io.signal, paths);
  if (source.view !== undefined) {
    const variables: NonNullable<InspectInfo["view"]>["variables"] = {};
    for (const [name, v] of source.view.viewSchema.variables) {
      variables[name] = { dtype: v.dtype, dimensions: [...v.dimensions] };
    }
    info.view = {
      uri: absoluteUri(source.view.store.rootUri),
      reference: source.view.reference.uri,
      variables,
    };
  }
  io.stdout.write(
    opts.json === true ? `${stringifyJson(info, { indent: 2, ensureAscii: false })}\n` : renderInspect(info),
  );
  return 0;
}
