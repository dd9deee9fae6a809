import type { CacheContext } from './context.js';
import { ModelCacheError } from './errors.js';
import { writeError } from './quota.js';
import { contiguousRun } from './records.js';
import type { CacheManifest, ChunkRecord } from './schema.js';

/** Chunk `index` of `manifest`, or `INVALID_CHUNK` when the manifest has no such chunk. */
export function chunkOf(manifest: CacheManifest, index: number) {
  const chunk = manifest.chunks[index];
  if (!chunk)
    throw new ModelCacheError(
      'INVALID_CHUNK',
      `chunk ${index} is not in the manifest of "${manifest.model.id}"`,
    );
  return chunk;
}

/** The stored chunk `index` of `manifest` (matched by SHA-256), or null; a record whose size does not match is dropped. */
export async function getChunk(
  ctx: CacheContext,
  manifest: CacheManifest,
  index: number,
): Promise<Blob | null> {
  const chunk = manifest.chunks[index];
  if (!chunk) return null;
  const db = await ctx.database();
  const record = await db.get('chunks', [manifest.model.id, chunk.sha256]);
  if (!record) return null;
  const data = record.segments
    ? await committedSegments(ctx, manifest.model.id, chunk.sha256, record.segments)
    : record.data;
  if (!(data instanceof Blob) || data.size !== chunk.bytes || record.bytes !== chunk.bytes) {
    // Corrupt: forget it (and its segments), so that the loader fetches it again.
    await deleteChunks(ctx, manifest.model.id, [chunk.sha256]);
    return null;
  }
  return data;
}

/** A committed chunk's segments joined in one Blob (parts, not a copy), or null if damaged. */
async function committedSegments(
  ctx: CacheContext,
  modelId: string,
  sha256: string,
  count: number,
): Promise<Blob | null> {
  const db = await ctx.database();
  const { sorted, run } = contiguousRun(
    await db.getAllFromIndex('segments', 'by-chunk', [modelId, sha256]),
  );
  if (sorted.length !== count || run !== count) return null;
  return new Blob(sorted.map((r) => r.data));
}

/** Stores chunk `index` (already verified by the loader) in its own transaction. */
export async function putChunk(
  ctx: CacheContext,
  manifest: CacheManifest,
  index: number,
  data: Blob,
): Promise<void> {
  const chunk = chunkOf(manifest, index);
  if (data.size !== chunk.bytes) {
    throw new ModelCacheError(
      'INVALID_CHUNK',
      `chunk ${index} of "${manifest.model.id}" is ${data.size} bytes, the manifest says ${chunk.bytes}`,
    );
  }
  const db = await ctx.database();
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
    throw await writeError(ctx, cause, manifest, index, chunk.bytes);
  }
}

/**
 * Deletes chunks and their segments, in one transaction. `onlyCommitted`: a chunk stored as a
 * Blob is kept (only the download's segments, and a chunk made of them, go).
 */
export async function deleteChunks(
  ctx: CacheContext,
  modelId: string,
  hashes: string[],
  { onlyCommitted = false } = {},
): Promise<void> {
  const db = await ctx.database();
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
