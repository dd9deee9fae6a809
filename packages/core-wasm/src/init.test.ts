import { readFile } from 'node:fs/promises';
import { beforeEach, describe, expect, it, vi } from 'vitest';

const wasmPath = new URL('../wasm/tea_core_bg.wasm', import.meta.url);

describe('init', () => {
  beforeEach(() => {
    vi.resetModules();
  });

  it('accepts the wasm bytes and is idempotent', async () => {
    const core = await import('./index.js');
    const bytes = await readFile(wasmPath);
    const first = core.init(bytes);
    expect(core.init(bytes)).toBe(first);
    await first;
    expect(core.version()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('accepts a compiled WebAssembly.Module', async () => {
    const core = await import('./index.js');
    const module = await WebAssembly.compile(await readFile(wasmPath));
    await core.init(module);
    expect(core.isInitialized()).toBe(true);
  });

  it('fails with WASM_INIT_FAILED on bytes that are not wasm, and can be retried', async () => {
    const core = await import('./index.js');
    await expect(core.init(new Uint8Array([1, 2, 3, 4]))).rejects.toMatchObject({
      code: 'WASM_INIT_FAILED',
      name: 'CoreWasmError',
    });
    expect(core.isInitialized()).toBe(false);
    await core.init(await readFile(wasmPath));
    expect(core.isInitialized()).toBe(true);
  });
});
