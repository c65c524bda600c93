/**
 * The rows `zcollection query` prints or exports: the wide layout (one row
 * per index of the partitioning dimension, N-D values as nested lists) or
 * the long layout of xarray's `Dataset.to_dataframe()` (one row per cell of
 * the dimensions the selected variables span, with a column per dimension).
 *
 * Long layout, for selected variables V and partitioning dimension P:
 *
 * - the dimensions are P, then every other dimension of V in order of first
 *   appearance (variable order, then each variable's dimension order);
 * - rows run over every combination of their indices, in C order (the last
 *   dimension varies fastest), partition after partition;
 * - the columns are one per dimension, then the variables of V that are not
 *   the coordinate of one of them. A dimension's column holds its coordinate
 *   — the 1-D variable named like it, e.g. `latitude(latitude)`, read even
 *   when not selected — or, without one, the index along it (int64; along P,
 *   the position in the result, counted across partitions);
 * - a variable lacking some of the dimensions repeats along them
 *   (broadcast), as `time` repeats over the cells of a grid; one missing
 *   from a partition is empty (`null`).
 *
 * Which layout ({@link planLayout}): `--long` asks for the long one,
 * `--no-long` for the wide one. Without either, the long layout is used
 * when the selection holds a variable that does not run along P (an
 * immutable coordinate such as `latitude`), or a variable with a dimension
 * that has a coordinate variable (gridded data: `adt(time, latitude,
 * longitude)`); otherwise the wide one, so along-track data (1-D along P)
 * and swaths without cross-track coordinates (`wind_speed(NUMROWS,
 * NUMCELLS)`) print as before. The binary exports (Parquet, Arrow) hold
 * flat columns only, so for them any variable with more dimensions than P
 * selects the long layout.
 *
 * Pure: plans from a schema and expands datasets already read.
 *
 * @module
 */

import { type Dataset, Variable } from "../data/index.js";
import { allocate, type DType } from "../dtype.js";
import { NDArray } from "../ndarray.js";
import { type DatasetSchema, VariableSchema } from "../schema/index.js";
import { UsageError } from "./io.js";

/** Rows of one long-layout slice, at most (bounds the memory of a partition's expansion). */
export const LONG_SLICE_ROWS = 65_536;

/** The dimension of the 1-D variables of a slice (a name no schema uses). */
const ROW_DIMENSION = "__row__";

/** Options of {@link planLayout}. */
export interface LayoutOptions {
  /** `true`: long layout (`--long`); `false`: wide (`--no-long`); absent: chosen from the selection. */
  long?: boolean;
  /** The output holds flat columns only (Parquet, Arrow): N-D variables need the long layout. */
  flat?: boolean;
  /** The output format, named in errors. */
  format?: string;
}

/** One dimension of a long layout. */
export interface LayoutDimension {
  /** Dimension name, also the column name. */
  readonly name: string;
  /** Path of its coordinate variable (1-D, named like the dimension), when the schema has one. */
  readonly coordinate: string | undefined;
}

/** What {@link planLayout} decides. */
export interface QueryLayout {
  /** Whether rows are the cells of {@link dimensions} (long) or the indices along the partitioning dimension (wide). */
  readonly long: boolean;
  /** Column names, in order: variable paths (wide), or the dimensions then the value variables (long). */
  readonly header: readonly string[];
  /** The dtype of each column of {@link header}. */
  readonly dtypes: readonly DType[];
  /** The variables to read (selected ones, plus the coordinates of the long layout's dimensions). */
  readonly read: readonly string[];
  /** Long layout: its dimensions, the partitioning one first; empty for the wide layout. */
  readonly dimensions: readonly LayoutDimension[];
  /**
   * The variables of the rows of `ds`, by column name, in slices of at most
   * {@link LONG_SLICE_ROWS} rows (long) or as one slice holding the
   * partition's variables (wide). Columns of a slice are 1-D (long) or
   * have the rows along their first axis (wide); a column missing from a
   * slice is empty. Called once per partition, in order (the long layout
   * counts rows along the partitioning dimension across calls).
   */
  slices(ds: Dataset): Iterable<ReadonlyMap<string, Variable>>;
}

function quoted(names: readonly string[]): string {
  return names.map((n) => `'${n}'`).join(", ");
}

/**
 * Chooses the layout of `selected` (variable paths, already checked to
 * exist in `schema`) and plans its columns (see the module notes).
 *
 * @throws UsageError when no selected variable runs along `dimension`; with
 *   `long: false`, when a selected variable does not run along it first, or
 *   (`flat`) has more dimensions; in the long layout, when a variable is
 *   named like a dimension without being its coordinate.
 */
export function planLayout(
  schema: DatasetSchema,
  dimension: string,
  selected: readonly string[],
  opts: LayoutOptions = {},
): QueryLayout {
  const all = schema.allVariables();
  const declared = (path: string): VariableSchema => {
    const vs = all.get(path);
    if (vs === undefined) throw new UsageError(`unknown variable '${path}'`);
    return vs;
  };
  const vars = selected.map(declared);
  const offAxis = selected.filter((_, i) => (vars[i] as VariableSchema).dimensions[0] !== dimension);
  if (selected.length > 0 && vars.every((v) => !v.dimensions.includes(dimension))) {
    throw new UsageError(
      `variable(s) ${quoted(offAxis)} do not run along the partitioning dimension '${dimension}': ` +
        "select at least one that does to print them beside it, one row per cell",
    );
  }
  const dims = [dimension];
  for (const v of vars) for (const d of v.dimensions) if (!dims.includes(d)) dims.push(d);
  const coordinateOf = (d: string): string | undefined => {
    const vs = all.get(d);
    return vs !== undefined && vs.dimensions.length === 1 && vs.dimensions[0] === d ? d : undefined;
  };
  const nd = selected.filter((_, i) => (vars[i] as VariableSchema).dimensions.length > 1);
  let long: boolean;
  if (opts.long === false) {
    if (offAxis.length > 0) {
      throw new UsageError(
        `variable(s) ${quoted(offAxis)} do not run along the partitioning dimension '${dimension}' and have ` +
          "no value per row; without --no-long they are printed in long format, one row per cell",
      );
    }
    if (opts.flat === true && nd.length > 0) {
      throw new UsageError(
        `--format ${opts.format ?? "parquet"} writes flat columns and variable(s) ${quoted(nd)} have more ` +
          `dimensions than '${dimension}': drop --no-long to write one row per cell`,
      );
    }
    long = false;
  } else {
    long =
      opts.long === true ||
      offAxis.length > 0 ||
      dims.slice(1).some((d) => coordinateOf(d) !== undefined) ||
      (opts.flat === true && dims.length > 1);
  }
  if (!long) {
    return {
      long,
      header: [...selected],
      dtypes: vars.map((v) => v.dtype),
      read: [...selected],
      dimensions: [],
      slices: (ds) => [ds.allVariables()],
    };
  }
  const dimensions = dims.map((name) => ({ name, coordinate: coordinateOf(name) }));
  const values = selected.filter((p) => !dimensions.some((d) => d.coordinate === p));
  const clash = values.filter((p) => dims.includes(p));
  if (clash.length > 0) {
    throw new UsageError(
      `variable(s) ${quoted(clash)} are named like a dimension without being its coordinate ` +
        "(1-D along it): their column would clash with the dimension's in long format; use --no-long",
    );
  }
  const coordinates = dimensions.flatMap((d) => (d.coordinate === undefined ? [] : [d.coordinate]));
  const read = [...new Set([...coordinates, ...values])];
  const header = [...dims, ...values];
  const dtypes = [
    ...dimensions.map((d): DType => (d.coordinate === undefined ? "int64" : declared(d.coordinate).dtype)),
    ...values.map((p) => declared(p).dtype),
  ];
  // Schemas of the 1-D slice variables (attributes and fill value kept), built once.
  const rowSchemas = new Map<string, VariableSchema>();
  for (const d of dimensions) {
    rowSchemas.set(
      d.name,
      d.coordinate === undefined
        ? new VariableSchema(d.name, { dtype: "int64", dimensions: [ROW_DIMENSION] })
        : declared(d.coordinate).with({ dimensions: [ROW_DIMENSION] }),
    );
  }
  for (const p of values) rowSchemas.set(p, declared(p).with({ dimensions: [ROW_DIMENSION] }));
  let offset = 0;
  return {
    long,
    header,
    dtypes,
    read,
    dimensions,
    *slices(ds) {
      const expansion = new LongExpansion(ds, dimensions, values, offset);
      offset += expansion.sizes[0] ?? 0;
      for (let start = 0; start < expansion.length; start += LONG_SLICE_ROWS) {
        const count = Math.min(LONG_SLICE_ROWS, expansion.length - start);
        const out = new Map<string, Variable>();
        for (const [name, array] of expansion.columns(start, count)) {
          out.set(name, new Variable(rowSchemas.get(name) as VariableSchema, array));
        }
        yield out;
      }
    },
  };
}

/** Where the values of one long column come from. */
type Source =
  | { kind: "values"; name: string; data: NDArray; strides: number[] }
  | { kind: "index"; name: string; axis: number; offset: number };

/**
 * The long rows of one partition: sizes of the layout's dimensions, and
 * any range of rows as 1-D arrays.
 */
export class LongExpansion {
  /** Length of each layout dimension in this partition. */
  readonly sizes: readonly number[];
  /** Number of long rows (the product of {@link sizes}). */
  readonly length: number;
  readonly #sources: Source[];

  /**
   * @param offset rows along the first (partitioning) dimension before this
   *   partition, added to its index column.
   */
  constructor(
    ds: Dataset,
    dimensions: readonly LayoutDimension[],
    values: readonly string[],
    offset: number,
  ) {
    const vars = ds.allVariables();
    const loaded = (path: string | undefined): Variable | undefined => {
      const v = path === undefined ? undefined : vars.get(path);
      return v === undefined || v.data === null ? undefined : v;
    };
    const names = dimensions.map((d) => d.name);
    const present = [...dimensions.map((d) => d.coordinate), ...values].map(loaded);
    const sizes = names.map((name, axis) => {
      for (const v of present) {
        const at = v?.dimensions.indexOf(name) ?? -1;
        if (v !== undefined && at >= 0) return v.shape[at] as number;
      }
      // Known from no variable of this partition: no rows along the
      // partitioning dimension, one (index 0) along the others.
      return axis === 0 ? 0 : 1;
    });
    this.sizes = sizes;
    this.length = sizes.reduce((a, b) => a * b, 1);
    const fromVariable = (name: string, v: Variable): Source => {
      const shape = v.shape;
      const own = v.dimensions.map((_, k) => shape.slice(k + 1).reduce((a, b) => a * b, 1));
      const strides = names.map((d) => {
        const k = v.dimensions.indexOf(d);
        return k < 0 ? 0 : (own[k] as number);
      });
      return { kind: "values", name, data: v.data as NDArray, strides };
    };
    this.#sources = [];
    dimensions.forEach((d, axis) => {
      const coordinate = loaded(d.coordinate);
      this.#sources.push(
        coordinate === undefined
          ? { kind: "index", name: d.name, axis, offset: axis === 0 ? offset : 0 }
          : fromVariable(d.name, coordinate),
      );
    });
    for (const p of values) {
      const v = loaded(p);
      if (v !== undefined) this.#sources.push(fromVariable(p, v));
    }
  }

  /**
   * Rows `[start, start + count)` as 1-D arrays, by column name; columns
   * whose variable the partition lacks are left out.
   */
  columns(start: number, count: number): Map<string, NDArray> {
    const sizes = this.sizes;
    const rank = sizes.length;
    // The multi-index of `start`, last dimension fastest.
    const index = new Array<number>(rank).fill(0);
    let rest = start;
    for (let j = rank - 1; j >= 0; j--) {
      const n = sizes[j] as number;
      index[j] = rest % n;
      rest = Math.floor(rest / n);
    }
    const out = new Map<string, NDArray>();
    for (const s of this.#sources) {
      if (s.kind === "index") {
        const values = new BigInt64Array(count);
        let stride = 1;
        for (let j = s.axis + 1; j < rank; j++) stride *= sizes[j] as number;
        const n = sizes[s.axis] as number;
        for (let r = 0; r < count; r++) values[r] = BigInt((Math.floor((start + r) / stride) % n) + s.offset);
        out.set(s.name, new NDArray("int64", [count], values));
        continue;
      }
      const src = s.data.data as ArrayLike<unknown>;
      const dst = allocate(s.data.dtype, count) as unknown as { [i: number]: unknown };
      const at = [...index];
      let flat = 0;
      for (let j = 0; j < rank; j++) flat += (at[j] as number) * (s.strides[j] as number);
      for (let r = 0; r < count; r++) {
        dst[r] = src[flat];
        // Next multi-index (odometer), keeping `flat` in step.
        let j = rank - 1;
        at[j] = (at[j] as number) + 1;
        flat += s.strides[j] as number;
        while (j > 0 && at[j] === sizes[j]) {
          flat -= (s.strides[j] as number) * (sizes[j] as number);
          at[j] = 0;
          j -= 1;
          at[j] = (at[j] as number) + 1;
          flat += s.strides[j] as number;
        }
      }
      out.set(s.name, new NDArray(s.data.dtype, [count], dst as unknown as NDArray["data"]));
    }
    return out;
  }
}
