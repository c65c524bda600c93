/**
 * `Indexer.build` on an executor: the builder runs on the workers, one
 * task per partition; its checked columns travel back as JSON and the
 * index is assembled here.
 *
 * @module
 */

import { openForTask, readForTask, type StoreRef, storeRef } from "../collection/distributed.js";
import type { Collection } from "../collection/index.js";
import { type DType, isBigIntDType } from "../dtype.js";
import { type FunctionRef, type Json, registerTaskHandler } from "../executor/api.js";
import { loadFunction, normalizeFunctionRef } from "../executor/functions.js";
import { resolveExecutor } from "../executor/resolve.js";
import { NDArray } from "../ndarray.js";
import type { IndexBuilder } from "./builders.js";
import { type BuildOptions, type Built, checkBuilt } from "./indexer.js";

/** A column as it travels: 64-bit integers as decimal strings. */
interface WireColumn {
  name: string;
  dtype: DType;
  values: Array<number | string | boolean>;
}

function toWire(name: string, data: NDArray): WireColumn {
  const values = Array.from(data.data as ArrayLike<number | bigint | string | boolean>, (v) =>
    typeof v === "bigint" ? v.toString() : v,
  );
  return { name, dtype: data.dtype, values };
}

function fromWire(c: WireColumn): { name: string; data: NDArray } {
  const values = isBigIntDType(c.dtype) ? c.values.map((v) => BigInt(v as string)) : c.values;
  return { name: c.name, data: NDArray.from(values as never, { dtype: c.dtype }) };
}

registerTaskHandler("indexing.build", async (task, { signal }): Promise<Json> => {
  const col = await openForTask(task.store as unknown as StoreRef, "r");
  const builder = await loadFunction<IndexBuilder>(task.builder as unknown as FunctionRef);
  const variables = (task.variables as string[] | null) ?? builder.variables ?? null;
  const ds = await readForTask(col, task.partition, variables, signal);
  if (ds === undefined) return { missing: true };
  const built = checkBuilt(
    await builder(ds, task.partition),
    task.partition,
    ds.dimensionSize(col.dimension),
  );
  return {
    rows: built.rows,
    columns: built.columns.map((c) => toWire(c.name, c.data)) as unknown as Json,
  };
});

/**
 * The checked builder output of every matching partition, computed on the
 * executor of `opts`, in natural partition order.
 */
export async function buildOnExecutor(col: Collection, opts: BuildOptions): Promise<Map<string, Built>> {
  const ref = normalizeFunctionRef(opts.builder as FunctionRef);
  const paths = await col.partitions({
    filters: opts.filters ?? null,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const { executor, owned } = await resolveExecutor(opts.executor ?? "in-process");
  try {
    const outcomes = await executor.run(
      paths.map((partition) => ({
        kind: "indexing.build",
        partition,
        store: storeRef(col.store, executor, opts.storageOptions) as unknown as Json,
        builder: ref as unknown as Json,
        variables: opts.variables === undefined ? null : [...opts.variables],
      })),
      { signal: opts.signal, onProgress: opts.onProgress },
    );
    const parts = new Map<string, Built>();
    for (const o of outcomes) {
      const r = o.result as { missing?: boolean; rows?: number; columns?: WireColumn[] };
      if (r.missing === true) continue;
      parts.set(o.task.partition, { rows: r.rows ?? 0, columns: (r.columns ?? []).map(fromWire) });
    }
    return parts;
  } finally {
    if (owned) await executor.close();
  }
}
