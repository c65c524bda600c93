/**
 * `zcollection query --summary`: one line per variable instead of the rows —
 * how many of its values are valid, their minimum, maximum and mean, and
 * its units — over the partitions (and index rows) the query selects.
 *
 * A value is valid unless it is NaN, NaT, the variable's fill value or an
 * empty string; every element of an N-D variable counts. The mean is a
 * compensated (Neumaier) sum divided by the count, for numbers and
 * booleans (the fraction of `true`). Partitions are read one at a time, so
 * memory stays bounded by one partition. `--limit` does not apply.
 *
 * @module
 */

import type { RowSelection } from "../collection/index.js";
import type { Dataset } from "../data/index.js";
import {
  DISPLAY_DIGITS,
  gridDecimals,
  type Precision,
  type ValueStyle,
  valueJson,
  valueStyle,
  valueText,
} from "../data/repr.js";
import { type DType, isBigIntDType, isDatetime, isTimedelta, NAT } from "../dtype.js";
import type { NDArray } from "../ndarray.js";
import type { VariableSchema } from "../schema/index.js";
import { checkedPartitions } from "./consistency.js";
import { csvLine, renderTable } from "./format.js";
import { type CliIO, UsageError } from "./io.js";
import { progressBar } from "./progress.js";
import { indexedRows, type QueryOptions, selectColumns } from "./query.js";
import { openSource } from "./source.js";

type Element = number | bigint | string | boolean;

/** The summary of one variable, gathered partition by partition. */
export class VariableSummary {
  /** The variable path (`ssha`, `ku/ssha`). */
  readonly name: string;
  /** Element type. */
  readonly dtype: DType;
  /** The `units` attribute, when it is a string. */
  readonly units: string | undefined;
  /** Elements seen. */
  total = 0;
  /** Elements neither NaN, NaT, the fill value nor an empty string. */
  valid = 0;
  /** Smallest valid value (numbers, bigints for 64-bit integers and datetimes). */
  min: number | bigint | undefined;
  /** Largest valid value. */
  max: number | bigint | undefined;
  readonly #schema: VariableSchema;
  #sum = 0;
  #compensation = 0;
  #decimals: number | undefined;
  #grid = true;

  constructor(name: string, schema: VariableSchema) {
    this.name = name;
    this.dtype = schema.dtype;
    this.#schema = schema;
    const units = schema.attrs.units;
    this.units = typeof units === "string" ? units : undefined;
  }

  /** Mean of the valid values (numbers and booleans), `undefined` when none or for other types. */
  get mean(): number | undefined {
    if (this.valid === 0 || this.dtype === "string" || isDatetime(this.dtype) || isTimedelta(this.dtype)) {
      return undefined;
    }
    return (this.#sum + this.#compensation) / this.valid;
  }

  #accumulate(x: number): void {
    const t = this.#sum + x;
    this.#compensation += Math.abs(this.#sum) >= Math.abs(x) ? this.#sum - t + x : x - t + this.#sum;
    this.#sum = t;
  }

  /** Adds the values of one partition. */
  add(array: NDArray): void {
    const data = array.data as ArrayLike<Element>;
    const n = data.length;
    this.total += n;
    const fill = this.#schema.fillValue;
    if (this.dtype === "string") {
      for (let i = 0; i < n; i++) if (data[i] !== "") this.valid += 1;
      return;
    }
    if (isBigIntDType(this.dtype)) {
      const missing = isDatetime(this.dtype) || isTimedelta(this.dtype) ? NAT : fill;
      const skip = typeof missing === "bigint" || typeof missing === "number" ? BigInt(missing) : undefined;
      let { min, max } = this as { min: bigint | undefined; max: bigint | undefined };
      for (let i = 0; i < n; i++) {
        const v = data[i] as bigint;
        if (v === skip || v === NAT) continue;
        this.valid += 1;
        if (min === undefined || v < min) min = v;
        if (max === undefined || v > max) max = v;
        this.#accumulate(Number(v));
      }
      this.min = min;
      this.max = max;
      return;
    }
    const skip = typeof fill === "number" && !Number.isNaN(fill) ? fill : undefined;
    const validBefore = this.valid;
    let { min, max } = this as { min: number | undefined; max: number | undefined };
    for (let i = 0; i < n; i++) {
      const v = Number(data[i]);
      if (Number.isNaN(v) || v === skip) continue;
      this.valid += 1;
      if (min === undefined || v < min) min = v;
      if (max === undefined || v > max) max = v;
      this.#accumulate(v);
    }
    this.min = min;
    this.max = max;
    if (this.dtype === "float64" && this.#grid && this.valid > validBefore) {
      const d = gridDecimals(data as ArrayLike<number>);
      if (d === undefined) this.#grid = false;
      else this.#decimals = Math.max(this.#decimals ?? 0, d);
    }
  }

  /** How the minimum and maximum are written (the decimal step of the values seen, with `exact`). */
  style(precision: Precision): ValueStyle {
    const extremes = [this.min, this.max].filter((v) => v !== undefined);
    const style = valueStyle(this.dtype, extremes, {
      precision,
      attrs: this.#schema.attrs,
      grid: false,
      mask: false,
    });
    return precision === "exact" && this.#grid && style.decimals === undefined
      ? { ...style, decimals: this.#decimals }
      : style;
  }
}

/** The mean as text: 7 significant digits on display, every digit otherwise. */
function meanText(mean: number | undefined, precision: Precision): string {
  if (mean === undefined) return "";
  if (!Number.isFinite(mean)) return Number.isNaN(mean) ? "nan" : mean > 0 ? "inf" : "-inf";
  return precision === "display" ? String(Number(mean.toPrecision(DISPLAY_DIGITS))) : String(mean);
}

const HEADER = ["variable", "dtype", "valid", "total", "min", "max", "mean", "units"];

/** The summary as an aligned table (numbers right-aligned), as the CLI prints it. */
export function renderSummaryTable(summaries: readonly VariableSummary[]): string {
  if (summaries.length === 0) return "(no variables)\n";
  const rows = summaries.map((s) => {
    const style = s.style("display");
    return [
      s.name,
      s.dtype,
      String(s.valid),
      String(s.total),
      s.min === undefined ? "" : valueText(s.min, style),
      s.max === undefined ? "" : valueText(s.max, style),
      meanText(s.mean, "display"),
      s.units ?? "",
    ];
  });
  return renderTable(HEADER, rows, [false, false, true, true, true, true, true, false]);
}

/** The summary as CSV lines (a header, then one line per variable). */
export function renderSummaryCsv(summaries: readonly VariableSummary[], precision: Precision): string {
  const lines = [csvLine(HEADER)];
  for (const s of summaries) {
    const style = s.style(precision);
    lines.push(
      csvLine([
        s.name,
        s.dtype,
        String(s.valid),
        String(s.total),
        s.min === undefined ? "" : valueText(s.min, style),
        s.max === undefined ? "" : valueText(s.max, style),
        meanText(s.mean, precision),
        s.units ?? "",
      ]),
    );
  }
  return lines.map((l) => `${l}\n`).join("");
}

/** The summary as a JSON array of objects, one per line; missing values `null`. */
export function renderSummaryJson(summaries: readonly VariableSummary[], precision: Precision): string {
  if (summaries.length === 0) return "[]\n";
  const items = summaries.map((s) => {
    const style = s.style(precision);
    const mean = s.mean;
    const fields = [
      `"variable":${JSON.stringify(s.name)}`,
      `"dtype":${JSON.stringify(s.dtype)}`,
      `"valid":${s.valid}`,
      `"total":${s.total}`,
      `"min":${s.min === undefined ? "null" : valueJson(s.min, style)}`,
      `"max":${s.max === undefined ? "null" : valueJson(s.max, style)}`,
      `"mean":${mean === undefined || !Number.isFinite(mean) ? "null" : meanText(mean, precision)}`,
      `"units":${s.units === undefined ? "null" : JSON.stringify(s.units)}`,
    ];
    return `{${fields.join(",")}}`;
  });
  return `[\n${items.join(",\n")}\n]\n`;
}

/**
 * Gathers the summaries of `paths` over the datasets `partitions` yields;
 * a variable that does not span the partitioning dimension (stored once
 * under `_immutable/`) is counted once.
 */
export async function summarize(
  partitions: AsyncIterable<[string, Dataset]>,
  paths: readonly string[],
  schemas: ReadonlyMap<string, VariableSchema>,
): Promise<VariableSummary[]> {
  const summaries = paths.map((p) => new VariableSummary(p, schemas.get(p) as VariableSchema));
  const counted = new Set<string>();
  for await (const [, ds] of partitions) {
    const vars = ds.allVariables();
    summaries.forEach((s) => {
      const v = vars.get(s.name);
      if (v === undefined || v.data === null || counted.has(s.name)) return;
      s.add(v.array);
      if (schemas.get(s.name)?.immutable === true) counted.add(s.name);
    });
  }
  return summaries;
}

/**
 * Prints the summary of the variables a query selects (`--filter`,
 * `--variables`, `--index`/`--where`), as a table, CSV or JSON (`--round`:
 * CSV and JSON numbers as in the table).
 *
 * @throws UsageError for a bad `--variables` list or a format other than
 *   table, CSV or JSON; ExpressionError for a bad filter;
 *   CollectionNotFoundError / StoreError (exit 2).
 */
export async function summary(
  url: string,
  opts: QueryOptions & { round?: boolean },
  io: CliIO,
): Promise<number> {
  const format: string = opts.format ?? "table";
  if (format !== "table" && format !== "csv" && format !== "json") {
    throw new UsageError(`--summary prints a table, CSV or JSON, not --format ${format}`);
  }
  if ((opts.index === undefined) !== (opts.where === undefined || opts.where.length === 0)) {
    throw new UsageError("--index and --where go together: --index FILE --where column=value");
  }
  const signal = io.signal;
  const source = await openSource(url, signal ? { signal } : {});
  const paths = selectColumns(source, opts.variables);
  let rows: RowSelection | undefined;
  if (opts.index !== undefined) rows = await indexedRows(opts.index, opts.where, signal);
  const { fromStore } = await checkedPartitions(source.collection, url, opts.filter, io);
  const bar = progressBar(io.stderr, "summary");
  let summaries: VariableSummary[];
  try {
    summaries = await summarize(
      source.iterate({
        filters: opts.filter ?? null,
        variables: paths,
        fromStore,
        ...(rows === undefined ? {} : { rows }),
        onProgress: (p) => bar.update(p),
        ...(signal ? { signal } : {}),
      }),
      paths,
      source.schema.allVariables(),
    );
  } finally {
    bar.stop();
  }
  const precision: Precision = opts.round === true ? "display" : "exact";
  io.stdout.write(
    format === "csv"
      ? renderSummaryCsv(summaries, precision)
      : format === "json"
        ? renderSummaryJson(summaries, precision)
        : renderSummaryTable(summaries),
  );
  return 0;
}
