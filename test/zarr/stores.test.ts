import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { IcechunkStore } from "../../src/store/icechunk.js";
import { LocalStore } from "../../src/store/local.js";
import { ObjectStore } from "../../src/store/s3.js";
import type { Store } from "../../src/store/store.js";
import { mapConcurrent } from "../../src/util/concurrency.js";
import { type MotoServer, startMoto } from "../helpers/moto.js";
import { roundTripCases, runRoundTrip } from "../helpers/zarr-cases.js";

// The round trips of test/zarr/roundtrip.test.ts (every dtype x {unsharded, sharded} x {bytes, zstd, gzip,
// blosc, crc32c}, partial chunks and shards, all-fill chunks, NaN / int64-min / NaT fills) over the
// persistent backends. Cases run concurrently within a backend: each case has its own array path.

const cases = roundTripCases();

async function runAll(store: Store, concurrency: number, wrap?: (fn: () => Promise<void>) => Promise<void>) {
  await mapConcurrent(cases, concurrency, async (c, i) => {
    const run = () => runRoundTrip(store, `case${i}/arr`, c);
    try {
      await (wrap ? wrap(run) : run());
    } catch (err) {
      throw new Error(`${c.name}: ${(err as Error).message}`, { cause: err });
    }
  });
}

describe("Zarr round trips on persistent stores", { timeout: 180_000 }, () => {
  const dirs: string[] = [];
  let moto: MotoServer | undefined;
  before(async () => {
    moto = await startMoto({ bucket: "zarr-roundtrip" });
  });
  after(async () => {
    await moto?.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it(`file:// (${cases.length} cases)`, async () => {
    const dir = await mkdtemp(join(tmpdir(), "zc-zarr-file-"));
    dirs.push(dir);
    await runAll(new LocalStore(dir), 8);
  });

  it(`s3:// on a local moto server (${cases.length} cases)`, async () => {
    const server = moto as MotoServer;
    const store = new ObjectStore(`s3://${server.bucket}/roundtrip`, {
      storageOptions: server.storageOptions,
    });
    await runAll(store, 16);
  });

  it(`icechunk:// (${cases.length} cases, one commit each)`, async () => {
    const dir = await mkdtemp(join(tmpdir(), "zc-zarr-icechunk-"));
    dirs.push(dir);
    const store = await IcechunkStore.open(join(dir, "repo"));
    await runAll(store, 1, (fn) => store.session(fn));
    // A fresh handle reads what was committed.
    const reopened = await IcechunkStore.open(join(dir, "repo"), { readOnly: true });
    await mapConcurrent(cases.slice(0, 20), 4, async (c, i) => {
      const { readArray } = await import("../../src/zarr/index.js");
      const { canonicalSha256 } = await import("../helpers/zarr-cases.js");
      const a = await readArray(reopened, `case${i}/arr`);
      if (canonicalSha256(a) !== canonicalSha256(c.data))
        throw new Error(`${c.name}: values differ after reopen`);
    });
  });
});
