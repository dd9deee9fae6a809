import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The README's TypeScript blocks that start with `import` are complete programs (the others are
// fragments): each must compile under `tsc --strict` against the built packages, as a user
// pasting it into a fresh project would compile it.
const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)]
  .map((m) => m[1]!)
  .filter((code) => code.startsWith('import '));

describe('README examples', () => {
  it('has complete examples', () => expect(blocks.length).toBeGreaterThanOrEqual(4));

  it('each complete example compiles under tsc --strict', () => {
    // Inside the package, so that `@the-edge-agent/sdk` resolves to its built types.
    const dir = mkdtempSync(join(root, '.readme-check-'));
    try {
      const files = blocks.map((code, i) => {
        const file = join(dir, `example-${i}.mts`);
        writeFileSync(file, code);
        return file;
      });
      const tsc = fileURLToPath(import.meta.resolve('typescript/bin/tsc'));
      const flags = ['--ignoreConfig', '--noEmit', '--strict', '--skipLibCheck'];
      const target = ['--module', 'nodenext', '--moduleResolution', 'nodenext'];
      const libs = ['--target', 'es2022', '--lib', 'es2022,dom,dom.asynciterable'];
      let out = '';
      try {
        execFileSync(
          process.execPath,
          [tsc, ...flags, ...target, ...libs, '--exactOptionalPropertyTypes', ...files],
          {
            encoding: 'utf8',
          },
        );
      } catch (error) {
        out = String((error as { stdout?: string }).stdout ?? error);
      }
      expect(out).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
