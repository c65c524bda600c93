// User functions run by executors in the tests: named as { module, export } since functions cannot travel
// to worker processes. They use only the Dataset/NDArray methods (no import), so that they work with the
// library's source (in-process tests) and its build (workers).

/** map: the rows of the partition, a checksum of `lon`, and the process that ran it. */
export function summary(ds, partition) {
  const lon = ds.getVariable("lon").array.data;
  let sum = 0;
  for (const v of lon) if (!Number.isNaN(v)) sum += v;
  return { partition, rows: lon.length, sum, pid: process.pid };
}

/** update: adds 1 to `lon`, in place. */
export function addOne(ds) {
  const lon = ds.getVariable("lon").array.data;
  for (let i = 0; i < lon.length; i++) lon[i] += 1;
  return ds;
}

/** update: fails for the partition of minute 10, slowly enough for the others to run first. */
export async function failOnMinute10(ds, partition) {
  if (partition.endsWith("minute=10")) {
    await new Promise((r) => setTimeout(r, 200));
    throw new RangeError(`bad partition on purpose: ${partition}`);
  }
  return addOne(ds);
}

/** update: addOne after a pause (gives time to kill a worker mid-run). */
export async function slowAddOne(ds) {
  await new Promise((r) => setTimeout(r, 150));
  return addOne(ds);
}

/** View.update: `lon` rounded to the degree, as int16. */
export function lonDegrees(ds) {
  const lon = ds.getVariable("lon").array.data;
  return { lon_deg: Int16Array.from(lon, (v) => (Number.isNaN(v) ? -32768 : Math.round(v))) };
}

/** update: adds 1 to `v` (the generated time-series collections), after `ms` of pause when given as `pause`. */
export async function addOneToV(ds) {
  const v = ds.getVariable("v").array.data;
  for (let i = 0; i < v.length; i++) v[i] += 1;
  return ds;
}

/** update: addOneToV after a pause (gives time to kill a worker, or to commit elsewhere, mid-run). */
export async function slowAddOneToV(ds) {
  await new Promise((r) => setTimeout(r, 300));
  return addOneToV(ds);
}

/** update: fails for the partition of hour 10, after the others had time to run. */
export async function failOnHour10V(ds, partition) {
  if (partition.endsWith("hour=10")) {
    await new Promise((r) => setTimeout(r, 300));
    throw new RangeError(`bad partition on purpose: ${partition}`);
  }
  return addOneToV(ds);
}

/** update factory: addOneToV once the file `flag` exists (lets a test act while every task waits). */
export function addOneToVAfter(flag) {
  return async (ds) => {
    const { existsSync } = await import("node:fs");
    while (!existsSync(flag)) await new Promise((r) => setTimeout(r, 50));
    return addOneToV(ds);
  };
}
