import { describe, expect, it } from 'vitest';
import { ModelTooLargeError } from './errors.js';
import { assertFitsWasmHeap, WLLAMA_HEAP_LIMIT_BYTES } from './memory-limit.js';

describe('assertFitsWasmHeap', () => {
  it('accepts the largest model measured to load CPU-only (4.05 GB)', () => {
    expect(() => assertFitsWasmHeap(4.05e9, false)).not.toThrow();
  });

  it('rejects the 4.45 GB model that wllama fails on, naming both sizes', () => {
    let caught: unknown;
    try {
      assertFitsWasmHeap(4.45e9, false);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ModelTooLargeError);
    const error = caught as ModelTooLargeError;
    expect(error.code).toBe('MODEL_TOO_LARGE');
    expect(error.limitBytes).toBe(WLLAMA_HEAP_LIMIT_BYTES);
    expect(error.requiredBytes).toBeGreaterThan(4.45e9);
    expect(error.message).toMatch(/4\.45 GB/);
    expect(error.message).toMatch(/limit is 4\.29 GB \(4\.00 GiB\)/);
  });

  it('leaves WebGPU offload to the runtime guard', () => {
    expect(() => assertFitsWasmHeap(4.54e9, true)).not.toThrow();
  });
});
