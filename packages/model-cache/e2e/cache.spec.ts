import { expect, type Page, test } from '@playwright/test';
import type * as CacheModule from '../src/index.js';

interface Harness {
  cacheModule: typeof CacheModule;
  bytes(n: number, seed: number): Uint8Array<ArrayBuffer>;
  sha256(data: BufferSource | Blob): Promise<string>;
  model(
    id: string,
    version: string,
    count: number,
    size: number,
    seed?: number,
  ): Promise<CacheModule.CacheManifest>;
}
declare global {
  interface Window {
    harness: Harness;
    harnessReady?: boolean;
  }
}

const PAGE = '/packages/model-cache/e2e/cache.html';
async function open(page: Page) {
  await page.goto(PAGE);
  await page.waitForFunction(() => window.harnessReady === true);
}

test('stores ~200 MB, survives a reload, reads it back bit-identical with no network request', async ({
  page,
}) => {
  test.setTimeout(180_000);
  await open(page);
  const stored = await page.evaluate(async () => {
    const { cacheModule, bytes, model } = window.harness;
    const cache = cacheModule.openModelCache({ dbName: 'e2e-200mb' });
    await cache.clear();
    const m = await model('big', '1', 4, 50 * 1024 * 1024);
    await cache.open(m);
    // One chunk at a time: each is generated, stored in its own transaction, then dropped.
    for (let i = 0; i < 4; i++)
      await cache.putChunk(m, i, new Blob([bytes(m.chunks[i]!.bytes, 1 + i)]));
    await cache.complete(m);
    return { manifest: m, stats: await cache.stats() };
  });
  expect(stored.stats.totalBytes).toBe(200 * 1024 * 1024);
  expect(stored.stats.models[0]).toMatchObject({
    id: 'big',
    complete: true,
    bytes: stored.manifest.totalBytes,
  });

  await open(page);
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  const readBack = await page.evaluate(async (manifest) => {
    const { cacheModule, sha256 } = window.harness;
    const cache = cacheModule.openModelCache({ dbName: 'e2e-200mb' });
    if (!(await cache.has(manifest))) return { has: false, hashes: [] };
    const blobs = await cache.getBlobs(manifest);
    const hashes = [];
    for (const b of blobs) hashes.push(await sha256(await b.arrayBuffer()));
    return { has: true, hashes };
  }, stored.manifest);
  expect(readBack.has).toBe(true);
  expect(readBack.hashes).toEqual(stored.manifest.chunks.map((c) => c.sha256));
  expect(requests).toEqual([]);
});

test('two pages loading the same model at once: only one downloads, the other reads the cache', async ({
  context,
}) => {
  const [a, b] = [await context.newPage(), await context.newPage()];
  await Promise.all([open(a), open(b)]);
  await a.evaluate(() =>
    window.harness.cacheModule.openModelCache({ dbName: 'e2e-locks' }).clear(),
  );
  const load = (page: Page) =>
    page.evaluate(async () => {
      const { cacheModule, bytes, model } = window.harness;
      const cache = cacheModule.openModelCache({ dbName: 'e2e-locks' });
      const m = await model('shared', '1', 3, 1024 * 1024, 11);
      return cache.withModelLock(m, async () => {
        if (await cache.has(m)) return 'from cache';
        await cache.open(m);
        for (let i = 0; i < 3; i++) {
          await new Promise((r) => setTimeout(r, 100)); // a slow "download"
          await cache.putChunk(m, i, new Blob([bytes(m.chunks[i]!.bytes, 11 + i)]));
        }
        await cache.complete(m);
        return 'downloaded';
      });
    });
  const results = await Promise.all([load(a), load(b)]);
  expect(results.sort()).toEqual(['downloaded', 'from cache']);
});

test('a real quota failure surfaces QUOTA_EXCEEDED and leaves no complete-but-broken model', async ({
  page,
  context,
}) => {
  await open(page);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', {
    origin: new URL(page.url()).origin,
    quotaSize: 8 * 1024 * 1024,
  });
  const r = await page.evaluate(async () => {
    const { cacheModule, bytes, model } = window.harness;
    const m = await model('too-big', '1', 3, 4 * 1024 * 1024, 21);
    // 1. The early check: open() compares the missing bytes with storage.estimate(). Chromium's
    // quota override does not show in navigator.storage.estimate(), so it gets the same 8 MiB.
    const cache = cacheModule.openModelCache({
      dbName: 'e2e-quota',
      storage: { estimate: async () => ({ usage: 0, quota: 8 * 1024 * 1024 }) },
    });
    await cache.clear();
    const early = await cache.open(m).then(
      () => 'opened',
      (e: { code: string; message: string }) => e.code + ': ' + e.message,
    );
    // 2. A write that hits the real (overridden) quota mid-download; the early check is told
    // there is room, so only IndexedDB itself can refuse.
    const liar = cacheModule.openModelCache({
      dbName: 'e2e-quota',
      storage: { estimate: async () => ({ usage: 0, quota: 1e12 }) },
    });
    await liar.open(m);
    let midway = 'stored all';
    for (let i = 0; i < 3; i++) {
      try {
        await liar.putChunk(m, i, new Blob([bytes(m.chunks[i]!.bytes, 21 + i)]));
      } catch (e) {
        midway = `${(e as { code: string }).code} at chunk ${i}`;
        break;
      }
    }
    const complete = await liar.complete(m).then(
      () => 'complete',
      (e: { code: string }) => e.code,
    );
    return { early, midway, complete, has: await liar.has(m) };
  });
  expect(r.early).toMatch(
    /^QUOTA_EXCEEDED: not enough storage for model "too-big": needs 12\.0 MiB more, 8\.0 MiB available$/,
  );
  expect(r.midway).toMatch(/^QUOTA_EXCEEDED at chunk [12]$/);
  expect(r.complete).toBe('INVALID_CHUNK');
  expect(r.has).toBe(false);
});
