import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import h5wasm from "h5wasm/node";
import { NetCDFReader } from "netcdfjs";
import { datetime64, formatDatetime64, NAT } from "../../src/dtype.js";
import { isZCollectionError, SchemaError, StoreError } from "../../src/errors.js";
import { h5wasmModule, pluginDirectory } from "../../src/netcdf/hdf5.js";
import {
  detectFormat,
  findGroup,
  inspectNetCDF,
  readNetCDF,
  variableAt,
  walkGroups,
} from "../../src/netcdf/read.js";
import type { NetCDFFile } from "../../src/netcdf/types.js";
import { attributeOf, closeTo, DATA_DIR, type ExpectedFile, expectedFiles, rawOf } from "./expected.js";
import { writeNetCDF3 } from "./nc3-writer.js";

const scratch = mkdtempSync(join(tmpdir(), "zc-netcdf-test-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

function isStoreErrorNaming(file: string, pattern?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof StoreError, `expected a StoreError, got ${String(err)}`);
    assert.ok(isZCollectionError(err, "StoreError"));
    assert.equal(err.key, file);
    assert.ok(err.message.includes(`'${file}'`), err.message);
    assert.ok(!err.message.includes("\n"), `one-line message expected: ${err.message}`);
    if (pattern !== undefined) assert.match(err.message, pattern);
    return true;
  };
}

for (const expected of expectedFiles()) {
  describe(`bundled ${expected.file}`, () => {
    const path = join(DATA_DIR, expected.file);
    let decoded: NetCDFFile;
    let raw: NetCDFFile;
    before(async () => {
      decoded = await readNetCDF(path);
      raw = await readNetCDF(path, { decode: false });
    });

    it("is the file the expected values were extracted from", () => {
      assert.equal(createHash("sha256").update(readFileSync(path)).digest("hex"), expected.sha256);
      assert.equal(decoded.format, expected.kind === "classic" ? "netcdf3" : "netcdf4");
      assert.equal(decoded.source, path);
    });

    it("has ncdump's groups, dimensions and variables", () => {
      const paths = [...walkGroups(decoded.root)].map((g) => g.path);
      assert.deepEqual(paths.sort(), Object.keys(expected.groups).sort());
      for (const [gpath, info] of Object.entries(expected.groups)) {
        const group = findGroup(decoded.root, gpath);
        assert.ok(group, gpath);
        assert.deepEqual(
          Object.fromEntries(
            [...group.dimensions.values()].map((d) => [d.name, { size: d.size, unlimited: d.unlimited }]),
          ),
          info.dimensions,
          `dimensions of ${gpath}`,
        );
        assert.deepEqual(group.variables.map((v) => v.name).sort(), info.variables, `variables of ${gpath}`);
      }
    });

    it("has ncdump's global attributes", () => {
      const want = Object.fromEntries(
        Object.entries(expected.global_attributes).map(([k, v]) => [k, attributeOf(v)]),
      );
      assert.deepEqual(decoded.attrs, want);
    });

    checkVariables(
      expected,
      () => decoded,
      () => raw,
    );
  });
}

function checkVariables(expected: ExpectedFile, decoded: () => NetCDFFile, raw: () => NetCDFFile): void {
  for (const [vpath, want] of Object.entries(expected.variables)) {
    it(`${vpath}: stored values and attributes equal ncdump's`, () => {
      const v = variableAt(raw(), vpath);
      assert.ok(v, vpath);
      assert.deepEqual(v.dimensions, want.dimensions);
      assert.deepEqual(v.data.shape, want.shape);
      assert.equal(v.data.size, want.count);
      assert.deepEqual(
        v.attrs,
        Object.fromEntries(Object.entries(want.attributes).map(([k, a]) => [k, attributeOf(a)])),
      );
      for (const s of want.samples) {
        assert.deepEqual(v.data.at(s.index), rawOf(s, want.type), `${vpath}[${s.index}]`);
      }
    });

    it(`${vpath}: CF-decoded samples and missing count (${want.kind})`, () => {
      const v = variableAt(decoded(), vpath);
      assert.ok(v, vpath);
      assert.deepEqual(v.data.shape, want.shape);
      let missing = 0;
      const values = v.data.data as ArrayLike<number | bigint>;
      if (want.kind === "time") {
        assert.equal(v.dtype, "datetime64[ns]");
        assert.equal(v.fillValue, NAT);
        for (let i = 0; i < values.length; i++) if (values[i] === NAT) missing++;
        for (const s of want.samples) {
          assert.equal(formatDatetime64(v.data.at(s.index) as bigint, "ns"), s.value, `${vpath}[${s.index}]`);
        }
      } else if (want.kind === "packed") {
        assert.equal(v.dtype, "float64");
        assert.ok(Number.isNaN(v.fillValue as number));
        assert.equal(v.attrs.scale_factor, undefined);
        assert.equal(v.attrs._FillValue, undefined);
        for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i])) missing++;
        for (const s of want.samples) {
          const got = v.data.at(s.index) as number;
          assert.ok(
            closeTo(got, s.value === null ? Number.NaN : (s.value as number)),
            `${vpath}[${s.index}] = ${got}, want ${s.value}`,
          );
        }
      } else if (want.kind === "float") {
        for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i])) missing++;
        for (const s of want.samples) {
          const expectedValue = s.value === null ? Number.NaN : rawOf({ ...s, raw: s.value }, want.type);
          assert.deepEqual(v.data.at(s.index), expectedValue, `${vpath}[${s.index}]`);
        }
      } else {
        assert.match(v.dtype, /^u?int/);
        for (let i = 0; i < values.length; i++)
          if (v.fillValue !== null && values[i] === v.fillValue) missing++;
        for (const s of want.samples) assert.equal(v.data.at(s.index), s.value, `${vpath}[${s.index}]`);
      }
      assert.equal(missing, want.missing, `missing values of ${vpath}`);
    });
  }
}

describe("NetCDF3 data reading agrees with netcdfjs' own reader", () => {
  it("for every variable of the Jason-1 and ASCAT products (bytes unboxed and signed, padding cut)", async () => {
    for (const name of [
      "JA1_GPN_2PeP001_002_20020115_060706_20020115_070316.nc",
      "ascat_20150702_084200_metopa_45145_eps_o_250_2300_ovw.l2.nc",
    ]) {
      const bytes = readFileSync(join(DATA_DIR, name));
      const reader = new NetCDFReader(bytes);
      const ours = await readNetCDF(bytes, { decode: false, name });
      for (const v of ours.root.variables) {
        const theirs = reader.getDataVariable(v.name).flat(2) as number[];
        const normalised = theirs
          .slice(0, v.data.size)
          .map((x) => (v.dtype === "int8" && x > 127 ? x - 256 : x));
        assert.deepEqual(Array.from(v.data.data as ArrayLike<number>), normalised, `${name} ${v.name}`);
      }
    }
  });
});

describe("readNetCDF on the Cryo-TEMPO product", () => {
  it("keeps NaN as the missing value of floats without _FillValue", async () => {
    const file = await readNetCDF(
      join(DATA_DIR, "CS_OFFL_SIR_TDP_LI_GREENL_20150131T182746_20150131T183002_07_00423_C001.nc"),
    );
    const elevation = variableAt(file, "/elevation");
    assert.ok(elevation);
    assert.equal(elevation.dtype, "float64");
    assert.equal(elevation.fillValue, null);
    const nan = Array.from(elevation.data.data as Float64Array).filter(Number.isNaN).length;
    assert.equal(nan, 1746);
    const time = variableAt(file, "/time");
    assert.equal(time?.attrs.units, undefined);
    // ncdump: time(3049) = 476044202.47291797 s since 2000-01-01
    assert.equal(formatDatetime64(time?.data.at(3049) as bigint, "ns"), "2015-01-31T18:30:02.472918000");
  });
});

describe("readNetCDF options", () => {
  const s6a = join(DATA_DIR, "S6A_P4_2__HR_RED__NR_014_191_20210403T004056_20210403T005056_F00.nc");

  it("reads only the variables the filter selects, keeping every group", async () => {
    const seen: string[] = [];
    const file = await readNetCDF(s6a, {
      filter: (v) => {
        seen.push(v.path);
        return v.path === "/data_01/time" || v.path === "/data_01/ku/ssha";
      },
    });
    assert.equal(seen.length, 111);
    assert.deepEqual(
      [...walkGroups(file.root)].map((g) => [g.path, g.variables.map((v) => v.name)]),
      [
        ["/", []],
        ["/data_01", ["time"]],
        ["/data_01/ku", ["ssha"]],
      ],
    );
  });

  it("gives the filter the stored dtype, shape and attributes", async () => {
    const infos = new Map<string, { dtype: string | null; shape: readonly number[]; scale: unknown }>();
    await readNetCDF(s6a, {
      filter: (v) => {
        infos.set(v.path, { dtype: v.dtype, shape: v.shape, scale: v.attrs.scale_factor });
        return false;
      },
    });
    assert.deepEqual(infos.get("/data_01/ku/ssha"), { dtype: "int32", shape: [600], scale: 0.0001 });
    assert.deepEqual(infos.get("/data_01/time"), { dtype: "float64", shape: [600], scale: undefined });
  });

  it("reads bytes like a path and leaves no temporary file behind, also on errors", async () => {
    const before = readdirSync(tmpdir()).filter((f) => f.startsWith("zcollection-netcdf-"));
    const bytes = readFileSync(s6a);
    const fromBytes = await readNetCDF(bytes, { name: "pass-191.nc" });
    const fromPath = await readNetCDF(s6a);
    assert.equal(fromBytes.source, "pass-191.nc");
    assert.deepEqual(
      variableAt(fromBytes, "/data_01/ku/ssha")?.data.toArray(),
      variableAt(fromPath, "/data_01/ku/ssha")?.data.toArray(),
    );
    await assert.rejects(
      readNetCDF(bytes.subarray(0, 1000), { name: "cut.nc" }),
      isStoreErrorNaming("cut.nc"),
    );
    const left = readdirSync(tmpdir()).filter((f) => f.startsWith("zcollection-netcdf-"));
    assert.deepEqual(left, before);
  });

  it("stops before reading when the signal is aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(readNetCDF(s6a, { signal: controller.signal }), { name: "AbortError" });
  });

  it("inspects the structure without reading values", async () => {
    const header = await inspectNetCDF(s6a);
    assert.equal(header.format, "netcdf4");
    const ku = findGroup(header.root, "data_01/ku");
    assert.equal(ku?.variables.length, 27);
    const ssha = ku?.variables.find((v) => v.name === "ssha");
    assert.deepEqual(ssha && { dims: ssha.dimensions, group: ssha.group, dtype: ssha.dtype }, {
      dims: ["time"],
      group: "/data_01/ku",
      dtype: "int32",
    });
    assert.equal("data" in (ssha ?? {}), false);
  });
});

describe("NetCDF4 edge cases (test/netcdf/data/edge4.cdl, written by ncgen)", () => {
  let file: NetCDFFile;
  before(async () => {
    file = await readNetCDF("test/netcdf/data/edge4.nc");
  });
  const at = (p: string) => {
    const v = variableAt(file, p);
    assert.ok(v, p);
    return v;
  };

  it("flags the unlimited dimension and declares placeholder dimensions without variables", () => {
    assert.deepEqual(Object.fromEntries(file.root.dimensions), {
      nchar: { name: "nchar", size: 4, unlimited: false },
      time: { name: "time", size: 3, unlimited: true },
      x: { name: "x", size: 3, unlimited: false },
    });
    assert.deepEqual(file.root.variables.map((v) => v.name).sort(), [
      "counter",
      "flags",
      "label",
      "name",
      "scalar",
      "sla",
      "tags",
      "time",
    ]);
    const sub = findGroup(file.root, "/sub");
    assert.deepEqual([...(sub?.dimensions.values() ?? [])], [{ name: "y", size: 2, unlimited: false }]);
  });

  it("keeps the parent's dimension name for a variable in a child group", () => {
    assert.deepEqual(at("/sub/v").dimensions, ["time", "y"]);
    assert.deepEqual(at("/sub/v").data.toArray(), [1, 2, 3, Number.NaN, 5, 6]);
  });

  it("normalises attributes: int64 as bigint, empty text as '', single values as scalars, text arrays", () => {
    const sla = at("/sla");
    assert.equal(sla.attrs.big, 9007199254740993n);
    assert.deepEqual(sla.attrs.bigs, [1n, -2n]);
    assert.equal(sla.attrs.empty, "");
    assert.deepEqual(file.attrs, { title: "edge cases, ünïcode", version: 3, ratio: [0.5, 1.5] });
    assert.deepEqual(at("/tags").attrs, { names: ["a", "b"] });
  });

  it("unpacks a deflated, shuffled, packed variable with an offset", () => {
    const sla = at("/sla");
    assert.deepEqual(sla.data.shape, [3, 3]);
    const values = sla.data.toArray() as number[];
    const want = [10.01, 10.02, 10.03, Number.NaN, 10.05, 10.06, 10.07, 10.08, 10.09];
    for (const [i, v] of values.entries()) assert.ok(closeTo(v, want[i] as number), `sla[${i}] = ${v}`);
  });

  it("joins char arrays, reads strings, unsigned 64-bit values and scalars", () => {
    assert.deepEqual(at("/label").data.toArray(), ["ab", "cdef", ""]);
    assert.deepEqual(at("/label").dimensions, ["time"]);
    assert.deepEqual(at("/name").data.toArray(), ["one", "two", "three"]);
    assert.equal(at("/counter").dtype, "uint64");
    assert.deepEqual(at("/counter").data.toArray(), [1n, 18446744073709551615n, 3n]);
    assert.equal(at("/flags").dtype, "uint8");
    assert.equal(at("/flags").fillValue, 255);
    assert.deepEqual(at("/scalar").data.shape, []);
    assert.equal(at("/scalar").data.at(0), 42);
    assert.deepEqual(at("/tags").data.toArray(), ["t"]);
    assert.equal(at("/sub/n").fillValue, -1n);
    assert.deepEqual(at("/sub/n").data.toArray(), [9007199254740993n, -1n]);
  });

  it("decodes hours since an epoch with a zone suffix", () => {
    assert.deepEqual(at("/time").data.toArray(), [
      datetime64("2000-01-01T00:00", "ns"),
      datetime64("2000-01-01T01:30", "ns"),
      datetime64("2000-01-03T00:00", "ns"),
    ]);
  });
});

describe("HDF5 compression plugins", () => {
  it("reads zstd and lz4 compressed datasets (plain HDF5: phony dimensions)", async () => {
    await h5wasmModule();
    const path = join(scratch, "plugins.h5");
    const f = new h5wasm.File(path, "w");
    const values = new Float64Array(1000).map((_, i) => i * 0.5);
    f.create_dataset({
      name: "values",
      data: values,
      shape: [100, 10],
      chunks: [10, 10],
      compression: 32015,
      compression_opts: [3],
    });
    f.create_group("g").create_dataset({
      name: "b",
      data: new Int32Array([1, 2, 3]),
      chunks: [3],
      compression: 32004,
      compression_opts: [],
    });
    f.close();
    const file = await readNetCDF(path);
    const v = variableAt(file, "/values");
    assert.deepEqual(v?.dimensions, ["phony_dim_0", "phony_dim_1"]);
    assert.deepEqual(Array.from(v?.data.data as Float64Array), Array.from(values));
    assert.deepEqual(variableAt(file, "/g/b")?.data.toArray(), [1, 2, 3]);
    assert.deepEqual([...file.root.dimensions.keys()], ["phony_dim_0", "phony_dim_1"]);
  });

  it("reports a missing filter as a StoreError naming the file, the variable and the filter", async () => {
    await h5wasmModule();
    // An HDF5 file (no metadata checksums) whose zstd filter id 32015 is patched to the unregistered 32099.
    const path = join(scratch, "unknown-filter.h5");
    const f = new h5wasm.File(path, "w", { libver: ["earliest", "v108"] });
    f.create_dataset({
      name: "z",
      data: new Float32Array(64),
      chunks: [64],
      compression: 32015,
      compression_opts: [1],
    });
    f.close();
    const bytes = readFileSync(path);
    const at: number[] = [];
    for (let i = 0; i + 1 < bytes.length; i++) if (bytes[i] === 0x0f && bytes[i + 1] === 0x7d) at.push(i);
    assert.equal(at.length, 1);
    bytes[at[0] as number] = 0x63;
    writeFileSync(path, bytes);
    await assert.rejects(
      readNetCDF(path),
      isStoreErrorNaming(path, /variable '\/z': HDF5 filter '.*' is not available/),
    );
    assert.ok(pluginDirectory()?.endsWith("plugins"));
  });
});

describe("bad inputs", () => {
  const ja1 = join(DATA_DIR, "JA1_GPN_2PeP001_002_20020115_060706_20020115_070316.nc");
  const s6a = join(DATA_DIR, "S6A_P4_2__HR_RED__NR_014_191_20210403T004056_20210403T005056_F00.nc");

  it("detects formats from the first bytes", () => {
    assert.equal(detectFormat(Uint8Array.from([0x43, 0x44, 0x46, 1])), "netcdf3");
    assert.equal(detectFormat(Uint8Array.from([0x43, 0x44, 0x46, 2])), "netcdf3");
    assert.equal(detectFormat(Uint8Array.from([0x43, 0x44, 0x46, 5])), "cdf5");
    assert.equal(detectFormat(Uint8Array.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a])), "netcdf4");
    assert.equal(detectFormat(new TextEncoder().encode("hello")), "unknown");
  });

  it("a truncated NetCDF4 file (first 1000 bytes) → StoreError naming the file", async () => {
    const path = join(scratch, "truncated4.nc");
    writeFileSync(path, readFileSync(s6a).subarray(0, 1000));
    await assert.rejects(readNetCDF(path), isStoreErrorNaming(path, /truncated file/));
  });

  it("a NetCDF3 file truncated in its header or in its data → StoreError naming the file", async () => {
    const head = join(scratch, "truncated3-header.nc");
    writeFileSync(head, readFileSync(ja1).subarray(0, 1000));
    await assert.rejects(readNetCDF(head), isStoreErrorNaming(head, /truncated header/));
    const data = join(scratch, "truncated3-data.nc");
    writeFileSync(data, readFileSync(ja1).subarray(0, 200_000));
    await assert.rejects(
      readNetCDF(data),
      isStoreErrorNaming(data, /file is truncated: variable '\w+' ends at byte \d+, the file has 200000/),
    );
  });

  it("a text file, an empty file, a missing file, a CDF5 file → StoreError naming the file", async () => {
    const text = join(scratch, "notes.nc");
    writeFileSync(text, "this is not a NetCDF file\n");
    await assert.rejects(readNetCDF(text), isStoreErrorNaming(text, /not a NetCDF file/));
    const empty = join(scratch, "empty.nc");
    writeFileSync(empty, "");
    await assert.rejects(readNetCDF(empty), isStoreErrorNaming(empty, /empty/));
    const missing = join(scratch, "missing.nc");
    await assert.rejects(readNetCDF(missing), isStoreErrorNaming(missing, /no such file/));
    const cdf5 = join(scratch, "cdf5.nc");
    writeFileSync(cdf5, Uint8Array.from([0x43, 0x44, 0x46, 5, 0, 0, 0, 0]));
    await assert.rejects(readNetCDF(cdf5), isStoreErrorNaming(cdf5, /CDF5/));
    await assert.rejects(
      readNetCDF(new TextEncoder().encode("garbage"), { name: "upload.nc" }),
      isStoreErrorNaming("upload.nc"),
    );
  });

  function timeFile(attrs: Record<string, string>): Uint8Array {
    return writeNetCDF3({
      dims: [{ name: "time", size: 2 }],
      vars: [{ name: "time", type: "double", dims: ["time"], attrs, data: [0, 1] }],
    });
  }

  it("a time variable with unparseable units → SchemaError naming the variable, the units and the file", async () => {
    const path = join(scratch, "bad-units.nc");
    writeFileSync(path, timeFile({ units: "seconds since launch" }));
    await assert.rejects(readNetCDF(path), (err: unknown) => {
      assert.ok(err instanceof SchemaError);
      assert.equal(err.variable, "/time");
      assert.equal(
        err.message,
        `variable '/time' of '${path}': unparseable time units 'seconds since launch'`,
      );
      return true;
    });
    // Still readable without time decoding.
    const raw = await readNetCDF(path, { decodeTimes: false });
    assert.deepEqual(variableAt(raw, "/time")?.data.toArray(), [0, 1]);
  });

  it("an unsupported calendar → SchemaError naming the variable, the calendar and the file", async () => {
    const path = join(scratch, "noleap.nc");
    writeFileSync(path, timeFile({ units: "days since 2000-01-01", calendar: "noleap" }));
    await assert.rejects(readNetCDF(path), (err: unknown) => {
      assert.ok(err instanceof SchemaError);
      assert.match(err.message, /variable '\/time' of '.*noleap\.nc': unsupported calendar 'noleap'/);
      return true;
    });
  });
});

describe("NetCDF3 features (files built by test/netcdf/nc3-writer.ts)", () => {
  it("reads record variables, a lone record variable, bytes, chars and UTF-8 text", async () => {
    const bytes = writeNetCDF3({
      dims: [
        { name: "obs", size: 0 },
        { name: "x", size: 3 },
        { name: "len", size: 5 },
      ],
      numrecs: 2,
      attrs: {
        title: "tést",
        levels: { type: "byte", values: [-1, 2] },
        pi: { type: "float", values: [3.14] },
      },
      vars: [
        { name: "label", type: "char", dims: ["x", "len"], data: "ab\0\0\0cde  xyzzy" },
        {
          name: "flag",
          type: "byte",
          dims: ["obs", "x"],
          attrs: { _FillValue: { type: "byte", values: [-127] } },
          data: [1, -1, -127, 4, 5, 6],
        },
        { name: "s", type: "short", dims: ["obs"], data: [7, -8] },
      ],
    });
    const file = await readNetCDF(bytes, { name: "mem.nc" });
    assert.deepEqual(file.attrs, { title: "tést", levels: [-1, 2], pi: Math.fround(3.14) });
    assert.deepEqual(
      [...file.root.dimensions.values()],
      [
        { name: "obs", size: 2, unlimited: true },
        { name: "x", size: 3, unlimited: false },
        { name: "len", size: 5, unlimited: false },
      ],
    );
    assert.deepEqual(variableAt(file, "/label")?.data.toArray(), ["ab", "cde", "xyzzy"]);
    assert.deepEqual(variableAt(file, "/label")?.dimensions, ["x"]);
    const flag = variableAt(file, "/flag");
    assert.equal(flag?.dtype, "int8");
    assert.deepEqual(flag?.data.toArray(), [1, -1, -127, 4, 5, 6]);
    assert.equal(flag?.fillValue, -127);
    assert.deepEqual(variableAt(file, "/s")?.data.toArray(), [7, -8]);

    const lone = writeNetCDF3({
      dims: [{ name: "obs", size: 0 }],
      numrecs: 3,
      vars: [{ name: "b", type: "byte", dims: ["obs"], data: [1, 2, 3] }],
    });
    assert.deepEqual(variableAt(await readNetCDF(lone), "/b")?.data.toArray(), [1, 2, 3]);
  });

  it("reads an empty record dimension", async () => {
    const bytes = writeNetCDF3({
      dims: [
        { name: "n", size: 0 },
        { name: "x", size: 2 },
      ],
      numrecs: 0,
      vars: [
        { name: "h", type: "float", dims: ["n", "x"], data: [] },
        { name: "c", type: "int", dims: ["x"], data: [4, 5] },
      ],
    });
    const file = await readNetCDF(bytes);
    assert.deepEqual(variableAt(file, "/h")?.data.shape, [0, 2]);
    assert.deepEqual(variableAt(file, "/c")?.data.toArray(), [4, 5]);
  });
});
