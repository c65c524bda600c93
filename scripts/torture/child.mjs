// One writer of the torture campaign, run in its own process so that it can
// be killed at any instant:
//   node scripts/torture/child.mjs '<json>'
// with {url, version: "A"|"B"|"U", days: [..], rows, merge?: "upsert", storageOptions?}.
// Prints "ready" just before the insert starts, then "done <paths>" or
// "error <class> <message>" (exit 2).
import { merge as merges, openCollection } from "../../dist/index.js";
import { dataset } from "./data.mjs";

const args = JSON.parse(process.argv[2]);
try {
  const collection = await openCollection(args.url, {
    mode: "rw",
    ...(args.storageOptions ? { storageOptions: args.storageOptions } : {}),
  });
  const ds = dataset(args.version, args.days, args.rows);
  process.stdout.write("ready\n");
  const paths = await collection.insert(ds, args.merge === "upsert" ? { merge: merges.upsert } : {});
  process.stdout.write(`done ${paths.join(",")}\n`);
  process.exit(0);
} catch (err) {
  process.stdout.write(`error ${err?.name ?? "Error"} ${String(err?.message ?? err).split("\n")[0]}\n`);
  process.exit(2);
}
