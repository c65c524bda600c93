/**
 * Child process of test/store/local-conditional.test.ts: races other
 * processes on one LocalStore directory through conditional writes.
 *
 * It prints `ready` on stdout, waits for the file `<dir>/<go>` to appear (the
 * start barrier, so that every child starts at once), then:
 *
 * - `increment <key> <n>`: `n` compare-and-swap increments of the decimal
 *   counter at `key`, each retried until it lands; prints `{ retries }`;
 * - `create <key> <text>`: one exclusive create of `key`; prints `{ won }`.
 *
 * Usage: node --import tsx test/helpers/local-cas-child.ts <dir> <go> increment <key> <n>
 *        node --import tsx test/helpers/local-cas-child.ts <dir> <go> create <key> <text>
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { LocalStore } from "../../src/store/local.js";

const [dir, go, mode, key, arg] = process.argv.slice(2);
if (dir === undefined || go === undefined || key === undefined || arg === undefined) {
  process.stderr.write("usage: local-cas-child.ts <dir> <go> increment|create <key> <n|text>\n");
  process.exit(1);
}
const store = new LocalStore(dir);
const encoder = new TextEncoder();
try {
  process.stdout.write("ready\n");
  while (!existsSync(join(dir, go))) await new Promise((r) => setTimeout(r, 2));
  if (mode === "increment") {
    let retries = 0;
    for (let i = 0; i < Number(arg); i++) {
      for (;;) {
        const current = await store.readVersioned(key);
        if (current === undefined) throw new Error(`the counter '${key}' is missing`);
        const next = Number(new TextDecoder().decode(current.data)) + 1;
        if ((await store.writeConditional(key, encoder.encode(String(next)), current.version)) !== undefined)
          break;
        retries += 1;
      }
    }
    process.stdout.write(`${JSON.stringify({ retries })}\n`);
  } else if (mode === "create") {
    const version = await store.writeConditional(key, encoder.encode(arg), null);
    process.stdout.write(`${JSON.stringify({ won: version !== undefined })}\n`);
  } else {
    throw new Error(`unknown mode '${mode}'`);
  }
  process.exit(0);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(2);
}
