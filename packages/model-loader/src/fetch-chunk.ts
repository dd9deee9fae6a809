import {
  aborted,
  discard,
  planDownload,
  retryOrThrow,
  stalledError,
  verdict,
  type ChunkDownload,
  type FetchChunkOptions,
} from './chunk-download.js';
import { acceptResponse, requestChunk } from './chunk-response.js';
import { resumeDownload } from './chunk-resume.js';
import { readBody, type BodyRead } from './chunk-segment.js';
import { ModelLoaderError } from './errors.js';
import { idleRequest, type IdleRequest } from './network-policy.js';
import { backoffMs, sleep } from './retry-policy.js';

export type { FetchChunkOptions } from './chunk-download.js';

/** The chunk is here and verified: its Blob, or null when the caller does not keep it. */
type Finished = { blob: Blob | null };

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
 *
 * The steps, each in its own module: plan (`planDownload`), resume (`resumeDownload`), then
 * attempts until the chunk is done: wait, request (`requestChunk`), check the answer
 * (`acceptResponse`), read and verify segments as they fill (`readBody`), settle (`settle`).
 */
export async function fetchChunk(o: FetchChunkOptions): Promise<Blob | null> {
  const d = await planDownload(o);
  await resumeDownload(d);
  if (d.data.size === o.bytes) {
    // Every segment was stored before the chunk was (an abort or a reload right after its last
    // bytes): it completes here, with no request (a Range from its end would get 416).
    const v = verdict(d);
    if (!(v instanceof ModelLoaderError)) return v.blob;
    d.failedChecks++;
    await discard(d);
  }
  for (;;) {
    await beforeAttempt(d);
    const finished = await attempt(d);
    if (finished) return finished.blob;
  }
}

/** Waits before an attempt that follows a failure (`Retry-After`, or backoff); stops on abort. */
export async function beforeAttempt(d: ChunkDownload): Promise<void> {
  const { o } = d;
  if (d.pause) {
    try {
      await sleep(d.wait ?? backoffMs(d.idle || 1, o.retryDelayMs, o.random), o.signal);
    } catch {
      throw aborted(o);
    }
  }
  d.pause = true;
  d.wait = undefined;
  if (o.signal?.aborted) throw aborted(o);
}

/**
 * One request: while the server honours Range, the chunk is asked for `span` bytes at a time,
 * so that little is ever in flight beyond what is persisted (browsers read ahead of a stream's
 * reader by tens of MB). The caller's abort, and the idle timer (restarted by every piece), end it.
 */
async function attempt(d: ChunkDownload): Promise<Finished | undefined> {
  const { o } = d;
  const position = d.data.size + d.pending;
  const end = d.ranges === false ? o.bytes : Math.min(o.bytes, d.data.size + d.span);
  const request = idleRequest(o.signal, o.idleTimeoutMs);
  try {
    const response = await requestChunk(d, request, position, end);
    const body = response && (await acceptResponse(d, response, position));
    if (!body) return undefined;
    const read = await readBody(d, body, request, d.ranges ? end : o.bytes);
    return await settle(d, read, request, end);
  } finally {
    request.done();
  }
}

/**
 * After a body: the next range at once, a retry (a block that failed, a body cut short), or the
 * chunk's verdict (a chunk that fails it twice ends with `CHUNK_HASH_MISMATCH`).
 */
export async function settle(
  d: ChunkDownload,
  read: BodyRead,
  request: Pick<IdleRequest, 'stalled'>,
  end: number,
): Promise<Finished | undefined> {
  const { o } = d;
  const got = d.data.size + d.pending;
  if (read.bad) {
    if ((d.blockFailures.get(got / d.seg) ?? 0) >= 2) throw read.bad;
    retryOrThrow(d, read.bad, true);
    d.pause = false;
    return undefined;
  }
  if (got < o.bytes && d.ranges && read.cut === undefined && got >= end) {
    // This segment's request is done: ask for the next one at once.
    d.idle = 0;
    d.pause = false;
    return undefined;
  }
  if (got < o.bytes) {
    retryOrThrow(
      d,
      request.stalled ? stalledError(o, got) : cutShort(d, read, got),
      got > read.before,
    );
    return undefined;
  }
  const v = verdict(d);
  if (!(v instanceof ModelLoaderError)) return v;
  d.failedChecks++;
  await discard(d);
  if (d.failedChecks >= 2) throw v;
  retryOrThrow(d, v, true);
  return undefined;
}

/** A body that ended (or broke) after `got` bytes of the chunk. */
function cutShort(d: ChunkDownload, read: BodyRead, got: number): ModelLoaderError {
  const { o } = d;
  const { cut } = read;
  return new ModelLoaderError(
    'NETWORK_ERROR',
    cut !== undefined
      ? `chunk ${o.index}: connection lost after ${got} of ${o.bytes} bytes: ${(cut as Error)?.message ?? cut}`
      : `chunk ${o.index}: the body ended after ${got} of ${o.bytes} bytes`,
    { chunkIndex: o.index, url: o.url, ...(cut !== undefined ? { cause: cut } : {}) },
  );
}
