import type { ChunkStore } from './chunk-store.js';
import { ModelLoaderError } from './errors.js';
import { fetchChunk } from './fetch-chunk.js';
import type { ParsedManifest } from './manifest.js';
import { networkPolicy, type NetworkPolicy } from './network-policy.js';

/** Progress of a model's acquisition (cache read or download): the one progress type of the path. */
export interface LoadProgress {
  /** Bytes verified, persisted or streaming in so far, cached chunks included. */
  loadedBytes: number;
  totalBytes: number;
  /** The chunk this report is about. */
  chunkIndex: number;
  chunksDone: number;
  chunksTotal: number;
  /** Network throughput since the download started (cached and resumed bytes excluded). */
  bytesPerSecond: number;
  /** Seconds left at that throughput; null until it is known (the first half second). */
  etaSeconds: number | null;
  /** Whether this chunk came from the store rather than the network. */
  fromCache: boolean;
  /** Set when another tab is downloading this model and this one waits for it. */
  otherTab?: boolean;
}

/** Options of `loadModel` (and `acquireModel`). */
export interface LoadModelOptions extends Partial<Omit<NetworkPolicy, 'allowedOrigins'>> {
  /** Verified chunks are read from it first and each newly verified chunk is written to it. */
  store?: ChunkStore;
  /** Chunks downloaded at once (default 3). */
  concurrency?: number;
  /**
   * Bytes per persisted segment of a chunk still downloading, for manifests without block
   * hashes (default 4 MiB; with them a segment is a block). A reload loses at most one segment
   * per chunk in flight; each chunk holds one segment in memory while it downloads.
   */
  segmentBytes?: number;
  /** Bytes asked for per Range request (default 20 MiB; at least one segment). */
  rangeBytes?: number;
  /** Stops every request promptly; nothing unverified is ever stored as a chunk. */
  signal?: AbortSignal;
  onProgress?: (progress: LoadProgress) => void;
  /** Called as each downloaded chunk verifies, with its SHA-256 (computed when the manifest has none). */
  onChunkVerified?: (index: number, sha256: string) => void;
}

/** Default size of a persisted segment: a reload loses at most this much of each chunk. */
export const DEFAULT_SEGMENT_BYTES = 4 * 2 ** 20;
/** Default bytes per Range request: a few segments, so that request overhead stays small. */
export const DEFAULT_RANGE_BYTES = 20 * 2 ** 20;

/**
 * Loads a model: chunks already in the store are used as they are; the others are downloaded
 * in parallel, verified while they stream (persisted in segments as they arrive when the store
 * can, so a reload resumes them), and stored one by one. Resolves to the model as Blobs: one
 * per shard for `gguf-split`, one reassembled Blob for `byte-chunks`.
 * @throws {ModelLoaderError} `HTTP_ERROR`, `NETWORK_ERROR`, `CHUNK_HASH_MISMATCH`,
 *   `ORIGIN_NOT_ALLOWED` (a redirect off the allowed origins), each with the chunk index and
 *   URL; `ABORTED`. Errors of the store (e.g. `QUOTA_EXCEEDED`) stop every download at once and
 *   propagate unchanged.
 */
export async function loadModel(
  manifest: ParsedManifest,
  options: LoadModelOptions = {},
): Promise<Blob[]> {
  const { store, signal } = options;
  const policy = networkPolicy({
    ...options,
    ...(manifest.allowedOrigins ? { allowedOrigins: new Set(manifest.allowedOrigins) } : {}),
  });
  const concurrency = Math.max(1, options.concurrency ?? 3);
  const segmentBytes = Math.max(64 * 1024, options.segmentBytes ?? DEFAULT_SEGMENT_BYTES);
  const rangeBytes = options.rangeBytes ?? DEFAULT_RANGE_BYTES;
  const total = manifest.chunks.length;
  const blobs: Array<Blob | undefined> = new Array(total);
  const started = Date.now();
  let loaded = 0;
  let networkBytes = 0;
  let done = 0;
  const report = (chunkIndex: number, fromCache: boolean) => {
    const seconds = (Date.now() - started) / 1000;
    const rate = networkBytes / Math.max(0.001, seconds);
    options.onProgress?.({
      loadedBytes: loaded,
      totalBytes: manifest.totalBytes,
      chunkIndex,
      chunksDone: done,
      chunksTotal: total,
      bytesPerSecond: rate,
      etaSeconds:
        seconds > 0.5 && rate > 0 ? Math.max(0, manifest.totalBytes - loaded) / rate : null,
      fromCache,
    });
  };
  const storeLost = (i: number | undefined, cause?: unknown) =>
    new ModelLoaderError(
      'STORE_ERROR',
      `${i === undefined ? 'the model' : `chunk ${i}`}: the cache lost what this load had stored in it (it was cleared during the load: clearModelCache(), deleting the model, or the browser's "Clear site data"); start the load again`,
      {
        ...(i === undefined ? {} : { chunkIndex: i, url: manifest.chunks[i]!.url }),
        ...(cause === undefined ? {} : { cause }),
      },
    );
  // What this load knows to be in the store: whole chunks, and bytes of partial ones.
  const whole = new Array<boolean>(total).fill(false);
  const persisted = new Array<number>(total).fill(0);
  /** A chunk whose stored bytes this load saw and which are gone now (the cache was cleared). */
  const lostBeforeDrop: number[] = [];
  const lostChunk = async (): Promise<number | undefined> => {
    if (!store) return undefined;
    if (lostBeforeDrop.length) return lostBeforeDrop[0];
    for (let i = 0; i < total; i++) {
      if (whole[i]) {
        const kept = await store.getChunk(manifest, i).catch(() => null);
        if (kept?.size !== manifest.chunks[i]!.bytes) return i;
      } else if (persisted[i]! > 0 && store.getPartial) {
        const partial = await store.getPartial(manifest, i).catch(() => null);
        if ((partial?.bytes ?? 0) < persisted[i]!) return i;
      }
    }
    return undefined;
  };
  const abortedError = () =>
    new ModelLoaderError('ABORTED', 'the model download was aborted', { cause: signal?.reason });
  const checkAbort = () => {
    if (signal?.aborted) throw abortedError();
  };

  checkAbort();
  await store?.open?.(manifest);
  const missing: number[] = [];
  for (let i = 0; i < total; i++) {
    checkAbort();
    const cached = store ? await store.getChunk(manifest, i) : null;
    if (cached && cached.size === manifest.chunks[i]!.bytes) {
      blobs[i] = cached;
      whole[i] = true;
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
        const durable = !!(store?.putSegment && store.getPartial);
        // A store that keeps the segments as the chunk: nothing is kept in the page or written twice.
        const commit = durable && !!store?.commitSegments;
        const resume = durable ? await store!.getPartial!(manifest, i) : null;
        persisted[i] = resume?.bytes ?? 0;
        const fetched = await fetchChunk({
          ...policy,
          index: i,
          url: chunk.url,
          bytes: chunk.bytes,
          sha256: chunk.sha256,
          ...(chunk.blocks ? { blocks: chunk.blocks } : {}),
          segmentBytes,
          rangeBytes,
          signal: inner.signal,
          resume,
          keep: !commit,
          ...(options.onChunkVerified
            ? { onDigest: (sha256: string) => options.onChunkVerified!(i, sha256) }
            : {}),
          ...(durable
            ? {
                persist: async (segment) => {
                  await store!.putSegment!(manifest, i, segment);
                  persisted[i] = segment.offset + segment.data.size;
                },
                dropPartial: async () => {
                  // Before the loader drops them: were they still there?
                  if (persisted[i]! > 0 && !lostBeforeDrop.length) {
                    const partial = await store!.getPartial!(manifest, i).catch(() => null);
                    if ((partial?.bytes ?? 0) < persisted[i]!) lostBeforeDrop.push(i);
                  }
                  persisted[i] = 0;
                  await store!.dropPartial?.(manifest, i);
                },
              }
            : {}),
          onBytes: (delta) => {
            loaded += delta;
            if (delta > 0) networkBytes += delta;
            report(i, false);
          },
          // An earlier page's segments: progress, but not network throughput.
          onResumed: (bytes) => {
            loaded += bytes;
            report(i, false);
          },
        });
        let blob: Blob | null = fetched;
        if (commit) {
          await store!.commitSegments!(manifest, i);
          persisted[i] = 0;
          blob = await store!.getChunk(manifest, i);
          if (blob?.size !== chunk.bytes) throw storeLost(i);
        } else await store?.putChunk(manifest, i, blob!);
        blobs[i] = blob!;
        whole[i] = !!store;
        done++;
        report(i, false);
      } catch (error) {
        failure ??= signal?.aborted ? abortedError() : error;
        inner.abort(failure);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, missing.length) }, worker));
  } finally {
    signal?.removeEventListener('abort', onOuterAbort);
  }
  if (failure !== undefined) {
    // Whatever failed, data this load stored that is gone explains it better.
    const lost = signal?.aborted ? undefined : await lostChunk();
    throw lost === undefined ? failure : storeLost(lost, failure);
  }
  checkAbort();
  try {
    await store?.complete?.(manifest);
  } catch (error) {
    // NOT_FOUND: the model this load registered is no longer in the store.
    const code = (error as { code?: unknown } | null)?.code;
    const lost = await lostChunk();
    if (lost !== undefined || code === 'NOT_FOUND') throw storeLost(lost, error);
    throw error;
  }
  const parts = blobs as Blob[];
  return manifest.layout === 'byte-chunks'
    ? [new Blob(parts, { type: 'application/octet-stream' })]
    : parts;
}
