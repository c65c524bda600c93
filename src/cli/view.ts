/**
 * `zcollection view create`: a view over a base collection, with overlay
 * variables declared on the command line.
 *
 * @module
 */

import { openCollection } from "../collection/index.js";
import { type DType, isDatetime, isDType, isFloatDType, isTimedelta } from "../dtype.js";
import { VariableSchema } from "../schema/index.js";
import { View } from "../view/index.js";
import { type CliIO, UsageError } from "./io.js";
import { displayUrl } from "./terms.js";

/** Options of {@link viewCreate}. */
export interface ViewCreateCliOptions {
  /** The base collection's URL. */
  base: string;
  /** `name:dtype[:dim,dim]` specifications. */
  variable: readonly string[];
  /** Replace a view already at the URL (its overlay data included). */
  overwrite?: boolean;
}

/**
 * Parses `name:dtype[:dim,dim]`. The dimensions default to the base's
 * partitioning dimension; the fill value is NaN for floats, NaT for
 * datetimes and timedeltas, none otherwise.
 *
 * @throws UsageError naming the specification and what is wrong in it.
 */
export function parseVariableSpec(spec: string, defaultDimension: string): VariableSchema {
  const parts = spec.split(":");
  const [name, dtype, dims] = parts;
  if (parts.length < 2 || parts.length > 3 || !name || !dtype) {
    throw new UsageError(`--variable '${spec}': expected name:dtype or name:dtype:dim,dim`);
  }
  if (!isDType(dtype)) {
    throw new UsageError(
      `--variable '${spec}': unknown dtype '${dtype}' (e.g. float32, float64, int8, int16, uint8, datetime64[ns], string)`,
    );
  }
  const dimensions =
    dims === undefined
      ? [defaultDimension]
      : dims
          .split(",")
          .map((d) => d.trim())
          .filter((d) => d !== "");
  if (dimensions.length === 0)
    throw new UsageError(`--variable '${spec}': no dimension after the second ':'`);
  return new VariableSchema(name, { dtype, dimensions, fillValue: defaultFill(dtype) });
}

function defaultFill(dtype: DType): number | bigint | null {
  if (isFloatDType(dtype)) return Number.NaN;
  if (isDatetime(dtype) || isTimedelta(dtype)) return -(2n ** 63n);
  return null;
}

/**
 * Creates the view at `url` over the collection at `opts.base` (opened
 * read-only; the view records its absolute URL) and prints a summary.
 *
 * @throws UsageError (exit 1) for a bad `--variable`; SchemaError (exit 2)
 *   for a name colliding with a base variable or an unknown dimension;
 *   CollectionExistsError (exit 2) when a view or collection exists at `url`.
 */
export async function viewCreate(url: string, opts: ViewCreateCliOptions, io: CliIO): Promise<number> {
  const base = await openCollection(opts.base, { mode: "r", ...(io.signal ? { signal: io.signal } : {}) });
  if (opts.variable.length === 0) throw new UsageError("view create needs at least one --variable");
  const variables = opts.variable.map((s) => parseVariableSpec(s, base.dimension));
  const view = await View.create(url, { base, variables, overwrite: opts.overwrite === true });
  io.stdout.write(
    `created view ${displayUrl(view.store.rootUri)} over ${displayUrl(base.store.rootUri)}: ` +
      `${variables.map((v) => `${v.name} ${v.dtype} (${v.dimensions.join(",")})`).join(", ")}\n`,
  );
  return 0;
}
