import { describe, expect, it } from 'vitest';
import { createBridge, DEFAULT_N_BATCH } from './create-bridge.js';

describe('createBridge', () => {
  it('refuses an nBatch llama.cpp cannot run (a batch of 1 aborts the wasm instance)', () => {
    for (const nBatch of [1, 0, -4, 2.5, Number.NaN, 1e6])
      expect(() => createBridge({ nBatch }), String(nBatch)).toThrow(RangeError);
    expect(() => createBridge({ nBatch: 2 })).not.toThrow();
    expect(DEFAULT_N_BATCH).toBe(512);
  });
});
