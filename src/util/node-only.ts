/**
 * Loading Node-only modules without bundlers following them.
 *
 * @module
 */

/**
 * `import(specifier)` hidden from bundlers (computed specifier, ignore
 * hints), for Node-only modules (`node:fs/promises`, the Icechunk backend),
 * so that a browser bundle of the package root neither includes nor
 * evaluates them. Pass absolute URLs for the project's own modules
 * (`new URL("./icechunk.js", import.meta.url).href`); bare specifiers
 * resolve as usual.
 */
export function importNodeOnly<T>(specifier: string): Promise<T> {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier) as Promise<T>;
}
