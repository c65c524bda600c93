/**
 * Small schemas, datasets and probes shared by the collection tests
 * (test/collection/*.test.ts).
 */

import { Dataset } from "../../src/data/index.js";
import { type DType, datetime64, formatDatetime64, type TimeUnit, timeUnit } from "../../src/dtype.js";
import { NDArray } from "../../src/ndarray.js";
import { Sequence } from "../../src/partitioning/index.js";
import { type DatasetSchema, Schema } from "../../src/schema/index.js";
import { CountingStore } from "../../src/store/counting.js";
import { MemoryStore } from "../../src/store/memory.js";
import type { RangeQuery, Store } from "../../src/store/store.js";

/**
 * The schema of docs/format.md §3.1 (Sequence partitioning over `num`): `num` int64
 * [num] (chunks 4), `value` float32 [num, x] (x size 3 chunks 3, NaN fill,
 * units m), `static` float32 [x] (immutable once bound). With `nested`, a
 * group `/grp/sub` (attrs {level: 2} on `/grp/sub`, {kind: "g"} on `/grp`)
 * holds `depth` float64 [num] and the immutable `coef` int32 [x].
 */
export function seqSchema(opts: { nested?: boolean } = {}): DatasetSchema {
  let b = Schema()
    .withDimension("num", { chunks: 4 })
    .withDimension("x", { size: 3, chunks: 3 })
    .withVariable("num", { dtype: "int64", dimensions: ["num"] })
    .withVariable("value", {
      dtype: "float32",
      dimensions: ["num", "x"],
      fillValue: Number.NaN,
      attrs: { units: "m" },
    })
    .withVariable("static", { dtype: "float32", dimensions: ["x"] });
  if (opts.nested === true) {
    b = b
      .withGroup("/grp", { attrs: { kind: "g" } })
      .withGroup("/grp/sub", { attrs: { level: 2 } })
      .withVariable("depth", { dtype: "float64", dimensions: ["num"], fillValue: -1, group: "/grp/sub" })
      .withVariable("coef", { dtype: "int32", dimensions: ["x"], group: "/grp/sub" });
  }
  return b.build();
}

/** The Sequence partitioning of {@link seqSchema}. */
export function seqPartitioning(): Sequence {
  return new Sequence(["num"], { dimension: "num" });
}

/**
 * Rows of {@link seqSchema}: `num` as given, `value[i] = [10·i, 10·i+1,
 * 10·i+2] + offset`, `static = [0.5, 1.5, 2.5]` (or `staticValues`); with
 * `nested`, `depth[i] = 100 + i + offset`, `coef = [7, 8, 9]`.
 */
export function seqDataset(
  schema: DatasetSchema,
  nums: readonly number[],
  opts: { offset?: number; nested?: boolean; staticValues?: readonly number[] | null } = {},
): Dataset {
  const offset = opts.offset ?? 0;
  const n = nums.length;
  const arrays: Record<string, NDArray | BigInt64Array | Float32Array | Float64Array | Int32Array> = {
    num: BigInt64Array.from(nums, (v) => BigInt(v)),
    value: NDArray.from(
      Float32Array.from({ length: n * 3 }, (_, k) => 10 * Math.floor(k / 3) + (k % 3) + offset),
      { shape: [n, 3] },
    ),
  };
  if (opts.staticValues !== null) arrays.static = Float32Array.from(opts.staticValues ?? [0.5, 1.5, 2.5]);
  if (opts.nested === true) {
    arrays["/grp/sub/depth"] = Float64Array.from({ length: n }, (_, i) => 100 + i + offset);
    arrays["/grp/sub/coef"] = Int32Array.from([7, 8, 9]);
  }
  return Dataset.fromArrays(schema, arrays);
}

/**
 * A time-series schema: `time` of `dtype` [time] (chunks 8), `v` float64
 * [time], `m` int32 [time, x] (x size 2), `c` float32 [x].
 */
export function timeSchema(dtype: DType = "datetime64[s]"): DatasetSchema {
  return Schema()
    .withDimension("time", { chunks: 8 })
    .withDimension("x", { size: 2, chunks: 2 })
    .withVariable("time", { dtype, dimensions: ["time"] })
    .withVariable("v", { dtype: "float64", dimensions: ["time"], fillValue: Number.NaN })
    .withVariable("m", { dtype: "int32", dimensions: ["time", "x"] })
    .withVariable("c", { dtype: "float32", dimensions: ["x"] })
    .build();
}

/**
 * Rows of {@link timeSchema}: `time` from ISO strings in `unit` (default:
 * the unit of the `time` dtype) or raw integers, `v` as given, `m[i] = [v·10, v·10+1]`, `c = [1, 2]`.
 */
export function timeDataset(
  schema: DatasetSchema,
  times: ReadonlyArray<string | number | bigint>,
  v: readonly number[],
  unit?: TimeUnit,
): Dataset {
  const dtype = schema.getVariable("time").dtype;
  const toTick = (x: string | number | bigint): bigint =>
    typeof x === "string"
      ? datetime64(x, unit ?? (dtype.startsWith("datetime64") ? timeUnit(dtype) : "s"))
      : typeof x === "bigint"
        ? x
        : BigInt(x);
  const time =
    dtype === "int64" || dtype.startsWith("datetime64") || dtype.startsWith("timedelta64")
      ? BigInt64Array.from(times, toTick)
      : Float64Array.from(times, (x) => Number(x));
  return Dataset.fromArrays(schema, {
    time,
    v: Float64Array.from(v),
    m: NDArray.from(Int32Array.from(v.flatMap((x) => [x * 10, x * 10 + 1])), { shape: [v.length, 2] }),
    c: Float32Array.from([1, 2]),
  });
}

/** Values of a variable as a plain array (`grp/var` paths accepted). */
export function values(ds: Dataset, path: string): Array<number | bigint | string | boolean> {
  return ds.getVariable(path).array.toArray();
}

/** Numbers of a variable (bigints converted). */
export function numbers(ds: Dataset, path: string): number[] {
  return values(ds, path).map((x) => Number(x));
}

/**
 * A datetime variable formatted as ISO strings (in the variable's own unit),
 * cut to `digits` fractional digits of seconds when given.
 */
export function isoTimes(ds: Dataset, path: string, digits?: number): string[] {
  const v = ds.getVariable(path);
  const unit = timeUnit(v.dtype);
  return v.array.toArray().map((x) => {
    const s = formatDatetime64(x as bigint, unit);
    if (digits === undefined) return s;
    const dot = s.indexOf(".");
    const [whole, frac] = dot < 0 ? [s, ""] : [s.slice(0, dot), s.slice(dot + 1)];
    return digits === 0 ? whole : `${whole}.${frac.padEnd(digits, "0").slice(0, digits)}`;
  });
}

/** A fresh memory store and a counting probe over it. */
export function countingMemory(): { inner: MemoryStore; probe: CountingStore } {
  const inner = new MemoryStore();
  return { inner, probe: new CountingStore(inner) };
}

/** A counting probe that also records the keys read, written and deleted, in call order. */
export class RecordingStore extends CountingStore {
  /** Keys passed to `readBytes` and `readRange`. */
  readonly reads: string[] = [];
  /** Keys passed to `writeBytes`. */
  readonly writes: string[] = [];
  /** Keys passed to `deleteKey` and prefixes passed to `deletePrefix`. */
  readonly deletes: string[] = [];

  override readBytes(key: string, opts?: { signal?: AbortSignal }): Promise<Uint8Array | undefined> {
    this.reads.push(key);
    return super.readBytes(key, opts);
  }

  override readRange(
    key: string,
    range: RangeQuery,
    opts?: { signal?: AbortSignal },
  ): Promise<Uint8Array | undefined> {
    this.reads.push(key);
    return super.readRange(key, range, opts);
  }

  override writeBytes(key: string, data: Uint8Array): Promise<void> {
    this.writes.push(key);
    return super.writeBytes(key, data);
  }

  override deleteKey(key: string): Promise<void> {
    this.deletes.push(key);
    return super.deleteKey(key);
  }

  override deletePrefix(prefix: string): Promise<void> {
    this.deletes.push(prefix);
    return super.deletePrefix(prefix);
  }

  /** Forgets the recorded keys and counts. */
  override reset(): void {
    super.reset();
    this.reads.length = 0;
    this.writes.length = 0;
    this.deletes.length = 0;
  }
}

/** Every key of `store`, sorted. */
export function keys(store: Store, prefix = ""): Promise<string[]> {
  return store.list(prefix);
}

/** The decoded text of a key (throws when absent). */
export async function text(store: Store, key: string): Promise<string> {
  const bytes = await store.readBytes(key);
  if (bytes === undefined) throw new Error(`missing key ${key}`);
  return new TextDecoder().decode(bytes);
}

/** Process warnings emitted while `fn` runs (warning name and message). */
export async function captureWarnings<T>(fn: () => Promise<T>): Promise<{ result: T; warnings: string[] }> {
  const warnings: string[] = [];
  const listener = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  const saved = process.listeners("warning");
  process.removeAllListeners("warning");
  process.on("warning", listener);
  try {
    const result = await fn();
    // emitWarning delivers on the next tick.
    await new Promise((r) => setImmediate(r));
    return { result, warnings };
  } finally {
    process.removeListener("warning", listener);
    for (const l of saved) process.on("warning", l as (w: Error) => void);
  }
}
