import { defineConfig, type Options } from 'tsup';

/**
 * The tsup settings every package shares: one ESM entry (`src/index.ts`) with bundled `.d.ts`.
 * Packages pass overrides (extra entries, externals) where they need them.
 */
export function packageConfig(overrides: Options = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm'],
    target: 'es2022',
    platform: 'neutral',
    // tsup's dts build sets `baseUrl`, which TypeScript 6 deprecates.
    dts: { compilerOptions: { ignoreDeprecations: '6.0' } },
    clean: true,
    sourcemap: true,
    treeshake: true,
    ...overrides,
  });
}
