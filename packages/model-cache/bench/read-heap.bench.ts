import { type Page, test } from '@playwright/test';

// Reading a 1 GiB cached model back as Blobs must not pull it into the JS heap: the Blobs stay
// disk-backed. Stores 4 x 256 MiB chunks, reloads, then measures JS heap use (CDP
// Runtime.getHeapUsage, after a forced GC) before and after getBlobs(). Prints; asserts nothing.
const PAGE = '/packages/model-cache/e2e/cache.html';
const CHUNK = 256 * 1024 * 1024;

async function open(page: Page) {
  await page.goto(PAGE);
  await page.waitForFunction(
    () => (window as unknown as { harnessReady?: boolean }).harnessReady === true,
  );
}

test('JS heap growth when reading a 1 GiB cached model back as Blobs', async ({
  page,
  context,
}) => {
  await open(page);
  const manifest = await page.evaluate(async (size) => {
    const { cacheModule, bytes, model } = (window as any).harness;
    const cache = cacheModule.openModelCache({ dbName: 'bench-1g' });
    await cache.clear();
    const m = await model('bench', '1', 4, size, 31);
    await cache.open(m);
    for (let i = 0; i < 4; i++) await cache.putChunk(m, i, new Blob([bytes(size, 31 + i)]));
    await cache.complete(m);
    return m;
  }, CHUNK);
  await open(page);
  const cdp = await context.newCDPSession(page);
  await cdp.send('HeapProfiler.enable');
  const heap = async () => {
    await cdp.send('HeapProfiler.collectGarbage');
    return (await cdp.send('Runtime.getHeapUsage')).usedSize;
  };
  const before = await heap();
  const t0 = Date.now();
  const sizes = await page.evaluate(async (m) => {
    const { cacheModule } = (window as any).harness;
    const cache = cacheModule.openModelCache({ dbName: 'bench-1g' });
    const blobs: Blob[] = await cache.getBlobs(m);
    (window as any).kept = blobs; // keep them alive while measuring, as a loader would
    return blobs.map((b) => b.size);
  }, manifest);
  const ms = Date.now() - t0;
  const after = await heap();
  console.log(
    `[model-cache bench] read ${sizes.length} chunks, ${(sizes.reduce((a, b) => a + b, 0) / 2 ** 30).toFixed(2)} GiB, ` +
      `as Blobs in ${ms} ms; JS heap ${(before / 2 ** 20).toFixed(1)} -> ${(after / 2 ** 20).toFixed(1)} MiB ` +
      `(growth ${((after - before) / 2 ** 20).toFixed(1)} MiB)`,
  );
  await page.evaluate(() =>
    (window as any).harness.cacheModule.openModelCache({ dbName: 'bench-1g' }).clear(),
  );
});
