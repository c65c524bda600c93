/**
 * XXH64 (seed 0), only used to add the Zstandard frame checksum (the low
 * 32 bits of XXH64 of the content) when the compressor at hand cannot write
 * it itself (the portable WebAssembly zstd). The bulk of the input (its
 * 32-byte stripes) goes through a 282-byte WebAssembly kernel with native
 * 64-bit multiplies, 64 KiB at a time, so that hashing costs a small
 * fraction of compressing; the rest (and the bulk too where WebAssembly is
 * unavailable) uses 64-bit words as pairs of unsigned 32-bit halves.
 *
 * @module
 */

// Primes as [high, low] 32-bit halves.
const P1H = 0x9e3779b1;
const P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d;
const P2L = 0x27d4eb4f;
const P3H = 0x165667b1;
const P3L = 0x9e3779f9;
const P4H = 0x85ebca77;
const P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f;
const P5L = 0x165667c5;
const TWO32 = 4294967296;

// Result of the last operation (high and low halves): no allocation per step.
let H = 0;
let L = 0;

/** (ah:al) × (bh:bl) mod 2^64 → H:L. */
function mul(ah: number, al: number, bh: number, bl: number): void {
  const a0 = al & 0xffff;
  const a1 = al >>> 16;
  const b0 = bl & 0xffff;
  const b1 = bl >>> 16;
  const mid = a1 * b0 + a0 * b1; // < 2^33, exact
  const lo = a0 * b0 + (mid & 0xffff) * 65536; // < 2^33, exact
  L = lo >>> 0;
  H =
    (a1 * b1 + Math.floor(mid / 65536) + (lo >= TWO32 ? 1 : 0) + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
}

/** (ah:al) + (bh:bl) mod 2^64 → H:L. */
function add(ah: number, al: number, bh: number, bl: number): void {
  const lo = al + bl;
  L = lo >>> 0;
  H = (ah + bh + (lo >= TWO32 ? 1 : 0)) >>> 0;
}

/** rotl64(h:l, r) for 0 < r < 32 → H:L. */
function rotl(h: number, l: number, r: number): void {
  H = ((h << r) | (l >>> (32 - r))) >>> 0;
  L = ((l << r) | (h >>> (32 - r))) >>> 0;
}

/** XXH64 round: rotl(acc + input × P2, 31) × P1 → H:L. */
function round(ah: number, al: number, ih: number, il: number): void {
  mul(ih, il, P2H, P2L);
  add(ah, al, H, L);
  rotl(H, L, 31);
  mul(H, L, P1H, P1L);
}

/**
 * The stripe loop of XXH64 in WebAssembly, assembled from this WAT:
 *
 * ```wat
 * (module
 *   (memory (export "memory") 1)
 *   (func (export "stripes") (param $p i32) (param $end i32)
 *     (local $v1 i64) (local $v2 i64) (local $v3 i64) (local $v4 i64)
 *     ;; the accumulators v1..v4 are the i64 at bytes 0, 8, 16, 24
 *     (local.set $v1 (i64.load (i32.const 0))) ... ;; v2..v4 likewise
 *     (block $done
 *       (loop $next
 *         (br_if $done (i32.gt_u (i32.add (local.get $p) (i32.const 32)) (local.get $end)))
 *         ;; vK = rotl(vK + load(p + 8(K-1)) * P2, 31) * P1, for K = 1..4
 *         (local.set $v1 (i64.mul (i64.rotl (i64.add (local.get $v1)
 *           (i64.mul (i64.load offset=0 (local.get $p)) (i64.const 0xc2b2ae3d27d4eb4f)))
 *           (i64.const 31)) (i64.const 0x9e3779b185ebca87))) ... ;; offsets 8, 16, 24
 *         (local.set $p (i32.add (local.get $p) (i32.const 32)))
 *         (br $next)))
 *     (i64.store (i32.const 0) (local.get $v1)) ...)) ;; v2..v4 likewise
 * ```
 */
const STRIPES_WASM =
  "AGFzbQEAAAABBgFgAn9/AAMCAQAFAwEAAQcUAgZtZW1vcnkCAAdzdHJpcGVzAAAK6AEB5QEBBH5BACkDACECQQgpAwAhA0EQKQMAIQRBGCkDACEFAkADQCAAQSBqIAFLDQEgAiAAKQMAQs/W077Sx6vZQn58Qh+JQoeVr6+Ytt6bnn9+IQIgAyAAKQMIQs/W077Sx6vZQn58Qh+JQoeVr6+Ytt6bnn9+IQMgBCAAKQMQQs/W077Sx6vZQn58Qh+JQoeVr6+Ytt6bnn9+IQQgBSAAKQMYQs/W077Sx6vZQn58Qh+JQoeVr6+Ytt6bnn9+IQUgAEEgaiEADAALC0EAIAI3AwBBCCADNwMAQRAgBDcDAEEYIAU3AwAL";

/** Bytes of stripes hashed per kernel call: the kernel's one page of memory after the accumulators. */
const KERNEL_BLOCK = 65536 - 32;

interface Kernel {
  readonly memory: WebAssembly.Memory;
  readonly stripes: (p: number, end: number) => void;
}

let kernel: Kernel | null | undefined;

/** The WebAssembly kernel, instantiated on first use; `null` where WebAssembly is unavailable. */
function stripeKernel(): Kernel | null {
  if (kernel !== undefined) return kernel;
  try {
    const bytes = Uint8Array.from(atob(STRIPES_WASM), (c) => c.charCodeAt(0));
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
    kernel = instance.exports as unknown as Kernel;
  } catch {
    kernel = null;
  }
  return kernel;
}

/**
 * Folds the whole 32-byte stripes of `data` into the accumulators `v`
 * (v1..v4 as high, low halves) and returns the number of bytes consumed.
 */
function foldStripes(data: Uint8Array, v: number[]): number {
  const n = data.length;
  const whole = n - (n % 32);
  const k = whole >= 256 ? stripeKernel() : null;
  if (k !== null) {
    const mem = new Uint8Array(k.memory.buffer);
    const acc = new DataView(k.memory.buffer, 0, 32);
    for (let j = 0; j < 4; j++) {
      acc.setUint32(8 * j, v[2 * j + 1] as number, true);
      acc.setUint32(8 * j + 4, v[2 * j] as number, true);
    }
    for (let o = 0; o < whole; o += KERNEL_BLOCK) {
      const block = Math.min(KERNEL_BLOCK, whole - o);
      mem.set(data.subarray(o, o + block), 32);
      k.stripes(32, 32 + block);
    }
    for (let j = 0; j < 4; j++) {
      v[2 * j + 1] = acc.getUint32(8 * j, true);
      v[2 * j] = acc.getUint32(8 * j + 4, true);
    }
    return whole;
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let [v1h, v1l, v2h, v2l, v3h, v3l, v4h, v4l] = v as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  for (let i = 0; i < whole; i += 32) {
    round(v1h, v1l, view.getUint32(i + 4, true), view.getUint32(i, true));
    v1h = H;
    v1l = L;
    round(v2h, v2l, view.getUint32(i + 12, true), view.getUint32(i + 8, true));
    v2h = H;
    v2l = L;
    round(v3h, v3l, view.getUint32(i + 20, true), view.getUint32(i + 16, true));
    v3h = H;
    v3l = L;
    round(v4h, v4l, view.getUint32(i + 28, true), view.getUint32(i + 24, true));
    v4h = H;
    v4l = L;
  }
  v.splice(0, 8, v1h, v1l, v2h, v2l, v3h, v3l, v4h, v4l);
  return whole;
}

/** XXH64 of `data` with seed 0, as an unsigned 64-bit BigInt. */
export function xxh64(data: Uint8Array): bigint {
  const [h, l] = xxh64Halves(data);
  return (BigInt(h) << 32n) | BigInt(l);
}

function xxh64Halves(data: Uint8Array): [number, number] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const n = data.length;
  let i = 0;
  let hh: number;
  let hl: number;
  if (n >= 32) {
    add(P1H, P1L, P2H, P2L);
    // v1 = P1 + P2, v2 = P2, v3 = 0, v4 = 2^64 - P1 = 0x61c8864e7a143579
    const v = [H, L, P2H, P2L, 0, 0, 0x61c8864e, 0x7a143579];
    i = foldStripes(data, v);
    const [v1h, v1l, v2h, v2l, v3h, v3l, v4h, v4l] = v as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    rotl(v1h, v1l, 1);
    let sh = H;
    let sl = L;
    rotl(v2h, v2l, 7);
    add(sh, sl, H, L);
    sh = H;
    sl = L;
    rotl(v3h, v3l, 12);
    add(sh, sl, H, L);
    sh = H;
    sl = L;
    rotl(v4h, v4l, 18);
    add(sh, sl, H, L);
    hh = H;
    hl = L;
    for (const [vh, vl] of [
      [v1h, v1l],
      [v2h, v2l],
      [v3h, v3l],
      [v4h, v4l],
    ] as const) {
      // h = (h ^ round(0, v)) * P1 + P4
      round(0, 0, vh, vl);
      mul((hh ^ H) >>> 0, (hl ^ L) >>> 0, P1H, P1L);
      add(H, L, P4H, P4L);
      hh = H;
      hl = L;
    }
  } else {
    hh = P5H;
    hl = P5L;
  }
  // h += n (n < 2^53)
  add(hh, hl, Math.floor(n / TWO32), n >>> 0);
  hh = H;
  hl = L;
  for (; i + 8 <= n; i += 8) {
    round(0, 0, view.getUint32(i + 4, true), view.getUint32(i, true));
    rotl((hh ^ H) >>> 0, (hl ^ L) >>> 0, 27);
    mul(H, L, P1H, P1L);
    add(H, L, P4H, P4L);
    hh = H;
    hl = L;
  }
  if (i + 4 <= n) {
    mul(0, view.getUint32(i, true), P1H, P1L);
    rotl((hh ^ H) >>> 0, (hl ^ L) >>> 0, 23);
    mul(H, L, P2H, P2L);
    add(H, L, P3H, P3L);
    hh = H;
    hl = L;
    i += 4;
  }
  for (; i < n; i++) {
    mul(0, data[i] as number, P5H, P5L);
    rotl((hh ^ H) >>> 0, (hl ^ L) >>> 0, 11);
    mul(H, L, P1H, P1L);
    hh = H;
    hl = L;
  }
  // Avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32.
  hl = (hl ^ (hh >>> 1)) >>> 0;
  mul(hh, hl, P2H, P2L);
  hh = H;
  hl = L;
  hl = (hl ^ ((hl >>> 29) | (hh << 3))) >>> 0;
  hh = (hh ^ (hh >>> 29)) >>> 0;
  mul(hh, hl, P3H, P3L);
  hh = H;
  hl = L;
  hl = (hl ^ hh) >>> 0;
  return [hh, hl];
}
