/**
 * Date partitioning: rows bucketed by a datetime64 variable truncated to a
 * resolution, `year=2024/month=03/day=05` (docs/behaviour.md §6.3, docs/format.md §4.1).
 *
 * @module
 */

import {
  datetimeFields,
  daysFromCivil,
  floorDiv,
  isDatetime,
  NAT,
  type TimeUnit,
  timeUnit,
  toNanoseconds,
  unitNanoseconds,
} from "../dtype.js";
import { PartitionError } from "../errors.js";
import { checkComponentName, decodePath, keyIntegers, type PathLayout, padInteger, pyStr } from "./keys.js";
import type {
  DatePartitioningJSON,
  PartitionGroup,
  Partitioning,
  PartitionKey,
  PartitionSlice,
  Resolution,
  SplittableDataset,
} from "./partitioning.js";
import { groupRuns, type KeyRun, partitionColumn, runsToSlices } from "./runs.js";

export type { Resolution };

/** The resolutions, coarsest first. */
export const RESOLUTIONS: readonly Resolution[] = ["Y", "M", "D", "h", "m", "s"];

/** Key components of each resolution with their zero-padding width (docs/format.md §4.1). */
const COMPONENTS: readonly (readonly [string, number])[] = [
  ["year", 4],
  ["month", 2],
  ["day", 2],
  ["hour", 2],
  ["minute", 2],
  ["second", 2],
];

/** Options of {@link DatePartitioning}. */
export interface DateOptions {
  /** Finest key component: `Y` → year, `M` → year/month, … `s` → …/second. */
  resolution: Resolution;
  /** Dimension the variable spans; defaults to the variable's name. */
  dimension?: string | null;
}

const DAY_NS = 86_400_000_000_000n;

/** `ceil(a / b)` for bigints, b > 0. */
function ceilDiv(a: bigint, b: bigint): bigint {
  return -floorDiv(-a, b);
}

/**
 * Partitions rows by a datetime64 variable truncated to a resolution
 * (docs/behaviour.md §6.3). Keys are the proleptic Gregorian UTC fields of the
 * truncated instant, months and days 1-based: `[["year", 2024], ["month", 3]]`
 * for resolution `M`, encoded `year=2024/month=03`.
 *
 * Any datetime64 unit is accepted (Y, M, D, h, m, s, ms, us, ns);
 * truncation floors (`1969-12-31T23:59:59.5` → second 59 of 1969), and
 * years before 1970 or 1000 work (`year=0999`, `year=-001`).
 *
 * Exported from the package as `Date` (and `DatePartitioning`, which does
 * not shadow the global `Date`).
 */
export class DatePartitioning implements Partitioning {
  /** Always `"date"`. */
  readonly name = "date" as const;
  /** The datetime64 variable the rows are bucketed by. */
  readonly variable: string;
  /** The resolution. */
  readonly resolution: Resolution;
  /** The dimension split (defaults to the variable's name). */
  readonly dimension: string;
  /** Key component names: `year`, then `month`, `day`, `hour`, `minute`, `second` down to the resolution. */
  readonly axis: readonly string[];
  private readonly widths: readonly number[];

  /**
   * @param variables the variable name, or an array holding exactly one name.
   * @throws PartitionError for anything but exactly one variable name, or an
   *   unknown resolution.
   */
  constructor(variables: string | readonly string[], opts: DateOptions) {
    const list: unknown[] =
      typeof variables === "string" ? [variables] : Array.isArray(variables) ? variables : [];
    if (list.length !== 1 || typeof list[0] !== "string") {
      throw new PartitionError(
        `Date takes exactly one variable; got ${Array.isArray(variables) ? `[${variables.map((v) => (typeof v === "string" ? pyStr(v) : String(v))).join(", ")}]` : String(variables)}`,
      );
    }
    this.variable = checkComponentName(list[0], "Date");
    const resolution = opts?.resolution as unknown;
    const depth = RESOLUTIONS.indexOf(resolution as Resolution);
    if (depth < 0) {
      throw new PartitionError(
        `unsupported resolution ${typeof resolution === "string" ? pyStr(resolution) : String(resolution)}; ` +
          `choose from ('Y', 'M', 'D', 'h', 'm', 's')`,
      );
    }
    this.resolution = resolution as Resolution;
    const dimension = opts.dimension;
    if (dimension !== undefined && dimension !== null && typeof dimension !== "string") {
      throw new PartitionError(`Date dimension must be a string; got ${String(dimension)}`);
    }
    this.dimension = dimension || this.variable;
    const components = COMPONENTS.slice(0, depth + 1);
    this.axis = Object.freeze(components.map(([name]) => name));
    this.widths = components.map(([, width]) => width);
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
   * Runs of consecutive rows in the same bucket. Each row costs two bigint
   * comparisons against the current bucket's bounds; the bucket is recomputed
   * only when a row falls outside it.
   *
   * @throws PartitionError for a missing / non-1-D / lazy variable, a dtype
   *   other than datetime64, or NaT (naming the row; docs/behaviour.md §18 #9).
   */
  private runs(ds: SplittableDataset): KeyRun[] {
    const column = partitionColumn(ds, this.variable, this.dimension, "Date ");
    if (!isDatetime(column.dtype)) {
      throw new PartitionError(
        `Date partitioning requires datetime64 values; got dtype ${column.dtype} for variable ${pyStr(this.variable)}`,
        { variable: this.variable },
      );
    }
    const unit = timeUnit(column.dtype);
    const values = column.data as BigInt64Array;
    const runs: KeyRun[] = [];
    let lo = 0n;
    let hi = 0n;
    let key: PartitionKey | undefined;
    let start = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as bigint;
      if (v >= lo && v < hi) continue;
      if (v === NAT) {
        throw new PartitionError(
          `variable ${pyStr(this.variable)} holds NaT at row ${i}; Date partitioning needs a valid date on every row`,
          { variable: this.variable },
        );
      }
      if (key !== undefined) runs.push({ key, start, stop: i });
      start = i;
      ({ lo, hi, key } = this.bucket(v, unit));
    }
    if (key !== undefined) runs.push({ key, start, stop: values.length });
    return runs;
  }

  /**
   * The bucket of a value of `unit`: its key and its bounds `[lo, hi)` in
   * ticks of `unit` (NaT excluded).
   */
  private bucket(v: bigint, unit: TimeUnit): { lo: bigint; hi: bigint; key: PartitionKey } {
    let lo: bigint;
    let hi: bigint;
    let instant: bigint;
    if (unit === "Y" || unit === "M") {
      // Calendar units: every value is aligned on a month start.
      if (unit === "M" && this.resolution === "Y") {
        lo = floorDiv(v, 12n) * 12n;
        hi = lo + 12n;
      } else {
        lo = v;
        hi = v + 1n;
      }
      instant = toNanoseconds(lo, unit);
    } else {
      const tick = unitNanoseconds(unit);
      const ns = v * tick;
      let end: bigint;
      if (this.resolution === "Y" || this.resolution === "M") {
        const f = datetimeFields(ns);
        const month = this.resolution === "Y" ? 1 : f.month;
        instant = BigInt(daysFromCivil(f.year, month, 1)) * DAY_NS;
        const next =
          this.resolution === "Y" ? [f.year + 1, 1] : month === 12 ? [f.year + 1, 1] : [f.year, month + 1];
        end = BigInt(daysFromCivil(next[0] as number, next[1] as number, 1)) * DAY_NS;
      } else {
        const width = unitNanoseconds(this.resolution);
        instant = floorDiv(ns, width) * width;
        end = instant + width;
      }
      lo = ceilDiv(instant, tick);
      hi = ceilDiv(end, tick);
    }
    if (lo <= NAT) lo = NAT + 1n;
    return { lo, hi, key: this.keyOf(instant) };
  }

  private keyOf(ns: bigint): PartitionKey {
    const f = datetimeFields(ns);
    const values = [f.year, f.month, f.day, f.hour, f.minute, f.second];
    return this.axis.map((name, i) => [name, values[i] as number] as const);
  }

  /**
   * The path of a key, zero-padded (docs/format.md §4.1): `year=2024/month=03/day=05`;
   * the sign counts toward the width (`year=-005`).
   *
   * @throws PartitionError when the components differ from {@link axis} or a
   *   value is not an integer.
   */
  encode(key: PartitionKey): string {
    const values = keyIntegers(key, this.axis, "date");
    return values.map((v, i) => `${this.axis[i]}=${padInteger(v, this.widths[i] as number)}`).join("/");
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
    if (
      this.encode !== DatePartitioning.prototype.encode ||
      this.decode !== DatePartitioning.prototype.decode
    )
      return undefined;
    return { axis: this.axis, widths: this.widths };
  }

  /** `{"name": "date", "variable", "resolution", "dimension"}` in this key order (docs/format.md §3.6). */
  toJSON(): DatePartitioningJSON {
    return { name: "date", variable: this.variable, resolution: this.resolution, dimension: this.dimension };
  }
}
