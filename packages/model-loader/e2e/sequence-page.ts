import type { Page } from '@playwright/test';
import { openReadyPage, sdkPage } from '../../../tools/sdk-page.js';
import { LEAK_CHECK_SCRIPT } from './published-model.js';

// The test page of the fault-sequence test: the real model-loader and model-cache (built
// packages, through the sdk test page's import map), and what the test asks of them: a load
// that can be aborted or have the cache cleared under it at a byte count, a clear, and a raw
// look at the IndexedDB records and the Web Locks.

export const SEQUENCE_DB = 'seq';
/** Bytes per Range request: chunks smaller than this are asked for whole (200, gzip if offered). */
export const RANGE_BYTES = 256 * 1024;
export const SEGMENT_BYTES = 64 * 1024;
export const CONCURRENCY = 3;
export const IDLE_TIMEOUT_MS = 400;

/** What one load in the page ended with. */
export interface LoadResult {
  ok: boolean;
  code?: string;
  name?: string;
  message?: string;
  fromCache?: boolean;
  version?: string;
  hashes?: string[];
  ms: number;
  /** ms from the abort (or the clear) to the end of the load. */
  afterAbortMs?: number;
  /** Texts of this load that showed the URL secret: its error's, its progress events'. */
  leaks: string[];
}

/** A raw look at the store: model-cache's own report, and the records under it. */
export interface Inspection {
  stats: {
    totalBytes: number;
    models: {
      id: string;
      version: string;
      complete: boolean;
      bytes: number;
      partialBytes: number;
      totalBytes: number;
      unloadable?: string;
    }[];
  };
  models: {
    id: string;
    version: string;
    complete: boolean;
    chunkHashes: string[];
    previous: string[] | null;
    unloadable: string | null;
  }[];
  chunks: {
    modelId: string;
    sha256: string;
    bytes: number;
    segments: number | null;
    size: number | null;
  }[];
  segments: {
    modelId: string;
    sha256: string;
    offset: number;
    bytes: number;
    size: number | null;
  }[];
  locks: { held: number; pending: number };
}

/** The page script (a module; see `sdkPage`). */
export const SEQUENCE_SCRIPT = `
  import { acquireModel, sha256OfBlob } from '@the-edge-agent/model-loader';
  import { openModelCache } from '@the-edge-agent/model-cache';
  const DB = '${SEQUENCE_DB}';
  // Crash points: once armed, every IndexedDB write after the first "writes" (or after the
  // model record is marked complete) fails, as if the tab had died there.
  const realTransaction = IDBDatabase.prototype.transaction;
  const realPut = IDBObjectStore.prototype.put;
  let crash = null;
  IDBDatabase.prototype.transaction = function (names, mode, options) {
    if (crash && mode === 'readwrite') {
      if (crash.dead || (crash.writes !== undefined && crash.seen >= crash.writes) || (crash.point === 'after-complete' && crash.completed)) {
        crash.dead = true;
        throw new DOMException('simulated crash: the tab is gone', 'UnknownError');
      }
      crash.seen++;
    }
    return realTransaction.call(this, names, mode, options);
  };
  IDBObjectStore.prototype.put = function (value, key) {
    if (crash && this.name === 'models' && value?.complete === true) crash.completed = true;
    return key === undefined ? realPut.call(this, value) : realPut.call(this, value, key);
  };
  window.armCrash = (c) => { crash = { ...c, seen: 0, dead: false, completed: false }; };
  window.crashed = () => crash?.dead ?? false;
  ${LEAK_CHECK_SCRIPT}
  const error = (e) => ({ ok: false, code: typeof e?.code === 'string' ? e.code : undefined, name: e?.name, message: String(e?.message ?? e), leaks: leaksOf(errorTexts(e)) });
  const clearAll = async () => { const c = openModelCache({ dbName: DB }); try { await c.clear(); } finally { await c.close(); } };
  window.loads = {};
  window.load = async (url, o = {}) => {
    const entry = (window.loads[o.tag] = { loaded: 0, settled: false, progressed: false });
    const cache = openModelCache({ dbName: DB });
    const abort = new AbortController();
    let clearing;
    let stoppedAt;
    entry.stop = () => { stoppedAt ??= performance.now(); abort.abort(new Error('stopped by the test')); };
    const t = performance.now();
    const progressLeaks = [];
    let r;
    try {
      const got = await acquireModel({ manifestUrl: url }, {
        store: cache, signal: abort.signal, retryDelayMs: 20, idleTimeoutMs: ${IDLE_TIMEOUT_MS},
        segmentBytes: ${SEGMENT_BYTES}, rangeBytes: ${RANGE_BYTES}, concurrency: ${CONCURRENCY},
        onProgress: (p) => {
          progressLeaks.push(...leaksOf([JSON.stringify(p)]));
          if (p.otherTab) return;
          entry.loaded = p.loadedBytes;
          entry.progressed = true;
          if (o.abortAt !== undefined && p.loadedBytes >= o.abortAt && !abort.signal.aborted) entry.stop();
          if (o.clearAt !== undefined && !clearing && p.loadedBytes >= o.clearAt) {
            stoppedAt = performance.now();
            clearing = clearAll();
          }
        },
      });
      r = { ok: true, fromCache: got.fromCache, version: got.manifest.model.version, hashes: await Promise.all(got.blobs.map(sha256OfBlob)), leaks: [] };
    } catch (e) { r = error(e); }
    r.leaks.push(...progressLeaks.slice(0, 3));
    r.ms = performance.now() - t;
    if (stoppedAt !== undefined) r.afterAbortMs = performance.now() - stoppedAt;
    try { await clearing; } catch (e) { r.clearError = String(e); }
    await cache.close();
    entry.settled = true;
    delete entry.stop;
    return r;
  };
  window.abortLoad = (tag) => window.loads[tag]?.stop?.();
  window.clearAll = clearAll;
  window.inspect = async () => {
    const cache = openModelCache({ dbName: DB });
    const stats = await cache.stats();
    await cache.close();
    const db = await new Promise((res, rej) => { const q = indexedDB.open(DB); q.onsuccess = () => res(q.result); q.onerror = () => rej(q.error); });
    const all = (name) => new Promise((res, rej) => { const q = db.transaction(name).objectStore(name).getAll(); q.onsuccess = () => res(q.result); q.onerror = () => rej(q.error); });
    const models = (await all('models')).map((m) => ({ id: m.id, version: m.version, complete: m.complete, chunkHashes: m.chunkHashes, previous: m.previous?.chunkHashes ?? null, unloadable: m.unloadable ?? null }));
    const chunks = (await all('chunks')).map((c) => ({ modelId: c.modelId, sha256: c.sha256, bytes: c.bytes, segments: c.segments ?? null, size: c.data instanceof Blob ? c.data.size : null }));
    const segments = (await all('segments')).map((s) => ({ modelId: s.modelId, sha256: s.sha256, offset: s.offset, bytes: s.bytes, size: s.data instanceof Blob ? s.data.size : null }));
    db.close();
    const q = navigator.locks ? await navigator.locks.query() : { held: [], pending: [] };
    const mine = (l) => l.name?.startsWith(DB + ':');
    return { stats, models, chunks, segments, locks: { held: q.held.filter(mine).length, pending: q.pending.filter(mine).length } };
  };
  window.ready = true;
`;

/** The page functions, as the test calls them. */
export interface SequencePage {
  armCrash(c: { writes?: number; point?: string }): void;
  crashed(): boolean;
  load(url: string, o: { tag: string; abortAt?: number; clearAt?: number }): Promise<LoadResult>;
  loads: Record<string, { loaded: number; settled: boolean; progressed: boolean }>;
  abortLoad(tag: string): void;
  clearAll(): Promise<void>;
  inspect(): Promise<Inspection>;
}

export const sequencePageHtml = () => sdkPage(SEQUENCE_SCRIPT);

/** Opens the sequence page (written by the spec under `.site-sequences/`). */
export const openSequencePage = (page: Page) =>
  openReadyPage(page, '/packages/model-loader/e2e/.site-sequences/index.html', 20_000);

/** Starts a load in `page` (its promise settles with the result, or rejects when the page goes). */
export const startLoad = (
  page: Page,
  url: string,
  o: { tag: string; abortAt?: number; clearAt?: number },
): Promise<LoadResult> =>
  page.evaluate(([u, opts]) => (window as unknown as SequencePage).load(u, opts), [
    url,
    o,
  ] as const);

/** Bytes a load in `page` has reported so far (0 when the page has none by that tag). */
export const loadedOf = (page: Page, tag: string) =>
  page.evaluate((t) => (window as unknown as SequencePage).loads[t]?.loaded ?? 0, tag);

export const inspect = (page: Page) =>
  page.evaluate(() => (window as unknown as SequencePage).inspect());

export const clearAll = (page: Page) =>
  page.evaluate(() => (window as unknown as SequencePage).clearAll());

export const abortLoad = (page: Page, tag: string) =>
  page.evaluate((t) => (window as unknown as SequencePage).abortLoad(t), tag);

/** Arms a simulated crash in `page` (see the page script); the page must be reloaded after it. */
export const armCrash = (page: Page, c: { writes?: number; point?: string }) =>
  page.evaluate((x) => (window as unknown as SequencePage).armCrash(x), c);

export const crashed = (page: Page) =>
  page.evaluate(() => (window as unknown as SequencePage).crashed());

/** Reloads `page` and waits for its script again (bounded: a page that does not come back fails). */
export async function reloadPage(page: Page): Promise<void> {
  await page.reload({ timeout: 20_000 });
  await page
    .waitForFunction(() => (window as { ready?: boolean }).ready === true, undefined, {
      timeout: 20_000,
    })
    .catch((e: Error) => {
      throw new Error(
        `the test page did not start again after a reload (${page.url()}): ${e.message}`,
      );
    });
}
