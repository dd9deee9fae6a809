import { expect, test } from '@playwright/test';

test('the built demo loads the engine (bundled wasm) and reports multi-thread isolation', async ({
  page,
}) => {
  await page.goto('/apps/demo/dist/index.html');
  await expect(page.locator('[data-field="status"]')).toHaveText('engine ready');
  await expect(page.locator('[data-field="engine"]')).toHaveText(
    /^v\d+\.\d+\.\d+ \(WebAssembly\)$/,
  );
  await expect(page.locator('[data-field="isolation"]')).toHaveText('yes');
});

test('without COOP/COEP the demo still runs and says it is single-thread', async ({ page }) => {
  await page.goto('http://127.0.0.1:4174/apps/demo/dist/index.html');
  await expect(page.locator('[data-field="status"]')).toHaveText('engine ready');
  await expect(page.locator('[data-field="isolation"]')).toHaveText('no');
  await expect(page.locator('[data-field="threads"]')).toHaveText('1 (single-thread)');
});
