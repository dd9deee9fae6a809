import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { f16Bits } from './gguf-writer.js';
import { gemma3nHeader, headerTensorBytes, writeSparseGguf } from './model-headers.js';
import { writeGemma3n } from './write-gemma3n.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tea-gemma3n-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('f16Bits', () => {
  it('rounds to the nearest half, with subnormals, overflow and underflow', () => {
    expect(f16Bits(1)).toBe(0x3c00);
    expect(f16Bits(-2)).toBe(0xc000);
    expect(f16Bits(0.1)).toBe(0x2e66);
    expect(f16Bits(65504)).toBe(0x7bff);
    expect(f16Bits(1e6)).toBe(0x7c00);
    expect(f16Bits(2 ** -14)).toBe(0x0400); // smallest normal
    expect(f16Bits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(f16Bits(1e-9)).toBe(0);
  });
});

describe('writeGemma3n', () => {
  it("writes llama.cpp's gemma3n tensors in the E2B widths, F16, with an untied output", async () => {
    const path = join(dir, 'g.gguf');
    const result = await writeGemma3n(path, { layers: 1, variant: 'E2B' });
    const parsed = await gguf(path, { allowLocalFile: true });
    const m = parsed.metadata as Record<string, unknown>;
    expect(m['general.architecture']).toBe('gemma3n');
    expect(m['gemma3n.embedding_length']).toBe(2048);
    expect(m['gemma3n.feed_forward_length']).toBe(8192);
    expect(m['gemma3n.final_logit_softcapping']).toBe(30);
    const names = parsed.tensorInfos.map((t) => t.name);
    const expected = gemma3nHeader('E2B', { layers: 1, vocab: result.vocabSize }).tensors.map(
      (t) => t.name,
    );
    expect(names).toEqual([expected[0], 'output.weight', ...expected.slice(1)]);
    const q = parsed.tensorInfos.find((t) => t.name === 'blk.0.attn_q.weight')!;
    expect(q.shape.map(Number)).toEqual([2048, 2048]);
    expect(q.dtype).toBe(1); // F16
    expect(parsed.tensorInfos.find((t) => t.name === 'blk.0.attn_norm.weight')!.dtype).toBe(0);
    expect((await stat(path)).size).toBe(result.bytes);
  });
});

describe('writeSparseGguf', () => {
  it('claims the full size of the header while holding no weights', async () => {
    const header = gemma3nHeader('E4B');
    const file = await writeSparseGguf(join(dir, 'e4b.gguf'), header);
    const info = await stat(file.path);
    expect(info.size).toBe(file.bytes);
    expect(file.dataBytes).toBeGreaterThanOrEqual(
      header.tensors.reduce((n, t) => n + headerTensorBytes(t), 0),
    );
    expect(info.blocks * 512).toBeLessThan(1 << 20); // sparse: almost nothing on disk
    const parsed = await gguf(file.path, { allowLocalFile: true });
    expect(parsed.tensorInfos).toHaveLength(header.tensors.length);
  });
});
