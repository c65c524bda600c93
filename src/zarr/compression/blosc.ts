/**
 * The `blosc` bytes-to-bytes codec (docs/format.md §6.6: one blosc1 frame) through
 * numcodecs' WebAssembly c-blosc. Under Node its module is loaded through a
 * specifier bundlers do not follow, so browser builds leave it (1.3 MB with
 * the zstd one) out and a blosc chunk read in a browser fails with an error
 * naming the codec, unless `zcollection/wasm-codecs` is imported.
 *
 * Configuration (zarr v3 names): `cname` (`blosclz`, `lz4`, `lz4hc`,
 * `snappy`, `zlib`, `zstd`), `clevel` (0–9), `shuffle` (`"noshuffle"`,
 * `"shuffle"`, `"bitshuffle"`; 0/1/2 accepted too), `typesize`, `blocksize`
 * (0 = automatic). Defaults follow zarr-python: `zstd`, level 5, shuffle
 * `"shuffle"` (`"bitshuffle"` for 1-byte items), blocksize 0.
 *
 * Limitation: numcodecs' encoder writes frames with a fixed typesize of 4,
 * whatever the configuration says; frames stay valid for every reader (the
 * typesize is read from the frame header), only the shuffle efficiency for
 * other item sizes differs from zarr-python's output.
 *
 * @module
 */

import { IS_NODE, importNodeOnly } from "./runtime.js";

interface WasmBlosc {
  encode(data: Uint8Array): Promise<Uint8Array>;
  decode(data: Uint8Array): Promise<Uint8Array>;
}
interface WasmBloscClass {
  fromConfig(c: { cname: string; clevel: number; shuffle: number; blocksize: number; id: string }): WasmBlosc;
}

let mod: Promise<WasmBloscClass> | undefined;
let loader: (() => Promise<{ default: unknown }>) | undefined;

/**
 * Makes numcodecs' WebAssembly c-blosc available outside Node (browsers):
 * `load` must import `numcodecs/blosc` with a literal specifier, so that the
 * bundler includes it (see `wasm-codecs.ts`).
 */
export function registerWasmBlosc(load: () => Promise<{ default: unknown }>): void {
  loader = load;
  mod = undefined;
}

const load = (): Promise<WasmBloscClass> => {
  if (!IS_NODE && loader === undefined) {
    return Promise.reject(
      new Error(
        "blosc is not available in this browser build (no light decoder exists; c-blosc in " +
          "WebAssembly is 1.3 MB): import 'zcollection/wasm-codecs' to enable it, read this " +
          "collection from Node, or store it with zstd",
      ),
    );
  }
  // Not a literal import: browser bundles must not carry numcodecs' WebAssembly unless asked to.
  const importer = loader ?? (() => importNodeOnly<{ default: unknown }>("numcodecs/blosc"));
  mod ??= importer().then((m) => m.default as WasmBloscClass);
  return mod;
};

/** Validated blosc parameters. */
export interface BloscParams {
  readonly cname: string;
  readonly clevel: number;
  /** 0 = no shuffle, 1 = byte shuffle, 2 = bit shuffle. */
  readonly shuffle: 0 | 1 | 2;
  readonly blocksize: number;
}

const CNAMES = new Set(["blosclz", "lz4", "lz4hc", "snappy", "zlib", "zstd"]);
const SHUFFLES: Record<string, 0 | 1 | 2> = { noshuffle: 0, shuffle: 1, bitshuffle: 2 };

/**
 * Reads a blosc configuration; throws an `Error` naming the bad field
 * (the caller turns it into a CodecError naming the chunk).
 */
export function bloscParams(
  config: Readonly<Record<string, unknown>> | undefined,
  itemSize: number,
): BloscParams {
  const c = config ?? {};
  const cname = c.cname ?? "zstd";
  if (typeof cname !== "string" || !CNAMES.has(cname)) {
    throw new Error(
      `invalid blosc cname ${JSON.stringify(cname)} (expected one of ${[...CNAMES].join(", ")})`,
    );
  }
  const clevel = c.clevel ?? 5;
  if (typeof clevel !== "number" || !Number.isInteger(clevel) || clevel < 0 || clevel > 9) {
    throw new Error(`invalid blosc clevel ${JSON.stringify(clevel)} (expected an integer 0-9)`);
  }
  const s = c.shuffle ?? (itemSize === 1 ? "bitshuffle" : "shuffle");
  let shuffle: 0 | 1 | 2;
  if (typeof s === "string" && s in SHUFFLES) shuffle = SHUFFLES[s] as 0 | 1 | 2;
  else if (s === 0 || s === 1 || s === 2) shuffle = s;
  else
    throw new Error(
      `invalid blosc shuffle ${JSON.stringify(s)} (expected "noshuffle", "shuffle" or "bitshuffle")`,
    );
  const blocksize = c.blocksize ?? 0;
  if (typeof blocksize !== "number" || !Number.isInteger(blocksize) || blocksize < 0) {
    throw new Error(`invalid blosc blocksize ${JSON.stringify(blocksize)}`);
  }
  const typesize = c.typesize;
  if (
    typesize !== undefined &&
    typesize !== null &&
    (typeof typesize !== "number" || !Number.isInteger(typesize) || typesize < 1)
  ) {
    throw new Error(`invalid blosc typesize ${JSON.stringify(typesize)}`);
  }
  return { cname, clevel, shuffle, blocksize };
}

/** Compresses `data` into one blosc1 frame. */
export async function bloscEncode(data: Uint8Array, p: BloscParams): Promise<Uint8Array> {
  const B = await load();
  return B.fromConfig({ ...p, id: "blosc" }).encode(data);
}

/**
 * Decompresses one blosc1 frame. The frame's declared compressed size must
 * match the input length (catches truncation before c-blosc reads past it).
 */
export async function bloscDecode(data: Uint8Array): Promise<Uint8Array> {
  if (data.length < 16) throw new Error(`blosc frame too short (${data.length} bytes, header is 16)`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const cbytes = view.getUint32(12, true);
  if (cbytes !== data.length)
    throw new Error(`blosc frame declares ${cbytes} bytes but ${data.length} are present`);
  const B = await load();
  return B.fromConfig({ cname: "lz4", clevel: 5, shuffle: 1, blocksize: 0, id: "blosc" }).decode(data);
}
