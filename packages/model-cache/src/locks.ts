import type { CacheContext } from './context.js';
import type { CacheManifest } from './schema.js';

/**
 * Runs `fn` holding a per-model Web Lock, so two tabs loading the same model do not both
 * download it: the second waits (`onWait` tells it so), then finds it in the cache. The wait
 * ends with the signal's reason when `signal` aborts. Without Web Locks, runs `fn` as is.
 */
export async function withLock<T>(
  ctx: CacheContext,
  manifest: CacheManifest,
  fn: () => Promise<T>,
  options: { signal?: AbortSignal; onWait?: () => void },
): Promise<T> {
  const locks = ctx.locks();
  if (!locks) return fn();
  const name = `${ctx.dbName}:${manifest.model.id}`;
  options.signal?.throwIfAborted();
  const now = await locks.request(name, { ifAvailable: true }, async (held) =>
    held ? { value: await fn() } : null,
  );
  if (now) return now.value;
  options.onWait?.();
  return locks.request(name, options.signal ? { signal: options.signal } : {}, () => fn());
}
