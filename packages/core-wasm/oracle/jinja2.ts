// Runs oracle/jinja2_oracle.py (Jinja2 under upstream TEA's rules) on a batch of templates. The
// Python is Debian's: the setup's sid userland (python3-jinja2, run by chroot as root), else a
// python3 on PATH that imports jinja2.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sidRoot } from '@the-edge-agent/test-fixtures';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'jinja2_oracle.py');

export type OracleCase = { id: number; template: string; state: unknown; variables: unknown };
export type OracleResult =
  | { id: number; ok: true; kind: 'value'; value: unknown }
  | { id: number; ok: true; kind: 'text-returned'; value: string; error: string }
  | { id: number; ok: true; kind: 'unserializable'; type: string; text: string }
  | { id: number; ok: false; kind: 'template-error' | 'python-error'; error: string };

type Runner = { where: string; run: (input: string) => ReturnType<typeof spawnSync> };

function sidRunner(): Runner | null {
  const root = sidRoot();
  if (process.getuid?.() !== 0 || !existsSync(join(root, 'usr/lib/python3/dist-packages/jinja2')))
    return null;
  return {
    where: `Debian python3-jinja2 in ${root}`,
    run: (input) => {
      const inside = `/tmp/tea-jinja2-oracle-${process.pid}`;
      mkdirSync(join(root, inside), { recursive: true });
      try {
        copyFileSync(SCRIPT, join(root, inside, 'jinja2_oracle.py'));
        return spawnSync(
          'chroot',
          [
            root,
            '/usr/bin/env',
            '-i',
            'PATH=/usr/bin:/bin',
            'LANG=C.UTF-8',
            'python3',
            `${inside}/jinja2_oracle.py`,
          ],
          { input, encoding: 'utf8', maxBuffer: 1 << 30 },
        );
      } finally {
        rmSync(join(root, inside), { recursive: true, force: true });
      }
    },
  };
}

function hostRunner(): Runner | null {
  const probe = spawnSync('python3', ['-c', 'import jinja2; print(jinja2.__version__)'], {
    encoding: 'utf8',
  });
  if (probe.status !== 0) return null;
  return {
    where: `python3 on PATH (Jinja2 ${probe.stdout.trim()})`,
    run: (input) => spawnSync('python3', [SCRIPT], { input, encoding: 'utf8', maxBuffer: 1 << 30 }),
  };
}

/** The Jinja2 oracle this machine has, or null. */
export function findOracle(): Runner | null {
  return sidRunner() ?? hostRunner();
}

/** Every case's result from the oracle, in order. */
export function runOracle(runner: Runner, cases: OracleCase[]): OracleResult[] {
  const r = runner.run(cases.map((x) => JSON.stringify(x)).join('\n') + '\n');
  if (r.status !== 0)
    throw new Error(`the Jinja2 oracle failed (${r.status}): ${String(r.stderr)}`);
  const out = String(r.stdout)
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as OracleResult);
  if (out.length !== cases.length)
    throw new Error(`the Jinja2 oracle answered ${out.length} of ${cases.length} cases`);
  return out;
}
