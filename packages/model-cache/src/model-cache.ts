import type { IDBPDatabase } from 'idb';
import { getChunk, putChunk } from './chunks.js';
import type { CacheContext } from './context.js';
import { estimateStorage, type StorageEstimateResult } from './estimate-storage.js';
import { evict, sweep } from './eviction.js';
import { clearAll, deleteModel, list, stats } from './inventory.js';
import { withLock } from './locks.js';
import { markUnloadable, unloadableReason } from './marks.js';
import { completeModel, getBlobs, hasModel, openModel, storedManifest } from './models.js';
import { openDatabase } from './open-database.js';
import type { GroupCommit } from './group-commit.js';
import type { CacheManifest, CacheSchema, SegmentRecord } from './schema.js';
import { commitSegments, dropPartial, getPartial, putSegment, segmentWriter } from './segments.js';
import type {
  CacheStats,
  CachedModelInfo,
  Locks,
  ModelCacheOptions,
  PartialChunk,
} from './types.js';

export type { CacheStats, CachedModelInfo, ModelCacheOptions, PartialChunk } from './types.js';

/**
 * The IndexedDB model store. Satisfies model-loader's `ChunkStore` structurally (every method of
 * it; `chunk-store.test-d.test.ts` checks). Never reports a model complete unless every chunk is
 * present with the manifest's size. A facade: each concern is a module of its own (models,
 * chunks, segments, quota, eviction, marks, locks) over one `CacheContext`.
 */
export class ModelCache {
  private db: Promise<IDBPDatabase<CacheSchema>> | undefined;
  readonly dbName: string;
  /** What the modules by concern (models, chunks, segments, quota, eviction, marks, locks) share. */
  private readonly context: CacheContext;
  /** Segments of concurrent downloads, written together (one transaction per batch). */
  private readonly segmentWrites: GroupCommit<SegmentRecord>;

  constructor(private readonly options: ModelCacheOptions = {}) {
    this.dbName = options.dbName ?? 'tea-llm-cache';
    this.context = {
      dbName: this.dbName,
      database: () => this.database(),
      storage: () => this.storage(),
      locks: () =>
        this.options.locks ?? (globalThis as { navigator?: { locks?: Locks } }).navigator?.locks,
    };
    this.segmentWrites = segmentWriter(this.context);
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
  open(manifest: CacheManifest): Promise<void> {
    return openModel(this.context, manifest);
  }

  /**
   * Deletes, in one transaction, every chunk and partial segment that no model record references
   * (left by an interrupted version bump, a deleted model, or a chunk that completed), so that
   * `stats()` and `list()` agree. Runs on `open` and `complete`; returns the bytes freed.
   */
  sweep(): Promise<number> {
    return sweep(this.context);
  }

  /** Persists a segment of chunk `index` still downloading (model-loader's durable partials). */
  putSegment(
    manifest: CacheManifest,
    index: number,
    segment: { offset: number; data: Blob; hashState: Uint8Array },
  ): Promise<void> {
    return putSegment(this.context, this.segmentWrites, manifest, index, segment);
  }

  /** The persisted start of chunk `index` (contiguous segments from 0), or null. */
  getPartial(manifest: CacheManifest, index: number): Promise<PartialChunk | null> {
    return getPartial(this.context, manifest, index);
  }

  /** Forgets chunk `index`'s partial segments (and a chunk committed from them). */
  dropPartial(manifest: CacheManifest, index: number): Promise<void> {
    return dropPartial(this.context, manifest, index);
  }

  /** Records that the runtime refused this verified version: later loads report `MODEL_INVALID`. */
  markUnloadable(manifest: CacheManifest, reason: string): Promise<void> {
    return markUnloadable(this.context, manifest, reason);
  }

  /** The manifest model `modelId` was stored for (with its chunk hashes), or null. */
  storedManifest(modelId: string): Promise<CacheManifest | null> {
    return storedManifest(this.context, modelId);
  }

  /** Why this exact version was marked unloadable, or null. */
  unloadableReason(manifest: CacheManifest): Promise<string | null> {
    return unloadableReason(this.context, manifest);
  }

  /** The stored chunk `index` of `manifest` (matched by SHA-256), or null; a record whose size does not match is dropped. */
  getChunk(manifest: CacheManifest, index: number): Promise<Blob | null> {
    return getChunk(this.context, manifest, index);
  }

  /**
   * Makes chunk `index`'s persisted segments (verified by the loader to be exactly the chunk) the
   * stored chunk, in one transaction, without writing the bytes again.
   * @throws {ModelCacheError} `INVALID_CHUNK` when the segments do not cover the chunk exactly.
   */
  commitSegments(manifest: CacheManifest, index: number): Promise<void> {
    return commitSegments(this.context, manifest, index);
  }

  /** Stores chunk `index` (already verified by the loader) in its own transaction. */
  putChunk(manifest: CacheManifest, index: number, data: Blob): Promise<void> {
    return putChunk(this.context, manifest, index, data);
  }

  /**
   * Marks the model complete after checking every chunk is present with its size, and drops the
   * previous version's stale chunks in the same transaction: a tab that dies in between can
   * never leave them behind a complete model, which a cache hit reads without `open()` (and so
   * without a sweep) (issue 28, bug 4).
   */
  complete(manifest: CacheManifest): Promise<void> {
    return completeModel(this.context, manifest);
  }

  /** Whether exactly this model version is complete in the cache. */
  has(manifest: CacheManifest): Promise<boolean> {
    return hasModel(this.context, manifest);
  }

  /** The chunks of a complete model as Blobs, in manifest order (no network). @throws `NOT_FOUND`. */
  getBlobs(manifest: CacheManifest): Promise<Blob[]> {
    return getBlobs(this.context, manifest);
  }

  /** Every model in the cache, with what is stored of it. */
  list(): Promise<CachedModelInfo[]> {
    return list(this.context);
  }

  /** Models, their sizes and completeness, and the bytes of every stored chunk. */
  stats(): Promise<CacheStats> {
    return stats(this.context);
  }

  /** Removes a model and all its chunks. */
  delete(modelId: string): Promise<void> {
    return deleteModel(this.context, modelId);
  }

  /** Removes every model. */
  clear(): Promise<void> {
    return clearAll(this.context);
  }

  /** Deletes least-recently-used models until the cache holds at most `keepBytes`; returns their ids. */
  evict({ keepBytes }: { keepBytes: number }): Promise<string[]> {
    return evict(this.context, keepBytes);
  }

  /**
   * Runs `fn` holding a per-model Web Lock, so two tabs loading the same model do not both
   * download it: the second waits (`onWait` tells it so), then finds it in the cache. The wait
   * ends with the signal's reason when `signal` aborts. Without Web Locks, runs `fn` as is.
   */
  lock<T>(
    manifest: CacheManifest,
    fn: () => Promise<T>,
    options: { signal?: AbortSignal; onWait?: () => void } = {},
  ): Promise<T> {
    return withLock(this.context, manifest, fn, options);
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

/** Opens (lazily) the model cache. */
export function openModelCache(options: ModelCacheOptions = {}): ModelCache {
  return new ModelCache(options);
}
