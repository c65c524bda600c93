/**
 * Access to the expected values extracted by `scripts/extract-expected.py`
 * (netCDF-C's ncdump, an independent reader) and comparison helpers.
 */

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { AttributeValue } from "../../src/netcdf/types.js";

export const DATA_DIR = "examples/data";
export const EXPECTED_DIR = "test/fixtures/netcdf-expected";

export interface ExpectedAttribute {
  type: string;
  value: string | (number | string)[];
}

export interface ExpectedSample {
  index: number;
  raw: number | string;
  value: number | string | null;
}

export interface ExpectedVariable {
  type: string;
  dimensions: string[];
  shape: number[];
  kind: "time" | "packed" | "float" | "int";
  attributes: Record<string, ExpectedAttribute>;
  count: number;
  missing: number;
  samples: ExpectedSample[];
  row_first_valid?: Record<string, string>;
}

export interface ExpectedFile {
  file: string;
  sha256: string;
  kind: string;
  global_attributes: Record<string, ExpectedAttribute>;
  groups: Record<
    string,
    { dimensions: Record<string, { size: number | null; unlimited: boolean }>; variables: string[] }
  >;
  variables: Record<string, ExpectedVariable>;
}

/** Every expected file, by product file name. */
export function expectedFiles(): ExpectedFile[] {
  return readdirSync(EXPECTED_DIR)
    .filter((f) => f.endsWith(".nc.json"))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(EXPECTED_DIR, f), "utf8")) as ExpectedFile);
}

/** The expected file of one product. */
export function expectedFor(prefix: string): ExpectedFile {
  const found = expectedFiles().find((e) => e.file.startsWith(prefix));
  if (found === undefined) throw new Error(`no expected values for ${prefix}`);
  return found;
}

/** The library's representation of an attribute ncdump printed. */
export function attributeOf(expected: ExpectedAttribute): AttributeValue {
  if (expected.type === "char") return expected.value as string;
  const values = (expected.value as (number | string)[]).map((v): number | bigint => {
    if (expected.type === "int64" || expected.type === "uint64") return BigInt(v);
    if (v === "NaN") return Number.NaN;
    return expected.type === "float" ? Math.fround(v as number) : (v as number);
  });
  if (values.length === 1) return values[0] as number | bigint;
  return values as number[] | bigint[];
}

/** The raw value of a sample as the library stores it (NaN for "NaN", float32 precision for floats). */
export function rawOf(sample: ExpectedSample, type: string): number {
  if (sample.raw === "NaN") return Number.NaN;
  return type === "float" ? Math.fround(sample.raw as number) : (sample.raw as number);
}

/** |a - b| <= tol * max(|a|, |b|), or both NaN. */
export function closeTo(actual: number, expected: number, tol = 1e-9): boolean {
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  return Math.abs(actual - expected) <= tol * Math.max(Math.abs(actual), Math.abs(expected));
}
