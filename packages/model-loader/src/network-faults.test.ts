import { createHash, randomBytes } from 'node:crypto';
import { startFaultServer, type FaultServer } from '@the-edge-agent/test-fixtures';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireModel } from './acquire-model.js';
import { fetchManifest, fetchModelIndex } from './sources/manifest-source.js';
import { loadModel, type LoadModelOptions } from './load-model.js';
import { parseManifest, type ParsedManifest } from './manifest.js';
import { httpCachedFetch } from './http-cache.test-helper.js';
import { memoryStore, segmentStore } from './memory-store.test-helper.js';

// The loader against a real HTTP server that misbehaves on purpose (test-fixtures'
// fault server): stalls, Retry-After, redirects, budgets, durable partial downloads, quota.

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const SIZE = 400_000;
const data = new Uint8Array(randomBytes(SIZE));
const other = new Uint8Array(randomBytes(100_000));
let server: FaultServer;

const BLOCK = 64 * 1024;
/** The manifest's per-block hashes (what `tea-model pack` writes), when the mode has them. */
let withBlocks = false;
const blocksOf = (bytes: Uint8Array) =>
  withBlocks
    ? {
        blocks: {
          bytes: BLOCK,
          sha256: Array.from({ length: Math.ceil(bytes.length / BLOCK) }, (_, k) =>
            sha(bytes.subarray(k * BLOCK, (k + 1) * BLOCK)),
          ),
        },
      }
    : {};
const manifestJson = () => ({
  manifestVersion: 1,
  model: { id: 'f', version: '1' },
  layout: 'gguf-split',
  totalBytes: SIZE + other.length,
  chunks: [
    { file: 'a.gguf', bytes: SIZE, sha256: sha(data), ...blocksOf(data) },
    { file: 'b.gguf', bytes: other.length, sha256: sha(other), ...blocksOf(other) },
  ],
});
const manifest = (): ParsedManifest =>
  parseManifest(manifestJson(), { url: server.url('manifest.json') });

// Fast policies for tests: short idle timeout and backoff, no jitter.
const fast: LoadModelOptions = {
  retryDelayMs: 5,
  idleTimeoutMs: 400,
  random: () => 1,
  segmentBytes: 64 * 1024,
  rangeBytes: 64 * 1024,
};
const requestsFor = (path: string) => server.log.filter((e) => e.path === path);

beforeEach(async () => {
  server = await startFaultServer({
    'a.gguf': data,
    'b.gguf': other,
    'manifest.json': JSON.stringify(manifestJson()),
  });
});
afterEach(async () => {
  await server.close();
});

async function same(blobs: Blob[]) {
  expect(sha(new Uint8Array(await blobs[0]!.arrayBuffer()))).toBe(sha(data));
  expect(sha(new Uint8Array(await blobs[1]!.arrayBuffer()))).toBe(sha(other));
}

// Every fault, for manifests with block hashes (each 64 KiB block verified with WebCrypto) and
// without them (one incremental SHA-256 per chunk).
const modes = [
  ['whole-chunk hashes', false],
  ['block hashes', true],
] as const;

describe.each(modes)('network faults (%s)', (_, blocks) => {
  beforeEach(() => {
    withBlocks = blocks;
  });

  it('a connection that stalls mid-body is abandoned after the idle timeout and resumed with Range', async () => {
    // The chunk is asked for one 64 KiB segment at a time; the third request stalls.
    server.inject('a.gguf', 'ok', 'ok', 'stall-at:30000');
    const t = Date.now();
    await same(await loadModel(manifest(), fast));
    expect(Date.now() - t).toBeLessThan(5_000);
    const ranges = requestsFor('a.gguf').map((r) => r.range);
    expect(ranges.slice(0, 4)).toEqual([
      'bytes=0-65535',
      'bytes=65536-131071',
      'bytes=131072-196607',
      // The rest of the interrupted segment (what arrived of it waits in memory).
      'bytes=161072-196607',
    ]);
    // Only what did not arrive is fetched again.
    expect(server.bytesSent('a.gguf')).toBe(SIZE);
  });

  it('a server that never answers is retried, then fails with NETWORK_ERROR naming the URL', async () => {
    server.inject('a.gguf', 'stall-headers');
    await same(await loadModel(manifest(), fast));
    server.inject('a.gguf', 'stall-headers', 'stall-headers', 'stall-headers');
    const error = await loadModel(manifest(), { ...fast, retries: 2 }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'NETWORK_ERROR',
      chunkIndex: 0,
      url: server.url('a.gguf'),
    });
    expect((error as Error).message).toContain('no bytes for 0.4 s');
  });

  it('honours Retry-After in seconds and as an HTTP date, capped by maxRetryAfterMs', async () => {
    for (const fault of ['429-retry-after:1', '503-retry-after:1', '429-retry-date:2'] as const) {
      server.inject('a.gguf', fault);
      const t = Date.now();
      await same(await loadModel(manifest(), fast));
      // An HTTP date has whole-second precision: "2 s ahead" is 1-2 s.
      expect(Date.now() - t, fault).toBeGreaterThanOrEqual(900);
    }
    server.inject('a.gguf', '503-retry-after:3600');
    const t = Date.now();
    await same(await loadModel(manifest(), { ...fast, maxRetryAfterMs: 300 }));
    expect(Date.now() - t).toBeLessThan(3_000);
  });

  it('a chunk that never verifies costs at most about twice its size', async () => {
    server.inject('a.gguf', ...Array<'corrupt-byte'>(40).fill('corrupt-byte'));
    const error = await loadModel(manifest(), fast).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CHUNK_HASH_MISMATCH', chunkIndex: 0 });
    expect(server.bytesSent('a.gguf')).toBeLessThanOrEqual(2 * SIZE);
  });

  it('refuses a chunk that redirects to another origin, and follows a same-origin redirect', async () => {
    server.inject('a.gguf', 'redirect-same-origin');
    await same(await loadModel(manifest(), fast));
    server.inject('a.gguf', 'redirect-other-origin');
    const error = await loadModel(manifest(), fast).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ORIGIN_NOT_ALLOWED', chunkIndex: 0 });
    expect((error as Error).message).toContain(server.otherOrigin);
    // With the other origin allowed, the redirect is fine.
    const allowed = parseManifest(manifestJson(), {
      url: server.url('manifest.json'),
      allowedOrigins: [server.otherOrigin],
    });
    server.inject('a.gguf', 'redirect-other-origin');
    await same(await loadModel(allowed, fast));
  });

  it('recovers from a truncated body, a wrong 206 range, extra bytes, and a slow server', async () => {
    server.inject('a.gguf', 'truncate');
    await same(await loadModel(manifest(), fast));
    server.inject('a.gguf', 'drop-midway', 'wrong-range');
    await same(await loadModel(manifest(), fast));
    server.inject('a.gguf', 'extra-bytes');
    await same(await loadModel(manifest(), fast));
    server.inject('b.gguf', 'slow:400000');
    await same(await loadModel(manifest(), fast));
  });

  it('a chunk declared larger (or smaller) than the server holds ends at once in CHUNK_SIZE_MISMATCH', async () => {
    for (const declared of [SIZE * 10, 2 * 1024 ** 3 - 1, SIZE - 1]) {
      const json = manifestJson();
      // (Without block hashes: their count follows the declared size.)
      json.chunks = [{ file: 'a.gguf', bytes: declared, sha256: sha(data) }];
      json.totalBytes = declared;
      const seen = requestsFor('a.gguf').length;
      const t = Date.now();
      const error = await loadModel(
        parseManifest(json, { url: server.url('manifest.json') }),
        fast,
      ).catch((e: unknown) => e);
      expect(error, String(declared)).toMatchObject({ code: 'CHUNK_SIZE_MISMATCH', chunkIndex: 0 });
      expect((error as Error).message).toContain(`the manifest says ${declared} bytes`);
      expect((error as Error).message).toContain(`is ${SIZE} bytes`);
      // Once more past the browser's HTTP cache (it may hold an older copy), then final.
      expect(requestsFor('a.gguf').length - seen).toBe(2);
      expect(Date.now() - t).toBeLessThan(5_000);
    }
  });

  it('after a failed verification the chunk is asked for past the HTTP cache (cache: reload)', async () => {
    const modes: Array<[string, RequestCache | undefined]> = [];
    const spy: typeof fetch = (input, init) => {
      modes.push([String(input), init?.cache]);
      return fetch(input, init);
    };
    server.inject('a.gguf', ...Array<'corrupt-byte'>(1).fill('corrupt-byte'));
    await same(await loadModel(manifest(), { ...fast, fetch: spy }));
    const forA = modes.filter(([u]) => u.endsWith('a.gguf'));
    expect(forA[0]![1]).toBeUndefined();
    expect(forA.at(-1)![1]).toBe('reload');
    expect(modes.filter(([u]) => u.endsWith('b.gguf')).every(([, c]) => c === undefined)).toBe(
      true,
    );
  });

  it('fails at once on a 404 with the URL in the message', async () => {
    server.inject('b.gguf', '404');
    const error = await loadModel(manifest(), fast).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'HTTP_ERROR', status: 404, chunkIndex: 1 });
    expect((error as Error).message).toContain(server.url('b.gguf'));
    expect((error as Error).message).toContain('the file is not at this path');
    expect(requestsFor('b.gguf')).toHaveLength(1);
  });

  it('a chunk that never answers ends in NETWORK_ERROR saying what to do (network, CORS, resume)', async () => {
    server.inject('b.gguf', ...Array<'stall-headers'>(8).fill('stall-headers'));
    const error = await loadModel(manifest(), { ...fast, retries: 1 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NETWORK_ERROR', chunkIndex: 1 });
    expect((error as Error).message).toMatch(
      /after 2 attempts: check the network.*Access-Control-Allow-Origin.*resumes where it stopped/,
    );
  });
});

describe.each(modes)('durable partial downloads (%s)', (_, blocks) => {
  beforeEach(() => {
    withBlocks = blocks;
  });

  it('a reload resumes each chunk from its persisted segments, re-fetching at most one segment', async () => {
    const { store, calls } = segmentStore();
    server.inject('a.gguf', 'ok', 'ok', 'ok', 'ok', 'stall-at:30000');
    const abort = new AbortController();
    // The "page" goes away while chunk 0 is stalled at 300,000 bytes.
    const first = loadModel(manifest(), {
      ...fast,
      idleTimeoutMs: 60_000,
      store,
      signal: abort.signal,
    });
    for (let i = 0; i < 100 && server.bytesSent('a.gguf') < 4 * 65536 + 30_000; i++)
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    abort.abort();
    await expect(first).rejects.toMatchObject({ code: 'ABORTED' });
    // Four whole 64 KiB segments, and what had arrived of the fifth when the page went away.
    expect(calls.filter((c) => c.startsWith('segment:0@')).length).toBeGreaterThanOrEqual(4);
    const persisted = (await store.getPartial!(manifest(), 0))!.bytes;
    expect(persisted).toBeGreaterThanOrEqual(4 * 64 * 1024);
    const before = server.bytesSent('a.gguf');
    const seen = requestsFor('a.gguf').length;
    await same(await loadModel(manifest(), { ...fast, store }));
    expect(requestsFor('a.gguf')[seen]!.range).toBe(`bytes=${persisted}-${persisted + 65535}`);
    // Re-fetched: only what was not persisted.
    expect(before + (server.bytesSent('a.gguf') - before) - SIZE).toBeLessThan(64 * 1024);
    expect(calls).not.toContain('drop:0');
  });

  it("an abort as a chunk's last bytes are stored leaves it loadable: the next load completes it with no request", async () => {
    const { store } = segmentStore();
    const abort = new AbortController();
    const putSegment = store.putSegment!.bind(store);
    store.putSegment = async (m, i, segment) => {
      await putSegment(m, i, segment);
      // The page goes away once chunk 0's last segment is stored, before the chunk is.
      if (i === 0 && segment.offset + segment.data.size === SIZE) abort.abort();
    };
    await expect(
      loadModel(manifest(), { ...fast, store, signal: abort.signal }),
    ).rejects.toMatchObject({
      code: 'ABORTED',
    });
    expect((await store.getPartial!(manifest(), 0))!.bytes).toBe(SIZE);
    const seen = requestsFor('a.gguf').length;
    await same(await loadModel(manifest(), { ...fast, store }));
    expect(requestsFor('a.gguf')).toHaveLength(seen);
  });

  it('a full disk stops the download at once, drops the partial segments, and is not retried', async () => {
    const { store, calls } = segmentStore({ refuseSegmentsAfter: 2 });
    const error = await loadModel(manifest(), { ...fast, store, concurrency: 1 }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'QUOTA_EXCEEDED' });
    expect(calls).toContain('drop:0');
    // Three segment requests (the third segment is the one refused); nothing after it.
    expect(requestsFor('a.gguf')).toHaveLength(3);
    expect(requestsFor('b.gguf')).toHaveLength(0);
    // Stopped within a couple of segments of the refusal, not after the whole chunk.
    expect(server.bytesSent('a.gguf')).toBeLessThan(SIZE);
  });
});

describe('block hashes', () => {
  beforeEach(() => {
    withBlocks = true;
  });
  afterEach(() => {
    withBlocks = false;
  });

  it('a corrupted block is fetched again on its own; twice wrong names the block and its bytes', async () => {
    // The server corrupts byte 200,000 of the file: block 3 (bytes 196608-262143).
    server.inject('a.gguf', 'ok', 'ok', 'ok', 'corrupt-byte');
    await same(await loadModel(manifest(), fast));
    expect(server.bytesSent('a.gguf')).toBe(SIZE + BLOCK);
    expect(requestsFor('a.gguf').map((r) => r.range)[4]).toBe('bytes=196608-262143');
    server.log.length = 0;
    server.inject('a.gguf', 'ok', 'ok', 'ok', 'corrupt-byte', 'corrupt-byte');
    const before = server.bytesSent('a.gguf');
    const error = await loadModel(manifest(), fast).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CHUNK_HASH_MISMATCH', chunkIndex: 0 });
    expect((error as Error).message).toMatch(
      /chunk 0 \(.*a\.gguf\) failed verification twice at block 3 \(bytes 196608-262143\): expected sha256 [0-9a-f]{64}, got [0-9a-f]{64}/,
    );
    // Nothing past the bad block was fetched.
    expect(server.bytesSent('a.gguf') - before).toBe(5 * BLOCK);
  });

  it('a store that commits segments gets every byte once, and the page keeps none of them', async () => {
    const { store, calls, chunks } = segmentStore({ commit: true });
    const blobs = await loadModel(manifest(), { ...fast, store });
    await same(blobs);
    expect(calls.filter((c) => c.startsWith('put:'))).toEqual([]);
    expect(calls.filter((c) => c.startsWith('commit:')).sort()).toEqual(['commit:0', 'commit:1']);
    // The Blobs the loader returns are the store's.
    expect(blobs[0]).toBe(chunks.get(sha(data)));
  });

  it('a reload checks the persisted segments again: a damaged one is dropped and fetched anew', async () => {
    const { store, segments, calls } = segmentStore();
    const m = manifest();
    // Two segments from an earlier page; the second was damaged on disk.
    const bad = Uint8Array.from(data.subarray(BLOCK, 2 * BLOCK));
    bad[10]! ^= 1;
    segments.set(sha(data), [
      { offset: 0, data: new Blob([data.subarray(0, BLOCK)]), hashState: new Uint8Array(0) },
      { offset: BLOCK, data: new Blob([bad]), hashState: new Uint8Array(0) },
    ]);
    await same(await loadModel(m, { ...fast, store }));
    expect(calls).toContain('drop:0');
    expect(requestsFor('a.gguf')[0]!.range).toBe('bytes=0-65535');
  });
});

describe('documents: manifest and models.json', () => {
  it('retries a 503 manifest, and names the URL of an HTML page or a 404', async () => {
    server.inject('manifest.json', '503', '429-retry-after:0');
    const m = await fetchManifest({ manifestUrl: server.url('manifest.json') }, fast);
    expect(m.model.id).toBe('f');
    server.inject('manifest.json', 'html');
    await expect(fetchManifest({ manifestUrl: server.url('manifest.json') }, fast)).rejects.toThrow(
      `the manifest at ${server.url('manifest.json')} is an HTML page`,
    );
    await expect(
      fetchManifest({ manifestUrl: server.url('missing.json') }, fast),
    ).rejects.toMatchObject({ code: 'HTTP_ERROR', status: 404, url: server.url('missing.json') });
  });

  it('refuses a models.json profile on another origin unless it is allowed', async () => {
    const index = {
      modelsVersion: 1,
      profiles: [
        {
          id: 'p',
          version: '1',
          manifest: `${server.otherOrigin}/manifest.json`,
          totalBytes: 1,
          chunks: 1,
          modes: ['cpu'],
        },
      ],
    };
    server.set('models.json', JSON.stringify(index));
    await expect(fetchModelIndex(server.url('models.json'), fast)).rejects.toMatchObject({
      code: 'ORIGIN_NOT_ALLOWED',
    });
    const ok = await fetchModelIndex(server.url('models.json'), {
      ...fast,
      allowedOrigins: [server.otherOrigin],
    });
    expect(ok.profiles[0]!.manifestUrl).toBe(`${server.otherOrigin}/manifest.json`);
  });

  it('acquireModel reads a complete model from the store without the network, and reports MODEL_INVALID', async () => {
    const { store } = memoryStore();
    const first = await acquireModel(
      { manifestUrl: server.url('manifest.json') },
      { ...fast, store },
    );
    expect(first.fromCache).toBe(false);
    let complete = true;
    let rejected: string | null = null;
    const cached = {
      ...store,
      has: async () => complete,
      unloadableReason: async () => rejected,
    };
    const chunkRequests = () => server.log.filter((e) => e.path.endsWith('.gguf')).length;
    const n = chunkRequests();
    const again = await acquireModel(
      { manifestUrl: server.url('manifest.json') },
      { ...fast, store: cached },
    );
    expect(again.fromCache).toBe(true);
    expect(chunkRequests()).toBe(n);
    await same(again.blobs);
    rejected = 'llama_model_load: error loading model: invalid magic';
    const error = await acquireModel(
      { manifestUrl: server.url('manifest.json') },
      { ...fast, store: cached },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'MODEL_INVALID', url: server.url('manifest.json') });
    expect((error as Error).message).toContain('invalid magic');
    expect((error as Error).message).toContain('evict()');
    complete = false;
  });

  it("no error message or url field carries a signed URL's secrets", async () => {
    const SECRET = 'S3cr3tT0k3n';
    const signed = [
      `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=${SECRET}`,
      `token=${SECRET}`,
      `download=true&sig=${SECRET}#frag${SECRET}`,
    ];
    for (const query of signed) {
      const json = manifestJson();
      json.chunks = json.chunks.map((c) => ({ ...c, file: `${c.file}?${query}` }));
      const signedManifest = () => parseManifest(json, { url: server.url('manifest.json') });
      for (const faults of [
        ['404'],
        Array<'html'>(40).fill('html'),
        Array<'corrupt-byte'>(40).fill('corrupt-byte'),
        Array<'stall-headers'>(8).fill('stall-headers'),
      ] as const) {
        server.inject('a.gguf', ...faults);
        const error = (await loadModel(signedManifest(), { ...fast, retries: 1 }).catch(
          (e: unknown) => e,
        )) as Error & { url?: string };
        expect(error, `${query} ${faults[0]}`).toBeInstanceOf(Error);
        const text = `${error.message} ${error.url ?? ''} ${String((error.cause as Error)?.message ?? '')}`;
        expect(text, `${query} ${faults[0]}`).not.toContain(SECRET);
        expect(text).toContain(server.url('a.gguf'));
      }
    }
  });
});

// What Chromium's HTTP cache did to the loader in the fault-sequence test (issue 28), replayed
// with a fetch that has such a cache in front of it (`httpCachedFetch`; Node's fetch has none).
describe("the browser's HTTP cache (issue 28)", () => {
  beforeEach(() => {
    withBlocks = false;
  });
  const manifestUrl = () => server.url('manifest.json');

  it('bug 1: a manifest cut short is fetched once more, and never answered from the cache', async () => {
    const http = httpCachedFetch();
    server.http('manifest.json', { cacheControl: 'no-cache' });
    server.inject('manifest.json', 'truncate');
    const m = await fetchManifest({ manifestUrl: manifestUrl() }, { ...fast, fetch: http.fetch });
    expect(m.model.id).toBe('f');
    expect(http.modes.map(([, mode]) => mode)).toEqual(['no-store', 'reload']);
    // The next load asks the server for the whole manifest again (no validators, no 304).
    await fetchManifest({ manifestUrl: manifestUrl() }, { ...fast, fetch: http.fetch });
    expect(requestsFor('manifest.json').at(-1)!.status).toBe(200);
    // A manifest that is wrong on the server too fails after that one more request.
    server.set('manifest.json', '{"manifestVersion": 1');
    const seen = requestsFor('manifest.json').length;
    await expect(
      fetchManifest({ manifestUrl: manifestUrl() }, { ...fast, fetch: http.fetch }),
    ).rejects.toMatchObject({ code: 'MANIFEST_INVALID' });
    expect(requestsFor('manifest.json').length - seen).toBe(2);
  });

  it('bug 5: a manifest (and a models.json) the browser may reuse under max-age is revalidated, so a new version is seen at once', async () => {
    const http = httpCachedFetch();
    server.http('manifest.json', { cacheControl: 'max-age=3600' });
    const first = await fetchManifest(
      { manifestUrl: manifestUrl() },
      { ...fast, fetch: http.fetch },
    );
    expect(first.model.version).toBe('1');
    server.repack(
      'manifest.json',
      JSON.stringify({ ...manifestJson(), model: { id: 'f', version: '2' } }),
    );
    const second = await fetchManifest(
      { manifestUrl: manifestUrl() },
      { ...fast, fetch: http.fetch },
    );
    expect(second.model.version).toBe('2');
    expect(http.modes.every(([, mode]) => mode === 'no-store')).toBe(true);

    const index = (version: string) =>
      JSON.stringify({
        modelsVersion: 1,
        profiles: [
          { id: 'f', version, manifest: 'manifest.json', totalBytes: 1, chunks: 1, modes: ['cpu'] },
        ],
      });
    server.set('models.json', index('1'));
    server.http('models.json', { cacheControl: 'max-age=3600' });
    const url = server.url('models.json');
    expect((await fetchModelIndex(url, { ...fast, fetch: http.fetch })).profiles[0]!.version).toBe(
      '1',
    );
    server.repack('models.json', index('2'));
    expect((await fetchModelIndex(url, { ...fast, fetch: http.fetch })).profiles[0]!.version).toBe(
      '2',
    );
  });

  it("bug 2: a chunk re-packed at the same URL with another size, while the browser's copy is fresh: asked once more past the cache", async () => {
    const http = httpCachedFetch();
    server.http('a.gguf', { cacheControl: 'max-age=3600' });
    // Whole-chunk requests (the browser stores whole answers only).
    const whole = { ...fast, rangeBytes: 1024 * 1024, fetch: http.fetch };
    await same(await loadModel(manifest(), whole));
    const bigger = new Uint8Array(randomBytes(SIZE + 5_000));
    server.repack('a.gguf', bigger);
    const json = manifestJson();
    json.chunks[0] = { file: 'a.gguf', bytes: bigger.length, sha256: sha(bigger) };
    json.totalBytes = bigger.length + other.length;
    const blobs = await loadModel(parseManifest(json, { url: manifestUrl() }), whole);
    expect(sha(new Uint8Array(await blobs[0]!.arrayBuffer()))).toBe(sha(bigger));
    const forA = http.modes.filter(([u]) => u.endsWith('a.gguf')).map(([, m]) => m);
    expect(forA).toEqual(['default', 'default', 'reload']);
  });

  it("bug 6: a resume's Range answered from a cached gzip body (its length, not the file's) is asked once more past the cache", async () => {
    const modes: (RequestCache | undefined)[] = [];
    let answered = false;
    // Chromium answered the Range from its gzip entry: 206 with the gzip bytes and their length.
    const gzipCache: typeof fetch = async (input, init) => {
      if (String(input).endsWith('a.gguf')) modes.push(init?.cache);
      const range = new Headers(init?.headers).get('Range');
      if (String(input).endsWith('a.gguf') && range && init?.cache !== 'reload' && !answered) {
        answered = true;
        return new Response(new Uint8Array(1000), {
          status: 206,
          headers: { 'Content-Range': `bytes 0-999/${SIZE - 1234}`, 'Content-Length': '1000' },
        });
      }
      return fetch(input, init);
    };
    await same(await loadModel(manifest(), { ...fast, fetch: gzipCache }));
    expect(modes.slice(0, 2)).toEqual([undefined, 'reload']);
  });
});

describe('a partial download across manifests of the same chunks (issue 28)', () => {
  it('bug 3: segments stored under block hashes (no SHA-256 state) resume under a manifest without them, hashed again from the store', async () => {
    const { store, calls } = segmentStore();
    const abort = new AbortController();
    const putSegment = store.putSegment!.bind(store);
    store.putSegment = async (m, i, segment) => {
      await putSegment(m, i, segment);
      if (i === 0 && segment.offset >= BLOCK) abort.abort();
    };
    withBlocks = true;
    await expect(
      loadModel(manifest(), { ...fast, store, signal: abort.signal }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    const partial = (await store.getPartial!(manifest(), 0))!;
    expect(partial.hashState.byteLength).toBe(0);
    store.putSegment = putSegment;
    withBlocks = false;
    const seen = requestsFor('a.gguf').length;
    const before = server.bytesSent('a.gguf');
    await same(await loadModel(manifest(), { ...fast, store }));
    expect(calls).not.toContain('drop:0');
    expect(requestsFor('a.gguf')[seen]!.range).toBe(
      `bytes=${partial.bytes}-${partial.bytes + 65535}`,
    );
    expect(server.bytesSent('a.gguf') - before).toBe(SIZE - partial.bytes);
  });

  it('a hash state that does not load is rebuilt from the stored bytes; bytes that do not verify then start the chunk over', async () => {
    const { store, segments } = segmentStore();
    const m = manifest();
    segments.set(m.chunks[0]!.sha256, [
      { offset: 0, data: new Blob([data.slice(0, BLOCK)]), hashState: new Uint8Array(7) },
    ]);
    await same(await loadModel(m, { ...fast, store }));
    expect(requestsFor('a.gguf')[0]!.range).toBe(`bytes=${BLOCK}-${2 * BLOCK - 1}`);
    const bad = data.slice(0, BLOCK);
    bad[10]! ^= 1;
    const { store: again, segments: stored, calls } = segmentStore();
    stored.set(m.chunks[0]!.sha256, [
      { offset: 0, data: new Blob([bad]), hashState: new Uint8Array(7) },
    ]);
    const seen = requestsFor('a.gguf').length;
    await same(await loadModel(m, { ...fast, store: again }));
    expect(calls).toContain('drop:0');
    expect(requestsFor('a.gguf')[seen]!.range).toBe(`bytes=${BLOCK}-${2 * BLOCK - 1}`);
  });
});
