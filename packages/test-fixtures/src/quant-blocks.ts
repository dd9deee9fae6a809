import { f16Bits } from './gguf-writer.js';

/**
 * ggml's k-quant block layouts (ggml-common.h), 256 weights per block:
 * - `block_q4_K`: f16 d, f16 dmin, 12 bytes of packed 6-bit scales and mins, 128 bytes of
 *   4-bit quants; weight = d·scale·q − dmin·min per 32-weight sub-block.
 * - `block_q6_K`: 128 bytes of low 4 bits, 64 bytes of high 2 bits, 16 int8 scales, f16 d;
 *   weight = d·scale·(q − 32) per 16-weight sub-block.
 */
export const QK_K = 256;
export const Q4_K_BYTES = 144;
export const Q6_K_BYTES = 210;

// Standard deviation of a uniform random 4-bit quant (0..15) and 6-bit quant (0..63).
const Q4_SPREAD = Math.sqrt((16 * 16 - 1) / 12);
const Q6_SPREAD = Math.sqrt((64 * 64 - 1) / 12);
// Smallest super-block scale aimed for: f16 normals start at 2^-14 (~6.1e-5); staying above
// 1e-4 keeps d a normal half with 11 significant bits.
const MIN_D = 1e-4;

/** The float value of IEEE half bits. */
export function halfToFloat(h: number): number {
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/**
 * The 16 fixed leading bytes (d, dmin, scales) of a Q4_K block that, with uniformly random
 * quant nibbles, dequantizes to zero-mean weights of standard deviation about `std`. Every
 * sub-block uses scale `sc` (a multiple of 8) and min `m = sc·15/8` with dmin = 4d, so
 * dmin·m = d·sc·7.5 exactly cancels the mean of the nibbles.
 */
export function q4kHead(std: number): Uint8Array {
  const sc = 8 * Math.min(4, Math.max(1, Math.floor(std / (Q4_SPREAD * 8 * MIN_D))));
  const m = (sc * 15) / 8;
  const dBits = f16Bits(std / (sc * Q4_SPREAD));
  const dminBits = f16Bits(4 * halfToFloat(dBits));
  const head = new Uint8Array(16);
  const view = new DataView(head.buffer);
  view.setUint16(0, dBits, true);
  view.setUint16(2, dminBits, true);
  // get_scale_min_k4: sub-blocks 0-3 keep scale/min in the low 6 bits of bytes 0-3 / 4-7;
  // sub-blocks 4-7 keep their low 4 bits in bytes 8-11 and their top 2 bits in the top bits
  // of bytes 0-3 (scale) and 4-7 (min).
  for (let j = 0; j < 4; j++) {
    head[4 + j] = (sc & 63) | ((sc >> 4) << 6);
    head[8 + j] = (m & 63) | ((m >> 4) << 6);
    head[12 + j] = (sc & 0xf) | ((m & 0xf) << 4);
  }
  return head;
}

/**
 * The 18 fixed trailing bytes (16 int8 scales, f16 d) of a Q6_K block that, with uniformly
 * random quant bits, dequantizes to weights of standard deviation about `std`. The scales
 * alternate in sign so the −0.5 mean of (q − 32) cancels over each pair of sub-blocks.
 */
export function q6kTail(std: number): Uint8Array {
  const sc = Math.min(127, Math.max(1, Math.floor(std / (Q6_SPREAD * MIN_D))));
  const tail = new Uint8Array(18);
  const view = new DataView(tail.buffer);
  for (let i = 0; i < 16; i++) view.setInt8(i, i % 2 ? -sc : sc);
  view.setUint16(16, f16Bits(std / (sc * Q6_SPREAD)), true);
  return tail;
}

/** Writes `head` (from `q4kHead`) over blocks [from, to) of a 4-byte-aligned buffer of Q4_K blocks. */
export function stampQ4K(buf: Uint8Array, from: number, to: number, head: Uint8Array): void {
  const words = new Uint32Array(buf.buffer, buf.byteOffset, (to * Q4_K_BYTES) >> 2);
  const h = new Uint32Array(head.buffer, head.byteOffset, 4);
  const [h0, h1, h2, h3] = [h[0]!, h[1]!, h[2]!, h[3]!];
  for (let w = from * (Q4_K_BYTES >> 2); w < words.length; w += Q4_K_BYTES >> 2) {
    words[w] = h0;
    words[w + 1] = h1;
    words[w + 2] = h2;
    words[w + 3] = h3;
  }
}

/** Writes `tail` (from `q6kTail`) over blocks [from, to) of a 2-byte-aligned buffer of Q6_K blocks. */
export function stampQ6K(buf: Uint8Array, from: number, to: number, tail: Uint8Array): void {
  const half = new Uint16Array(buf.buffer, buf.byteOffset, (to * Q6_K_BYTES) >> 1);
  const t = new Uint16Array(tail.buffer, tail.byteOffset, 9);
  const step = Q6_K_BYTES >> 1;
  for (let w = from * step + 96; w < half.length; w += step) {
    for (let i = 0; i < 9; i++) half[w + i] = t[i]!;
  }
}

/** Dequantizes one Q4_K block (ggml's `dequantize_row_q4_K`), for checks. */
export function dequantizeQ4K(block: Uint8Array): Float32Array {
  const view = new DataView(block.buffer, block.byteOffset, Q4_K_BYTES);
  const d = halfToFloat(view.getUint16(0, true));
  const dmin = halfToFloat(view.getUint16(2, true));
  const s = block.subarray(4, 16);
  const scaleMin = (j: number): [number, number] =>
    j < 4
      ? [s[j]! & 63, s[j + 4]! & 63]
      : [(s[j + 4]! & 0xf) | ((s[j - 4]! >> 6) << 4), (s[j + 4]! >> 4) | ((s[j]! >> 6) << 4)];
  const out = new Float32Array(QK_K);
  for (let chunk = 0; chunk < 4; chunk++) {
    const q = block.subarray(16 + 32 * chunk, 48 + 32 * chunk);
    const [sc1, m1] = scaleMin(2 * chunk);
    const [sc2, m2] = scaleMin(2 * chunk + 1);
    for (let l = 0; l < 32; l++) {
      out[64 * chunk + l] = d * sc1 * (q[l]! & 0xf) - dmin * m1;
      out[64 * chunk + 32 + l] = d * sc2 * (q[l]! >> 4) - dmin * m2;
    }
  }
  return out;
}

/** Dequantizes one Q6_K block (ggml's `dequantize_row_q6_K`), for checks. */
export function dequantizeQ6K(block: Uint8Array): Float32Array {
  const view = new DataView(block.buffer, block.byteOffset, Q6_K_BYTES);
  const d = halfToFloat(view.getUint16(208, true));
  const out = new Float32Array(QK_K);
  for (let half = 0; half < 2; half++) {
    const ql = block.subarray(64 * half, 64 * half + 64);
    const qh = block.subarray(128 + 32 * half, 160 + 32 * half);
    const sc = (i: number) => view.getInt8(192 + 8 * half + i);
    for (let l = 0; l < 32; l++) {
      const is = l >> 4;
      const y = 128 * half + l;
      out[y] = d * sc(is) * (((ql[l]! & 0xf) | ((qh[l]! & 3) << 4)) - 32);
      out[y + 32] = d * sc(is + 2) * (((ql[l + 32]! & 0xf) | (((qh[l]! >> 2) & 3) << 4)) - 32);
      out[y + 64] = d * sc(is + 4) * (((ql[l]! >> 4) | (((qh[l]! >> 4) & 3) << 4)) - 32);
      out[y + 96] = d * sc(is + 6) * (((ql[l + 32]! >> 4) | (((qh[l]! >> 6) & 3) << 4)) - 32);
    }
  }
  return out;
}
