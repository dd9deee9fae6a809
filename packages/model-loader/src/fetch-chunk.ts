import { ModelLoaderError } from './errors.js';
import { createSha256 } from './sha256.js';
import { Segments, streamToBlob } from './stream-to-blob.js';

/** How one chunk is fetched. */
export interface FetchChunkOptions {
  index: number;
  url: string;
  bytes: number;
  sha256: string;
  fetch: typeof fetch;
  /** Attempts after the first, on network errors, 5xx, 429 and hash mismatches. */
  retries: number;
  /** First backoff delay; doubles on each retry. */
  retryDelayMs: number;
  signal?: AbortSignal;
  /** Called with the number of new bytes as they stream in (negative when a partial chunk is discarded). */
  onBytes: (delta: number) => void;
}

const RETRYABLE_STATUS = (s: number) => s === 429 || s >= 500;

function aborted(index: number, url: string, signal: AbortSignal): ModelLoaderError {
  return new ModelLoaderError('ABORTED', `download of chunk ${index} was aborted`, {
    chunkIndex: index,
    url,
    cause: signal.reason,
  });
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/**
 * Downloads one chunk, hashing it while it streams. An interrupted body resumes with an HTTP
 * Range request when the server answers 206 (otherwise the chunk restarts). A size or hash
 * mismatch discards the data and retries, then fails with `CHUNK_HASH_MISMATCH`.
 */
export async function fetchChunk(o: FetchChunkOptions): Promise<Blob> {
  const data = new Segments();
  let hasher = await createSha256();
  let lastError: ModelLoaderError | undefined;
  const discard = async () => {
    o.onBytes(-data.size);
    data.reset();
    hasher = await createSha256();
  };
  for (let attempt = 0; attempt <= o.retries; attempt++) {
    if (attempt > 0) {
      try {
        await sleep(o.retryDelayMs * 2 ** (attempt - 1), o.signal);
      } catch {
        throw aborted(o.index, o.url, o.signal!);
      }
    }
    if (o.signal?.aborted) throw aborted(o.index, o.url, o.signal);
    const resumeAt = data.size;
    let response: Response;
    try {
      const headers: Record<string, string> = resumeAt > 0 ? { Range: `bytes=${resumeAt}-` } : {};
      response = await o.fetch(o.url, { headers, ...(o.signal ? { signal: o.signal } : {}) });
    } catch (cause) {
      if (o.signal?.aborted) throw aborted(o.index, o.url, o.signal);
      lastError = new ModelLoaderError(
        'NETWORK_ERROR',
        `chunk ${o.index}: network error: ${(cause as Error).message}`,
        { chunkIndex: o.index, url: o.url, cause },
      );
      continue;
    }
    if (resumeAt > 0 && response.status !== 206) await discard(); // no Range support: start over
    if (!response.ok) {
      const error = new ModelLoaderError(
        'HTTP_ERROR',
        `chunk ${o.index}: HTTP ${response.status} ${response.statusText}`.trim(),
        { chunkIndex: o.index, url: o.url, status: response.status },
      );
      await response.body?.cancel().catch(() => undefined);
      if (!RETRYABLE_STATUS(response.status)) throw error;
      lastError = error;
      continue;
    }
    if (!response.body)
      throw new ModelLoaderError('NETWORK_ERROR', `chunk ${o.index}: the response has no body`, {
        chunkIndex: o.index,
        url: o.url,
      });
    const reader = response.body.getReader();
    const drained = await streamToBlob(reader, o.bytes - data.size, (piece) => {
      hasher.update(piece);
      o.onBytes(piece.byteLength);
    });
    reader.releaseLock();
    data.add(drained.blob);
    if (drained.error !== undefined) {
      if (o.signal?.aborted) throw aborted(o.index, o.url, o.signal);
      // Keep what arrived; the next attempt asks for the rest with a Range request.
      lastError = new ModelLoaderError(
        'NETWORK_ERROR',
        `chunk ${o.index}: connection lost after ${data.size} bytes: ${(drained.error as Error).message}`,
        { chunkIndex: o.index, url: o.url, cause: drained.error },
      );
      continue;
    }
    const actual = data.size === o.bytes ? hasher.digest('hex') : `${data.size} bytes`;
    if (actual === o.sha256) return data.toBlob();
    const expected = data.size === o.bytes ? o.sha256 : `${o.bytes} bytes`;
    lastError = new ModelLoaderError(
      'CHUNK_HASH_MISMATCH',
      `chunk ${o.index} failed verification: expected ${expected}, got ${actual}`,
      { chunkIndex: o.index, url: o.url },
    );
    await response.body.cancel().catch(() => undefined);
    await discard();
  }
  throw (
    lastError ??
    new ModelLoaderError('NETWORK_ERROR', `chunk ${o.index}: download failed`, {
      chunkIndex: o.index,
      url: o.url,
    })
  );
}
