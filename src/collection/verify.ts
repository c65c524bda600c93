/**
 * Verifying a collection's stored data (`zcollection verify`): every chunk
 * of every array of the listed partitions and of `_immutable/` is read and
 * decoded, so that a damaged object — a flipped byte caught by the zstd
 * frame checksum or a `crc32c`, a truncated chunk, a shard index failing its
 * CRC-32C, a garbled `zarr.json` — is reported by key instead of surfacing
 * later as a failed (or, without checksums, silently wrong) read.
 *
 * @module
 */

import { get as getConfig } from "../config.js";
import type { DatasetSchema, VariableSchema } from "../schema/index.js";
import { joinPath, type Store } from "../store/store.js";
import { createLimiter, mapConcurrent } from "../util/concurrency.js";
import { type ArrayMetadata, metadataKey, parseNodeMetadata, verifyArray } from "../zarr/index.js";
import type { Progress } from "./collection.js";
import { IMMUTABLE_DIR } from "./partition-io.js";

/** One damaged or inconsistent object found by {@link verifyPartitions}. */
export interface VerifyFailure {
  /** Partition path (`num=3`, `year=2024/month=01`), or `_immutable`. */
  partition: string;
  /**
   * Variable path of the array in the partition (`value`, `grp/sub/depth`);
   * `""` for the partition's own group document.
   */
  array: string;
  /**
   * The object at fault, relative to the array (or to the partition when
   * `array` is `""`): a chunk or shard key (`c/0/1`) or `zarr.json`.
   */
  chunk: string;
  /** What is wrong, on one line (inner chunk coordinates first for a chunk inside a shard). */
  error: string;
}

/** The result of {@link verifyPartitions}. */
export interface VerifyReport {
  /** Partitions verified (the listed ones; `_immutable/` not included). */
  partitions: number;
  /** Arrays found and examined (document present, or objects stored without one), `_immutable/` included. */
  arrays: number;
  /** Chunks decoded: chunk objects, and inner chunks of shards whose index could be read. Absent chunks are not counted. */
  chunks: number;
  /** Bytes read for the chunks (compressed, as stored; documents not included). */
  bytes: number;
  /** Everything found wrong, by partition (listing order, `_immutable` last), then array and key. */
  failures: VerifyFailure[];
}

/** Options of {@link verifyPartitions}. */
export interface VerifyOptions {
  /** Aborts the verification: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called after each partition (and after `_immutable/`, counted as one more step). */
  onProgress?: (p: Progress) => void;
  /**
   * Chunk reads and decodes in flight across the whole verification (each
   * holds one chunk, or one ranged read of a shard of at most 8 MiB);
   * default 2 × config `codec.workers` (at least 2).
   */
  concurrency?: number;
  /**
   * The partition dimension, along which every array of a partition must
   * have the same extent. Default: the root dimension every non-immutable
   * variable of `schema` spans (the collection's axis); pass
   * `collection.axis` to be explicit.
   */
  axis?: string;
}

/** The root dimension every non-immutable variable spans, or `undefined`. */
function partitionAxis(schema: DatasetSchema): string | undefined {
  const spanning = [...schema.allVariables().values()].filter((v) => !v.immutable);
  if (spanning.length === 0) return undefined;
  for (const name of schema.dimensions.keys()) {
    if (spanning.every((v) => v.dimensions.includes(name))) return name;
  }
  return undefined;
}

function message(err: unknown, signal: AbortSignal | undefined): string {
  if (signal?.aborted) throw signal.reason ?? err;
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}

/** What one array contributes to the report. */
interface ArrayOutcome {
  path: string;
  variable: VariableSchema;
  metadata: ArrayMetadata | undefined;
  found: boolean;
}

/**
 * Verifies `partitions` of a collection (paths as listed by
 * `collection.partitions()`) and its `_immutable/` group when
 * `_immutable/zarr.json` exists:
 *
 * - the group document of each partition (and of `_immutable/`) must parse
 *   as a group; a listed partition without one is a failure;
 * - for every variable of `schema` (non-immutable ones in partitions,
 *   immutable ones in `_immutable/`) whose array is stored, the array
 *   document must parse, its rank and `dimension_names` must match the
 *   schema, and every chunk and every inner chunk of every shard must
 *   decode (checksums verified; see `verifyArray` in the Zarr layer);
 *   an array absent from a partition is not a failure (reads fill it), nor
 *   is an absent chunk (the fill value);
 * - within a partition, every array spanning the partition dimension must
 *   have the same extent along it: an array whose extent differs from the
 *   others' (or, without a majority, every array) is a failure on its
 *   `zarr.json`.
 *
 * Chunks are decoded one by one (at most `concurrency` in flight), never a
 * whole array.
 *
 * @returns the report; a damaged or missing object is a failure in it,
 *   never an exception.
 * @throws only the signal's reason when `opts.signal` aborts.
 */
export async function verifyPartitions(
  store: Store,
  schema: DatasetSchema,
  partitions: readonly string[],
  opts: VerifyOptions = {},
): Promise<VerifyReport> {
  const signal = opts.signal;
  signal?.throwIfAborted();
  const getOpts = signal === undefined ? {} : { signal };
  const concurrency = Math.max(
    1,
    Math.floor(opts.concurrency ?? Math.max(2, 2 * Math.floor(getConfig("codec.workers")))),
  );
  const limiter = createLimiter(concurrency);
  const axis = opts.axis ?? partitionAxis(schema);
  const variables = [...schema.allVariables()];
  const partitionVariables = variables.filter(([, v]) => !v.immutable);
  const immutableVariables = variables.filter(([, v]) => v.immutable);

  const report: VerifyReport = {
    partitions: partitions.length,
    arrays: 0,
    chunks: 0,
    bytes: 0,
    failures: [],
  };
  const units = partitions.map((p) => ({ prefix: p, immutable: false }));
  const immutableFailures: VerifyFailure[] = [];
  try {
    if (await store.exists(metadataKey(IMMUTABLE_DIR)))
      units.push({ prefix: IMMUTABLE_DIR, immutable: true });
  } catch (err) {
    const error = message(err, signal);
    immutableFailures.push({ partition: IMMUTABLE_DIR, array: "", chunk: "zarr.json", error });
  }
  const perUnit: VerifyFailure[][] = units.map(() => []);
  let done = 0;

  await mapConcurrent(
    units,
    Math.min(4, concurrency),
    async (unit, u) => {
      const failures = perUnit[u] as VerifyFailure[];
      const prefix = unit.prefix;
      // The group document of the partition (or of _immutable/).
      try {
        const key = metadataKey(prefix);
        const doc = await store.readBytes(key, getOpts);
        if (doc === undefined) {
          failures.push({
            partition: prefix,
            array: "",
            chunk: "zarr.json",
            error: `missing group document ${key}`,
          });
        } else if (parseNodeMetadata(doc, key).nodeType !== "group") {
          failures.push({
            partition: prefix,
            array: "",
            chunk: "zarr.json",
            error: `${key} describes an array, not a group`,
          });
        }
      } catch (err) {
        failures.push({ partition: prefix, array: "", chunk: "zarr.json", error: message(err, signal) });
      }

      const wanted = unit.immutable ? immutableVariables : partitionVariables;
      const outcomes = await mapConcurrent(
        wanted,
        16,
        async ([path, variable]): Promise<ArrayOutcome> => {
          const result = await verifyArray(store, joinPath(prefix, path), {
            limiter,
            concurrency,
            ...getOpts,
          });
          if (result.found) report.arrays += 1;
          report.chunks += result.chunks;
          report.bytes += result.bytes;
          for (const f of result.failures) {
            failures.push({ partition: prefix, array: path, chunk: f.chunk, error: f.error });
          }
          const meta = result.metadata;
          if (meta !== undefined) {
            const declared = variable.dimensions;
            const stored = meta.dimensionNames;
            let error: string | undefined;
            if (meta.shape.length !== declared.length) {
              error = `shape [${meta.shape.join(", ")}] has ${meta.shape.length} dimensions; the schema declares (${declared.join(", ")})`;
            } else if (stored?.some((n, d) => n !== null && n !== declared[d])) {
              error = `dimension_names (${stored.join(", ")}) differ from the schema's (${declared.join(", ")})`;
            }
            if (error !== undefined) {
              failures.push({ partition: prefix, array: path, chunk: "zarr.json", error });
              return { path, variable, metadata: undefined, found: true };
            }
          }
          return { path, variable, metadata: meta, found: result.found };
        },
        signal,
      );

      if (!unit.immutable && axis !== undefined) checkAxisExtents(prefix, axis, outcomes, failures);
      failures.sort((a, b) =>
        a.array === b.array ? compareKeys(a.chunk, b.chunk) : a.array < b.array ? -1 : 1,
      );
      done += 1;
      opts.onProgress?.({ done, total: units.length, partition: prefix });
    },
    signal,
  );
  report.failures = [...perUnit.flat(), ...immutableFailures];
  return report;
}

/** Chunk keys in natural order (`c/2` before `c/10`), `zarr.json` first. */
function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  if (a === "zarr.json") return -1;
  if (b === "zarr.json") return 1;
  return a.localeCompare(b, "en", { numeric: true });
}

/**
 * Flags the arrays of a partition whose extent along `axis` is not the
 * partition's: the extent most arrays have, or, when no extent has a strict
 * majority over the others, every array.
 */
function checkAxisExtents(
  partition: string,
  axis: string,
  outcomes: readonly ArrayOutcome[],
  failures: VerifyFailure[],
): void {
  const extents: Array<{ path: string; extent: number; shape: readonly number[] }> = [];
  for (const o of outcomes) {
    if (o.metadata === undefined) continue;
    const d = o.variable.dimensions.indexOf(axis);
    if (d < 0) continue;
    extents.push({ path: o.path, extent: o.metadata.shape[d] as number, shape: o.metadata.shape });
  }
  const counts = new Map<number, number>();
  for (const e of extents) counts.set(e.extent, (counts.get(e.extent) ?? 0) + 1);
  if (counts.size <= 1) return;
  const ranked = [...counts].sort((a, b) => b[1] - a[1]);
  const top = ranked[0] as [number, number];
  const unique = (ranked[1] as [number, number])[1] < top[1];
  for (const e of extents) {
    if (unique && e.extent === top[0]) continue;
    const others = unique
      ? `the partition's other arrays have ${top[0]}`
      : `the partition's arrays disagree (${ranked.map(([x, n]) => `${n} with ${x}`).join(", ")})`;
    failures.push({
      partition,
      array: e.path,
      chunk: "zarr.json",
      error: `shape [${e.shape.join(", ")}]: extent ${e.extent} along the partition dimension '${axis}', but ${others}`,
    });
  }
}
