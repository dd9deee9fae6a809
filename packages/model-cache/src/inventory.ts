import type { CacheContext, CacheDatabase } from './context.js';
import { partialSegments, sum } from './records.js';
import type { ModelRecord } from './schema.js';
import type { CacheStats, CachedModelInfo } from './types.js';

/** What is stored of model record `m`. */
async function infoOf(db: CacheDatabase, m: ModelRecord): Promise<CachedModelInfo> {
  const chunks = await db.getAllFromIndex('chunks', 'by-model', m.id);
  const mine = new Set(m.chunkHashes);
  const stored = chunks.filter((c) => mine.has(c.sha256));
  const partial = partialSegments(
    chunks,
    await db.getAllFromIndex('segments', 'by-model', m.id),
  ).filter((p) => mine.has(p.sha256));
  return {
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
  };
}

/** Every model in the cache, with what is stored of it. */
export async function list(ctx: CacheContext): Promise<CachedModelInfo[]> {
  const db = await ctx.database();
  const models = await db.getAll('models');
  const infos: CachedModelInfo[] = [];
  for (const m of models) infos.push(await infoOf(db, m));
  return infos;
}

/** Models, their sizes and completeness, and the bytes of every stored chunk. */
export async function stats(ctx: CacheContext): Promise<CacheStats> {
  const db = await ctx.database();
  const models = await list(ctx);
  const chunks = await db.getAll('chunks');
  const totalBytes = sum(chunks) + sum(partialSegments(chunks, await db.getAll('segments')));
  return { models, totalBytes };
}

/** Removes a model and all its chunks. */
export async function deleteModel(ctx: CacheContext, modelId: string): Promise<void> {
  const db = await ctx.database();
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

/** Removes every model. */
export async function clearAll(ctx: CacheContext): Promise<void> {
  const db = await ctx.database();
  const tx = db.transaction(['models', 'chunks', 'segments'], 'readwrite');
  await Promise.all([
    tx.objectStore('models').clear(),
    tx.objectStore('chunks').clear(),
    tx.objectStore('segments').clear(),
    tx.done,
  ]);
}
