import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadModel, type LoadProgress } from './load-model.js';
import { parseManifest, type ParsedManifest } from './manifest.js';
import { memoryStore, segmentStore } from './memory-store.test-helper.js';
import { startTestServer } from './test-server.test-helper.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const bytesOf = async (blobs: Blob[]) => new Uint8Array(await new Blob(blobs).arrayBuffer());

// Three shards of random bytes (the loader does not care what is inside).
const shards = [randomBytes(300_000), randomBytes(250_000), randomBytes(123_457)].map(
  (b) => new Uint8Array(b),
);
const names = shards.map((_, i) => `m-0000${i + 1}-of-00003.gguf`);
let server: Awaited<ReturnType<typeof startTestServer>>;
let manifest: ParsedManifest;

function manifestFor(layout: 'gguf-split' | 'byte-chunks'): ParsedManifest {
  return parseManifest(
    {
      manifestVersion: 1,
      model: { id: 'm', version: '1' },
      layout,
      totalBytes: shards.reduce((s, b) => s + b.length, 0),
      chunks: shards.map((b, i) => ({ file: names[i], bytes: b.length, sha256: sha(b) })),
    },
    { url: server.url('manifest.json') },
  );
}

beforeEach(async () => {
  server = await startTestServer(Object.fromEntries(names.map((n, i) => [n, shards[i]!])));
  manifest = manifestFor('gguf-split');
});
afterEach(async () => {
  await server.close();
});

const fast = { retryDelayMs: 5 };

describe('loadModel', () => {
  it('downloads and verifies every shard, one Blob per shard, with progress', async () => {
    const progress: LoadProgress[] = [];
    const blobs = await loadModel(manifest, { ...fast, onProgress: (p) => progress.push(p) });
    expect(blobs).toHaveLength(3);
    for (let i = 0; i < 3; i++) expect(await bytesOf([blobs[i]!])).toEqual(shards[i]);
    const last = progress.at(-1)!;
    expect(last).toMatchObject({
      loadedBytes: manifest.totalBytes,
      totalBytes: manifest.totalBytes,
      chunksDone: 3,
      chunksTotal: 3,
      fromCache: false,
    });
    expect(last.bytesPerSecond).toBeGreaterThan(0);
    expect(progress.every((p, i) => i === 0 || p.loadedBytes >= 0)).toBe(true);
  });

  it('reassembles byte-chunks into one Blob', async () => {
    const blobs = await loadModel(manifestFor('byte-chunks'), fast);
    expect(blobs).toHaveLength(1);
    expect(sha(await bytesOf(blobs))).toBe(sha(Buffer.concat(shards)));
  });

  it('survives a 503, a dropped connection (resumed with Range) and a corrupted byte', async () => {
    server.inject(names[0]!, '503');
    server.inject(names[1]!, 'drop-midway');
    server.inject(names[2]!, 'corrupt-byte');
    const blobs = await loadModel(manifest, fast);
    for (let i = 0; i < 3; i++) expect(sha(await bytesOf([blobs[i]!]))).toBe(sha(shards[i]!));
    const ranges = server.requests.filter((r) => r.path === names[1]).map((r) => r.range);
    expect(ranges).toEqual([undefined, `bytes=${Math.floor(shards[1]!.length / 2)}-`]);
    expect(server.requests.filter((r) => r.path === names[2])).toHaveLength(2);
  });

  it('starts a chunk over when the server ignores Range', async () => {
    server.inject(names[1]!, 'drop-midway', 'ignore-range');
    const blobs = await loadModel(manifest, fast);
    expect(sha(await bytesOf([blobs[1]!]))).toBe(sha(shards[1]!));
  });

  it('fails with CHUNK_HASH_MISMATCH naming the chunk, expected and actual, after its retries', async () => {
    server.inject(names[2]!, 'corrupt-byte', 'corrupt-byte', 'corrupt-byte');
    const { store, calls } = memoryStore();
    const error = await loadModel(manifest, { ...fast, retries: 2, store }).catch((e) => e);
    expect(error).toMatchObject({
      code: 'CHUNK_HASH_MISMATCH',
      chunkIndex: 2,
      url: server.url(names[2]!),
    });
    expect(error.message).toContain(`expected sha256 ${manifest.chunks[2]!.sha256}`);
    expect(error.message).toMatch(/got [0-9a-f]{64}/);
    // A chunk that never verifies costs at most twice its size: two downloads, then the error.
    expect(server.requests.filter((r) => r.path === names[2])).toHaveLength(2);
    expect(calls).not.toContain('put:2');
    expect(calls).not.toContain('complete');
  });

  it('fails at once with HTTP_ERROR and the status on a 404', async () => {
    server.inject(names[0]!, '404');
    const error = await loadModel(manifest, fast).catch((e) => e);
    expect(error).toMatchObject({ code: 'HTTP_ERROR', status: 404, chunkIndex: 0 });
    expect(server.requests.filter((r) => r.path === names[0])).toHaveLength(1);
  });

  it('retries 503s with exponential backoff, then fails with the status', async () => {
    const times: number[] = [];
    const fetch503: typeof fetch = async () => {
      times.push(Date.now());
      return new Response('busy', { status: 503 });
    };
    const error = await loadModel(manifest, {
      fetch: fetch503,
      retries: 3,
      retryDelayMs: 20,
      random: () => 1,
      concurrency: 1,
    }).catch((e) => e);
    expect(error).toMatchObject({ code: 'HTTP_ERROR', status: 503, chunkIndex: 0 });
    expect(times).toHaveLength(4);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(15);
    expect(gaps[2]!).toBeGreaterThan(gaps[0]! * 2);
  });

  it('reads verified chunks from the store, downloads only the rest, and stores each one', async () => {
    const { store, calls, chunks } = memoryStore({
      [manifest.chunks[1]!.sha256]: new Blob([shards[1]!]),
    });
    const blobs = await loadModel(manifest, { ...fast, store });
    expect(server.requests.map((r) => r.path).sort()).toEqual([names[0], names[2]].sort());
    expect(calls).toEqual(expect.arrayContaining(['open:m', 'put:0', 'put:2', 'complete']));
    expect(calls).not.toContain('put:1');
    expect(chunks.size).toBe(3);
    expect(sha(await bytesOf(blobs))).toBe(sha(Buffer.concat(shards)));
    server.requests.length = 0;
    await loadModel(manifest, { ...fast, store });
    expect(server.requests).toEqual([]);
  });

  it('stops promptly on abort, with ABORTED, and stores nothing unverified', async () => {
    const { store, calls } = memoryStore();
    // Responses that never come: only the abort can end the load.
    const hangingFetch: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () =>
          reject(new DOMException('aborted', 'AbortError')),
        );
      });
    const controller = new AbortController();
    const pending = loadModel(manifest, {
      store,
      fetch: hangingFetch,
      signal: controller.signal,
      ...fast,
    });
    setTimeout(() => controller.abort(), 30);
    const t0 = Date.now();
    const error = await pending.catch((e) => e);
    expect(error).toMatchObject({ code: 'ABORTED', name: 'AbortError' });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(calls.filter((c) => c.startsWith('put') || c === 'complete')).toEqual([]);
  });

  it('passes store errors through unchanged', async () => {
    const { store } = memoryStore();
    const quota = Object.assign(new Error('no room'), { code: 'QUOTA_EXCEEDED' });
    store.putChunk = async () => {
      throw quota;
    };
    await expect(loadModel(manifest, { ...fast, store })).rejects.toBe(quota);
  });

  // Whatever step then fails (a commit of segments that are gone, a segment write into a store
  // that refuses it, complete() without the model's record), the error says what happened.
  for (const failing of ['commitSegments', 'putSegment', 'complete'] as const)
    it(`a store cleared during the load (then ${failing} fails): STORE_ERROR saying to start again; the next load heals`, async () => {
      const s = segmentStore({ commit: true });
      const { store } = s;
      const clear = () => (s.segments.clear(), s.chunks.clear());
      let segments = 0;
      const put = store.putSegment!;
      store.putSegment = async (m, i, seg) => {
        if (failing === 'putSegment' && segments === 3) throw new Error('the store is gone');
        await put(m, i, seg);
        if (++segments === 3) clear();
      };
      if (failing === 'complete') {
        store.putSegment = put;
        store.complete = async () => {
          clear();
          throw Object.assign(new Error('model "m" was not opened'), { code: 'NOT_FOUND' });
        };
      }
      const error = await loadModel(manifest, { ...fast, store, segmentBytes: 65536 }).catch(
        (e) => e,
      );
      expect(error).toMatchObject({ code: 'STORE_ERROR' });
      expect(error.message).toMatch(/cleared during the load.*start the load again/);
      store.putSegment = put;
      store.complete = async () => {};
      const again = await loadModel(manifest, { ...fast, store, segmentBytes: 65536 });
      expect(await bytesOf(again)).toEqual(await bytesOf(shards.map((b) => new Blob([b]))));
    });

  it('a failure with the stored data intact is not blamed on the store', async () => {
    const { store } = segmentStore({ commit: true });
    server.inject(names[1]!, '404');
    const error = await loadModel(manifest, { ...fast, store }).catch((e) => e);
    expect(error).toMatchObject({ code: 'HTTP_ERROR', status: 404, chunkIndex: 1 });
  });
});
