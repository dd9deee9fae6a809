import { deleteChunks, getChunk } from './chunks.js';
import type { CacheContext, CacheDatabase } from './context.js';
import { ModelCacheError } from './errors.js';
import { sweep } from './eviction.js';
import { availableFor, bytesOf, quotaError } from './quota.js';
import { sameModel, structuredCloneManifest } from './records.js';
import type { CacheManifest } from './schema.js';

/** Hashes of the chunks of model `id` present in the store. */
async function presentHashes(db: CacheDatabase, id: string): Promise<Set<string>> {
  return new Set((await db.getAllKeysFromIndex('chunks', 'by-model', id)).map((k) => k[1]));
}

/**
 * Registers `manifest` before a download: a stored model of the same id with another version
 * or other chunk hashes is invalidated (its chunks shared with the new one are kept). Policy:
 * the old complete version stays until the new one is complete when the quota allows both;
 * otherwise its stale chunks are deleted first. Fails early with `QUOTA_EXCEEDED` (needed vs
 * available) when the missing chunks cannot fit.
 */
export async function openModel(ctx: CacheContext, manifest: CacheManifest): Promise<void> {
  const db = await ctx.database();
  const id = manifest.model.id;
  const existing = await db.get('models', id);
  const present = await presentHashes(db, id);
  const missing = manifest.chunks
    .filter((c) => !present.has(c.sha256))
    .reduce((s, c) => s + c.bytes, 0);
  const available = await availableFor(ctx, missing);
  const now = Date.now();
  if (existing && sameModel(existing, manifest)) {
    if (missing > available) throw quotaError(missing, available, id);
    await sweep(ctx);
    return;
  }
  const wanted = new Set(manifest.chunks.map((c) => c.sha256));
  const stale = existing ? existing.chunkHashes.filter((h) => !wanted.has(h)) : [];
  const keepOld = existing?.complete === true && missing <= available;
  const freed = keepOld ? 0 : await bytesOf(ctx, id, stale);
  // Fail before changing anything when even deleting the stale chunks would not make room.
  if (missing > available + freed) throw quotaError(missing, available + freed, id);
  if (!keepOld && stale.length > 0) await deleteChunks(ctx, id, stale);
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
  await sweep(ctx);
}

/** `INVALID_CHUNK` unless every chunk of `manifest` is stored with its size. */
async function checkEveryChunk(db: CacheDatabase, manifest: CacheManifest): Promise<void> {
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
}

/**
 * Marks the model complete after checking every chunk is present with its size, and drops the
 * previous version's stale chunks in the same transaction: a tab that dies in between can
 * never leave them behind a complete model, which a cache hit reads without `open()` (and so
 * without a sweep) (issue 28, bug 4).
 */
export async function completeModel(ctx: CacheContext, manifest: CacheManifest): Promise<void> {
  const db = await ctx.database();
  await checkEveryChunk(db, manifest);
  const id = manifest.model.id;
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
  await sweep(ctx);
}

/** Whether exactly this model version is complete in the cache. */
export async function hasModel(ctx: CacheContext, manifest: CacheManifest): Promise<boolean> {
  const db = await ctx.database();
  const record = await db.get('models', manifest.model.id);
  if (!record?.complete || !sameModel(record, manifest)) return false;
  const present = await presentHashes(db, manifest.model.id);
  return manifest.chunks.every((c) => present.has(c.sha256));
}

/** The manifest model `modelId` was stored for (with its chunk hashes), or null. */
export async function storedManifest(
  ctx: CacheContext,
  modelId: string,
): Promise<CacheManifest | null> {
  const record = await (await ctx.database()).get('models', modelId);
  return record?.manifest ?? null;
}

/** Records that model `id` was just used (least-recently-used eviction goes by it). */
export async function touch(ctx: CacheContext, id: string): Promise<void> {
  const db = await ctx.database();
  const record = await db.get('models', id);
  if (record) await db.put('models', { ...record, lastUsedAt: Date.now() });
}

/** The chunks of a complete model as Blobs, in manifest order (no network). @throws `NOT_FOUND`. */
export async function getBlobs(ctx: CacheContext, manifest: CacheManifest): Promise<Blob[]> {
  if (!(await hasModel(ctx, manifest)))
    throw new ModelCacheError(
      'NOT_FOUND',
      `model "${manifest.model.id}" version ${manifest.model.version} is not complete in the cache`,
    );
  const blobs: Blob[] = [];
  for (let i = 0; i < manifest.chunks.length; i++) {
    const blob = await getChunk(ctx, manifest, i);
    if (!blob)
      throw new ModelCacheError(
        'NOT_FOUND',
        `chunk ${i} of "${manifest.model.id}" is missing or corrupt; load the model again to repair it`,
      );
    blobs.push(blob);
  }
  await touch(ctx, manifest.model.id);
  return blobs;
}
