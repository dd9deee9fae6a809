import type { ChunkSegment, PartialChunk } from './chunk-store.js';
import { ModelLoaderError } from './errors.js';
import {
  checkResponseOrigin,
  idleRequest,
  isRetryableStatus,
  type NetworkPolicy,
} from './network-policy.js';
import { backoffMs, retryAfterMs, sleep } from './retry-policy.js';
import { createSha256, type Sha256 } from './sha256.js';
import { SegmentReader, Segments } from './stream-to-blob.js';

/** How one chunk is fetched. */
export interface FetchChunkOptions extends NetworkPolicy {
  index: number;
  url: string;
  bytes: number;
  sha256: string;
  signal?: AbortSignal;
  /** Called with the number of new bytes as they stream in (negative when data is discarded). */
  onBytes: (delta: number) => void;
  /** Called once with the bytes taken from `resume` (not network traffic). */
  onResumed?: (bytes: number) => void;
  /** Bytes per persisted segment. */
  segmentBytes: number;
  /** What an earlier page persisted of this chunk: the download resumes after it. */
  resume?: PartialChunk | null;
  /** Persists a segment as it arrives (durable partial downloads); its errors stop the chunk. */
  persist?: (segment: ChunkSegment) => Promise<void>;
  /** Forgets the persisted segments (a failed verification, or a server that ignored Range). */
  dropPartial?: () => Promise<void>;
}

function aborted(o: FetchChunkOptions): ModelLoaderError {
  return new ModelLoaderError('ABORTED', `download of chunk ${o.index} was aborted`, {
    chunkIndex: o.index,
    url: o.url,
    cause: o.signal?.reason,
  });
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** The start of a 206 answer's `Content-Range` (`bytes 100-199/200`), or undefined. */
function rangeStart(response: Response): number | undefined {
  const m = /^bytes (\d+)-/.exec(response.headers.get('Content-Range') ?? '');
  return m ? Number(m[1]) : undefined;
}

/**
 * Downloads one chunk, hashing it while it streams and persisting it in segments when the store
 * can. Network failures resume with an HTTP Range request from what was received (a server that
 * answers 200 instead of 206 restarts the chunk); a request that sends no bytes for
 * `idleTimeoutMs` is aborted and resumed the same way. 429 / 503 wait for `Retry-After`; other
 * retries back off exponentially with jitter. Attempts that receive nothing count against
 * `retries`; attempts that make progress do not. A chunk costs at most about twice its size on
 * the network: a second failed verification, or that much data without one, ends it.
 */
export async function fetchChunk(o: FetchChunkOptions): Promise<Blob> {
  const data = new Segments();
  let hasher: Sha256 = await createSha256();
  if (o.resume && o.resume.bytes > 0 && o.resume.bytes <= o.bytes) {
    hasher.load(o.resume.hashState);
    for (const s of o.resume.segments) data.add(s);
    o.onResumed?.(data.size);
  }
  const budget = 2 * o.bytes + o.segmentBytes;
  let fetched = 0;
  let failedChecks = 0;
  let idle = 0;
  let wait: number | undefined;
  const discard = async () => {
    o.onBytes(-data.size);
    data.reset();
    hasher = await createSha256();
    await o.dropPartial?.();
  };
  const retryOrThrow = (error: ModelLoaderError, progressed: boolean) => {
    idle = progressed ? 0 : idle + 1;
    if (idle > o.retries) throw error;
    if (fetched > budget)
      throw new ModelLoaderError(
        error.code,
        `${error.message}; gave up after ${mib(fetched)} fetched for a ${mib(o.bytes)} chunk`,
        { chunkIndex: o.index, url: o.url, ...(error.status ? { status: error.status } : {}) },
      );
  };

  // Whether the server honours Range: unknown until it answers. While it does, the chunk is
  // asked for one segment at a time, so that no more than a segment per chunk is ever in flight
  // beyond what is persisted (browsers read ahead of a stream's reader by tens of MB).
  let ranges: boolean | undefined;
  let pause = false;
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
    const resumeAt = data.size;
    const end = ranges === false ? o.bytes : Math.min(o.bytes, resumeAt + o.segmentBytes);
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
          end < o.bytes ? `bytes=${resumeAt}-${end - 1}` : resumeAt > 0 ? `bytes=${resumeAt}-` : '';
        const headers: Record<string, string> = range ? { Range: range } : {};
        response = await o.fetch(o.url, { headers, signal: request.signal });
      } catch (cause) {
        if (o.signal?.aborted) throw aborted(o);
        retryOrThrow(
          request.stalled
            ? stalledError(resumeAt)
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
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        const error = new ModelLoaderError(
          'HTTP_ERROR',
          `chunk ${o.index}: HTTP ${response.status} ${response.statusText} from ${o.url}`.trim(),
          { chunkIndex: o.index, url: o.url, status: response.status },
        );
        if (!isRetryableStatus(response.status)) throw error;
        wait = retryAfterMs(response.headers, o.maxRetryAfterMs);
        retryOrThrow(error, false);
        continue;
      }
      if (/^text\/html/i.test(response.headers.get('Content-Type') ?? '')) {
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
      if (response.status === 206 && start !== undefined && start !== resumeAt) {
        // A range that is not ours: start the chunk over without Range.
        await response.body?.cancel().catch(() => undefined);
        await discard();
        ranges = false;
        retryOrThrow(
          new ModelLoaderError(
            'NETWORK_ERROR',
            `chunk ${o.index}: the server answered bytes ${start}- to a request for bytes=${resumeAt}-`,
            { chunkIndex: o.index, url: o.url },
          ),
          false,
        );
        continue;
      }
      if (response.status !== 206) {
        // No Range support: the whole chunk comes in this response, from byte 0.
        ranges = false;
        if (resumeAt > 0) await discard();
      } else ranges = true;
      if (!response.body)
        throw new ModelLoaderError('NETWORK_ERROR', `chunk ${o.index}: the response has no body`, {
          chunkIndex: o.index,
          url: o.url,
        });
      const reader = new SegmentReader(response.body.getReader(), (piece) => {
        request.arm();
        hasher.update(piece);
        fetched += piece.byteLength;
        o.onBytes(piece.byteLength);
      });
      const before = data.size;
      let cut: unknown;
      let ended = false;
      const until = ranges ? end : o.bytes;
      while (data.size < until && cut === undefined && !ended) {
        const offset = data.size;
        const drained = await reader.next(Math.min(o.segmentBytes, until - offset));
        data.add(drained.blob);
        if (drained.blob.size > 0 && o.persist) {
          try {
            await o.persist({ offset, data: drained.blob, hashState: hasher.save() });
          } catch (error) {
            // The store's verdict (e.g. QUOTA_EXCEEDED) ends the chunk at once: no more bytes.
            await reader.cancel();
            await o.dropPartial?.().catch(() => undefined);
            throw error;
          }
        }
        cut = drained.error;
        ended = drained.ended;
      }
      if (o.signal?.aborted) throw aborted(o);
      if (data.size < o.bytes && ranges && cut === undefined && data.size >= end) {
        // This segment's request is done: ask for the next one at once.
        await reader.cancel();
        idle = 0;
        pause = false;
        continue;
      }
      if (data.size < o.bytes) {
        retryOrThrow(
          request.stalled
            ? stalledError(data.size)
            : new ModelLoaderError(
                'NETWORK_ERROR',
                cut !== undefined
                  ? `chunk ${o.index}: connection lost after ${data.size} of ${o.bytes} bytes: ${(cut as Error)?.message ?? cut}`
                  : `chunk ${o.index}: the body ended after ${data.size} of ${o.bytes} bytes`,
                { chunkIndex: o.index, url: o.url, ...(cut !== undefined ? { cause: cut } : {}) },
              ),
          data.size > before,
        );
        continue;
      }
      await reader.cancel();
      const actual = hasher.digest('hex');
      if (actual === o.sha256) return data.toBlob();
      failedChecks++;
      const error = new ModelLoaderError(
        'CHUNK_HASH_MISMATCH',
        `chunk ${o.index} (${o.url}) failed verification: expected sha256 ${o.sha256}, got ${actual}`,
        { chunkIndex: o.index, url: o.url },
      );
      await discard();
      if (failedChecks >= 2) throw error;
      retryOrThrow(error, true);
    } finally {
      request.done();
    }
  }
}
