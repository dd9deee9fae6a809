import { createHash, randomFillSync } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from '@playwright/test';
import { startFaultServer, type FaultServer } from '@the-edge-agent/test-fixtures';
import { persistentContext } from '../../../tools/chromium.js';
import { sdkPage } from '../../sdk/e2e/sdk-page.js';

// Cold download of a 1 GiB model (four 256 MiB shards from a localhost server) in Chromium:
// model-loader + model-cache (fetch in 16 MiB segments, each verified against the manifest's
// block hashes as `tea-model pack` writes them, stored once in IndexedDB) against a plain
// parallel fetch of the same shards, read and discarded, in the same page. Rounds alternate the
// order. Also the peak JS heap (performance.memory, precise) during the loader's download.
// BENCH_PROBE=1 adds one download of a manifest without block hashes (one incremental SHA-256
// per chunk, hash-wasm) and the loader without a store. Prints; asserts nothing. BENCH_ROUNDS
// (default 3).
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const SHARD = 256 * 2 ** 20;
const BLOCK = 4 * 2 ** 20; // tea-model pack's default
const here = dirname(fileURLToPath(import.meta.url));
const site = join(here, '.site');
let server: FaultServer;

test.beforeAll(async () => {
  const shards = [0, 1, 2, 3].map(() => randomFillSync(new Uint8Array(SHARD)));
  const files: Record<string, Uint8Array | string> = {};
  shards.forEach((s, i) => (files[`s${i}.bin`] = s));
  const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
  const manifest = (blocks: boolean) =>
    JSON.stringify({
      manifestVersion: 1,
      model: { id: 'bench', version: '1' },
      layout: 'gguf-split',
      totalBytes: 4 * SHARD,
      chunks: shards.map((s, i) => ({
        file: `s${i}.bin`,
        bytes: SHARD,
        sha256: sha(s),
        ...(blocks
          ? {
              blocks: {
                bytes: BLOCK,
                sha256: Array.from({ length: SHARD / BLOCK }, (_, k) =>
                  sha(s.subarray(k * BLOCK, (k + 1) * BLOCK)),
                ),
              },
            }
          : {}),
      })),
    });
  files['manifest.json'] = manifest(true);
  files['whole.json'] = manifest(false);
  server = await startFaultServer(files);
  mkdirSync(site, { recursive: true });
  writeFileSync(
    join(site, 'index.html'),
    sdkPage(`
      import { acquireModel } from '@the-edge-agent/model-loader';
      import { openModelCache } from '@the-edge-agent/model-cache';
      const heap = () => performance.memory?.usedJSHeapSize ?? 0;
      window.plain = async (urls) => {
        const base = heap();
        let peak = base;
        const sampler = setInterval(() => (peak = Math.max(peak, heap())), 20);
        const t = performance.now();
        await Promise.all(urls.map(async (u) => {
          const reader = (await fetch(u)).body.getReader();
          for (;;) { const { done } = await reader.read(); if (done) break; }
        }));
        const ms = performance.now() - t;
        clearInterval(sampler);
        return { ms, heapGrowth: peak - base };
      };
      window.loader = async (url) => {
        const cache = openModelCache({ dbName: 'bench' });
        await cache.clear();
        const base = heap();
        let peak = base;
        const sampler = setInterval(() => (peak = Math.max(peak, heap())), 20);
        const t = performance.now();
        await acquireModel({ manifestUrl: url }, { store: cache, concurrency: 4 });
        const ms = performance.now() - t;
        clearInterval(sampler);
        await cache.clear();
        await cache.close();
        return { ms, heapGrowth: peak - base, peak };
      };
      window.nostore = async (url) => {
        const t = performance.now();
        await acquireModel({ manifestUrl: url }, { concurrency: 4 });
        return { ms: performance.now() - t };
      };
      window.ready = true;
    `),
  );
});

test.afterAll(async () => {
  await server?.close();
  rmSync(site, { recursive: true, force: true });
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f = (n: number) => n.toFixed(2);

test('cold download + verify + store of 1 GiB vs a plain parallel fetch; peak JS heap', async ({
  baseURL,
}) => {
  const { context, close } = await persistentContext(baseURL);
  try {
    const page = await context.newPage();
    await page.goto('/packages/model-loader/bench/.site/index.html');
    await page.waitForFunction(() => (window as { ready?: boolean }).ready === true);
    const urls = [0, 1, 2, 3].map((i) => server.url(`s${i}.bin`));
    const gbps = (ms: number) => (4 * SHARD) / 2 ** 30 / (ms / 1000);
    const plain: number[] = [];
    const loader: number[] = [];
    const heap: number[] = [];
    const plainHeap: number[] = [];
    type W = {
      plain(u: string[]): Promise<{ ms: number; heapGrowth: number }>;
      loader(u: string): Promise<{ ms: number; heapGrowth: number; peak: number }>;
    };
    for (let i = 0; i < ROUNDS; i++) {
      const runPlain = async () => {
        const r = await page.evaluate((u) => (window as unknown as W).plain(u), urls);
        plain.push(gbps(r.ms));
        plainHeap.push(r.heapGrowth);
      };
      const runLoader = async () => {
        const r = await page.evaluate(
          (u) => (window as unknown as W).loader(u),
          server.url('manifest.json'),
        );
        loader.push(gbps(r.ms));
        heap.push(r.heapGrowth);
      };
      if (i % 2 === 0) {
        await runPlain();
        await runLoader();
      } else {
        await runLoader();
        await runPlain();
      }
    }
    if (process.env['BENCH_PROBE']) {
      const whole = await page.evaluate(
        (u) => (window as unknown as W).loader(u),
        server.url('whole.json'),
      );
      process.stdout.write(
        `  probe: manifest without block hashes (hash-wasm, one stream per chunk), with the store: ${f(gbps(whole.ms))} GiB/s, heap growth ${f(whole.heapGrowth / 2 ** 20)} MiB\n`,
      );
      const r = await page.evaluate(
        (u) => (window as unknown as { nostore(u: string): Promise<{ ms: number }> }).nostore(u),
        server.url('manifest.json'),
      );
      process.stdout.write(`  probe: loader without a store: ${f(gbps(r.ms))} GiB/s\n`);
    }
    const ratios = loader.map((l, i) => l / plain[i]!);
    const line = (xs: number[]) => `${f(median(xs))} (${f(Math.min(...xs))}-${f(Math.max(...xs))})`;
    process.stdout.write(
      `[download bench] ${ROUNDS} rounds, 1 GiB in four 256 MiB shards, medians (min-max)\n` +
        `  plain parallel fetch, discarded: ${line(plain)} GiB/s\n` +
        `  model-loader + model-cache (verify, store): ${line(loader)} GiB/s\n` +
        `  loader/plain: ${line(ratios)}\n` +
        `  peak JS heap growth during the download: ${line(heap.map((h) => h / 2 ** 20))} MiB\n` +
        `  (the plain fetch's, for scale: ${line(plainHeap.map((h) => h / 2 ** 20))} MiB)\n`,
    );
  } finally {
    await close();
  }
});
