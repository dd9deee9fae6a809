import { describe, expect, it } from 'vitest';
import { ModelTooLargeError } from './errors.js';
import {
  assertFitsWasmHeap,
  checkModelFit,
  estimateHeap,
  type FitEnvironment,
  HEAP_RESERVE_BYTES,
  type ModelNeeds,
  WLLAMA_COMPAT_HEAP_LIMIT_BYTES,
  WLLAMA_HEAP_LIMIT_BYTES,
} from './fit-rule.js';

// The shape-faithful Gemma 3n E4B Q4_K_M of the toolchain notes (4.84 GB file, 262k vocabulary).
const E4B: ModelNeeds = {
  weightsBytes: 4_836_000_000,
  cpuBytes: 2_540_000_000,
  kvBytesPer1kTokens: 41_943_040,
  largestTensorBytes: 1_930_000_000,
  vocabSize: 262_144,
  embeddingLength: 2048,
  feedForwardLength: 16_384,
  headCount: 8,
};
const cpuOnly: FitEnvironment = { wasmHeapLimitBytes: WLLAMA_HEAP_LIMIT_BYTES, webgpu: null };

describe('estimateHeap', () => {
  it('counts weights, KV cache at nCtx, compute buffers of a micro-batch and the reserve (CPU)', () => {
    const heap = estimateHeap(E4B, 'cpu', { nCtx: 4096 });
    expect(heap.kvBytes).toBe(4 * E4B.kvBytesPer1kTokens);
    // Logits of 512 tokens over 262k entries dominate Gemma's compute buffers (~0.5 GiB).
    expect(heap.computeBytes).toBeGreaterThan(512 * 262_144 * 4);
    expect(heap.totalBytes).toBe(
      heap.weightsBytes + heap.kvBytes + heap.computeBytes + HEAP_RESERVE_BYTES,
    );
  });

  it('keeps only the input embeddings and the reserve under WebGPU offload', () => {
    expect(estimateHeap(E4B, 'webgpu').totalBytes).toBe(E4B.cpuBytes + HEAP_RESERVE_BYTES);
  });

  it('uses a fixed compute figure when the header widths are unknown', () => {
    const { vocabSize: _v, embeddingLength: _e, feedForwardLength: _f, ...old } = E4B;
    expect(estimateHeap(old, 'cpu').computeBytes).toBe(192 * 2 ** 20);
  });
});

describe('checkModelFit', () => {
  it('E4B Q4_K_M fits CPU-only in the 16 GiB heap, not in the stock 4 GiB one', () => {
    expect(checkModelFit(E4B, cpuOnly).cpu.fits).toBe(true);
    const stock = checkModelFit(E4B, {
      ...cpuOnly,
      wasmHeapLimitBytes: WLLAMA_COMPAT_HEAP_LIMIT_BYTES,
    });
    expect(stock.cpu.fits).toBe(false);
    expect(stock.cpu.reasons[0]).toMatch(/over the 4\.29 GB wasm heap this browser can reserve/);
  });

  it('uses the heap the browser can really reserve', () => {
    const fit = checkModelFit(E4B, { ...cpuOnly, wasmHeapLimitBytes: 5 * 2 ** 30 });
    expect(fit.cpu.fits).toBe(false);
    expect(fit.cpu.limitBytes).toBe(5 * 2 ** 30);
  });

  it('refuses what would take most of a 4 GB device, and warns short of that', () => {
    const small = checkModelFit(E4B, { ...cpuOnly, deviceMemoryGiB: 4 });
    expect(small.cpu.fits).toBe(false);
    expect(small.cpu.reasons.join()).toMatch(/the device reports 4 GiB/);
    const big = checkModelFit(E4B, { ...cpuOnly, deviceMemoryGiB: 8 });
    expect(big.cpu.fits).toBe(true);
    expect(big.cpu.warnings.join()).toMatch(/% of the 8\+ GiB this device reports/);
  });

  it('WebGPU needs an adapter with shader-f16 and a big enough buffer', () => {
    expect(checkModelFit(E4B, cpuOnly).webgpu.reasons).toContain(
      'webgpu: no WebGPU adapter in this browser',
    );
    const gpu = { maxBufferSize: 2 ** 30, shaderF16: false };
    const fit = checkModelFit(E4B, { ...cpuOnly, webgpu: gpu });
    expect(fit.webgpu.reasons.join('\n')).toMatch(/shader-f16[\s\S]*maxBufferSize/);
    const good = checkModelFit(E4B, {
      ...cpuOnly,
      webgpu: { maxBufferSize: 4 * 2 ** 30, shaderF16: true },
    });
    expect(good.webgpu.fits).toBe(true);
  });
});

describe('assertFitsWasmHeap', () => {
  it('accepts E4B CPU-only in the 16 GiB build', () => {
    expect(() => assertFitsWasmHeap(E4B, { gpuOffload: false })).not.toThrow();
  });

  it('names both sizes when a model does not fit the heap it has', () => {
    let caught: unknown;
    try {
      assertFitsWasmHeap(E4B, { gpuOffload: false, limitBytes: WLLAMA_COMPAT_HEAP_LIMIT_BYTES });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ModelTooLargeError);
    const error = caught as ModelTooLargeError;
    expect(error.code).toBe('MODEL_TOO_LARGE');
    expect(error.limitBytes).toBe(WLLAMA_COMPAT_HEAP_LIMIT_BYTES);
    expect(error.requiredBytes).toBeGreaterThan(E4B.weightsBytes);
    expect(error.message).toMatch(/limit is 4\.29 GB \(4\.00 GiB\)/);
  });

  it('checks a bare byte count CPU-only, and leaves it to the runtime under offload', () => {
    expect(() => assertFitsWasmHeap(17e9, { gpuOffload: false })).toThrow(ModelTooLargeError);
    expect(() => assertFitsWasmHeap(17e9, { gpuOffload: true })).not.toThrow();
    expect(() => assertFitsWasmHeap(4.45e9, { gpuOffload: false })).not.toThrow();
  });
});
