/**
 * Text renderings used by the command-line interface: cell values of
 * `query` (table, CSV, JSON), byte sizes and one-line error messages. Pure
 * functions, no I/O.
 *
 * Numbers follow the rules of the data model's reprs (`src/data/repr.ts`),
 * the same in the three formats except for the precision:
 *
 * - a table is for reading: float32 to at most 7 significant digits,
 *   float64 without the noise of the last bit, the fill value of an integer
 *   variable as `nan`;
 * - CSV and JSON keep full precision: every float32 reads back as the same
 *   float32 (up to 9 digits), every float64 as the same float64 — except
 *   values unpacked from integers (a column whose every value lies on a
 *   decimal step, or with `scale_factor` in its attributes), written at the
 *   precision of their packing (`183.167751`, not `183.16775099999998`),
 *   which gives the packed integer back exactly; integers as stored.
 *   `query --round` writes them as the table does.
 *
 * In every format NaN is `nan`, ±Infinity `inf`/`-inf` (`null` in JSON) and
 * a missing datetime `NaT` (`null` in JSON). Datetimes are ISO 8601 with
 * every digit of their unit in CSV and JSON, and in a table only the digits
 * of the fraction of seconds some value of the column needs.
 *
 * @module
 */

import type { Variable } from "../data/index.js";
import { float32Text, type ValueStyle, valueJson, valueStyle, valueText } from "../data/repr.js";
import type { DType } from "../dtype.js";
import type { NDArray } from "../ndarray.js";

export { float32Text };

/** Where a value is rendered: an aligned table, a CSV cell or a JSON document. */
export type Target = "table" | "csv" | "json";

/** Elements of an N-D row shown in a table cell before `…`. */
export const TABLE_ITEMS = 3;

/** Widest table cell, in characters; longer text is cut and ends with `…`. */
export const TABLE_CELL_WIDTH = 40;

/** Text of one element of `dtype` for a table or a CSV cell, without the context of a column (see {@link Column}). */
export function scalarText(
  value: number | bigint | string | boolean,
  dtype: DType,
  precision: "display" | "exact" = "exact",
): string {
  return valueText(value, { dtype, precision });
}

/** Text of one element of `dtype` as a JSON value: NaN, ±Infinity and NaT → `null`; unsafe int64 → string. */
export function scalarJson(value: number | bigint | string | boolean, dtype: DType): string {
  return valueJson(value, { dtype, precision: "exact" });
}

/** What a {@link Column} knows of its variable besides the values. */
export interface ColumnOptions {
  /** The variable's attributes (`scale_factor`/`add_offset` of a packed variable, `units`). */
  attrs?: Readonly<Record<string, unknown>> | undefined;
  /** The variable's fill value (an integer variable's is `nan` in tables). */
  fillValue?: unknown;
  /** Write CSV and JSON as the table does (float32 to 7 significant digits) instead of at full precision. */
  round?: boolean;
}

/**
 * One column of row-oriented output: a variable whose first dimension is the
 * partitioning dimension. Row `i` is element `i` of a 1-D variable, or the
 * sub-array `data[i, ...]` of an N-D one.
 */
export class Column {
  /** Header: the variable path (`ssha`, `ku/range`). */
  readonly name: string;
  /** Element type. */
  readonly dtype: DType;
  /** The variable's values (rows along axis 0). */
  readonly array: NDArray;
  /** Elements per row (1 for a 1-D variable). */
  readonly rowSize: number;
  readonly #options: ColumnOptions;
  readonly #styles = new Map<Target, ValueStyle>();

  constructor(name: string, array: NDArray, opts: ColumnOptions = {}) {
    this.name = name;
    this.dtype = array.dtype;
    this.array = array;
    this.rowSize = array.shape.slice(1).reduce((a, b) => a * b, 1);
    this.#options = opts;
  }

  /** The column of a loaded variable, with its attributes and fill value. */
  static of(name: string, variable: Variable, opts: { round?: boolean } = {}): Column {
    return new Column(name, variable.array, {
      attrs: variable.schema.attrs,
      fillValue: variable.schema.fillValue,
      ...opts,
    });
  }

  /** Number of rows. */
  get length(): number {
    return this.array.shape[0] ?? 0;
  }

  /** Whether a cell holds one element (right-aligned in tables when numeric). */
  get numeric(): boolean {
    return (
      this.array.ndim === 1 &&
      this.dtype !== "string" &&
      this.dtype !== "bool" &&
      !this.dtype.startsWith("datetime64")
    );
  }

  /** How the values are written for `target` (looked for once over the whole column). */
  style(target: Target): ValueStyle {
    let style = this.#styles.get(target);
    if (style === undefined) {
      const table = target === "table";
      style = valueStyle(this.dtype, this.array.data as ArrayLike<unknown>, {
        precision: table || this.#options.round === true ? "display" : "exact",
        attrs: this.#options.attrs,
        fillValue: this.#options.fillValue,
        mask: table,
      });
      this.#styles.set(target, style);
    }
    return style;
  }

  #element(flat: number): number | bigint | string | boolean {
    return (this.array.data as ArrayLike<number | bigint | string>)[flat] as number | bigint | string;
  }

  /** The cell of row `row` rendered for `target` (N-D rows: `[a, b, …]` truncated in tables, nested lists otherwise). */
  cell(row: number, target: Target): string {
    const style = this.style(target);
    const one =
      target === "json"
        ? (v: number | bigint | string | boolean) => valueJson(v, style)
        : (v: number | bigint | string | boolean) => valueText(v, style);
    if (this.array.ndim <= 1) return one(this.#element(row));
    const start = row * this.rowSize;
    if (target === "table") {
      const shown = Math.min(this.rowSize, TABLE_ITEMS);
      const items: string[] = [];
      for (let k = 0; k < shown; k++) items.push(one(this.#element(start + k)));
      if (this.rowSize > shown) items.push("…");
      return `[${items.join(", ")}]`;
    }
    const sep = target === "json" ? "," : ", ";
    const nest = (offset: number, axis: number): string => {
      const n = this.array.shape[axis] as number;
      const stride = this.array.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
      const parts: string[] = [];
      for (let k = 0; k < n; k++) {
        parts.push(
          axis === this.array.ndim - 1 ? one(this.#element(offset + k)) : nest(offset + k * stride, axis + 1),
        );
      }
      return `[${parts.join(sep)}]`;
    };
    return nest(start, 1);
  }
}

/** A CSV field: quoted (RFC 4180) when it holds a comma, a quote, CR or LF. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A CSV line (without the line break) of the given fields. */
export function csvLine(fields: readonly string[]): string {
  return fields.map(csvField).join(",");
}

/**
 * A JSON object text `{"a":1,"b":"x"}` of one row, keys in the order of
 * `names`; a missing column (`undefined`) gives `null`.
 */
export function jsonRow(
  names: readonly string[],
  columns: ReadonlyArray<Column | undefined>,
  row: number,
): string {
  return `{${names.map((n, k) => `${JSON.stringify(n)}:${columns[k]?.cell(row, "json") ?? "null"}`).join(",")}}`;
}

/** `text` cut to `width` characters, the last one replaced by `…` when cut. */
export function truncate(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, width - 1).join("")}…`;
}

/**
 * An aligned table: a header, a rule of dashes, then the rows; columns
 * separated by two spaces, right-aligned where `rightAlign[i]`, trailing
 * spaces removed.
 */
export function renderTable(
  header: readonly string[],
  rows: readonly string[][],
  rightAlign: readonly boolean[],
): string {
  const widths = header.map((h, i) => Math.max([...h].length, ...rows.map((r) => [...(r[i] ?? "")].length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => {
        const pad = " ".repeat((widths[i] as number) - [...c].length);
        return rightAlign[i] === true ? pad + c : c + pad;
      })
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)]
    .map((l) => `${l}\n`)
    .join("");
}

/** Megabytes (10^6 bytes) with two decimals: `12.35`. */
export function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(2);
}

/** A message on one line: every line break and the indentation after it become one space. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}
