import 'fake-indexeddb/auto';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ModelCache, type ModelCacheOptions } from './model-cache.js';
import type { CacheManifest } from './schema.js';

/** The store's database, for tests that damage records the way a broken disk would. */
interface IDBPDatabaseLike {
  delete(store: string, key: unknown): Promise<void>;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const bytes = (n: number, seed: number) =>
  Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

function model(id: string, version: string, sizes: number[], seed = 0) {
  const data = sizes.map((n, i) => bytes(n, seed + i));
  const manifest: CacheManifest = {
    manifestVersion: 1,
    model: { id, version },
    layout: 'gguf-split',
    totalBytes: sizes.reduce((a, b) => a + b, 0),
    chunks: data.map((d, i) => ({ file: `${id}-${i}.gguf`, bytes: d.length, sha256: sha(d) })),
  };
  return { manifest, blobs: data.map((d) => new Blob([d])) };
}

let n = 0;
const cache = (options: ModelCacheOptions = {}) =>
  new ModelCache({ dbName: `test-${++n}`, ...options });
const quota = (available: number) => ({
  estimate: async () => ({ usage: 0, quota: available }),
});

/** Makes every read-write transaction of `c` fail as a full disk does; returns the undo. */
function refuseWrites(c: ModelCache): () => void {
  const db = (c as unknown as { db: Promise<{ transaction: (...a: unknown[]) => unknown }> }).db;
  let undo = () => undefined as void;
  void db.then((d) => {
    const original = d.transaction.bind(d);
    d.transaction = (names: unknown, mode?: unknown) => {
      if (mode === 'readwrite')
        throw Object.assign(new Error('The quota has been exceeded.'), {
          name: 'QuotaExceededError',
        });
      return original(names, mode);
    };
    undo = () => void (d.transaction = original);
  });
  return () => undo();
}

/** Web Locks as browsers have them (exclusive, `ifAvailable`, `signal`), for Node. */
function fakeLocks() {
  const tails = new Map<string, Promise<unknown>>();
  const queued = new Map<string, number>();
  type Fn<T> = (lock: unknown) => Promise<T>;
  return {
    request<T>(
      name: string,
      a: Fn<T> | { ifAvailable?: boolean; signal?: AbortSignal },
      b?: Fn<T>,
    ): Promise<T> {
      const [opts, fn] = typeof a === 'function' ? [{}, a] : [a, b!];
      if (opts.ifAvailable && (queued.get(name) ?? 0) > 0) return fn(null);
      queued.set(name, (queued.get(name) ?? 0) + 1);
      const before = tails.get(name) ?? Promise.resolve();
      const turn = new Promise<void>((resolve, reject) => {
        void before.then(() => resolve());
        opts.signal?.addEventListener('abort', () => reject(opts.signal!.reason), { once: true });
      });
      const run = turn
        .then(() => fn({ name }))
        .finally(() => queued.set(name, queued.get(name)! - 1));
      tails.set(
        name,
        run.catch(() => undefined),
      );
      return run;
    },
  };
}

async function store(c: ModelCache, m: ReturnType<typeof model>) {
  await c.open(m.manifest);
  for (const [i, b] of m.blobs.entries()) await c.putChunk(m.manifest, i, b);
  await c.complete(m.manifest);
}

describe('ModelCache', () => {
  it('stores chunks, reports completeness and reads them back bit-identical', async () => {
    const c = cache();
    const m = model('a', '1', [1000, 2000, 500]);
    expect(await c.has(m.manifest)).toBe(false);
    await store(c, m);
    expect(await c.has(m.manifest)).toBe(true);
    const blobs = await c.getBlobs(m.manifest);
    for (const [i, b] of blobs.entries())
      expect(sha(new Uint8Array(await b.arrayBuffer()))).toBe(m.manifest.chunks[i]!.sha256);
    const stats = await c.stats();
    expect(stats.totalBytes).toBe(m.manifest.totalBytes);
    expect(stats.models).toEqual([
      expect.objectContaining({
        id: 'a',
        version: '1',
        bytes: 3500,
        totalBytes: 3500,
        complete: true,
        chunksStored: 3,
        chunksTotal: 3,
      }),
    ]);
  });

  it('keeps what an interrupted download finished, and resumes', async () => {
    const c = cache();
    const m = model('p', '1', [100, 200, 300]);
    await c.open(m.manifest);
    await c.putChunk(m.manifest, 0, m.blobs[0]!);
    // the tab closes here; a later load opens a new connection
    const again = new ModelCache({ dbName: c.dbName });
    expect(await again.has(m.manifest)).toBe(false);
    expect(await again.getChunk(m.manifest, 0)).not.toBeNull();
    expect(await again.getChunk(m.manifest, 1)).toBeNull();
    await again.open(m.manifest);
    await again.putChunk(m.manifest, 1, m.blobs[1]!);
    await again.putChunk(m.manifest, 2, m.blobs[2]!);
    await again.complete(m.manifest);
    expect(await again.has(m.manifest)).toBe(true);
  });

  it('never marks a model complete with a chunk missing, and refuses chunks of the wrong size', async () => {
    const c = cache();
    const m = model('x', '1', [100, 200]);
    await c.open(m.manifest);
    await c.putChunk(m.manifest, 0, m.blobs[0]!);
    await expect(c.complete(m.manifest)).rejects.toMatchObject({ code: 'INVALID_CHUNK' });
    await expect(c.putChunk(m.manifest, 1, new Blob([new Uint8Array(5)]))).rejects.toMatchObject({
      code: 'INVALID_CHUNK',
    });
    expect(await c.has(m.manifest)).toBe(false);
    await expect(c.getBlobs(m.manifest)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('detects a corrupted chunk record and drops it so the loader fetches it again', async () => {
    const c = cache();
    const m = model('k', '1', [100, 200]);
    await store(c, m);
    const { openDB } = await import('idb');
    const raw = await openDB(c.dbName);
    await raw.put('chunks', {
      modelId: 'k',
      sha256: m.manifest.chunks[1]!.sha256,
      bytes: 200,
      data: new Blob([new Uint8Array(7)]),
      storedAt: 0,
    });
    raw.close();
    expect(await c.getChunk(m.manifest, 1)).toBeNull();
    expect(await c.has(m.manifest)).toBe(false);
  });

  it('invalidates another version: keeps the old one until the new one is complete, shares equal chunks', async () => {
    const c = cache();
    const v1 = model('m', '1', [100, 200, 300], 0);
    await store(c, v1);
    // v2 shares chunk 0 (same bytes), changes the others
    const v2 = model('m', '2', [100, 250, 300], 0);
    v2.blobs[2] = new Blob([bytes(300, 99)]);
    v2.manifest = {
      ...v2.manifest,
      chunks: v2.manifest.chunks.map((c, i) =>
        i === 2 ? { ...c, sha256: sha(bytes(300, 99)) } : c,
      ),
    };
    await c.open(v2.manifest);
    expect(await c.getChunk(v2.manifest, 0)).not.toBeNull(); // shared: not downloaded again
    expect(await c.has(v1.manifest)).toBe(false); // the record now describes v2
    expect((await c.stats()).totalBytes).toBe(600); // v1's chunks still there
    await c.putChunk(v2.manifest, 1, v2.blobs[1]!);
    await c.putChunk(v2.manifest, 2, v2.blobs[2]!);
    await c.complete(v2.manifest);
    expect(await c.has(v2.manifest)).toBe(true);
    expect((await c.stats()).totalBytes).toBe(v2.manifest.totalBytes); // stale v1 chunks dropped
  });

  it('deletes stale chunks first when the quota cannot hold both versions', async () => {
    // A quota of 600 bytes whose usage is what the cache holds.
    const c: ModelCache = cache({
      storage: { estimate: async () => ({ usage: (await c.stats()).totalBytes, quota: 600 }) },
    });
    const v1 = model('q', '1', [200, 200], 1);
    await store(c, v1);
    const v2 = model('q', '2', [200, 250], 5);
    await c.open(v2.manifest);
    expect((await c.stats()).totalBytes).toBe(0);
  });

  it('fails early with QUOTA_EXCEEDED stating needed vs available, changing nothing', async () => {
    const c = cache({ storage: quota(1000) });
    const m = model('big', '1', [800, 800]);
    const error = await c.open(m.manifest).catch((e) => e);
    expect(error).toMatchObject({
      code: 'QUOTA_EXCEEDED',
      neededBytes: 1600,
      availableBytes: 1000,
    });
    expect(error.message).toMatch(/needs 0\.0 MiB more, 0\.0 MiB available|needs .* available/);
    expect(await c.list()).toEqual([]);
  });

  it('maps a quota error in the middle of a write to QUOTA_EXCEEDED and stays consistent', async () => {
    const c = cache({ storage: quota(10_000) });
    const m = model('w', '1', [100, 200]);
    await c.open(m.manifest);
    await c.putChunk(m.manifest, 0, m.blobs[0]!);
    const restore = refuseWrites(c);
    await expect(c.putChunk(m.manifest, 1, m.blobs[1]!)).rejects.toMatchObject({
      code: 'QUOTA_EXCEEDED',
      neededBytes: 200,
      writtenBytes: 100,
    });
    await expect(
      c.putSegment(m.manifest, 1, {
        offset: 0,
        data: new Blob([new Uint8Array(50)]),
        hashState: new Uint8Array(4),
      }),
    ).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED', writtenBytes: 100 });
    restore();
    expect(await c.has(m.manifest)).toBe(false);
    expect(await c.getChunk(m.manifest, 0)).not.toBeNull();
  });

  it('persists segments that several downloads write at once (grouped), each readable after its put resolves', async () => {
    const c = cache({ storage: quota(1e6) });
    const m = model('g', '1', [400, 400, 400], 5);
    await c.open(m.manifest);
    const put = (i: number, from: number) =>
      c.putSegment(m.manifest, i, {
        offset: from,
        data: m.blobs[i]!.slice(from, from + 100),
        hashState: new Uint8Array([i, from / 100]),
      });
    // Four segments of three chunks, all in flight together, as three downloads write them.
    await Promise.all(
      [0, 1, 2].map((i) =>
        [0, 100, 200, 300].reduce((p, at) => p.then(() => put(i, at)), Promise.resolve()),
      ),
    );
    for (const i of [0, 1, 2]) {
      const partial = await c.getPartial(m.manifest, i);
      expect(partial).toMatchObject({ bytes: 400, hashState: new Uint8Array([i, 3]) });
      expect(new Uint8Array(await new Blob(partial!.segments).arrayBuffer())).toEqual(
        new Uint8Array(await m.blobs[i]!.arrayBuffer()),
      );
    }
    expect((await c.stats()).totalBytes).toBe(1200);
    // A refused transaction fails each write in it with the error of its own chunk.
    await c.dropPartial(m.manifest, 2);
    const restore = refuseWrites(c);
    await Promise.resolve();
    const refused = await Promise.allSettled([0, 1].map((i) => put(i, 0)));
    restore();
    refused.forEach((r, i) => {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toMatchObject({
        code: 'QUOTA_EXCEEDED',
        message: expect.stringContaining(`(chunk ${i})`),
      });
    });
    await expect(put(2, 0)).resolves.toBeUndefined();
  });

  it('evicts least-recently-used models down to keepBytes, deletes and clears', async () => {
    const c = cache();
    const a = model('a', '1', [100]);
    const b = model('b', '1', [200], 3);
    const d = model('d', '1', [300], 7);
    await store(c, a);
    await store(c, b);
    await store(c, d);
    await new Promise((r) => setTimeout(r, 5));
    await c.getBlobs(a.manifest); // a is now the most recently used
    expect(await c.evict({ keepBytes: 400 })).toEqual(['b']);
    expect((await c.list()).map((m) => m.id).sort()).toEqual(['a', 'd']);
    await c.delete('d');
    expect((await c.stats()).totalBytes).toBe(100);
    await c.clear();
    expect(await c.stats()).toEqual({ models: [], totalBytes: 0 });
  });

  it('serialises loads of the same model with Web Locks, and runs without them', async () => {
    const c = cache({ locks: fakeLocks() });
    const m = model('l', '1', [10]);
    const order: string[] = [];
    await Promise.all([
      c.lock(m.manifest, async () => {
        order.push('first:start');
        await new Promise((r) => setTimeout(r, 20));
        order.push('first:end');
      }),
      c.lock(m.manifest, async () => void order.push('second'), {
        onWait: () => order.push('waiting'),
      }),
    ]);
    expect(order.filter((o) => o !== 'waiting')).toEqual(['first:start', 'first:end', 'second']);
    expect(order.indexOf('waiting')).toBeLessThan(order.indexOf('first:end'));
    expect(await cache().withModelLock(m.manifest, async () => 7)).toBe(7);
  });

  it('a tab waiting for the lock stops waiting when its signal aborts', async () => {
    const c = cache({ locks: fakeLocks() });
    const m = model('l', '1', [10]);
    let release = () => undefined as void;
    const holder = c.lock(m.manifest, () => new Promise<void>((r) => (release = r)));
    await new Promise((r) => setTimeout(r, 5));
    const abort = new AbortController();
    const waiting = c.lock(m.manifest, async () => 'ran', { signal: abort.signal });
    setTimeout(() => abort.abort(new Error('user cancelled')), 10);
    await expect(waiting).rejects.toThrow('user cancelled');
    release();
    await holder;
  });

  it('persist() and estimate() wrap navigator.storage', async () => {
    const c = cache({
      storage: { estimate: async () => ({ usage: 10, quota: 110 }), persist: async () => true },
    });
    expect(await c.persist()).toBe(true);
    expect(await c.estimate()).toEqual({ usage: 10, quota: 110, available: 100 });
  });

  it('persists segments of a chunk, resumes them in order, and drops them with the chunk', async () => {
    const c = cache();
    const m = model('p', '1', [300]);
    await c.open(m.manifest);
    const seg = (from: number, to: number) => ({
      offset: from,
      data: m.blobs[0]!.slice(from, to),
      hashState: new Uint8Array([to & 0xff]),
    });
    await c.putSegment(m.manifest, 0, seg(0, 100));
    await c.putSegment(m.manifest, 0, seg(100, 200));
    const partial = await c.getPartial(m.manifest, 0);
    expect(partial).toMatchObject({ bytes: 200, hashState: new Uint8Array([200]) });
    expect(partial!.segments).toHaveLength(2);
    expect((await c.list())[0]).toMatchObject({ bytes: 0, partialBytes: 200 });
    expect((await c.stats()).totalBytes).toBe(200);
    await c.putChunk(m.manifest, 0, m.blobs[0]!);
    expect(await c.getPartial(m.manifest, 0)).toBeNull();
    expect((await c.stats()).totalBytes).toBe(300);
  });

  it('commits a chunk from its segments without a second copy; sizes, sweeps and deletes agree', async () => {
    const c = cache();
    const m = model('c', '1', [300, 50]);
    await c.open(m.manifest);
    const seg = (i: number, from: number, to: number) =>
      c.putSegment(m.manifest, i, {
        offset: from,
        data: m.blobs[i]!.slice(from, to),
        hashState: new Uint8Array(0),
      });
    await seg(0, 0, 128);
    await seg(0, 128, 256);
    await seg(0, 256, 300);
    await c.commitSegments(m.manifest, 0);
    const back = await c.getChunk(m.manifest, 0);
    expect(new Uint8Array(await back!.arrayBuffer())).toEqual(
      new Uint8Array(await m.blobs[0]!.arrayBuffer()),
    );
    // Counted once, as a stored chunk, not as partial segments too.
    expect((await c.list())[0]).toMatchObject({ bytes: 300, partialBytes: 0, chunksStored: 1 });
    expect((await c.stats()).totalBytes).toBe(300);
    expect(await c.sweep()).toBe(0);
    expect(await c.getChunk(m.manifest, 0)).not.toBeNull();
    await c.putChunk(m.manifest, 1, m.blobs[1]!);
    await c.complete(m.manifest);
    expect(await c.has(m.manifest)).toBe(true);
    expect((await c.getBlobs(m.manifest)).map((b) => b.size)).toEqual([300, 50]);
    // A version bump that drops the chunk frees its bytes once.
    const v2 = model('c', '2', [10], 7);
    await c.clear();
    await c.open(m.manifest);
    await seg(0, 0, 300);
    await c.commitSegments(m.manifest, 0);
    await c.open(v2.manifest);
    expect((await c.stats()).totalBytes).toBe(0);
    await c.delete('c');
    expect((await c.stats()).totalBytes).toBe(0);
  });

  it('refuses to commit segments that do not cover the chunk, and drops a damaged committed chunk', async () => {
    const c = cache();
    const m = model('d', '1', [300]);
    await c.open(m.manifest);
    const seg = (from: number, to: number) =>
      c.putSegment(m.manifest, 0, {
        offset: from,
        data: m.blobs[0]!.slice(from, to),
        hashState: new Uint8Array(0),
      });
    await seg(0, 100);
    await expect(c.commitSegments(m.manifest, 0)).rejects.toMatchObject({
      code: 'INVALID_CHUNK',
      message: expect.stringContaining('cover 100 of its 300 bytes'),
    });
    expect(await c.getChunk(m.manifest, 0)).toBeNull();
    await seg(100, 300);
    await c.commitSegments(m.manifest, 0);
    // One segment record lost (a damaged store): the chunk is forgotten, not served short.
    const db = await (c as unknown as { database(): Promise<IDBPDatabaseLike> }).database();
    await db.delete('segments', ['d', m.manifest.chunks[0]!.sha256, 100]);
    expect(await c.getChunk(m.manifest, 0)).toBeNull();
    expect((await c.stats()).totalBytes).toBe(0);
    // dropPartial forgets a committed chunk with its segments (the loader restarts it).
    await seg(0, 300);
    await c.commitSegments(m.manifest, 0);
    await c.dropPartial(m.manifest, 0);
    expect(await c.getChunk(m.manifest, 0)).toBeNull();
    expect((await c.stats()).totalBytes).toBe(0);
  });

  it('keeps only the contiguous start of damaged partial segments', async () => {
    const c = cache();
    const m = model('g', '1', [300]);
    await c.open(m.manifest);
    const at = (offset: number, n: number) => ({
      offset,
      data: new Blob([new Uint8Array(n)]),
      hashState: new Uint8Array([offset]),
    });
    await c.putSegment(m.manifest, 0, at(0, 50));
    await c.putSegment(m.manifest, 0, at(80, 50)); // a gap: 50..80 is missing
    expect(await c.getPartial(m.manifest, 0)).toMatchObject({ bytes: 50 });
    expect((await c.stats()).totalBytes).toBe(50);
    await c.dropPartial(m.manifest, 0);
    expect(await c.getPartial(m.manifest, 0)).toBeNull();
  });

  it('sweeps what no model references: an interrupted version bump leaves nothing behind', async () => {
    const c = cache();
    const v1 = model('s', '1', [100, 100]);
    await store(c, v1);
    // Version 2 shares nothing with 1; its download stops after one chunk and a segment.
    const v2 = model('s', '2', [100, 100], 9);
    await c.open(v2.manifest);
    await c.putChunk(v2.manifest, 0, v2.blobs[0]!);
    await c.putSegment(v2.manifest, 1, {
      offset: 0,
      data: v2.blobs[1]!.slice(0, 40),
      hashState: new Uint8Array(1),
    });
    // The page goes away; the app now ships version 3.
    const v3 = model('s', '3', [100], 20);
    await c.open(v3.manifest);
    const stats = await c.stats();
    const listed = (await c.list()).reduce((s, m) => s + m.bytes + m.partialBytes, 0);
    expect(stats.totalBytes).toBe(listed);
    expect(await c.getPartial(v2.manifest, 1)).toBeNull();
  });

  it("complete() marks the model complete and drops the old version's chunks at once: a tab that dies in between leaves neither half (issue 28, bug 4)", async () => {
    const name = `test-${++n}`;
    const c = new ModelCache({ dbName: name });
    const v1 = model('k', '1', [100, 200]);
    await store(c, v1);
    const v2 = model('k', '2', [100, 250], 7);
    await c.open(v2.manifest);
    for (const [i, b] of v2.blobs.entries()) await c.putChunk(v2.manifest, i, b);
    // The tab dies right after the model record is written complete: every later read-write
    // transaction fails (as the fault-sequence test's crash point does in Chromium).
    const proto = globalThis.IDBObjectStore.prototype;
    const realPut = proto.put;
    const db = await (
      c as unknown as { db: Promise<{ transaction: (...a: unknown[]) => unknown }> }
    ).db;
    const realTransaction = db.transaction.bind(db);
    let completed = false;
    proto.put = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      if (this.name === 'models' && (value as { complete?: boolean })?.complete) completed = true;
      return key === undefined ? realPut.call(this, value) : realPut.call(this, value, key);
    };
    db.transaction = (names: unknown, mode?: unknown) => {
      if (completed && mode === 'readwrite')
        throw new DOMException('simulated crash: the tab is gone', 'UnknownError');
      return realTransaction(names, mode);
    };
    try {
      await c.complete(v2.manifest).catch(() => undefined);
    } finally {
      proto.put = realPut;
      db.transaction = realTransaction;
    }
    await c.close();
    // The next page: a cache hit (no open(), so no sweep) must find the store consistent.
    const again = new ModelCache({ dbName: name });
    expect(await again.has(v2.manifest)).toBe(true);
    const listed = (await again.list()).reduce((s, m) => s + m.bytes + m.partialBytes, 0);
    expect((await again.stats()).totalBytes).toBe(listed);
    expect(listed).toBe(v2.manifest.totalBytes);
    await again.close();
  });

  it('remembers a verified version the runtime refused, until it is deleted', async () => {
    const c = cache();
    const m = model('u', '1', [10]);
    await store(c, m);
    expect(await c.unloadableReason(m.manifest)).toBeNull();
    await c.markUnloadable(m.manifest, 'llama_model_load: error loading model: bad magic');
    expect(await c.unloadableReason(m.manifest)).toContain('bad magic');
    expect((await c.list())[0]!.unloadable).toContain('bad magic');
    expect(await c.unloadableReason(model('u', '2', [10], 5).manifest)).toBeNull();
    await c.delete('u');
    expect(await c.unloadableReason(m.manifest)).toBeNull();
  });
});
