#!/usr/bin/env node
// Generates the demo's default model: a tiny random-weight llama GGUF (test-fixtures), packed
// by `tea-model pack` into several gguf-split shards + manifest.json under
// public/models/<id>/, plus models/models.json listing them as profiles; Vite copies them into the
// build. Deterministic; skipped when present.
//   node scripts/make-test-model.mjs [--out public/models] [--id tiny-test-model] [--version 1] [--seed 1]
//     [--size MiB] [--max-chunk-size 200K]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  buildVocab,
  shapeForSize,
  TINY_SHAPE,
  writeTinyLlama,
} from '@the-edge-agent/test-fixtures';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: new URL('../public/models', import.meta.url).pathname },
    id: { type: 'string', default: 'tiny-test-model' },
    version: { type: 'string', default: '1' },
    seed: { type: 'string', default: '1' },
    size: { type: 'string' },
    'max-chunk-size': { type: 'string', default: '200K' },
  },
});
const dir = join(values.out, values.id);
const require = createRequire(import.meta.url);
const cli = join(
  dirname(require.resolve('@the-edge-agent/model-loader/package.json')),
  'dist/cli/main.js',
);
// models.json: every packed model in the output folder, as the profiles the demo offers.
const index = () => {
  const manifests = readdirSync(values.out, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(values.out, d.name, 'manifest.json')))
    .map((d) => join(values.out, d.name, 'manifest.json'));
  execFileSync(
    process.execPath,
    [cli, 'index', ...manifests, '--out', join(values.out, 'models.json')],
    { stdio: 'inherit' },
  );
};
if (existsSync(join(dir, 'manifest.json'))) {
  if (!existsSync(join(values.out, 'models.json'))) index();
  process.exit(0);
}
const work = join(values.out, `.${values.id}-src`);
mkdirSync(work, { recursive: true });
const source = join(work, `${values.id}.gguf`);
await writeTinyLlama(source, {
  seed: Number(values.seed),
  name: `${values.id} (tiny random-weight test model)`,
  // A 2048-token context (llama has no learned positions: this is metadata), so that the demo's
  // tool and structured-output examples fit their prompts.
  shape: values.size
    ? { ...shapeForSize(Number(values.size) * 2 ** 20, buildVocab().tokens.length), ctx: 2048 }
    : { ...TINY_SHAPE, ctx: 2048 },
});
execFileSync(
  process.execPath,
  [
    cli,
    'pack',
    source,
    '--out',
    dir,
    '--max-chunk-size',
    values['max-chunk-size'],
    '--id',
    values.id,
    '--model-version',
    values.version,
  ],
  { stdio: 'inherit' },
);
rmSync(work, { recursive: true, force: true });
index();
