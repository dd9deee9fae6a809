import { ModelCacheError } from './errors.js';

/** What the browser reports about this origin's storage, in bytes. */
export interface StorageEstimateResult {
  /** Bytes this origin uses now. */
  usage: number;
  /** Bytes this origin may use in all. */
  quota: number;
  /** `quota - usage`, never negative: what a download may still write. */
  available: number;
}

interface StorageManagerLike {
  estimate(): Promise<{ usage?: number; quota?: number }>;
}

/**
 * Wraps `navigator.storage.estimate()` with numbers that are always present.
 *
 * @param storage the StorageManager to ask (defaults to `navigator.storage`).
 * @throws {ModelCacheError} `STORAGE_UNAVAILABLE` where the Storage API is missing or fails
 *   (insecure contexts, some private modes).
 */
export async function estimateStorage(
  storage?: StorageManagerLike,
): Promise<StorageEstimateResult> {
  const manager =
    storage ?? (globalThis as { navigator?: { storage?: StorageManagerLike } }).navigator?.storage;
  if (!manager || typeof manager.estimate !== 'function') {
    throw new ModelCacheError(
      'STORAGE_UNAVAILABLE',
      'navigator.storage.estimate() is not available here (it needs a secure context: https or localhost)',
    );
  }
  let estimate: { usage?: number; quota?: number };
  try {
    estimate = await manager.estimate();
  } catch (cause) {
    throw new ModelCacheError('STORAGE_UNAVAILABLE', 'navigator.storage.estimate() failed', {
      cause,
    });
  }
  const usage = estimate.usage ?? 0;
  const quota = estimate.quota ?? 0;
  return { usage, quota, available: Math.max(0, quota - usage) };
}
