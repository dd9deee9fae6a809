import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import ts from 'typescript';
import { sdkPage } from '../../../tools/sdk-page.js';

// The sdk README's structured-output-and-tools example, run as written in Chromium: the only
// change is the model path (the demo's random-weight test model instead of "my-model").

const here = dirname(fileURLToPath(import.meta.url));
const site = join(here, '.site-readme');
const readme = readFileSync(join(here, '../README.md'), 'utf8');
const example = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)]
  .map((m) => m[1]!)
  .find((code) => code.includes('response_format') && code.includes('llm.tools'))!;

test.beforeAll(() => {
  mkdirSync(site, { recursive: true });
  // TypeScript as written, compiled as a bundler would (types removed, nothing else changed).
  const source = example.replace(
    "'/models/my-model/manifest.json'",
    "'/apps/demo/public/models/tiny-test-model/manifest.json'",
  );
  const code = ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  }).outputText;
  // Imports stay at the module's top level; the rest runs inside a try.
  const imports = code.split('\n').filter((l) => l.startsWith('import '));
  const body = code
    .split('\n')
    .filter((l) => !l.startsWith('import '))
    .join('\n');
  writeFileSync(
    join(site, 'index.html'),
    sdkPage(`
      ${imports.join('\n')}
      const logs = [];
      const log = console.log;
      console.log = (...a) => { logs.push(a.map(String).join(' ')); log(...a); };
      window.logs = logs;
      try {
        ${body}
        window.result = { state };
      } catch (e) {
        window.result = { error: e.code + ': ' + e.message };
      }
    `),
  );
});
test.afterAll(() => rmSync(site, { recursive: true, force: true }));

test('the README example with response_format and llm.tools runs as written', async ({ page }) => {
  expect(example).toBeDefined();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => void (m.type() === 'error' && problems.push(m.text())));
  test.setTimeout(120_000);
  // The example's top-level await holds the page's load event: do not wait for it.
  await page.goto('/packages/sdk/e2e/.site-readme/index.html', { waitUntil: 'commit' });
  await page
    .waitForFunction(() => (window as { result?: unknown }).result !== undefined, undefined, {
      timeout: 90_000,
    })
    .catch(async (e: Error) => {
      const logs = await page.evaluate(() => (window as unknown as { logs: string[] }).logs);
      throw new Error(
        `the example did not finish: ${[...problems, ...logs].join('; ') || e.message}`,
      );
    });
  const r = (await page.evaluate(() => (window as unknown as { result: unknown }).result)) as {
    state?: {
      trip: { json: { city: string; days: number } };
      when: { rounds: number; tool_results: { name: string; result: string }[] };
    };
    error?: string;
  };
  expect(r.error).toBeUndefined();
  expect(typeof r.state!.trip.json.city).toBe('string');
  expect(Number.isInteger(r.state!.trip.json.days)).toBe(true);
  expect(r.state!.when.tool_results[0]).toMatchObject({ name: 'clock' });
  expect(JSON.parse(r.state!.when.tool_results[0]!.result)).toHaveProperty('iso');
});
