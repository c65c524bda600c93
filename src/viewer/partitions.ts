/**
 * The partition list and its filter box. The filter is the library's
 * partition filter language (`year == 2024 and month in (1, 2)`), compiled
 * with `compileFilter` and evaluated on every partition key; a syntax error
 * or an unknown key is shown under the box, and the list keeps the last
 * valid selection meanwhile.
 *
 * @module
 */

import type { Collection } from "../collection/collection.js";
import { compileFilter, type FilterKey, type FilterPredicate, keyToDict } from "../partitioning/index.js";
import { byId, h, messageOf } from "./dom.js";

/** Result of applying a filter expression to the partition paths. */
export type FilterOutcome =
  | { readonly ok: true; readonly expression: string; readonly paths: readonly string[] }
  | { readonly ok: false; readonly expression: string; readonly error: string };

/**
 * The paths among `paths` whose key satisfies `expression` (all of them for
 * an empty expression), or the error the library reports.
 */
export function applyFilter(
  collection: Collection,
  paths: readonly string[],
  expression: string,
): FilterOutcome {
  let keep: FilterPredicate;
  try {
    keep = compileFilter(expression.trim() === "" ? null : expression);
  } catch (err) {
    return { ok: false, expression, error: messageOf(err) };
  }
  try {
    const kept = paths.filter((p) => keep(keyToDict(collection.partitioning.decode(p)) as FilterKey));
    return { ok: true, expression, paths: kept };
  } catch (err) {
    return { ok: false, expression, error: messageOf(err) };
  }
}

/** Callbacks of the list. */
export interface PartitionListEvents {
  /** A partition was clicked. */
  select(path: string): void;
  /** "Plot the matching partitions" was pressed with a valid filter. */
  plotFiltered(expression: string, paths: readonly string[]): void;
}

/**
 * Renders the list of `paths` under the filter box (`#filter`, errors in
 * `#filter-error`, items in `#partition-list`), and wires the events.
 * Returns a function that marks the selected item.
 */
export function mountPartitionList(
  collection: Collection,
  paths: readonly string[],
  events: PartitionListEvents,
): (selected: string | null) => void {
  const input = byId<HTMLInputElement>("filter");
  const error = byId("filter-error");
  const list = byId("partition-list");
  const count = byId("partition-count");
  const plotAll = byId<HTMLButtonElement>("plot-filtered");
  let current: FilterOutcome = { ok: true, expression: "", paths };
  let selected: string | null = null;

  const draw = () => {
    if (!current.ok) {
      error.textContent = current.error;
      error.hidden = false;
      input.setAttribute("aria-invalid", "true");
      plotAll.disabled = true;
      return;
    }
    error.textContent = "";
    error.hidden = true;
    input.removeAttribute("aria-invalid");
    const shown = current.paths;
    count.textContent = `${shown.length} of ${paths.length}`;
    plotAll.disabled = shown.length === 0;
    list.replaceChildren(
      ...shown.map((p) =>
        h(
          "li",
          { "data-path": p, class: p === selected ? "selected" : undefined },
          h("button", { type: "button", onclick: () => events.select(p) }, p),
        ),
      ),
    );
  };

  input.addEventListener("input", () => {
    current = applyFilter(collection, paths, input.value);
    draw();
  });
  plotAll.addEventListener("click", () => {
    if (current.ok) events.plotFiltered(current.expression, current.paths);
  });
  draw();
  return (path) => {
    selected = path;
    for (const li of list.querySelectorAll("li")) li.classList.toggle("selected", li.dataset.path === path);
  };
}
