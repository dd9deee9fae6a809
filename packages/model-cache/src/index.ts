export { estimateStorage } from './estimate-storage.js';
export type { StorageEstimateResult } from './estimate-storage.js';
export { ModelCacheError } from './errors.js';
export type { ModelCacheErrorCode } from './errors.js';
