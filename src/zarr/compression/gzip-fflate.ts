/**
 * The two `fflate` functions the browser's gzip codec uses, re-exported so
 * that a dynamic import of this module bundles only them.
 *
 * @module
 */

export { gunzipSync, gzipSync } from "fflate";
