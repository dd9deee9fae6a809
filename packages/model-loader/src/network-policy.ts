import { ModelLoaderError } from './errors.js';
import { backoffMs, retryAfterMs, sleep } from './retry-policy.js';

/** How the loader talks to the network: the same rules for manifests, models.json and chunks. */
export interface NetworkPolicy {
  fetch: typeof fetch;
  /** Attempts that receive nothing, after the first (network errors, stalls, 408/425/429/5xx). */
  retries: number;
  /** First backoff delay (ms); doubles on each attempt, with jitter. */
  retryDelayMs: number;
  /** A request that sends no bytes for this long is aborted (and resumed with Range). */
  idleTimeoutMs: number;
  /** Longest `Retry-After` honoured (ms); a longer one is cut to this. */
  maxRetryAfterMs: number;
  /** Origins a response may come from after redirects (undefined: any). */
  allowedOrigins?: ReadonlySet<string>;
  /** Source of jitter (tests pass a fixed one). */
  random: () => number;
}

/**
 * Whether a response is an HTML page (a captive portal, or a dev server's index.html for a
 * wrong path) where a file was expected.
 */
export function isHtmlPage(response: Response): boolean {
  return /^text\/html/i.test(response.headers.get('Content-Type') ?? '');
}

/** The start of a 206 answer's `Content-Range` (`bytes 100-199/200`), or undefined. */
export function rangeStart(response: Response): number | undefined {
  const m = /^bytes (\d+)-/.exec(response.headers.get('Content-Range') ?? '');
  return m ? Number(m[1]) : undefined;
}

/**
 * The size of the whole file a response speaks for: `Content-Range`'s total (`bytes 0-9/123`,
 * or a star and the total on a 416), or a 200's `Content-Length` when the body is not encoded; undefined
 * when the response does not say.
 */
export function servedFileSize(response: Response): number | undefined {
  const range = /\/(\d+)\s*$/.exec(response.headers.get('Content-Range') ?? '');
  if (range) return Number(range[1]);
  const length = response.headers.get('Content-Length');
  if (response.status === 200 && length !== null && !response.headers.get('Content-Encoding'))
    return Number(length);
  return undefined;
}

/** What to do about an HTTP status the loader gives up on. */
export function httpHint(status: number): string {
  if (status === 404 || status === 410)
    return "the file is not at this path: check the URL (or the manifest's `file`, and that every shard was uploaded)";
  if (status === 401 || status === 403)
    return 'the server refuses it: a private or gated repository needs a token (a Hugging Face token for gated models), and a signed URL may have expired';
  if (status === 416)
    return 'the server holds less than the manifest says: the manifest and the files on the server do not match';
  if (status === 429 || status === 503) return 'the server is busy: try again later';
  if (status >= 500) return 'the server failed: try again later, or tell whoever runs it';
  return 'check the URL';
}

/**
 * What to do when no answer came after every attempt: offline, or a server this page may not
 * read (CORS), named with this page's origin.
 */
export function networkHint(attempts: number): string {
  const nav = (globalThis as { navigator?: { onLine?: boolean } }).navigator;
  const origin = (globalThis as { location?: { origin?: string } }).location?.origin;
  if (nav?.onLine === false)
    return `after ${attempts} attempts: this device is offline; load again once the network is back (what was downloaded is kept)`;
  return `after ${attempts} attempts: check the network, and that the server answers this page's origin${origin ? ` (${origin})` : ''} with Access-Control-Allow-Origin (a CORS failure looks like this); loading again resumes where it stopped`;
}

/** Statuses worth another attempt. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/** The Hugging Face Hub's origins: the files it lists are served from its CDN after a redirect. */
const HUB_ORIGINS: ReadonlySet<string> = new Set(['https://huggingface.co', 'https://hf.co']);
/** The Hub's download hosts (`cdn-lfs*.hf.co`, `cas-bridge.xethub.hf.co`, …): https only. */
const HUB_CDN = /^https:\/\/(?:[a-z0-9-]+\.)+(?:hf\.co|huggingface\.co)$/;

/**
 * Whether a response from `origin` may be read: an allowed origin, or one of the Hub's download
 * hosts when the Hub itself is allowed (every LFS file on huggingface.co redirects there, to
 * hosts that change over time, so listing them is the Hub's decision, not the page's).
 */
export function originAllowed(origin: string, allowed: ReadonlySet<string>): boolean {
  if (allowed.has(origin)) return true;
  return HUB_CDN.test(origin) && [...allowed].some((o) => HUB_ORIGINS.has(o));
}

/**
 * The final origin rule: after redirects, a response must still come from an allowed origin (a
 * same-origin URL that redirects to another origin is refused, as a manifest URL on that
 * origin would be).
 */
export function checkResponseOrigin(
  response: Response,
  policy: Pick<NetworkPolicy, 'allowedOrigins'>,
  what: string,
  chunkIndex?: number,
): void {
  if (!policy.allowedOrigins || !response.url) return;
  const origin = new URL(response.url).origin;
  if (originAllowed(origin, policy.allowedOrigins)) return;
  void response.body?.cancel().catch(() => undefined);
  throw new ModelLoaderError(
    'ORIGIN_NOT_ALLOWED',
    `${what} was redirected to ${origin}, which is not an allowed origin (${[...policy.allowedOrigins].join(', ')}); pass it in allowedOrigins to allow it`,
    { url: response.url, ...(chunkIndex !== undefined ? { chunkIndex } : {}) },
  );
}

/**
 * One request's abort: the caller's signal, and an idle timer (started now, restarted by
 * `arm()`) that aborts the request when no bytes come for `idleTimeoutMs` and sets `stalled`.
 * `done()` stops both.
 */
export function idleRequest(signal: AbortSignal | undefined, idleTimeoutMs: number) {
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const request = {
    signal: controller.signal,
    stalled: false,
    arm() {
      clearTimeout(timer);
      timer = setTimeout(() => {
        request.stalled = true;
        controller.abort(new Error(`no bytes for ${idleTimeoutMs / 1000} s`));
      }, idleTimeoutMs);
    },
    done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
  request.arm();
  return request;
}

/** Defaults of `NetworkPolicy`. */
export function networkPolicy(options: Partial<NetworkPolicy> = {}): NetworkPolicy {
  return {
    fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    retries: options.retries ?? 4,
    retryDelayMs: options.retryDelayMs ?? 500,
    idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
    random: options.random ?? Math.random,
    ...(options.allowedOrigins ? { allowedOrigins: options.allowedOrigins } : {}),
  };
}

/** One request's idle-timed abort (`idleRequest`). */
export type IdleRequest = ReturnType<typeof idleRequest>;

/** What a request is, for its errors. */
export interface RequestLabel {
  /** What is fetched, e.g. `manifest` or `GGUF file 0`. */
  what: string;
  url: string;
  chunkIndex?: number;
}

/**
 * One request under the loader's network rules, answered in full by `read`: network errors,
 * stalls (no bytes for `idleTimeoutMs`) and 408/425/429/5xx answers are tried again, waiting for
 * `Retry-After` where the answer has one and backing off with jitter otherwise, up to `retries`
 * times; after redirects the answer must come from an allowed origin. `read` turns an OK answer
 * into the result (calling `request.arm()` as bytes come keeps the idle timer off): its
 * `ModelLoaderError`s are final, anything else it throws (a body cut midway) is a network error.
 * @throws {ModelLoaderError} `HTTP_ERROR` (URL and status), `NETWORK_ERROR`, `ABORTED`,
 *   `ORIGIN_NOT_ALLOWED`, or what `read` throws.
 */
export async function fetchWithRetries<T>(
  label: RequestLabel,
  policy: NetworkPolicy,
  signal: AbortSignal | undefined,
  read: (response: Response, request: IdleRequest) => Promise<T>,
  init: RequestInit = {},
): Promise<T> {
  const { what, url } = label;
  const where = label.chunkIndex !== undefined ? { chunkIndex: label.chunkIndex } : {};
  const aborted = () =>
    new ModelLoaderError('ABORTED', `fetching the ${what} was aborted`, {
      url,
      ...where,
      cause: signal?.reason,
    });
  let failures = 0;
  for (;;) {
    if (signal?.aborted) throw aborted();
    const request = idleRequest(signal, policy.idleTimeoutMs);
    let error: ModelLoaderError;
    let wait: number | undefined;
    try {
      const response = await policy.fetch(url, { ...init, signal: request.signal });
      checkResponseOrigin(response, policy, `the ${what} ${url}`, label.chunkIndex);
      if (response.ok) {
        request.arm();
        return await read(response, request);
      }
      await response.body?.cancel().catch(() => undefined);
      error = new ModelLoaderError(
        'HTTP_ERROR',
        `${what} ${url}: HTTP ${response.status}: ${httpHint(response.status)}`,
        { url, ...where, status: response.status },
      );
      if (!isRetryableStatus(response.status)) throw error;
      wait = retryAfterMs(response.headers, policy.maxRetryAfterMs);
    } catch (cause) {
      if (cause instanceof ModelLoaderError) throw cause;
      if (signal?.aborted) throw aborted();
      error = new ModelLoaderError(
        'NETWORK_ERROR',
        request.stalled
          ? `${what} ${url}: no bytes for ${policy.idleTimeoutMs / 1000} s`
          : `${what} ${url}: network error: ${(cause as Error).message}`,
        { url, ...where, cause },
      );
    } finally {
      request.done();
    }
    if (++failures > policy.retries)
      throw error.code === 'NETWORK_ERROR'
        ? new ModelLoaderError('NETWORK_ERROR', `${error.message}; ${networkHint(failures)}`, {
            url,
            ...where,
            cause: error.cause,
          })
        : error;
    try {
      await sleep(wait ?? backoffMs(failures, policy.retryDelayMs, policy.random), signal);
    } catch {
      // Aborted while waiting: the loop's first check reports it.
    }
  }
}

/**
 * Fetches a small JSON document (a manifest, a models.json) as text, with the chunks' retry,
 * idle-timeout and origin rules, and the HTTP cache mode `cache`. An HTML answer (a dev server's
 * SPA fallback for a wrong path) is reported as such, with the URL.
 * @throws {ModelLoaderError} `HTTP_ERROR` (URL and status), `NETWORK_ERROR`, `ABORTED`,
 *   `ORIGIN_NOT_ALLOWED`, or `invalidCode` for an HTML page.
 */
export function fetchJsonText(
  url: string,
  what: string,
  invalidCode: 'MANIFEST_INVALID' | 'MODELS_INDEX_INVALID',
  policy: NetworkPolicy,
  signal?: AbortSignal,
  cache?: RequestCache,
): Promise<string> {
  return fetchWithRetries(
    { what, url },
    policy,
    signal,
    async (response) => {
      const text = await response.text();
      if (/^\s*</.test(text))
        throw new ModelLoaderError(
          invalidCode,
          `the ${what} at ${url} is an HTML page, not JSON: check the URL (dev servers such as Vite answer a missing file with index.html)`,
          { url },
        );
      return text;
    },
    cache ? { cache } : {},
  );
}

/**
 * Fetches a JSON document (a manifest, a models.json) and parses it with `parse`, never from the
 * browser's HTTP cache (issue 28, bugs 1 and 5):
 * - it is asked with `cache: 'no-store'`: the whole document from the server every time (a few
 *   KB). Revalidation (`no-cache`) is not enough: a server whose validators do not change when
 *   the file does (nginx's `ETag` is the mtime in seconds and the size, so a manifest
 *   re-published within a second at the same size, or deployed with fixed mtimes as
 *   reproducible builds are, keeps it) answers 304 and the old version loads forever; and a body
 *   cut short would be stored under the file's real `ETag`;
 * - when what came back does not parse or validate (`invalidCode` from `parse`), it is fetched
 *   once more (`cache: 'reload'`): a body cut short by the network. The second answer's verdict
 *   is final.
 * @throws {ModelLoaderError} what `fetchJsonText` and `parse` throw.
 */
export async function fetchJsonDocument<T>(
  url: string,
  what: string,
  invalidCode: 'MANIFEST_INVALID' | 'MODELS_INDEX_INVALID',
  policy: NetworkPolicy,
  signal: AbortSignal | undefined,
  parse: (text: string) => T,
): Promise<T> {
  const text = await fetchJsonText(url, what, invalidCode, policy, signal, 'no-store');
  try {
    return parse(text);
  } catch (error) {
    if (!(error instanceof ModelLoaderError) || error.code !== invalidCode) throw error;
  }
  return parse(await fetchJsonText(url, what, invalidCode, policy, signal, 'reload'));
}
