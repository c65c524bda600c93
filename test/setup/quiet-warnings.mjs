/**
 * Preloaded into every test process by the `test` script of package.json
 * (`--import`): drops the process warnings the tests are known to cause,
 * so that a warning printed during `npm test` is one worth reading. Node 20
 * has no `--disable-warning` (Node ≥ 21), hence a filter in front of Node's
 * own warning printer.
 *
 * - `ExperimentalWarning: WASI …`: the WASI build of `@earthmover/icechunk`,
 *   loaded by every test that opens an Icechunk store.
 * - `ExperimentalWarning: The MockTimers API …`: `mock.timers` of
 *   `node:test`, used by test/zarr/buffers.test.ts.
 * - `IcechunkNote` (code `ZCOLLECTION_ICECHUNK_WASI`): our one-line
 *   replacement of the WASI warning (src/util/wasi-note.ts), emitted once
 *   by each test process that opens an Icechunk store where the native
 *   binding cannot load.
 * - The AWS SDK's `NodeVersionSupportWarning` (it will require Node ≥ 22 in
 *   2027): turned off at its source by the SDK's own variable, which the
 *   child processes the tests start inherit.
 *
 * JavaScript, not TypeScript: worker threads (the codec pool, Icechunk's
 * WASI threads) inherit this `--import` without the loader hooks of tsx.
 */

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

/** @param {Error} warning */
function expected(warning) {
  return (
    (warning.name === "ExperimentalWarning" &&
      (warning.message.startsWith("WASI") || warning.message.startsWith("The MockTimers API"))) ||
    /** @type {{ code?: string }} */ (warning).code === "ZCOLLECTION_ICECHUNK_WASI"
  );
}

const printers = process.listeners("warning");
process.removeAllListeners("warning");
process.on("warning", (warning) => {
  if (expected(warning)) return;
  for (const print of printers) print.call(process, warning);
});
