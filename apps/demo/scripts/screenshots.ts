import { fileURLToPath } from 'node:url';
import { expect, type Page, test } from '@playwright/test';

// The screenshots in the root README: the built demo at phone width (390 px) and on a desktop
// (1280 px), with the built-in test model loaded, one chat turn and one workflow run.
const out = fileURLToPath(new URL('../screenshots/', import.meta.url));
const DEMO = '/apps/demo/dist/index.html';

async function loadAndRun(page: Page, whileRunning?: () => Promise<void>): Promise<void> {
  await page.goto(DEMO);
  await page.evaluate(async () => {
    // A fresh start: the first load downloads, as a first visit does.
    const dbs = await indexedDB.databases();
    await Promise.all(dbs.map((d) => d.name && indexedDB.deleteDatabase(d.name)));
  });
  await page.reload();
  await expect(page.locator('#load')).toBeEnabled();
  await page.click('#load');
  await expect(page.locator('#progress-text')).toHaveAttribute('data-state', 'ready', {
    timeout: 60_000,
  });
  await page.fill('#chat-input', 'What is a tea ceremony?');
  await page.click('#chat-send');
  await expect(page.locator('#chat-log li.assistant')).toHaveAttribute('data-state', 'done', {
    timeout: 60_000,
  });
  // The screenshot should not catch a caret or a pulse mid-animation.
  await page.addStyleTag({
    content: '*{animation:none!important;caret-color:transparent!important}',
  });
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.selectOption('#example', { label: 'Pros and cons, side by side' });
  await page.click('#run');
  if (whileRunning) {
    // The two branches stream for a few seconds each: time to catch the graph lit up.
    await expect(page.locator('#graph g[data-status="active"]').first()).toBeVisible();
    await expect
      .poll(async () => ((await page.textContent('#tokens')) ?? '').length, { intervals: [50] })
      .toBeGreaterThan(80);
    await whileRunning();
  }
  await expect(page.locator('#final')).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
}

test('phone width, 390 px', async ({ browser }) => {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await loadAndRun(page, () =>
    page.locator('#workflow-section').screenshot({ path: `${out}demo-390-running.png` }),
  );
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: `${out}demo-390.png` });
  await page.close();
});

test('desktop width, 1280 px', async ({ browser }) => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await loadAndRun(page);
  await page.evaluate(() => window.scrollTo(0, 0));
  // The page down to the end of the run's timeline (the rest is the final state and the cache).
  const bottom = await page
    .locator('#timeline')
    .evaluate((el) => el.getBoundingClientRect().bottom + window.scrollY + 16);
  await page.screenshot({
    path: `${out}demo-1280.png`,
    fullPage: true,
    clip: { x: 0, y: 0, width: 1280, height: Math.ceil(bottom) },
  });
  await page.close();
});
