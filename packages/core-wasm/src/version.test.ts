import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

async function cargoVersion(): Promise<string> {
  const toml = await readFile(new URL('../crate/Cargo.toml', import.meta.url), 'utf8');
  const match = /^version\s*=\s*"([^"]+)"/m.exec(toml);
  if (!match?.[1]) throw new Error('no version in Cargo.toml');
  return match[1];
}

describe('version', () => {
  it('throws NOT_INITIALIZED before init()', async () => {
    const core = await import('./index.js');
    expect(core.isInitialized()).toBe(false);
    expect(() => core.version()).toThrowError(
      expect.objectContaining({ code: 'NOT_INITIALIZED', name: 'CoreWasmError' }),
    );
  });

  it('returns the crate version computed in wasm once initialised from disk (Node)', async () => {
    const core = await import('./index.js');
    await core.init();
    expect(core.isInitialized()).toBe(true);
    expect(core.version()).toBe(await cargoVersion());
  });
});
