/**
 * The reporter of `npm test`: node's `spec` reporter (one line per test,
 * a failure in full where it happens and again at the end), closed by one
 * line a person or a script can read at a glance —
 * `799 passed, 0 failed, 9 skipped in 275.0 s`, printed after the
 * failures so that the last line of the run says how it went. "failed"
 * counts every test that did not pass (the runner's `fail` and
 * `cancelled`); suites are not counted, like in the runner's summary.
 *
 * It writes to stdout itself, synchronously, event by event, instead of
 * yielding text, and counts the tests itself: with `--test-force-exit` the
 * runner exits as soon as its event stream closes, before its last events
 * (its own `ℹ` summary) and any text in flight through a reporter's
 * pipeline reach stdout. What is left then — the list of failing tests and
 * the last line — is written from the process's `exit` event.
 *
 * JavaScript, not TypeScript: Node 20 loads reporters without the loader
 * hooks of `--import tsx`.
 */

import { writeSync } from "node:fs";
import { spec } from "node:test/reporters";

/** @param {string} text */
function write(text) {
  if (text.length > 0) writeSync(1, text);
}

/**
 * The text `spec` gives for one call of its transform or flush step, taken
 * synchronously (both answer through their callback before returning).
 *
 * @param {(done: (error: unknown, text?: string) => void) => void} step
 */
function textOf(step) {
  let out = "";
  step((_error, text) => {
    out = text ?? "";
  });
  return out;
}

/**
 * @param {AsyncIterable<import("node:test/reporters").TestEvent>} source
 * @returns {AsyncGenerator<string>}
 */
export default async function* reporter(source) {
  const started = performance.now();
  const formatter = new spec();
  const counts = { passed: 0, failed: 0, skipped: 0, todo: 0 };
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    const others = /** @type {const} */ (["skipped", "todo"])
      .filter((name) => counts[name] > 0)
      .map((name) => `, ${counts[name]} ${name}`)
      .join("");
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    write(textOf((done) => formatter._flush(done)));
    write(`\n${counts.passed} passed, ${counts.failed} failed${others} in ${seconds} s\n`);
  };
  process.once("exit", finish);
  for await (const event of source) {
    if ((event.type === "test:pass" || event.type === "test:fail") && event.data.details.type !== "suite") {
      const { skip, todo } = event.data;
      if (skip !== undefined && skip !== false) counts.skipped++;
      else if (todo !== undefined && todo !== false) counts.todo++;
      else if (event.type === "test:pass") counts.passed++;
      else counts.failed++;
    }
    write(textOf((done) => formatter._transform(event, "utf8", done)));
  }
  finish();
}
