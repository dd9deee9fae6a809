/** One stored answer of `httpCachedFetch`. */
interface Entry {
  body: Uint8Array<ArrayBuffer>;
  headers: Headers;
  etag: string | null;
  /** Until when the copy may be reused without asking (`max-age`); 0: always revalidated. */
  freshUntil: number;
}

/**
 * A fetch with a browser's HTTP cache in front of it (Node's fetch has none), enough to replay
 * what Chromium did in the fault-sequence test (issue 28). A whole 200 answer to a GET is stored
 * with its `ETag` unless it says `no-store`, as it came (a body cut short too). By the request's
 * `cache` mode: `default` answers from a copy while its `max-age` runs and revalidates it
 * otherwise (`If-None-Match`; a 304 answers from the copy); `no-cache` always revalidates;
 * `reload` asks the server and stores its answer; `no-store` bypasses the cache. A Range request
 * answered from a copy gets a 206 cut from it. `modes` lists each request's URL and mode.
 */
export function httpCachedFetch(real: typeof fetch = fetch) {
  const entries = new Map<string, Entry>();
  const modes: [string, RequestCache][] = [];
  const answer = (e: Entry, range: string | null): Response => {
    const headers = new Headers(e.headers);
    const m = range ? /^bytes=(\d+)-(\d*)$/.exec(range) : null;
    if (!m) {
      headers.set('Content-Length', String(e.body.length));
      return new Response(e.body.slice(), { status: 200, headers });
    }
    const start = Number(m[1]);
    const end = Math.min(m[2] ? Number(m[2]) : Infinity, e.body.length - 1);
    headers.set('Content-Range', `bytes ${start}-${end}/${e.body.length}`);
    headers.set('Content-Length', String(end - start + 1));
    return new Response(e.body.slice(start, end + 1), { status: 206, headers });
  };
  const cachedFetch: typeof fetch = async (input, init = {}) => {
    const url = String(input);
    const mode = init.cache ?? 'default';
    modes.push([url, mode]);
    const { cache: _cache, ...rest } = init;
    const headers = new Headers(rest.headers);
    const range = headers.get('Range');
    const stored = mode === 'default' || mode === 'no-cache' ? entries.get(url) : undefined;
    if (stored && mode === 'default' && Date.now() < stored.freshUntil)
      return answer(stored, range);
    if (stored?.etag) headers.set('If-None-Match', stored.etag);
    const response = await real(url, { ...rest, headers });
    if (stored && response.status === 304) return answer(stored, range);
    const cacheControl = response.headers.get('Cache-Control') ?? '';
    if (
      mode === 'no-store' ||
      response.status !== 200 ||
      range ||
      (rest.method ?? 'GET') !== 'GET' ||
      /no-store/.test(cacheControl)
    )
      return response;
    const maxAge = /max-age=(\d+)/.exec(cacheControl);
    const entry: Entry = {
      body: new Uint8Array(await response.arrayBuffer()),
      headers: new Headers(response.headers),
      etag: response.headers.get('ETag'),
      freshUntil: maxAge ? Date.now() + Number(maxAge[1]) * 1000 : 0,
    };
    entries.set(url, entry);
    return answer(entry, null);
  };
  return { fetch: cachedFetch, modes };
}
