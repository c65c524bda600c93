import { Dataset } from "../../src/data/index.js";
import { NDArray } from "../../src/ndarray.js";
import { type DatasetSchema, Schema } from "../../src/schema/index.js";

/** The two-level dataset of docs/behaviour.md §5.4: `time` int64[5], `/data_01/ku/power` float32[5,4], title='demo'. */
export function demoSchema(): DatasetSchema {
  return Schema()
    .withDimension("time", { chunks: 5 })
    .withDimension("x", { size: 4, group: "/data_01/ku" })
    .withVariable("time", { dtype: "int64", dimensions: ["time"] })
    .withVariable("power", {
      dtype: "float32",
      dimensions: ["time", "x"],
      group: "/data_01/ku",
      attrs: { units: "W" },
    })
    .withAttribute("title", "demo")
    .build();
}

export function demoDataset(): Dataset {
  return Dataset.fromArrays(demoSchema(), {
    time: new BigInt64Array([10n, 20n, 30n, 40n, 50n]),
    "/data_01/ku/power": NDArray.from(
      Float32Array.from({ length: 20 }, (_, i) => i),
      { shape: [5, 4] },
    ),
  });
}
