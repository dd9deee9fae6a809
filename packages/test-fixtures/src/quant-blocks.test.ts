import { describe, expect, it } from 'vitest';
import { f16Bits } from './gguf-writer.js';
import { headerTensorBytes } from './model-headers.js';
import { createWordStream } from './prng.js';
import {
  dequantizeQ4K,
  dequantizeQ6K,
  halfToFloat,
  Q4_K_BYTES,
  Q6_K_BYTES,
  q4kHead,
  q6kTail,
  stampQ4K,
  stampQ6K,
} from './quant-blocks.js';

/** `blocks` random blocks with the fixed bytes stamped, dequantized into one array. */
function randomBlocks(type: 'Q4_K' | 'Q6_K', std: number, blocks: number) {
  const size = type === 'Q4_K' ? Q4_K_BYTES : Q6_K_BYTES;
  const buf = new Uint8Array(blocks * size + 4);
  createWordStream(7).fill(new Uint32Array(buf.buffer, 0, buf.length >> 2));
  if (type === 'Q4_K') stampQ4K(buf, 0, blocks, q4kHead(std));
  else stampQ6K(buf, 0, blocks, q6kTail(std));
  const values = new Float32Array(blocks * 256);
  for (let b = 0; b < blocks; b++) {
    const block = buf.subarray(b * size, (b + 1) * size);
    values.set(type === 'Q4_K' ? dequantizeQ4K(block) : dequantizeQ6K(block), b * 256);
  }
  return { buf, values };
}

const stats = (v: Float32Array) => {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  return { mean, std, max: v.reduce((a, b) => Math.max(a, Math.abs(b)), 0) };
};

describe('block layouts', () => {
  it("match ggml's block_q4_K (144 B) and block_q6_K (210 B) per 256 weights", () => {
    expect(Q4_K_BYTES).toBe(2 + 2 + 12 + 128);
    expect(Q6_K_BYTES).toBe(128 + 64 + 16 + 2);
    expect(headerTensorBytes({ name: 'x', dims: [2048, 2048], type: 'Q4_K' })).toBe(
      ((2048 * 2048) / 256) * 144,
    );
    expect(headerTensorBytes({ name: 'x', dims: [2048, 512], type: 'Q6_K' })).toBe(
      ((2048 * 512) / 256) * 210,
    );
  });
});

describe('q4kHead', () => {
  it('packs scale 32 and min 60 for every sub-block, dmin = 4·d, as get_scale_min_k4 reads them', () => {
    const head = q4kHead(1 / Math.sqrt(2048));
    const view = new DataView(head.buffer);
    const d = halfToFloat(view.getUint16(0, true));
    expect(halfToFloat(view.getUint16(2, true))).toBe(4 * d);
    expect([...head.subarray(4)]).toEqual([
      ...[160, 160, 160, 160], // scale 32 | top bits of sub-blocks 4-7's scale (2) << 6
      ...[252, 252, 252, 252], // min 60 | top bits of sub-blocks 4-7's min (3) << 6
      ...[0xc0, 0xc0, 0xc0, 0xc0], // low nibbles of sub-blocks 4-7: scale 0, min 12
    ]);
  });

  it('gives zero-mean weights of the asked std, with d a normal half', () => {
    for (const std of [1 / Math.sqrt(256), 1 / Math.sqrt(2048), 1 / Math.sqrt(16384)]) {
      const s = stats(randomBlocks('Q4_K', std, 64).values);
      expect(Math.abs(s.mean)).toBeLessThan(std * 0.02);
      expect(s.std / std).toBeCloseTo(1, 1);
      expect(s.max).toBeLessThan(std * 2);
      expect(new DataView(q4kHead(std).buffer).getUint16(0, true) & 0x7c00).not.toBe(0);
    }
  });
});

describe('q6kTail', () => {
  it('alternates int8 scales in sign and gives zero-mean weights of the asked std', () => {
    const tail = q6kTail(1 / Math.sqrt(2048));
    const scales = [...new Int8Array(tail.buffer, 0, 16)];
    expect(scales.every((s, i) => s === (i % 2 ? -scales[0]! : scales[0]!))).toBe(true);
    for (const std of [1 / Math.sqrt(2048), 1 / Math.sqrt(8960), 1 / Math.sqrt(2048) / 128]) {
      const s = stats(randomBlocks('Q6_K', std, 64).values);
      expect(Math.abs(s.mean)).toBeLessThan(std * 0.02);
      expect(s.std / std).toBeCloseTo(1, 1);
      expect(s.max).toBeLessThan(std * 2);
    }
  });
});

describe('stampQ4K / stampQ6K', () => {
  it('overwrite only the fixed bytes of each block', () => {
    const { buf } = randomBlocks('Q6_K', 0.02, 3);
    const tail = q6kTail(0.02);
    for (let b = 0; b < 3; b++)
      expect([...buf.subarray(b * 210 + 192, b * 210 + 210)]).toEqual([...tail]);
    const before = buf.slice();
    stampQ6K(buf, 1, 2, q6kTail(0.5)); // block 1 only
    expect(buf.subarray(0, 210)).toEqual(before.subarray(0, 210));
    expect(buf.subarray(210, 402)).toEqual(before.subarray(210, 402));
    expect(buf.subarray(420)).toEqual(before.subarray(420));
    const q4 = randomBlocks('Q4_K', 0.02, 2).buf;
    expect([...q4.subarray(144, 160)]).toEqual([...q4kHead(0.02)]);
  });
});

describe('halfToFloat', () => {
  it('inverts f16Bits on normals, subnormals and infinity', () => {
    for (const x of [1, -2, 0.1, 65504, 2 ** -14, 2 ** -24, 1e-4, 0.0220947265625]) {
      expect(halfToFloat(f16Bits(x))).toBeCloseTo(x, 4);
      expect(f16Bits(halfToFloat(f16Bits(x)))).toBe(f16Bits(x));
    }
    expect(halfToFloat(0x7c00)).toBe(Infinity);
  });
});

describe('createWordStream', () => {
  it('is deterministic per (seed, stream), continues across calls, and streams differ', () => {
    const a = new Uint32Array(64);
    const b = new Uint32Array(64);
    createWordStream(1, 3).fill(a);
    const s = createWordStream(1, 3);
    s.fill(b, 0, 10);
    s.fill(b, 10);
    expect(b).toEqual(a);
    const c = new Uint32Array(64);
    createWordStream(1, 4).fill(c);
    expect(c).not.toEqual(a);
    createWordStream(2, 3).fill(c);
    expect(c).not.toEqual(a);
  });
});
