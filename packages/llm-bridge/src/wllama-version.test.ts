import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WLLAMA_VERSION } from './wllama-version.js';

describe('WLLAMA_VERSION', () => {
  it('is the exact @wllama/wllama version the package bundles (pinned in devDependencies)', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(pkg.devDependencies['@wllama/wllama']).toBe(WLLAMA_VERSION);
  });
});
