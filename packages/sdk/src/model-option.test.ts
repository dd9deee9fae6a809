import { describe, expect, it } from 'vitest';
import { resolveModelOption } from './model-option.js';

describe('createTea({ model })', () => {
  it.each([
    ['/models/m/manifest.json', { manifestUrl: '/models/m/manifest.json' }],
    [
      'https://cdn.test/m/manifest.json?v=2',
      { manifestUrl: 'https://cdn.test/m/manifest.json?v=2' },
    ],
    ['/models/models.json', { profiles: '/models/models.json' }],
    ['https://x.test/m.gguf', { ggufUrls: ['https://x.test/m.gguf'] }],
    ['./m-00001-of-00003.gguf', { ggufUrls: ['./m-00001-of-00003.gguf'] }],
    // Kept as written: model-loader resolves a branch or tag to its commit and pins it.
    ['hf:acme/m-GGUF/m-Q4_K_M.gguf', { ggufUrls: ['hf:acme/m-GGUF/m-Q4_K_M.gguf'] }],
    ['hf:acme/m-GGUF/m-Q4_K_M.gguf@3f2a1b', { ggufUrls: ['hf:acme/m-GGUF/m-Q4_K_M.gguf@3f2a1b'] }],
    ['gemma-3n-E2B', { profile: 'gemma-3n-E2B' }],
  ])('%s', (model, expected) => {
    const resolved = resolveModelOption({ model, useCache: true });
    expect(resolved).toEqual({ useCache: true, ...expected });
  });

  it('takes a list of shard URLs, hubBaseUrl, and modelUrl as a GGUF URL', () => {
    expect(resolveModelOption({ model: ['/a.gguf', '/b.gguf'] })).toEqual({
      ggufUrls: ['/a.gguf', '/b.gguf'],
    });
    expect(
      resolveModelOption({ model: 'hf:o/r/f.gguf@main', hubBaseUrl: 'http://127.0.0.1:9/' }),
    ).toEqual({ ggufUrls: ['hf:o/r/f.gguf@main'], hubBaseUrl: 'http://127.0.0.1:9/' });
    expect(resolveModelOption({ modelUrl: '/m.gguf' })).toEqual({ ggufUrls: ['/m.gguf'] });
  });

  it('refuses model with another source, an empty one, and a malformed hub reference', () => {
    expect(() => resolveModelOption({ model: '/m.gguf', manifestUrl: '/x.json' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => resolveModelOption({ model: [] })).toThrow(/`model` is empty/);
    expect(() => resolveModelOption({ model: 'hf:acme/m.gguf' })).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('hf:owner/repo/file.gguf@revision'),
      }),
    );
  });
});
