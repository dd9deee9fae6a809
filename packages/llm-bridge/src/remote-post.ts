import {
  RemoteModelError,
  remoteAborted,
  type RemoteModelErrorCode,
} from './remote-model-error.js';
import { retryAfterMs } from './retry-after.js';

/** What a POST to an OpenAI-compatible endpoint needs of the client's config. */
export interface PostSettings {
  /** Sent as `Authorization: Bearer …`; removed from every text quoted in an error. */
  apiKey?: string;
  /** Retries of a 429 / 503 answer (default 2). */
  maxRetries?: number;
  headers?: Record<string, string>;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });

/** `text` without the API key (it could come back in a server's or the network's message). */
export function withoutKey(text: string, apiKey: string | undefined): string {
  return apiKey ? text.split(apiKey).join('[key]') : text;
}

function unreachable(url: string, error: unknown, settings: PostSettings): RemoteModelError {
  const said = withoutKey(String((error as Error)?.message ?? error), settings.apiKey);
  return new RemoteModelError(
    'REMOTE_UNREACHABLE',
    `cannot reach ${url} (${said}): is the server running, and does it allow this page's origin (CORS)?`,
    url,
    undefined,
    { cause: error },
  );
}

function httpError(url: string, res: Response, text: string, retries: number): RemoteModelError {
  const code: RemoteModelErrorCode =
    res.status === 401 || res.status === 403
      ? 'REMOTE_UNAUTHORIZED'
      : res.status === 429
        ? 'REMOTE_RATE_LIMITED'
        : 'REMOTE_HTTP_ERROR';
  const hint =
    code === 'REMOTE_UNAUTHORIZED'
      ? ': check the API key'
      : code === 'REMOTE_RATE_LIMITED'
        ? `: still rate limited after ${retries} retries`
        : '';
  return new RemoteModelError(
    code,
    `${url} answered HTTP ${res.status}${hint}${text ? ` (${text})` : ''}`,
    url,
    res.status,
  );
}

/** POSTs `body` as JSON to `url`; retries 429 / 503 after `Retry-After`; maps failures to codes. */
export async function postJson(
  url: string,
  body: object,
  settings: PostSettings,
  signal: AbortSignal | undefined,
): Promise<Response> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    ...settings.headers,
  };
  if (settings.apiKey) headers['Authorization'] = `Bearer ${settings.apiKey}`;
  const retries = settings.maxRetries ?? 2;
  for (let attempt = 0; ; attempt++) {
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if (signal?.aborted) throw remoteAborted(url, error);
      throw unreachable(url, error, settings);
    }
    if (res.ok) return res;
    const text = withoutKey((await res.text().catch(() => '')).slice(0, 300), settings.apiKey);
    if ((res.status === 429 || res.status === 503) && attempt < retries) {
      // Retry-After (seconds or an HTTP date; a cross-origin server must list it in
      // Access-Control-Expose-Headers for a page to read it), else 1 s, 2 s, ...; at most 30 s.
      await sleep(
        retryAfterMs(res.headers, 30_000) ?? Math.min(30_000, 1000 * 2 ** attempt),
        signal,
      );
      continue;
    }
    throw httpError(url, res, text, retries);
  }
}
