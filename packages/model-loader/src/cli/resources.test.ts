import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildVocab, TINY_SHAPE, writeTinyLlama } from '@the-edge-agent/test-fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseModelIndex } from '../model-index.js';
import { indexModels } from './index-models.js';
import { inspect } from './inspect.js';
import { pack } from './pack.js';
import { CPU_HEAP_MODEL_LIMIT, runModes } from './resources.js';

let dir: string;
let source: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tea-resources-'));
  source = join(dir, 'tiny.gguf');
  await writeTinyLlama(source, { seed: 5 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('resource needs from the GGUF header', () => {
  it('splits weights into CPU-side embeddings and offloadable bytes, and sizes the KV cache', async () => {
    const info = await inspect(source);
    const { embd, heads, layers } = TINY_SHAPE;
    const vocab = buildVocab().tokens.length;
    const r = info.resources;
    // F32 fixture: token_embd is vocab x embd floats (plus alignment padding at most).
    expect(r.cpuBytes).toBeGreaterThanOrEqual(vocab * embd * 4);
    expect(r.cpuBytes).toBeLessThan(vocab * embd * 4 + 32);
    expect(r.offloadableBytes).toBe(r.weightsBytes - r.cpuBytes);
    expect(r.weightsBytes).toBeLessThanOrEqual(info.bytes);
    // K and V, f16, every layer, all heads of head_dim = embd / heads.
    expect(r.kvBytesPer1kTokens).toBe(1024 * layers * heads * (2 * (embd / heads)) * 2);
    expect(info.modes).toEqual(['cpu', 'webgpu']);
  });

  it('reads every shard header of a split model from its first shard', async () => {
    const out = join(dir, 'split');
    const manifest = await pack(source, { out, maxChunkBytes: 200_000, id: 'tiny' });
    expect(manifest.chunks.length).toBeGreaterThan(1);
    const whole = await inspect(source);
    const split = await inspect(join(out, manifest.chunks[0]!.file));
    expect(split.split?.shardsRead).toBe(manifest.chunks.length);
    expect(split.resources).toEqual(whole.resources);
    expect(manifest.model['resources']).toEqual(whole.resources);
  });

  it('puts a model over the CPU heap ceiling on WebGPU only', () => {
    const big = {
      weightsBytes: 4_540_000_000,
      cpuBytes: 2_300_000_000,
      offloadableBytes: 2_240_000_000,
      kvBytesPer1kTokens: 20_000_000,
      largestTensorBytes: 1_900_000_000,
    };
    expect(runModes(big, big.weightsBytes)).toEqual(['webgpu']);
    expect(runModes(undefined, CPU_HEAP_MODEL_LIMIT + 1)).toEqual(['webgpu']);
    expect(runModes(undefined, 3_000_000_000)).toEqual(['cpu', 'webgpu']);
  });
});

describe('tea-model index', () => {
  it('writes a models.json that lists the manifests as profiles, relative to it', async () => {
    const a = join(dir, 'models', 'a');
    const b = join(dir, 'models', 'b');
    await pack(source, { out: a, maxChunkBytes: 200_000, id: 'model-a', version: '2' });
    await pack(source, { out: b, id: 'model-b' });
    const out = join(dir, 'models', 'models.json');
    await indexModels([join(a, 'manifest.json'), join(b, 'manifest.json')], {
      out,
      labels: { 'model-a': 'Model A' },
    });
    const index = parseModelIndex(await readFile(out, 'utf8'), {
      url: 'https://example.com/m/models.json',
    });
    expect(index.profiles.map((p) => [p.id, p.version, p.label, p.manifestUrl])).toEqual([
      ['model-a', '2', 'Model A', 'https://example.com/m/a/manifest.json'],
      ['model-b', '1', undefined, 'https://example.com/m/b/manifest.json'],
    ]);
    expect(index.profiles[0]!.chunks).toBeGreaterThan(1);
    expect(index.profiles[0]!.modes).toEqual(['cpu', 'webgpu']);
    await expect(
      indexModels([join(a, 'manifest.json')], { out: join(a, 'x', 'models.json') }),
    ).rejects.toThrow(/not inside the folder/);
  });
});
