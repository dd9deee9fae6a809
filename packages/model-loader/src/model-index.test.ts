import { describe, expect, it } from 'vitest';
import type { ModelLoaderError } from './errors.js';
import { parseModelIndex } from './model-index.js';

const url = 'https://example.com/models/models.json';
const profile = {
  id: 'gemma-3n-E2B-it-Q4_K_M',
  version: '1',
  manifest: 'gemma-3n-E2B-it-Q4_K_M.manifest.json',
  totalBytes: 3_000_000_000,
  chunks: 6,
  modes: ['cpu', 'webgpu'],
};

function codeAndField(json: unknown) {
  try {
    parseModelIndex(json, { url });
  } catch (e) {
    const err = e as ModelLoaderError;
    return [err.code, err.field, err.message];
  }
  return ['no error'];
}

describe('parseModelIndex', () => {
  it('resolves each manifest against the index URL', () => {
    const index = parseModelIndex({ modelsVersion: 1, profiles: [profile] }, { url });
    expect(index.profiles[0]!.manifestUrl).toBe(
      'https://example.com/models/gemma-3n-E2B-it-Q4_K_M.manifest.json',
    );
  });

  it('names the field that is wrong', () => {
    expect(codeAndField('{')[0]).toBe('MODELS_INDEX_INVALID');
    expect(codeAndField({ modelsVersion: 2, profiles: [profile] }).slice(0, 2)).toEqual([
      'MODELS_INDEX_INVALID',
      'modelsVersion',
    ]);
    expect(codeAndField({ modelsVersion: 1, profiles: [] })[1]).toBe('profiles');
    expect(codeAndField({ modelsVersion: 1, profiles: [{ ...profile, modes: ['tpu'] }] })[1]).toBe(
      'profiles[0].modes',
    );
    expect(codeAndField({ modelsVersion: 1, profiles: [{ ...profile, totalBytes: -1 }] })[1]).toBe(
      'profiles[0].totalBytes',
    );
    expect(
      codeAndField({
        modelsVersion: 1,
        profiles: [{ ...profile, resources: { weightsBytes: 1 } }],
      })[1],
    ).toBe('profiles[0].resources.cpuBytes');
    expect(codeAndField({ modelsVersion: 1, profiles: [profile, profile] })[1]).toBe(
      'profiles[1].id',
    );
  });
});
