/**
 * The collection card: what the collection is (title, axis, partitioning,
 * number of partitions, sizes) and its schema (dimensions; variables with
 * dtypes, dimensions, units and codecs).
 *
 * @module
 */

import type { CodecStack } from "../codecs/index.js";
import type { Collection } from "../collection/collection.js";
import { itemSize } from "../dtype.js";
import type { DatasetSchema, VariableSchema } from "../schema/index.js";
import { formatBytes, h } from "./dom.js";
import type { ServeInfo } from "./source.js";

/** `zstd(3) + crc32c, sharded`: the codec chain of a variable in one line. */
export function codecSummary(stack: CodecStack): string {
  const names = [...stack.arrayToArray, ...stack.bytesToBytes].map((c) => {
    const level = c.configuration?.level ?? c.configuration?.clevel;
    return typeof level === "number" ? `${c.name}(${level})` : c.name;
  });
  const text = names.length === 0 ? "none" : names.join(" + ");
  return stack.sharded ? `${text}, sharded` : text;
}

/** Decoded bytes of one row of the variables along `dim` (fixed other dimensions only). */
export function rowBytes(schema: DatasetSchema, dim: string): number {
  const sizes = new Map<string, number | null>();
  for (const [, g] of schema.walk()) for (const d of g.dimensions.values()) sizes.set(d.name, d.size);
  let total = 0;
  for (const v of schema.allVariables().values()) {
    if (v.dimensions[0] !== dim) continue;
    let n = itemSize(v.dtype);
    for (const d of v.dimensions.slice(1)) n *= sizes.get(d) ?? 1;
    total += n;
  }
  return total;
}

function title(schema: DatasetSchema, url: string): string {
  for (const key of ["title", "mission_name", "platform", "title_short_name"]) {
    const v = schema.attrs[key];
    if (typeof v === "string" && v.trim() !== "") return v.trim();
  }
  return url.replace(/\/+$/, "").split("/").pop() ?? url;
}

function describePartitioning(collection: Collection): string {
  const j = collection.partitioning.toJSON() as unknown as Record<string, unknown>;
  const vars = Array.isArray(j.variables) ? j.variables.join(", ") : String(j.variable ?? "");
  const extra = typeof j.resolution === "string" ? `, resolution ${j.resolution}` : "";
  return `${collection.partitioning.name} (${vars}${extra}) along ${collection.dimension}`;
}

function variableRow(path: string, v: VariableSchema): HTMLTableRowElement {
  const units = v.attrs.units;
  return h(
    "tr",
    {},
    h("td", { class: "mono" }, path),
    h("td", { class: "mono" }, v.dtype),
    h("td", { class: "mono" }, `(${v.dimensions.join(", ")})`),
    h("td", {}, typeof units === "string" ? units : ""),
    h("td", { class: "mono" }, codecSummary(v.codecs)),
  );
}

/**
 * The card of `collection`: facts, dimensions and variables. `partitions`
 * is the number of partitions (listed once at open).
 */
export function renderCard(
  collection: Collection,
  opts: { url: string; partitions: number; info: ServeInfo | null },
): HTMLElement {
  const schema = collection.schema;
  const vars = [...schema.allVariables()];
  const dims = [...schema.walk()].flatMap(([, g]) => [...g.dimensions.values()]);
  const stored = opts.info?.stored;
  const fact = (name: string, value: string, id?: string) =>
    h("div", { class: "fact" }, h("dt", {}, name), h("dd", id === undefined ? {} : { id }, value));
  return h(
    "section",
    { id: "card", class: "card" },
    h("h2", { id: "card-title" }, title(schema, opts.url)),
    h(
      "dl",
      { class: "facts" },
      fact("URL", opts.url),
      fact("axis", `${collection.axis} (dimension ${collection.dimension})`),
      fact("partitioning", describePartitioning(collection)),
      fact("partitions", String(opts.partitions), "card-partitions"),
      fact("catalog", collection.catalogEnabled ? "yes (listing = one GET)" : "no (listing walks the store)"),
      fact("stored", stored ? `${formatBytes(stored.bytes)} in ${stored.files} files` : "unknown over HTTP"),
      fact("row size", `${formatBytes(rowBytes(schema, collection.dimension))} decoded`),
    ),
    h(
      "details",
      { class: "schema" },
      h("summary", {}, `schema: ${dims.length} dimensions, ${vars.length} variables`),
      h(
        "table",
        { class: "dims" },
        h("thead", {}, h("tr", {}, h("th", {}, "dimension"), h("th", {}, "size"), h("th", {}, "chunks"))),
        h(
          "tbody",
          {},
          ...dims.map((d) =>
            h(
              "tr",
              {},
              h("td", { class: "mono" }, d.name),
              h("td", {}, d.size === null ? "unbounded" : String(d.size)),
              h("td", {}, d.chunks === null ? "whole" : String(d.chunks)),
            ),
          ),
        ),
      ),
      h(
        "table",
        { class: "vars", id: "card-variables" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", {}, "variable"),
            h("th", {}, "dtype"),
            h("th", {}, "dimensions"),
            h("th", {}, "units"),
            h("th", {}, "codecs"),
          ),
        ),
        h("tbody", {}, ...vars.map(([p, v]) => variableRow(p, v))),
      ),
    ),
  );
}
