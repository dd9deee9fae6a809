import { createHash, randomFillSync } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from '@playwright/test';
import { startFaultServer, type FaultServer } from '@the-edge-agent/test-fixtures';
import { persistentContext } from '../../../tools/chromium.js';
import { sdkPage } from '../../sdk/e2e/sdk-page.js';

// Cold download of a 1 GiB model (four 256 MiB shards from a localhost server) in Chromium:
// model-loader + model-cache (Range requests of DEFAULT_RANGE_BYTES, each 4 MiB block verified
// against the manifest's block hashes as `tea-model pack` writes them, stored once in IndexedDB)
// against a plain parallel fetch of the same shards, read and discarded, in the same page: as
// `fetch(url)` does it (through the browser's HTTP cache, as the loader fetches) and with
// `cache: 'no-store'` (what the HTTP cache costs). Rounds rotate the order. Also the peak JS heap (performance.memory, precise)
// during the loader's download, and on Linux the CPU time of the whole machine per GiB, from
// which the best ratio this machine's cores allow follows. BENCH_PROBE=1 adds what the parts
// cost on their own: the loader without a store, IndexedDB writes alone (model-cache, 1 GiB of
// 4 MiB segments from four writers, no network), SHA-256 alone (WebCrypto, 4 MiB blocks, four at
// a time) and a manifest without block hashes (hash-wasm). Prints; asserts nothing.
// BENCH_ROUNDS (default 3).
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
      window.plain = async (urls, init) => {
        const base = heap();
        let peak = base;
        const sampler = setInterval(() => (peak = Math.max(peak, heap())), 20);
        const t = performance.now();
        await Promise.all(urls.map(async (u) => {
          const reader = (await fetch(u, init)).body.getReader();
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
        return { ms: performance.now() - t, heapGrowth: 0 };
      };
      const BLOCK = ${BLOCK};
      // A segment's Blob as the loader builds it: by the browser, from a stream.
      const blobOf = (bytes) => {
        let at = 0;
        return new Response(new ReadableStream({ pull(c) {
          if (at >= bytes.byteLength) return c.close();
          c.enqueue(bytes.subarray(at, at + 262144));
          at += 262144;
        } }, { highWaterMark: 0 })).blob();
      };
      window.storeOnly = async (url) => {
        const manifest = await (await fetch(url)).json();
        const cache = openModelCache({ dbName: 'bench-store' });
        await cache.clear();
        await cache.open(manifest);
        const t = performance.now();
        await Promise.all(manifest.chunks.map(async (chunk, i) => {
          const bytes = crypto.getRandomValues(new Uint8Array(65536));
          const block = new Uint8Array(BLOCK);
          for (let at = 0; at < BLOCK; at += 65536) block.set(bytes, at);
          for (let offset = 0; offset < chunk.bytes; offset += BLOCK)
            await cache.putSegment(manifest, i, { offset, data: await blobOf(block), hashState: new Uint8Array(0) });
        }));
        const ms = performance.now() - t;
        await cache.clear();
        await cache.close();
        return { ms, heapGrowth: 0 };
      };
      window.hashOnly = async () => {
        const blocks = [0, 1, 2, 3].map(() => new Uint8Array(BLOCK));
        const t = performance.now();
        await Promise.all(blocks.map(async (b) => {
          for (let k = 0; k < ${SHARD / (4 * 2 ** 20)}; k++) await crypto.subtle.digest('SHA-256', b);
        }));
        return { ms: performance.now() - t, heapGrowth: 0 };
      };
      window.ready = true;
    `),
  );
});

test.afterAll(async () => {
  await server?.close();
  rmSync(site, { recursive: true, force: true });
});

/** Busy CPU-seconds of the whole machine so far (Linux /proc/stat; 0 elsewhere). */
function machineBusy(): number {
  try {
    const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    const n = ticks.map(Number);
    return (n.reduce((a, b) => a + b, 0) - n[3]! - n[4]!) / 100;
  } catch {
    return 0;
  }
}

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
    const GIB = (4 * SHARD) / 2 ** 30;
    const gbps = (ms: number) => GIB / (ms / 1000);
    type Run = { ms: number; heapGrowth: number };
    type W = Record<string, (a: unknown, b?: unknown) => Promise<Run>>;
    const cores = cpus().length;
    /** One arm: its rates (GiB/s), heap growths and [CPU-s per GiB, cores busy] per round. */
    const arm = (name: string, call: () => Promise<Run>) => ({
      name,
      rate: [] as number[],
      heap: [] as number[],
      cpu: [] as number[][],
      async run() {
        const [m0, t0] = [machineBusy(), performance.now()];
        const r = await call();
        const busy = machineBusy() - m0;
        this.rate.push(gbps(r.ms));
        this.heap.push(r.heapGrowth / 2 ** 20);
        this.cpu.push([busy / GIB, busy / ((performance.now() - t0) / 1000)]);
      },
    });
    const manifestUrl = server.url('manifest.json');
    const plain = arm('plain fetch(url), discarded', () =>
      page.evaluate((u) => (window as unknown as W).plain!(u), urls),
    );
    const plainNoStore = arm("plain fetch(url, { cache: 'no-store' }), discarded", () =>
      page.evaluate((u) => (window as unknown as W).plain!(u, { cache: 'no-store' }), urls),
    );
    const loader = arm('model-loader + model-cache (verify, store)', () =>
      page.evaluate((u) => (window as unknown as W).loader!(u), manifestUrl),
    );
    const arms = [plain, plainNoStore, loader];
    for (let i = 0; i < ROUNDS; i++)
      for (let k = 0; k < arms.length; k++) await arms[(i + k) % arms.length]!.run();
    const probes = process.env['BENCH_PROBE']
      ? [
          arm('probe: the loader without a store', () =>
            page.evaluate((u) => (window as unknown as W).nostore!(u), manifestUrl),
          ),
          arm('probe: IndexedDB writes alone (model-cache putSegment, no network)', () =>
            page.evaluate((u) => (window as unknown as W).storeOnly!(u), manifestUrl),
          ),
          arm('probe: SHA-256 alone (WebCrypto, 4 MiB blocks)', () =>
            page.evaluate(() => (window as unknown as W).hashOnly!(null)),
          ),
          arm('probe: a manifest without block hashes (hash-wasm), with the store', () =>
            page.evaluate((u) => (window as unknown as W).loader!(u), server.url('whole.json')),
          ),
        ]
      : [];
    for (const p of probes) await p.run();
    const line = (xs: number[]) => `${f(median(xs))} (${f(Math.min(...xs))}-${f(Math.max(...xs))})`;
    const cpuOf = (a: ReturnType<typeof arm>) =>
      `${line(a.cpu.map((c) => c[0]!))} CPU-s/GiB on ${line(a.cpu.map((c) => c[1]!))} of ${cores} cores`;
    const ratio = (a: number[], b: number[]) => a.map((x, i) => x / b[i]!);
    const measured = machineBusy() > 0;
    // The loader cannot beat its own CPU cost: all cores busy, it would reach cores / (CPU-s/GiB).
    const ceiling = loader.cpu.map((c, i) => cores / c[0]! / plain.rate[i]!);
    let out = `[download bench] ${ROUNDS} rounds, 1 GiB in four 256 MiB shards, medians (min-max)\n`;
    for (const a of [...arms, ...probes])
      out += `  ${a.name}: ${line(a.rate)} GiB/s${measured ? `; ${cpuOf(a)}` : ''}\n`;
    out +=
      `  loader/plain: ${line(ratio(loader.rate, plain.rate))}\n` +
      `  loader/plain no-store: ${line(ratio(loader.rate, plainNoStore.rate))}\n` +
      (measured
        ? `  best loader/plain this machine's ${cores} cores allow at the loader's CPU cost: ${line(ceiling)}\n`
        : '') +
      `  peak JS heap growth during the download: ${line(loader.heap)} MiB\n` +
      `  (the plain fetch's, for scale: ${line(plain.heap)} MiB)\n`;
    process.stdout.write(out);
  } finally {
    await close();
  }
});
