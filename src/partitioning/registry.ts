/**
 * The registry of built-in partitionings by the `name` of their JSON
 * descriptor (docs/format.md §3.6, docs/behaviour.md §6.6), and {@link fromJSON}.
 *
 * @module
 */

import { PartitionError } from "../errors.js";
import { DatePartitioning } from "./date.js";
import { GroupedSequence } from "./grouped-sequence.js";
import { pyStr } from "./keys.js";
import type { Partitioning, Resolution } from "./partitioning.js";
import { Sequence } from "./sequence.js";

type Descriptor = Record<string, unknown>;

/**
 * A field of a descriptor, checked.
 *
 * @throws PartitionError naming the partitioning and the field.
 */
function field<T>(j: Descriptor, name: string, check: (v: unknown) => v is T, expected: string): T {
  const v = j[name];
  if (!check(v)) {
    throw new PartitionError(
      `invalid ${String(j.name)} partitioning descriptor: ${pyStr(name)} must be ${expected}; got ${JSON.stringify(v) ?? "nothing"}`,
    );
  }
  return v;
}

const isString = (v: unknown): v is string => typeof v === "string";
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isInteger = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v);

/** How each built-in partitioning is rebuilt from its descriptor, by `name`. */
const PARTITIONINGS: Readonly<Record<string, (j: Descriptor) => Partitioning>> = {
  date: (j) => {
    const dimension = j.dimension;
    if (dimension !== undefined && dimension !== null && typeof dimension !== "string") {
      field(j, "dimension", isString, "a string or null");
    }
    return new DatePartitioning(field(j, "variable", isString, "a string"), {
      resolution: field(j, "resolution", isString, "a string") as Resolution,
      dimension: typeof dimension === "string" ? dimension : undefined,
    });
  },
  sequence: (j) =>
    new Sequence(field(j, "variables", isStringArray, "an array of strings"), {
      dimension: field(j, "dimension", isString, "a string"),
    }),
  "grouped-sequence": (j) =>
    new GroupedSequence(field(j, "variables", isStringArray, "an array of strings"), {
      dimension: field(j, "dimension", isString, "a string"),
      size: field(j, "size", isInteger, "an integer"),
      start: j.start === undefined || j.start === null ? 0 : field(j, "start", isInteger, "an integer"),
    }),
};

/**
 * Rebuilds a partitioning from its JSON descriptor (docs/format.md §3.6): `date`
 * needs `variable` and `resolution` (`dimension` missing or null → the
 * variable); `sequence` needs `variables` and `dimension`;
 * `grouped-sequence` also needs `size` (`start` defaults to 0).
 *
 * @throws PartitionError naming the partitioning for an unknown `name`
 *   (Python raises ValueError), or naming the field that is missing or of
 *   the wrong type.
 */
export function fromJSON(j: unknown): Partitioning {
  if (typeof j !== "object" || j === null || Array.isArray(j)) {
    throw new PartitionError(
      `invalid partitioning descriptor: expected an object; got ${JSON.stringify(j) ?? String(j)}`,
    );
  }
  const descriptor = j as Descriptor;
  const name = descriptor.name;
  const build =
    typeof name === "string" && Object.hasOwn(PARTITIONINGS, name) ? PARTITIONINGS[name] : undefined;
  if (build === undefined) {
    const shown = typeof name === "string" ? pyStr(name) : (JSON.stringify(name) ?? "(no name)");
    throw new PartitionError(`unknown partitioning ${shown}`);
  }
  return build(descriptor);
}
