/**
 * GroupedSequence partitioning: a {@link Sequence} whose last variable is
 * bucketed into fixed-size groups, `cycle=1/pass_id=10` (docs/behaviour.md §6.5).
 *
 * @module
 */

import { PartitionError } from "../errors.js";
import type { GroupedSequencePartitioningJSON } from "./partitioning.js";
import { type Bucketing, Sequence, type SequenceOptions } from "./sequence.js";

/** Options of {@link GroupedSequence}. */
export interface GroupedSequenceOptions extends SequenceOptions {
  /** Bucket width of the last variable, an integer ≥ 2. */
  size: number;
  /** Bucket origin of the last variable, an integer; 0 by default. */
  start?: number;
}

/**
 * Like {@link Sequence}, but the last variable's value `v` is replaced by the
 * start of its bucket, `floor((v − start) / size) × size + start`, with floor
 * semantics below `start` (size 10: 1, 7 → 0; 12 → 10; 25 → 20; size 4,
 * start 1: −2 → −3). The other variables are exact keys. Every key variable
 * must be an integer (Python only checks the last one).
 */
export class GroupedSequence extends Sequence {
  /** Always `"grouped-sequence"`. */
  override readonly name: string = "grouped-sequence";
  /** Bucket width of the last variable. */
  readonly size: number;
  /** Bucket origin of the last variable. */
  readonly start: number;

  /**
   * @throws PartitionError for the {@link Sequence} conditions, a `size` that is
   *   not an integer ≥ 2, or a `start` that is not an integer.
   */
  constructor(variables: readonly string[], opts: GroupedSequenceOptions) {
    super(variables, opts);
    const size = opts.size as unknown;
    const start = (opts.start ?? 0) as unknown;
    if (typeof size !== "number" || !Number.isSafeInteger(size)) {
      throw new PartitionError(`GroupedSequence size must be an integer; got ${String(size)}`);
    }
    if (size < 2) throw new PartitionError(`GroupedSequence requires size >= 2; got ${size}`);
    if (typeof start !== "number" || !Number.isSafeInteger(start)) {
      throw new PartitionError(`GroupedSequence start must be an integer; got ${String(start)}`);
    }
    this.size = size;
    this.start = start;
  }

  protected override label(): string {
    return "GroupedSequence";
  }

  protected override bucketing(): Bucketing {
    return { size: this.size, start: this.start };
  }

  protected override dtypeMessage(variable: string, dtype: string): string {
    return `GroupedSequence requires integer values for '${variable}'; got dtype ${dtype}`;
  }

  /** `{"name": "grouped-sequence", "variables", "dimension", "size", "start"}` in this key order (docs/format.md §3.6). */
  override toJSON(): GroupedSequencePartitioningJSON {
    return {
      name: "grouped-sequence",
      variables: [...this.axis],
      dimension: this.dimension,
      size: this.size,
      start: this.start,
    };
  }
}
