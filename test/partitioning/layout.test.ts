/**
 * The modules of `src/partitioning` import one another in one direction only
 * (issue 14), and nothing above them: the collection, views, indexes and the
 * command line build on partitionings, never the other way round.
 */

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

const folder = join(import.meta.dirname, "../../src/partitioning");
const modules = readdirSync(folder).filter((f) => f.endsWith(".ts"));

/** The modules a module imports, types included, as written after `from`. */
function imports(file: string): string[] {
  const text = readFileSync(join(folder, file), "utf8");
  return [...text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)"/gms)].map((m) => m[1] as string);
}

describe("src/partitioning layout", () => {
  it("has no import cycle", () => {
    const graph = new Map(
      modules.map((m) => [
        m,
        imports(m)
          .filter((s) => s.startsWith("./"))
          .map((s) => s.slice(2).replace(/\.js$/, ".ts")),
      ]),
    );
    const done = new Set<string>();
    const visit = (m: string, path: string[]): void => {
      if (path.includes(m)) assert.fail(`import cycle: ${[...path.slice(path.indexOf(m)), m].join(" → ")}`);
      if (done.has(m)) return;
      for (const next of graph.get(m) ?? []) {
        assert.ok(graph.has(next), `${m} imports ${next}, which does not exist`);
        visit(next, [...path, m]);
      }
      done.add(m);
    };
    for (const m of modules) visit(m, []);
  });

  it("imports nothing from the layers built on it", () => {
    for (const m of modules) {
      for (const s of imports(m)) {
        assert.doesNotMatch(
          s,
          /^\.\.\/(collection|view|indexing|cli|viewer|executor)\//,
          `${m} imports ${s}`,
        );
      }
    }
  });

  it("keeps the contract free of the partitionings it describes", () => {
    assert.deepEqual(
      imports("partitioning.ts").filter((s) => s.startsWith("./")),
      [],
    );
  });
});
