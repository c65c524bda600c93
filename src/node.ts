/**
 * Node-only entry point (`zcollection/node`): everything of the package root
 * plus the backends that need Node.js modules at import time
 * ({@link IcechunkStore}). `openStore("icechunk://...")` works from the root
 * import as well; this entry exists for code that names the class.
 *
 * @module
 */

export * from "./index.js";
// The class itself (the root exports a lazily loading `IcechunkStore.open`).
export { IcechunkStore } from "./store/icechunk.js";
// Which zstd implementation encodes and decodes here (node:zlib, zstd-napi or
// WebAssembly): for logs and benchmarks; `ZCOLLECTION_ZSTD` forces one.
export {
  workerZstdBackendName,
  type ZstdBackendName,
  zstdBackendName,
} from "./zarr/compression/index.js";
