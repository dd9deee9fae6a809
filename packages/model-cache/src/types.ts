/** A chunk's persisted download progress (model-loader's `PartialChunk`). */
export interface PartialChunk {
  bytes: number;
  hashState: Uint8Array;
  segments: Blob[];
}

/** Web Locks as the cache uses them. */
export interface Locks {
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
