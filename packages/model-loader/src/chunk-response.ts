import {
  aborted,
  discard,
  retryOrThrow,
  stalledError,
  type ChunkDownload,
} from './chunk-download.js';
import { ModelLoaderError } from './errors.js';
import {
  checkResponseOrigin,
  httpHint,
  isHtmlPage,
  isRetryableStatus,
  rangeStart,
  servedFileSize,
  type IdleRequest,
} from './network-policy.js';
import { retryAfterMs } from './retry-policy.js';

/** The Range header for bytes `position` to `end` of a chunk of `bytes` (none for all of it). */
export function rangeHeaders(position: number, end: number, bytes: number): Record<string, string> {
  const range =
    end < bytes ? `bytes=${position}-${end - 1}` : position > 0 ? `bytes=${position}-` : '';
  return range ? { Range: range } : {};
}

/** Asks for bytes `position` to `end`; undefined when the request failed and is to be retried. */
export async function requestChunk(
  d: ChunkDownload,
  request: IdleRequest,
  position: number,
  end: number,
): Promise<Response | undefined> {
  const { o } = d;
  try {
    // Once the chunk failed verification (or its bytes were thrown away), the browser's HTTP
    // cache must not answer again: a shard re-packed at the same URL would stay stale.
    return await o.fetch(o.url, {
      headers: rangeHeaders(position, end, o.bytes),
      signal: request.signal,
      ...(d.reload ? { cache: 'reload' as const } : {}),
    });
  } catch (cause) {
    if (o.signal?.aborted) throw aborted(o);
    if (position > 0 && d.idle === 0 && !request.stalled) await probeSize(d, request.signal);
    retryOrThrow(
      d,
      request.stalled
        ? stalledError(o, position)
        : new ModelLoaderError(
            'NETWORK_ERROR',
            `chunk ${o.index}: network error: ${(cause as Error).message}`,
            {
              chunkIndex: o.index,
              url: o.url,
              cause,
            },
          ),
      false,
    );
    return undefined;
  }
}

const cancel = (response: Response) => response.body?.cancel().catch(() => undefined);

/** `CHUNK_SIZE_MISMATCH`: the server itself (past the browser's HTTP cache) says `served`. */
function sizeMismatch(d: ChunkDownload, served: number, status: number): ModelLoaderError {
  const { o } = d;
  return new ModelLoaderError(
    'CHUNK_SIZE_MISMATCH',
    `chunk ${o.index}: the manifest says ${o.bytes} bytes, but ${o.url} is ${served} bytes (HTTP ${status}, asked past the browser's HTTP cache); the manifest and the files on the server do not match: pack the model again, or fix the manifest`,
    { chunkIndex: o.index, url: o.url, status },
  );
}

/**
 * After a resume failed with no answer: asks the file's first byte (past the HTTP cache), whose
 * `Content-Range` says its size, and throws `CHUNK_SIZE_MISMATCH` when that is not the
 * manifest's. nginx answers a Range past the end of a file cut short with a 416 that carries
 * its `add_header … always` CORS headers twice (a 416 without `always` carries none), which the
 * browser hides from the page as a network error; retrying it would only end in a
 * `NETWORK_ERROR` blaming the network. Any other outcome leaves the retry to go on.
 */
async function probeSize(d: ChunkDownload, signal: AbortSignal): Promise<void> {
  const { o } = d;
  let response: Response;
  try {
    response = await o.fetch(o.url, { headers: { Range: 'bytes=0-0' }, signal, cache: 'reload' });
  } catch {
    return;
  }
  const served = servedFileSize(response);
  await cancel(response);
  if (response.ok && served !== undefined && served !== o.bytes)
    throw sizeMismatch(d, served, response.status);
}

/**
 * A file of another size than the manifest says can never verify: true when it is to be asked
 * again past the browser's HTTP cache; `CHUNK_SIZE_MISMATCH` when the server itself says so.
 */
async function wrongSize(d: ChunkDownload, response: Response): Promise<boolean> {
  const { o } = d;
  const served = servedFileSize(response);
  if (served === undefined || served === o.bytes || !(response.ok || response.status === 416))
    return false;
  await cancel(response);
  if (!d.reload) {
    // The answer may be the browser's HTTP cache speaking (issue 28, bugs 2 and 6): a copy
    // of a file since re-packed at the same URL, still fresh under `max-age`; or a Range
    // answered from a cached gzip body, with the gzip length. Ask the server itself once
    // before blaming the manifest.
    d.reload = true;
    d.pause = false;
    return true;
  }
  throw sizeMismatch(d, served, response.status);
}

/**
 * Checks an answer to a request for bytes from `position`: its origin, size, status, type and
 * range. Returns the body to read, or undefined when the attempt is over (and counted); a
 * server that ignores Range restarts the chunk from byte 0.
 */
export async function acceptResponse(
  d: ChunkDownload,
  response: Response,
  position: number,
): Promise<ReadableStream<Uint8Array> | undefined> {
  const { o } = d;
  const about = { chunkIndex: o.index, url: o.url };
  checkResponseOrigin(response, o, `chunk ${o.index}`, o.index);
  if (await wrongSize(d, response)) return undefined;
  if (!response.ok) {
    await cancel(response);
    const error = new ModelLoaderError(
      'HTTP_ERROR',
      `chunk ${o.index}: HTTP ${`${response.status} ${response.statusText}`.trim()} from ${o.url}: ${httpHint(response.status)}`,
      { ...about, status: response.status },
    );
    if (!isRetryableStatus(response.status)) throw error;
    d.wait = retryAfterMs(response.headers, o.maxRetryAfterMs);
    retryOrThrow(d, error, false);
    return undefined;
  }
  if (isHtmlPage(response)) {
    // A captive portal or a wrong URL: not the chunk; nothing of it is kept.
    await cancel(response);
    const why = `${o.url} answered an HTML page, not the chunk (a captive portal, or a wrong URL?)`;
    const error = new ModelLoaderError('NETWORK_ERROR', `chunk ${o.index}: ${why}`, {
      ...about,
      status: response.status,
    });
    retryOrThrow(d, error, false);
    return undefined;
  }
  const start = rangeStart(response);
  if (response.status === 206 && start !== undefined && start !== position) {
    // A range that is not ours: start the chunk over without Range.
    await cancel(response);
    await discard(d);
    d.ranges = false;
    const why = `the server answered bytes ${start}- to a request for bytes=${position}-`;
    retryOrThrow(
      d,
      new ModelLoaderError('NETWORK_ERROR', `chunk ${o.index}: ${why}`, about),
      false,
    );
    return undefined;
  }
  if (response.status !== 206) {
    // No Range support: the whole chunk comes in this response, from byte 0.
    d.ranges = false;
    if (position > 0) await discard(d);
  } else d.ranges = true;
  if (!response.body)
    throw new ModelLoaderError(
      'NETWORK_ERROR',
      `chunk ${o.index}: the response has no body`,
      about,
    );
  return response.body;
}
