import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shapeForSize, tensorDataBytes } from './llama-shape.js';
import { buildVocab } from './vocab.js';
import { TINY_CHAT_TEMPLATE, writeTinyLlama } from './write-tiny-llama.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tea-fixture-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

describe('writeTinyLlama', () => {
  it('writes a GGUF an independent reader (@huggingface/gguf) parses, with llama metadata', async () => {
    const path = join(dir, 'tiny.gguf');
    const result = await writeTinyLlama(path);
    const parsed = await gguf(path, { allowLocalFile: true });
    const m = parsed.metadata as Record<string, unknown>;
    expect(m['general.architecture']).toBe('llama');
    expect(m['llama.embedding_length']).toBe(64);
    expect(m['llama.block_count']).toBe(2);
    expect(m['tokenizer.chat_template']).toBe(TINY_CHAT_TEMPLATE);
    const tokens = m['tokenizer.ggml.tokens'] as string[];
    expect(tokens).toHaveLength(result.vocabSize);
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(tokens).toContain('<0x0A>');
    expect(parsed.tensorInfos).toHaveLength(result.tensorCount);
    expect(parsed.tensorInfos[0]).toMatchObject({
      name: 'token_embd.weight',
      shape: [64n, BigInt(result.vocabSize)],
    });
    // Data starts aligned, and the last tensor ends exactly at the end of the file.
    const last = parsed.tensorInfos.at(-1)!;
    const lastBytes = 4 * last.shape.reduce((a, b) => a * Number(b), 1);
    expect(Number(parsed.tensorDataOffset) % 32).toBe(0);
    expect(Number(parsed.tensorDataOffset) + Number(last.offset) + lastBytes).toBe(result.bytes);
    expect((await readFile(path)).length).toBe(result.bytes);
  });

  it('is deterministic: same seed, same bytes; another seed, other weights', async () => {
    const a = join(dir, 'a.gguf');
    const b = join(dir, 'b.gguf');
    const c = join(dir, 'c.gguf');
    await writeTinyLlama(a, { seed: 7 });
    await writeTinyLlama(b, { seed: 7 });
    await writeTinyLlama(c, { seed: 8 });
    expect(await sha(a)).toBe(await sha(b));
    expect(await sha(a)).not.toBe(await sha(c));
  });

  it('zeroes the output rows of special and byte tokens', async () => {
    const path = join(dir, 'out.gguf');
    await writeTinyLlama(path);
    const parsed = await gguf(path, { allowLocalFile: true });
    const output = parsed.tensorInfos.find((t) => t.name === 'output.weight')!;
    const bytes = await readFile(path);
    const start = Number(parsed.tensorDataOffset + output.offset);
    const floats = new Float32Array(
      bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + start + 4 * 64 * 300),
    );
    const vocab = buildVocab();
    expect(floats.slice(0, 64 * vocab.firstTextToken).every((x) => x === 0)).toBe(true);
    expect(
      floats.slice(64 * vocab.firstTextToken, 64 * (vocab.firstTextToken + 1)).some((x) => x !== 0),
    ).toBe(true);
  });
});

describe('shapeForSize', () => {
  it.each([5 * 2 ** 20, 100 * 2 ** 20, 1024 * 2 ** 20])(
    'lands within 15%% of %d bytes',
    (target) => {
      const vocab = buildVocab().tokens.length;
      const shape = shapeForSize(target, vocab);
      const bytes = tensorDataBytes(shape, vocab);
      expect(Math.abs(bytes - target) / target).toBeLessThan(0.15);
      expect(shape.embd % shape.heads).toBe(0);
    },
  );
});
