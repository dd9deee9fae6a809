import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const models = fileURLToPath(new URL('../dist-bench/bench-models/', import.meta.url));

/** Writes the ~100 MiB random-weight bench model (4 shards of 32 MiB) once. */
export function ensureBenchModel(): void {
  if (existsSync(`${models}bench-model/manifest.json`)) return;
  const script = fileURLToPath(new URL('../scripts/make-test-model.mjs', import.meta.url));
  execFileSync(process.execPath, [
    script,
    '--out',
    models,
    '--id',
    'bench-model',
    '--size',
    '100',
    '--max-chunk-size',
    '32M',
  ]);
}
