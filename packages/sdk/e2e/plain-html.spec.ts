import { copyFileSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { ISOLATED_ORIGIN } from '../../../tools/e2e-origins.js';
import { packageRoot } from '../../../tools/sdk-page.js';

// The README's plain-HTML example, run as a user would after `npm install @the-edge-agent/sdk`:
// the page beside an npm-style flat node_modules (here links to the built workspace packages and
// their real dependencies) and a packed model under models/my-model/.
const here = dirname(fileURLToPath(import.meta.url));
const example = join(here, '../examples/plain-html.html');
const site = join(here, '.site');

function packageDir(from: string, name: string): string {
  const require = createRequire(join(from, 'package.json'));
  return dirname(realpathSync(require.resolve(`${name}/package.json`)));
}

test.beforeAll(() => {
  rmSync(site, { recursive: true, force: true });
  mkdirSync(join(site, 'node_modules/@the-edge-agent'), { recursive: true });
  mkdirSync(join(site, 'models'), { recursive: true });
  copyFileSync(example, join(site, 'index.html'));
  const packages = join(here, '../..');
  for (const name of ['sdk', 'core-wasm', 'model-loader', 'model-cache', 'llm-bridge']) {
    symlinkSync(join(packages, name), join(site, 'node_modules/@the-edge-agent', name));
  }
  const link = (from: string, name: string) =>
    symlinkSync(packageDir(join(packages, from), name), join(site, 'node_modules', name));
  link('model-cache', 'idb');
  link('model-loader', 'hash-wasm');
  // The GGUF header reader (model: '….gguf') and its dependency, loaded on use.
  mkdirSync(join(site, 'node_modules/@huggingface'));
  const gguf = packageRoot(join(packages, 'model-loader'), '@huggingface/gguf');
  symlinkSync(gguf, join(site, 'node_modules/@huggingface/gguf'));
  symlinkSync(
    packageRoot(gguf, '@huggingface/tasks'),
    join(site, 'node_modules/@huggingface/tasks'),
  );
  symlinkSync(
    join(packages, '../apps/demo/public/models/tiny-test-model'),
    join(site, 'models/my-model'),
  );
});

test('the README plain-HTML example is this file', () => {
  const readme = readFileSync(join(here, '../README.md'), 'utf8');
  const block = [...readme.matchAll(/```html\n([\s\S]*?)```/g)]
    .map((m) => m[1]!)
    .find((code) => code.includes('importmap'));
  expect(block).toBe(readFileSync(example, 'utf8'));
});

test('the plain-HTML example runs a workflow on a local model with no other origin', async ({
  page,
}) => {
  const requests: string[] = [];
  page.on('request', (r) => void requests.push(r.url()));
  await page.goto('/packages/sdk/e2e/.site/index.html');
  const status = page.locator('#status');
  await expect(status).toHaveAttribute('data-state', /done|error/, { timeout: 60_000 });
  await expect(status).toHaveText(/^Done: \d+ tokens$/);
  await expect(page.locator('#answer')).not.toBeEmpty();
  const foreign = requests.filter(
    (u) => !u.startsWith('blob:') && !u.startsWith(`${ISOLATED_ORIGIN}/packages/sdk/e2e/.site/`),
  );
  expect(foreign).toEqual([]);
  expect(requests.filter((u) => u.endsWith('.gguf'))).toHaveLength(3);
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
});
