/**
 * The plumbing of `Collection` operations run on an executor: opening the
 * executor an `executor` option names, and the variable list sent with
 * the tasks.
 *
 * @module
 */

import { SchemaError } from "../errors.js";
import type { Executor, ExecutorOption } from "../executor/api.js";

/** Runs `fn` with the executor `option` names (in-process by default), closing it when opened here. */
export async function withExecutor<R>(
  option: ExecutorOption | undefined,
  fn: (executor: Executor) => Promise<R>,
): Promise<R> {
  const { resolveExecutor } = await import("../executor/resolve.js");
  const { executor, owned } = await resolveExecutor(option ?? "in-process");
  try {
    return await fn(executor);
  } finally {
    if (owned) await executor.close();
  }
}

/**
 * The `variables` option as the list of names sent with the tasks (`undefined`: all).
 *
 * @throws SchemaError for a string (a name, not a list of names).
 */
export function variableList(variables: Iterable<string> | undefined): string[] | undefined {
  if (variables === undefined) return undefined;
  if (typeof variables === "string") {
    throw new SchemaError(`variables must be an array of names, not the string '${variables}'`);
  }
  return [...variables];
}
