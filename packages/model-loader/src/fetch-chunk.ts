import type { ChunkSegment, PartialChunk } from './chunk-store.js';
import { ModelLoaderError } from './errors.js';
import type { ChunkBlocks } from './manifest.js';
import {
  checkResponseOrigin,
  idleRequest,
  isHtmlPage,
  isRetryableStatus,
  httpHint,
  networkHint,
  rangeStart,
  servedFileSize,
  type NetworkPolicy,
} from './network-policy.js';
import { BodyReader, readBuffer } from './body-reader.js';
import { backoffMs, retryAfterMs, sleep } from './retry-policy.js';
import { Segments } from './segments.js';
import { createSha256, sha256OfBytes, type Sha256 } from './sha256.js';

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

function aborted(o: FetchChunkOptions): ModelLoaderError {
  return new ModelLoaderError('ABORTED', `download of chunk ${o.index} was aborted`, {
    chunkIndex: o.index,
    url: o.url,
    cause: o.signal?.reason,
  });
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
const NO_STATE = new Uint8Array(0);

/** Bytes handed to the browser per piece when it builds a segment's Blob. */
const BLOB_PIECE = 256 * 1024;

/**
 * A Blob of `bytes` that the browser builds itself from a stream (`new Response(stream).blob()`),
 * which it writes to disk as it goes. Blobs made in JS (`new Blob([bytes])`) are held in memory
 * until the browser has taken them, and at download speed Chromium failed IndexedDB writes of
 * them (`DataError: Failed to write blobs (InvalidBlob)`) within seconds.
 */
function blobOf(bytes: Uint8Array<ArrayBuffer>): Promise<Blob> {
  let at = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (at >= bytes.byteLength) return controller.close();
        // A view, not a copy: `bytes` stays untouched until the Blob is built.
        controller.enqueue(bytes.subarray(at, at + BLOB_PIECE));
        at += BLOB_PIECE;
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(stream).blob();
}

/**
 * The persisted segments that still verify against the block hashes (each a whole block), or
 * none: a reload trusts nothing it did not check.
 */
async function verifiedResume(
  resume: PartialChunk,
  blocks: ChunkBlocks,
  bytes: number,
): Promise<Blob[] | null> {
  let offset = 0;
  for (const segment of resume.segments) {
    const k = offset / blocks.bytes;
    if (segment.size !== Math.min(blocks.bytes, bytes - offset)) return null;
    const data = new Uint8Array(await segment.arrayBuffer());
    if ((await sha256OfBytes(data)) !== blocks.sha256[k]) return null;
    offset += segment.size;
  }
  return resume.segments;
}

/**
 * A SHA-256 hasher that has taken in what `resume` persisted: its saved state, or, where there
 * is none or it does not load, the persisted bytes read back and hashed again; null when those
 * cannot be read (the partial is then dropped). Segments stored under a manifest with block
 * hashes carry no state (each is a block, checked on resume), and a manifest of the same chunks
 * without block hashes resumes them this way: hash-wasm's uncoded `Bad state length` failed
 * every such load (issue 28, bug 3). The chunk's SHA-256 is checked at its end either way.
 */
async function resumedHasher(resume: PartialChunk): Promise<Sha256 | null> {
  const hasher = await createSha256();
  if (resume.hashState.byteLength > 0) {
    try {
      hasher.load(resume.hashState);
      return hasher;
    } catch {
      hasher.init();
    }
  }
  try {
    for (const segment of resume.segments)
      hasher.update(new Uint8Array(await segment.arrayBuffer()));
    return hasher;
  } catch {
    return null;
  }
}

/**
 * Downloads one chunk and verifies it while it streams: block by block against the manifest's
 * block hashes (WebCrypto), or as one incremental SHA-256 of the whole chunk for manifests
 * without them. Received bytes are gathered into segments (a block each, or `segmentBytes`)
 * that are persisted as they complete when the store can (with blocks, only once verified), so
 * a reload resumes after them. Network failures resume with an HTTP Range request from what was
 * received (a server that answers 200 instead of 206 restarts the chunk); a request that sends no
 * bytes for `idleTimeoutMs` is aborted and resumed the same way. 429 / 503 wait for
 * `Retry-After`; other retries back off exponentially with jitter. Attempts that receive nothing
 * count against `retries`; attempts that make progress do not. A chunk costs at most about twice
 * its size on the network: a block (or the whole chunk) that fails verification twice, or that
 * much data without a verified chunk, ends it.
 */
export async function fetchChunk(o: FetchChunkOptions): Promise<Blob | null> {
  const { blocks } = o;
  const seg = blocks ? blocks.bytes : o.segmentBytes;
  const span = Math.max(1, Math.floor((o.rangeBytes ?? seg) / seg)) * seg;
  const data = new Segments(o.keep ?? true);
  let hasher: Sha256 | undefined = blocks ? undefined : await createSha256();
  if (o.resume && o.resume.bytes > 0 && o.resume.bytes <= o.bytes) {
    let segments: Blob[] | null = null;
    if (blocks) segments = await verifiedResume(o.resume, blocks, o.bytes);
    else {
      const resumed = await resumedHasher(o.resume);
      if (resumed) [hasher, segments] = [resumed, o.resume.segments];
    }
    if (segments) {
      for (const s of segments) data.add(s);
      o.onResumed?.(data.size);
    } else await o.dropPartial?.();
  }
  // Bytes received after the last whole segment: in memory until their segment completes.
  const staging = new Uint8Array(Math.min(seg, o.bytes));
  // Where bodies are read (BYOB): one buffer for every request of the chunk.
  const buffer = readBuffer();
  let pending = 0;
  const budget = 2 * o.bytes + seg;
  const blockFailures = new Map<number, number>();
  let fetched = 0;
  let failedChecks = 0;
  let idle = 0;
  let wait: number | undefined;
  /** Whether requests bypass the HTTP cache (after a failed verification or a restart). */
  let reload = false;
  const discard = async () => {
    reload = true;
    o.onBytes(-(data.size + pending));
    data.reset();
    pending = 0;
    if (!blocks) hasher = await createSha256();
    await o.dropPartial?.();
  };
  const retryOrThrow = (error: ModelLoaderError, progressed: boolean) => {
    idle = progressed ? 0 : idle + 1;
    if (idle > o.retries)
      throw error.code === 'NETWORK_ERROR'
        ? new ModelLoaderError('NETWORK_ERROR', `${error.message}; ${networkHint(idle)}`, {
            chunkIndex: o.index,
            url: o.url,
            ...(error.status !== undefined ? { status: error.status } : {}),
            ...(error.cause !== undefined ? { cause: error.cause } : {}),
          })
        : error;
    if (fetched > budget)
      throw new ModelLoaderError(
        error.code,
        `${error.message}; gave up after ${mib(fetched)} fetched for a ${mib(o.bytes)} chunk`,
        { chunkIndex: o.index, url: o.url, ...(error.status ? { status: error.status } : {}) },
      );
  };
  /** Ends the segment in `staging`: verifies its block, persists and keeps it; or says why not. */
  const closeSegment = async (): Promise<ModelLoaderError | undefined> => {
    const offset = data.size;
    const view = staging.subarray(0, pending);
    if (blocks) {
      const k = offset / seg;
      const actual = await sha256OfBytes(view);
      if (actual !== blocks.sha256[k]) {
        o.onBytes(-pending);
        pending = 0;
        const failures = (blockFailures.get(k) ?? 0) + 1;
        blockFailures.set(k, failures);
        reload = true;
        return new ModelLoaderError(
          'CHUNK_HASH_MISMATCH',
          `chunk ${o.index} (${o.url}) failed verification${failures > 1 ? ' twice' : ''} at block ${k} (bytes ${offset}-${offset + view.byteLength - 1}): expected sha256 ${blocks.sha256[k]}, got ${actual}`,
          { chunkIndex: o.index, url: o.url },
        );
      }
    }
    // The Blob holds a copy of the bytes: the staging buffer is free again.
    const blob = await blobOf(view);
    pending = 0;
    await o.persist?.({ offset, data: blob, hashState: hasher ? hasher.save() : NO_STATE });
    data.add(blob);
    return undefined;
  };

  // Whether the server honours Range: unknown until it answers. While it does, the chunk is
  // asked for `span` bytes at a time, so that little is ever in flight beyond what is persisted
  // (browsers read ahead of a stream's reader by tens of MB).
  let ranges: boolean | undefined;
  let pause = false;
  /** The whole chunk is here: the Blob (or null when not kept), or a hash mismatch. */
  const verdict = (): { blob: Blob | null } | ModelLoaderError => {
    const keep = () => ({ blob: o.keep === false ? null : data.toBlob() });
    if (blocks) {
      o.onDigest?.(o.sha256);
      return keep();
    }
    const actual = hasher!.digest('hex');
    if (actual === o.sha256 || o.sha256 === '') {
      o.onDigest?.(actual);
      return keep();
    }
    return new ModelLoaderError(
      'CHUNK_HASH_MISMATCH',
      `chunk ${o.index} (${o.url}) failed verification: expected sha256 ${o.sha256}, got ${actual}`,
      { chunkIndex: o.index, url: o.url },
    );
  };
  if (data.size === o.bytes) {
    // Every segment was stored before the chunk was (an abort or a reload right after its last
    // bytes): it completes here, with no request (a Range from its end would get 416).
    const v = verdict();
    if (!(v instanceof ModelLoaderError)) return v.blob;
    failedChecks++;
    await discard();
  }
  for (;;) {
    if (pause) {
      try {
        await sleep(wait ?? backoffMs(idle || 1, o.retryDelayMs, o.random), o.signal);
      } catch {
        throw aborted(o);
      }
    }
    pause = true;
    wait = undefined;
    if (o.signal?.aborted) throw aborted(o);
    const position = data.size + pending;
    const end = ranges === false ? o.bytes : Math.min(o.bytes, data.size + span);
    // One request: the caller's abort, and the idle timer (restarted by every piece), end it.
    const request = idleRequest(o.signal, o.idleTimeoutMs);
    const stalledError = (got: number) =>
      new ModelLoaderError(
        'NETWORK_ERROR',
        `chunk ${o.index}: the server sent no bytes for ${o.idleTimeoutMs / 1000} s (after ${got} of ${o.bytes}); resuming`,
        { chunkIndex: o.index, url: o.url },
      );
    try {
      let response: Response;
      try {
        const range =
          end < o.bytes ? `bytes=${position}-${end - 1}` : position > 0 ? `bytes=${position}-` : '';
        const headers: Record<string, string> = range ? { Range: range } : {};
        // Once the chunk failed verification (or its bytes were thrown away), the browser's HTTP
        // cache must not answer again: a shard re-packed at the same URL would stay stale.
        response = await o.fetch(o.url, {
          headers,
          signal: request.signal,
          ...(reload ? { cache: 'reload' as const } : {}),
        });
      } catch (cause) {
        if (o.signal?.aborted) throw aborted(o);
        retryOrThrow(
          request.stalled
            ? stalledError(position)
            : new ModelLoaderError(
                'NETWORK_ERROR',
                `chunk ${o.index}: network error: ${(cause as Error).message}`,
                { chunkIndex: o.index, url: o.url, cause },
              ),
          false,
        );
        continue;
      }
      checkResponseOrigin(response, o, `chunk ${o.index}`, o.index);
      // A file of another size than the manifest says can never verify: say so at once, rather
      // than resuming a body that keeps ending short (or asking past its end: 416).
      const served = servedFileSize(response);
      if (served !== undefined && served !== o.bytes && (response.ok || response.status === 416)) {
        await response.body?.cancel().catch(() => undefined);
        if (!reload) {
          // The answer may be the browser's HTTP cache speaking (issue 28, bugs 2 and 6): a copy
          // of a file since re-packed at the same URL, still fresh under `max-age`; or a Range
          // answered from a cached gzip body, with the gzip length. Ask the server itself once
          // before blaming the manifest.
          reload = true;
          pause = false;
          continue;
        }
        throw new ModelLoaderError(
          'CHUNK_SIZE_MISMATCH',
          `chunk ${o.index}: the manifest says ${o.bytes} bytes, but ${o.url} is ${served} bytes (HTTP ${response.status}, asked past the browser's HTTP cache); the manifest and the files on the server do not match: pack the model again, or fix the manifest`,
          { chunkIndex: o.index, url: o.url, status: response.status },
        );
      }
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        const error = new ModelLoaderError(
          'HTTP_ERROR',
          `chunk ${o.index}: HTTP ${`${response.status} ${response.statusText}`.trim()} from ${o.url}: ${httpHint(response.status)}`,
          { chunkIndex: o.index, url: o.url, status: response.status },
        );
        if (!isRetryableStatus(response.status)) throw error;
        wait = retryAfterMs(response.headers, o.maxRetryAfterMs);
        retryOrThrow(error, false);
        continue;
      }
      if (isHtmlPage(response)) {
        // A captive portal or a wrong URL: not the chunk; nothing of it is kept.
        await response.body?.cancel().catch(() => undefined);
        retryOrThrow(
          new ModelLoaderError(
            'NETWORK_ERROR',
            `chunk ${o.index}: ${o.url} answered an HTML page, not the chunk (a captive portal, or a wrong URL?)`,
            { chunkIndex: o.index, url: o.url, status: response.status },
          ),
          false,
        );
        continue;
      }
      const start = rangeStart(response);
      if (response.status === 206 && start !== undefined && start !== position) {
        // A range that is not ours: start the chunk over without Range.
        await response.body?.cancel().catch(() => undefined);
        await discard();
        ranges = false;
        retryOrThrow(
          new ModelLoaderError(
            'NETWORK_ERROR',
            `chunk ${o.index}: the server answered bytes ${start}- to a request for bytes=${position}-`,
            { chunkIndex: o.index, url: o.url },
          ),
          false,
        );
        continue;
      }
      if (response.status !== 206) {
        // No Range support: the whole chunk comes in this response, from byte 0.
        ranges = false;
        if (position > 0) await discard();
      } else ranges = true;
      if (!response.body)
        throw new ModelLoaderError('NETWORK_ERROR', `chunk ${o.index}: the response has no body`, {
          chunkIndex: o.index,
          url: o.url,
        });
      const reader = new BodyReader(response.body, buffer);
      const before = data.size + pending;
      const until = ranges ? end : o.bytes;
      let cut: unknown;
      let bad: ModelLoaderError | undefined;
      try {
        reading: while (data.size + pending < until) {
          let piece: Uint8Array;
          try {
            const next = await reader.read(until - data.size - pending);
            if (!next) break;
            piece = next;
          } catch (cause) {
            cut = cause;
            break;
          }
          request.arm();
          while (piece.byteLength > 0 && data.size + pending < until) {
            const room = Math.min(seg - pending, until - data.size - pending);
            const now = piece.byteLength > room ? piece.subarray(0, room) : piece;
            piece = piece.subarray(now.byteLength);
            staging.set(now, pending);
            pending += now.byteLength;
            hasher?.update(now);
            fetched += now.byteLength;
            o.onBytes(now.byteLength);
            if (pending === seg || data.size + pending === o.bytes) {
              bad = await closeSegment();
              if (bad) break reading;
            }
          }
        }
      } catch (error) {
        // The store's verdict (e.g. QUOTA_EXCEEDED) ends the chunk at once: no more bytes.
        await reader.cancel();
        await o.dropPartial?.().catch(() => undefined);
        throw error;
      }
      await reader.cancel();
      if (o.signal?.aborted) throw aborted(o);
      const got = data.size + pending;
      if (bad) {
        if ((blockFailures.get(got / seg) ?? 0) >= 2) throw bad;
        retryOrThrow(bad, true);
        pause = false;
        continue;
      }
      if (got < o.bytes && ranges && cut === undefined && got >= end) {
        // This segment's request is done: ask for the next one at once.
        idle = 0;
        pause = false;
        continue;
      }
      if (got < o.bytes) {
        retryOrThrow(
          request.stalled
            ? stalledError(got)
            : new ModelLoaderError(
                'NETWORK_ERROR',
                cut !== undefined
                  ? `chunk ${o.index}: connection lost after ${got} of ${o.bytes} bytes: ${(cut as Error)?.message ?? cut}`
                  : `chunk ${o.index}: the body ended after ${got} of ${o.bytes} bytes`,
                { chunkIndex: o.index, url: o.url, ...(cut !== undefined ? { cause: cut } : {}) },
              ),
          got > before,
        );
        continue;
      }
      const v = verdict();
      if (!(v instanceof ModelLoaderError)) return v.blob;
      failedChecks++;
      const error = v;
      await discard();
      if (failedChecks >= 2) throw error;
      retryOrThrow(error, true);
    } finally {
      request.done();
    }
  }
}
