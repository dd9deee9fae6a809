import type { IDBPDatabase } from 'idb';
import { estimateStorage, type StorageEstimateResult } from './estimate-storage.js';
import { isQuotaError, mib, ModelCacheError } from './errors.js';
import { GroupCommit } from './group-commit.js';
import { openDatabase } from './open-database.js';
import type {
  CacheManifest,
  CacheSchema,
  ChunkRecord,
  ModelRecord,
  SegmentRecord,
} from './schema.js';

/** A chunk's persisted download progress (model-loader's `PartialChunk`). */
export interface PartialChunk {
  bytes: number;
  hashState: Uint8Array;
  segments: Blob[];
}

/** Web Locks as the cache uses them. */
interface Locks {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
  request<T>(
    name: string,
    options: { ifAvailable?: boolean; signal?: AbortSignal },
    callback: (lock: unknown) => Promise<T>,
  ): Promise<T>;
}

/** Browser services the cache uses; injectable for tests. */
export interface ModelCacheOptions {
  /** IndexedDB database name (default `tea-llm-cache`). */
  dbName?: string;
  /** `navigator.storage` (estimate, persist). */
  storage?: {
    estimate(): Promise<{ usage?: number; quota?: number }>;
    persist?(): Promise<boolean>;
  };
  /** `navigator.locks`; without it, `lock` runs the callback without a lock. */
  locks?: Locks;
  /** How long an open blocked by another tab may wait (ms, default 10 000). */
  blockedTimeoutMs?: number;
}

/** One model as `stats()` and `list()` report it. */
export interface CachedModelInfo {
  id: string;
  version: string;
  /** Bytes of this model's chunks present in the store. */
  bytes: number;
  /** Bytes of chunks still downloading, persisted in segments (a reload resumes after them). */
  partialBytes: number;
  /** Why the runtime refused this version after it verified, if it did. */
  unloadable?: string;
  totalBytes: number;
  chunksStored: number;
  chunksTotal: number;
  complete: boolean;
  createdAt: number;
  lastUsedAt: number;
}

/** What the cache holds. */
export interface CacheStats {
  models: CachedModelInfo[];
  /** Bytes of all chunks and partial segments in the store. */
  totalBytes: number;
}

const sameModel = (r: ModelRecord, m: CacheManifest) =>
  r.version === m.model.version &&
  r.chunkHashes.length === m.chunks.length &&
  r.chunkHashes.every((h, i) => h === m.chunks[i]!.sha256);

/**
 * The IndexedDB model store. Satisfies model-loader's `ChunkStore` structurally (`open`,
 * `getChunk`, `putChunk`, `complete`). Never reports a model complete unless every chunk is
 * present with the manifest's size.
 */
export class ModelCache {
  private db: Promise<IDBPDatabase<CacheSchema>> | undefined;
  readonly dbName: string;
  /** Segments of concurrent downloads, written together (one transaction per batch). */
  private readonly segmentWrites = new GroupCommit<SegmentRecord>(async (records) => {
    const tx = (await this.database()).transaction('segments', 'readwrite');
    await Promise.all([...records.map((r) => tx.store.put(r)), tx.done]);
  });

  constructor(private readonly options: ModelCacheOptions = {}) {
    this.dbName = options.dbName ?? 'tea-llm-cache';
  }

  private database(): Promise<IDBPDatabase<CacheSchema>> {
    const open = () =>
      openDatabase(this.dbName, () => (this.db = undefined), this.options.blockedTimeoutMs);
    // An open that the browser aborts because the database is being deleted meanwhile ("Clear
    // site data", deleteDatabase in another tab) succeeds when asked again.
    this.db ??= open()
      .catch((e: unknown) => {
        if ((e as { cause?: { name?: string } }).cause?.name === 'AbortError') return open();
        throw e;
      })
      .catch((e: unknown) => {
        this.db = undefined;
        throw e;
      });
    return this.db;
  }

  private storage() {
    return (
      this.options.storage ??
      (globalThis as { navigator?: { storage?: ModelCacheOptions['storage'] } }).navigator?.storage
    );
  }

  /** `navigator.storage.estimate()` with numbers that are always there. */
  estimate(): Promise<StorageEstimateResult> {
    return estimateStorage(this.storage());
  }

  /** Asks the browser to keep this origin's data under storage pressure; true when granted. */
  async persist(): Promise<boolean> {
    return (await this.storage()?.persist?.()) ?? false;
  }

  /**
   * Registers `manifest` before a download: a stored model of the same id with another version
   * or other chunk hashes is invalidated (its chunks shared with the new one are kept). Policy:
   * the old complete version stays until the new one is complete when the quota allows both;
   * otherwise its stale chunks are deleted first. Fails early with `QUOTA_EXCEEDED` (needed vs
   * available) when the missing chunks cannot fit.
   */
  async open(manifest: CacheManifest): Promise<void> {
    const db = await this.database();
    const id = manifest.model.id;
    const existing = await db.get('models', id);
    const present = new Set(
      (await db.getAllKeysFromIndex('chunks', 'by-model', id)).map((k) => k[1]),
    );
    const missing = manifest.chunks
      .filter((c) => !present.has(c.sha256))
      .reduce((s, c) => s + c.bytes, 0);
    let available = Number.POSITIVE_INFINITY;
    if (missing > 0 && this.storage()) available = (await this.estimate()).available;
    const now = Date.now();
    if (existing && sameModel(existing, manifest)) {
      if (missing > available) throw this.quota(missing, available, id);
      await this.sweep();
      return;
    }
    const wanted = new Set(manifest.chunks.map((c) => c.sha256));
    const stale = existing ? existing.chunkHashes.filter((h) => !wanted.has(h)) : [];
    const keepOld = existing?.complete === true && missing <= available;
    const freed = keepOld ? 0 : await this.bytesOf(id, stale);
    // Fail before changing anything when even deleting the stale chunks would not make room.
    if (missing > available + freed) throw this.quota(missing, available + freed, id);
    if (!keepOld && stale.length > 0) await this.deleteChunks(id, stale);
    await db.put('models', {
      id,
      version: manifest.model.version,
      manifest: structuredCloneManifest(manifest),
      chunkHashes: manifest.chunks.map((c) => c.sha256),
      totalBytes: manifest.totalBytes,
      complete: false,
      ...(keepOld && existing
        ? { previous: { version: existing.version, chunkHashes: existing.chunkHashes } }
        : {}),
      createdAt: existing?.createdAt ?? now,
      lastUsedAt: now,
    });
    await this.sweep();
  }

  /**
   * Deletes, in one transaction, every chunk and partial segment that no model record references
   * (left by an interrupted version bump, a deleted model, or a chunk that completed), so that
   * `stats()` and `list()` agree. Runs on `open` and `complete`; returns the bytes freed.
   */
  async sweep(): Promise<number> {
    const db = await this.database();
    const tx = db.transaction(['models', 'chunks', 'segments'], 'readwrite');
    const wanted = new Set<string>();
    for (const m of await tx.objectStore('models').getAll())
      for (const h of [...m.chunkHashes, ...(m.previous?.chunkHashes ?? [])])
        wanted.add(`${m.id}\n${h}`);
    let freed = 0;
    // Segments stay while their chunk downloads, or when they are the (committed) chunk; a chunk
    // stored as a Blob makes them leftovers.
    const committed = new Set<string>();
    const storedWhole = new Set<string>();
    let chunk = await tx.objectStore('chunks').openCursor();
    while (chunk) {
      const key = `${chunk.value.modelId}\n${chunk.value.sha256}`;
      if (chunk.value.segments) committed.add(key);
      else if (wanted.has(key)) storedWhole.add(key);
      if (!wanted.has(key)) {
        freed += chunk.value.bytes;
        await chunk.delete();
      }
      chunk = await chunk.continue();
    }
    let segment = await tx.objectStore('segments').openCursor();
    while (segment) {
      const key = `${segment.value.modelId}\n${segment.value.sha256}`;
      if (!wanted.has(key) || storedWhole.has(key)) {
        // A committed chunk's segments are its bytes, counted with its record.
        if (!committed.has(key)) freed += segment.value.bytes;
        await segment.delete();
      }
      segment = await segment.continue();
    }
    await tx.done;
    return freed;
  }

  /** Bytes of `id` in the store: verified chunks and partial segments. */
  private async storedBytes(id: string): Promise<number> {
    const db = await this.database();
    const chunks = await db.getAllFromIndex('chunks', 'by-model', id);
    const partial = partialSegments(chunks, await db.getAllFromIndex('segments', 'by-model', id));
    return sum(chunks) + sum(partial);
  }

  /** Persists a segment of chunk `index` still downloading (model-loader's durable partials). */
  async putSegment(
    manifest: CacheManifest,
    index: number,
    segment: { offset: number; data: Blob; hashState: Uint8Array },
  ): Promise<void> {
    const chunk = manifest.chunks[index];
    if (!chunk || segment.offset + segment.data.size > chunk.bytes)
      throw new ModelCacheError(
        'INVALID_CHUNK',
        `segment at ${segment.offset} of chunk ${index} of "${manifest.model.id}" is outside the chunk`,
      );
    // Opened here, so that a database that cannot open fails as it does everywhere else, not
    // as a write error.
    await this.database();
    try {
      await this.segmentWrites.put({
        modelId: manifest.model.id,
        sha256: chunk.sha256,
        offset: segment.offset,
        bytes: segment.data.size,
        data: segment.data,
        hashState: segment.hashState,
        storedAt: Date.now(),
      });
    } catch (cause) {
      throw await this.writeError(cause, manifest, index, segment.data.size);
    }
  }

  /** The persisted start of chunk `index` (contiguous segments from 0), or null. */
  async getPartial(manifest: CacheManifest, index: number): Promise<PartialChunk | null> {
    const chunk = manifest.chunks[index];
    if (!chunk) return null;
    const db = await this.database();
    const { sorted, run, bytes } = contiguousRun(
      await db.getAllFromIndex('segments', 'by-chunk', [manifest.model.id, chunk.sha256]),
    );
    // A gap or a damaged record: keep what is contiguous before it.
    if (run < sorted.length) {
      const tx = db.transaction('segments', 'readwrite');
      await Promise.all([
        ...sorted.slice(run).map((r) => tx.store.delete([r.modelId, r.sha256, r.offset])),
        tx.done,
      ]);
    }
    if (bytes === 0 || bytes > chunk.bytes) return null;
    const segments = sorted.slice(0, run).map((r) => r.data);
    return { bytes, hashState: sorted[run - 1]!.hashState, segments };
  }

  /** Forgets chunk `index`'s partial segments (and a chunk committed from them). */
  async dropPartial(manifest: CacheManifest, index: number): Promise<void> {
    const chunk = manifest.chunks[index];
    if (!chunk) return;
    await this.deleteChunks(manifest.model.id, [chunk.sha256], { onlyCommitted: true });
  }

  /** Records that the runtime refused this verified version: later loads report `MODEL_INVALID`. */
  async markUnloadable(manifest: CacheManifest, reason: string): Promise<void> {
    const db = await this.database();
    const record = await db.get('models', manifest.model.id);
    if (record && sameModel(record, manifest))
      await db.put('models', { ...record, unloadable: reason.slice(0, 500) });
  }

  /** The manifest model `modelId` was stored for (with its chunk hashes), or null. */
  async storedManifest(modelId: string): Promise<CacheManifest | null> {
    const record = await (await this.database()).get('models', modelId);
    return record?.manifest ?? null;
  }

  /** Why this exact version was marked unloadable, or null. */
  async unloadableReason(manifest: CacheManifest): Promise<string | null> {
    const db = await this.database();
    const record = await db.get('models', manifest.model.id);
    return record && sameModel(record, manifest) ? (record.unloadable ?? null) : null;
  }

  /**
   * A write that failed: `QUOTA_EXCEEDED` (bytes of the model written and still needed; the
   * loader stops at once and drops the chunk's partial segments) or `DB_ERROR`.
   */
  private async writeError(
    cause: unknown,
    manifest: CacheManifest,
    index: number,
    size: number,
  ): Promise<ModelCacheError> {
    if (!isQuotaError(cause))
      return new ModelCacheError(
        'DB_ERROR',
        `storing chunk ${index} failed: ${(cause as Error).message}`,
        { cause },
      );
    const written = await this.storedBytes(manifest.model.id).catch(() => 0);
    const needed = Math.max(size, manifest.totalBytes - written);
    const { available } = await this.estimate().catch(() => ({ available: 0 }));
    return new ModelCacheError(
      'QUOTA_EXCEEDED',
      `the browser refused to store more of model "${manifest.model.id}" (chunk ${index}): ${mib(written)} of ${mib(manifest.totalBytes)} are stored, ${mib(needed)} more are needed (the browser estimates ${mib(available)} free; free space or call navigator.storage.persist())`,
      { cause, neededBytes: needed, availableBytes: available, writtenBytes: written },
    );
  }

  private quota(needed: number, available: number, id: string): ModelCacheError {
    return new ModelCacheError(
      'QUOTA_EXCEEDED',
      `not enough storage for model "${id}": needs ${mib(needed)} more, ${mib(available)} available`,
      { neededBytes: needed, availableBytes: available },
    );
  }

  private async bytesOf(id: string, hashes: string[]): Promise<number> {
    const db = await this.database();
    let bytes = 0;
    for (const h of hashes) bytes += (await db.get('chunks', [id, h]))?.bytes ?? 0;
    return bytes;
  }

  /** The stored chunk `index` of `manifest` (matched by SHA-256), or null; a record whose size does not match is dropped. */
  async getChunk(manifest: CacheManifest, index: number): Promise<Blob | null> {
    const chunk = manifest.chunks[index];
    if (!chunk) return null;
    const db = await this.database();
    const record = await db.get('chunks', [manifest.model.id, chunk.sha256]);
    if (!record) return null;
    const data = record.segments
      ? await this.committedSegments(manifest.model.id, chunk.sha256, record.segments)
      : record.data;
    if (!(data instanceof Blob) || data.size !== chunk.bytes || record.bytes !== chunk.bytes) {
      // Corrupt: forget it (and its segments), so that the loader fetches it again.
      await this.deleteChunks(manifest.model.id, [chunk.sha256]);
      return null;
    }
    return data;
  }

  /** A committed chunk's segments joined in one Blob (parts, not a copy), or null if damaged. */
  private async committedSegments(
    modelId: string,
    sha256: string,
    count: number,
  ): Promise<Blob | null> {
    const db = await this.database();
    const { sorted, run } = contiguousRun(
      await db.getAllFromIndex('segments', 'by-chunk', [modelId, sha256]),
    );
    if (sorted.length !== count || run !== count) return null;
    return new Blob(sorted.map((r) => r.data));
  }

  /**
   * Makes chunk `index`'s persisted segments (verified by the loader to be exactly the chunk) the
   * stored chunk, in one transaction, without writing the bytes again.
   * @throws {ModelCacheError} `INVALID_CHUNK` when the segments do not cover the chunk exactly.
   */
  async commitSegments(manifest: CacheManifest, index: number): Promise<void> {
    const chunk = manifest.chunks[index];
    if (!chunk)
      throw new ModelCacheError(
        'INVALID_CHUNK',
        `chunk ${index} is not in the manifest of "${manifest.model.id}"`,
      );
    const db = await this.database();
    const tx = db.transaction(['chunks', 'segments'], 'readwrite');
    const { sorted: records, bytes: offset } = contiguousRun(
      await tx.objectStore('segments').index('by-chunk').getAll([manifest.model.id, chunk.sha256]),
    );
    if (offset !== chunk.bytes || records.length === 0) {
      tx.abort();
      await tx.done.catch(() => undefined);
      throw new ModelCacheError(
        'INVALID_CHUNK',
        `cannot store chunk ${index} of "${manifest.model.id}" from its segments: they cover ${offset} of its ${chunk.bytes} bytes`,
      );
    }
    await Promise.all([
      tx.objectStore('chunks').put({
        modelId: manifest.model.id,
        sha256: chunk.sha256,
        bytes: chunk.bytes,
        segments: records.length,
        storedAt: Date.now(),
      }),
      tx.done,
    ]);
  }

  /** Stores chunk `index` (already verified by the loader) in its own transaction. */
  async putChunk(manifest: CacheManifest, index: number, data: Blob): Promise<void> {
    const chunk = manifest.chunks[index];
    if (!chunk)
      throw new ModelCacheError(
        'INVALID_CHUNK',
        `chunk ${index} is not in the manifest of "${manifest.model.id}"`,
      );
    if (data.size !== chunk.bytes) {
      throw new ModelCacheError(
        'INVALID_CHUNK',
        `chunk ${index} of "${manifest.model.id}" is ${data.size} bytes, the manifest says ${chunk.bytes}`,
      );
    }
    const db = await this.database();
    const record: ChunkRecord = {
      modelId: manifest.model.id,
      sha256: chunk.sha256,
      bytes: chunk.bytes,
      data,
      storedAt: Date.now(),
    };
    try {
      // The chunk and the end of its partial segments, in one transaction.
      const keys = await db.getAllKeysFromIndex('segments', 'by-chunk', [
        manifest.model.id,
        chunk.sha256,
      ]);
      const tx = db.transaction(['chunks', 'segments'], 'readwrite');
      await Promise.all([
        tx.objectStore('chunks').put(record),
        ...keys.map((k) => tx.objectStore('segments').delete(k)),
        tx.done,
      ]);
    } catch (cause) {
      throw await this.writeError(cause, manifest, index, chunk.bytes);
    }
  }

  /**
   * Marks the model complete after checking every chunk is present with its size, and drops the
   * previous version's stale chunks in the same transaction: a tab that dies in between can
   * never leave them behind a complete model, which a cache hit reads without `open()` (and so
   * without a sweep) (issue 28, bug 4).
   */
  async complete(manifest: CacheManifest): Promise<void> {
    const db = await this.database();
    const id = manifest.model.id;
    for (const [i, c] of manifest.chunks.entries()) {
      const record = await db.get('chunks', [id, c.sha256]);
      const size = record?.segments ? record.bytes : record?.data?.size;
      if (!record || record.bytes !== c.bytes || size !== c.bytes) {
        throw new ModelCacheError(
          'INVALID_CHUNK',
          `cannot mark "${id}" complete: chunk ${i} is missing or has the wrong size`,
        );
      }
    }
    const tx = db.transaction(['models', 'chunks', 'segments'], 'readwrite');
    const done = tx.done;
    try {
      const models = tx.objectStore('models');
      const record = await models.get(id);
      if (!record || !sameModel(record, manifest))
        throw new ModelCacheError(
          'NOT_FOUND',
          `model "${id}" version ${manifest.model.version} was not opened in the cache`,
        );
      const wanted = new Set(record.chunkHashes);
      const stale = record.previous?.chunkHashes.filter((h) => !wanted.has(h)) ?? [];
      const { previous: _previous, ...rest } = record;
      await models.put({ ...rest, complete: true, lastUsedAt: Date.now() });
      const chunks = tx.objectStore('chunks');
      const segments = tx.objectStore('segments');
      for (const h of stale) {
        await chunks.delete([id, h]);
        for (const key of await segments.index('by-chunk').getAllKeys([id, h]))
          await segments.delete(key);
      }
    } catch (error) {
      try {
        tx.abort();
      } catch {
        // Already ended.
      }
      await done.catch(() => undefined);
      throw error;
    }
    await done;
    await this.sweep();
  }

  /** Whether exactly this model version is complete in the cache. */
  async has(manifest: CacheManifest): Promise<boolean> {
    const db = await this.database();
    const record = await db.get('models', manifest.model.id);
    if (!record?.complete || !sameModel(record, manifest)) return false;
    const present = new Set(
      (await db.getAllKeysFromIndex('chunks', 'by-model', manifest.model.id)).map((k) => k[1]),
    );
    return manifest.chunks.every((c) => present.has(c.sha256));
  }

  /** The chunks of a complete model as Blobs, in manifest order (no network). @throws `NOT_FOUND`. */
  async getBlobs(manifest: CacheManifest): Promise<Blob[]> {
    if (!(await this.has(manifest)))
      throw new ModelCacheError(
        'NOT_FOUND',
        `model "${manifest.model.id}" version ${manifest.model.version} is not complete in the cache`,
      );
    const blobs: Blob[] = [];
    for (let i = 0; i < manifest.chunks.length; i++) {
      const blob = await this.getChunk(manifest, i);
      if (!blob)
        throw new ModelCacheError(
          'NOT_FOUND',
          `chunk ${i} of "${manifest.model.id}" is missing or corrupt; load the model again to repair it`,
        );
      blobs.push(blob);
    }
    await this.touch(manifest.model.id);
    return blobs;
  }

  private async touch(id: string): Promise<void> {
    const db = await this.database();
    const record = await db.get('models', id);
    if (record) await db.put('models', { ...record, lastUsedAt: Date.now() });
  }

  /** Every model in the cache, with what is stored of it. */
  async list(): Promise<CachedModelInfo[]> {
    const db = await this.database();
    const models = await db.getAll('models');
    const infos: CachedModelInfo[] = [];
    for (const m of models) {
      const chunks = await db.getAllFromIndex('chunks', 'by-model', m.id);
      const mine = new Set(m.chunkHashes);
      const stored = chunks.filter((c) => mine.has(c.sha256));
      const partial = partialSegments(
        chunks,
        await db.getAllFromIndex('segments', 'by-model', m.id),
      ).filter((p) => mine.has(p.sha256));
      infos.push({
        id: m.id,
        version: m.version,
        bytes: stored.reduce((s, c) => s + c.bytes, 0),
        partialBytes: partial.reduce((s, p) => s + p.bytes, 0),
        ...(m.unloadable ? { unloadable: m.unloadable } : {}),
        totalBytes: m.totalBytes,
        chunksStored: stored.length,
        chunksTotal: m.chunkHashes.length,
        complete: m.complete,
        createdAt: m.createdAt,
        lastUsedAt: m.lastUsedAt,
      });
    }
    return infos;
  }

  /** Models, their sizes and completeness, and the bytes of every stored chunk. */
  async stats(): Promise<CacheStats> {
    const db = await this.database();
    const models = await this.list();
    const chunks = await db.getAll('chunks');
    const totalBytes = sum(chunks) + sum(partialSegments(chunks, await db.getAll('segments')));
    return { models, totalBytes };
  }

  /** Removes a model and all its chunks. */
  async delete(modelId: string): Promise<void> {
    const db = await this.database();
    const keys = await db.getAllKeysFromIndex('chunks', 'by-model', modelId);
    const segments = await db.getAllKeysFromIndex('segments', 'by-model', modelId);
    const tx = db.transaction(['models', 'chunks', 'segments'], 'readwrite');
    await Promise.all([
      tx.objectStore('models').delete(modelId),
      ...keys.map((k) => tx.objectStore('chunks').delete(k)),
      ...segments.map((k) => tx.objectStore('segments').delete(k)),
      tx.done,
    ]);
  }

  /**
   * Deletes chunks and their segments, in one transaction. `onlyCommitted`: a chunk stored as a
   * Blob is kept (only the download's segments, and a chunk made of them, go).
   */
  private async deleteChunks(
    modelId: string,
    hashes: string[],
    { onlyCommitted = false } = {},
  ): Promise<void> {
    const db = await this.database();
    const tx = db.transaction(['chunks', 'segments'], 'readwrite');
    const chunks = tx.objectStore('chunks');
    const segments = tx.objectStore('segments');
    for (const h of hashes) {
      const record = await chunks.get([modelId, h]);
      if (record && (!onlyCommitted || record.segments)) await chunks.delete([modelId, h]);
      for (const key of await segments.index('by-chunk').getAllKeys([modelId, h]))
        await segments.delete(key);
    }
    await tx.done;
  }

  /** Removes every model. */
  async clear(): Promise<void> {
    const db = await this.database();
    const tx = db.transaction(['models', 'chunks', 'segments'], 'readwrite');
    await Promise.all([
      tx.objectStore('models').clear(),
      tx.objectStore('chunks').clear(),
      tx.objectStore('segments').clear(),
      tx.done,
    ]);
  }

  /** Deletes least-recently-used models until the cache holds at most `keepBytes`; returns their ids. */
  async evict({ keepBytes }: { keepBytes: number }): Promise<string[]> {
    const models = (await this.list()).sort((a, b) => a.lastUsedAt - b.lastUsedAt);
    let total = (await this.stats()).totalBytes;
    const evicted: string[] = [];
    for (const m of models) {
      if (total <= keepBytes) break;
      await this.delete(m.id);
      total -= m.bytes;
      evicted.push(m.id);
    }
    return evicted;
  }

  /**
   * Runs `fn` holding a per-model Web Lock, so two tabs loading the same model do not both
   * download it: the second waits (`onWait` tells it so), then finds it in the cache. The wait
   * ends with the signal's reason when `signal` aborts. Without Web Locks, runs `fn` as is.
   */
  async lock<T>(
    manifest: CacheManifest,
    fn: () => Promise<T>,
    options: { signal?: AbortSignal; onWait?: () => void } = {},
  ): Promise<T> {
    const locks =
      this.options.locks ?? (globalThis as { navigator?: { locks?: Locks } }).navigator?.locks;
    if (!locks) return fn();
    const name = `${this.dbName}:${manifest.model.id}`;
    options.signal?.throwIfAborted();
    const now = await locks.request(name, { ifAvailable: true }, async (held) =>
      held ? { value: await fn() } : null,
    );
    if (now) return now.value;
    options.onWait?.();
    return locks.request(name, options.signal ? { signal: options.signal } : {}, () => fn());
  }

  /** `lock` without a signal (kept for existing callers). */
  withModelLock<T>(manifest: CacheManifest, fn: () => Promise<T>): Promise<T> {
    return this.lock(manifest, fn);
  }

  /** Closes the database connection. */
  async close(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    (await db?.catch(() => undefined))?.close();
  }
}

/** A plain copy of the manifest fields (IndexedDB cannot store functions or class instances). */
function structuredCloneManifest(m: CacheManifest): CacheManifest {
  return JSON.parse(JSON.stringify(m)) as CacheManifest;
}

/** Opens (lazily) the model cache. */
export function openModelCache(options: ModelCacheOptions = {}): ModelCache {
  return new ModelCache(options);
}

const sum = (records: ReadonlyArray<{ bytes: number }>) =>
  records.reduce((total, r) => total + r.bytes, 0);

/** The segments of chunks still downloading (a committed chunk's segments are the chunk). */
function partialSegments<S extends { modelId: string; sha256: string }>(
  chunks: ReadonlyArray<ChunkRecord>,
  segments: S[],
): S[] {
  const committed = new Set(
    chunks.filter((c) => c.segments).map((c) => `${c.modelId}\n${c.sha256}`),
  );
  return segments.filter((s) => !committed.has(`${s.modelId}\n${s.sha256}`));
}

/**
 * A chunk's segment records in offset order, and how many of them from offset 0 are contiguous
 * and intact (a gap or a damaged record ends the run), with their bytes.
 */
function contiguousRun(records: SegmentRecord[]): {
  sorted: SegmentRecord[];
  run: number;
  bytes: number;
} {
  const sorted = [...records].sort((a, b) => a.offset - b.offset);
  let run = 0;
  let bytes = 0;
  for (const r of sorted) {
    if (r.offset !== bytes || !(r.data instanceof Blob) || r.data.size !== r.bytes) break;
    run++;
    bytes += r.bytes;
  }
  return { sorted, run, bytes };
}
