import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GGML_TYPE } from './gguf-writer.js';
import { gemma3nHeader, headerTensorBytes, quantizedOrder } from './model-headers.js';
import {
  dequantizeQ4K,
  dequantizeQ6K,
  halfToFloat,
  Q4_K_BYTES,
  Q6_K_BYTES,
} from './quant-blocks.js';
import { writeGemma3nQ4KM } from './write-gemma3n-q4km.js';
import { sidRoot } from './sid-root.js';

// One E2B layer (attn_v and ffn_down are Q6_K there, the other matrices Q4_K) and a 1024-token
// vocabulary: ~60 MB, written in well under a second.
const SMALL = { variant: 'E2B', layers: 1, vocab: 1024 } as const;

let dir: string;
let path: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tea-gemma3n-q4km-'));
  path = join(dir, 'a.gguf');
  await writeGemma3nQ4KM(path, SMALL);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha256 = (file: string) =>
  new Promise<string>((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => hash.update(d))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });

/** The data of one tensor, values dequantized. */
const parses = new Map<string, ReturnType<typeof gguf>>();
async function tensorValues(file: string, name: string) {
  if (!parses.has(file)) parses.set(file, gguf(file, { allowLocalFile: true }));
  const parsed = await parses.get(file)!;
  const info = parsed.tensorInfos.find((t) => t.name === name)!;
  const dims = info.shape.map(Number);
  const type = Object.entries(GGML_TYPE).find(([, id]) => id === info.dtype)![0];
  const bytes = headerTensorBytes({ name, dims, type: type as keyof typeof GGML_TYPE });
  const data = new Uint8Array(bytes);
  const fh = await open(file);
  await fh.read(data, 0, bytes, Number(parsed.tensorDataOffset + info.offset));
  await fh.close();
  const values = new Float32Array(dims.reduce((a, b) => a * b, 1));
  const block = type === 'Q4_K' ? Q4_K_BYTES : Q6_K_BYTES;
  for (let b = 0; b < values.length / 256 && type[0] === 'Q'; b++) {
    const bytesOf = data.subarray(b * block, (b + 1) * block);
    values.set(type === 'Q4_K' ? dequantizeQ4K(bytesOf) : dequantizeQ6K(bytesOf), b * 256);
  }
  if (type === 'F16') {
    const half = new Uint16Array(data.buffer);
    for (let i = 0; i < values.length; i++) values[i] = halfToFloat(half[i]!);
  }
  return { dims, type, values };
}

const std = (v: Float32Array) => {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return { mean, std: Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length) };
};

describe('writeGemma3nQ4KM', () => {
  it("writes the Q4_K_M tensors in llama-quantize's types, order and offsets", async () => {
    const parsed = await gguf(path, { allowLocalFile: true });
    const want = quantizedOrder(gemma3nHeader('E2B', { layers: 1, vocab: 1024 }).tensors);
    expect(parsed.tensorInfos.map((t) => t.name)).toEqual(want.map((t) => t.name));
    expect(parsed.tensorInfos.map((t) => t.dtype)).toEqual(want.map((t) => GGML_TYPE[t.type]));
    let offset = 0n;
    for (const [i, t] of parsed.tensorInfos.entries()) {
      expect(t.offset).toBe(offset);
      const bytes = BigInt(headerTensorBytes(want[i]!));
      offset += bytes + ((32n - (bytes % 32n)) % 32n);
    }
    expect(BigInt((await stat(path)).size)).toBe(parsed.tensorDataOffset + offset);
    const m = parsed.metadata as Record<string, unknown>;
    expect(m['general.architecture']).toBe('gemma3n');
    expect(m['general.file_type']).toBe(15); // MOSTLY_Q4_K_M
    expect((m['tokenizer.ggml.tokens'] as string[]).length).toBe(1024);
    expect(m['tokenizer.ggml.bos_token_id']).toBe(2);
    expect(m['tokenizer.chat_template']).toContain('<start_of_turn>');
    expect(parsed.tensorInfos.some((t) => t.name === 'output.weight')).toBe(false); // tied
  });

  it('gives weights of std 1/sqrt(fan-in), zero mean, finite, and quiet special-token rows', async () => {
    for (const name of [
      'blk.0.attn_q.weight', // Q4_K
      'blk.0.ffn_down.weight', // Q6_K, fan-in 8192
      'blk.0.proj.weight', // Q4_K, fan-in 256
      'per_layer_token_embd.weight', // Q6_K
      'blk.0.laurel_l.weight', // F16
    ]) {
      const { dims, values } = await tensorValues(path, name);
      const s = std(values);
      expect(values.every(Number.isFinite), name).toBe(true);
      expect(s.std * Math.sqrt(dims[0]!), name).toBeCloseTo(1, 1);
      expect(Math.abs(s.mean) * Math.sqrt(dims[0]!), name).toBeLessThan(0.02);
    }
    const embd = await tensorValues(path, 'token_embd.weight');
    const row = 2048;
    const special = std(embd.values.subarray(0, 363 * row)).std;
    const text = std(embd.values.subarray(363 * row)).std;
    expect(text * Math.sqrt(2048)).toBeCloseTo(1 / 8, 2); // EMBED_SCALE
    expect(special / text).toBeCloseTo(1 / 16, 2); // QUIET
  });

  it('is deterministic: same seed, same bytes; another seed, other bytes of the same size', async () => {
    const again = join(dir, 'b.gguf');
    const other = join(dir, 'c.gguf');
    await writeGemma3nQ4KM(again, SMALL);
    await writeGemma3nQ4KM(other, { ...SMALL, seed: 2 });
    expect(await sha256(again)).toBe(await sha256(path));
    expect(await sha256(other)).not.toBe(await sha256(path));
    expect((await stat(other)).size).toBe((await stat(path)).size);
  });
});

// llama.cpp's gguf-py (Debian's python3-gguf in the offline toolchain's userland) reads the file
// and dequantizes with its own implementation of ggml's block formats.
const sid = sidRoot();
const hasGgufPy =
  process.getuid?.() === 0 && existsSync(join(sid, 'usr/lib/python3/dist-packages/gguf'));

describe.runIf(hasGgufPy)("against llama.cpp's gguf-py", () => {
  it('reads the same tensors and types, and dequantizes blocks to the same values', async () => {
    const name = `tea-q4km-${process.pid}.gguf`;
    mkdirSync(join(sid, 'tmp'), { recursive: true });
    const file = join(sid, 'tmp', name);
    await writeGemma3nQ4KM(file, SMALL);
    try {
      const script = `import json, numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize
r = GGUFReader('/tmp/${name}')
out = {}
for t in r.tensors:
    q = t.tensor_type.name.startswith('Q')
    v = dequantize(t.data[:1], t.tensor_type).astype(np.float64).ravel() if q else np.zeros(1)
    out[t.name] = [t.tensor_type.name, v[:256].tolist()]
print(json.dumps(out))`;
      const py = JSON.parse(
        execFileSync(
          'chroot',
          [sid, '/usr/bin/env', '-i', 'PATH=/usr/bin:/bin', 'python3', '-c', script],
          {
            encoding: 'utf8',
            maxBuffer: 1 << 26,
          },
        ),
      ) as Record<string, [string, number[]]>;
      const want = quantizedOrder(gemma3nHeader('E2B', { layers: 1, vocab: 1024 }).tensors);
      expect(Object.keys(py)).toEqual(want.map((t) => t.name));
      for (const t of want) {
        const [type, first] = py[t.name]!;
        expect(type, t.name).toBe(t.type);
        if (t.type[0] !== 'Q') continue;
        const ours = await tensorValues(file, t.name);
        // Same values up to float32 rounding of the intermediate products.
        const diff = first.reduce((m, x, i) => Math.max(m, Math.abs(x - ours.values[i]!)), 0);
        expect(diff, t.name).toBeLessThan(1e-7);
      }
    } finally {
      await rm(file, { force: true });
    }
  });
});
