import type { CacheContext } from './context.js';
import { sameModel } from './records.js';
import type { CacheManifest } from './schema.js';

/** Records that the runtime refused this verified version: later loads report `MODEL_INVALID`. */
export async function markUnloadable(
  ctx: CacheContext,
  manifest: CacheManifest,
  reason: string,
): Promise<void> {
  const db = await ctx.database();
  const record = await db.get('models', manifest.model.id);
  if (record && sameModel(record, manifest))
    await db.put('models', { ...record, unloadable: reason.slice(0, 500) });
}

/** Why this exact version was marked unloadable, or null. */
export async function unloadableReason(
  ctx: CacheContext,
  manifest: CacheManifest,
): Promise<string | null> {
  const db = await ctx.database();
  const record = await db.get('models', manifest.model.id);
  return record && sameModel(record, manifest) ? (record.unloadable ?? null) : null;
}
