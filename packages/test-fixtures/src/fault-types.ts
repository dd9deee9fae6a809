/**
 * What the fault server does with the next request for a file (one entry per request, in
 * order; then `ok`). Numbers are bytes or seconds as named.
 */
export type Fault =
  | 'ok'
  | '404'
  | '500'
  | '503'
  /** 503 / 429 with `Retry-After: N` seconds. */
  | `503-retry-after:${number}`
  | `429-retry-after:${number}`
  /** 429 with `Retry-After` as an HTTP date N seconds ahead. */
  | `429-retry-date:${number}`
  /** Sends half the body, then resets the connection. */
  | 'drop-midway'
  /** Sends N bytes, then resets the connection. */
  | `drop-at:${number}`
  /** Sends N bytes, then sends nothing more and never ends (a stalled connection). */
  | `stall-at:${number}`
  /** Never answers at all (no status line). */
  | 'stall-headers'
  /** Sends half the body and ends the response cleanly (no Content-Length). */
  | 'truncate'
  /** Flips one byte in the middle. */
  | 'corrupt-byte'
  /** Answers 200 with the whole file to a Range request. */
  | 'ignore-range'
  /** Answers a Range request with 206 from offset 0. */
  | 'wrong-range'
  /** 302 to the same path on the other origin of this server (`otherOrigin`). */
  | 'redirect-other-origin'
  /** 302 to the same path with `?r=1` on this origin. */
  | 'redirect-same-origin'
  /** 200 with an HTML page (a dev server's SPA fallback). */
  | 'html'
  /** Sends the body at N bytes per second. */
  | `slow:${number}`
  /** Sends the body and then some more bytes. */
  | 'extra-bytes';

/** One request as the server saw it. */
export interface FaultLogEntry {
  path: string;
  range: string | undefined;
  fault: Fault;
  status: number;
  /** Body bytes written to the socket for this request (after any `Content-Encoding`). */
  bytesSent: number;
  method?: string;
  /** The request's validators, as sent. */
  ifRange?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  acceptEncoding?: string;
  /** `Content-Encoding` of the answer (only `gzip`, when the request asked and the file allows). */
  encoding?: string;
}

/**
 * The `Cache-Control` a file is served with: `none` sends no header (browsers then cache by
 * heuristics from `Last-Modified`), the others are sent as written.
 */
export type CacheControl = 'none' | 'no-cache' | 'no-store' | `max-age=${number}`;

/** How one file is served (`FaultServer.http`). */
export interface FileHttpOptions {
  /** `Cache-Control` of its answers (default `none`). */
  cacheControl?: CacheControl;
  /**
   * Answer a request whose `Accept-Encoding` allows gzip with `Content-Encoding: gzip` (and its
   * own strong ETag) when the whole file is sent (200); Range answers stay identity (default off).
   */
  gzip?: boolean;
}

/** Options of `startFaultServer`. */
export interface FaultServerOptions {
  /** Extra headers on every answer (e.g. COOP/COEP for a page served from here). */
  headers?: Record<string, string>;
  /**
   * Real HTTP validators (default true): a strong `ETag` and a `Last-Modified` on every file
   * answer, `If-None-Match` / `If-Modified-Since` answered 304, `If-Range` honoured (a validator
   * that does not match gets 200 with the whole file). False: none of them, as before.
   */
  validators?: boolean;
}
