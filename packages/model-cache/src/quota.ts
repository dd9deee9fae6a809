import type { CacheContext } from './context.js';
import { isQuotaError, mib, ModelCacheError } from './errors.js';
import { estimateStorage, type StorageEstimateResult } from './estimate-storage.js';
import { partialSegments, sum } from './records.js';
import type { CacheManifest } from './schema.js';

/** `navigator.storage.estimate()` (or the injected storage's) with numbers that are always there. */
export function estimate(ctx: CacheContext): Promise<StorageEstimateResult> {
  return estimateStorage(ctx.storage());
}

/** Bytes a download may still write: unlimited when nothing is missing or there is no storage API. */
export async function availableFor(ctx: CacheContext, missing: number): Promise<number> {
  if (missing > 0 && ctx.storage()) return (await estimate(ctx)).available;
  return Number.POSITIVE_INFINITY;
}

/** `QUOTA_EXCEEDED` before a download: bytes needed vs available. */
export function quotaError(needed: number, available: number, id: string): ModelCacheError {
  return new ModelCacheError(
    'QUOTA_EXCEEDED',
    `not enough storage for model "${id}": needs ${mib(needed)} more, ${mib(available)} available`,
    { neededBytes: needed, availableBytes: available },
  );
}

/** Bytes of `id` in the store: verified chunks and partial segments. */
export async function storedBytes(ctx: CacheContext, id: string): Promise<number> {
  const db = await ctx.database();
  const chunks = await db.getAllFromIndex('chunks', 'by-model', id);
  const partial = partialSegments(chunks, await db.getAllFromIndex('segments', 'by-model', id));
  return sum(chunks) + sum(partial);
}

/** Bytes of the stored chunks `hashes` of model `id`. */
export async function bytesOf(ctx: CacheContext, id: string, hashes: string[]): Promise<number> {
  const db = await ctx.database();
  let bytes = 0;
  for (const h of hashes) bytes += (await db.get('chunks', [id, h]))?.bytes ?? 0;
  return bytes;
}

/**
 * A write that failed: `QUOTA_EXCEEDED` (bytes of the model written and still needed; the
 * loader stops at once and drops the chunk's partial segments) or `DB_ERROR`.
 */
export async function writeError(
  ctx: CacheContext,
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
  const written = await storedBytes(ctx, manifest.model.id).catch(() => 0);
  const needed = Math.max(size, manifest.totalBytes - written);
  const { available } = await estimate(ctx).catch(() => ({ available: 0 }));
  return new ModelCacheError(
    'QUOTA_EXCEEDED',
    `the browser refused to store more of model "${manifest.model.id}" (chunk ${index}): ${mib(written)} of ${mib(manifest.totalBytes)} are stored, ${mib(needed)} more are needed (the browser estimates ${mib(available)} free; free space or call navigator.storage.persist())`,
    { cause, neededBytes: needed, availableBytes: available, writtenBytes: written },
  );
}
