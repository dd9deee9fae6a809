import { createHash, randomFillSync } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from '@playwright/test';
import { startFaultServer, type FaultServer } from '@the-edge-agent/test-fixtures';
import { persistentContext } from '../../../tools/chromium.js';
import { packageRoot, sdkPage } from '../../../tools/sdk-page.js';
import { startRateLimitedProxy, type RateLimitedProxy } from './rate-limited-proxy.js';

// Cold download of a model (gguf-split shards, `bench-0000i-of-0000N.gguf`, four by default) in
// headless Chromium with a persistent profile, three arms on the same files, on three links,
// alternating:
//  - loader: model-loader + model-cache (`acquireModel`: Range requests of DEFAULT_RANGE_BYTES,
//    each 4 MiB block verified against the manifest's block hashes as `tea-model pack` writes
//    them, stored once in IndexedDB);
//  - plain: a plain parallel `fetch(url)` of the shards, bodies read and discarded (the ceiling
//    of any downloader that keeps the bytes);
//  - wllama: wllama 3.13's own downloader, `new ModelManager({ parallelDownloads })
//    .downloadModel(firstShardUrl)`, the code `Wllama.loadModelFromUrl` runs before it loads the
//    model into wasm: HEAD of every shard, then one GET per shard streamed into wllama's cache
//    (OPFS, through its worker), no verification. Loading into wasm is left out: that is not
//    downloading, and it is the same for every downloader.
//  - plain-no-store (optional): the plain fetch with `cache: 'no-store'` (what the HTTP cache costs).
//  - opfs-worker, opfs-main, opfs-files (optional): prototypes of a cheaper storage path, not
//    product code: the same verification (each 4 MiB block against the manifest's hash, with
//    WebCrypto) with the bytes written to OPFS instead of IndexedDB: from one worker per shard
//    through a sync access handle (opfs-worker), from the page through one `createWritable` per
//    shard (opfs-main) or one OPFS file per block (opfs-files). BENCH_LOADER_OPTIONS tunes them:
//    `rangeBytes`, `byob` (false: the default reader, pieces copied into the block), `pieceWrites`
//    (write each network piece as it arrives, as wllama does, instead of whole blocks), and
//    `noHash` / `noWrite` to measure reading alone.
// Links: `full` is the fault server of `@the-edge-agent/test-fixtures` on 127.0.0.1 as fast as this
// machine goes; a number N is a link of N MB/s (10^6 bytes) shared by all connections of an arm:
// the same server behind `rate-limited-proxy.ts` (one token bucket for every byte of every
// connection from the server to the browser).
// Every arm of every round gets its own URLs (a fresh path prefix), so no arm is served from the
// browser's HTTP cache that an earlier one filled, and each arm's storage is cleared before and
// after its run (model-cache's `clear()`; wllama's `CacheManager.clear()` and OPFS's `cache`
// folder), so every round is a cold download. Within a round and link the arms' order rotates,
// and the ratios are of the same round. CPU (Linux): the CPU time of Chromium's processes (this
// process's descendants, from /proc) per GiB of model: what the download costs the user's
// machine; this process (the server and the link) stands for the far end and is left out (it is
// shown by BENCH_CPU_SPLIT). "Cores busy" is Chromium's CPU time over the wall time, "machine
// idle" the share of the whole machine's CPU time left idle meanwhile (about 0: the arm had no
// more CPU to take, its own or taken by other load). Also per arm: when the first byte of the
// model arrived and how long the arm took after the last one (from its own progress reports),
// the peak growth of the page's JS heap, and whether the server sent each byte once.
// Prints one Markdown table (link × arm) and whether the targets are met: loader ≥ 0.95× plain on
// every limited link, loader ≥ 1.0× wllama at full speed; for a missed link target, the loader's
// own rate at full speed in the same run (when it is below the link, the link was not the
// limit). Asserts nothing.
// Run: `pnpm --filter @the-edge-agent/model-loader bench` (the Node heap bench first), or in this
// package `pnpm exec playwright test -c bench/playwright.config.ts download`; the page imports the
// built model-loader and model-cache (`dist/`): build them first.
//
// Environment (all optional):
//   BENCH_ROUNDS       rounds (default 3)
//   BENCH_ARMS         comma list of loader, plain, wllama, plain-no-store, opfs-worker,
//                      opfs-main, opfs-files (default loader,plain,wllama)
//   BENCH_LINKS        comma list of `full` and link rates in MB/s (default full,100,25)
//   BENCH_SIZES        model size in MiB per link, `full=1024,100=512,25=256` (the default; a
//                      link left out gets 256), or one number for every link; a multiple of
//                      4 MiB × BENCH_SHARDS
//   BENCH_SHARDS       gguf-split shards of the model (default 4)
//   BENCH_CONCURRENCY  connections of each arm: the loader's `concurrency` and wllama's
//                      `parallelDownloads` (default: BENCH_SHARDS, i.e. all shards at once, as
//                      the plain fetch always does)
//   BENCH_LOADER_OPTIONS  JSON merged into the loader's options, to find what limits it
//                      (e.g. '{"rangeBytes":67108864}')
//   BENCH_PROBE=1      after the rounds, at full speed: what the loader's parts cost alone (the
//                      loader without a store, IndexedDB writes alone, SHA-256 alone, a manifest
//                      without block hashes), and OPFS writes alone as wllama's cache does them
//   BENCH_CPU_SPLIT=1  each run's CPU-s per GiB split by process (renderer, network service,
//                      storage service, browser, this Node process)

const MIB = 2 ** 20;
const GIB = 2 ** 30;
const SHARDS = Number(process.env['BENCH_SHARDS'] ?? 4);
const BLOCK = 4 * MIB; // tea-model pack's default
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? SHARDS);
const LOADER_OPTIONS = JSON.parse(process.env['BENCH_LOADER_OPTIONS'] ?? '{}') as object;
const ARM_NAMES = [
  'loader',
  'plain',
  'wllama',
  'plain-no-store',
  'opfs-worker',
  'opfs-main',
  'opfs-files',
] as const;
type ArmName = (typeof ARM_NAMES)[number];
const ARMS = (process.env['BENCH_ARMS'] ?? 'loader,plain,wllama').split(',').map((a) => {
  if (!(ARM_NAMES as readonly string[]).includes(a.trim()))
    throw new Error(`BENCH_ARMS: unknown arm "${a}" (one of ${ARM_NAMES.join(', ')})`);
  return a.trim() as ArmName;
});
/** `full`, or the link's rate in MB/s. */
const LINKS = (process.env['BENCH_LINKS'] ?? 'full,100,25').split(',').map((l) => l.trim());
for (const l of LINKS)
  if (l !== 'full' && !(Number(l) > 0)) throw new Error(`BENCH_LINKS: "${l}" is not full or MB/s`);
const DEFAULT_SIZES: Record<string, number> = { full: 1024, '100': 512, '25': 256 };
const SIZES: Record<string, number> = (() => {
  const raw = process.env['BENCH_SIZES'];
  const out: Record<string, number> = {};
  for (const l of LINKS) out[l] = DEFAULT_SIZES[l] ?? 256;
  if (raw && /^\d+$/.test(raw.trim())) for (const l of LINKS) out[l] = Number(raw);
  else if (raw)
    for (const part of raw.split(',')) {
      const [link, mib] = part.split('=').map((s) => s.trim());
      if (!link || !(Number(mib) > 0)) throw new Error(`BENCH_SIZES: "${part}" is not LINK=MiB`);
      out[link] = Number(mib);
    }
  for (const l of LINKS)
    if (out[l]! % (SHARDS * 4) !== 0)
      throw new Error(`BENCH_SIZES: ${out[l]} MiB is not a multiple of ${SHARDS * 4}`);
  return out;
})();
const MAX_BYTES = Math.max(...LINKS.map((l) => SIZES[l]!)) * MIB;
const shardName = (i: number) =>
  `bench-${String(i + 1).padStart(5, '0')}-of-${String(SHARDS).padStart(5, '0')}.gguf`;
const linkLabel = (l: string) => (l === 'full' ? 'localhost, full speed' : `${l} MB/s`);

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../..');
const site = join(here, '.site');
const wllamaEsm = `/${relative(root, packageRoot(join(root, 'packages/llm-bridge'), '@wllama/wllama'))}/esm/index.js`;
let server: FaultServer;
const proxies = new Map<string, RateLimitedProxy>();
/** The files of one model size: shard bytes (prefixes of the largest) and both manifests. */
const models = new Map<number, Record<string, Uint8Array | string>>();

test.beforeAll(async () => {
  const shardBytes = MAX_BYTES / SHARDS;
  const shards = Array.from({ length: SHARDS }, () => randomFillSync(new Uint8Array(shardBytes)));
  const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
  // A smaller model is the same shards cut short: their blocks are the same.
  const blockHashes = shards.map((s) =>
    Array.from({ length: shardBytes / BLOCK }, (_, k) =>
      sha(s.subarray(k * BLOCK, (k + 1) * BLOCK)),
    ),
  );
  for (const mib of new Set(LINKS.map((l) => SIZES[l]!))) {
    const bytes = (mib * MIB) / SHARDS;
    const files: Record<string, Uint8Array | string> = {};
    const parts = shards.map((s) => s.subarray(0, bytes));
    parts.forEach((p, i) => (files[shardName(i)] = p));
    const manifest = (blocks: boolean) =>
      JSON.stringify({
        manifestVersion: 1,
        model: { id: 'bench', version: '1' },
        layout: 'gguf-split',
        totalBytes: SHARDS * bytes,
        chunks: parts.map((p, i) => ({
          file: shardName(i),
          bytes,
          sha256: sha(p),
          ...(blocks
            ? { blocks: { bytes: BLOCK, sha256: blockHashes[i]!.slice(0, bytes / BLOCK) } }
            : {}),
        })),
      });
    files['manifest.json'] = manifest(true);
    files['whole.json'] = manifest(false);
    models.set(mib, files);
  }
  server = await startFaultServer({});
  for (const l of LINKS)
    if (l !== 'full') proxies.set(l, await startRateLimitedProxy(server.origin, Number(l) * 1e6));
  mkdirSync(site, { recursive: true });
  writeFileSync(
    join(site, 'index.html'),
    sdkPage(`
      import { acquireModel } from '@the-edge-agent/model-loader';
      import { openModelCache } from '@the-edge-agent/model-cache';
      import { ModelManager } from '${wllamaEsm}';
      const heap = () => performance.memory?.usedJSHeapSize ?? 0;
      /**
       * Runs fn(progress), timed, with its peak JS heap growth (sampled every 20 ms) and when the
       * first and the last byte of the model arrived (from the arm's own progress reports).
       */
      const timed = async (fn) => {
        const base = heap();
        let peak = base;
        const sampler = setInterval(() => (peak = Math.max(peak, heap())), 20);
        const t = performance.now();
        let firstMs, lastMs;
        const progress = (loaded, total) => {
          const now = performance.now() - t;
          if (loaded > 0) firstMs ??= now;
          if (total > 0 && loaded >= total) lastMs ??= now;
        };
        try {
          const bytes = await fn(progress);
          const ms = performance.now() - t;
          return { ms, heapGrowth: peak - base, bytes, firstMs: firstMs ?? 0, lastMs: lastMs ?? ms };
        } finally {
          clearInterval(sampler);
        }
      };
      const readAll = async (urls, init, total, progress) => {
        let bytes = 0;
        await Promise.all(urls.map(async (u) => {
          const reader = (await fetch(u, init)).body.getReader();
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            bytes += value.byteLength;
            progress(bytes, total);
          }
        }));
        return bytes;
      };
      const quiet = { debug() {}, log() {}, warn: console.warn, error: console.error };
      const clearOpfs = async () => {
        const root = await navigator.storage.getDirectory();
        await root.removeEntry('cache', { recursive: true }).catch(() => {});
        await root.removeEntry('bench-probe', { recursive: true }).catch(() => {});
      };
      const clearAll = async () => {
        const cache = openModelCache({ dbName: 'bench' });
        await cache.clear();
        await cache.close();
        await new ModelManager({ logger: quiet }).clear();
        await clearOpfs();
      };
      window.clearAll = clearAll;
      window.arms = {
        plain: ({ urls, bytes }) => timed((progress) => readAll(urls, {}, bytes, progress)),
        'plain-no-store': ({ urls, bytes }) =>
          timed((progress) => readAll(urls, { cache: 'no-store' }, bytes, progress)),
        loader: async ({ manifestUrl, concurrency, loaderOptions }) => {
          const cache = openModelCache({ dbName: 'bench' });
          try {
            return await timed(async (progress) => {
              const { blobs } = await acquireModel({ manifestUrl }, {
                store: cache,
                concurrency,
                onProgress: (p) => progress(p.loadedBytes, p.totalBytes),
                ...loaderOptions,
              });
              return blobs.reduce((s, b) => s + b.size, 0);
            });
          } finally {
            await cache.close();
          }
        },
        wllama: ({ urls, concurrency }) =>
          timed(async (progress) => {
            const manager = new ModelManager({ parallelDownloads: concurrency, logger: quiet });
            const model = await manager.downloadModel(urls[0], {
              progressCallback: ({ loaded, total }) => progress(loaded, total),
            });
            if (model.files.length !== urls.length) throw new Error('wllama: shards missing');
            return model.size;
          }),
        // A prototype of a cheaper storage path (not a product arm): one worker per shard fetches
        // it in Range requests, reads 4 MiB blocks with a BYOB reader, verifies each against the
        // manifest's block hash (WebCrypto, overlapped with the next read) and writes it to OPFS
        // through a sync access handle. No IndexedDB, no Blob built from a stream.
        'opfs-worker': ({ manifestUrl, loaderOptions }) =>
          timed(async (progress) => {
            const manifest = await (await fetch(manifestUrl)).json();
            const url = URL.createObjectURL(new Blob([PIPE_WORKER], { type: 'text/javascript' }));
            const done = new Array(manifest.chunks.length).fill(0);
            try {
              await Promise.all(manifest.chunks.map((chunk, i) => new Promise((resolve, reject) => {
                const worker = new Worker(url);
                worker.onerror = (e) => { worker.terminate(); reject(new Error(e.message)); };
                worker.onmessage = ({ data }) => {
                  if (data.error) { worker.terminate(); reject(new Error(data.error)); return; }
                  done[i] = data.loaded;
                  progress(done.reduce((s, n) => s + n, 0), manifest.totalBytes);
                  if (data.end) { worker.terminate(); resolve(); }
                };
                worker.postMessage({ ...pipeArgs(chunk, manifestUrl, loaderOptions), name: 'c' + i });
              })));
            } finally {
              URL.revokeObjectURL(url);
            }
            return manifest.totalBytes;
          }),
        'opfs-main': ({ manifestUrl, loaderOptions }) =>
          timed((progress) => inPage(manifestUrl, loaderOptions, progress, async (dir, i) => {
            const file = await dir.getFileHandle('c' + i, { create: true });
            const writable = await file.createWritable({ keepExistingData: false });
            return {
              write: (view, position) => writable.write({ type: 'write', position, data: view }),
              close: async () => { await writable.close(); return file.getFile(); },
            };
          })),
        'opfs-files': ({ manifestUrl, loaderOptions }) =>
          timed((progress) => inPage(manifestUrl, loaderOptions, progress, async (dir, i) => {
            const names = [];
            return {
              write: async (view, position) => {
                const name = 'c' + i + '-' + position;
                const writable = await (await dir.getFileHandle(name, { create: true })).createWritable();
                await writable.write(view);
                await writable.close();
                names.push(name);
              },
              close: async () => new Blob(await Promise.all(names.map(async (n) => (await dir.getFileHandle(n)).getFile()))),
            };
          })),
        // Probes (BENCH_PROBE=1).
        nostore: ({ manifestUrl, concurrency, loaderOptions }) =>
          timed(async () => {
            const { blobs } = await acquireModel({ manifestUrl }, { concurrency, ...loaderOptions });
            return blobs.reduce((s, b) => s + b.size, 0);
          }),
        storeOnly: async ({ manifestUrl }) => {
          const manifest = await (await fetch(manifestUrl)).json();
          const cache = openModelCache({ dbName: 'bench' });
          await cache.open(manifest);
          try {
            return await timed(async () => {
              await Promise.all(manifest.chunks.map(async (chunk, i) => {
                const bytes = crypto.getRandomValues(new Uint8Array(65536));
                const block = new Uint8Array(BLOCK);
                for (let at = 0; at < BLOCK; at += 65536) block.set(bytes, at);
                for (let offset = 0; offset < chunk.bytes; offset += BLOCK)
                  await cache.putSegment(manifest, i, { offset, data: await blobOf(block), hashState: new Uint8Array(0) });
              }));
              return manifest.totalBytes;
            });
          } finally {
            await cache.close();
          }
        },
        // What wllama's storage path costs: 4 MiB blocks posted (transferred) to one worker per
        // file, written to OPFS with a sync access handle.
        opfsOnly: ({ bytes }) =>
          timed(async () => {
            const url = URL.createObjectURL(new Blob([OPFS_WORKER], { type: 'text/javascript' }));
            await Promise.all(Array.from({ length: ${SHARDS} }, async (_, i) => {
              const worker = new Worker(url);
              const call = (message, transfer = []) => new Promise((resolve, reject) => {
                worker.onmessage = resolve;
                worker.onerror = reject;
                worker.postMessage(message, transfer);
              });
              await call({ name: 'f' + i });
              const bytes64k = crypto.getRandomValues(new Uint8Array(65536));
              for (let offset = 0; offset < bytes / ${SHARDS}; offset += BLOCK) {
                const block = new Uint8Array(BLOCK);
                for (let at = 0; at < BLOCK; at += 65536) block.set(bytes64k, at);
                await call({ buf: block.buffer }, [block.buffer]);
              }
              await call({ close: true });
              worker.terminate();
            }));
            URL.revokeObjectURL(url);
            return bytes;
          }),
        hashOnly: ({ bytes }) =>
          timed(async () => {
            const blocks = Array.from({ length: ${SHARDS} }, () => new Uint8Array(BLOCK));
            await Promise.all(blocks.map(async (b) => {
              for (let k = 0; k < bytes / ${SHARDS} / BLOCK; k++) await crypto.subtle.digest('SHA-256', b);
            }));
            return bytes;
          }),
      };
      const BLOCK = ${BLOCK};
      // The prototype's pipeline, the same code in a worker (sync access handle) and in the page
      // (createWritable): Range requests, 4 MiB blocks read with a BYOB reader, each written, then
      // verified while the next one is read.
      const PIPE = \`
        const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
        const pipe = async ({ url, bytes, block, hashes, rangeBytes, noHash, noWrite, byob = true, pieceWrites = false }, write, report) => {
          let bufs = [new ArrayBuffer(block), new ArrayBuffer(block)];
          let pending = null; // the previous block's digest
          let k = 0;
          const check = async () => {
            if (!pending) return;
            const [digest, index] = [await pending.digest, pending.index];
            if (hex(digest) !== hashes[index]) throw new Error('block ' + index + ' hash mismatch');
            pending = null;
          };
          for (let start = 0; start < bytes; start += rangeBytes) {
            const end = Math.min(bytes, start + rangeBytes);
            const res = await fetch(url, { headers: { Range: 'bytes=' + start + '-' + (end - 1) } });
            if (res.status !== 206) throw new Error('HTTP ' + res.status);
            const reader = res.body.getReader(byob ? { mode: 'byob' } : undefined);
            let rest = null; // default reader: what the last piece had beyond its block
            for (let off = start; off < end; ) {
              const want = Math.min(block, end - off);
              let view = new Uint8Array(bufs[k % 2], 0, want), got = 0;
              while (got < want) {
                if (byob) {
                  const r = await reader.read(new Uint8Array(view.buffer, got, want - got));
                  if (r.done) throw new Error('short body');
                  got += r.value.byteLength;
                  view = new Uint8Array(r.value.buffer, 0, want);
                  continue;
                }
                let piece = rest;
                rest = null;
                if (!piece) {
                  const r = await reader.read();
                  if (r.done) throw new Error('short body');
                  piece = r.value;
                }
                const n = Math.min(piece.byteLength, want - got);
                const part = n === piece.byteLength ? piece : piece.subarray(0, n);
                if (pieceWrites && !noWrite) await write(part, off + got);
                view.set(part, got);
                got += n;
                if (n < piece.byteLength) rest = piece.subarray(n);
              }
              bufs[k % 2] = view.buffer;
              if (!noWrite && !pieceWrites) await write(view, off);
              await check();
              if (!noHash) pending = { digest: crypto.subtle.digest('SHA-256', view), index: off / block };
              off += want; k++;
              report(off);
            }
          }
          await check();
        };\`;
      const PIPE_WORKER = PIPE + \`
        onmessage = async ({ data }) => {
          try {
            const root = await navigator.storage.getDirectory();
            const dir = await root.getDirectoryHandle('bench-probe', { create: true });
            const handle = await (await dir.getFileHandle(data.name, { create: true })).createSyncAccessHandle();
            await pipe(data, (view, at) => handle.write(view, { at }), (loaded) => postMessage({ loaded }));
            handle.flush();
            handle.close();
            postMessage({ loaded: data.bytes, end: true });
          } catch (e) {
            postMessage({ error: String(e) });
          }
        };\`;
      const pipeInPage = new Function(PIPE + '; return pipe;')();
      /** The prototype pipeline's arguments for \`chunk\`, with BENCH_LOADER_OPTIONS' knobs. */
      const pipeArgs = (chunk, manifestUrl, o) => ({
        url: new URL(chunk.file, manifestUrl).href, bytes: chunk.bytes,
        block: chunk.blocks.bytes, hashes: chunk.blocks.sha256,
        rangeBytes: o.rangeBytes ?? 20971520,
        noHash: o.noHash, noWrite: o.noWrite, byob: o.byob ?? true, pieceWrites: o.pieceWrites,
      });
      /**
       * A prototype in the page: every chunk through \`pipeInPage\` at once, into the writer
       * \`writerOf(dir, i)\` gives (\`write(view, position)\`; \`close()\` gives the chunk's Blob).
       */
      const inPage = async (manifestUrl, o, progress, writerOf) => {
        const manifest = await (await fetch(manifestUrl)).json();
        const root = await navigator.storage.getDirectory();
        const dir = await root.getDirectoryHandle('bench-probe', { create: true });
        const done = new Array(manifest.chunks.length).fill(0);
        const blobs = await Promise.all(manifest.chunks.map(async (chunk, i) => {
          const writer = await writerOf(dir, i);
          await pipeInPage(pipeArgs(chunk, manifestUrl, o), writer.write, (loaded) => {
            done[i] = loaded;
            progress(done.reduce((s, n) => s + n, 0), manifest.totalBytes);
          });
          return writer.close();
        }));
        return blobs.reduce((s, b) => s + b.size, 0);
      };
      const OPFS_WORKER = \`onmessage = async (e) => {
        const { name, buf, close } = e.data;
        if (name) {
          const root = await navigator.storage.getDirectory();
          const dir = await root.getDirectoryHandle('bench-probe', { create: true });
          self.handle = await (await dir.getFileHandle(name, { create: true })).createSyncAccessHandle();
          self.at = 0;
        }
        if (buf) self.at += self.handle.write(new Uint8Array(buf), { at: self.at });
        if (close) { self.handle.flush(); self.handle.close(); }
        postMessage('ok');
      };\`;
      // A segment's Blob as the loader builds it: by the browser, from a stream.
      const blobOf = (bytes) => {
        let at = 0;
        return new Response(new ReadableStream({ pull(c) {
          if (at >= bytes.byteLength) return c.close();
          c.enqueue(bytes.subarray(at, at + 262144));
          at += 262144;
        } }, { highWaterMark: 0 })).blob();
      };
      window.ready = true;
    `),
  );
});

test.afterAll(async () => {
  for (const p of proxies.values()) await p.close();
  await server?.close();
  rmSync(site, { recursive: true, force: true });
});

const NODE = 'node (server, proxy)';
/** What a process of the tree is, for BENCH_CPU_SPLIT (from its command line; cached by pid). */
const kinds = new Map<number, string>();
function kindOf(pid: number): string {
  let kind = kinds.get(pid);
  if (kind === undefined) {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      // ended meanwhile
    }
    kind =
      pid === process.pid
        ? NODE
        : (/--utility-sub-type=([\w.]+)/
            .exec(cmd)?.[1]
            ?.replace(/\.mojom\./, ' ')
            .split(' ')[0] ??
          /--type=([\w-]+)/.exec(cmd)?.[1] ??
          (cmd.includes('chromium') || cmd.includes('chrome') ? 'browser' : 'other'));
    kinds.set(pid, kind);
  }
  return kind;
}

/**
 * CPU-seconds used so far by this process and its descendants (Chromium's processes), by kind of
 * process, from /proc (children that ended count through their parent's cutime/cstime); empty
 * where there is no /proc.
 */
function treeCpu(): Map<string, number> {
  const byKind = new Map<string, number>();
  try {
    const parent = new Map<number, number>();
    const ticks = new Map<number, number>();
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      } catch {
        continue; // ended meanwhile
      }
      // Fields after "(comm)": state ppid … utime(14) stime(15) cutime(16) cstime(17).
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(name), Number(f[1]));
      ticks.set(Number(name), Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]));
    }
    const inTree = (pid: number): boolean => {
      for (let p: number | undefined = pid, hops = 0; p && hops < 64; p = parent.get(p), hops++)
        if (p === process.pid) return true;
      return false;
    };
    for (const [pid, t] of ticks)
      if (inTree(pid)) {
        const kind = kindOf(pid);
        byKind.set(kind, (byKind.get(kind) ?? 0) + t / 100); // USER_HZ
      }
  } catch {
    // no /proc
  }
  return byKind;
}
/** The whole machine's [idle, total] CPU-seconds so far (Linux /proc/stat; zeros elsewhere). */
function machineIdle(): [number, number] {
  try {
    const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    const n = ticks.map(Number);
    return [(n[3]! + n[4]!) / 100, n.slice(0, 8).reduce((a, b) => a + b, 0) / 100];
  } catch {
    return [0, 0];
  }
}
const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f2 = (n: number) => n.toFixed(2);
/** GiB/s: three decimals below 0.1 (a 25 MB/s link is 0.023 GiB/s). */
const fr = (n: number) => n.toFixed(n < 0.1 ? 3 : 2);
const range = (xs: number[], f = f2) =>
  xs.length === 0
    ? '–'
    : xs.length === 1
      ? f(xs[0]!)
      : `${f(median(xs))} (${f(Math.min(...xs))}-${f(Math.max(...xs))})`;

interface Run {
  link: string;
  round: number;
  arm: string;
  gibps: number;
  cpuPerGib: number;
  cores: number;
  heapMib: number;
  /** The share of the whole machine's CPU time that was idle during the run. */
  idle: number;
  /** Ms from the start to the first byte, and after the last byte to the end. */
  startMs: number;
  finishMs: number;
  /** Body bytes the server sent for this run over the model's size. */
  sent: number;
}

test('cold download: model-loader vs plain fetch vs wllama, full speed and limited links', async ({
  baseURL,
}) => {
  test.setTimeout(4 * 60 * 60_000);
  const started = performance.now();
  const load0 = loadavg()[0]!;
  const { context, close } = await persistentContext(baseURL);
  try {
    const page = await context.newPage();
    await page.goto('/packages/model-loader/bench/.site/index.html');
    await page.waitForFunction(() => (window as { ready?: boolean }).ready === true);
    type Result = {
      ms: number;
      heapGrowth: number;
      bytes: number;
      /** When the first byte of the model arrived, and the last (ms from the start). */
      firstMs: number;
      lastMs: number;
    };
    type Args = {
      urls: string[];
      manifestUrl: string;
      concurrency: number;
      bytes: number;
      loaderOptions: object;
    };
    type Win = {
      arms: Record<string, (a: Args) => Promise<Result>>;
      clearAll: () => Promise<void>;
    };
    let seq = 0;
    const runs: Run[] = [];
    /** One cold run of `arm` on `link`: fresh URLs, cleared storage, timed and CPU-measured. */
    const runArm = async (arm: string, link: string, round: number) => {
      const mib = SIZES[link]!;
      const prefix = `x${++seq}-${arm}`;
      for (const [path, data] of Object.entries(models.get(mib)!))
        server.set(`${prefix}/${path}`, data);
      const url = (p: string) => proxies.get(link)?.url(p) ?? server.url(p);
      const args: Args = {
        urls: Array.from({ length: SHARDS }, (_, i) => url(`${prefix}/${shardName(i)}`)),
        manifestUrl: url(`${prefix}/${arm === 'probe-whole' ? 'whole' : 'manifest'}.json`),
        concurrency: CONCURRENCY,
        bytes: mib * MIB,
        loaderOptions: LOADER_OPTIONS,
      };
      await page.evaluate(() => (window as unknown as Win).clearAll());
      await page.waitForTimeout(300); // let the clear's background work settle
      const pageArm = arm === 'probe-whole' ? 'loader' : arm.replace(/^probe-/, '');
      const cpu0 = treeCpu();
      const idle0 = machineIdle();
      const t0 = performance.now();
      const r = await page.evaluate(([a, x]) => (window as unknown as Win).arms[a]!(x), [
        pageArm,
        args,
      ] as const);
      const cpu1 = treeCpu();
      const idle1 = machineIdle();
      // The browser's CPU time: the server and the proxy stand for the far end of the link.
      const busy = total(cpu1) - total(cpu0) - ((cpu1.get(NODE) ?? 0) - (cpu0.get(NODE) ?? 0));
      const wall = (performance.now() - t0) / 1000;
      await page.evaluate(() => (window as unknown as Win).clearAll());
      if (r.bytes !== mib * MIB) throw new Error(`${arm}: got ${r.bytes} bytes of ${mib * MIB}`);
      const sent = server.log
        .filter((e) => e.path.startsWith(`${prefix}/`) && e.path.endsWith('.gguf'))
        .reduce((s, e) => s + e.bytesSent, 0);
      const gib = (mib * MIB) / GIB;
      const run: Run = {
        link,
        round,
        arm,
        gibps: gib / (r.ms / 1000),
        cpuPerGib: busy / gib,
        cores: busy / wall,
        heapMib: r.heapGrowth / MIB,
        startMs: r.firstMs,
        finishMs: r.ms - r.lastMs,
        idle: (idle1[0] - idle0[0]) / (idle1[1] - idle0[1] || 1),
        sent: sent / (mib * MIB),
      };
      runs.push(run);
      process.stdout.write(
        `  round ${round + 1} ${linkLabel(link)} ${arm}: ${fr(run.gibps)} GiB/s, ` +
          `${f2(run.cpuPerGib)} CPU-s/GiB on ${f2(run.cores)} cores, machine idle ${(run.idle * 100).toFixed(0)} %, ` +
          `first byte after ${run.startMs.toFixed(0)} ms, done ${run.finishMs.toFixed(0)} ms after the last, sent ${f2(run.sent)}×` +
          (process.env['BENCH_CPU_SPLIT']
            ? ` (CPU-s/GiB: ${[...cpu1]
                .map(([k, v]) => [k, (v - (cpu0.get(k) ?? 0)) / gib] as const)
                .filter(([, v]) => v >= 0.05)
                .sort((a, b) => b[1] - a[1])
                .map(([k, v]) => `${k} ${v.toFixed(1)}`)
                .join(', ')})`
            : '') +
          '\n',
      );
    };
    process.stdout.write(
      `[download bench] arms ${ARMS.join(', ')}; links ${LINKS.map((l) => `${linkLabel(l)} (${SIZES[l]} MiB)`).join(', ')}; ` +
        `${ROUNDS} rounds; ${CONCURRENCY} connections per arm\n`,
    );
    for (let round = 0; round < ROUNDS; round++)
      for (const [j, link] of LINKS.entries())
        for (let k = 0; k < ARMS.length; k++)
          await runArm(ARMS[(round + j + k) % ARMS.length]!, link, round);
    const probes = process.env['BENCH_PROBE']
      ? ['probe-nostore', 'probe-storeOnly', 'probe-opfsOnly', 'probe-hashOnly', 'probe-whole']
      : [];
    const probeLink = LINKS.includes('full') ? 'full' : LINKS[0]!;
    for (const p of probes) await runArm(p, probeLink, 0);

    const of = (link: string, arm: string) => runs.filter((r) => r.link === link && r.arm === arm);
    /** a/b per round (same round, same link). */
    const ratio = (link: string, a: string, b: string) =>
      of(link, a).flatMap((ra) => {
        const rb = of(link, b).find((x) => x.round === ra.round);
        return rb ? [ra.gibps / rb.gibps] : [];
      });
    const cores = cpus().length;
    const measured = runs.some((r) => r.cpuPerGib > 0);
    let out =
      `\n[download bench] ${ROUNDS} rounds, ${SHARDS} gguf-split shards, ${CONCURRENCY} connections per arm; ` +
      `medians (min-max); ${cores} cores; load average ${f2(load0)} at the start, ${f2(loadavg()[0]!)} at the end; ` +
      `${((performance.now() - started) / 1000).toFixed(0)} s\n\n` +
      `| link | model | arm | GiB/s | MB/s | CPU-s per GiB (cores busy; machine idle) | to first byte + after last byte | peak JS heap growth | × plain | loader/wllama |\n` +
      `| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n`;
    const armLabel: Record<string, string> = {
      loader: 'model-loader + model-cache',
      plain: 'plain parallel fetch (discarded)',
      wllama: 'wllama ModelManager.downloadModel',
      'plain-no-store': "plain fetch, cache: 'no-store'",
      'opfs-worker': 'prototype: worker per shard, verify + OPFS',
      'opfs-main': 'prototype: page, verify + OPFS createWritable',
      'opfs-files': 'prototype: page, verify + an OPFS file per 4 MiB block',
    };
    for (const link of LINKS)
      for (const arm of ARMS) {
        const rs = of(link, arm);
        const sent = rs.some((r) => Math.abs(r.sent - 1) > 0.01)
          ? ` (sent ${range(rs.map((r) => r.sent))}×)`
          : '';
        out +=
          `| ${linkLabel(link)} | ${SIZES[link]} MiB | ${armLabel[arm]}${sent} | ${range(
            rs.map((r) => r.gibps),
            fr,
          )} | ` +
          `${(median(rs.map((r) => r.gibps)) * 1.073741824e3).toFixed(0)} | ` +
          `${
            measured
              ? `${range(
                  rs.map((r) => r.cpuPerGib),
                  (n) => n.toFixed(1),
                )} (${f2(median(rs.map((r) => r.cores)))}; ${(median(rs.map((r) => r.idle)) * 100).toFixed(0)} %)`
              : '–'
          } | ` +
          `${median(rs.map((r) => r.startMs)).toFixed(0)} + ${median(rs.map((r) => r.finishMs)).toFixed(0)} ms | ` +
          `${range(
            rs.map((r) => r.heapMib),
            (n) => n.toFixed(0),
          )} MiB | ` +
          `${arm !== 'plain' && ARMS.includes('plain') ? range(ratio(link, arm, 'plain')) : ''} | ` +
          `${arm === 'loader' && ARMS.includes('wllama') ? range(ratio(link, 'loader', 'wllama')) : ''} |\n`;
      }
    const verdict = (xs: number[], min: number) =>
      xs.length === 0
        ? 'not measured'
        : `${range(xs)} ${median(xs) >= min ? `≥ ${min}: met` : `< ${min}: MISSED`}`;
    out += '\nTargets (medians of the same-round ratios):\n';
    for (const link of LINKS) {
      if (link === 'full') {
        if (ARMS.includes('loader') && ARMS.includes('wllama'))
          out += `  ${linkLabel(link)}: loader/wllama ${verdict(ratio(link, 'loader', 'wllama'), 1)}\n`;
        if (ARMS.includes('loader') && ARMS.includes('plain'))
          out += `  ${linkLabel(link)}: loader/plain ${range(ratio(link, 'loader', 'plain'))} (reported, not targeted)\n`;
      } else if (ARMS.includes('loader') && ARMS.includes('plain')) {
        const xs = ratio(link, 'loader', 'plain');
        out += `  ${linkLabel(link)}: loader/plain ${verdict(xs, 0.95)}\n`;
        const unlimited = of('full', 'loader').map((r) => r.gibps * GIB * 1e-6);
        if (xs.length && median(xs) < 0.95 && unlimited.length)
          out +=
            `    the loader's own rate at full speed in this run: ${range(unlimited, (n) => n.toFixed(0))} MB/s ` +
            `against the link's ${link} MB/s; machine idle during its runs on this link: ` +
            `${range(
              of(link, 'loader').map((r) => r.idle * 100),
              (n) => n.toFixed(0),
            )} %\n`;
      }
    }
    if (probes.length) {
      out += `\nProbes (${linkLabel(probeLink)}, ${SIZES[probeLink]} MiB, one run each):\n`;
      const probeLabel: Record<string, string> = {
        'probe-nostore': 'the loader without a store',
        'probe-storeOnly': 'IndexedDB writes alone (model-cache putSegment, no network)',
        'probe-opfsOnly':
          "OPFS writes alone (4 MiB blocks posted to a worker per file, sync access handle: wllama's way)",
        'probe-hashOnly': 'SHA-256 alone (WebCrypto, 4 MiB blocks, four at a time)',
        'probe-whole': 'a manifest without block hashes (hash-wasm), with the store',
      };
      for (const p of probes) {
        const r = of(probeLink, p)[0]!;
        out += `  ${probeLabel[p]}: ${fr(r.gibps)} GiB/s; ${r.cpuPerGib.toFixed(1)} CPU-s/GiB (${f2(r.cores)} cores busy)\n`;
      }
    }
    process.stdout.write(out);
  } finally {
    await close();
  }
});
