import type { TensorSource } from './gguf-stream.js';
import { f16Bits } from './gguf-writer.js';
import { createWordStream } from './prng.js';
import {
  Q4_K_BYTES,
  Q6_K_BYTES,
  QK_K,
  q4kHead,
  q6kTail,
  stampQ4K,
  stampQ6K,
} from './quant-blocks.js';

/** Where a source's random bytes come from: one independent stream per (seed, tensor index). */
export interface SourceSeed {
  seed: number;
  stream: number;
}

const count = (dims: number[]) => dims.reduce((a, b) => a * b, 1);
const SQRT3 = Math.sqrt(3);

function words(buf: Uint8Array, length: number): Uint32Array {
  return new Uint32Array(buf.buffer, buf.byteOffset, Math.ceil(length / 4));
}

/**
 * A Q4_K or Q6_K tensor of random quants whose weights have standard deviation `std`; the first
 * `quietRows` rows get `std · quietFactor` instead (e.g. the embedding rows of special and byte
 * tokens, so that with tied embeddings they never win greedy decoding). Row length must be a
 * multiple of 256, as llama-quantize requires for k-quants.
 */
export function kQuantSource(
  name: string,
  dims: number[],
  type: 'Q4_K' | 'Q6_K',
  std: number,
  from: SourceSeed,
  quiet: { rows: number; factor: number } = { rows: 0, factor: 1 },
): TensorSource {
  const rowLength = dims[0]!;
  if (rowLength % QK_K !== 0) throw new RangeError(`${name}: row length ${rowLength} % 256 ≠ 0`);
  const blockBytes = type === 'Q4_K' ? Q4_K_BYTES : Q6_K_BYTES;
  const fixed = type === 'Q4_K' ? q4kHead : q6kTail;
  const stamp = type === 'Q4_K' ? stampQ4K : stampQ6K;
  const normal = fixed(std);
  const quietHead = fixed(std * quiet.factor);
  const blocksPerRow = rowLength / QK_K;
  const quietBlocks = quiet.rows * blocksPerRow;
  const rng = createWordStream(from.seed, from.stream);
  return {
    name,
    dims,
    type,
    bytes: (count(dims) / QK_K) * blockBytes,
    unit: blockBytes,
    fill(buf, length, start) {
      rng.fill(words(buf, length));
      const first = start / blockBytes;
      const n = length / blockBytes;
      const split = Math.min(n, Math.max(0, quietBlocks - first));
      if (split > 0) stamp(buf, 0, split, quietHead);
      if (split < n) stamp(buf, split, n, normal);
    },
  };
}

/** An F16 tensor of uniform random values with standard deviation `std` (16 random bits each). */
export function f16Source(
  name: string,
  dims: number[],
  std: number,
  from: SourceSeed,
): TensorSource {
  // Uniform on (-a, a) with a = std·√3, quantised to 65536 levels: one table lookup per weight.
  const table = new Uint16Array(65536);
  for (let i = 0; i < table.length; i++) table[i] = f16Bits(((i + 0.5) / 32768 - 1) * std * SQRT3);
  const rng = createWordStream(from.seed, from.stream);
  return {
    name,
    dims,
    type: 'F16',
    bytes: count(dims) * 2,
    unit: 2,
    fill(buf, length) {
      rng.fill(words(buf, length));
      const half = new Uint16Array(buf.buffer, buf.byteOffset, length >> 1);
      for (let i = 0; i < half.length; i++) half[i] = table[half[i]!]!;
    },
  };
}

/** An F32 tensor filled with `value`, or uniform random values of standard deviation `std`. */
export function f32Source(
  name: string,
  dims: number[],
  fill: { value: number } | { std: number },
  from: SourceSeed,
): TensorSource {
  const rng = createWordStream(from.seed, from.stream);
  return {
    name,
    dims,
    type: 'F32',
    bytes: count(dims) * 4,
    unit: 4,
    fill(buf, length) {
      const out = new Float32Array(buf.buffer, buf.byteOffset, length >> 2);
      if ('value' in fill) {
        out.fill(fill.value);
        return;
      }
      const bits = new Uint32Array(out.length);
      rng.fill(bits);
      const a = fill.std * SQRT3;
      for (let i = 0; i < out.length; i++) out[i] = ((bits[i]! + 0.5) / 2 ** 31 - 1) * a;
    },
  };
}
