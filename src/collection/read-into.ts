/**
 * A query read straight into its output. Concatenating partitions read one
 * by one copies every row once more and holds the result twice at the
 * peak; instead, every partition's documents are read first (the GETs a
 * read needs anyway), each variable's output is allocated once for the
 * rows of all partitions, and each partition decodes its chunks straight
 * into its block of rows — on the codec workers, into shared memory. The
 * concatenation that follows (`concatRows`) then finds consecutive views
 * of one buffer and joins them without a copy (`allocateRows` in
 * ../ndarray.ts).
 *
 * A variable is read this way when every partition read stores it along
 * the partitioning dimension as its first axis, with one data type (not
 * strings) and the same extents on the other axes; any other variable
 * (absent from a partition, stored differently) is read and concatenated
 * as before.
 *
 * @module
 */

import type { Dataset } from "../data/dataset.js";
import { type AnyStorage, type DType, itemSize, type TypedArray } from "../dtype.js";
import { allocateRows, shapeSize } from "../ndarray.js";
import type { DatasetSchema } from "../schema/index.js";
import type { Store } from "../store/store.js";
import { mapConcurrent } from "../util/concurrency.js";
import { framesUsePool } from "../zarr/compression/index.js";
import { MAX_READ_BYTES } from "../zarr/read.js";
import { type PartitionLayout, readPartition, readPartitionLayout } from "./partition-io.js";

/** Options of {@link readPartitionsInto}. */
export interface ReadIntoOptions {
  /** Partitions read at once. */
  readonly concurrency: number;
  readonly signal?: AbortSignal;
  /** Called after each partition is read (`undefined`: not published). */
  readonly onPartition?: (path: string, ds: Dataset | undefined) => void;
}

/**
 * Reads the variables `wanted` (immutable ones excepted) of the partitions
 * at `paths`, each into its block of one output per variable where the
 * layout allows (see the module comment), for `concatRows` along
 * `dimension` to join without copying.
 *
 * @returns one dataset per path, in the order of `paths`; `undefined` for a
 *   partition whose group is not published.
 * @throws as `readPartition`.
 */
export async function readPartitionsInto(
  store: Store,
  schema: DatasetSchema,
  dimension: string,
  paths: readonly string[],
  wanted: ReadonlySet<string>,
  opts: ReadIntoOptions,
): Promise<Array<Dataset | undefined>> {
  const signal = opts.signal;
  const io = signal === undefined ? {} : { signal };
  const layouts = await mapConcurrent(
    paths,
    opts.concurrency,
    (path) => readPartitionLayout(store, path, schema, wanted, io),
    signal,
  );
  const blocks = planBlocks(schema, dimension, layouts);
  return mapConcurrent(
    paths,
    opts.concurrency,
    async (path, i) => {
      const layout = layouts[i];
      const ds =
        layout === undefined
          ? undefined
          : await readPartition(store, path, schema, wanted, {
              ...io,
              layout,
              into: blocks[i] as Map<string, AnyStorage>,
            });
      opts.onPartition?.(path, ds);
      return ds;
    },
    signal,
  );
}

/**
 * For each partition, the storage each eligible variable is read into: a
 * view of that variable's output, at the rows of the partitions before it.
 */
function planBlocks(
  schema: DatasetSchema,
  dimension: string,
  layouts: ReadonlyArray<PartitionLayout | undefined>,
): Array<Map<string, AnyStorage>> {
  const blocks = layouts.map(() => new Map<string, AnyStorage>());
  const published = layouts.filter((l): l is PartitionLayout => l !== undefined);
  if (published.length < 2) return blocks;
  const names = new Set(published.flatMap((l) => [...l.arrays.keys()]));
  for (const name of names) {
    const metas = published.map((l) => l.arrays.get(name));
    const first = metas[0];
    if (first === undefined || first.dtype === "string" || first.shape.length === 0) continue;
    const dims = first.dimensionNames ?? schema.getVariable(name).dimensions;
    if (dims[0] !== dimension) continue;
    const tail = first.shape.slice(1).join(",");
    const same = metas.every(
      (m) =>
        m !== undefined &&
        m.dtype === first.dtype &&
        m.shape.slice(1).join(",") === tail &&
        (m.dimensionNames ?? dims)[0] === dimension,
    );
    if (!same) continue;
    const rowSize = shapeSize(first.shape.slice(1));
    const total = metas.reduce((n, m) => n + (m?.shape[0] ?? 0) * rowSize, 0);
    const dtype: DType = first.dtype;
    // Beyond what one read may allocate (a corrupt document?), each partition's read says which array.
    if (!Number.isSafeInteger(total) || total * itemSize(dtype) > MAX_READ_BYTES) continue;
    const out = allocateRows(dtype, total, framesUsePool(total * itemSize(dtype))) as TypedArray;
    const View = out.constructor as new (b: ArrayBufferLike, o: number, n: number) => TypedArray;
    let at = 0;
    layouts.forEach((l, i) => {
      const meta = l?.arrays.get(name);
      if (meta === undefined) return;
      const n = (meta.shape[0] as number) * rowSize;
      (blocks[i] as Map<string, AnyStorage>).set(
        name,
        new View(out.buffer, out.byteOffset + at * out.BYTES_PER_ELEMENT, n),
      );
      at += n;
    });
  }
  return blocks;
}
