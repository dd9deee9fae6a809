import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';

interface Smoke {
  version?: string;
  initialized?: boolean;
  shout?: string;
  count?: number;
  error?: string;
}

test('the built core-wasm package runs a workflow in wasm in Chromium', async ({ page }) => {
  const wasmRequests: string[] = [];
  page.on('request', (request) => {
    if (request.url().endsWith('.wasm')) wasmRequests.push(request.url());
  });
  await page.goto('/packages/core-wasm/e2e/smoke.html');
  const smoke = (
    await page.waitForFunction(() => (window as { __smoke?: Smoke }).__smoke)
  ).jsonValue();
  const result = (await smoke) as Smoke;

  const toml = await readFile(new URL('../crate/Cargo.toml', import.meta.url), 'utf8');
  const crateVersion = /^version\s*=\s*"([^"]+)"/m.exec(toml)?.[1];
  expect(result.error).toBeUndefined();
  expect(result).toEqual({ version: crateVersion, initialized: true, shout: 'TEA', count: 3 });
  expect(wasmRequests).toEqual([
    expect.stringMatching(/\/packages\/core-wasm\/wasm\/tea_core_bg\.wasm$/),
  ]);
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
});
