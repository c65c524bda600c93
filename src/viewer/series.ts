/**
 * The time series of the chosen variable, with uPlot (canvas 2D, no
 * WebGL): fill values are gaps in the line, and so are jumps in time much
 * longer than the sampling step (between passes or days).
 *
 * @module
 */

import uPlot from "uplot";

/** Points of the series: x (seconds since 1970, or row numbers) ascending, y with `null` gaps. */
export interface SeriesPoints {
  readonly x: number[];
  readonly y: (number | null)[];
}

/**
 * Sorts the samples by time, drops those without a time, turns NaN values
 * into `null` and inserts a `null` where the time step exceeds 20 times the
 * median step. Without times, x is the row number.
 */
export function seriesPoints(time: Float64Array | null, values: Float64Array): SeriesPoints {
  const n = values.length;
  const order: number[] = [];
  for (let i = 0; i < n; i++) if (time === null || Number.isFinite(time[i])) order.push(i);
  const t = (i: number): number => (time === null ? i : (time[i] as number));
  let sorted = true;
  for (let k = 1; k < order.length && sorted; k++)
    sorted = t(order[k - 1] as number) <= t(order[k] as number);
  if (!sorted) order.sort((a, b) => t(a) - t(b));
  const steps: number[] = [];
  for (let k = 1; k < order.length; k++) steps.push(t(order[k] as number) - t(order[k - 1] as number));
  const median = [...steps].sort((a, b) => a - b)[Math.floor(steps.length / 2)] ?? 0;
  const x: number[] = [];
  const y: (number | null)[] = [];
  for (let k = 0; k < order.length; k++) {
    const i = order[k] as number;
    if (k > 0 && median > 0 && (steps[k - 1] as number) > 20 * median) {
      x.push((t(order[k - 1] as number) + t(i)) / 2);
      y.push(null);
    }
    const v = values[i] as number;
    x.push(t(i));
    y.push(Number.isNaN(v) ? null : v);
  }
  return { x, y };
}

/**
 * Draws the series into `target` (replacing what was there) and returns the
 * chart, to be destroyed before the next one.
 */
export function renderSeries(
  target: HTMLElement,
  points: SeriesPoints,
  opts: { width: number; height: number; label: string; axisLabel: string; timeAxis: boolean },
): uPlot {
  target.replaceChildren();
  return new uPlot(
    {
      width: opts.width,
      height: opts.height,
      scales: { x: { time: opts.timeAxis } },
      series: [
        {
          label: opts.timeAxis ? "time (UTC)" : "row",
          value: (_u, v) =>
            v === null ? "--" : opts.timeAxis ? new Date(v * 1000).toISOString().slice(0, 19) : String(v),
        },
        { label: opts.label, stroke: "#1f5fa8", width: 1.25, spanGaps: false, points: { size: 3 } },
      ],
      axes: [
        opts.timeAxis
          ? { values: (_u, splits) => splits.map((s) => new Date(s * 1000).toISOString().slice(11, 19)) }
          : {},
        { label: opts.axisLabel, size: 64 },
      ],
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      legend: { live: true },
    },
    [points.x, points.y],
    target,
  );
}
