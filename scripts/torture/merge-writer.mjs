// One of several writers upserting into the same partition (day 0) at once:
//   node scripts/torture/merge-writer.mjs '{"url":…,"writer":w,"rows":R,"storageOptions":…}'
// Writer w adds the odd slots 2w+3, 2w+11, … (its own) and slot 1 (shared by all),
// with values `(10 + w) * 1e6 + slot * WIDTH + column`.
// Prints "done" (exit 0) or "error <class> <message>" (exit 2).
import { Dataset, merge, NDArray, openCollection } from "../../dist/index.js";
import { dayStart, schema, WIDTH } from "./data.mjs";

const { url, writer, rows, storageOptions } = JSON.parse(process.argv[2]);
try {
  const slots = [1];
  for (let s = 2 * writer + 3; s < 2 * rows; s += 8) slots.push(s);
  const time = new BigInt64Array(slots.length);
  const values = new Float32Array(slots.length * WIDTH);
  slots.forEach((s, i) => {
    time[i] = dayStart(0) + BigInt(s) * 1000n;
    for (let c = 0; c < WIDTH; c++) values[i * WIDTH + c] = (10 + writer) * 1e6 + s * WIDTH + c;
  });
  const ds = Dataset.fromArrays(schema(), {
    time: NDArray.from(time, { dtype: "datetime64[ms]" }),
    values: NDArray.from(values, { shape: [slots.length, WIDTH] }),
  });
  const col = await openCollection(url, { mode: "rw", ...(storageOptions ? { storageOptions } : {}) });
  await col.insert(ds, { merge: merge.upsert });
  process.stdout.write("done\n");
  process.exit(0);
} catch (err) {
  process.stdout.write(`error ${err?.name ?? "Error"} ${String(err?.message ?? err).split("\n")[0]}\n`);
  process.exit(2);
}
