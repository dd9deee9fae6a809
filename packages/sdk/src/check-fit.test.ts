import { parseModelIndex, type ModelProfile } from '@the-edge-agent/model-loader';
import {
  HEAP_RESERVE_BYTES,
  ModelTooLargeError,
  WLLAMA_COMPAT_HEAP_LIMIT_BYTES,
  WLLAMA_HEAP_LIMIT_BYTES,
} from '@the-edge-agent/llm-bridge';
import { describe, expect, it } from 'vitest';
import { checkFit } from './check-fit.js';
import type { BrowserEnvironment } from './environment.js';
import { rankProfiles, tryInOrder } from './profiles.js';

// Figures of the shape-faithful Gemma 3n models in the toolchain notes (q6_K embeddings).
const E4B: ModelProfile = {
  id: 'gemma-3n-E4B-it-Q4_K_M',
  version: '1',
  manifest: 'e4b.manifest.json',
  totalBytes: 4_540_000_000,
  chunks: 9,
  modes: ['cpu', 'webgpu'],
  resources: {
    weightsBytes: 4_530_000_000,
    cpuBytes: 2_370_000_000,
    offloadableBytes: 2_160_000_000,
    kvBytesPer1kTokens: 41_943_040,
    largestTensorBytes: 1_930_000_000,
    vocabSize: 262_144,
    embeddingLength: 2048,
    feedForwardLength: 16_384,
    headCount: 8,
  },
};
const E2B: ModelProfile = {
  id: 'gemma-3n-E2B-it-Q4_K_M',
  version: '1',
  manifest: 'e2b.manifest.json',
  totalBytes: 3_030_000_000,
  chunks: 6,
  modes: ['cpu', 'webgpu'],
  resources: {
    weightsBytes: 3_020_000_000,
    cpuBytes: 1_900_000_000,
    offloadableBytes: 1_120_000_000,
    kvBytesPer1kTokens: 16_777_216,
    largestTensorBytes: 1_500_000_000,
  },
};
const cpuOnly: BrowserEnvironment = {
  wasmHeapLimitBytes: WLLAMA_HEAP_LIMIT_BYTES,
  memory64: true,
  jspi: false,
  webgpu: null,
  storageFreeBytes: 50e9,
};
const gpu = { maxBufferSize: 4 * 2 ** 30, maxStorageBufferBindingSize: 2 ** 31, shaderF16: true };

const stockHeap = { ...cpuOnly, wasmHeapLimitBytes: WLLAMA_COMPAT_HEAP_LIMIT_BYTES };

describe('checkFit', () => {
  it('E4B without WebGPU runs CPU-only in the 16 GiB heap', () => {
    const fit = checkFit(E4B, cpuOnly);
    expect(fit).toMatchObject({ fits: true, mode: 'cpu', heapLimitBytes: 16 * 2 ** 30 });
    expect(fit.reasons).toContain('webgpu: no WebGPU adapter in this browser');
    expect(fit.heapNeededBytes).toBeGreaterThan(E4B.resources!.weightsBytes + 512 * 262_144 * 4);
  });

  it('E4B where only a 4 GiB heap can be reserved does not fit, and says why in numbers', () => {
    const fit = checkFit(E4B, stockHeap);
    expect(fit.fits).toBe(false);
    expect(fit.reasons.join('\n')).toMatch(/4\.53 GB of weights .* over the 4\.29 GB wasm heap/);
    expect(checkFit({ ...E4B, modes: ['webgpu'] }, cpuOnly).reasons.join('\n')).toMatch(
      /cpu: this profile needs WebGPU offload/,
    );
  });

  it('E4B with a WebGPU adapter that has shader-f16 runs on the GPU', () => {
    const fit = checkFit(E4B, { ...cpuOnly, webgpu: gpu });
    expect(fit).toMatchObject({ fits: true, mode: 'webgpu' });
    expect(fit.heapNeededBytes).toBe(E4B.resources!.cpuBytes + HEAP_RESERVE_BYTES);
  });

  it('a software adapter without shader-f16 or with small buffers is not enough', () => {
    // Not enough for WebGPU: E4B then runs CPU-only (it fits the 16 GiB heap), or not at all.
    const noF16 = { ...cpuOnly, webgpu: { ...gpu, shaderF16: false } };
    expect(checkFit(E4B, noF16)).toMatchObject({ fits: true, mode: 'cpu' });
    expect(
      checkFit(E4B, { ...noF16, wasmHeapLimitBytes: WLLAMA_COMPAT_HEAP_LIMIT_BYTES }).fits,
    ).toBe(false);
    const small = checkFit(E4B, { ...stockHeap, webgpu: { ...gpu, maxBufferSize: 2 ** 30 } });
    expect(small.fits).toBe(false);
    expect(small.reasons.join('\n')).toMatch(/largest tensor is 1\.93 GB.*maxBufferSize 1\.07 GB/);
  });

  it('E2B runs CPU-only; a long context can push it over the heap', () => {
    expect(checkFit(E2B, cpuOnly)).toMatchObject({ fits: true, mode: 'cpu' });
    const long = checkFit(E2B, cpuOnly, { nCtx: 1_048_576 });
    expect(long.fits).toBe(false);
    expect(long.reasons.join('\n')).toMatch(/17\.18 GB of KV cache/);
  });

  it('storage too small for the download fails before it starts', () => {
    const fit = checkFit(E2B, { ...cpuOnly, storageFreeBytes: 1e9 });
    expect(fit.fits).toBe(false);
    expect(fit.reasons[0]).toBe('storage: the download needs 3.03 GB, the browser grants 1.00 GB');
  });

  it('a device that reports little memory cannot hold the CPU model', () => {
    expect(checkFit(E2B, { ...cpuOnly, deviceMemoryGiB: 2 }).fits).toBe(false);
    expect(checkFit(E4B, { ...cpuOnly, deviceMemoryGiB: 4 }).fits).toBe(false);
    const e2b = checkFit(E2B, { ...cpuOnly, deviceMemoryGiB: 4 });
    expect(e2b.fits).toBe(true);
    expect(e2b.warnings.join()).toMatch(/of the 4 GiB this device reports/);
    expect(checkFit(E2B, { ...cpuOnly, deviceMemoryGiB: 8 }).fits).toBe(true);
  });
});

describe('rankProfiles', () => {
  const index = parseModelIndex(
    { modelsVersion: 1, profiles: [E4B, E2B] },
    { url: 'https://example.com/models/models.json' },
  );

  it('keeps the index order, so the first that fits is the best for this browser', () => {
    const cpu = rankProfiles(index, cpuOnly).filter((p) => p.fit.fits);
    expect(cpu.map((p) => [p.profile.id, p.fit.mode])).toEqual([
      ['gemma-3n-E4B-it-Q4_K_M', 'cpu'],
      ['gemma-3n-E2B-it-Q4_K_M', 'cpu'],
    ]);
    const small = rankProfiles(index, stockHeap).filter((p) => p.fit.fits);
    expect(small.map((p) => p.profile.id)).toEqual(['gemma-3n-E2B-it-Q4_K_M']);
    const withGpu = rankProfiles(index, { ...cpuOnly, webgpu: gpu }).filter((p) => p.fit.fits);
    expect(withGpu.map((p) => [p.profile.id, p.fit.mode])).toEqual([
      ['gemma-3n-E4B-it-Q4_K_M', 'webgpu'],
      ['gemma-3n-E2B-it-Q4_K_M', 'webgpu'],
    ]);
  });

  it('an explicit profile that cannot run fails with MODEL_TOO_LARGE naming sizes and limit', () => {
    let error: unknown;
    try {
      rankProfiles(index, stockHeap, { id: 'gemma-3n-E4B-it-Q4_K_M' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ModelTooLargeError);
    const e = error as ModelTooLargeError;
    expect(e.code).toBe('MODEL_TOO_LARGE');
    expect(e.limitBytes).toBe(WLLAMA_COMPAT_HEAP_LIMIT_BYTES);
    expect(e.requiredBytes).toBeGreaterThan(4.5e9);
    expect(e.message).toMatch(/gemma-3n-E4B-it-Q4_K_M \(4\.54 GB\) cannot run in this browser/);
    expect(() => rankProfiles(index, cpuOnly, { id: 'nope' })).toThrow(/no profile "nope"/);
  });
});

describe('tryInOrder (the runtime guard)', () => {
  const index = parseModelIndex(
    { modelsVersion: 1, profiles: [E4B, E2B] },
    { url: 'https://example.com/models/models.json' },
  );
  const both = rankProfiles(index, { ...cpuOnly, webgpu: gpu });
  const oom = () =>
    new ModelTooLargeError(4.9e9, WLLAMA_HEAP_LIMIT_BYTES, 'wllama ran out of memory');

  it('falls back to the next profile when a load runs out of memory, and says so', async () => {
    const events: unknown[] = [];
    const tried: string[] = [];
    const loaded = await tryInOrder(
      both,
      async ({ profile }) => {
        tried.push(profile.id);
        if (profile.id === E4B.id) throw oom();
        return profile.id;
      },
      { fallback: true, onProgress: (p: unknown) => events.push(p) },
    );
    expect(loaded).toBe(E2B.id);
    expect(tried).toEqual([E4B.id, E2B.id]);
    expect(events).toMatchObject([
      { phase: 'profile', id: E4B.id, mode: 'webgpu' },
      { phase: 'profile', id: E2B.id, fallbackFrom: E4B.id },
    ]);
  });

  it('does not fall back when not allowed, nor on other errors', async () => {
    await expect(
      tryInOrder(both, async () => Promise.reject(oom()), { fallback: false }),
    ).rejects.toMatchObject({ code: 'MODEL_TOO_LARGE' });
    const tried: string[] = [];
    await expect(
      tryInOrder(
        both,
        async ({ profile }) => {
          tried.push(profile.id);
          throw Object.assign(new Error('HTTP 404'), { code: 'HTTP_ERROR' });
        },
        { fallback: true },
      ),
    ).rejects.toMatchObject({ code: 'HTTP_ERROR' });
    expect(tried).toEqual([E4B.id]);
  });
});
