import { describe, it } from "node:test";
import { MemoryStore } from "../../src/store/memory.js";
import { roundTripCases, runRoundTrip } from "../helpers/zarr-cases.js";

describe("writeArray/readArray round trips on memory://", () => {
  const store = new MemoryStore();
  roundTripCases().forEach((c, i) => {
    it(c.name, async () => {
      await runRoundTrip(store, `case${i}/arr`, c);
    });
  });
});
