import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { startFaultServer, type Fault, type FaultServer } from '@the-edge-agent/test-fixtures';
import { persistentContext } from '../../../tools/chromium.js';
import { openReadyPage, sdkPage } from '../../../tools/sdk-page.js';

// The download path in real Chromium with the real packages (model-loader + model-cache in
// IndexedDB; the sdk for the runtime's refusal), against test-fixtures' fault server on another
// origin. Each case: what the load returns (or its error code), the bytes the server sent, what
// IndexedDB holds afterwards, and a time limit (nothing hangs).

const here = dirname(fileURLToPath(import.meta.url));
const site = join(here, '.site-faults');
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const SIZE = 300_000;
const BLOCK = 64 * 1024;
const parts = [0, 1, 2].map(() => new Uint8Array(randomBytes(SIZE)));
const files: Record<string, Uint8Array | string> = {};
let server: FaultServer;

/** Block hashes as `tea-model pack` writes them (its default block is 16 MiB). */
const blocksOf = (data: Uint8Array, bytes: number) => ({
  bytes,
  sha256: Array.from({ length: Math.ceil(data.length / bytes) }, (_, k) =>
    sha(data.subarray(k * bytes, (k + 1) * bytes)),
  ),
});

function manifest(
  id: string,
  version: string,
  chunks: { file: string; data: Uint8Array; url?: string }[],
  blockBytes?: number,
) {
  return JSON.stringify({
    manifestVersion: 1,
    model: { id, version },
    layout: 'gguf-split',
    totalBytes: chunks.reduce((s, c) => s + c.data.length, 0),
    chunks: chunks.map((c) => ({
      file: c.file,
      bytes: c.data.length,
      sha256: sha(c.data),
      ...(c.url ? { url: c.url } : {}),
      ...(blockBytes ? { blocks: blocksOf(c.data, blockBytes) } : {}),
    })),
  });
}

test.beforeAll(async () => {
  parts.forEach((p, i) => (files[`m/c${i}.bin`] = p));
  const v2 = parts.map(() => new Uint8Array(randomBytes(SIZE)));
  v2.forEach((p, i) => (files[`m/v2-c${i}.bin`] = p));
  server = await startFaultServer(files);
  files['m/manifest.json'] = manifest(
    'm',
    '1',
    parts.map((data, i) => ({ file: `c${i}.bin`, data })),
  );
  files['m/blocks.json'] = manifest(
    'm',
    '1',
    parts.map((data, i) => ({ file: `c${i}.bin`, data })),
    BLOCK,
  );
  files['m/v2.json'] = manifest(
    'm',
    '2',
    v2.map((data, i) => ({ file: `v2-c${i}.bin`, data })),
  );
  files['m/elsewhere.json'] = manifest('m', '1', [
    { file: 'c0.bin', data: parts[0]!, url: `${server.otherOrigin}/m/c0.bin` },
  ]);
  files['m/broken.json'] = '{"manifestVersion": 1, "model": {"id": "m"}}';
  files['m/models.json'] = JSON.stringify({
    modelsVersion: 1,
    profiles: [
      {
        id: 'p',
        version: '1',
        manifest: 'manifest.json',
        totalBytes: 3 * SIZE,
        chunks: 3,
        modes: ['cpu'],
      },
    ],
  });
  files['m/models-elsewhere.json'] = JSON.stringify({
    modelsVersion: 1,
    profiles: [
      {
        id: 'p',
        version: '1',
        manifest: `${server.otherOrigin}/m/manifest.json`,
        totalBytes: 3 * SIZE,
        chunks: 3,
        modes: ['cpu'],
      },
    ],
  });
  // Verified bytes that are not a GGUF: llama.cpp refuses them after the download.
  const junk = new Uint8Array(randomBytes(4096));
  files['bad/c0.gguf'] = junk;
  files['bad/manifest.json'] = manifest('bad', '1', [{ file: 'c0.gguf', data: junk }]);
  mkdirSync(site, { recursive: true });
  writeFileSync(
    join(site, 'index.html'),
    sdkPage(`
      import { acquireModel, fetchModelIndex, sha256OfBlob } from '@the-edge-agent/model-loader';
      import { openModelCache } from '@the-edge-agent/model-cache';
      import { createTea } from '@the-edge-agent/sdk';
      const error = (e) => ({ ok: false, code: e?.code ?? e?.name, message: String(e?.message ?? e), chunkIndex: e?.chunkIndex, status: e?.status, url: e?.url });
      window.acquire = async (url, o = {}) => {
        const cache = openModelCache({ dbName: o.db ?? 'faults' });
        const abort = new AbortController();
        if (o.abortAfterMs) setTimeout(() => abort.abort(new Error('stopped by the test')), o.abortAfterMs);
        // clearModelCache() from elsewhere in the page once this many bytes have arrived.
        let cleared = o.clearAtBytes === undefined;
        const clearNow = () => { const c = openModelCache({ dbName: o.db ?? 'faults' }); return c.clear().finally(() => c.close()); };
        const t = performance.now();
        let r;
        try {
          const got = await acquireModel({ manifestUrl: url }, {
            store: cache, signal: abort.signal, retryDelayMs: 20, idleTimeoutMs: o.idleTimeoutMs ?? 800,
            segmentBytes: o.segmentBytes ?? 64 * 1024, rangeBytes: o.rangeBytes ?? o.segmentBytes ?? 64 * 1024,
            concurrency: o.concurrency ?? 3,
            ...(o.allowedOrigins ? { allowedOrigins: o.allowedOrigins } : {}),
            onWaitForOtherTab: () => (window.waited = true),
            onProgress: (p) => {
              if (p.otherTab) window.otherTab = (window.otherTab ?? 0) + 1;
              if (!cleared && p.loadedBytes >= o.clearAtBytes) { cleared = true; window.clearing = clearNow(); }
              window.loadedBytes = p.loadedBytes;
            },
          });
          r = { ok: true, fromCache: got.fromCache, hashes: o.hash === false ? [] : await Promise.all(got.blobs.map(sha256OfBlob)) };
        } catch (e) { r = error(e); }
        r.ms = performance.now() - t;
        await window.clearing;
        r.stats = await cache.stats();
        await cache.close();
        return r;
      };
      window.index = (url, allowedOrigins) => fetchModelIndex(url, { retryDelayMs: 20, ...(allowedOrigins ? { allowedOrigins } : {}) })
        .then((i) => ({ ok: true, ids: i.profiles.map((p) => p.id) }), error);
      window.clear = async (db = 'faults') => { const c = openModelCache({ dbName: db }); await c.clear(); await c.close(); };
      window.sdk = (url) => createTea({ manifestUrl: url, webgpu: 'off', cacheName: 'faults-sdk' })
        .then(async (t) => { await t.dispose(); return { ok: true }; }, error);
      window.ready = true;
    `),
  );
});

test.afterAll(async () => {
  await server?.close();
  rmSync(site, { recursive: true, force: true });
});

type Result = {
  ok: boolean;
  code?: string;
  message?: string;
  chunkIndex?: number;
  status?: number;
  url?: string;
  fromCache?: boolean;
  hashes?: string[];
  ms: number;
  stats: {
    totalBytes: number;
    models: { complete: boolean; bytes: number; partialBytes: number; version: string }[];
  };
};

/** What the test page offers (see its script above). */
interface FaultPage {
  acquire(url: string, o: Record<string, unknown>): Promise<Result>;
  index(
    url: string,
    allowedOrigins?: string[],
  ): Promise<{ ok: boolean; code?: string; ids?: string[] }>;
  clear(db: string): Promise<void>;
  sdk(url: string): Promise<{ ok: boolean; code?: string; message: string; url?: string }>;
  waited?: boolean;
  otherTab?: number;
}

const open = (page: Page) =>
  openReadyPage(page, '/packages/model-loader/e2e/.site-faults/index.html', 15_000);

/** Runs `work` in the page, failing the test if it takes longer than `ms` (nothing may hang). */
async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, limit]);
  } finally {
    clearTimeout(timer);
  }
}

const acquire = (page: Page, url: string, o: Record<string, unknown> = {}, ms = 15_000) =>
  within(
    ms,
    page.evaluate(
      ([u, opts]) => (window as unknown as FaultPage).acquire(u, opts) as Promise<Result>,
      [url, o] as const,
    ),
  );
const fresh = (page: Page, db = 'faults') =>
  page.evaluate((d) => (window as unknown as FaultPage).clear(d), db);
const sent = (path: string) => server.bytesSent(path);
const expected = parts.map(sha);

/** A fault on chunk c1 that the loader must survive: the model arrives whole and is complete. */
const survivable: { fault: Fault[]; note: string; maxExtraBytes: number }[] = [
  { fault: ['503'], note: '503 once', maxExtraBytes: 0 },
  { fault: ['500'], note: '500 once', maxExtraBytes: 0 },
  { fault: ['503-retry-after:1'], note: '503 with Retry-After in seconds', maxExtraBytes: 0 },
  { fault: ['429-retry-after:1'], note: '429 with Retry-After in seconds', maxExtraBytes: 0 },
  { fault: ['429-retry-date:2'], note: '429 with Retry-After as an HTTP date', maxExtraBytes: 0 },
  { fault: ['drop-midway'], note: 'connection reset halfway (Range resume)', maxExtraBytes: 0 },
  { fault: ['drop-at:1000'], note: 'connection reset after 1 KB', maxExtraBytes: 0 },
  {
    fault: ['ok', 'stall-at:30000'],
    note: 'stalled connection (idle timeout, Range resume)',
    maxExtraBytes: 0,
  },
  { fault: ['stall-headers'], note: 'no answer at all (idle timeout)', maxExtraBytes: 0 },
  { fault: ['truncate'], note: 'body ends early without an error', maxExtraBytes: 0 },
  { fault: ['corrupt-byte'], note: 'one corrupted byte (re-downloaded once)', maxExtraBytes: SIZE },
  {
    fault: ['drop-midway', 'ignore-range'],
    note: 'server ignores Range (restart)',
    maxExtraBytes: SIZE / 2,
  },
  {
    fault: ['drop-midway', 'wrong-range'],
    note: 'server answers another range',
    maxExtraBytes: 2 * SIZE,
  },
  // Chromium rejects a 206 body longer than its Content-Range: that segment is asked again.
  {
    fault: ['extra-bytes'],
    note: 'more bytes than the manifest says',
    maxExtraBytes: 64 * 1024 + 1000,
  },
  { fault: ['redirect-same-origin'], note: 'same-origin redirect', maxExtraBytes: 0 },
  { fault: ['html'], note: 'an HTML page instead of the chunk, once', maxExtraBytes: 100 },
  { fault: ['slow:600000'], note: 'a slow server', maxExtraBytes: 0 },
];

// Each fault against a manifest without block hashes (one SHA-256 stream per chunk) and one with
// them (64 KiB blocks, each verified with WebCrypto as it completes).
for (const [mode, path] of [
  ['whole-chunk hashes', 'm/manifest.json'],
  ['block hashes', 'm/blocks.json'],
] as const)
  test.describe(`survivable faults (${mode}): the model arrives whole, verified and complete in IndexedDB`, () => {
    for (const { fault, note, maxExtraBytes } of survivable) {
      test(note, async ({ page }) => {
        await open(page);
        await fresh(page);
        server.inject('m/c1.bin', ...fault);
        const before = sent('m/c1.bin');
        const r = await acquire(page, server.url(path));
        expect(r.ok, JSON.stringify(r)).toBe(true);
        expect(r.hashes).toEqual(expected);
        expect(r.stats.models[0]).toMatchObject({
          complete: true,
          bytes: 3 * SIZE,
          partialBytes: 0,
        });
        expect(r.stats.totalBytes).toBe(3 * SIZE);
        // Bytes fetched for the faulty chunk: the chunk, plus only what the fault forces again.
        // With block hashes a corrupted byte costs its block, not the chunk.
        const extra =
          path === 'm/blocks.json' && fault[0] === 'corrupt-byte' ? BLOCK : maxExtraBytes;
        expect(sent('m/c1.bin') - before - SIZE).toBeLessThanOrEqual(extra);
        if (fault[0]!.includes('retry-')) expect(r.ms).toBeGreaterThanOrEqual(900);
      });
    }
  });

test.describe('faults that end the load with a coded error, leaving a repairable cache', () => {
  test('a chunk that never verifies: CHUNK_HASH_MISMATCH after at most twice its size', async ({
    page,
  }) => {
    await open(page);
    await fresh(page);
    server.inject('m/c1.bin', ...Array<Fault>(40).fill('corrupt-byte'));
    const before = sent('m/c1.bin');
    const r = await acquire(page, server.url('m/manifest.json'));
    expect(r).toMatchObject({ ok: false, code: 'CHUNK_HASH_MISMATCH', chunkIndex: 1 });
    expect(sent('m/c1.bin') - before).toBeLessThanOrEqual(2 * SIZE);
    expect(r.stats.models[0]!.complete).toBe(false);
    // The next load fetches only what is missing.
    server.inject('m/c1.bin');
    const beforeOthers = sent('m/c0.bin');
    const again = await acquire(page, server.url('m/manifest.json'));
    expect(again.ok).toBe(true);
    expect(sent('m/c0.bin')).toBe(beforeOthers);
  });

  test('a missing chunk: HTTP_ERROR 404 naming the URL, not retried', async ({ page }) => {
    await open(page);
    await fresh(page);
    server.inject('m/c2.bin', '404');
    const requests = server.log.length;
    const r = await acquire(page, server.url('m/manifest.json'));
    expect(r).toMatchObject({ ok: false, code: 'HTTP_ERROR', status: 404, chunkIndex: 2 });
    expect(r.message).toContain(server.url('m/c2.bin'));
    expect(server.log.slice(requests).filter((e) => e.path === 'm/c2.bin')).toHaveLength(1);
    expect(r.stats.models[0]!.complete).toBe(false);
  });

  test('a chunk that stalls on every attempt: NETWORK_ERROR, within the retries', async ({
    page,
  }) => {
    await open(page);
    await fresh(page);
    server.inject(
      'm/c1.bin',
      'stall-headers',
      'stall-headers',
      'stall-headers',
      'stall-headers',
      'stall-headers',
    );
    const r = await acquire(page, server.url('m/manifest.json'), { idleTimeoutMs: 300 }, 20_000);
    expect(r).toMatchObject({ ok: false, code: 'NETWORK_ERROR', chunkIndex: 1 });
    expect(r.message).toContain('no bytes for 0.3 s');
  });

  test('a same-origin chunk URL that redirects to another origin: ORIGIN_NOT_ALLOWED', async ({
    page,
  }) => {
    await open(page);
    await fresh(page);
    server.inject('m/c0.bin', 'redirect-other-origin');
    const r = await acquire(page, server.url('m/manifest.json'));
    expect(r).toMatchObject({ ok: false, code: 'ORIGIN_NOT_ALLOWED', chunkIndex: 0 });
    expect(r.message).toContain(server.otherOrigin);
    expect(r.stats.models[0]!.complete).toBe(false);
  });

  test('an aborted download: ABORTED at once, what arrived kept in segments, resumed next time', async ({
    page,
  }) => {
    await open(page);
    await fresh(page);
    server.inject('m/c1.bin', 'ok', 'ok', 'ok', 'stall-at:1000');
    const r = await acquire(page, server.url('m/manifest.json'), {
      idleTimeoutMs: 60_000,
      abortAfterMs: 1500,
    });
    expect(r).toMatchObject({ ok: false, code: 'ABORTED' });
    expect(r.ms).toBeLessThan(2500);
    expect(r.stats.models[0]!.partialBytes).toBeGreaterThanOrEqual(3 * 64 * 1024);
    const before = sent('m/c1.bin');
    const again = await acquire(page, server.url('m/manifest.json'));
    expect(again.ok).toBe(true);
    expect(server.log.filter((e) => e.path === 'm/c1.bin').at(-1)!.range).toMatch(
      /^bytes=\d{6}-\d*$/,
    );
    expect(sent('m/c1.bin') - before).toBeLessThan(SIZE - 3 * 64 * 1024 + 1);
    expect(again.stats.models[0]).toMatchObject({ complete: true, partialBytes: 0 });
  });

  test('an interrupted version bump leaves no orphans: stats() and list() agree', async ({
    page,
  }) => {
    await open(page);
    await fresh(page);
    expect((await acquire(page, server.url('m/manifest.json'))).ok).toBe(true);
    server.inject('m/v2-c2.bin', 'stall-at:1000');
    const bump = await acquire(page, server.url('m/v2.json'), {
      idleTimeoutMs: 60_000,
      abortAfterMs: 1000,
    });
    expect(bump.code).toBe('ABORTED');
    // Back to version 1 (a rollback): version 2's chunks and segments are swept.
    const back = await acquire(page, server.url('m/manifest.json'));
    expect(back.ok).toBe(true);
    const listed = back.stats.models.reduce((s, m) => s + m.bytes + m.partialBytes, 0);
    expect(back.stats.totalBytes).toBe(listed);
    expect(back.stats.totalBytes).toBe(3 * SIZE);
  });
});

test.describe('the cache cleared while a load runs', () => {
  const slowly = () =>
    ['m/c0.bin', 'm/c1.bin', 'm/c2.bin'].forEach((f) => server.inject(f, 'slow:400000'));
  const healed = async (page: Page) => {
    const again = await acquire(page, server.url('m/manifest.json'));
    expect(again).toMatchObject({ ok: true, hashes: expected });
    expect(again.stats.models).toHaveLength(1);
    expect(again.stats.models[0]).toMatchObject({ complete: true, partialBytes: 0 });
    expect(again.stats.totalBytes).toBe(3 * SIZE);
  };

  test('clearModelCache() during a load: STORE_ERROR saying to load again; the next load heals', async ({
    page,
  }) => {
    await open(page);
    for (const at of [100_000, 450_000, 3 * SIZE - 70_000]) {
      await fresh(page);
      slowly();
      const r = await acquire(page, server.url('m/manifest.json'), { clearAtBytes: at });
      expect(r, `cleared at ${at} bytes`).toMatchObject({ ok: false, code: 'STORE_ERROR' });
      expect(r.message).toMatch(/cleared.*load.*again/s);
      await healed(page);
    }
  });

  test('"Clear site data" (IndexedDB deleted under the open connection) during a load: STORE_ERROR; the next load heals', async ({
    page,
  }) => {
    await open(page);
    await fresh(page);
    slowly();
    const cdp = await page.context().newCDPSession(page);
    const pending = acquire(page, server.url('m/manifest.json'));
    await page.waitForFunction(
      () => ((window as unknown as { loadedBytes?: number }).loadedBytes ?? 0) > 300_000,
    );
    await cdp.send('Storage.clearDataForOrigin', {
      origin: new URL(page.url()).origin,
      storageTypes: 'indexeddb',
    });
    const r = await pending;
    expect(r).toMatchObject({ ok: false, code: 'STORE_ERROR' });
    expect(r.message).toMatch(/cleared.*load.*again/s);
    await healed(page);
  });
});

test.describe('documents', () => {
  test('manifest: a 503 and a 429 are retried', async ({ page }) => {
    await open(page);
    await fresh(page);
    server.inject('m/manifest.json', '503', '429-retry-after:0');
    expect((await acquire(page, server.url('m/manifest.json'))).ok).toBe(true);
  });

  test('manifest: an HTML page (a dev server fallback) is MANIFEST_INVALID naming the URL', async ({
    page,
  }) => {
    await open(page);
    server.inject('m/manifest.json', 'html');
    const r = await acquire(page, server.url('m/manifest.json'));
    expect(r).toMatchObject({ ok: false, code: 'MANIFEST_INVALID' });
    expect(r.message).toContain(`${server.url('m/manifest.json')} is an HTML page`);
  });

  test('manifest: a 404 is HTTP_ERROR naming the URL', async ({ page }) => {
    await open(page);
    const r = await acquire(page, server.url('m/none.json'));
    expect(r).toMatchObject({
      ok: false,
      code: 'HTTP_ERROR',
      status: 404,
      url: server.url('m/none.json'),
    });
  });

  test('manifest: a missing field is MANIFEST_INVALID naming the field and the URL', async ({
    page,
  }) => {
    await open(page);
    const r = await acquire(page, server.url('m/broken.json'));
    expect(r).toMatchObject({ ok: false, code: 'MANIFEST_INVALID' });
    expect(r.message).toContain('model.version');
    expect(r.message).toContain(server.url('m/broken.json'));
  });

  test('manifest: a chunk on another origin is refused before any chunk request', async ({
    page,
  }) => {
    await open(page);
    const requests = server.log.length;
    const r = await acquire(page, server.url('m/elsewhere.json'));
    expect(r).toMatchObject({ ok: false, code: 'ORIGIN_NOT_ALLOWED', chunkIndex: 0 });
    expect(server.log.slice(requests).filter((e) => e.path.endsWith('.bin'))).toHaveLength(0);
  });

  test('manifest: a redirect to another origin is refused', async ({ page }) => {
    await open(page);
    server.inject('m/manifest.json', 'redirect-other-origin');
    const r = await acquire(page, server.url('m/manifest.json'));
    expect(r).toMatchObject({ ok: false, code: 'ORIGIN_NOT_ALLOWED' });
  });

  test('models.json: a profile on another origin is refused unless allowed; a 503 is retried', async ({
    page,
  }) => {
    await open(page);
    const refused = await page.evaluate(
      (u) => (window as unknown as FaultPage).index(u),
      server.url('m/models-elsewhere.json'),
    );
    expect(refused).toMatchObject({ ok: false, code: 'ORIGIN_NOT_ALLOWED' });
    const allowed = await page.evaluate(
      ([u, o]) => (window as unknown as FaultPage).index(u, [o]),
      [server.url('m/models-elsewhere.json'), server.otherOrigin] as const,
    );
    expect(allowed).toEqual({ ok: true, ids: ['p'] });
    server.inject('m/models.json', '503');
    expect(
      await page.evaluate(
        (u) => (window as unknown as FaultPage).index(u),
        server.url('m/models.json'),
      ),
    ).toEqual({ ok: true, ids: ['p'] });
  });
});

test.describe('tabs, storage and the runtime', () => {
  test("a tab waiting for another tab's stalled download stops waiting when its signal aborts", async ({
    context,
  }) => {
    const a = await context.newPage();
    const b = await context.newPage();
    await open(a);
    await open(b);
    await fresh(a, 'tabs');
    server.inject('m/c0.bin', 'stall-at:1000');
    server.inject('m/c1.bin', 'slow:100000');
    const first = a.evaluate(
      (u) => (window as unknown as FaultPage).acquire(u, { db: 'tabs', idleTimeoutMs: 60_000 }),
      server.url('m/manifest.json'),
    );
    await new Promise((r) => setTimeout(r, 500));
    const second = await acquire(
      b,
      server.url('m/manifest.json'),
      { db: 'tabs', abortAfterMs: 700 },
      5_000,
    );
    expect(second).toMatchObject({ ok: false, code: 'ABORTED' });
    expect(second.ms).toBeLessThan(2_000);
    expect(await b.evaluate(() => (window as unknown as FaultPage).waited)).toBe(true);
    // While it waited, it reported the other tab's progress (BroadcastChannel).
    expect(await b.evaluate(() => (window as unknown as FaultPage).otherTab)).toBeGreaterThan(0);
    await a.close();
    void first.catch(() => undefined);
  });

  test('a disk that fills up mid-download: QUOTA_EXCEEDED at once, no partial segments left, bytes reported', async ({
    page,
    context,
  }) => {
    await open(page);
    await fresh(page, 'quota');
    const cdp = await context.newCDPSession(page);
    await cdp.send('Storage.overrideQuotaForOrigin', {
      origin: new URL(page.url()).origin,
      quotaSize: 400 * 1024,
    });
    server.inject('m/c0.bin', 'slow:300000');
    server.inject('m/c1.bin', 'slow:300000');
    server.inject('m/c2.bin', 'slow:300000');
    const before = ['m/c0.bin', 'm/c1.bin', 'm/c2.bin'].map(sent);
    const r = await acquire(page, server.url('m/manifest.json'), { db: 'quota' }, 20_000);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(page.url()).origin });
    expect(r).toMatchObject({ ok: false, code: 'QUOTA_EXCEEDED' });
    expect(r.message).toMatch(/are stored, .* more are needed/);
    const fetched = ['m/c0.bin', 'm/c1.bin', 'm/c2.bin'].reduce(
      (s, p, i) => s + sent(p) - before[i]!,
      0,
    );
    expect(fetched).toBeLessThan(3 * SIZE);
    expect(r.stats.models[0]!.complete).toBe(false);
  });

  test('verified bytes that llama.cpp refuses: MODEL_INVALID with the manifest URL, every time, no new download', async ({
    page,
  }) => {
    await open(page);
    const first = await within(
      30_000,
      page.evaluate(
        (u) => (window as unknown as FaultPage).sdk(u),
        server.url('bad/manifest.json'),
      ),
    );
    expect(first).toMatchObject({
      ok: false,
      code: 'MODEL_INVALID',
      url: server.url('bad/manifest.json'),
    });
    expect(first.message).toContain('evict()');
    const before = sent('bad/c0.gguf');
    const second = await within(
      30_000,
      page.evaluate(
        (u) => (window as unknown as FaultPage).sdk(u),
        server.url('bad/manifest.json'),
      ),
    );
    expect(second).toMatchObject({ ok: false, code: 'MODEL_INVALID' });
    expect(sent('bad/c0.gguf')).toBe(before);
  });
});

test('a reload at 70 % of a 768 MB download resumes with at most 64 MiB fetched again', async ({
  baseURL,
}) => {
  test.setTimeout(240_000);
  const CHUNK = 256 * 2 ** 20;
  const big = [0, 1, 2].map(() => randomFillSync(new Uint8Array(CHUNK)));
  big.forEach((b, i) => server.set(`big/c${i}.bin`, b));
  server.set(
    'big/manifest.json',
    manifest(
      'big',
      '1',
      big.map((data, i) => ({ file: `c${i}.bin`, data })),
      4 * 2 ** 20,
    ),
  );
  const { context, close } = await persistentContext(baseURL);
  try {
    const page = await context.newPage();
    await open(page);
    await fresh(page, 'big');
    const total = () => [0, 1, 2].reduce((s, i) => s + sent(`big/c${i}.bin`), 0);
    const start = total();
    void page
      .evaluate(
        (u) =>
          (window as unknown as FaultPage).acquire(u, {
            db: 'big',
            // The loader's defaults: 4 MiB segments (the blocks), 20 MiB per request.
            segmentBytes: 4 * 2 ** 20,
            rangeBytes: 20 * 2 ** 20,
            hash: false,
          }),
        server.url('big/manifest.json'),
      )
      .catch(() => undefined);
    await expect
      .poll(() => total() - start, { timeout: 120_000, intervals: [100] })
      .toBeGreaterThan(0.7 * 3 * CHUNK);
    await page.reload();
    await page.waitForFunction(() => (window as { ready?: boolean }).ready === true);
    const r = await acquire(
      page,
      server.url('big/manifest.json'),
      { db: 'big', segmentBytes: 4 * 2 ** 20, rangeBytes: 20 * 2 ** 20, hash: false },
      120_000,
    );
    expect(r.ok, JSON.stringify(r)).toBe(true);
    expect(r.stats.models[0]).toMatchObject({ complete: true, partialBytes: 0 });
    const refetched = total() - start - 3 * CHUNK;
    process.stdout.write(
      `[faults] reload at 70 %: ${(refetched / 2 ** 20).toFixed(1)} MiB fetched again\n`,
    );
    expect(refetched).toBeLessThanOrEqual(64 * 2 ** 20);
    await fresh(page, 'big');
  } finally {
    await close();
  }
});
