import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { buildVocab, shapeForSize, writeTinyLlama } from '@the-edge-agent/test-fixtures';
import { addToFolder, serveRegistry } from '../local-registry.mjs';
import { packPackages } from '../npm-tarballs.mjs';

// `tea-model` after installing only the sdk, with pnpm (which links the bins of direct
// dependencies only) and with npm: the packed packages and their third-party dependencies
// (packed from the pnpm store) are served by a local registry, so nothing leaves this machine.
const root = fileURLToPath(new URL('../../../', import.meta.url));
let work = '';
let registry: { url: string; close: () => Promise<void> };
let gguf = '';

/** The directory of `dep` as Node resolves it from `from` (walking up the node_modules). */
function depDir(dep: string, from: string): string {
  for (let d = from; d !== dirname(d); d = dirname(d)) {
    const candidate = join(d, 'node_modules', dep);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
  }
  throw new Error(`${dep} not found from ${from}`);
}

/** Runs a command asynchronously (the registry answers from this process). */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number; out: string }>((resolve) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

test.beforeAll(async () => {
  test.setTimeout(240_000);
  work = mkdtempSync(join(tmpdir(), 'tea-model-bin-'));
  const packed = join(work, 'packed');
  packPackages(packed);
  const dir = join(work, 'registry');
  // The five packages, then every third-party dependency they need, from the pnpm store.
  const queue: string[] = [];
  const seen = new Set<string>();
  for (const name of ['core-wasm', 'model-loader', 'model-cache', 'llm-bridge', 'sdk']) {
    const pkgDir = join(root, 'packages', name);
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as {
      name: string;
      version: string;
      dependencies?: Record<string, string>;
    };
    seen.add(pkg.name);
    const file = `${pkg.name.replace(/^@/, '').replace('/', '-')}-${pkg.version}.tgz`;
    addToFolder({ dir, tarball: join(packed, file) });
    for (const dep of Object.keys(pkg.dependencies ?? {}))
      if (!dep.startsWith('@the-edge-agent/')) queue.push(depDir(dep, pkgDir));
  }
  const thirdParty = join(work, 'third-party');
  mkdirSync(thirdParty);
  while (queue.length) {
    const pkgDir = queue.shift()!;
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as {
      name: string;
      dependencies?: Record<string, string>;
    };
    if (seen.has(pkg.name)) continue;
    seen.add(pkg.name);
    // The store holds the files as published: a tarball of them is what npm serves.
    const tarball = join(thirdParty, `${pkg.name.replace(/^@/, '').replace('/', '-')}.tgz`);
    execFileSync('tar', [
      '-czf',
      tarball,
      '--hard-dereference',
      '-C',
      pkgDir,
      '--transform',
      's,^\\.,package,',
      '.',
    ]);
    addToFolder({ dir, tarball });
    for (const dep of Object.keys(pkg.dependencies ?? {})) queue.push(depDir(dep, pkgDir));
  }
  registry = await serveRegistry(dir);
  gguf = join(work, 'tiny.gguf');
  await writeTinyLlama(gguf, {
    seed: 3,
    shape: shapeForSize(3 * 2 ** 20, buildVocab().tokens.length),
  });
});

test.afterAll(async () => {
  await registry?.close();
  rmSync(work, { recursive: true, force: true });
});

/** A fresh project that installs only the sdk, isolated from this machine's npm settings. */
function freshProject(name: string) {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true }));
  writeFileSync(join(work, 'npmrc'), '');
  return {
    dir,
    env: {
      npm_config_registry: `${registry.url}/`,
      npm_config_userconfig: join(work, 'npmrc'),
      npm_config_cache: join(work, `${name}-npm-cache`),
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
    },
  };
}

async function checkTeaModel(cmd: [string, ...string[]], dir: string, env: NodeJS.ProcessEnv) {
  const [bin, ...pre] = cmd;
  const help = await run(bin, [...pre, 'tea-model', '--help'], dir, env);
  expect(help.out).toContain('tea-model pack <model.gguf> --out <dir>');
  expect(help.code).toBe(0);
  const out = join(dir, 'packed-model');
  const pack = await run(
    bin,
    [...pre, 'tea-model', 'pack', gguf, '--out', out, '--max-chunk-size', '1M'],
    dir,
    env,
  );
  expect(pack.code, pack.out).toBe(0);
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
    chunks: { file: string }[];
  };
  expect(manifest.chunks.length).toBeGreaterThan(1);
  const verify = await run(
    bin,
    [...pre, 'tea-model', 'verify', join(out, 'manifest.json')],
    dir,
    env,
  );
  expect(verify.out).toContain(`all ${manifest.chunks.length} chunks verified`);
}

test('pnpm: `pnpm exec tea-model` works in a fresh project that installed only the packed sdk', async () => {
  const { dir, env } = freshProject('with-pnpm');
  const store = join(work, 'pnpm-store');
  const add = await run('pnpm', ['add', '@the-edge-agent/sdk', '--store-dir', store], dir, env);
  expect(add.code, add.out).toBe(0);
  // pnpm links the bins of direct dependencies only: this one is the sdk's.
  expect(readFileSync(join(dir, 'node_modules/.bin/tea-model'), 'utf8')).toContain(
    'sdk/bin/tea-model.js',
  );
  await checkTeaModel(['pnpm', 'exec'], dir, env);
});

test('npm: `npx tea-model` works in a fresh project that installed only the packed sdk', async () => {
  const { dir, env } = freshProject('with-npm');
  const add = await run('npm', ['install', '@the-edge-agent/sdk'], dir, env);
  expect(add.code, add.out).toBe(0);
  // The registry is the local one: npx must find the installed bin, never ask for a package.
  await checkTeaModel(['npx'], dir, env);
});

// Yarn is not a dependency of this repository: run where one is on PATH (or TEA_YARN names it).
const yarn =
  process.env['TEA_YARN'] ||
  spawnSync('sh', ['-c', 'command -v yarn'], { encoding: 'utf8' }).stdout.trim();

test('yarn: `yarn tea-model` works in a fresh project that installed only the packed sdk', async () => {
  test.skip(!yarn, 'no yarn on PATH (set TEA_YARN to one)');
  const { dir, env } = freshProject('with-yarn');
  const add = await run(
    yarn,
    [
      'add',
      '@the-edge-agent/sdk',
      '--registry',
      registry.url,
      '--cache-folder',
      join(work, 'yarn-cache'),
      '--non-interactive',
    ],
    dir,
    env,
  );
  expect(add.code, add.out).toBe(0);
  await checkTeaModel([yarn], dir, env);
});
