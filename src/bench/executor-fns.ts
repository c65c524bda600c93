/**
 * The user functions of the executor benchmark (./executor.ts), named as
 * `{ module, export }` so that BullMQ workers can import them.
 *
 * @module
 */

import type { Dataset } from "../data/dataset.js";

/** `update`: adds 1 to every value of `ssh`, in place. */
export function addOne(ds: Dataset): Dataset {
  const ssh = ds.getVariable("ssh").array.data as Float32Array;
  for (let i = 0; i < ssh.length; i++) ssh[i] = (ssh[i] as number) + 1;
  return ds;
}

/** `map`: nothing (measures the cost of a task itself). */
export function nothing(): null {
  return null;
}
