/**
 * The collection viewer's entry: opens the collection named by `?url=` (or
 * served by `zcollection serve`), shows its card and partitions, and plots
 * the selected partition (or the partitions matching the filter) on a map
 * and as a time series, with a live count of the requests and bytes read.
 *
 * For tests and scripts the page exposes its state: `body[data-state]` is
 * `loading`, `ready` (idle) or `error`; `#counter` carries `data-requests`
 * and `data-bytes`; `#zc-plot-data` holds the plotted numbers as JSON
 * (`NaN` as `null`).
 *
 * @module
 */

import type { Dataset } from "../data/index.js";
import type { FilterKey } from "../partitioning/index.js";
import { renderCard } from "./card.js";
import { byId, formatBytes, h, messageOf } from "./dom.js";
import {
  defaultVariable,
  extractPlotData,
  findGeoVariables,
  type GeoVariables,
  plottableVariables,
} from "./geo.js";
import { renderMap } from "./map.js";
import { mountPartitionList } from "./partitions.js";
import { renderSeries, seriesPoints } from "./series.js";
import { collectionUrl, openSource, readServeInfo, requestCount, type Source } from "./source.js";

/** Most partitions one plot reads. */
const MAX_PARTITIONS = 24;

let busy = 0;
let chart: { destroy(): void } | undefined;

function setState(state: "loading" | "ready" | "error"): void {
  document.body.dataset.state = state;
}

function updateCounter(src: Source): void {
  const c = src.counter.counts;
  const el = byId("counter");
  el.dataset.requests = String(requestCount(src.counter));
  el.dataset.bytes = String(c.bytesRead);
  byId("req-count").textContent = String(requestCount(src.counter));
  byId("req-detail").textContent = `GET ${c.get}, ranged ${c.getRange}, HEAD ${c.exists}, list ${c.list}`;
  byId("req-bytes").textContent = formatBytes(c.bytesRead);
}

function showError(message: string): void {
  const status = byId("status");
  status.textContent = message;
  status.className = "error";
  setState("error");
}

function fillSelect(select: HTMLSelectElement, names: readonly string[], chosen: string | undefined): void {
  select.replaceChildren(...names.map((n) => h("option", { value: n, selected: n === chosen }, n)));
}

function label(src: Source, path: string | undefined): string {
  if (path === undefined) return "";
  const units = src.collection.schema.allVariables().get(path)?.attrs.units;
  return typeof units === "string" && units !== "" ? `${path} (${units})` : path;
}

/** Reads the selection and draws the map and the series. */
async function plot(
  src: Source,
  geo: GeoVariables,
  paths: readonly string[],
  caption: string,
): Promise<void> {
  const { collection } = src;
  const colour = byId<HTMLSelectElement>("colour-var").value || undefined;
  const seriesVar = byId<HTMLSelectElement>("series-var").value || undefined;
  const chosen = paths.slice(0, MAX_PARTITIONS);
  const axis = collection.partitioning.axis;
  const wanted = new Set(
    chosen.map((p) =>
      collection.partitioning
        .decode(p)
        .map(([, v]) => String(v))
        .join("/"),
    ),
  );
  const variables = [...new Set([geo.lon, geo.lat, geo.time, colour, seriesVar])].filter(
    (v): v is string => v !== undefined,
  );
  busy++;
  setState("loading");
  byId("selection").textContent = `${caption}: reading…`;
  try {
    const ds: Dataset | null = await collection.query({
      filters: (key: FilterKey) => wanted.has(axis.map((a) => String(key[a])).join("/")),
      variables,
    });
    if (ds === null) throw new Error(`no data in ${caption}`);
    const data = await extractPlotData(ds, collection.schema, geo, chosen, colour, seriesVar);
    const mapBox = byId("map");
    const width = Math.max(320, Math.floor(mapBox.clientWidth || 720));
    const map = renderMap(data, { width, height: Math.round(width * 0.62), label: label(src, colour) });
    mapBox.replaceChildren(map.node);
    mapBox.dataset.partitions = chosen.join(",");
    mapBox.dataset.points = String(map.drawn);
    chart?.destroy();
    chart = undefined;
    const seriesBox = byId("series");
    if (data.series !== null) {
      const points = seriesPoints(data.time, data.series);
      chart = renderSeries(seriesBox, points, {
        width,
        height: 240,
        label: label(src, seriesVar) + (data.cells > 1 ? ", across-track mean" : ""),
        axisLabel: label(src, seriesVar),
        timeAxis: data.time !== null,
      });
      seriesBox.dataset.points = String(points.y.filter((v) => v !== null).length);
    } else seriesBox.replaceChildren();
    const more =
      paths.length > chosen.length ? ` (first ${chosen.length} of ${paths.length} partitions)` : "";
    const thinned = map.stride > 1 ? `, every ${map.stride}th point drawn` : "";
    const grey = map.missing > 0 ? ` (${map.missing} without a value, in grey)` : "";
    byId("selection").textContent =
      `${caption}${more}: ${data.rows} rows × ${data.cells} cells, ${map.drawn} points${thinned}${grey}`;
    const json = (a: Float64Array | null) =>
      a === null ? null : Array.from(a, (v) => (Number.isNaN(v) ? null : v));
    byId("zc-plot-data").textContent = JSON.stringify({
      partitions: chosen,
      variable: colour ?? null,
      series: seriesVar ?? null,
      rows: data.rows,
      cells: data.cells,
      drawn: map.drawn,
      stride: map.stride,
      lon: json(data.lon),
      lat: json(data.lat),
      value: json(data.value),
    });
    byId("status").textContent = "";
  } catch (err) {
    byId("selection").textContent = `${caption}: ${messageOf(err)}`;
    byId("status").textContent = messageOf(err);
    byId("status").className = "error";
  } finally {
    busy--;
    updateCounter(src);
    if (busy === 0) setState("ready");
  }
}

async function boot(): Promise<void> {
  setState("loading");
  const page = new URL(location.href);
  const info = readServeInfo(document);
  const url = collectionUrl(page, info);
  if (url === null) {
    byId("open-form").hidden = false;
    for (const el of document.querySelectorAll("main")) el.hidden = true;
    setState("ready");
    return;
  }
  const started = performance.now();
  const src = await openSource(url, info, page);
  const opened = requestCount(src.counter);
  const paths = await src.collection.partitions();
  updateCounter(src);
  const c = src.counter.counts;
  const listed = requestCount(src.counter) - opened;
  const how = src.collection.catalogEnabled ? "catalog" : `walk: ${c.list} LIST`;
  const el = byId("open-cost");
  el.dataset.open = String(opened);
  el.dataset.list = String(listed);
  el.textContent =
    `open: ${opened} GET · partitions: ${listed} request(s) (${how}) · ` +
    `${formatBytes(c.bytesRead)} in ${Math.round(performance.now() - started)} ms`;
  byId("card-slot").replaceChildren(renderCard(src.collection, { url, partitions: paths.length, info }));
  const timer = setInterval(() => updateCounter(src), 250);
  window.addEventListener("pagehide", () => clearInterval(timer));

  const geo = findGeoVariables(src.collection.schema, src.collection.dimension);
  let lastPaths: readonly string[] = [];
  let lastCaption = "";
  const mark = mountPartitionList(src.collection, paths, {
    select: (p) => {
      mark(p);
      lastPaths = [p];
      lastCaption = p;
      if (geo !== null) void plot(src, geo, lastPaths, lastCaption);
    },
    plotFiltered: (expression, matched) => {
      mark(null);
      lastPaths = matched;
      lastCaption = expression.trim() === "" ? "all partitions" : `filter ${expression.trim()}`;
      if (geo !== null) void plot(src, geo, lastPaths, lastCaption);
    },
  });
  if (geo === null) {
    byId("selection").textContent = "no longitude/latitude variables found: nothing to map";
    setState("ready");
    return;
  }
  const vars = plottableVariables(src.collection.schema, src.collection.dimension, geo);
  const colourSelect = byId<HTMLSelectElement>("colour-var");
  const seriesSelect = byId<HTMLSelectElement>("series-var");
  fillSelect(colourSelect, vars.map, defaultVariable(vars.map, src.collection.schema));
  fillSelect(seriesSelect, vars.series, defaultVariable(vars.series, src.collection.schema));
  const replot = () => {
    if (lastPaths.length > 0) void plot(src, geo, lastPaths, lastCaption);
  };
  colourSelect.addEventListener("change", replot);
  seriesSelect.addEventListener("change", replot);
  byId("coords").textContent = `coordinates: ${geo.lon}, ${geo.lat}${geo.time ? `, time: ${geo.time}` : ""}`;
  const first = paths[0];
  if (first === undefined) {
    byId("selection").textContent = "the collection has no partitions";
    setState("ready");
    return;
  }
  mark(first);
  lastPaths = [first];
  lastCaption = first;
  await plot(src, geo, lastPaths, lastCaption);
}

byId<HTMLFormElement>("open-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const value = byId<HTMLInputElement>("open-url").value.trim();
  if (value !== "") location.search = `?url=${encodeURIComponent(value)}`;
});

boot().catch((err: unknown) => showError(`cannot open the collection: ${messageOf(err)}`));
