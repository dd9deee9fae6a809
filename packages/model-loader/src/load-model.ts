import type { ChunkStore } from './chunk-store.js';
import { fetchChunk, type FetchChunkOptions } from './fetch-chunk.js';
import {
  abortedError,
  checkAbort,
  lostChunk,
  planLoad,
  report,
  storeLost,
  type LoadModelOptions,
  type LoadState,
} from './load-state.js';
import type { ParsedManifest } from './manifest.js';

export { DEFAULT_RANGE_BYTES, DEFAULT_SEGMENT_BYTES } from './load-state.js';
export type { LoadModelOptions, LoadProgress } from './load-state.js';

/**
 * Loads a model: chunks already in the store are used as they are; the others are downloaded
 * in parallel, verified while they stream (persisted in segments as they arrive when there is a
 * store, so a reload resumes them, and committed there as the chunk), and stored one by one.
 * Resolves to the model as Blobs: one per shard for `gguf-split`, one reassembled Blob for
 * `byte-chunks`.
 * @throws {ModelLoaderError} `HTTP_ERROR`, `NETWORK_ERROR`, `CHUNK_HASH_MISMATCH`,
 *   `ORIGIN_NOT_ALLOWED` (a redirect off the allowed origins), each with the chunk index and
 *   URL; `ABORTED`. Errors of the store (e.g. `QUOTA_EXCEEDED`) stop every download at once and
 *   propagate unchanged.
 */
export async function loadModel(
  manifest: ParsedManifest,
  options: LoadModelOptions = {},
): Promise<Blob[]> {
  const s = planLoad(manifest, options);
  checkAbort(s);
  await s.store?.open(manifest);
  const missing = await readStored(s);
  const failure = await downloadMissing(s, missing);
  if (failure !== undefined) {
    // Whatever failed, data this load stored that is gone explains it better.
    const lost = options.signal?.aborted ? undefined : await lostChunk(s);
    throw lost === undefined ? failure : storeLost(s, lost, failure);
  }
  checkAbort(s);
  await completeInStore(s);
  const parts = s.blobs as Blob[];
  return manifest.layout === 'byte-chunks'
    ? [new Blob(parts, { type: 'application/octet-stream' })]
    : parts;
}

/** Takes the chunks the store holds (with their size); returns the indices of the others. */
export async function readStored(s: LoadState): Promise<number[]> {
  const missing: number[] = [];
  for (let i = 0; i < s.manifest.chunks.length; i++) {
    checkAbort(s);
    const cached = s.store ? await s.store.getChunk(s.manifest, i) : null;
    if (cached && cached.size === s.manifest.chunks[i]!.bytes) {
      s.blobs[i] = cached;
      s.whole[i] = true;
      s.loaded += cached.size;
      s.done++;
      report(s, i, true);
    } else {
      missing.push(i);
    }
  }
  return missing;
}

/**
 * Downloads the `missing` chunks, `concurrency` at a time; the first failure aborts the others
 * at once and is returned (`ABORTED` when the caller's signal ended it).
 */
async function downloadMissing(s: LoadState, missing: number[]): Promise<unknown> {
  const { signal } = s.options;
  const inner = new AbortController();
  const onOuterAbort = () => inner.abort(signal?.reason);
  signal?.addEventListener('abort', onOuterAbort, { once: true });
  let failure: unknown;
  const worker = async () => {
    while (missing.length > 0 && failure === undefined) {
      const i = missing.shift()!;
      try {
        await downloadChunk(s, i, inner.signal);
      } catch (error) {
        failure ??= signal?.aborted ? abortedError(s) : error;
        inner.abort(failure);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(s.concurrency, missing.length) }, worker));
  } finally {
    signal?.removeEventListener('abort', onOuterAbort);
  }
  return failure;
}

/**
 * Downloads chunk `i`. With a store, it resumes after the segments the store persisted, persists
 * each new one, and commits them as the chunk once it verifies (the page keeps none of its
 * bytes); without one, the page keeps the chunk.
 */
async function downloadChunk(s: LoadState, i: number, signal: AbortSignal): Promise<void> {
  const { store, manifest } = s;
  const chunk = manifest.chunks[i]!;
  const resume = store ? await store.getPartial(manifest, i) : null;
  s.persisted[i] = resume?.bytes ?? 0;
  const fetched = await fetchChunk({
    ...s.policy,
    index: i,
    url: chunk.url,
    bytes: chunk.bytes,
    sha256: chunk.sha256,
    ...(chunk.blocks ? { blocks: chunk.blocks } : {}),
    segmentBytes: s.segmentBytes,
    rangeBytes: s.rangeBytes,
    signal,
    resume,
    keep: !store,
    ...(s.options.onChunkVerified
      ? { onDigest: (sha256: string) => s.options.onChunkVerified!(i, sha256) }
      : {}),
    ...(store ? persistence(s, store, i) : {}),
    ...progressOf(s, i),
  });
  const blob = store ? await commitChunk(s, store, i) : fetched!;
  s.blobs[i] = blob;
  s.whole[i] = !!store;
  s.done++;
  report(s, i, false);
}

/** How chunk `i`'s segments are persisted in the store and dropped from it. */
export function persistence(
  s: LoadState,
  store: ChunkStore,
  i: number,
): Pick<FetchChunkOptions, 'persist' | 'dropPartial'> {
  return {
    persist: async (segment) => {
      await store.putSegment(s.manifest, i, segment);
      s.persisted[i] = segment.offset + segment.data.size;
    },
    dropPartial: async () => {
      // Before the loader drops them: were they still there?
      if (s.persisted[i]! > 0 && !s.lostBeforeDrop.length) {
        const partial = await store.getPartial(s.manifest, i).catch(() => null);
        if ((partial?.bytes ?? 0) < s.persisted[i]!) s.lostBeforeDrop.push(i);
      }
      s.persisted[i] = 0;
      await store.dropPartial(s.manifest, i);
    },
  };
}

/** Chunk `i`'s byte counts as progress (bytes an earlier page persisted are not throughput). */
export function progressOf(
  s: LoadState,
  i: number,
): Pick<FetchChunkOptions, 'onBytes' | 'onResumed'> {
  return {
    onBytes: (delta) => {
      s.loaded += delta;
      if (delta > 0) s.networkBytes += delta;
      report(s, i, false);
    },
    onResumed: (bytes) => {
      s.loaded += bytes;
      report(s, i, false);
    },
  };
}

/** Makes chunk `i`'s verified segments the stored chunk, and reads it back (`STORE_ERROR` if gone). */
async function commitChunk(s: LoadState, store: ChunkStore, i: number): Promise<Blob> {
  await store.commitSegments(s.manifest, i);
  s.persisted[i] = 0;
  const blob = await store.getChunk(s.manifest, i);
  if (blob?.size !== s.manifest.chunks[i]!.bytes) throw storeLost(s, i);
  return blob;
}

/** Tells the store the model is complete; a store that lost what this load stored says so. */
async function completeInStore(s: LoadState): Promise<void> {
  try {
    await s.store?.complete(s.manifest);
  } catch (error) {
    // NOT_FOUND: the model this load registered is no longer in the store.
    const code = (error as { code?: unknown } | null)?.code;
    const lost = await lostChunk(s);
    if (lost !== undefined || code === 'NOT_FOUND') throw storeLost(s, lost, error);
    throw error;
  }
}
