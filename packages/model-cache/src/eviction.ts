import type { CacheContext } from './context.js';
import { deleteModel, list, stats } from './inventory.js';

/**
 * Deletes, in one transaction, every chunk and partial segment that no model record references
 * (left by an interrupted version bump, a deleted model, or a chunk that completed), so that
 * `stats()` and `list()` agree. Runs on `open` and `complete`; returns the bytes freed.
 */
export async function sweep(ctx: CacheContext): Promise<number> {
  const db = await ctx.database();
  const tx = db.transaction(['models', 'chunks', 'segments'], 'readwrite');
  const wanted = new Set<string>();
  for (const m of await tx.objectStore('models').getAll())
    for (const h of [...m.chunkHashes, ...(m.previous?.chunkHashes ?? [])])
      wanted.add(`${m.id}\n${h}`);
  let freed = 0;
  // Segments stay while their chunk downloads, or when they are the (committed) chunk; a chunk
  // stored as a Blob makes them leftovers.
  const committed = new Set<string>();
  const storedWhole = new Set<string>();
  let chunk = await tx.objectStore('chunks').openCursor();
  while (chunk) {
    const key = `${chunk.value.modelId}\n${chunk.value.sha256}`;
    if (chunk.value.segments) committed.add(key);
    else if (wanted.has(key)) storedWhole.add(key);
    if (!wanted.has(key)) {
      freed += chunk.value.bytes;
      await chunk.delete();
    }
    chunk = await chunk.continue();
  }
  let segment = await tx.objectStore('segments').openCursor();
  while (segment) {
    const key = `${segment.value.modelId}\n${segment.value.sha256}`;
    if (!wanted.has(key) || storedWhole.has(key)) {
      // A committed chunk's segments are its bytes, counted with its record.
      if (!committed.has(key)) freed += segment.value.bytes;
      await segment.delete();
    }
    segment = await segment.continue();
  }
  await tx.done;
  return freed;
}

/** Deletes least-recently-used models until the cache holds at most `keepBytes`; returns their ids. */
export async function evict(ctx: CacheContext, keepBytes: number): Promise<string[]> {
  const models = (await list(ctx)).sort((a, b) => a.lastUsedAt - b.lastUsedAt);
  let total = (await stats(ctx)).totalBytes;
  const evicted: string[] = [];
  for (const m of models) {
    if (total <= keepBytes) break;
    await deleteModel(ctx, m.id);
    total -= m.bytes;
    evicted.push(m.id);
  }
  return evicted;
}
