/**
 * A minimal NetCDF3 classic-format writer for tests: builds small files with
 * exactly the features a test needs (record dimension, every NC3 type,
 * attributes), following the format specification
 * (https://docs.unidata.ucar.edu/netcdf-c/current/file_format_specifications.html).
 */

export type Nc3Type = "byte" | "char" | "short" | "int" | "float" | "double";

const TYPE_CODE: Record<Nc3Type, number> = { byte: 1, char: 2, short: 3, int: 4, float: 5, double: 6 };
const TYPE_SIZE: Record<Nc3Type, number> = { byte: 1, char: 1, short: 2, int: 4, float: 4, double: 8 };

/** A text attribute, or typed numbers. */
export type Nc3Attribute = string | { type: Exclude<Nc3Type, "char">; values: number[] };

export interface Nc3Variable {
  name: string;
  type: Nc3Type;
  dims: string[];
  attrs?: Record<string, Nc3Attribute>;
  /** Flat values in C order (chars: one string holding every byte). */
  data: number[] | string;
}

export interface Nc3File {
  /** Dimensions in order; size 0 marks the record (unlimited) dimension. */
  dims: { name: string; size: number }[];
  /** Number of records (used when a dimension has size 0). */
  numrecs?: number;
  attrs?: Record<string, Nc3Attribute>;
  vars: Nc3Variable[];
}

class Writer {
  private bytes: number[] = [];
  get length(): number {
    return this.bytes.length;
  }
  u8(v: number): void {
    this.bytes.push(v & 0xff);
  }
  u32(v: number): void {
    this.bytes.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  }
  pad(): void {
    while (this.bytes.length % 4 !== 0) this.bytes.push(0);
  }
  raw(data: Uint8Array): void {
    for (const b of data) this.bytes.push(b);
  }
  name(text: string): void {
    const encoded = new TextEncoder().encode(text);
    this.u32(encoded.length);
    this.raw(encoded);
    this.pad();
  }
  patchU32(at: number, v: number): void {
    this.bytes[at] = (v >>> 24) & 0xff;
    this.bytes[at + 1] = (v >>> 16) & 0xff;
    this.bytes[at + 2] = (v >>> 8) & 0xff;
    this.bytes[at + 3] = v & 0xff;
  }
  result(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

function encodeValues(type: Nc3Type, values: number[] | string): Uint8Array {
  if (type === "char") return new TextEncoder().encode(values as string);
  const list = values as number[];
  const out = new Uint8Array(list.length * TYPE_SIZE[type]);
  const view = new DataView(out.buffer);
  list.forEach((v, i) => {
    if (type === "byte") view.setInt8(i, v);
    else if (type === "short") view.setInt16(2 * i, v, false);
    else if (type === "int") view.setInt32(4 * i, v, false);
    else if (type === "float") view.setFloat32(4 * i, v, false);
    else view.setFloat64(8 * i, v, false);
  });
  return out;
}

function writeAttributes(w: Writer, attrs: Record<string, Nc3Attribute> | undefined): void {
  const entries = Object.entries(attrs ?? {});
  if (entries.length === 0) {
    w.u32(0);
    w.u32(0);
    return;
  }
  w.u32(0x0c);
  w.u32(entries.length);
  for (const [name, attr] of entries) {
    w.name(name);
    if (typeof attr === "string") {
      const bytes = new TextEncoder().encode(attr);
      w.u32(TYPE_CODE.char);
      w.u32(bytes.length);
      w.raw(bytes);
    } else {
      w.u32(TYPE_CODE[attr.type]);
      w.u32(attr.values.length);
      w.raw(encodeValues(attr.type, attr.values));
    }
    w.pad();
  }
}

/** Encodes a classic (`CDF\x01`) NetCDF3 file. */
export function writeNetCDF3(file: Nc3File): Uint8Array {
  const w = new Writer();
  const numrecs = file.numrecs ?? 0;
  const dimIndex = new Map(file.dims.map((d, i) => [d.name, i]));
  const recordDim = file.dims.findIndex((d) => d.size === 0);
  w.raw(Uint8Array.from([0x43, 0x44, 0x46, 0x01]));
  w.u32(numrecs);
  if (file.dims.length === 0) {
    w.u32(0);
    w.u32(0);
  } else {
    w.u32(0x0a);
    w.u32(file.dims.length);
    for (const d of file.dims) {
      w.name(d.name);
      w.u32(d.size);
    }
  }
  writeAttributes(w, file.attrs);

  const isRecord = (v: Nc3Variable) => recordDim >= 0 && dimIndex.get(v.dims[0] ?? "") === recordDim;
  const perRecordBytes = (v: Nc3Variable) =>
    v.dims.reduce(
      (n, d, axis) => (isRecord(v) && axis === 0 ? n : n * (file.dims[dimIndex.get(d) ?? -1]?.size ?? 0)),
      1,
    ) * TYPE_SIZE[v.type];
  const recordVars = file.vars.filter(isRecord);
  const padded = (n: number) => Math.ceil(n / 4) * 4;
  const vsize = (v: Nc3Variable) => padded(perRecordBytes(v));
  const beginSlots: number[] = [];
  if (file.vars.length === 0) {
    w.u32(0);
    w.u32(0);
  } else {
    w.u32(0x0b);
    w.u32(file.vars.length);
    for (const v of file.vars) {
      w.name(v.name);
      w.u32(v.dims.length);
      for (const d of v.dims) {
        const id = dimIndex.get(d);
        if (id === undefined) throw new Error(`unknown dimension ${d}`);
        w.u32(id);
      }
      writeAttributes(w, v.attrs);
      w.u32(TYPE_CODE[v.type]);
      w.u32(vsize(v));
      beginSlots.push(w.length);
      w.u32(0); // begin, patched below
    }
  }
  // Non-record data, then records.
  const begins = new Map<Nc3Variable, number>();
  for (const v of file.vars.filter((x) => !isRecord(x))) {
    begins.set(v, w.length);
    w.raw(encodeValues(v.type, v.data));
    w.pad();
  }
  const recStart = w.length;
  let offsetInRecord = 0;
  for (const v of recordVars) {
    begins.set(v, recStart + offsetInRecord);
    offsetInRecord += recordVars.length === 1 ? perRecordBytes(v) : vsize(v);
  }
  for (let r = 0; r < numrecs; r++) {
    for (const v of recordVars) {
      const size = perRecordBytes(v);
      const all = encodeValues(v.type, v.data);
      w.raw(all.subarray(r * size, (r + 1) * size));
      if (recordVars.length > 1) w.pad();
    }
  }
  file.vars.forEach((v, i) => {
    w.patchU32(beginSlots[i] as number, begins.get(v) ?? 0);
  });
  return w.result();
}
