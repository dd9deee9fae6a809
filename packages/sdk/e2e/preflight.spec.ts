import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { sdkPage } from '../../../tools/sdk-page.js';

// The fit rule runs before any byte on the manifestUrl path too: a manifest whose header figures
// (model.resources, written by `tea-model pack`) cannot fit the wasm heap this browser reserves
// fails with MODEL_TOO_LARGE naming both sizes, and no chunk is requested. Its chunks do not exist.
const here = dirname(fileURLToPath(import.meta.url));
const dir = join(here, '.site-preflight');

test.beforeAll(() => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const chunks = [1, 2].map((i) => ({
    file: `huge-0000${i}-of-00002.gguf`,
    bytes: 1_900_000_000,
    sha256: String(i).repeat(64),
  }));
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({
      manifestVersion: 1,
      model: {
        id: 'huge',
        version: '1',
        format: 'gguf',
        resources: {
          weightsBytes: 18_000_000_000,
          cpuBytes: 2_000_000_000,
          offloadableBytes: 16_000_000_000,
          kvBytesPer1kTokens: 41_943_040,
          largestTensorBytes: 1_800_000_000,
        },
      },
      layout: 'gguf-split',
      totalBytes: 3_800_000_000,
      chunks,
    }),
  );
  writeFileSync(
    join(dir, 'index.html'),
    sdkPage(`
      import { createTea } from '@the-edge-agent/sdk';
      window.run = async () => {
        try {
          await createTea({ manifestUrl: './manifest.json', webgpu: 'off' });
          return { ok: true };
        } catch (e) {
          return { code: e.code, message: e.message, requiredBytes: e.requiredBytes, limitBytes: e.limitBytes };
        }
      };
      window.ready = true;
    `),
  );
});

test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a manifest too large for the wasm heap fails with MODEL_TOO_LARGE before any chunk request', async ({
  page,
}) => {
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto('/packages/sdk/e2e/.site-preflight/index.html');
  await page.waitForFunction(() => (window as { ready?: boolean }).ready === true);
  const result = await page.evaluate(() =>
    (window as unknown as { run(): Promise<Record<string, unknown>> }).run(),
  );
  expect(result).toMatchObject({ code: 'MODEL_TOO_LARGE', limitBytes: 16 * 2 ** 30 });
  expect(result['requiredBytes']).toBeGreaterThan(18e9);
  expect(result['message']).toMatch(/18\.\d+ GB .*needed, the limit is 17\.18 GB/);
  expect(requests.filter((u) => u.endsWith('.gguf'))).toEqual([]);
});
