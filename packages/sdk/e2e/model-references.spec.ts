import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import {
  buildVocab,
  shapeForSize,
  startFaultServer,
  type FaultServer,
  writeTinyLlama,
} from '@the-edge-agent/test-fixtures';
import { openReadyPage, sdkPage } from '../../../tools/sdk-page.js';

// createTea({ model }) with a GGUF URL, the first of gguf-split shards, and an hf: reference
// against a local server that serves a hub's paths: the header is read with Range requests and
// the fit check runs before any tensor byte; the download is cached with its SHA-256 pinned, so
// the next page loads it with no request for the file.
const here = fileURLToPath(new URL('.', import.meta.url));
const site = join(here, '.site-models');
const tmp = join(here, '.tmp-models');
let server: FaultServer;
let size = 0;
let shards: string[] = [];

test.beforeAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await writeTinyLlama(join(tmp, 'tiny.gguf'), {
    seed: 11,
    shape: shapeForSize(8 * 2 ** 20, buildVocab().tokens.length),
  });
  const model = new Uint8Array(readFileSync(join(tmp, 'tiny.gguf')));
  size = model.length;
  const teaModel = fileURLToPath(new URL('../../model-loader/dist/cli/main.js', import.meta.url));
  execFileSync(process.execPath, [
    teaModel,
    ...['pack', join(tmp, 'tiny.gguf'), '--out', join(tmp, 'split'), '--max-chunk-size', '3M'],
  ]);
  shards = readdirSync(join(tmp, 'split'))
    .filter((f) => f.endsWith('.gguf'))
    .sort();
  server = await startFaultServer({
    'tiny.gguf': model,
    'big-context.gguf': model,
    'shared.gguf': model,
    'acme/tiny-GGUF/resolve/0123abc000000000000000000000000000000000/tiny.gguf': model,
    ...Object.fromEntries(
      shards.map((f) => [`split/${f}`, new Uint8Array(readFileSync(join(tmp, 'split', f)))]),
    ),
  });
  mkdirSync(site, { recursive: true });
  writeFileSync(
    join(site, 'index.html'),
    sdkPage(`
      import { createTea } from '@the-edge-agent/sdk';
      window.load = async (options) => {
        try {
          const phases = [];
          const tea = await createTea({
            webgpu: 'off',
            cacheName: 'model-refs',
            onProgress: (p) => phases.includes(p.phase) || phases.push(p.phase),
            ...options,
          });
          const info = tea.info();
          const text = (await tea.complete('Hello', { max_tokens: 4, temperature: 0 })).content;
          await tea.dispose();
          return { ok: true, fromCache: info.fromCache, manifest: info.manifest, text, phases };
        } catch (e) {
          return { ok: false, code: e.code, message: e.message };
        }
      };
      window.clear = () => new Promise((r) => { const q = indexedDB.deleteDatabase('model-refs'); q.onsuccess = q.onerror = () => r(); });
      window.ready = true;
    `),
  );
});

test.afterAll(async () => {
  await server?.close();
  rmSync(site, { recursive: true, force: true });
  rmSync(tmp, { recursive: true, force: true });
});

type W = {
  load(o: Record<string, unknown>): Promise<Record<string, unknown>>;
  clear(): Promise<void>;
};
const requestsFor = (path: string) => server.log.filter((e) => e.path === path);

test('a GGUF URL: header first, cached with its SHA-256 pinned; the next page sends no request for it', async ({
  page,
}) => {
  await openReadyPage(page, '/packages/sdk/e2e/.site-models/index.html');
  await page.evaluate(() => (window as unknown as W).clear());
  const url = server.url('tiny.gguf');
  const first = await page.evaluate((u) => (window as unknown as W).load({ model: u }), url);
  expect(first, JSON.stringify(first)).toMatchObject({ ok: true, fromCache: false });
  expect(first['manifest']).toMatchObject({ id: `gguf:${url}`, totalBytes: size, chunks: 1 });
  expect(String(first['text']).length).toBeGreaterThan(0);
  const seen = server.log.length;
  await page.reload();
  await page.waitForFunction(() => (window as { ready?: boolean }).ready === true);
  const second = await page.evaluate((u) => (window as unknown as W).load({ model: u }), url);
  expect(second).toMatchObject({ ok: true, fromCache: true, text: first['text'] });
  expect(server.log.slice(seen).filter((e) => e.path === 'tiny.gguf')).toEqual([]);
});

test('two tabs load one GGUF URL at once: one downloads it, the other waits (Web Locks) and loads the pins from the cache', async ({
  context,
}) => {
  // Every request at 2 MB/s: the first tab's download outlasts the second tab's header read.
  server.inject('shared.gguf', ...Array.from({ length: 8 }, () => 'slow:2000000' as const));
  const [a, b] = [await context.newPage(), await context.newPage()];
  await openReadyPage(a, '/packages/sdk/e2e/.site-models/index.html');
  await openReadyPage(b, '/packages/sdk/e2e/.site-models/index.html');
  await a.evaluate(() => (window as unknown as W).clear());
  const url = server.url('shared.gguf');
  const first = a.evaluate((u) => (window as unknown as W).load({ model: u }), url);
  await expect.poll(() => requestsFor('shared.gguf').length).toBeGreaterThan(0);
  const second = await b.evaluate((u) => (window as unknown as W).load({ model: u }), url);
  const one = await first;
  expect(one, JSON.stringify(one)).toMatchObject({ ok: true, fromCache: false });
  expect(second, JSON.stringify(second)).toMatchObject({ ok: true, fromCache: true });
  expect(second['phases']).toContain('waiting');
  // One download of the file (whole-file requests), and each tab's header reads (Range).
  expect(requestsFor('shared.gguf').filter((e) => !e.range)).toHaveLength(1);
  expect(second['text']).toBe(one['text']);
});

test('the first of gguf-split shards stands for all of them; an hf: reference resolves against hubBaseUrl', async ({
  page,
}) => {
  await openReadyPage(page, '/packages/sdk/e2e/.site-models/index.html');
  await page.evaluate(() => (window as unknown as W).clear());
  const first = server.log.length;
  expect(shards.length).toBeGreaterThan(1);
  const split = await page.evaluate(
    (u) => (window as unknown as W).load({ model: u }),
    server.url(`split/${shards[0]}`),
  );
  expect(split, JSON.stringify(split)).toMatchObject({
    ok: true,
    manifest: { chunks: shards.length },
  });
  expect(new Set(server.log.slice(first).map((e) => e.path))).toEqual(
    new Set(shards.map((f) => `split/${f}`)),
  );
  const hub = await page.evaluate(
    (base) =>
      (window as unknown as W).load({
        // A full commit is used as given (a branch, tag or short commit asks the Hub API first).
        model: 'hf:acme/tiny-GGUF/tiny.gguf@0123abc000000000000000000000000000000000',
        hubBaseUrl: base,
      }),
    server.url('').replace(/\/$/, ''),
  );
  expect(hub, JSON.stringify(hub)).toMatchObject({ ok: true, fromCache: false });
  expect(
    requestsFor('acme/tiny-GGUF/resolve/0123abc000000000000000000000000000000000/tiny.gguf').length,
  ).toBeGreaterThan(0);
});

test('the fit check runs on the GGUF header before any tensor byte: MODEL_TOO_LARGE', async ({
  page,
}) => {
  await openReadyPage(page, '/packages/sdk/e2e/.site-models/index.html');
  await page.evaluate(() => (window as unknown as W).clear());
  // A context of 2^24 tokens: its KV cache cannot fit the wasm heap.
  const r = await page.evaluate(
    (u) => (window as unknown as W).load({ model: u, nCtx: 2 ** 24 }),
    server.url('big-context.gguf'),
  );
  expect(r).toMatchObject({ ok: false, code: 'MODEL_TOO_LARGE' });
  // Only the header was read.
  expect(server.bytesSent('big-context.gguf')).toBeLessThan(size / 2);
});

test('model: combined with another source, or a URL that is an HTML page, fails with a coded error naming it', async ({
  page,
}) => {
  await openReadyPage(page, '/packages/sdk/e2e/.site-models/index.html');
  const both = await page.evaluate(() =>
    (window as unknown as W).load({ model: 'x.gguf', manifestUrl: '/m.json' }),
  );
  expect(both).toMatchObject({ ok: false, code: 'INVALID_ARGUMENT' });
  expect(String(both['message'])).toContain('both `model` and `manifestUrl`');
  // What a dev server's SPA fallback answers for a wrong path.
  server.set('spa.gguf', new Uint8Array(1));
  server.inject('spa.gguf', 'html');
  const html = await page.evaluate(
    (u) => (window as unknown as W).load({ model: u }),
    server.url('spa.gguf'),
  );
  expect(html).toMatchObject({ ok: false, code: 'GGUF_INVALID' });
  expect(String(html['message'])).toContain(`${server.url('spa.gguf')} answered an HTML page`);
});
