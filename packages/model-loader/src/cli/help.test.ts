import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The built CLI, as `npx tea-model` runs it.
const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

describe('tea-model help', () => {
  it('--help, -h, help and each command --help print to stdout and exit 0', () => {
    for (const args of [
      ['--help'],
      ['-h'],
      ['help'],
      ['pack', '--help'],
      ['verify', '-h'],
      ['inspect', '--help'],
      ['index', '--help'],
    ]) {
      const r = run(...args);
      expect(r.status, args.join(' ')).toBe(0);
      expect(r.stdout).toContain('tea-model');
      expect(r.stderr).toBe('');
    }
  });

  it('no command, an unknown command or a missing argument is a usage error (exit 2)', () => {
    expect(run().status).toBe(2);
    const bogus = run('bogus');
    expect(bogus.status).toBe(2);
    expect(bogus.stderr).toContain("unknown command 'bogus'");
    expect(run('verify').stderr).toContain('missing argument');
  });
});
