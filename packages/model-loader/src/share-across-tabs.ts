import type { AcquireModelOptions } from './acquire-types.js';
import { ModelLoaderError } from './errors.js';
import type { LoadProgress } from './load-model.js';
import type { ParsedManifest } from './manifest.js';

/**
 * Runs `work` holding the store's lock on this model, so that two tabs share one download: a tab
 * that waits honours its `signal`, calls `onWaitForOtherTab` and reports the other tab's progress
 * (`otherTab: true`), which the working tab posts on a BroadcastChannel. `work` downloads with the
 * `onProgress` it is given. Without a locking store, `work` runs at once.
 * @throws what `work` throws; `ABORTED` when the signal ends the wait.
 */
export async function shareAcrossTabs<T>(
  manifest: ParsedManifest,
  options: AcquireModelOptions,
  work: (onProgress: (p: LoadProgress) => void) => Promise<T>,
): Promise<T> {
  const { store } = options;
  const channel =
    typeof BroadcastChannel === 'function'
      ? new BroadcastChannel(`tea-model-progress:${manifest.model.id}:${manifest.model.version}`)
      : undefined;
  const onProgress = (p: LoadProgress) => {
    options.onProgress?.(p);
    channel?.postMessage(p);
  };
  const onWait = () => {
    options.onWaitForOtherTab?.();
    if (channel && options.onProgress) {
      const report = options.onProgress;
      channel.onmessage = (e: MessageEvent<LoadProgress>) => report({ ...e.data, otherTab: true });
    }
  };
  try {
    if (!store?.lock) return await work(onProgress);
    return await store.lock(
      manifest,
      async () => {
        if (channel) channel.onmessage = null;
        return work(onProgress);
      },
      { ...(options.signal ? { signal: options.signal } : {}), onWait },
    );
  } catch (error) {
    if (options.signal?.aborted && !(error instanceof ModelLoaderError))
      throw new ModelLoaderError('ABORTED', 'loading the model was aborted', {
        cause: options.signal.reason,
      });
    throw error;
  } finally {
    channel?.close();
  }
}
