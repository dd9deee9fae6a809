import { beforeEach, describe, expect, it, vi } from 'vitest';

describe('runtimeInfo', () => {
  beforeEach(() => {
    vi.resetModules();
  });

  it('fails with NOT_INITIALIZED (re-exported CoreWasmError) before initYamlEngine()', async () => {
    const sdk = await import('./index.js');
    let caught: unknown;
    try {
      sdk.runtimeInfo();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(sdk.CoreWasmError);
    expect(caught).toMatchObject({ code: 'NOT_INITIALIZED' });
  });

  it('reports the engine version from wasm and single-thread in Node', async () => {
    const sdk = await import('./index.js');
    const { engineVersion } = await sdk.initYamlEngine();
    expect(engineVersion).toMatch(/^\d+\.\d+\.\d+$/);
    const info = sdk.runtimeInfo();
    expect(info.engineVersion).toBe(engineVersion);
    expect(info.threading).toMatchObject({ multiThread: false, threads: 1 });
  });
});
