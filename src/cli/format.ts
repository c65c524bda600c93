/**
 * Text renderings used by the command-line interface: cell values of
 * `query` (table, CSV, JSON), Python `repr`/`str` of JSON values for
 * `inspect`, byte sizes and one-line error messages. Pure functions, no I/O.
 *
 * @module
 */

import { type DType, formatDatetime64, isDatetime, isTimedelta, NAT, timeUnit } from "../dtype.js";
import type { NDArray } from "../ndarray.js";

/** Where a value is rendered: an aligned table, a CSV cell or a JSON document. */
export type Target = "table" | "csv" | "json";

/** Elements of an N-D row shown in a table cell before `…`. */
export const TABLE_ITEMS = 3;

/** Widest table cell, in characters; longer text is cut and ends with `…`. */
export const TABLE_CELL_WIDTH = 40;

/**
 * The shortest decimal text that reads back as the same float32 value
 * (`0.1` rather than `0.10000000149011612`), like numpy's `str` of a float32.
 */
export function float32Text(value: number): string {
  if (!Number.isFinite(value) || value === 0) return String(value);
  for (let digits = 1; digits <= 9; digits++) {
    const text = value.toPrecision(digits);
    if (Math.fround(Number(text)) === value) return String(Number(text));
  }
  return String(value);
}

/** Text of one element of `dtype` for a table or a CSV cell (NaN, NaT as such). */
export function scalarText(value: number | bigint | string | boolean, dtype: DType): string {
  if (typeof value === "string") return value;
  if (dtype === "bool") return value === true || value === 1 ? "true" : "false";
  if (isDatetime(dtype)) return formatDatetime64(value as bigint, timeUnit(dtype));
  if (isTimedelta(dtype)) return value === NAT ? "NaT" : `${String(value)} ${timeUnit(dtype)}`;
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "boolean") return value ? "true" : "false";
  if (Number.isNaN(value)) return "NaN";
  if (dtype === "float32") return float32Text(value);
  return String(value);
}

/** Text of one element of `dtype` as a JSON value: NaN, ±Infinity and NaT → `null`; unsafe int64 → string. */
export function scalarJson(value: number | bigint | string | boolean, dtype: DType): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (dtype === "bool") return value === true || value === 1 ? "true" : "false";
  if (isDatetime(dtype))
    return value === NAT ? "null" : JSON.stringify(formatDatetime64(value as bigint, timeUnit(dtype)));
  if (isTimedelta(dtype) && value === NAT) return "null";
  if (typeof value === "bigint") {
    const safe = value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER);
    return safe ? value.toString() : JSON.stringify(value.toString());
  }
  if (typeof value === "boolean") return value ? "true" : "false";
  if (!Number.isFinite(value)) return "null";
  if (dtype === "float32") return float32Text(value);
  return String(value);
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

  constructor(name: string, array: NDArray) {
    this.name = name;
    this.dtype = array.dtype;
    this.array = array;
    this.rowSize = array.shape.slice(1).reduce((a, b) => a * b, 1);
  }

  /** Number of rows. */
  get length(): number {
    return this.array.shape[0] ?? 0;
  }

  /** Whether a cell holds one element (right-aligned in tables when numeric). */
  get numeric(): boolean {
    return (
      this.array.ndim === 1 && this.dtype !== "string" && this.dtype !== "bool" && !isDatetime(this.dtype)
    );
  }

  #element(flat: number): number | bigint | string | boolean {
    return (this.array.data as ArrayLike<number | bigint | string>)[flat] as number | bigint | string;
  }

  /** The cell of row `row` rendered for `target` (N-D rows: `[a, b, …]` truncated in tables, nested lists otherwise). */
  cell(row: number, target: Target): string {
    const one = target === "json" ? scalarJson : scalarText;
    if (this.array.ndim <= 1) return one(this.#element(row), this.dtype);
    const start = row * this.rowSize;
    if (target === "table") {
      const shown = Math.min(this.rowSize, TABLE_ITEMS);
      const items: string[] = [];
      for (let k = 0; k < shown; k++) items.push(one(this.#element(start + k), this.dtype));
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
          axis === this.array.ndim - 1
            ? one(this.#element(offset + k), this.dtype)
            : nest(offset + k * stride, axis + 1),
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

/**
 * Python `repr` of a JSON-like value: `{'name': 'sequence', 'variables':
 * ['num'], 'dimension': 'num'}`; `None`, `True`, `False`; bigints as digits.
 */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "string") return pyString(value);
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "nan";
    if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(", ")}]`;
  if (ArrayBuffer.isView(value)) return pyRepr(Array.from(value as unknown as ArrayLike<number | bigint>));
  if (typeof value === "object") {
    const obj = value as { toJSON?: () => unknown };
    if (typeof obj.toJSON === "function") return pyRepr(obj.toJSON());
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${pyString(k)}: ${pyRepr(v)}`)
      .join(", ")}}`;
  }
  return String(value);
}

/** Python `str` of a value: strings as they are, anything else as {@link pyRepr}. */
export function pyStrOf(value: unknown): string {
  return typeof value === "string" ? value : pyRepr(value);
}

/** Python `repr` of a string: single quotes unless the text holds `'` and no `"`. */
export function pyString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = "";
  for (const ch of s) {
    const code = ch.codePointAt(0) as number;
    if (ch === "\\") out += "\\\\";
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return quote + out + quote;
}

/** Megabytes (10^6 bytes) with two decimals: `12.35`. */
export function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(2);
}

/** A message on one line: every line break and the indentation after it become one space. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}
