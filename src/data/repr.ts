/**
 * Text of the data model: how numbers, dates and attributes are written, and
 * the blocks shared by the reprs of {@link Dataset}, {@link Group} and
 * {@link Variable} (headers `<Dataset>` / `<Group /path>` / `<Variable name
 * …>`, aligned columns, a preview of the first and last values). The
 * command line writes its tables, CSV and JSON with the same rules.
 *
 * Numbers ({@link valueText}, {@link valueJson}):
 *
 * - `float32`: the shortest text that reads back as the same float32; on
 *   display (tables, reprs) at most {@link DISPLAY_DIGITS} significant
 *   digits (`0.3333333`, not `0.33333334`).
 * - `float64` with a known decimal step — the `scale_factor`/`add_offset` of
 *   a packed variable still in its attributes ({@link packingDecimals}), or
 *   the step every value of a column lies on ({@link gridDecimals}; the
 *   attributes are consumed when a product is unpacked at ingest): written
 *   with that many decimals, trailing zeros dropped (`183.167751`, not
 *   `183.16775099999998`). The text reads back within 4 ulps of the stored
 *   value and gives back the packed integer exactly.
 * - other `float64`: the shortest text that reads back as the same value;
 *   on display the shortest within 2 ulps, which drops the noise of the last
 *   bit (`75.3927522`, not `75.39275219999999`).
 * - NaN, ±Infinity: `nan`, `inf`, `-inf` (`null` in JSON). On display, the
 *   fill value of an integer variable is `nan` too.
 * - datetimes: ISO 8601 with the fraction of seconds of their unit; on
 *   display cut to the digits some value of the column needs
 *   (`2021-04-03T00:50:57`, not `2021-04-03T00:50:57.000000000`); NaT as
 *   `NaT` (`null` in JSON).
 *
 * @module
 */

import {
  type DType,
  formatDatetime64,
  isBigIntDType,
  isDatetime,
  isTimedelta,
  NAT,
  type TimeUnit,
  timeUnit,
} from "../dtype.js";
import type { NDArray } from "../ndarray.js";

/** Widest line of a repr, in characters; longer lines end with `…`. */
export const MAX_LINE = 120;

/** Significant digits of float32 values on display. */
export const DISPLAY_DIGITS = 7;

/** Most decimals {@link gridDecimals} looks for. */
export const MAX_GRID_DECIMALS = 12;

/** Values shown at each end of a repr preview. */
export const PREVIEW_ITEMS = 3;

/**
 * How numbers are written: `display` for people (tables, reprs: float32 to
 * 7 significant digits, float64 without last-bit noise) or `exact` (CSV and
 * JSON by default: every value reads back as stored, packed values at the
 * precision of their packing).
 */
export type Precision = "display" | "exact";

/**
 * A byte count: `"<n> B"` below 1024, else the first of kB, MB, GB, TB whose
 * value is below 1024 with two decimals (round-half-even on the exact value,
 * so 1048575 B is `"1024.00 kB"`), and PB beyond (`"1.00 PB"` for 1024^5,
 * even when ≥ 1024 PB). Multiples of 1024, as the Python library prints them.
 */
export function formatBytes(n: number): string {
  if (n < 1024) return `${Math.trunc(n)} B`;
  const units = ["kB", "MB", "GB", "TB", "PB"];
  let k = 1;
  let value = n / 1024;
  while (k < 5 && value >= 1024) {
    k++;
    value /= 1024;
  }
  // Exact two-decimal rounding, half to even, of n / 1024^k.
  const num = BigInt(Math.trunc(n)) * 100n;
  const den = 1024n ** BigInt(k);
  let q = num / den;
  const r2 = (num % den) * 2n;
  if (r2 > den || (r2 === den && q % 2n === 1n)) q += 1n;
  return `${q / 100n}.${(q % 100n).toString().padStart(2, "0")} ${units[k - 1]}`;
}

/** `"()"` when empty, else `"(name: size, name: size)"`. */
export function formatDimensions(
  dims: Readonly<Record<string, number>> | ReadonlyArray<readonly [string, number]>,
): string {
  const entries = Array.isArray(dims)
    ? (dims as ReadonlyArray<readonly [string, number]>)
    : Object.entries(dims);
  if (entries.length === 0) return "()";
  return `(${entries.map(([k, v]) => `${k}: ${v}`).join(", ")})`;
}

/** Cuts a line longer than `width` (default {@link MAX_LINE}) characters, its last one replaced by `…`. */
export function cutLine(line: string, width = MAX_LINE): string {
  const chars = [...line];
  return chars.length > width ? `${chars.slice(0, width - 1).join("")}…` : line;
}

// ---------------------------------------------------------------------------
// Numbers

function special(value: number): string | undefined {
  if (Number.isNaN(value)) return "nan";
  if (value === Number.POSITIVE_INFINITY) return "inf";
  if (value === Number.NEGATIVE_INFINITY) return "-inf";
  return undefined;
}

/**
 * A float32 value: the shortest text that reads back as the same float32
 * (`0.1` rather than `0.10000000149011612`); on display at most
 * {@link DISPLAY_DIGITS} significant digits. NaN and ±Infinity as `nan`,
 * `inf`, `-inf`.
 */
export function float32Text(value: number, precision: Precision = "exact"): string {
  const s = special(value);
  if (s !== undefined) return s;
  if (value === 0) return "0";
  const most = precision === "display" ? DISPLAY_DIGITS : 9;
  for (let digits = 1; digits <= most; digits++) {
    const text = value.toPrecision(digits);
    if (Math.fround(Number(text)) === value) return String(Number(text));
  }
  return String(Number(value.toPrecision(most)));
}

/** `value` with `decimals` decimals, trailing zeros (and a bare point) dropped; never `-0`. */
export function fixedText(value: number, decimals: number): string {
  const s = special(value);
  if (s !== undefined) return s;
  let text = value.toFixed(Math.min(100, Math.max(0, decimals)));
  if (text.includes(".") && !text.includes("e")) text = text.replace(/0+$/, "").replace(/\.$/, "");
  return text === "-0" ? "0" : text;
}

function significantDigits(text: string): number {
  const mantissa = (text.split("e")[0] as string).replace(/^-/, "").replace(".", "");
  return mantissa.replace(/^0+/, "").length;
}

/**
 * A float64 value. With `decimals` (a packing's or a column's decimal step)
 * that many decimals, trailing zeros dropped; otherwise the shortest text
 * that reads back as the same value (`exact`) or the shortest within 2 ulps
 * of it (`display`: `75.3927522` for `75.39275219999999`).
 */
export function float64Text(value: number, precision: Precision = "exact", decimals?: number): string {
  const s = special(value);
  if (s !== undefined) return s;
  if (decimals !== undefined) return fixedText(value, decimals);
  const shortest = String(value);
  if (precision === "exact" || significantDigits(shortest) <= 15) return shortest;
  const tolerance = Math.abs(value) * Number.EPSILON; // 1 to 2 ulps
  for (let digits = 1; digits <= 16; digits++) {
    const near = Number(value.toPrecision(digits));
    if (Math.abs(near - value) <= tolerance) return String(near);
  }
  return shortest;
}

/** Decimals of the shortest text of `x` (`1e-6` → 6, `0.05` → 2, `100` → 0); float32 values by their float32 text. */
function decimalsOf(x: number): number {
  const text = Math.fround(x) === x ? float32Text(x) : String(x);
  const [mantissa, exponent] = text.split("e") as [string, string | undefined];
  const fraction = mantissa.split(".")[1]?.length ?? 0;
  return Math.max(0, fraction - Number(exponent ?? 0));
}

function attrNumber(value: unknown): number | undefined {
  const v = Array.isArray(value) && value.length === 1 ? value[0] : value;
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/**
 * The decimals of a packed variable's values, from its `scale_factor` and
 * `add_offset` attributes (`scale_factor: 1e-6` → 6), or `undefined` when
 * the attributes carry neither (or more than 17 decimals would be needed).
 */
export function packingDecimals(attrs: Readonly<Record<string, unknown>> | undefined): number | undefined {
  if (attrs === undefined) return undefined;
  const scale = attrNumber(attrs.scale_factor);
  const offset = attrNumber(attrs.add_offset);
  if (scale === undefined && offset === undefined) return undefined;
  const d = Math.max(
    scale === undefined ? 0 : decimalsOf(scale),
    offset === undefined ? 0 : decimalsOf(offset),
  );
  return d <= 17 ? d : undefined;
}

/**
 * The fewest decimals `d` (≤ {@link MAX_GRID_DECIMALS}) such that every
 * finite value lies within 4 ulps of a multiple of 10^-d — the step of
 * values unpacked from integers (`raw * 1e-6` → 6) — or `undefined` when
 * there is none, or when 10^-d would come within 1000 ulps of the largest
 * value (so that values of full precision are never taken for packed ones).
 */
export function gridDecimals(values: ArrayLike<number>): number | undefined {
  let largest = 0;
  let finite = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isFinite(v)) {
      finite += 1;
      if (Math.abs(v) > largest) largest = Math.abs(v);
    }
  }
  if (finite === 0) return undefined;
  for (let d = 0; d <= MAX_GRID_DECIMALS; d++) {
    const scale = 10 ** d;
    if (1 / scale < largest * Number.EPSILON * 1000) return undefined;
    let on = true;
    for (let i = 0; i < values.length && on; i++) {
      const v = values[i] as number;
      if (!Number.isFinite(v)) continue;
      on = Math.abs(Math.round(v * scale) / scale - v) <= Math.abs(v) * Number.EPSILON * 2;
    }
    if (on) return d;
  }
  return undefined;
}

const FRACTION: Partial<Record<TimeUnit, number>> = { ms: 3, us: 6, ns: 9 };

/**
 * Digits of the fraction of seconds the datetimes `values` of `dtype` need:
 * 9, 6, 3 or 0 for nanoseconds, fewer when every value (NaT aside) is a
 * whole number of microseconds, milliseconds or seconds; `undefined` for
 * units without a fraction.
 */
export function fractionDigits(values: ArrayLike<bigint>, dtype: DType): number | undefined {
  if (!isDatetime(dtype)) return undefined;
  const digits = FRACTION[timeUnit(dtype)];
  if (digits === undefined) return undefined;
  let keep = digits;
  while (keep > 0) {
    const m = 10n ** BigInt(digits - keep + 3);
    let whole = true;
    for (let i = 0; i < values.length && whole; i++) {
      const v = values[i] as bigint;
      whole = v === NAT || v % m === 0n;
    }
    if (!whole) break;
    keep -= 3;
  }
  return keep;
}

function cutFraction(text: string, keep: number | undefined): string {
  if (keep === undefined) return text;
  const dot = text.lastIndexOf(".");
  if (dot < 0 || !text.includes("T")) return text;
  return keep === 0 ? text.slice(0, dot) : text.slice(0, dot + 1 + keep);
}

/** How the values of one variable (or one column) are written. */
export interface ValueStyle {
  /** Element type. */
  readonly dtype: DType;
  /** `display` or `exact` (see {@link Precision}). */
  readonly precision: Precision;
  /** Decimals of float64 values (a packing's or the column's step), when known. */
  readonly decimals?: number | undefined;
  /** Digits of the fraction of seconds of datetimes (see {@link fractionDigits}); all of the unit's when absent. */
  readonly fraction?: number | undefined;
  /** A value written `nan` besides NaN and NaT: the fill value of an integer variable, on display. */
  readonly missing?: number | bigint | undefined;
}

/** What {@link valueStyle} looks at. */
export interface StyleOptions {
  /** Default `display`. */
  precision?: Precision;
  /** The variable's attributes (`scale_factor`, `add_offset`). */
  attrs?: Readonly<Record<string, unknown>> | undefined;
  /** The variable's fill value: an integer variable's is written `nan` (`null` in JSON) with `mask`. */
  fillValue?: unknown;
  /** Write the fill value of integer variables as missing; default: on display. */
  mask?: boolean;
  /** Look for the decimal step of float64 values ({@link gridDecimals}); default: with `exact`. */
  grid?: boolean;
}

/**
 * The style of the elements `values` of `dtype`: the decimals of packed
 * float64 values, on display the fraction digits of datetimes, and
 * (`mask`) the fill value of integer variables. Scans `values` once or twice.
 */
export function valueStyle(dtype: DType, values: ArrayLike<unknown>, opts: StyleOptions = {}): ValueStyle {
  const precision = opts.precision ?? "display";
  let decimals: number | undefined;
  if (dtype === "float64") {
    decimals = packingDecimals(opts.attrs);
    if (decimals === undefined && (opts.grid ?? precision === "exact")) {
      decimals = gridDecimals(values as ArrayLike<number>);
    }
  }
  const fraction = precision === "display" ? fractionDigits(values as ArrayLike<bigint>, dtype) : undefined;
  let missing: number | bigint | undefined;
  const fill = opts.fillValue;
  if (
    (opts.mask ?? precision === "display") &&
    !isDatetime(dtype) &&
    !isTimedelta(dtype) &&
    /int/.test(dtype)
  ) {
    if (isBigIntDType(dtype) && (typeof fill === "bigint" || typeof fill === "number"))
      missing = BigInt(fill);
    else if (typeof fill === "number" || typeof fill === "bigint") missing = Number(fill);
  }
  return { dtype, precision, decimals, fraction, missing };
}

type Element = number | bigint | string | boolean;

/** Text of one element for a table, a CSV cell or a repr (see the module documentation). */
export function valueText(value: Element, style: ValueStyle): string {
  const { dtype } = style;
  if (typeof value === "string") return value;
  if (dtype === "bool" || typeof value === "boolean") return value === true || value === 1 ? "true" : "false";
  if (isDatetime(dtype)) {
    return value === NAT
      ? "NaT"
      : cutFraction(formatDatetime64(value as bigint, timeUnit(dtype)), style.fraction);
  }
  if (isTimedelta(dtype)) return value === NAT ? "NaT" : `${String(value)} ${timeUnit(dtype)}`;
  if (style.missing !== undefined && value === style.missing) return "nan";
  if (typeof value === "bigint") return value.toString();
  if (dtype === "float32") return float32Text(value, style.precision);
  if (dtype === "float64") return float64Text(value, style.precision, style.decimals);
  return special(value) ?? String(value);
}

/** Text of one element as a JSON value: NaN, ±Infinity and NaT → `null`; int64 beyond ±(2^53 − 1) → a string. */
export function valueJson(value: Element, style: ValueStyle): string {
  const { dtype } = style;
  if (typeof value === "string") return JSON.stringify(value);
  if (dtype === "bool" || typeof value === "boolean") return value === true || value === 1 ? "true" : "false";
  if (isDatetime(dtype)) return value === NAT ? "null" : JSON.stringify(valueText(value, style));
  if (isTimedelta(dtype) && value === NAT) return "null";
  if (style.missing !== undefined && value === style.missing) return "null";
  if (typeof value === "bigint") {
    const safe = value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER);
    return safe ? value.toString() : JSON.stringify(value.toString());
  }
  if (!Number.isFinite(value)) return "null";
  return valueText(value, style);
}

// ---------------------------------------------------------------------------
// Reprs

/**
 * An attribute value on one line: strings as they are (line breaks and tabs
 * escaped), numbers as {@link float64Text}, lists `[a, b]` (strings quoted),
 * objects as JSON.
 */
export function attrText(value: unknown): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "string":
      return value
        .replaceAll("\\", "\\\\")
        .replaceAll("\n", "\\n")
        .replaceAll("\r", "\\r")
        .replaceAll("\t", "\\t");
    case "number":
      return float64Text(value);
    case "bigint":
      return value.toString();
    case "boolean":
      return value ? "true" : "false";
    default:
      break;
  }
  if (Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView))) {
    const items = Array.from(value as ArrayLike<unknown>, (x) =>
      typeof x === "string" ? JSON.stringify(x) : attrText(x),
    );
    return `[${items.join(", ")}]`;
  }
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

/** The lines of an `Attributes:` block: `    name: value`, values aligned, each cut at {@link MAX_LINE}. */
export function attributeLines(attrs: Readonly<Record<string, unknown>>, indent = "    "): string[] {
  const keys = Object.keys(attrs);
  const w = Math.max(0, ...keys.map((k) => [...k].length + 1));
  return keys.map((k) => cutLine(`${indent}${`${k}:`.padEnd(w)} ${attrText(attrs[k])}`));
}

/**
 * A one-line preview of the values of `array` (flattened): every value when
 * they fit, else the first and last {@link PREVIEW_ITEMS} around `…`,
 * fewer when the line would be wider than `width`. Written on display
 * (see {@link valueText}); strings quoted; the fill value of an integer
 * variable as `nan`.
 */
export function previewValues(
  array: NDArray,
  opts: { attrs?: Readonly<Record<string, unknown>>; fillValue?: unknown } = {},
  width = MAX_LINE,
): string {
  const data = array.data as ArrayLike<Element>;
  const n = data.length;
  if (n === 0) return "(empty)";
  const text = (picked: Element[], style: ValueStyle) =>
    picked.map((v) => (typeof v === "string" ? JSON.stringify(v) : valueText(v, style)));
  let line = "";
  for (let k = PREVIEW_ITEMS; k >= 1; k--) {
    const all = n <= 2 * k;
    const head = Array.from({ length: all ? n : k }, (_, i) => data[i] as Element);
    const tail = all ? [] : Array.from({ length: k }, (_, i) => data[n - k + i] as Element);
    const style = valueStyle(array.dtype, [...head, ...tail], { ...opts, precision: "display" });
    line = all
      ? text(head, style).join(" ")
      : `${text(head, style).join(" ")} … ${text(tail, style).join(" ")}`;
    if ([...line].length <= width) return line;
  }
  return cutLine(line, Math.max(width, 2));
}

/**
 * An aligned block: each row's cells padded to the widest of their column
 * (`right[i]`: aligned right), separated by two spaces, after `indent`; the
 * last column is not padded, and each line is cut at {@link MAX_LINE}.
 */
export function alignedLines(
  rows: readonly string[][],
  right: readonly boolean[] = [],
  indent = "    ",
): string[] {
  const widths: number[] = [];
  for (const r of rows) {
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, [...c].length);
    });
  }
  return rows.map((r) =>
    cutLine(
      indent +
        r
          .map((c, i) => {
            if (i === r.length - 1 && right[i] !== true) return c;
            const pad = " ".repeat((widths[i] as number) - [...c].length);
            return right[i] === true ? pad + c : c + pad;
          })
          .join("  "),
    ),
  );
}
