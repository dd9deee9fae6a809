export { ModelCache, openModelCache } from './model-cache.js';
export type {
  CacheStats,
  CachedModelInfo,
  ModelCacheOptions,
  PartialChunk,
} from './model-cache.js';
export type { CacheManifest, ChunkRecord, ModelRecord, SegmentRecord } from './schema.js';
export { estimateStorage } from './estimate-storage.js';
export type { StorageEstimateResult } from './estimate-storage.js';
export { ModelCacheError } from './errors.js';
export type { ModelCacheErrorCode } from './errors.js';
