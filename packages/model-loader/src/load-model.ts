import type { ChunkStore } from './chunk-store.js';
import { ModelLoaderError } from './errors.js';
import { fetchChunk } from './fetch-chunk.js';
import type { ParsedManifest } from './manifest.js';

/** Progress of `loadModel`. */
export interface LoadProgress {
  /** Bytes verified or streaming in so far, cached chunks included. */
  loadedBytes: number;
  totalBytes: number;
  /** The chunk this report is about. */
  chunkIndex: number;
  chunksDone: number;
  chunksTotal: number;
  /** Network throughput since the load started (cached chunks excluded). */
  bytesPerSecond: number;
  /** Whether this chunk came from the store rather than the network. */
  fromCache: boolean;
}

/** Options of `loadModel`. */
export interface LoadModelOptions {
  /** Verified chunks are read from it first and each newly verified chunk is written to it. */
  store?: ChunkStore;
  /** Injectable fetch (default: the global one). */
  fetch?: typeof fetch;
  /** Chunks downloaded at once (default 3). */
  concurrency?: number;
  /** Retries per chunk on network errors, 5xx, 429 and hash mismatches (default 4). */
  retries?: number;
  /** First retry delay in ms, doubling each time (default 500). */
  retryDelayMs?: number;
  /** Stops every request promptly; nothing unverified is ever stored. */
  signal?: AbortSignal;
  onProgress?: (progress: LoadProgress) => void;
}

/**
 * Loads a model: chunks already in the store are used as they are; the others are downloaded
 * in parallel, verified while they stream, and stored one by one. Resolves to the model as
 * Blobs: one per shard for `gguf-split`, one reassembled Blob for `byte-chunks`.
 * @throws {ModelLoaderError} `HTTP_ERROR`, `NETWORK_ERROR`, `CHUNK_HASH_MISMATCH` (with the chunk
 *   index and URL), `ABORTED`; errors of the store propagate unchanged.
 */
export async function loadModel(
  manifest: ParsedManifest,
  options: LoadModelOptions = {},
): Promise<Blob[]> {
  const { store, signal } = options;
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const concurrency = Math.max(1, options.concurrency ?? 3);
  const total = manifest.chunks.length;
  const blobs: Array<Blob | undefined> = new Array(total);
  const started = Date.now();
  let loaded = 0;
  let networkBytes = 0;
  let done = 0;
  const report = (chunkIndex: number, fromCache: boolean) =>
    options.onProgress?.({
      loadedBytes: loaded,
      totalBytes: manifest.totalBytes,
      chunkIndex,
      chunksDone: done,
      chunksTotal: total,
      bytesPerSecond: networkBytes / Math.max(0.001, (Date.now() - started) / 1000),
      fromCache,
    });
  const checkAbort = () => {
    if (signal?.aborted)
      throw new ModelLoaderError('ABORTED', 'the model download was aborted', {
        cause: signal.reason,
      });
  };

  checkAbort();
  await store?.open?.(manifest);
  const missing: number[] = [];
  for (let i = 0; i < total; i++) {
    checkAbort();
    const cached = store ? await store.getChunk(manifest, i) : null;
    if (cached && cached.size === manifest.chunks[i]!.bytes) {
      blobs[i] = cached;
      loaded += cached.size;
      done++;
      report(i, true);
    } else {
      missing.push(i);
    }
  }

  // Abort the other downloads as soon as one fails for good.
  const inner = new AbortController();
  const onOuterAbort = () => inner.abort(signal?.reason);
  signal?.addEventListener('abort', onOuterAbort, { once: true });
  let failure: unknown;
  const worker = async () => {
    while (missing.length > 0 && failure === undefined) {
      const i = missing.shift()!;
      const chunk = manifest.chunks[i]!;
      try {
        const blob = await fetchChunk({
          index: i,
          url: chunk.url,
          bytes: chunk.bytes,
          sha256: chunk.sha256,
          fetch: doFetch,
          retries: options.retries ?? 4,
          retryDelayMs: options.retryDelayMs ?? 500,
          signal: inner.signal,
          onBytes: (delta) => {
            loaded += delta;
            networkBytes += Math.max(0, delta);
            report(i, false);
          },
        });
        await store?.putChunk(manifest, i, blob);
        blobs[i] = blob;
        done++;
        report(i, false);
      } catch (error) {
        failure ??= signal?.aborted
          ? new ModelLoaderError('ABORTED', 'the model download was aborted', {
              cause: signal.reason,
            })
          : error;
        inner.abort(failure);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, missing.length) }, worker));
  } finally {
    signal?.removeEventListener('abort', onOuterAbort);
  }
  if (failure !== undefined) throw failure;
  checkAbort();
  await store?.complete?.(manifest);
  const parts = blobs as Blob[];
  return manifest.layout === 'byte-chunks'
    ? [new Blob(parts, { type: 'application/octet-stream' })]
    : parts;
}
