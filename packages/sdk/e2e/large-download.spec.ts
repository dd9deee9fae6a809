import { createHash, randomFillSync } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { sdkPage } from '../../../tools/sdk-page.js';
import { persistentContext } from '../../../tools/chromium.js';

// A 768 MB model in three 256 MB chunks, downloaded (three at once), verified and stored in
// IndexedDB by model-loader + model-cache, in a persistent profile as a user's browser has.
// Regression: Blobs assembled in JS from 8 MiB parts made Chromium fail the IndexedDB write
// ("Failed to write blobs (InvalidBlob)") once ~0.5 GB of them were alive, so no real model
// could be cached.
const here = dirname(fileURLToPath(import.meta.url));
const dir = join(here, '.large');
const CHUNK = 256 * 2 ** 20;

test.beforeAll(() => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const chunks = [0, 1, 2].map((i) => {
    const data = randomFillSync(Buffer.allocUnsafe(CHUNK));
    const file = `large.bin.part0000${i + 1}-of-00003`;
    writeFileSync(join(dir, file), data);
    return { file, bytes: CHUNK, sha256: createHash('sha256').update(data).digest('hex') };
  });
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({
      manifestVersion: 1,
      model: { id: 'large', version: '1' },
      layout: 'byte-chunks',
      totalBytes: 3 * CHUNK,
      chunks,
    }),
  );
  // The packages through an import map, as the plain-HTML example uses them.
  writeFileSync(
    join(dir, 'index.html'),
    sdkPage(`
      import { loadModel, parseManifest, sha256OfBlob } from '@the-edge-agent/model-loader';
      import { openModelCache } from '@the-edge-agent/model-cache';
      window.run = async () => {
        const url = new URL('manifest.json', location.href).href;
        const manifest = parseManifest(await (await fetch(url)).text(), { url });
        const cache = openModelCache({ dbName: 'large-download' });
        await cache.clear();
        const [blob] = await loadModel(manifest, { store: cache, concurrency: 3 });
        const cached = await cache.getBlobs(manifest);
        return {
          size: blob.size,
          complete: await cache.has(manifest),
          hashes: await Promise.all(cached.map((b) => sha256OfBlob(b))),
        };
      };
      window.ready = true;
    `),
  );
});

test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a 768 MB model downloads three chunks at once into IndexedDB and reads back verified', async ({
  baseURL,
}) => {
  test.setTimeout(180_000);
  const { context, close } = await persistentContext(baseURL);
  try {
    const page = await context.newPage();
    await page.goto('/packages/sdk/e2e/.large/index.html');
    await page.waitForFunction(() => (window as { ready?: boolean }).ready === true);
    const result = await page.evaluate(() =>
      (window as unknown as { run(): Promise<unknown> }).run(),
    );
    const manifest = (await (
      await page.request.get('/packages/sdk/e2e/.large/manifest.json')
    ).json()) as { chunks: Array<{ sha256: string }> };
    expect(result).toEqual({
      size: 3 * CHUNK,
      complete: true,
      hashes: manifest.chunks.map((c) => c.sha256),
    });
  } finally {
    await close();
  }
});
