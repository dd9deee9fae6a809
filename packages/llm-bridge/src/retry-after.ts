// model-loader's `retryAfterMs`, written again here (the layers do not import each other);
// packages/test-fixtures' retry-after contract runs against both copies.

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
