/**
 * Runtime detection and lazy loading of Node-only modules.
 *
 * Nothing here imports a Node module statically: `node:module`, `node:zlib`
 * (gzip, and zstd on Node ≥ 22.15), `zstd-napi` and the worker pool are
 * loaded on first use, and only when
 * running under Node, through {@link importNodeOnly} whose computed specifier
 * bundlers do not follow. A browser bundle importing the compression module
 * therefore neither includes nor evaluates them and uses the WebAssembly /
 * pure JavaScript fallbacks (numcodecs zstd and blosc, fflate gzip, our own
 * CRC-32C) on the calling thread.
 *
 * @module
 */

/** Whether the code runs under Node.js (worker threads and node:zlib available; native zstd on Node ≥ 22.15 or with zstd-napi). */
export const IS_NODE: boolean = (() => {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === "string";
})();

/**
 * `import(specifier)` hidden from bundlers (computed specifier, ignore hints),
 * for Node-only modules. Relative specifiers resolve against this directory.
 */
export function importNodeOnly<T>(specifier: string): Promise<T> {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier) as Promise<T>;
}

type RequireFn = (id: string) => unknown;
let requireFn: Promise<RequireFn | null> | undefined;

/** A CommonJS `require` relative to this module, or `null` outside Node. */
export function nodeRequire(): Promise<RequireFn | null> {
  requireFn ??= (async () => {
    if (!IS_NODE) return null;
    try {
      const mod = await importNodeOnly<typeof import("node:module")>("node:module");
      return mod.createRequire(import.meta.url) as RequireFn;
    } catch {
      return null;
    }
  })();
  return requireFn;
}
