import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { GGUFValueType, type GGUFTypedMetadata, serializeGgufMetadata } from '@huggingface/gguf';
import { createNormal } from './prng.js';

/** GGUF type ids of the tensor types the fixtures write or describe. */
export const GGML_TYPE = { F32: 0, F16: 1, Q8_0: 8, Q4_K: 12, Q6_K: 14 } as const;
export type GgmlTypeName = keyof typeof GGML_TYPE;

export const ALIGNMENT = 32;
export const padTo = (n: number) => (ALIGNMENT - (n % ALIGNMENT)) % ALIGNMENT;

/** One tensor-info record of a GGUF header (name, dims, type, data offset), little endian. */
export function tensorInfo(
  name: string,
  dims: number[],
  type: GgmlTypeName,
  offset: number,
): Buffer {
  const bytes = Buffer.from(name, 'utf8');
  const info = Buffer.alloc(8 + bytes.length + 4 + 8 * dims.length + 4 + 8);
  let o = info.writeBigUInt64LE(BigInt(bytes.length), 0);
  o += bytes.copy(info, o);
  o = info.writeUInt32LE(dims.length, o);
  for (const d of dims) o = info.writeBigUInt64LE(BigInt(d), o);
  o = info.writeUInt32LE(GGML_TYPE[type], o);
  info.writeBigUInt64LE(BigInt(offset), o);
  return info;
}

/** The GGUF header: version, counts, the given keys, tensor infos; not yet padded. */
export function ggufHeader(
  kv: Record<string, { value: unknown; type: GGUFValueType; subType?: GGUFValueType }>,
  infos: Buffer[],
): Buffer {
  const meta = serializeGgufMetadata(
    {
      version: { value: 3, type: GGUFValueType.UINT32 },
      tensor_count: { value: BigInt(infos.length), type: GGUFValueType.UINT64 },
      kv_count: { value: 0n, type: GGUFValueType.UINT64 },
      ...kv,
    } as unknown as GGUFTypedMetadata,
    { alignment: 1 },
  );
  return Buffer.concat([Buffer.from(meta), ...infos]);
}

/** IEEE half-precision bits of the float with bits `u` (round to nearest even). */
function halfOfBits(u: number): number {
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  const mant = u & 0x7fffff;
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    const m = (mant | 0x800000) >>> (1 - exp);
    return sign | ((m + 0x1000) >>> 13);
  }
  const half = sign | (exp << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  return rest > 0x1000 || (rest === 0x1000 && half & 1) ? half + 1 : half;
}

const one = new Float32Array(1);
const oneBits = new Uint32Array(one.buffer);

/** IEEE half-precision bits of a float. */
export function f16Bits(x: number): number {
  one[0] = x;
  return halfOfBits(oneBits[0]!);
}

/** How a tensor is filled: N(0, scale²), ones, or the output layer (zero rows below `zeroRows`). */
export interface TensorFill {
  kind: 'normal' | 'ones' | 'output';
  scale?: number;
}

/** A tensor with data to write. */
export interface DataTensor {
  name: string;
  dims: number[];
  type: 'F32' | 'F16';
  fill: TensorFill;
}

/**
 * Writes a complete GGUF with random data, streaming in blocks (multi-GB files need little
 * memory). Deterministic for a seed. `outputZeroRows`: rows of `output`-filled tensors kept at
 * zero (special and byte tokens, so generated text stays valid UTF-8).
 */
export async function writeGguf(
  path: string,
  kv: Record<string, { value: unknown; type: GGUFValueType; subType?: GGUFValueType }>,
  tensors: DataTensor[],
  options: { seed: number; outputZeroRows?: number },
): Promise<number> {
  const width = (t: DataTensor) => (t.type === 'F32' ? 4 : 2);
  const elements = (t: DataTensor) => t.dims.reduce((a, b) => a * b, 1);
  let offset = 0;
  const infos = tensors.map((t) => {
    const info = tensorInfo(t.name, t.dims, t.type, offset);
    const bytes = width(t) * elements(t);
    offset += bytes + padTo(bytes);
    return info;
  });
  const header = ggufHeader(kv, infos);
  const out = createWriteStream(path);
  let written = 0;
  const write = async (chunk: Uint8Array) => {
    written += chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
  };
  await write(header);
  await write(new Uint8Array(padTo(header.length)));
  const normal = createNormal(options.seed);
  const block = new Float32Array(1 << 18);
  const blockBits = new Uint32Array(block.buffer);
  const half = new Uint16Array(block.length);
  for (const t of tensors) {
    const rowLength = t.dims[0] ?? 1;
    const total = elements(t);
    const scale = t.fill.scale ?? 1;
    for (let done = 0; done < total; done += block.length) {
      const n = Math.min(block.length, total - done);
      for (let i = 0; i < n; i++) {
        if (t.fill.kind === 'ones') block[i] = 1;
        else if (
          t.fill.kind === 'output' &&
          Math.floor((done + i) / rowLength) < (options.outputZeroRows ?? 0)
        )
          block[i] = 0;
        else block[i] = normal() * scale;
      }
      if (t.type === 'F32') await write(new Uint8Array(block.buffer, 0, n * 4).slice());
      else {
        for (let i = 0; i < n; i++) half[i] = halfOfBits(blockBits[i]!);
        await write(new Uint8Array(half.buffer, 0, n * 2).slice());
      }
    }
    await write(new Uint8Array(padTo(width(t) * total)));
  }
  out.end();
  await once(out, 'close');
  return written;
}
