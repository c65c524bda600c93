/**
 * The `blosc` bytes-to-bytes codec (FORMAT §6.6: one blosc1 frame) through
 * numcodecs' WebAssembly c-blosc, in every runtime.
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

interface WasmBlosc {
  encode(data: Uint8Array): Promise<Uint8Array>;
  decode(data: Uint8Array): Promise<Uint8Array>;
}
interface WasmBloscClass {
  fromConfig(c: { cname: string; clevel: number; shuffle: number; blocksize: number; id: string }): WasmBlosc;
}

let mod: Promise<WasmBloscClass> | undefined;
const load = (): Promise<WasmBloscClass> => {
  mod ??= import("numcodecs/blosc").then((m) => m.default as unknown as WasmBloscClass);
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
