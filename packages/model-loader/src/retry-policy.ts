/** Longest wait between two attempts that the loader chooses itself (ms). */
export const MAX_BACKOFF_MS = 30_000;

/**
 * Exponential backoff with jitter: attempt 1 waits `base` × (0.5-1), attempt 2 twice that, …,
 * capped at `MAX_BACKOFF_MS`. The jitter keeps tabs and chunks that failed together from
 * retrying together.
 */
export function backoffMs(attempt: number, baseMs: number, random: () => number): number {
  const exp = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp * (0.5 + random() / 2));
}

/**
 * What a 429 / 503 answer's `Retry-After` asks for (seconds or an HTTP date), capped at `capMs`;
 * undefined when it has none (or one that does not parse).
 */
export function retryAfterMs(
  headers: Headers,
  capMs: number,
  now: number = Date.now(),
): number | undefined {
  const h = headers.get('Retry-After')?.trim();
  if (!h) return undefined;
  let ms: number;
  if (/^\d+$/.test(h)) ms = Number(h) * 1000;
  else {
    const at = Date.parse(h);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(capMs, Math.max(0, ms));
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', stop, { once: true });
  });
}
