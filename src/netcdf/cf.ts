/**
 * CF conventions decoding of NetCDF variables: pure functions over
 * {@link NDArray}s and attribute records, no I/O.
 *
 * Order applied by {@link decodeVariable} (CF 1.x §2.5, §4.4, §8.1):
 *
 * 1. `_Unsigned = "true"` on a signed integer variable (the NetCDF3 way of
 *    storing unsigned bytes) reinterprets the bits as unsigned (`"false"` on
 *    an unsigned variable: as signed); the attribute is dropped.
 * 2. Missing values: `_FillValue` and every value of `missing_value`. Default
 *    netCDF fill values are not applied, nor are `valid_min`/`valid_max`/
 *    `valid_range` (like xarray; those attributes are kept).
 * 3. Time variables — `units` of the form `<unit> since <epoch>` — become
 *    `datetime64[ns]` (after unpacking when packed); missing values and NaN
 *    become NaT. See {@link parseTimeUnits} and {@link decodeTimes}.
 * 4. Packed variables — with `scale_factor` and/or `add_offset` — are
 *    unpacked to float64 `raw * scale_factor + add_offset`, missing values
 *    become NaN, the fill value is NaN (unless `keepPacked`).
 * 5. Other float variables: missing values become NaN, the fill value is NaN.
 * 6. Other integer variables keep their values; the fill value is
 *    `_FillValue` (or the single `missing_value`).
 *
 * The attributes consumed are removed (`_FillValue`, and `missing_value`,
 * `scale_factor`, `add_offset`, `units`, `calendar` when applied); every
 * other attribute is kept as is.
 *
 * @module
 */

import { type DType, daysFromCivil, isBigIntDType, isFloatDType, NAT } from "../dtype.js";
import { SchemaError } from "../errors.js";
import { NDArray } from "../ndarray.js";
import type { Attributes, AttributeValue, FillValue, NetCDFVariable } from "./types.js";

/** A parsed `<unit> since <epoch>` string. */
export interface TimeUnits {
  /** Normalised unit name. */
  readonly unit: "days" | "hours" | "minutes" | "seconds" | "milliseconds" | "microseconds" | "nanoseconds";
  /** Length of one unit in nanoseconds. */
  readonly tickNs: bigint;
  /** The epoch in nanoseconds since 1970-01-01T00:00:00Z. */
  readonly epochNs: bigint;
}

/** Options of {@link decodeVariable}. */
export interface CFDecodeOptions {
  /** Keep packed integers (with `scale_factor`/`add_offset` and their `_FillValue`) instead of unpacking. */
  keepPacked?: boolean;
  /** Decode `<unit> since <epoch>` variables into `datetime64[ns]` (default true). */
  decodeTimes?: boolean;
  /** File name used in error messages. */
  source?: string;
}

/** A variable before CF decoding. */
export interface EncodedVariable {
  readonly name: string;
  readonly path: string;
  readonly dimensions: readonly string[];
  readonly data: NDArray;
  readonly attrs: Attributes;
}

const UNIT_NS: Record<TimeUnits["unit"], bigint> = {
  days: 86_400_000_000_000n,
  hours: 3_600_000_000_000n,
  minutes: 60_000_000_000n,
  seconds: 1_000_000_000n,
  milliseconds: 1_000_000n,
  microseconds: 1_000n,
  nanoseconds: 1n,
};

const UNIT_ALIASES: Record<string, TimeUnits["unit"]> = {};
for (const [unit, aliases] of Object.entries({
  days: ["d", "day", "days"],
  hours: ["h", "hr", "hrs", "hour", "hours"],
  minutes: ["min", "mins", "minute", "minutes"],
  seconds: ["s", "sec", "secs", "second", "seconds"],
  milliseconds: ["ms", "msec", "msecs", "millisecond", "milliseconds"],
  microseconds: ["us", "usec", "usecs", "microsecond", "microseconds"],
  nanoseconds: ["ns", "nsec", "nsecs", "nanosecond", "nanoseconds"],
})) {
  for (const alias of aliases) UNIT_ALIASES[alias] = unit as TimeUnits["unit"];
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/** `Y-M-D[ |T]h:m:s[.f]` then an optional zone (`Z`, `UTC`, `GMT`, `±h[h][[:]mm]`). */
const ISO_EPOCH =
  /^(-?\d{1,4})-(\d{1,2})-(\d{1,2})(?:(?:\s+|T)(\d{1,2})(?::(\d{1,2})(?::(\d{1,2})(?:\.(\d+))?)?)?)?\s*(Z|UTC|GMT|[+-]\d{1,2}(?::?\d{2})?)?$/i;
/** `hh:mm:ss d-Mon-yyyy` (Cryo-TEMPO's `UTC seconds since 00:00:00 1-Jan-2000`). */
const CLOCK_FIRST_EPOCH = /^(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?\s+(\d{1,2})-([a-z]{3})-(\d{4})$/i;

/** Nanoseconds since 1970 of a civil date-time, or undefined when a field is out of range. */
function civilNs(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  frac: string,
): bigint | undefined {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59 || s > 60) return undefined;
  const fraction = BigInt((frac + "000000000").slice(0, 9));
  return (
    BigInt(daysFromCivil(y, mo, d)) * UNIT_NS.days +
    BigInt(h) * UNIT_NS.hours +
    BigInt(mi) * UNIT_NS.minutes +
    BigInt(s) * UNIT_NS.seconds +
    fraction
  );
}

/** Offset of a zone suffix in ns (to subtract from a local time). */
function zoneNs(zone: string | undefined): bigint {
  if (zone === undefined || /^(Z|UTC|GMT)$/i.test(zone)) return 0n;
  const m = /^([+-])(\d{1,2})(?::?(\d{2}))?$/.exec(zone);
  if (m === null) return 0n;
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0);
  return (m[1] === "-" ? -1n : 1n) * BigInt(minutes) * UNIT_NS.minutes;
}

/** Parses an epoch (`2000-01-01 00:00:00.0`, `1950-01-01`, `1990-1-1T0:0:0Z`, `00:00:00 1-Jan-2000`). */
export function parseEpoch(text: string): bigint | undefined {
  const t = text.trim();
  const iso = ISO_EPOCH.exec(t);
  if (iso !== null) {
    const ns = civilNs(
      Number(iso[1]),
      Number(iso[2]),
      Number(iso[3]),
      Number(iso[4] ?? 0),
      Number(iso[5] ?? 0),
      Number(iso[6] ?? 0),
      iso[7] ?? "",
    );
    return ns === undefined ? undefined : ns - zoneNs(iso[8]);
  }
  const clock = CLOCK_FIRST_EPOCH.exec(t);
  if (clock !== null) {
    const month = MONTHS.indexOf((clock[6] ?? "").toLowerCase()) + 1;
    if (month === 0) return undefined;
    return civilNs(
      Number(clock[7]),
      month,
      Number(clock[5]),
      Number(clock[1]),
      Number(clock[2]),
      Number(clock[3]),
      clock[4] ?? "",
    );
  }
  return undefined;
}

/** Whether a `units` attribute declares a time variable (`… since …`). */
export function isTimeUnits(units: AttributeValue | undefined): units is string {
  return typeof units === "string" && /\ssince\s/i.test(` ${units} `);
}

/**
 * Parses CF time units `<unit> since <epoch>`: units days, hours, minutes,
 * seconds, milliseconds, microseconds, nanoseconds with their plurals and
 * abbreviations (`d`, `h`, `hr`, `min`, `s`, `sec`, `ms`, `us`, …), any case;
 * epochs `Y-M-D`, optionally with a time (`T` or space separated, fractional
 * seconds) and a zone (`Z`, `UTC`, `GMT`, `±hh:mm`). A leading `UTC` word
 * before the unit is accepted, and so is the non-CF clock-first epoch
 * `hh:mm:ss d-Mon-yyyy` of Cryo-TEMPO (`UTC seconds since 00:00:00 1-Jan-2000`
 * is 2000-01-01T00:00:00Z).
 *
 * @returns undefined when the text is not of that form (months and years,
 *   which have no fixed length, are refused too).
 */
export function parseTimeUnits(units: string): TimeUnits | undefined {
  const m = /^\s*(?:UTC\s+)?([a-z]+)\s+since\s+(.+?)\s*$/i.exec(units);
  if (m === null) return undefined;
  const unit = UNIT_ALIASES[(m[1] ?? "").toLowerCase()];
  if (unit === undefined) return undefined;
  const epochNs = parseEpoch(m[2] ?? "");
  if (epochNs === undefined) return undefined;
  return { unit, tickNs: UNIT_NS[unit], epochNs };
}

const GREGORIAN_START = BigInt(daysFromCivil(1582, 10, 15)) * UNIT_NS.days;

/**
 * Checks a `calendar` attribute: absent, `standard`, `gregorian` or
 * `proleptic_gregorian` (any case) are accepted and all computed in the
 * proleptic Gregorian calendar. With `standard`/`gregorian` (a mixed
 * Julian/Gregorian calendar) an epoch before 1582-10-15 is refused, because
 * the two calendars differ there.
 *
 * @throws SchemaError naming the variable, the calendar and the file otherwise.
 */
export function checkCalendar(
  calendar: AttributeValue | undefined,
  epochNs: bigint,
  variable: string,
  source = "<memory>",
): void {
  if (calendar === undefined) return;
  const name = typeof calendar === "string" ? calendar.trim().toLowerCase() : "";
  if (name === "proleptic_gregorian") return;
  if (name === "standard" || name === "gregorian") {
    if (epochNs < GREGORIAN_START) {
      throw new SchemaError(
        `variable '${variable}' of '${source}': calendar '${String(calendar)}' with an epoch before 1582-10-15 is not supported`,
        { variable },
      );
    }
    return;
  }
  throw new SchemaError(
    `variable '${variable}' of '${source}': unsupported calendar '${String(calendar)}' (supported: standard, gregorian, proleptic_gregorian)`,
    { variable },
  );
}

const MAX_NS = 2n ** 63n - 1n;

/**
 * Converts raw time values into `datetime64[ns]`: `epoch + value × unit`.
 *
 * Integer values convert exactly. Float values are rounded to the nearest
 * microsecond first (`round(value × µs per unit)`; to the nearest ns for
 * nanosecond units): products store times at µs precision and the float
 * product of a second count and 1e9 carries binary noise in the ns digits.
 * NaN and the given fill values become NaT.
 *
 * @throws SchemaError naming the variable when a value falls outside the
 *   datetime64[ns] range (about 1677–2262).
 */
export function decodeTimes(
  data: NDArray,
  units: TimeUnits,
  fills: readonly (number | bigint)[],
  variable: string,
  source = "<memory>",
): NDArray<"datetime64[ns]"> {
  const n = data.size;
  const out = new BigInt64Array(n);
  const raw = data.data as ArrayLike<number | bigint>;
  const isFloat = isFloatDType(data.dtype);
  const isFill = fillMatcher(data.dtype, fills);
  const tickUs = units.tickNs >= 1000n ? Number(units.tickNs / 1000n) : 0;
  for (let i = 0; i < n; i++) {
    const v = raw[i] as number | bigint;
    if (isFill(v)) {
      out[i] = NAT;
      continue;
    }
    let ns: bigint;
    if (typeof v === "bigint") {
      ns = units.epochNs + v * units.tickNs;
    } else if (isFloat) {
      const ticks = tickUs > 0 ? Math.round(v * tickUs) : Math.round(v * Number(units.tickNs));
      if (!Number.isFinite(ticks)) throw outOfRange(v, variable, source);
      ns = units.epochNs + BigInt(ticks) * (tickUs > 0 ? 1000n : 1n);
    } else {
      ns = units.epochNs + BigInt(v) * units.tickNs;
    }
    if (ns > MAX_NS || ns <= NAT) throw outOfRange(v, variable, source);
    out[i] = ns;
  }
  return new NDArray("datetime64[ns]", data.shape, out);
}

function outOfRange(value: number | bigint, variable: string, source: string): SchemaError {
  return new SchemaError(
    `variable '${variable}' of '${source}': time value ${String(value)} is outside the datetime64[ns] range`,
    { variable },
  );
}

/** A predicate telling whether a stored value is missing: NaN, or equal to one of `fills` in the storage type. */
export function fillMatcher(
  dtype: DType,
  fills: readonly (number | bigint)[],
): (v: number | bigint) => boolean {
  if (isBigIntDType(dtype)) {
    const set = new Set<bigint>();
    for (const f of fills) {
      if (typeof f === "bigint") set.add(f);
      else if (Number.isInteger(f)) set.add(BigInt(f));
    }
    return (v) => set.has(v as bigint);
  }
  const float32 = dtype === "float32";
  const set = new Set<number>(fills.map((f) => (float32 ? Math.fround(Number(f)) : Number(f))));
  if (isFloatDType(dtype)) return (v) => Number.isNaN(v) || set.has(v as number);
  return (v) => set.has(v as number);
}

/**
 * Unpacks `raw × scale + offset` into float64, missing values (and NaN) → NaN.
 * 64-bit integers are converted to numbers first.
 */
export function unpack(
  data: NDArray,
  scale: number,
  offset: number,
  fills: readonly (number | bigint)[],
): NDArray<"float64"> {
  const n = data.size;
  const out = new Float64Array(n);
  const raw = data.data as ArrayLike<number | bigint>;
  const isFill = fillMatcher(data.dtype, fills);
  for (let i = 0; i < n; i++) {
    const v = raw[i] as number | bigint;
    out[i] = isFill(v) ? Number.NaN : Number(v) * scale + offset;
  }
  return new NDArray("float64", data.shape, out);
}

/** Float values with the missing ones replaced by NaN (same dtype; a copy). */
export function maskFloats(data: NDArray, fills: readonly (number | bigint)[]): NDArray {
  const out = data.copy();
  const values = out.data as Float32Array | Float64Array;
  const isFill = fillMatcher(data.dtype, fills);
  for (let i = 0; i < values.length; i++) if (isFill(values[i] as number)) values[i] = Number.NaN;
  return out;
}

/** Values of an attribute as a list of numbers/bigints (strings and absent → empty). */
function numbers(value: AttributeValue | undefined): (number | bigint)[] {
  if (value === undefined || typeof value === "string") return [];
  if (Array.isArray(value))
    return (value as (string | number | bigint)[]).filter((v) => typeof v !== "string") as (
      | number
      | bigint
    )[];
  return [value as number | bigint];
}

function scalarNumber(
  value: AttributeValue | undefined,
  name: string,
  variable: string,
  source: string,
): number | undefined {
  const list = numbers(value);
  if (value === undefined) return undefined;
  if (list.length !== 1) {
    throw new SchemaError(`variable '${variable}' of '${source}': attribute '${name}' must be one number`, {
      variable,
    });
  }
  return Number(list[0]);
}

const UNSIGNED: Partial<Record<DType, DType>> = {
  int8: "uint8",
  int16: "uint16",
  int32: "uint32",
  int64: "uint64",
};
const SIGNED: Partial<Record<DType, DType>> = {
  uint8: "int8",
  uint16: "int16",
  uint32: "int32",
  uint64: "int64",
};

/** Reinterprets the bits of an integer array as another integer type of the same width. */
function reinterpret(data: NDArray, dtype: DType): NDArray {
  const src = data.data as Int8Array;
  const Ctor = {
    int8: Int8Array,
    uint8: Uint8Array,
    int16: Int16Array,
    uint16: Uint16Array,
    int32: Int32Array,
    uint32: Uint32Array,
    int64: BigInt64Array,
    uint64: BigUint64Array,
  }[dtype as "int8"];
  const view = new Ctor(src.buffer, src.byteOffset, src.length);
  return NDArray.from(view, { shape: data.shape, dtype });
}

/** A fill value reinterpreted with the bit pattern of another integer width/sign. */
function reinterpretFill(value: number | bigint, dtype: DType): number | bigint {
  const bits = { int8: 8, uint8: 8, int16: 16, uint16: 16, int32: 32, uint32: 32, int64: 64, uint64: 64 }[
    dtype as "int8"
  ];
  if (bits === 64) {
    const v = BigInt(value);
    return dtype === "uint64" ? BigInt.asUintN(64, v) : BigInt.asIntN(64, v);
  }
  const v = Number(value);
  const mod = 2 ** bits;
  if (dtype.startsWith("u")) return ((v % mod) + mod) % mod;
  return v >= mod / 2 ? v - mod : v;
}

/**
 * Applies the CF decoding steps listed in the module documentation to one variable.
 *
 * @throws SchemaError naming the variable and the file when a time variable
 *   has unparseable units, an unsupported calendar or out-of-range values,
 *   or when `scale_factor`/`add_offset` are not single numbers.
 */
export function decodeVariable(variable: EncodedVariable, opts: CFDecodeOptions = {}): NetCDFVariable {
  const source = opts.source ?? "<memory>";
  const { path } = variable;
  const attrs: Attributes = { ...variable.attrs };
  let data = variable.data;
  let fills = [...numbers(attrs._FillValue).slice(0, 1), ...numbers(attrs.missing_value)];

  // 1. _Unsigned
  const unsignedFlag = typeof attrs._Unsigned === "string" ? attrs._Unsigned.trim().toLowerCase() : undefined;
  if (unsignedFlag !== undefined) {
    const target =
      unsignedFlag === "true"
        ? UNSIGNED[data.dtype]
        : unsignedFlag === "false"
          ? SIGNED[data.dtype]
          : undefined;
    if (target !== undefined) {
      data = reinterpret(data, target);
      fills = fills.map((f) => reinterpretFill(f, target));
    }
    delete attrs._Unsigned;
  }

  const numeric = data.dtype !== "string";
  const scale = numeric ? scalarNumber(attrs.scale_factor, "scale_factor", path, source) : undefined;
  const offset = numeric ? scalarNumber(attrs.add_offset, "add_offset", path, source) : undefined;
  const packed = scale !== undefined || offset !== undefined;
  const done = (d: NDArray, fillValue: FillValue, drop: readonly string[]): NetCDFVariable => {
    for (const key of drop) delete attrs[key];
    return {
      name: variable.name,
      path,
      dimensions: variable.dimensions,
      dtype: d.dtype,
      data: d,
      attrs,
      fillValue,
    };
  };

  // 3. Times
  if (numeric && opts.decodeTimes !== false && isTimeUnits(attrs.units)) {
    const units = parseTimeUnits(attrs.units);
    if (units === undefined) {
      throw new SchemaError(`variable '${path}' of '${source}': unparseable time units '${attrs.units}'`, {
        variable: path,
      });
    }
    checkCalendar(attrs.calendar, units.epochNs, path, source);
    const values = packed ? unpack(data, scale ?? 1, offset ?? 0, fills) : data;
    const times = decodeTimes(values, units, packed ? [] : fills, path, source);
    return done(times, NAT, [
      "_FillValue",
      "missing_value",
      "scale_factor",
      "add_offset",
      "units",
      "calendar",
    ]);
  }

  // 4. Packed
  if (packed && !opts.keepPacked) {
    return done(unpack(data, scale ?? 1, offset ?? 0, fills), Number.NaN, [
      "_FillValue",
      "missing_value",
      "scale_factor",
      "add_offset",
    ]);
  }

  // 5. Floats
  if (isFloatDType(data.dtype) && fills.length > 0 && !packed) {
    return done(maskFloats(data, fills), Number.NaN, ["_FillValue", "missing_value"]);
  }

  // 6. Everything else keeps its values.
  if (!numeric) return done(data, null, ["_FillValue"]);
  const fillValue = fills[0];
  const drop = ["_FillValue"];
  const missing = numbers(attrs.missing_value);
  if (
    missing.length > 0 &&
    missing.every((m) => fillValue !== undefined && Number(m) === Number(fillValue))
  ) {
    drop.push("missing_value");
  }
  if (fillValue === undefined) return done(data, null, drop);
  return done(data, isBigIntDType(data.dtype) ? BigInt(fillValue) : Number(fillValue), drop);
}
