// The whole release locally, through the same commands the workflow runs, with a generated
// test model in place of the downloaded ones and a local npm registry in place of npm's (the
// packages are packed as `changeset publish` would upload them, "published" there with their
// sha512 integrity, and `assemble` takes them back from it, checked); then the tarball extracted
// with the model assets beside it, ready to serve (the release e2e test does, and checks it
// offline).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildVocab, shapeForSize, writeTinyLlama } from '@the-edge-agent/test-fixtures';
import { releaseVersion, ROOT, sha256File, step } from './lib.mjs';

const CLI = join(ROOT, 'scripts/release/release.mjs');

export async function dryRun({ out }) {
  const started = Date.now();
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'src'), { recursive: true });
  step('Generating the test model (instead of downloading Gemma)');
  const gguf = join(out, 'src', 'tea-test-model.gguf');
  await writeTinyLlama(gguf, {
    seed: 11,
    name: 'tea-test-model (random weights)',
    shape: shapeForSize(3 * 2 ** 20, buildVocab().tokens.length),
  });
  const config = join(out, 'models.test.json');
  writeFileSync(
    config,
    JSON.stringify({
      maxChunkSize: '1M',
      profiles: [
        {
          id: 'tea-test-model',
          version: '1',
          label: 'Test model (random weights)',
          file: gguf,
          sha256: await sha256File(gguf),
        },
      ],
    }),
  );
  const release = (...args) =>
    execFileSync(process.execPath, [CLI, ...args, '--out', out], { stdio: 'inherit', cwd: ROOT });
  release('assemble', '--registry', 'local');
  release('models', '--config', config);
  release('checksums');
  release('verify');
  release('notes');

  step('Extracting the tarball with the models beside it');
  const name = `tea-wasm-llm-${releaseVersion()}`;
  const site = join(out, 'site');
  mkdirSync(site, { recursive: true });
  execFileSync('tar', ['xzf', join(out, 'assets', `${name}.tar.gz`), '-C', site]);
  const models = join(site, name, 'models');
  for (const f of readdirSync(join(out, 'assets')))
    if (f === 'models.json' || f.endsWith('.manifest.json') || f.endsWith('.gguf'))
      cpSync(join(out, 'assets', f), join(models, f));
  console.log(
    `\nDry run done in ${((Date.now() - started) / 1000).toFixed(1)} s: serve ${join(site, name)}`,
  );
}
