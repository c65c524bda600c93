/**
 * Child process of the crash test: inserts a large dataset into a file://
 * collection and reports progress on stdout ("progress <done>/<total>"), so
 * that the parent can SIGKILL it in the middle of the insert.
 *
 * Usage: node --import tsx test/helpers/crash-insert.ts <dir> [--create]
 */
import { createCollection, openCollection } from "../../src/collection/index.js";
import * as partitioning from "../../src/partitioning/index.js";
import { crashDataset, crashSchema } from "./crash-data.js";

const [dir, flag] = process.argv.slice(2);
if (dir === undefined) throw new Error("usage: crash-insert.ts <dir> [--create]");
const url = `file://${dir}`;
const collection =
  flag === "--create"
    ? await createCollection(url, {
        schema: crashSchema(),
        axis: "time",
        partitioning: new partitioning.Date("time", { resolution: "D" }),
      })
    : await openCollection(url, { mode: "rw" });
process.stdout.write("started\n");
await collection.insert(crashDataset(), {
  onProgress: (p) => process.stdout.write(`progress ${p.done}/${p.total}\n`),
});
process.stdout.write("done\n");
process.exit(0);
