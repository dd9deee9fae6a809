import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildVocab,
  gemma3nHeader,
  headerTensorBytes,
  llamaHeader,
  type ModelHeader,
  sidRoot,
  TINY_SHAPE,
  writeSparseGguf,
  writeTinyLlama,
} from '@the-edge-agent/test-fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseModelIndex } from '../model-index.js';
import { indexModels } from './index-models.js';
import { inspect } from './inspect.js';
import { pack } from './pack.js';
import { loadFitRule, runModes } from './resources.js';

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

  it("puts a model over the 16 GiB heap on WebGPU only, by llm-bridge's fit rule", async () => {
    const big = {
      weightsBytes: 18_000_000_000,
      cpuBytes: 2_300_000_000,
      offloadableBytes: 15_700_000_000,
      kvBytesPer1kTokens: 20_000_000,
      largestTensorBytes: 1_900_000_000,
    };
    expect(await runModes(big)).toEqual(['webgpu']);
    expect(await runModes({ ...big, weightsBytes: 4_840_000_000 })).toEqual(['cpu', 'webgpu']);
    // The rule is llm-bridge's, loaded by the CLI; without it (or figures) both modes are listed.
    expect(await loadFitRule()).toMatchObject({ WLLAMA_HEAP_LIMIT_BYTES: 16 * 2 ** 30 });
    expect(await runModes(undefined)).toEqual(['cpu', 'webgpu']);
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

describe('needs of real model shapes (sparse header fixtures: real sizes, no weights)', () => {
  const sum = (h: ModelHeader, pick: (name: string) => boolean = () => true) =>
    h.tensors.filter((t) => pick(t.name)).reduce((n, t) => n + headerTensorBytes(t), 0);

  it('Gemma 3n E4B Q4_K_M: ~4.5 GB, 2.3 GB of embeddings stay on the CPU, CPU or WebGPU', async () => {
    const header = gemma3nHeader('E4B');
    const file = await writeSparseGguf(join(dir, 'e4b.gguf'), header);
    const info = await inspect(file.path);
    const r = info.resources;
    // Offsets in the header (inspect) agree with the fixture's own per-type arithmetic.
    expect(r.weightsBytes).toBeGreaterThanOrEqual(sum(header));
    expect(r.weightsBytes - sum(header)).toBeLessThan(32 * header.tensors.length);
    expect(r.cpuBytes).toBe(
      sum(header, (n) => n === 'token_embd.weight' || n === 'per_layer_token_embd.weight'),
    );
    expect(r.weightsBytes / 1e9).toBeCloseTo(4.6, 0);
    expect(r.cpuBytes / 2 ** 30).toBeCloseTo(2.2, 1); // ~420 MiB + ~1.8 GiB at q6_K
    // 35 layers, 15 share KV: 20 layers x 2 KV heads x (256 + 256) x f16 per token.
    expect(r.kvBytesPer1kTokens).toBe(1024 * 20 * 2 * 512 * 2);
    expect(info.modes).toEqual(['cpu', 'webgpu']); // in the 16 GiB heap of llm-bridge's wllama
    expect(r).toMatchObject({ embeddingLength: 2048, feedForwardLength: 16384, headCount: 8 });
    expect(info.architecture).toBe('gemma3n');
    expect(info.quantization).toBe('Q4_K_M');
  });

  it('Gemma 3n E2B Q4_K_M: ~3.2 GB, runs CPU-only or with WebGPU', async () => {
    const file = await writeSparseGguf(join(dir, 'e2b.gguf'), gemma3nHeader('E2B'));
    const info = await inspect(file.path);
    expect(info.resources.weightsBytes / 1e9).toBeGreaterThan(3.0);
    expect(info.resources.weightsBytes / 1e9).toBeLessThan(3.4);
    expect(info.modes).toEqual(['cpu', 'webgpu']);
  });

  it('a llama 7B F16 header gives the textbook numbers', async () => {
    const header = llamaHeader({
      embd: 4096,
      heads: 32,
      kvHeads: 32,
      layers: 32,
      ffn: 11008,
      vocab: 32000,
      type: 'F16',
    });
    const info = await inspect((await writeSparseGguf(join(dir, 'llama7b.gguf'), header)).path);
    expect(info.resources.cpuBytes).toBe(32000 * 4096 * 2);
    expect(info.resources.weightsBytes).toBe(sum(header)); // every F16 tensor is 32-byte aligned
    expect(info.resources.kvBytesPer1kTokens).toBe(1024 * 32 * 32 * 256 * 2); // 512 MiB per 1k
    expect(info.resources.largestTensorBytes).toBe(32000 * 4096 * 2);
    expect(info.resources).toMatchObject({ embeddingLength: 4096, feedForwardLength: 11008 });
    // 13.5 GB of weights + 2 GiB of KV cache at 4k tokens + buffers: within 16 GiB.
    expect(info.modes).toEqual(['cpu', 'webgpu']);
    expect((await inspect(info.file, 8192)).modes).toEqual(['webgpu']);
  });
});

// llama.cpp's own GGUF reader (gguf-py, Debian's python3-gguf in the offline toolchain's
// userland) as an independent accounting of the same fixture, where this machine has it.
const sid = sidRoot();
const hasGgufPy =
  process.getuid?.() === 0 && existsSync(join(sid, 'usr/lib/python3/dist-packages/gguf'));

describe.runIf(hasGgufPy)("against llama.cpp's gguf-py", () => {
  it('counts the same weight and CPU-side bytes for the E4B fixture', async () => {
    const path = join(sid, 'tmp', `tea-e4b-${process.pid}.gguf`);
    await writeSparseGguf(path, gemma3nHeader('E4B'));
    try {
      const py = execFileSync(
        'chroot',
        [
          sid,
          '/usr/bin/env',
          '-i',
          'PATH=/usr/bin:/bin',
          'python3',
          '-c',
          `import json; from gguf import GGUFReader
r = GGUFReader('/tmp/tea-e4b-${process.pid}.gguf')
print(json.dumps({t.name: int(t.n_bytes) for t in r.tensors}))`,
        ],
        { encoding: 'utf8', maxBuffer: 1 << 24 },
      );
      const bytes = JSON.parse(py) as Record<string, number>;
      const info = await inspect(path);
      const total = Object.values(bytes).reduce((a, b) => a + b, 0);
      expect(info.resources.cpuBytes).toBe(
        bytes['token_embd.weight']! + bytes['per_layer_token_embd.weight']!,
      );
      // Ours counts the alignment padding after each tensor too (at most 31 bytes each).
      expect(info.resources.weightsBytes - total).toBeGreaterThanOrEqual(0);
      expect(info.resources.weightsBytes - total).toBeLessThan(32 * Object.keys(bytes).length);
      expect(Math.max(...Object.values(bytes))).toBe(info.resources.largestTensorBytes);
    } finally {
      await rm(path, { force: true });
    }
  });
});
