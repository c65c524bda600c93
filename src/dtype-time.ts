/**
 * datetime64/timedelta64 helpers: the time units, NaT, conversions between
 * tick counts and nanoseconds since the epoch (proleptic Gregorian, UTC),
 * and parsing and formatting of ISO 8601 date-times like numpy. Re-exported
 * by ./dtype.ts (this module does not import it).
 *
 * @module
 */

import { SchemaError } from "./errors.js";

/** Units of numpy datetime64/timedelta64 supported here. */
export type TimeUnit = "Y" | "M" | "D" | "h" | "m" | "s" | "ms" | "us" | "ns";

/** Every time unit, coarsest first. */
export const TIME_UNITS: readonly TimeUnit[] = ["Y", "M", "D", "h", "m", "s", "ms", "us", "ns"];

/** The value numpy calls NaT (not a time): int64 min. */
export const NAT = -(2n ** 63n);

const UNIT_NS: Record<Exclude<TimeUnit, "Y" | "M">, bigint> = {
  D: 86_400_000_000_000n,
  h: 3_600_000_000_000n,
  m: 60_000_000_000n,
  s: 1_000_000_000n,
  ms: 1_000_000n,
  us: 1_000n,
  ns: 1n,
};

/** Floor division of bigints (rounds toward −∞). */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** Days since 1970-01-01 of a proleptic Gregorian civil date (month 1..12). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Proleptic Gregorian civil date of a day count since 1970-01-01. */
export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** Broken-down UTC fields of an instant given in ns since the epoch. */
export interface DatetimeFields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Nanoseconds within the second, 0..999 999 999. */
  nanosecond: number;
}

/**
 * Converts a tick count of `unit` to ns since the epoch (Y and M are calendar
 * units: years/months since 1970-01). NaT stays NaT.
 */
export function toNanoseconds(value: bigint, unit: TimeUnit): bigint {
  if (value === NAT) return NAT;
  if (unit === "Y" || unit === "M") {
    const months = unit === "Y" ? value * 12n : value;
    const year = Number(floorDiv(months, 12n)) + 1970;
    const month = Number(months - floorDiv(months, 12n) * 12n) + 1;
    return BigInt(daysFromCivil(year, month, 1)) * UNIT_NS.D;
  }
  return value * UNIT_NS[unit];
}

/**
 * Converts ns since the epoch to ticks of `unit`, flooring (numpy casting
 * semantics: 1969-12-31T23:59:59.5 → …:59 in seconds). NaT stays NaT.
 */
export function fromNanoseconds(ns: bigint, unit: TimeUnit): bigint {
  if (ns === NAT) return NAT;
  if (unit === "Y" || unit === "M") {
    const f = datetimeFields(ns);
    const months = BigInt((f.year - 1970) * 12 + (f.month - 1));
    return unit === "Y" ? floorDiv(months, 12n) : months;
  }
  return floorDiv(ns, UNIT_NS[unit]);
}

/** Broken-down proleptic Gregorian UTC fields of ns since the epoch. */
export function datetimeFields(ns: bigint): DatetimeFields {
  const day = floorDiv(ns, UNIT_NS.D);
  let rest = ns - day * UNIT_NS.D;
  const civil = civilFromDays(Number(day));
  const hour = Number(rest / UNIT_NS.h);
  rest -= BigInt(hour) * UNIT_NS.h;
  const minute = Number(rest / UNIT_NS.m);
  rest -= BigInt(minute) * UNIT_NS.m;
  const second = Number(rest / UNIT_NS.s);
  rest -= BigInt(second) * UNIT_NS.s;
  return { ...civil, hour, minute, second, nanosecond: Number(rest) };
}

const ISO_RE =
  /^([+-]?\d{4,6})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?)?)?)?\s*(Z|[+-]00:?00)?$/;

/**
 * A datetime64 tick count of `unit` for an ISO 8601 string (UTC; `Z` or no
 * zone; up to ns precision; e.g. `2024-03-05T10:20:30.123456789`) or a
 * `Date`, floored to the unit. `"NaT"` gives {@link NAT}.
 *
 * @throws SchemaError naming the string when it is not a valid ISO date-time.
 */
export function datetime64(value: string | Date, unit: TimeUnit = "ns"): bigint {
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) return NAT;
    return fromNanoseconds(BigInt(ms) * 1_000_000n, unit);
  }
  const text = value.trim();
  if (text === "NaT") return NAT;
  const m = ISO_RE.exec(text);
  if (m === null) throw new SchemaError(`invalid ISO 8601 date-time '${value}'`);
  const year = Number(m[1]);
  const month = m[2] === undefined ? 1 : Number(m[2]);
  const day = m[3] === undefined ? 1 : Number(m[3]);
  const hour = Number(m[4] ?? 0);
  const minute = Number(m[5] ?? 0);
  const second = Number(m[6] ?? 0);
  const frac = (m[7] ?? "").padEnd(9, "0");
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    throw new SchemaError(`invalid ISO 8601 date-time '${value}'`);
  }
  const days = BigInt(daysFromCivil(year, month, day));
  const ns =
    days * UNIT_NS.D +
    BigInt(hour) * UNIT_NS.h +
    BigInt(minute) * UNIT_NS.m +
    BigInt(second) * UNIT_NS.s +
    BigInt(frac === "" ? 0 : Number(frac));
  return fromNanoseconds(ns, unit);
}

/**
 * ISO 8601 text of a datetime64 tick count of `unit` (proleptic Gregorian,
 * UTC, no zone suffix), with the precision of the unit like numpy:
 * `2024` (Y), `2024-03` (M), `2024-03-05` (D), `2024-03-05T10` (h),
 * `…T10:20` (m), `…T10:20:30` (s), `.123` (ms), `.123456` (us),
 * `.123456789` (ns). NaT prints as `"NaT"`.
 */
export function formatDatetime64(value: bigint, unit: TimeUnit = "ns"): string {
  if (value === NAT) return "NaT";
  const f = datetimeFields(toNanoseconds(value, unit));
  const p2 = (n: number) => String(n).padStart(2, "0");
  const year = f.year < 0 ? `-${String(-f.year).padStart(4, "0")}` : String(f.year).padStart(4, "0");
  if (unit === "Y") return year;
  if (unit === "M") return `${year}-${p2(f.month)}`;
  const date = `${year}-${p2(f.month)}-${p2(f.day)}`;
  if (unit === "D") return date;
  if (unit === "h") return `${date}T${p2(f.hour)}`;
  if (unit === "m") return `${date}T${p2(f.hour)}:${p2(f.minute)}`;
  const base = `${date}T${p2(f.hour)}:${p2(f.minute)}:${p2(f.second)}`;
  const frac = String(f.nanosecond).padStart(9, "0");
  if (unit === "s") return base;
  if (unit === "ms") return `${base}.${frac.slice(0, 3)}`;
  if (unit === "us") return `${base}.${frac.slice(0, 6)}`;
  return `${base}.${frac}`;
}

/** Nanoseconds in one tick of a fixed-length unit (throws for Y and M, which have no fixed length). */
export function unitNanoseconds(unit: TimeUnit): bigint {
  if (unit === "Y" || unit === "M") throw new SchemaError(`time unit ${unit} has no fixed length`);
  return UNIT_NS[unit];
}
