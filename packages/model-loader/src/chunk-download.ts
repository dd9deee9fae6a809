import type { ChunkSegment, PartialChunk } from './chunk-store.js';
import { ModelLoaderError } from './errors.js';
import type { ChunkBlocks } from './manifest.js';
import { networkHint, type NetworkPolicy } from './network-policy.js';
import { readBuffer, type ReadBuffer } from './body-reader.js';
import { Segments } from './segments.js';
import { createSha256, type Sha256 } from './sha256.js';

/** How one chunk is fetched. */
export interface FetchChunkOptions extends NetworkPolicy {
  index: number;
  url: string;
  bytes: number;
  /** The chunk's SHA-256; empty: not known yet, computed (a first download that pins it). */
  sha256: string;
  /** Called with the chunk's SHA-256 once its bytes are checked (or computed). */
  onDigest?: (sha256: string) => void;
  /** The manifest's block hashes: each block is verified (and only then kept) on its own. */
  blocks?: ChunkBlocks;
  signal?: AbortSignal;
  /** Called with the number of new bytes as they stream in (negative when data is discarded). */
  onBytes: (delta: number) => void;
  /** Called once with the bytes taken from `resume` (not network traffic). */
  onResumed?: (bytes: number) => void;
  /** Bytes per persisted segment (without `blocks`; with them a segment is a block). */
  segmentBytes: number;
  /** Bytes per Range request, rounded to whole segments (default: one segment). */
  rangeBytes?: number;
  /** What an earlier page persisted of this chunk: the download resumes after it. */
  resume?: PartialChunk | null;
  /** Persists a segment as it arrives (durable partial downloads); its errors stop the chunk. */
  persist?: (segment: ChunkSegment) => Promise<void>;
  /** Forgets the persisted segments (a failed verification, or a server that ignored Range). */
  dropPartial?: () => Promise<void>;
  /**
   * Keep the segments in the page and resolve to the chunk (default true). A caller whose
   * `persist` stores every segment passes false and reads the chunk back from its store.
   */
  keep?: boolean;
}

/** One chunk's download: its settings and all of its mutable state, in one place. */
export interface ChunkDownload {
  readonly o: FetchChunkOptions;
  /** Bytes per segment: a block with block hashes, else `segmentBytes`. */
  readonly seg: number;
  /** Bytes asked for per Range request: whole segments. */
  readonly span: number;
  /** Bytes fetched after which a chunk that still fails gives up (about twice its size). */
  readonly budget: number;
  /** The segments received (and, when kept, their Blobs). */
  readonly data: Segments;
  /** The incremental SHA-256 of the chunk so far (none with block hashes). */
  hasher: Sha256 | undefined;
  /** Bytes received after the last whole segment: in memory until their segment completes. */
  readonly staging: Uint8Array<ArrayBuffer>;
  /** Bytes in `staging`. */
  pending: number;
  /** Where bodies are read (BYOB): one buffer for every request of the chunk. */
  readonly buffer: ReadBuffer;
  /** How often each block failed verification. */
  readonly blockFailures: Map<number, number>;
  /** Bytes received over the network, in all. */
  fetched: number;
  /** How often the whole chunk failed verification. */
  failedChecks: number;
  /** Attempts in a row that received nothing. */
  idle: number;
  /** How long the server asked to wait (`Retry-After`) before the next attempt. */
  wait: number | undefined;
  /** Whether requests bypass the HTTP cache (after a failed verification or a restart). */
  reload: boolean;
  /** Whether the server honours Range: unknown until it answers. */
  ranges: boolean | undefined;
  /** Whether the next attempt waits (backoff) first. */
  pause: boolean;
}

/** A chunk's download before its first request: segment size, request span, byte budget. */
export async function planDownload(o: FetchChunkOptions): Promise<ChunkDownload> {
  const seg = o.blocks ? o.blocks.bytes : o.segmentBytes;
  return {
    o,
    seg,
    span: Math.max(1, Math.floor((o.rangeBytes ?? seg) / seg)) * seg,
    budget: 2 * o.bytes + seg,
    data: new Segments(o.keep ?? true),
    hasher: o.blocks ? undefined : await createSha256(),
    staging: new Uint8Array(Math.min(seg, o.bytes)),
    pending: 0,
    buffer: readBuffer(),
    blockFailures: new Map(),
    fetched: 0,
    failedChecks: 0,
    idle: 0,
    wait: undefined,
    reload: false,
    ranges: undefined,
    pause: false,
  };
}

export const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** `ABORTED` for this chunk, with the caller's reason. */
export function aborted(o: FetchChunkOptions): ModelLoaderError {
  return new ModelLoaderError('ABORTED', `download of chunk ${o.index} was aborted`, {
    chunkIndex: o.index,
    url: o.url,
    cause: o.signal?.reason,
  });
}

/** A request that sent no bytes for the idle timeout (after `got` bytes of the chunk). */
export function stalledError(o: FetchChunkOptions, got: number): ModelLoaderError {
  return new ModelLoaderError(
    'NETWORK_ERROR',
    `chunk ${o.index}: the server sent no bytes for ${o.idleTimeoutMs / 1000} s (after ${got} of ${o.bytes}); resuming`,
    { chunkIndex: o.index, url: o.url },
  );
}

/**
 * Counts a failed attempt and throws when the chunk gives up: more than `retries` attempts in a
 * row that received nothing (a `NETWORK_ERROR` then says what to check), or more than the byte
 * budget fetched. Attempts that made progress reset the count.
 */
export function retryOrThrow(d: ChunkDownload, error: ModelLoaderError, progressed: boolean) {
  const { o } = d;
  d.idle = progressed ? 0 : d.idle + 1;
  if (d.idle > o.retries)
    throw error.code === 'NETWORK_ERROR'
      ? new ModelLoaderError('NETWORK_ERROR', `${error.message}; ${networkHint(d.idle)}`, {
          chunkIndex: o.index,
          url: o.url,
          ...(error.status !== undefined ? { status: error.status } : {}),
          ...(error.cause !== undefined ? { cause: error.cause } : {}),
        })
      : error;
  if (d.fetched > d.budget)
    throw new ModelLoaderError(
      error.code,
      `${error.message}; gave up after ${mib(d.fetched)} fetched for a ${mib(o.bytes)} chunk`,
      { chunkIndex: o.index, url: o.url, ...(error.status ? { status: error.status } : {}) },
    );
}

/** Throws away what was received (and persisted) of the chunk: it starts over, past the HTTP cache. */
export async function discard(d: ChunkDownload): Promise<void> {
  d.reload = true;
  d.o.onBytes(-(d.data.size + d.pending));
  d.data.reset();
  d.pending = 0;
  if (!d.o.blocks) d.hasher = await createSha256();
  await d.o.dropPartial?.();
}

/** The whole chunk is here: the Blob (or null when not kept), or a hash mismatch. */
export function verdict(d: ChunkDownload): { blob: Blob | null } | ModelLoaderError {
  const { o } = d;
  const keep = () => ({ blob: o.keep === false ? null : d.data.toBlob() });
  if (o.blocks) {
    o.onDigest?.(o.sha256);
    return keep();
  }
  const actual = d.hasher!.digest('hex');
  if (actual === o.sha256 || o.sha256 === '') {
    o.onDigest?.(actual);
    return keep();
  }
  return new ModelLoaderError(
    'CHUNK_HASH_MISMATCH',
    `chunk ${o.index} (${o.url}) failed verification: expected sha256 ${o.sha256}, got ${actual}`,
    { chunkIndex: o.index, url: o.url },
  );
}
