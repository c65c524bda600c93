/**
 * Sequence partitioning: one partition per distinct tuple of integer key
 * variables, `cycle_number=31/pass_number=100` (docs/behaviour.md §6.4, docs/format.md §4.1).
 *
 * @module
 */

import { isIntegerDType } from "../dtype.js";
import { PartitionError } from "../errors.js";
import type { NDArray } from "../ndarray.js";
import { checkComponentName, decodePath, keyIntegers, type PathLayout, pyStr } from "./keys.js";
import type {
  GroupedSequencePartitioningJSON,
  PartitionGroup,
  Partitioning,
  PartitionKey,
  PartitionSlice,
  SequencePartitioningJSON,
  SplittableDataset,
} from "./partitioning.js";
import { checkSameLength, groupRuns, type KeyRun, keyNumber, partitionColumn, runsToSlices } from "./runs.js";

/** Options of {@link Sequence}. */
export interface SequenceOptions {
  /** The dimension every key variable spans (required). */
  dimension: string;
}

/** Bucketing of the last key variable (GroupedSequence): `floor((v − start) / size) × size + start`. */
export interface Bucketing {
  readonly size: number;
  readonly start: number;
}

type IntegerColumn = ArrayLike<number> | ArrayLike<bigint>;

/** Widths of the key values in paths: none (a missing width is 0). */
const NO_PADDING: readonly number[] = [];

/**
 * Partitions rows by the values of one or more integer variables along one
 * dimension (docs/behaviour.md §6.4). Keys are `(variable, value)` pairs in declared
 * order; paths are `name=value` joined by `/`, without padding
 * (`cycle_number=31/pass_number=100`, `c=-2`).
 *
 * Key variables may be int8..int64 or uint8..uint64 (not bool, float or
 * datetime); each column keeps its own type (no numpy-style promotion), so
 * int64 and uint64 columns mix freely as long as every value is within
 * ±(2^53 − 1).
 */
export class Sequence implements Partitioning {
  /** `"sequence"` (`"grouped-sequence"` for {@link GroupedSequence}). */
  readonly name: string = "sequence";
  /** The key variables, in key order. */
  readonly axis: readonly string[];
  /** The dimension split. */
  readonly dimension: string;

  /**
   * @param variables key variable names (an array; a bare string is refused, docs/behaviour.md §18 #10).
   * @throws PartitionError when `variables` is not a non-empty array of distinct
   *   names without `/` or `=`, or `dimension` is not a non-empty string.
   */
  constructor(variables: readonly string[], opts: SequenceOptions) {
    const what = this.label();
    if (!Array.isArray(variables)) {
      throw new PartitionError(
        `${what} variables must be an array of names; got ${typeof variables === "string" ? pyStr(variables) : String(variables)}`,
      );
    }
    if (variables.length === 0) throw new PartitionError(`${what} requires at least one variable`);
    const names = variables.map((v: unknown) => checkComponentName(v, what));
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) {
      throw new PartitionError(`${what} lists variable ${pyStr(dup)} more than once`, { variable: dup });
    }
    const dimension = opts?.dimension as unknown;
    if (typeof dimension !== "string" || dimension === "") {
      throw new PartitionError(`${what} requires a dimension; got ${String(dimension)}`);
    }
    this.axis = Object.freeze(names);
    this.dimension = dimension;
  }

  /** Name used in messages. */
  protected label(): string {
    return "Sequence";
  }

  /** Bucketing of the last variable; none for a plain Sequence. */
  protected bucketing(): Bucketing | undefined {
    return undefined;
  }

  /** The message for a key variable of a non-integer dtype. */
  protected dtypeMessage(variable: string, dtype: string): string {
    return `Sequence partitioning requires integer keys; got dtype ${dtype} for variable ${pyStr(variable)}`;
  }

  /** {@inheritDoc Partitioning.split} */
  split(ds: SplittableDataset): [PartitionKey, PartitionSlice][] {
    return runsToSlices(this.runs(ds));
  }

  /** {@inheritDoc Partitioning.splitGrouped} */
  splitGrouped(ds: SplittableDataset): PartitionGroup[] {
    return groupRuns(this.runs(ds), (key) => this.encode(key));
  }

  /**
   * Runs of consecutive rows with equal keys: a row starts a new run when a
   * column differs from the previous row (or, for the bucketed last column,
   * falls outside the current bucket).
   *
   * @throws PartitionError for a missing / non-1-D / lazy variable, a
   *   non-integer dtype, columns of different lengths, or a key value beyond
   *   ±(2^53 − 1) (naming the variable and the row).
   */
  private runs(ds: SplittableDataset): KeyRun[] {
    const columns: NDArray[] = this.axis.map((name) => {
      const column = partitionColumn(ds, name, this.dimension, "");
      if (!isIntegerDType(column.dtype)) {
        throw new PartitionError(this.dtypeMessage(name, column.dtype), { variable: name });
      }
      return column;
    });
    const n = checkSameLength(this.axis, columns);
    if (n === 0) return [];
    const data = columns.map((c) => c.data as IntegerColumn);
    const bucketing = this.bucketing();
    const exact = bucketing === undefined ? data : data.slice(0, -1);
    const last = data[data.length - 1] as IntegerColumn;
    const runs: KeyRun[] = [];
    let lo: number | bigint = 0;
    let hi: number | bigint = 0;
    const open = (row: number): void => {
      if (bucketing === undefined) return;
      ({ lo, hi } = bucketBounds(last[row] as number | bigint, bucketing));
    };
    const close = (start: number, stop: number): void => {
      const key = this.axis.map((name, c) => {
        const value =
          bucketing !== undefined && c === this.axis.length - 1
            ? lo
            : ((data[c] as IntegerColumn)[start] as number | bigint);
        return [name, keyNumber(value, name, start)] as const;
      });
      runs.push({ key, start, stop });
    };
    let start = 0;
    open(0);
    for (let i = 1; i < n; i++) {
      let same = true;
      for (const col of exact) {
        if (col[i] !== col[i - 1]) {
          same = false;
          break;
        }
      }
      if (same && bucketing !== undefined) {
        const v = last[i] as number | bigint;
        same = v >= lo && v < hi;
      }
      if (!same) {
        close(start, i);
        start = i;
        open(i);
      }
    }
    close(start, n);
    return runs;
  }

  /**
   * The path of a key: `name=value` joined by `/`, no padding (docs/format.md §4.1).
   *
   * @throws PartitionError when the components differ from {@link axis} or a
   *   value is not an integer.
   */
  encode(key: PartitionKey): string {
    const values = keyIntegers(key, this.axis, this.name);
    return values.map((v, i) => `${this.axis[i]}=${v}`).join("/");
  }

  /** {@inheritDoc Partitioning.decode} */
  decode(path: string): PartitionKey {
    return decodePath(path);
  }

  /**
   * How this partitioning writes paths (`name=value` joined by `/`, values
   * zero-padded to the widths), which lets listings check and read the
   * paths of a large catalog in one pass; `undefined` in a subclass that
   * encodes or decodes otherwise.
   */
  pathLayout(): PathLayout | undefined {
    if (this.encode !== Sequence.prototype.encode || this.decode !== Sequence.prototype.decode)
      return undefined;
    return { axis: this.axis, widths: NO_PADDING };
  }

  /** `{"name": "sequence", "variables", "dimension"}` in this key order (docs/format.md §3.6). */
  toJSON(): SequencePartitioningJSON | GroupedSequencePartitioningJSON {
    return { name: "sequence", variables: [...this.axis], dimension: this.dimension };
  }
}

/**
 * Bounds `[lo, hi)` of the bucket holding `v`: `lo = v − ((v − start) mod size)`
 * with a non-negative modulo (floor semantics for values below `start`),
 * `hi = lo + size`. Exact integer arithmetic for numbers and bigints.
 */
export function bucketBounds(
  v: number | bigint,
  { size, start }: Bucketing,
): { lo: number | bigint; hi: number | bigint } {
  if (typeof v === "bigint") {
    const s = BigInt(size);
    let r = (v - BigInt(start)) % s;
    if (r < 0n) r += s;
    const lo = v - r;
    return { lo, hi: lo + s };
  }
  let r = (v - start) % size;
  if (r < 0) r += size;
  const lo = v - r;
  return { lo, hi: lo + size };
}
