/**
 * NetCDF ingestion (Node only; the `zcollection/netcdf` subpath): read a
 * NetCDF3 or NetCDF4 product and get a {@link Dataset} with its inferred
 * {@link DatasetSchema}, ready for `createCollection` / `insert`.
 *
 * Two layers:
 * - {@link readNetCDF} / {@link inspectNetCDF} (`read.ts`, `cf.ts`): the file
 *   as a neutral, schema-free tree of groups, dimensions, attributes and
 *   CF-decoded {@link NDArray}s;
 * - {@link openNetCDF} (this file): one group of that tree lifted to the root
 *   of a `Dataset`, variables selected, the partition axis chosen.
 *
 * @example
 * const { dataset, schema, axis } = await openNetCDF("S6A_P4_2__HR_RED__NR_014_191_….nc", {
 *   group: "/data_01",            // /data_01/time → /time, /data_01/ku/ssha → /ku/ssha
 * });
 *
 * @module
 */

import { Dataset } from "../data/index.js";
import { NAT } from "../dtype.js";
import { SchemaError } from "../errors.js";
import { NDArray } from "../ndarray.js";
import { type DatasetSchema, Schema } from "../schema/index.js";
import { decodeVariable, isTimeUnits } from "./cf.js";
import type { RawGroup, RawVariable } from "./raw.js";
import { findGroup, type NetCDFInput, openRaw, walkGroups } from "./read.js";
import type { Attributes, NetCDFDimension, NetCDFVariable } from "./types.js";

export {
  type CFDecodeOptions,
  checkCalendar,
  decodeTimes,
  decodeVariable,
  type EncodedVariable,
  fillMatcher,
  isTimeUnits,
  maskFloats,
  parseEpoch,
  parseTimeUnits,
  type TimeUnits,
  unpack,
} from "./cf.js";
export {
  type DetectedFormat,
  detectFormat,
  findGroup,
  inspectNetCDF,
  type NetCDFInput,
  type ReadNetCDFOptions,
  readNetCDF,
  variableAt,
  walkGroups,
} from "./read.js";
export type {
  Attributes,
  AttributeValue,
  FillValue,
  NetCDFDimension,
  NetCDFFile,
  NetCDFGroup,
  NetCDFGroupInfo,
  NetCDFHeader,
  NetCDFVariable,
  NetCDFVariableInfo,
} from "./types.js";

/** Options of {@link openNetCDF}. */
export interface OpenNetCDFOptions {
  /**
   * The group lifted to the root of the dataset (default `/`, the whole
   * file). Its dimensions become root dimensions; groups below it stay
   * groups (`/data_01/ku` → `/ku` for `group: "/data_01"`); groups outside it
   * are ignored. Root attributes: the file's global attributes, then the
   * group's own (which win).
   */
  group?: string;
  /**
   * Variables to keep: paths in the result (`time`, `/ku/ssha`, `ku/ssha`) or
   * in the file (`/data_01/ku/ssha`). Default: every variable of the group
   * and its subgroups.
   */
  variables?: readonly string[];
  /** Drops every variable using one of these dimensions (e.g. the 20 Hz `meas_ind` series). */
  excludeDimensions?: readonly string[];
  /** Keep packed integers with `scale_factor`/`add_offset` instead of unpacking them to float64. */
  keepPacked?: boolean;
  /**
   * The partition dimension. Default: the single "record" dimension of the
   * selected variables — unlimited dimensions and dimensions of 1-D time
   * variables. Must be a dimension visible from the lifted group.
   */
  axis?: string;
  /**
   * Reduce a 2-D time variable `time (rows, cells)` (swath products such as
   * ASCAT) to one time per row: the first valid (non-NaT) cell of the row,
   * NaT when the whole row is missing. The 1-D result keeps the name (`time`,
   * on `rows`), the 2-D original is kept as `<name>_cell`. `"auto"` (the
   * default) does so only when no axis is given and no unlimited dimension
   * or 1-D time variable exists; `true` requires a 2-D time variable (the
   * one named `time`, or the only one).
   */
  rowTime?: boolean | "auto";
  /** Name of in-memory bytes in error messages. */
  name?: string;
  /** Checked before each variable is read. */
  signal?: AbortSignal;
}

/** Result of {@link openNetCDF}. */
export interface OpenedNetCDF {
  /** The data, with the lifted group as its root. */
  readonly dataset: Dataset;
  /**
   * The inferred schema: the axis dimension with `size: null`, every other
   * dimension with its fixed size; CF fill values; attributes kept; default
   * codecs. Not yet bound to the axis (`createCollection` does that).
   */
  readonly schema: DatasetSchema;
  /** The partition dimension chosen. */
  readonly axis: string;
  /** `netcdf3` or `netcdf4`. */
  readonly format: "netcdf3" | "netcdf4";
  /** The file path, or the name given for bytes. */
  readonly source: string;
}

/**
 * One time per row of a 2-D `datetime64` array: the first valid (non-NaT)
 * cell of each row, NaT for an all-missing row. Shape `[rows]`.
 *
 * @throws SchemaError when the array is not 2-D.
 */
export function rowTimes(times: NDArray): NDArray<"datetime64[ns]"> {
  if (times.ndim !== 2)
    throw new SchemaError(`row times need a 2-D time array; got shape [${times.shape.join(", ")}]`);
  const [rows, cells] = times.shape as [number, number];
  const data = times.data as BigInt64Array;
  const out = new BigInt64Array(rows).fill(NAT);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cells; c++) {
      const v = data[r * cells + c] as bigint;
      if (v !== NAT) {
        out[r] = v;
        break;
      }
    }
  }
  return new NDArray("datetime64[ns]", [rows], out);
}

function parentOf(path: string): string | undefined {
  if (path === "/") return undefined;
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/** A candidate variable with its place in the result. */
interface Candidate {
  raw: RawVariable;
  /** Result path (`/time`, `/ku/ssha`). */
  path: string;
  /** Result group path. */
  group: string;
  /** Per dimension: where it is declared in the result and its size. */
  dims: { name: string; group: string; dim: NetCDFDimension }[];
  /** Char arrays: the last stored dimension (a string length, unless it is the axis). */
  chars: { name: string; group: string; dim: NetCDFDimension } | undefined;
  /** Whether the chars are read one per element along {@link chars} (that dimension is the axis). */
  perChar: boolean;
  isTime: boolean;
}

const list = (names: Iterable<string>) => `[${[...names].join(", ")}]`;

/**
 * Reads a NetCDF3/NetCDF4 product into a {@link Dataset} and its inferred
 * {@link DatasetSchema} (see {@link OpenNetCDFOptions} for group lifting,
 * variable selection, the axis and row times). Values are CF decoded like
 * {@link readNetCDF} does.
 *
 * Variables on two different record dimensions are never mixed silently: when
 * the selection spans several, `axis` must name one, and variables on the
 * others must be dropped (`excludeDimensions` or `variables`).
 *
 * Char arrays become `string` variables. Their last dimension is normally a
 * string length and is joined away (`char PLATFORM_NUMBER(N_PROF, STRING8)`
 * → one string per profile; `char DATA_TYPE(STRING16)` → one 0-d string,
 * which the collection stores once as an immutable variable). When that last
 * dimension is the partition axis, the array is a one-character flag per
 * row (Argo's `char DATA_MODE(N_PROF)`, `DIRECTION(N_PROF)`,
 * `PROFILE_*_QC(N_PROF)`): it keeps the dimension and holds a string of one
 * character per row (`""` for a blank or NUL), partitioned like the other
 * variables (joined, the flags of all rows would make one string, stored
 * once for the whole collection). An unlimited last dimension of a char
 * array counts as a record dimension when inferring the axis, and
 * `excludeDimensions` may name a string-length dimension.
 *
 * @throws StoreError naming the file when it cannot be read.
 * @throws SchemaError naming the file and the culprit for an unknown group,
 *   variable, excluded dimension or axis; several record dimensions without
 *   `axis`; variables on another record dimension than the axis; no axis to
 *   infer; no 2-D time variable for `rowTime: true`; CF decoding errors.
 */
export async function openNetCDF(input: NetCDFInput, opts: OpenNetCDFOptions = {}): Promise<OpenedNetCDF> {
  opts.signal?.throwIfAborted();
  const raw = await openRaw(input, opts.name);
  try {
    const source = raw.source;
    const fail = (message: string, fields: { variable?: string; dimension?: string; group?: string } = {}) =>
      new SchemaError(`'${source}': ${message}`, fields);

    // 1. The lifted group and the variables below it.
    const groups = new Map<string, RawGroup>([...walkGroups(raw.root)].map((g) => [g.path, g]));
    const basePath =
      opts.group === undefined
        ? "/"
        : `/${opts.group
            .split("/")
            .filter((s) => s !== "")
            .join("/")}`;
    const base = findGroup(raw.root, basePath);
    if (base === undefined) {
      throw fail(`unknown group '${opts.group}'; groups: ${list(groups.keys())}`, {
        group: opts.group ?? "/",
      });
    }
    const inside = (path: string) => path === basePath || basePath === "/" || path.startsWith(`${basePath}/`);
    const relative = (path: string) =>
      basePath === "/" ? path : path === basePath ? "/" : path.slice(basePath.length);
    const declaring = (groupPath: string, dim: string): RawGroup | undefined => {
      for (let p: string | undefined = groupPath; p !== undefined; p = parentOf(p)) {
        const g = groups.get(p);
        if (g?.dimensions.has(dim)) return g;
      }
      return undefined;
    };

    const candidates: Candidate[] = [];
    for (const g of walkGroups(base)) {
      const dimension = (name: string, size: number) => {
        const owner = declaring(g.path, name);
        const dim = owner?.dimensions.get(name) ?? { name, size, unlimited: false };
        return { name, group: owner !== undefined && inside(owner.path) ? relative(owner.path) : "/", dim };
      };
      for (const v of g.variables) {
        candidates.push({
          raw: v,
          path: relative(v.path),
          group: relative(g.path),
          dims: v.dimensions.map((name, axis) => dimension(name, v.shape[axis] ?? 0)),
          chars: v.charDimension === undefined ? undefined : dimension(v.charDimension, 0),
          perChar: false,
          isTime: v.dtype !== null && v.dtype !== "string" && isTimeUnits(v.attrs.units),
        });
      }
    }
    /** Every dimension a candidate uses, the string length of a char array included. */
    const allDims = (c: Candidate) => (c.chars === undefined || c.perChar ? c.dims : [...c.dims, c.chars]);

    // 2. Selection.
    let selected = candidates;
    if (opts.variables !== undefined) {
      const keys = (c: Candidate) => {
        const k = [c.path, c.path.slice(1), c.raw.path];
        if (c.group === "/") k.push(c.raw.name);
        return k;
      };
      const wanted = new Set<Candidate>();
      for (const name of opts.variables) {
        const match = candidates.filter((c) => keys(c).includes(name));
        if (match.length === 0) {
          throw fail(`unknown variable '${name}' in group '${basePath}'`, {
            variable: name,
            group: basePath,
          });
        }
        for (const c of match) wanted.add(c);
      }
      selected = candidates.filter((c) => wanted.has(c));
    }
    if (opts.excludeDimensions !== undefined && opts.excludeDimensions.length > 0) {
      const known = new Set(candidates.flatMap((c) => allDims(c).map((d) => d.name)));
      for (const d of opts.excludeDimensions) {
        if (!known.has(d)) {
          throw fail(`cannot exclude unknown dimension '${d}'; dimensions: ${list(known)}`, { dimension: d });
        }
      }
      const excluded = new Set(opts.excludeDimensions);
      selected = selected.filter((c) => !allDims(c).some((d) => excluded.has(d.name)));
    }

    // 3. Row times, then the axis.
    const twoDTimes = selected.filter((c) => c.isTime && c.dims.length === 2);
    const recordDims = (vars: readonly Candidate[]) => {
      const out = new Set<string>();
      for (const c of vars) {
        for (const d of allDims(c)) if (d.dim.unlimited) out.add(d.name);
        if (c.isTime && c.dims.length === 1) out.add((c.dims[0] as Candidate["dims"][number]).name);
      }
      return out;
    };
    let rowTime: Candidate | undefined;
    const wantRowTime = opts.rowTime ?? "auto";
    if (
      wantRowTime === true ||
      (wantRowTime === "auto" && opts.axis === undefined && recordDims(selected).size === 0)
    ) {
      rowTime =
        twoDTimes.find((c) => c.raw.name === "time") ?? (twoDTimes.length === 1 ? twoDTimes[0] : undefined);
      if (rowTime === undefined && wantRowTime === true) {
        throw fail(
          twoDTimes.length === 0
            ? "rowTime needs a 2-D time variable; none is selected"
            : `rowTime needs one 2-D time variable named 'time' or a single one; found ${list(twoDTimes.map((c) => c.path))}`,
        );
      }
    }
    const records = recordDims(selected);
    if (rowTime !== undefined) records.add((rowTime.dims[0] as Candidate["dims"][number]).name);
    const rootDims = new Set(
      selected.flatMap((c) =>
        allDims(c)
          .filter((d) => d.group === "/")
          .map((d) => d.name),
      ),
    );
    let axis = opts.axis;
    if (axis === undefined) {
      if (records.size === 0) {
        throw fail(
          "cannot infer the partition axis (no unlimited dimension, no 1-D time variable): pass `axis`",
        );
      }
      if (records.size > 1) {
        throw fail(
          `the selected variables are on several record dimensions ${list(records)}: choose the partition axis with ` +
            "`axis` and drop the variables of the others with `excludeDimensions` or `variables`",
        );
      }
      axis = [...records][0] as string;
    }
    if (!rootDims.has(axis)) {
      const nested = selected.flatMap((c) => c.dims).find((d) => d.name === axis);
      const hint =
        nested === undefined
          ? ""
          : ` (it is declared in group '${nested.group}': lift that group with \`group\`)`;
      throw fail(`axis '${axis}' is not a root dimension of the selected variables${hint}`, {
        dimension: axis,
      });
    }
    // A char array whose last dimension is the axis holds one character per row (Argo's
    // `char DATA_MODE(N_PROF)`), not one string over every row: it keeps that dimension.
    for (const c of selected) {
      if (c.chars !== undefined && c.chars.name === axis && c.chars.group === "/") {
        c.perChar = true;
        c.dims = [...c.dims, c.chars];
      }
    }
    for (const other of records) {
      if (other === axis) continue;
      const users = selected.filter((c) => allDims(c).some((d) => d.name === other)).map((c) => c.path);
      throw fail(
        `variables ${list(users)} are on record dimension '${other}', not on the axis '${axis}': drop them with ` +
          "`excludeDimensions` or `variables`",
        { dimension: other },
      );
    }

    // 4. Read and decode.
    const cf = { source, ...(opts.keepPacked === undefined ? {} : { keepPacked: opts.keepPacked }) };
    const decoded: {
      c: Candidate;
      v: NetCDFVariable;
      path: string;
      name: string;
      dims: Candidate["dims"];
    }[] = [];
    const taken = new Set(selected.map((c) => c.path));
    for (const c of selected) {
      opts.signal?.throwIfAborted();
      const v = decodeVariable(
        {
          name: c.raw.name,
          path: c.raw.path,
          dimensions: c.dims.map((d) => d.name),
          data: c.perChar && c.raw.loadChars !== undefined ? c.raw.loadChars() : c.raw.load(),
          attrs: c.raw.attrs,
        },
        cf,
      );
      if (c === rowTime) {
        const cellPath = `${c.path}_cell`;
        if (taken.has(cellPath)) {
          throw fail(`cannot keep the 2-D '${c.path}' as '${cellPath}': that variable exists`, {
            variable: cellPath,
          });
        }
        decoded.push({
          c,
          v: { ...v, data: rowTimes(v.data) },
          path: c.path,
          name: c.raw.name,
          dims: c.dims.slice(0, 1),
        });
        decoded.push({ c, v, path: cellPath, name: `${c.raw.name}_cell`, dims: c.dims });
      } else {
        decoded.push({ c, v, path: c.path, name: c.raw.name, dims: c.dims });
      }
    }

    // 5. Schema and dataset.
    const builder = Schema();
    const rootAttrs: Attributes = basePath === "/" ? { ...base.attrs } : { ...raw.root.attrs, ...base.attrs };
    for (const [k, value] of Object.entries(rootAttrs)) builder.withAttribute(k, value);
    for (const g of walkGroups(base)) {
      if (g === base) continue;
      if (
        decoded.some((d) => d.c.group === relative(g.path) || d.c.group.startsWith(`${relative(g.path)}/`))
      ) {
        builder.withGroup(relative(g.path), { attrs: g.attrs });
      }
    }
    const declared = new Map<string, number | null>();
    for (const d of decoded) {
      for (const dim of d.dims) {
        const key = `${dim.group}\u0000${dim.name}`;
        const size = dim.name === axis && dim.group === "/" ? null : dim.dim.size;
        const previous = declared.get(key);
        if (previous === undefined) {
          declared.set(key, size);
          builder.withDimension(dim.name, { size, group: dim.group });
        } else if (previous !== size) {
          throw fail(
            `dimension '${dim.name}' of group '${dim.group}' has two sizes (${previous} and ${size})`,
            {
              dimension: dim.name,
            },
          );
        }
      }
      builder.withVariable(d.name, {
        dtype: d.v.data.dtype,
        dimensions: d.dims.map((x) => x.name),
        fillValue: d.v.fillValue,
        attrs: d.v.attrs,
        group: d.c.group,
      });
    }
    const schema = builder.build();
    const arrays = new Map<string, NDArray>(decoded.map((d) => [d.path, d.v.data]));
    const dataset = Dataset.fromArrays(schema, arrays);
    return { dataset, schema, axis, format: raw.format, source };
  } finally {
    raw.close();
  }
}
