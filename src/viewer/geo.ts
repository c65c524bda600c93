/**
 * What the viewer plots, found in a collection's schema, and the numbers it
 * plots, taken from a query result. Pure functions (no DOM).
 *
 * Longitude and latitude are found by their CF attributes (`standard_name`,
 * `units` in degrees east/north) or by the usual names (`longitude`/`lon`,
 * `latitude`/`lat`, ...); time is the datetime variable along the partition
 * dimension (`time` first). Along-track products have 1-D coordinates, swaths
 * (ASCAT) 2-D ones (rows × cells): a swath's points are its cells.
 *
 * Fill values become `NaN`: the variable's fill value, CF `_FillValue` /
 * `missing_value` attributes, `NaN`, and `NaT` for datetimes.
 *
 * @module
 */

import type { Dataset } from "../data/index.js";
import { type DType, isDatetime, NAT, timeUnit } from "../dtype.js";
import type { NDArray } from "../ndarray.js";
import type { DatasetSchema, VariableSchema } from "../schema/index.js";

/** The coordinate variables of a collection, by path. */
export interface GeoVariables {
  /** Longitude, 1-D (along track) or 2-D (swath). */
  readonly lon: string;
  /** Latitude, same dimensions as `lon`. */
  readonly lat: string;
  /** Datetime along the partition dimension, if any. */
  readonly time: string | undefined;
}

const LON_NAMES = ["longitude", "lon", "long", "nav_lon", "glon", "lon_cell"];
const LAT_NAMES = ["latitude", "lat", "nav_lat", "glat", "lat_cell"];

/** Variables commonly worth colouring by, in order of preference. */
const PREFERRED = [
  "ssha",
  "ku/ssha",
  "data_01/ku/ssha",
  "sla",
  "ssh",
  "elevation",
  "wind_speed",
  "swh_ku",
  "swh",
  "ku/swh_ocean",
  "sig0_ku",
];

/** Whether values of `dtype` can be plotted as numbers. */
export function isNumeric(dtype: DType): boolean {
  return dtype !== "string" && dtype !== "bool" && !dtype.startsWith("timedelta64");
}

function attr(v: VariableSchema, name: string): string {
  const a = v.attrs[name];
  return typeof a === "string" ? a.toLowerCase() : "";
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1).toLowerCase();
}

/** Variables along `dim` (their first dimension), by path, root ones first. */
function along(schema: DatasetSchema, dim: string): [string, VariableSchema][] {
  const all = [...schema.allVariables()].filter(([, v]) => v.dimensions[0] === dim);
  return all.sort((a, b) => a[0].split("/").length - b[0].split("/").length);
}

function pick(
  vars: [string, VariableSchema][],
  standard: string,
  units: RegExp,
  names: readonly string[],
): [string, VariableSchema] | undefined {
  const numeric = vars.filter(([, v]) => isNumeric(v.dtype) && !isDatetime(v.dtype));
  return (
    numeric.find(([, v]) => attr(v, "standard_name") === standard) ??
    numeric.find(([, v]) => units.test(attr(v, "units"))) ??
    names.map((n) => numeric.find(([p]) => baseName(p) === n)).find((x) => x !== undefined)
  );
}

/**
 * Longitude, latitude and time of a collection whose partition dimension is
 * `dim`, or `null` when it has no recognisable coordinates.
 */
export function findGeoVariables(schema: DatasetSchema, dim: string): GeoVariables | null {
  const vars = along(schema, dim);
  const lon = pick(vars, "longitude", /^degrees?_?e(ast)?$/, LON_NAMES);
  if (lon === undefined) return null;
  const lat = pick(
    vars.filter(([, v]) => v.dimensions.join() === lon[1].dimensions.join()),
    "latitude",
    /^degrees?_?n(orth)?$/,
    LAT_NAMES,
  );
  if (lat === undefined) return null;
  const times = vars.filter(([, v]) => isDatetime(v.dtype));
  const time =
    times.find(([p, v]) => p === "time" && v.dimensions.length === 1) ??
    times.find(([, v]) => v.dimensions.length === 1) ??
    times[0];
  return { lon: lon[0], lat: lat[0], time: time?.[0] };
}

/**
 * Variables the map can colour by (numeric, same dimensions as the
 * coordinates) and the time series can show (numeric along the partition
 * dimension), coordinates excluded, by path.
 */
export function plottableVariables(
  schema: DatasetSchema,
  dim: string,
  geo: GeoVariables,
): { map: string[]; series: string[] } {
  const coords = new Set([geo.lon, geo.lat, geo.time]);
  const lonDims = schema.allVariables().get(geo.lon)?.dimensions.join() ?? "";
  const vars = along(schema, dim).filter(([p, v]) => !coords.has(p) && isNumeric(v.dtype) && v.ndim <= 2);
  return {
    map: vars.filter(([, v]) => v.dimensions.join() === lonDims).map(([p]) => p),
    series: vars.map(([p]) => p),
  };
}

/** The variable shown first: a usual suspect (`ssha`, `elevation`, ...) or the first floating-point one. */
export function defaultVariable(candidates: readonly string[], schema: DatasetSchema): string | undefined {
  for (const p of PREFERRED) if (candidates.includes(p)) return p;
  const all = schema.allVariables();
  return (
    candidates.find((p) => /^float/.test(all.get(p)?.dtype ?? "") && !/flag|qual|_rms|numval/.test(p)) ??
    candidates[0]
  );
}

function numberOrNaN(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "string" && v.trim() !== "") return Number(v);
  return Number.NaN;
}

/** The values that mean "no data" for a variable: its fill value and CF attributes. */
function fillValues(v: VariableSchema): number[] {
  const out: number[] = [];
  for (const f of [v.fillValue, v.attrs._FillValue, v.attrs.missing_value]) {
    for (const x of Array.isArray(f) ? f : [f]) {
      const n = numberOrNaN(x);
      if (!Number.isNaN(n)) out.push(n);
    }
  }
  return out;
}

/**
 * The values of `array` as doubles, fill values as `NaN`; datetimes as
 * seconds since 1970 (`NaT` as `NaN`).
 */
export function toNumbers(array: NDArray, schema: VariableSchema): Float64Array {
  const data = array.data as ArrayLike<number | bigint | boolean | string>;
  const out = new Float64Array(data.length);
  if (isDatetime(array.dtype)) {
    const perSecond: Record<string, number> = { s: 1, ms: 1e3, us: 1e6, ns: 1e9, m: 1 / 60, h: 1 / 3600 };
    const div = perSecond[timeUnit(array.dtype)] ?? 1;
    const d = array.data as BigInt64Array;
    for (let i = 0; i < d.length; i++) {
      const v = d[i] as bigint;
      out[i] = v === NAT ? Number.NaN : Number(v) / div;
    }
    return out;
  }
  const fills = fillValues(schema);
  for (let i = 0; i < data.length; i++) {
    const v = numberOrNaN(data[i]);
    out[i] = fills.includes(v) ? Number.NaN : v;
  }
  return out;
}

/** What the map and the time series show for a selection. */
export interface PlotData {
  /** Partitions read, in order. */
  readonly partitions: readonly string[];
  /** Rows read (along the partition dimension). */
  readonly rows: number;
  /** Cells per row: 1 along track, the swath width otherwise. */
  readonly cells: number;
  /** Longitude of every point (`rows × cells`, row-major), fill values as NaN. */
  readonly lon: Float64Array;
  /** Latitude of every point, fill values as NaN. */
  readonly lat: Float64Array;
  /** Colour value of every point, fill values as NaN; `null` without a colour variable. */
  readonly value: Float64Array | null;
  /** Time of every row, seconds since 1970 (NaT as NaN); `null` without a time variable. */
  readonly time: Float64Array | null;
  /** Time-series value of every row (across-track mean for swaths), fill values as NaN. */
  readonly series: Float64Array | null;
}

/** Mean of each row of a rows × cells array, NaN ignored (NaN for an all-NaN row). */
export function rowMeans(values: Float64Array, rows: number, cells: number): Float64Array {
  if (cells === 1) return values;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    let n = 0;
    for (let c = 0; c < cells; c++) {
      const v = values[r * cells + c] as number;
      if (!Number.isNaN(v)) {
        sum += v;
        n++;
      }
    }
    out[r] = n === 0 ? Number.NaN : sum / n;
  }
  return out;
}

/**
 * The numbers to plot from a query result holding the coordinates and the
 * chosen variables.
 */
export async function extractPlotData(
  ds: Dataset,
  schema: DatasetSchema,
  geo: GeoVariables,
  partitions: readonly string[],
  colour: string | undefined,
  seriesVar: string | undefined,
): Promise<PlotData> {
  const all = schema.allVariables();
  const numbers = async (path: string): Promise<{ values: Float64Array; shape: readonly number[] }> => {
    const array = await ds.getVariable(path).toArray();
    return { values: toNumbers(array, all.get(path) as VariableSchema), shape: array.shape };
  };
  const lon = await numbers(geo.lon);
  const lat = await numbers(geo.lat);
  const rows = lon.shape[0] ?? 0;
  const cells = lon.shape.length > 1 ? lon.values.length / Math.max(rows, 1) : 1;
  const value = colour === undefined ? null : (await numbers(colour)).values;
  const t = geo.time === undefined ? null : (await numbers(geo.time)).values;
  const time = t !== null && t.length === rows * cells && cells > 1 ? rowMeans(t, rows, cells) : t;
  let series: Float64Array | null = null;
  if (seriesVar !== undefined) {
    const s = await numbers(seriesVar);
    const width = s.shape.length > 1 ? s.values.length / Math.max(s.shape[0] ?? 1, 1) : 1;
    series = rowMeans(s.values, s.shape[0] ?? 0, width);
  }
  return { partitions, rows, cells, lon: lon.values, lat: lat.values, value, time, series };
}
