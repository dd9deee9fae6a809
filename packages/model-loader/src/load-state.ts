import type { ChunkStore } from './chunk-store.js';
import { ModelLoaderError } from './errors.js';
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

/** One load: its settings, its progress, and what it knows to be in the store. */
export interface LoadState {
  readonly manifest: ParsedManifest;
  readonly options: LoadModelOptions;
  readonly store: ChunkStore | undefined;
  readonly policy: NetworkPolicy;
  readonly concurrency: number;
  readonly segmentBytes: number;
  readonly rangeBytes: number;
  readonly started: number;
  /** The model's chunks as they are read or verified. */
  readonly blobs: Array<Blob | undefined>;
  /** Bytes verified, persisted or streaming in (cached chunks included). */
  loaded: number;
  /** Bytes that came over the network (for the throughput). */
  networkBytes: number;
  /** Chunks done. */
  done: number;
  /** Chunks this load read from the store or stored there whole. */
  readonly whole: boolean[];
  /** Bytes of each chunk this load knows to be persisted in segments. */
  readonly persisted: number[];
  /** A chunk whose stored bytes this load saw and which were gone before it dropped them. */
  readonly lostBeforeDrop: number[];
}

/** The load's settings, with their defaults and bounds, and its empty progress. */
export function planLoad(manifest: ParsedManifest, options: LoadModelOptions): LoadState {
  const total = manifest.chunks.length;
  return {
    manifest,
    options,
    store: options.store,
    policy: networkPolicy({
      ...options,
      ...(manifest.allowedOrigins ? { allowedOrigins: new Set(manifest.allowedOrigins) } : {}),
    }),
    concurrency: Math.max(1, options.concurrency ?? 3),
    segmentBytes: Math.max(64 * 1024, options.segmentBytes ?? DEFAULT_SEGMENT_BYTES),
    rangeBytes: options.rangeBytes ?? DEFAULT_RANGE_BYTES,
    started: Date.now(),
    blobs: new Array<Blob | undefined>(total),
    loaded: 0,
    networkBytes: 0,
    done: 0,
    whole: new Array<boolean>(total).fill(false),
    persisted: new Array<number>(total).fill(0),
    lostBeforeDrop: [],
  };
}

/** Reports progress about chunk `chunkIndex` (throughput counts network bytes only). */
export function report(s: LoadState, chunkIndex: number, fromCache: boolean): void {
  const seconds = (Date.now() - s.started) / 1000;
  const rate = s.networkBytes / Math.max(0.001, seconds);
  const totalBytes = s.manifest.totalBytes;
  s.options.onProgress?.({
    loadedBytes: s.loaded,
    totalBytes,
    chunkIndex,
    chunksDone: s.done,
    chunksTotal: s.manifest.chunks.length,
    bytesPerSecond: rate,
    etaSeconds: seconds > 0.5 && rate > 0 ? Math.max(0, totalBytes - s.loaded) / rate : null,
    fromCache,
  });
}

/** `ABORTED`, with the caller's reason. */
export function abortedError(s: LoadState): ModelLoaderError {
  return new ModelLoaderError('ABORTED', 'the model download was aborted', {
    cause: s.options.signal?.reason,
  });
}

/** Throws `ABORTED` when the caller's signal has aborted. */
export function checkAbort(s: LoadState): void {
  if (s.options.signal?.aborted) throw abortedError(s);
}

/** `STORE_ERROR`: what this load stored is gone (chunk `i`'s, or the model's). */
export function storeLost(s: LoadState, i: number | undefined, cause?: unknown): ModelLoaderError {
  return new ModelLoaderError(
    'STORE_ERROR',
    `${i === undefined ? 'the model' : `chunk ${i}`}: the cache lost what this load had stored in it (it was cleared during the load: clearModelCache(), deleting the model, or the browser's "Clear site data"); start the load again`,
    {
      ...(i === undefined ? {} : { chunkIndex: i, url: s.manifest.chunks[i]!.url }),
      ...(cause === undefined ? {} : { cause }),
    },
  );
}

/** A chunk whose stored bytes this load saw and which are gone now (the cache was cleared). */
export async function lostChunk(s: LoadState): Promise<number | undefined> {
  const { store, manifest } = s;
  if (!store) return undefined;
  if (s.lostBeforeDrop.length) return s.lostBeforeDrop[0];
  for (let i = 0; i < manifest.chunks.length; i++) {
    if (s.whole[i]) {
      const kept = await store.getChunk(manifest, i).catch(() => null);
      if (kept?.size !== manifest.chunks[i]!.bytes) return i;
    } else if (s.persisted[i]! > 0) {
      const partial = await store.getPartial(manifest, i).catch(() => null);
      if ((partial?.bytes ?? 0) < s.persisted[i]!) return i;
    }
  }
  return undefined;
}
