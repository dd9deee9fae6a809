import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';
import { openReadyPage, sdkPage } from '../../../tools/sdk-page.js';
import { LEAK_CHECK_SCRIPT } from './published-model.js';

// The test page of the nginx suite: the real model-loader and model-cache (built packages,
// through the sdk test page's import map) on Playwright's server, loading from nginx on another
// origin. A load can be aborted at a byte count; its result carries what a developer would see
// of it (code, status, url, message, progress) and any of it that shows the URL secret.

const here = dirname(fileURLToPath(import.meta.url));
export const NGINX_DB = 'nginx';
export const SEGMENT_BYTES = 64 * 1024;
export const RANGE_BYTES = 256 * 1024;
export const CONCURRENCY = 3;

/** What one load in the page ended with. */
export interface LoadResult {
  ok: boolean;
  code?: string;
  status?: number;
  url?: string;
  chunkIndex?: number;
  message?: string;
  fromCache?: boolean;
  version?: string;
  hashes?: string[];
  ms: number;
  /** ms from the abort to the end of the load. */
  afterAbortMs?: number;
  /** Whether it waited for another tab's download (`onWaitForOtherTab`). */
  waited: boolean;
  /** Progress events of this tab's own download (not another tab's). */
  progress: number;
  /** Texts of this load that showed the URL secret: its error's, its progress events'. */
  leaks: string[];
  stats: {
    totalBytes: number;
    models: {
      id: string;
      version: string;
      complete: boolean;
      bytes: number;
      partialBytes: number;
    }[];
  };
}

/** Options of one load (see the page script). */
export interface LoadOptions {
  tag?: string;
  /** Abort once this many bytes have arrived. */
  abortAt?: number;
  /** `url` is a GGUF file (its first gguf-split shard), not a manifest. */
  gguf?: boolean;
  idleTimeoutMs?: number;
  concurrency?: number;
}

const SCRIPT = `
  import { acquireModel, sha256OfBlob } from '@the-edge-agent/model-loader';
  import { openModelCache } from '@the-edge-agent/model-cache';
  ${LEAK_CHECK_SCRIPT}
  const error = (e) => ({ ok: false, code: e?.code, status: e?.status, url: e?.url, chunkIndex: e?.chunkIndex,
    message: String(e?.message ?? e), leaks: leaksOf(errorTexts(e)) });
  window.loads = {};
  window.load = async (url, o = {}) => {
    const entry = (window.loads[o.tag ?? 'load'] = { loaded: 0, settled: false, waiting: false });
    const cache = openModelCache({ dbName: '${NGINX_DB}' });
    const abort = new AbortController();
    let abortedAt, waited = false, progress = 0;
    entry.stop = () => { abortedAt ??= performance.now(); abort.abort(new Error('stopped by the test')); };
    const progressLeaks = [];
    const t = performance.now();
    let r;
    try {
      const got = await acquireModel(o.gguf ? { ggufUrls: [url] } : { manifestUrl: url }, {
        store: cache, signal: abort.signal, retryDelayMs: 20, idleTimeoutMs: o.idleTimeoutMs ?? 2000,
        segmentBytes: ${SEGMENT_BYTES}, rangeBytes: ${RANGE_BYTES}, concurrency: o.concurrency ?? ${CONCURRENCY},
        onWaitForOtherTab: () => (waited = entry.waiting = true),
        onProgress: (p) => {
          progressLeaks.push(...leaksOf([JSON.stringify(p)]));
          if (p.otherTab) return;
          progress++;
          entry.loaded = p.loadedBytes;
          if (o.abortAt !== undefined && p.loadedBytes >= o.abortAt) entry.stop();
        },
      });
      r = { ok: true, fromCache: got.fromCache, version: got.manifest.model.version,
        hashes: await Promise.all(got.blobs.map(sha256OfBlob)), leaks: [] };
    } catch (e) { r = error(e); }
    r.leaks.push(...progressLeaks.slice(0, 3));
    r.ms = performance.now() - t;
    if (abortedAt !== undefined) r.afterAbortMs = performance.now() - abortedAt;
    r.waited = waited;
    r.progress = progress;
    r.stats = await cache.stats();
    await cache.close();
    entry.settled = true;
    entry.waiting = false;
    return r;
  };
  window.abortLoad = (tag) => window.loads[tag]?.stop();
  window.ready = true;
`;

interface NginxPage {
  load(url: string, o: LoadOptions): Promise<LoadResult>;
  loads: Record<string, { loaded: number; settled: boolean; waiting: boolean }>;
  abortLoad(tag: string): void;
}

/** Writes the page under `.site-nginx-<name>/`; returns its path on the test server. */
export function writeNginxPage(name: string): string {
  const site = join(here, `.site-nginx-${name}`);
  mkdirSync(site, { recursive: true });
  writeFileSync(join(site, 'index.html'), sdkPage(SCRIPT));
  return `/packages/model-loader/e2e/.site-nginx-${name}/index.html`;
}

export const removeNginxPage = (name: string) =>
  rmSync(join(here, `.site-nginx-${name}`), { recursive: true, force: true });

/**
 * Opens the page at `path`; every console line it prints is kept in `consoleLines` (checked for
 * the secret by the tests).
 */
export async function openNginxPage(page: Page, path: string, consoleLines: string[] = []) {
  page.on('console', (m) => consoleLines.push(m.text()));
  await openReadyPage(page, path, 20_000);
}

/** A load in `page`, failing the test when it does not settle within `ms` (nothing may hang). */
export async function load(
  page: Page,
  url: string,
  o: LoadOptions = {},
  ms = 30_000,
): Promise<LoadResult> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the load of ${url} did not settle in ${ms} ms`)),
      ms,
    );
  });
  const work = page.evaluate(([u, opts]) => (window as unknown as NginxPage).load(u, opts), [
    url,
    o,
  ] as const);
  try {
    return await Promise.race([work, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** Where a load in `page` stands: bytes it reported, whether it waits for another tab. */
export const stateOf = (page: Page, tag = 'load') =>
  page.evaluate(
    (t) =>
      (window as unknown as NginxPage).loads[t] ?? { loaded: 0, settled: false, waiting: false },
    tag,
  );

/** Aborts a load in `page` (its result says `ABORTED`). */
export const abortLoad = (page: Page, tag = 'load') =>
  page.evaluate((t) => (window as unknown as NginxPage).abortLoad(t), tag);
