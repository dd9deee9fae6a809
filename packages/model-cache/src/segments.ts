import { chunkOf, deleteChunks } from './chunks.js';
import type { CacheContext } from './context.js';
import { ModelCacheError } from './errors.js';
import { GroupCommit } from './group-commit.js';
import { writeError } from './quota.js';
import { contiguousRun } from './records.js';
import type { CacheManifest, SegmentRecord } from './schema.js';
import type { PartialChunk } from './types.js';

/** Segments of concurrent downloads, written together (one transaction per batch). */
export function segmentWriter(ctx: CacheContext): GroupCommit<SegmentRecord> {
  return new GroupCommit<SegmentRecord>(async (records) => {
    const tx = (await ctx.database()).transaction('segments', 'readwrite');
    await Promise.all([...records.map((r) => tx.store.put(r)), tx.done]);
  });
}

/** Persists a segment of chunk `index` still downloading (model-loader's durable partials). */
export async function putSegment(
  ctx: CacheContext,
  writes: GroupCommit<SegmentRecord>,
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
  await ctx.database();
  try {
    await writes.put({
      modelId: manifest.model.id,
      sha256: chunk.sha256,
      offset: segment.offset,
      bytes: segment.data.size,
      data: segment.data,
      hashState: segment.hashState,
      storedAt: Date.now(),
    });
  } catch (cause) {
    throw await writeError(ctx, cause, manifest, index, segment.data.size);
  }
}

/** The persisted start of chunk `index` (contiguous segments from 0), or null. */
export async function getPartial(
  ctx: CacheContext,
  manifest: CacheManifest,
  index: number,
): Promise<PartialChunk | null> {
  const chunk = manifest.chunks[index];
  if (!chunk) return null;
  const db = await ctx.database();
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
export async function dropPartial(
  ctx: CacheContext,
  manifest: CacheManifest,
  index: number,
): Promise<void> {
  const chunk = manifest.chunks[index];
  if (!chunk) return;
  await deleteChunks(ctx, manifest.model.id, [chunk.sha256], { onlyCommitted: true });
}

/**
 * Makes chunk `index`'s persisted segments (verified by the loader to be exactly the chunk) the
 * stored chunk, in one transaction, without writing the bytes again.
 * @throws {ModelCacheError} `INVALID_CHUNK` when the segments do not cover the chunk exactly.
 */
export async function commitSegments(
  ctx: CacheContext,
  manifest: CacheManifest,
  index: number,
): Promise<void> {
  const chunk = chunkOf(manifest, index);
  const db = await ctx.database();
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
