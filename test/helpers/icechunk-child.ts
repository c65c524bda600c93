/**
 * Child process of test/store/icechunk.test.ts: opens the Icechunk store at
 * argv[2], reads the key argv[3], writes argv[5] (text) at argv[4] (one
 * auto-commit), and prints `{ seen, snapshotId }` as JSON on stdout.
 *
 * Usage: node --import tsx test/helpers/icechunk-child.ts <dir> <readKey> <writeKey> <text>
 */
import { IcechunkStore } from "../../src/store/icechunk.js";

const [dir, readKey, writeKey, text] = process.argv.slice(2);
if (dir === undefined || readKey === undefined || writeKey === undefined || text === undefined) {
  process.stderr.write("usage: icechunk-child.ts <dir> <readKey> <writeKey> <text>\n");
  process.exit(1);
}
try {
  const store = await IcechunkStore.open(dir);
  const seen = await store.readBytes(readKey);
  await store.writeBytes(writeKey, new TextEncoder().encode(text));
  await store.close();
  const result = {
    seen: seen === undefined ? null : new TextDecoder().decode(seen),
    snapshotId: store.snapshotId,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  // Custom storage keeps the event loop alive: exit explicitly.
  process.exit(0);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(2);
}
