import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildVocab,
  shapeForSize,
  startFaultServer,
  type FaultServer,
  writeTinyLlama,
} from '@the-edge-agent/test-fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pack } from '../cli/pack.js';
import { acquireModel } from '../acquire-model.js';
import { expandShards } from './gguf-source.js';
import { hubFileUrl } from '../hub-ref.js';
import { pinningStore } from '../memory-store.test-helper.js';

// A GGUF by URL against a real HTTP server: header read with Range requests before any tensor
// byte, SHA-256 pinned on first use, later loads from the store, a changed file refused.

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
let dir: string;
let model: Uint8Array;
const shards: Record<string, Uint8Array> = {};
let server: FaultServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gguf-url-'));
  // 8 MiB: the GGUF reader fetches the header in pieces of a few MB.
  await writeTinyLlama(join(dir, 'tiny.gguf'), {
    seed: 5,
    shape: shapeForSize(8 * 2 ** 20, buildVocab().tokens.length),
  });
  model = new Uint8Array(await readFile(join(dir, 'tiny.gguf')));
  await pack(join(dir, 'tiny.gguf'), { out: join(dir, 'split'), maxChunkBytes: 3 * 2 ** 20 });
  for (const f of (await readdir(join(dir, 'split'))).filter((f) => f.endsWith('.gguf')))
    shards[f] = new Uint8Array(await readFile(join(dir, 'split', f)));
  server = await startFaultServer({
    'tiny.gguf': model,
    // The same file where a hub serves it: {base}/owner/repo/resolve/{revision}/path.
    'acme/tiny-GGUF/resolve/0123abc/q4/tiny.gguf': model,
    ...Object.fromEntries(Object.entries(shards).map(([f, b]) => [`split/${f}`, b])),
  });
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const sent = (path: string) => server.bytesSent(path);

describe('GGUF by URL', () => {
  it('reads the header first, pins the SHA-256 on first use, then loads from the store', async () => {
    const { store, chunks } = pinningStore();
    let before = -1;
    const first = await acquireModel(
      { ggufUrls: [server.url('tiny.gguf')] },
      {
        store,
        preflight: (m) => {
          // Only the header has been fetched when the fit check runs.
          before = sent('tiny.gguf');
          expect(m.model['resources']).toMatchObject({ weightsBytes: expect.any(Number) });
          expect(m.totalBytes).toBe(model.length);
        },
      },
    );
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(model.length);
    expect(first.fromCache).toBe(false);
    expect(first.manifest.chunks[0]!.sha256).toBe(sha(model));
    expect(sha(new Uint8Array(await first.blobs[0]!.arrayBuffer()))).toBe(sha(model));
    expect([...chunks.keys()]).toEqual([sha(model)]);
    // Second visit: the pinned manifest from the store; no request for the file at all.
    const requests = server.log.length;
    const second = await acquireModel({ ggufUrls: [server.url('tiny.gguf')] }, { store });
    expect(second.fromCache).toBe(true);
    expect(server.log.slice(requests).filter((e) => e.path === 'tiny.gguf')).toEqual([]);
  });

  it("a server that hides Content-Range (CORS without Access-Control-Expose-Headers): the size comes from a HEAD's Content-Length", async () => {
    // What a browser shows a page of nginx's usual `add_header Access-Control-Allow-Origin *`.
    const hiding: typeof fetch = async (input, init) => {
      const r = await fetch(input, init);
      const headers = new Headers(r.headers);
      headers.delete('Content-Range');
      return new Response(r.body, { status: r.status, statusText: r.statusText, headers });
    };
    const requests = server.log.length;
    const got = await acquireModel(
      { ggufUrls: [server.url('tiny.gguf')] },
      { store: pinningStore().store, fetch: hiding },
    );
    expect(got.manifest.totalBytes).toBe(model.length);
    expect(sha(new Uint8Array(await got.blobs[0]!.arrayBuffer()))).toBe(sha(model));
    const heads = server.log.slice(requests).filter((e) => e.method === 'HEAD');
    expect(heads.map((e) => e.path)).toEqual(['tiny.gguf']);
    // A HEAD that says 0 (or nothing) tells nothing: the error says what to expose.
    const empty: typeof fetch = async (input, init) =>
      init?.method === 'HEAD'
        ? new Response(null, { status: 200, headers: { 'Content-Length': '0' } })
        : hiding(input, init);
    await expect(
      acquireModel({ ggufUrls: [server.url('tiny.gguf')] }, { fetch: empty }),
    ).rejects.toMatchObject({
      code: 'NETWORK_ERROR',
      message: expect.stringContaining('list Content-Range in Access-Control-Expose-Headers'),
    });
  });

  it('verifies a re-download against the pin: a file that changed on the server is refused', async () => {
    const { store, chunks } = pinningStore();
    await acquireModel({ ggufUrls: [server.url('tiny.gguf')] }, { store });
    chunks.clear(); // evicted by the browser
    const changed = Uint8Array.from(model);
    changed[changed.length - 10]! ^= 0xff;
    server.set('tiny.gguf', changed);
    try {
      const error = await acquireModel(
        { ggufUrls: [server.url('tiny.gguf')] },
        { store, retryDelayMs: 5 },
      ).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'CHUNK_HASH_MISMATCH', chunkIndex: 0 });
      expect((error as Error).message).toContain(`expected sha256 ${sha(model)}`);
    } finally {
      server.set('tiny.gguf', model);
    }
  });

  it("a first shard's URL stands for every gguf-split shard", async () => {
    const names = Object.keys(shards).sort();
    expect(names.length).toBeGreaterThan(1);
    const got = await acquireModel({ ggufUrls: [server.url(`split/${names[0]}`)] });
    expect(got.blobs).toHaveLength(names.length);
    expect(got.manifest.chunks.map((c) => c.file)).toEqual(names);
    expect(got.manifest.chunks.map((c) => c.sha256)).toEqual(names.map((n) => sha(shards[n]!)));
    expect(expandShards('https://x.test/a/m-00002-of-00003.gguf')).toEqual([
      'https://x.test/a/m-00002-of-00003.gguf',
    ]);
  });

  it('resolves hf: references against a configurable hub base URL', async () => {
    const base = server.url('').replace(/\/$/, '');
    const url = hubFileUrl('hf:acme/tiny-GGUF/q4/tiny.gguf@0123abc', base);
    expect(url).toBe(`${base}/acme/tiny-GGUF/resolve/0123abc/q4/tiny.gguf`);
    const got = await acquireModel({ ggufUrls: [url] });
    expect(got.manifest.chunks[0]!.sha256).toBe(sha(model));
    expect(hubFileUrl('hf:a/b/c.gguf')).toBe('https://huggingface.co/a/b/resolve/main/c.gguf');
    for (const bad of ['hf:a/c.gguf', 'hf:a/b/c.bin', 'a/b/c.gguf'])
      expect(() => hubFileUrl(bad)).toThrow(/not a hub reference: write hf:owner\/repo/);
  });

  it('reads the header under the network rules: Retry-After, a dropped and a stalled connection, a server without Range', async () => {
    server.set('flaky.gguf', model);
    server.inject(
      'flaky.gguf',
      '503-retry-after:1',
      'drop-midway',
      'stall-at:1000',
      'ignore-range',
    );
    const started = Date.now();
    const got = await acquireModel(
      { ggufUrls: [server.url('flaky.gguf')] },
      { idleTimeoutMs: 400, retryDelayMs: 10, maxRetryAfterMs: 300, random: () => 0 },
    );
    expect(sha(new Uint8Array(await got.blobs[0]!.arrayBuffer()))).toBe(sha(model));
    const log = server.log.filter((e) => e.path === 'flaky.gguf');
    expect(log.slice(0, 4).map((e) => e.fault)).toEqual([
      '503-retry-after:1',
      'drop-midway',
      'stall-at:1000',
      'ignore-range',
    ]);
    // Retry-After (cut to maxRetryAfterMs) and the idle timeout were both waited for.
    expect(Date.now() - started).toBeGreaterThanOrEqual(300 + 400);
    // Each header read asked for a range (the download after them asks for the whole file).
    expect(log.slice(0, 4).every((e) => e.range?.startsWith('bytes=0-'))).toBe(true);
  });

  it('a header read that keeps failing ends with the status and the URL, and an abort ends the wait', async () => {
    server.set('down.gguf', model);
    server.inject('down.gguf', '503', '503', '503');
    const down = await acquireModel(
      { ggufUrls: [server.url('down.gguf')] },
      { retries: 2, retryDelayMs: 5 },
    ).catch((e) => e);
    expect(down).toMatchObject({ code: 'HTTP_ERROR', status: 503, chunkIndex: 0 });
    expect((down as Error).message).toContain(server.url('down.gguf'));
    server.inject('down.gguf', 'stall-headers');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const aborted = await acquireModel(
      { ggufUrls: [server.url('down.gguf')] },
      { signal: controller.signal },
    ).catch((e) => e);
    expect(aborted).toMatchObject({ code: 'ABORTED' });
  });

  it('two tabs share the first download: the one that waits loads the pins the other stored', async () => {
    const { store } = pinningStore();
    // One lock per model, as Web Locks give model-cache.
    let tail = Promise.resolve();
    let queued = 0;
    let bothAsked!: () => void;
    const secondAsks = new Promise<void>((r) => (bothAsked = r));
    const waits: string[] = [];
    const locking = {
      ...store,
      lock<T>(_m: unknown, fn: () => Promise<T>, o: { onWait?: () => void } = {}): Promise<T> {
        if (queued++ > 0) {
          o.onWait?.();
          bothAsked();
        }
        // The first tab starts once the second one asks: the second tab is made to wait.
        const before = queued === 1 ? tail.then(() => secondAsks) : tail;
        let release!: () => void;
        tail = new Promise<void>((r) => (release = r));
        return before.then(async () => {
          try {
            return await fn();
          } finally {
            queued--;
            release();
          }
        });
      },
    };
    server.set('shared.gguf', model);
    const before = sent('shared.gguf');
    const [a, b] = await Promise.all(
      [1, 2].map((tab) =>
        acquireModel(
          { ggufUrls: [server.url('shared.gguf')] },
          { store: locking, onWaitForOtherTab: () => waits.push(`tab ${tab}`) },
        ),
      ),
    );
    expect([a!.fromCache, b!.fromCache].sort()).toEqual([false, true]);
    expect(waits).toHaveLength(1);
    expect(b!.manifest.chunks[0]!.sha256).toBe(sha(model));
    // The file itself came once (and each tab read the header: a few MB each).
    expect(sent('shared.gguf') - before).toBeLessThan(2 * model.length);
    expect(sha(new Uint8Array(await a!.blobs[0]!.arrayBuffer()))).toBe(sha(model));
  });

  it('names the URL of an HTML page, a 404, and a file that is not a GGUF', async () => {
    server.set('page.gguf', '<!doctype html><title>app</title>');
    server.set('junk.gguf', new Uint8Array(4096).fill(7));
    const html = await acquireModel({ ggufUrls: [server.url('page.gguf')] }).catch((e) => e);
    expect(html).toMatchObject({ code: 'GGUF_INVALID' });
    expect((html as Error).message).toContain(server.url('page.gguf'));
    const missing = await acquireModel({ ggufUrls: [server.url('nope.gguf')] }).catch((e) => e);
    expect(missing).toMatchObject({
      code: 'HTTP_ERROR',
      status: 404,
      url: server.url('nope.gguf'),
    });
    const junk = await acquireModel({ ggufUrls: [server.url('junk.gguf')] }).catch((e) => e);
    expect(junk).toMatchObject({ code: 'GGUF_INVALID' });
    expect((junk as Error).message).toContain(`${server.url('junk.gguf')} is not a readable GGUF`);
    const malformed = await acquireModel({ ggufUrls: ['http://[bad'] }).catch((e) => e);
    expect(malformed).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((malformed as Error).message).toContain('"http://[bad" is not a URL');
  });
});
