/**
 * Naming user functions so that another process can run them
 * ({@link FunctionRef}), and loading them there.
 *
 * @module
 */

import type { FunctionRef, Json } from "./api.js";

/** Whether `value` is a {@link FunctionRef}. */
export function isFunctionRef(value: unknown): value is FunctionRef {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as FunctionRef).module === "string" &&
    typeof (value as FunctionRef).export === "string"
  );
}

/**
 * `ref` with a relative module specifier (`./x.mjs`, `../x.mjs`) or an
 * absolute path turned into a `file://` URL — resolved against the current
 * directory of this process, the one planning the operation.
 *
 * @throws TypeError when `ref` is not a FunctionRef.
 */
export function normalizeFunctionRef(ref: FunctionRef): FunctionRef {
  if (!isFunctionRef(ref)) {
    throw new TypeError(
      "a function run by an executor must be named as { module, export } (functions cannot be sent to workers)",
    );
  }
  const spec = ref.module;
  if (!/^\.{1,2}\//.test(spec) && !spec.startsWith("/")) return ref;
  const proc = (globalThis as { process?: { cwd?: () => string } }).process;
  const cwd = proc?.cwd?.() ?? "/";
  const base = new URL(`file://${cwd.endsWith("/") ? cwd : `${cwd}/`}`);
  return { ...ref, module: new URL(spec, base).href };
}

const LOADED = new Map<string, unknown>();

/**
 * Imports the function `ref` names (cached per process).
 *
 * @throws TypeError naming the module and export when the export is not a
 *   function (or, with `args`, does not return one); the import's error
 *   when the module cannot be loaded.
 */
export async function loadFunction<F extends (...args: never[]) => unknown>(ref: FunctionRef): Promise<F> {
  const key = JSON.stringify([ref.module, ref.export, ref.args ?? null]);
  const cached = LOADED.get(key);
  if (cached !== undefined) return cached as F;
  const module = (await import(ref.module)) as Record<string, unknown>;
  let fn = module[ref.export];
  if (typeof fn !== "function") {
    throw new TypeError(`'${ref.export}' exported by '${ref.module}' is not a function`);
  }
  if (ref.args !== undefined) {
    fn = (fn as (...a: Json[]) => unknown)(...(ref.args as Json[]));
    if (typeof fn !== "function") {
      throw new TypeError(
        `'${ref.export}' of '${ref.module}' called with its args did not return a function`,
      );
    }
  }
  LOADED.set(key, fn);
  return fn as F;
}
