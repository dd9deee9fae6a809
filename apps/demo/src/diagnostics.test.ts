import { describe, expect, it } from 'vitest';
import { browserRows, isTestModel } from './diagnostics.js';

const threading = (isolated: boolean) => ({
  crossOriginIsolated: isolated,
  sharedArrayBuffer: isolated,
  hardwareConcurrency: 4,
  multiThread: isolated,
  threads: isolated ? 4 : 1,
  requested: 'auto' as const,
  reason: isolated ? 'multi-thread: 4 threads' : 'single-thread: not isolated',
});

describe('browserRows', () => {
  it('describes an isolated multi-thread page in plain words, in decimal units', () => {
    const rows = browserRows(
      { engineVersion: '0.1.0', threading: threading(true) },
      { wasmHeapLimitBytes: 2 ** 34, webgpu: null, storageFreeBytes: 5e9 },
    );
    const byField = Object.fromEntries(rows.map((r) => [r.field, r.value]));
    expect(byField).toEqual({
      engine: 'ready, version 0.1.0',
      isolation: 'Yes: the model can use several threads',
      threads: '4, working in parallel',
      memory: 'up to 17.18 GB on the processor',
      webgpu: 'not available: models run on the processor',
      storage: '5.00 GB',
    });
    // No jargon: no heap, no GiB.
    expect(rows.map((r) => r.value).join(' ')).not.toMatch(/heap|GiB|MiB|KiB/);
  });

  it('says why a page without isolation runs on one thread', () => {
    const rows = browserRows({ engineVersion: '1.2.3', threading: threading(false) });
    expect(rows.find((r) => r.field === 'threads')?.value).toBe('1');
    expect(rows.find((r) => r.field === 'isolation')?.value).toMatch(
      /^No: .*COOP\/COEP.*one thread/,
    );
  });
});

describe('isTestModel', () => {
  it('recognises the built-in random-weight model by id or GGUF name', () => {
    expect(
      isTestModel({
        model: { name: 'x' },
        manifest: { id: 'tiny-test-model', version: '1', totalBytes: 1, chunks: 1 },
      }),
    ).toBe(true);
    expect(isTestModel({ model: { name: 'tiny (tiny random-weight test model)' } })).toBe(true);
    expect(isTestModel({ model: { name: 'gemma-3n-E4B-it' } })).toBe(false);
  });
});
