import { defineConfig } from 'vitest/config';

/** Unit tests sit beside the code as `*.test.ts`; Playwright's `e2e/*.spec.ts` are not vitest's. */
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'bin/**/*.test.ts', 'scripts/**/*.test.ts', 'native/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', 'e2e/**'],
    environment: 'node',
    testTimeout: 30_000,
  },
});
