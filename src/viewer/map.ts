/**
 * The map: the ground track or swath of the selection over the world's land
 * (Natural Earth 1:110m from `world-atlas`, bundled), with Observable Plot
 * (SVG, no WebGL). Points are coloured by the chosen variable; points whose
 * value is a fill value are drawn grey.
 *
 * A regional selection is drawn in an azimuthal projection centred on it
 * (polar tracks included); one spanning much of the globe in Equal Earth.
 *
 * @module
 */

import * as Plot from "@observablehq/plot";
import { feature } from "topojson-client";
import land110m from "world-atlas/land-110m.json" with { type: "json" };
import type { PlotData } from "./geo.js";

/** Most points drawn; larger selections are thinned by a constant stride (reported). */
export const MAX_POINTS = 60_000;

const RAD = Math.PI / 180;

/** Smallest half-width of a regional map, in degrees. */
const MIN_RADIUS = 5;

/** Centre of a set of points (mean unit vector) and the largest angular distance from it, in degrees. */
export function extent(
  lon: Float64Array,
  lat: Float64Array,
  indices: Uint32Array,
): { lon: number; lat: number; radius: number } {
  let x = 0;
  let y = 0;
  let z = 0;
  for (const i of indices) {
    const la = (lat[i] as number) * RAD;
    const lo = (lon[i] as number) * RAD;
    x += Math.cos(la) * Math.cos(lo);
    y += Math.cos(la) * Math.sin(lo);
    z += Math.sin(la);
  }
  const n = Math.hypot(x, y, z) || 1;
  const c = { x: x / n, y: y / n, z: z / n };
  let radius = 0;
  for (const i of indices) {
    const la = (lat[i] as number) * RAD;
    const lo = (lon[i] as number) * RAD;
    const dot = Math.cos(la) * Math.cos(lo) * c.x + Math.cos(la) * Math.sin(lo) * c.y + Math.sin(la) * c.z;
    radius = Math.max(radius, Math.acos(Math.min(1, Math.max(-1, dot))) / RAD);
  }
  return { lon: Math.atan2(c.y, c.x) / RAD, lat: Math.asin(c.z) / RAD, radius };
}

/**
 * The colour domain: the 2nd and 98th percentiles of the finite values at
 * `indices` (outliers over land or ice would flatten the scale), or
 * `undefined` when there are none.
 */
export function robustDomain(values: Float64Array, indices: readonly number[]): [number, number] | undefined {
  const v = indices.map((i) => values[i] as number).filter(Number.isFinite);
  if (v.length === 0) return undefined;
  v.sort((a, b) => a - b);
  const at = (q: number) => v[Math.min(v.length - 1, Math.max(0, Math.round(q * (v.length - 1))))] as number;
  const lo = at(0.02);
  const hi = at(0.98);
  return lo < hi ? [lo, hi] : [v[0] as number, v[v.length - 1] as number];
}

/** Indices of the points drawn: finite coordinates, thinned to at most {@link MAX_POINTS}. */
export function drawnIndices(data: PlotData): { indices: Uint32Array; stride: number } {
  const n = data.lon.length;
  let finite = 0;
  for (let i = 0; i < n; i++) if (Number.isFinite(data.lon[i]) && Number.isFinite(data.lat[i])) finite++;
  const stride = Math.max(1, Math.ceil(finite / MAX_POINTS));
  const out = new Uint32Array(Math.ceil(finite / stride));
  let k = 0;
  let seen = 0;
  for (let i = 0; i < n; i++) {
    if (!(Number.isFinite(data.lon[i]) && Number.isFinite(data.lat[i]))) continue;
    if (seen++ % stride === 0) out[k++] = i;
  }
  return { indices: out.subarray(0, k), stride };
}

let landCache: ReturnType<typeof feature> | undefined;

function land(): ReturnType<typeof feature> {
  const topo = land110m as unknown as Parameters<typeof feature>[0];
  landCache ??= feature(topo, topo.objects.land as Parameters<typeof feature>[1]);
  return landCache;
}

/**
 * Renders the map of `data` into an SVG (or a figure with its legend).
 *
 * @param label - legend title (variable and units).
 */
export function renderMap(
  data: PlotData,
  opts: { width: number; height: number; label: string },
): { node: Element; drawn: number; missing: number; stride: number } {
  const { indices, stride } = drawnIndices(data);
  const lon = data.lon;
  const lat = data.lat;
  const value = data.value;
  const valid: number[] = [];
  const missing: number[] = [];
  for (const i of indices) {
    if (value !== null && Number.isNaN(value[i])) missing.push(i);
    else valid.push(i);
  }
  const e = indices.length > 0 ? extent(lon, lat, indices) : { lon: 0, lat: 0, radius: 180 };
  const regional = e.radius < 60;
  // A sample of the points, and a frame of MIN_RADIUS degrees around their centre so that a short
  // track still shows its surroundings.
  const step = Math.max(1, Math.ceil(indices.length / 2000));
  const coordinates = Array.from(
    indices.filter((_, k) => k % step === 0),
    (i) => [lon[i] as number, lat[i] as number],
  );
  const r = MIN_RADIUS;
  const dLon = Math.min(179, r / Math.max(Math.cos(e.lat * RAD), 0.05));
  coordinates.push(
    [e.lon, Math.min(90, e.lat + r)],
    [e.lon, Math.max(-90, e.lat - r)],
    [e.lon - dLon, e.lat],
    [e.lon + dLon, e.lat],
  );
  const domain = { type: "MultiPoint" as const, coordinates };
  const node = Plot.plot({
    width: opts.width,
    height: opts.height,
    projection: regional
      ? { type: "azimuthal-equidistant", rotate: [-e.lon, -e.lat], domain, inset: 24 }
      : { type: "equal-earth", rotate: [-e.lon, 0] },
    color: value === null ? undefined : { type: "linear", scheme: "turbo", legend: true, label: opts.label },
    marks: [
      Plot.sphere({ fill: "#eef4f8", stroke: "#9ab" }),
      Plot.graticule({ strokeOpacity: 0.25 }),
      Plot.geo(land(), { fill: "#ddd8c8", stroke: "#8a8472", strokeWidth: 0.5 }),
      Plot.dot(missing, { x: (i: number) => lon[i], y: (i: number) => lat[i], r: 1.2, fill: "#999" }),
      Plot.dot(valid, {
        x: (i: number) => lon[i],
        y: (i: number) => lat[i],
        r: data.cells > 1 ? 1.2 : 1.8,
        fill: value === null ? "#c33" : (i: number) => value[i],
      }),
    ],
  });
  return { node, drawn: indices.length, missing: missing.length, stride };
}
