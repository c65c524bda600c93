/**
 * Child process of the view safety tests: opens the view at <dir> (its base
 * resolved from the recorded reference) and sets the overlay variable
 * <variable> to the constant <value> in every partition, one partition at a
 * time with a pause in the update function, reporting "progress <done>/<total>"
 * on stdout so that the parent can SIGKILL it mid-update.
 *
 * Usage: node --import tsx test/helpers/view-update-child.ts <dir> <ssh_corrected|flag> <value> [<pause ms>]
 */
import * as config from "../../src/config.js";
import { NDArray } from "../../src/ndarray.js";
import { View } from "../../src/view/index.js";

const [dir, variable, value, pause] = process.argv.slice(2);
if (dir === undefined || variable === undefined || value === undefined) {
  throw new Error("usage: view-update-child.ts <dir> <variable> <value> [<pause ms>]");
}
config.set({ "partition.concurrency": 2 });
const view = await View.open(dir);
process.stdout.write("started\n");
await view.update(
  async (ds) => {
    await new Promise((r) => setTimeout(r, Number(pause ?? 30)));
    const rows = ds.dimensions.time as number;
    const shape = variable === "flag" ? [rows] : [rows, ds.dimensions.x_ac as number];
    return { [variable]: NDArray.full(variable === "flag" ? "int8" : "float32", shape, Number(value)) };
  },
  { onProgress: (p) => process.stdout.write(`progress ${p.done}/${p.total}\n`) },
);
process.stdout.write("done\n");
process.exit(0);
