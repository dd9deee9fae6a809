import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gzipSync } from 'node:zlib';

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

/** The validators of one version of a file. */
interface FileVersion {
  data: Uint8Array;
  etag: string;
  /** Whole seconds (HTTP dates have no finer resolution). */
  lastModified: number;
  gzipped?: Uint8Array;
}

/** Whether an `If-None-Match` list names `etag` (weak comparison, as RFC 9110 says for it). */
function noneMatch(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  const bare = (t: string) => t.trim().replace(/^W\//, '');
  return header.split(',').some((t) => bare(t) === bare(etag));
}

/** Whether `Accept-Encoding` allows gzip (a `q=0` refuses it). */
function acceptsGzip(header: string | undefined): boolean {
  return (header ?? '').split(',').some((part) => {
    const [name, ...params] = part.trim().split(';');
    if (name?.trim().toLowerCase() !== 'gzip' && name?.trim() !== '*') return false;
    const q = params.map((p) => /^\s*q=([\d.]+)/.exec(p)?.[1]).find((v) => v !== undefined);
    return q === undefined || Number(q) > 0;
  });
}

/**
 * A real HTTP server for download tests (Node unit tests and the Chromium fault suites): serves
 * in-memory files with HTTP's semantics (Range with 206 and 416, a strong `ETag` and
 * `Last-Modified`, 304 for `If-None-Match` / `If-Modified-Since`, `If-Range`, HEAD, per file a
 * `Cache-Control` variant and gzip only when the request's `Accept-Encoding` asks), CORS (any
 * origin, `Range` and the conditional headers allowed, `Content-Range`, `Retry-After`, `ETag`,
 * `Last-Modified` and `Content-Encoding` exposed), and misbehaves on purpose per file. Two
 * listening ports share the files so that a redirect can cross origins. `log` records every
 * request and the body bytes sent for it. `repack` replaces a file's bytes at the same URL, with
 * new validators.
 */
export async function startFaultServer(
  files: Record<string, Uint8Array | string>,
  options: FaultServerOptions = {},
) {
  const faults = new Map<string, Fault[]>();
  const log: FaultLogEntry[] = [];
  const open = new Map<ServerResponse, { entry: FaultLogEntry; since: number }>();
  const queuedOn = new WeakMap<Socket, Set<ServerResponse>>();
  const servers: Server[] = [];
  const origins: string[] = [];
  const validators = options.validators ?? true;
  const served = new Map<string, FileVersion>();
  const httpOf = new Map<string, FileHttpOptions>();
  let generation = 0;
  let lastStamp = 0;
  /** The version of `path` being served: new validators whenever its bytes are replaced. */
  const versionOf = (path: string): FileVersion | undefined => {
    const raw = files[path];
    if (raw === undefined) return undefined;
    const data = typeof raw === 'string' ? new TextEncoder().encode(raw) : raw;
    const known = served.get(path);
    if (known && (known.data === raw || (typeof raw === 'string' && sameBytes(known.data, data))))
      return known;
    // A later version is always at least a second newer, so that If-Modified-Since and a
    // Last-Modified in If-Range see the change.
    lastStamp = Math.max(Math.floor(Date.now() / 1000), lastStamp + 1);
    const version: FileVersion = {
      data: typeof raw === 'string' ? data : raw,
      etag: `"${(++generation).toString(36)}-${data.length.toString(36)}"`,
      lastModified: lastStamp,
    };
    served.set(path, version);
    return version;
  };

  const handle = (main: boolean) => (req: IncomingMessage, res: ServerResponse) => {
    const cors = {
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Headers':
        'Range, Content-Type, Authorization, If-Range, If-None-Match, If-Modified-Since, Cache-Control',
      'Access-Control-Expose-Headers':
        'Content-Range, Content-Length, Retry-After, ETag, Last-Modified, Content-Encoding, Accept-Ranges',
      'Cross-Origin-Resource-Policy': 'cross-origin',
      ...options.headers,
    };
    if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end();
    const url = new URL(req.url ?? '/', 'http://x');
    const path = decodeURIComponent(url.pathname.slice(1));
    const range = req.headers.range;
    const version = versionOf(path);
    let body = version?.data;
    const fault: Fault = (main ? faults.get(path)?.shift() : undefined) ?? 'ok';
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v.join(', ') : v;
    };
    const entry: FaultLogEntry = {
      path,
      range,
      fault,
      status: 0,
      bytesSent: 0,
      ...(req.method && req.method !== 'GET' ? { method: req.method } : {}),
      ...(header('if-range') ? { ifRange: header('if-range')! } : {}),
      ...(header('if-none-match') ? { ifNoneMatch: header('if-none-match')! } : {}),
      ...(header('if-modified-since') ? { ifModifiedSince: header('if-modified-since')! } : {}),
      ...(header('accept-encoding') ? { acceptEncoding: header('accept-encoding')! } : {}),
    };
    log.push(entry);
    const fileHttp = httpOf.get(path) ?? {};
    const caching: Record<string, string> =
      fileHttp.cacheControl && fileHttp.cacheControl !== 'none'
        ? { 'Cache-Control': fileHttp.cacheControl }
        : {};
    const validatorHeaders = (etag: string): Record<string, string> =>
      validators && version
        ? { ETag: etag, 'Last-Modified': new Date(version.lastModified * 1000).toUTCString() }
        : {};
    const head = (status: number, headers: Record<string, string> = {}) => {
      entry.status = status;
      res.writeHead(status, { ...cors, ...headers });
    };
    const headOnly = req.method === 'HEAD';
    const write = (data: Uint8Array) => {
      if (headOnly) return;
      entry.bytesSent += data.byteLength;
      res.write(data);
    };
    // Large bodies go out in 1 MiB pieces as the client reads them (backpressure), so that the
    // byte log counts what left, not what was queued.
    const pump = async (data: Uint8Array) => {
      if (headOnly) return;
      const PIECE = 2 ** 20;
      for (let at = 0; at < data.length && !res.destroyed; at += PIECE) {
        const piece = data.subarray(at, at + PIECE);
        entry.bytesSent += piece.byteLength;
        if (!res.write(piece)) await drained(res);
      }
    };
    open.set(res, { entry, since: Date.now() });
    res.on('close', () => open.delete(res));
    // A response queued behind another on a kept-alive connection (the browser reuses it once a
    // `drop-at` response's body is complete, before the reset) gets no 'close' of its own when
    // the reset closes the socket: Node ends only the request. The socket's close ends both.
    const socket = req.socket;
    let onSocket = queuedOn.get(socket);
    if (!onSocket) {
      const responses = new Set<ServerResponse>();
      queuedOn.set(socket, (onSocket = responses));
      socket.once('close', () => responses.forEach((r) => open.delete(r)));
    }
    onSocket.add(res);
    res.on('close', () => onSocket.delete(res));
    if (fault === 'stall-headers') return;
    if (!body || fault === '404') return void (head(404), res.end('not found'));
    if (fault === '500') return void (head(500), res.end('boom'));
    if (fault === '503') return void (head(503), res.end('busy'));
    const after = /^(503|429)-retry-(after|date):(\d+)$/.exec(fault);
    if (after) {
      const seconds = Number(after[3]);
      const value =
        after[2] === 'after'
          ? String(seconds)
          : new Date(Date.now() + seconds * 1000).toUTCString();
      return void (head(Number(after[1]), { 'Retry-After': value }), res.end('later'));
    }
    if (fault === 'redirect-other-origin' || fault === 'redirect-same-origin') {
      const target =
        fault === 'redirect-other-origin' ? `${origins[1]}/${path}` : `${origins[0]}/${path}?r=1`;
      return void (head(302, { Location: target }), res.end());
    }
    if (fault === 'html')
      return void (
        head(200, { 'Content-Type': 'text/html' }),
        res.end('<!doctype html><title>app</title>')
      );
    // Conditional requests (RFC 9110 section 13.2.2): If-None-Match, else If-Modified-Since,
    // then If-Range decides whether Range applies.
    const etag = version!.etag;
    if (validators) {
      const inm = header('if-none-match');
      const ims = Date.parse(header('if-modified-since') ?? '');
      const gzEtag = etag.replace(/"$/, '-gz"');
      if (
        inm !== undefined
          ? noneMatch(inm, etag) || (fileHttp.gzip === true && noneMatch(inm, gzEtag))
          : Number.isFinite(ims) && version!.lastModified * 1000 <= ims
      ) {
        const matched = inm !== undefined && !noneMatch(inm, etag) ? gzEtag : etag;
        return void (head(304, { ...validatorHeaders(matched), ...caching }), res.end());
      }
    }
    let rangeHeader = range;
    const ifRange = header('if-range');
    if (validators && rangeHeader !== undefined && ifRange !== undefined) {
      const value = ifRange.trim();
      // A strong ETag must match exactly; a date must be the exact Last-Modified.
      const holds = value.startsWith('"')
        ? value === etag
        : !value.startsWith('W/') && Date.parse(value) === version!.lastModified * 1000;
      if (!holds) rangeHeader = undefined;
    }
    let start = 0;
    let last = body.length - 1;
    const m = /^bytes=(\d*)-(\d*)$/.exec(rangeHeader ?? '');
    // A syntactically invalid range (no numbers, or last before first) is ignored: 200.
    const ranged =
      !!m &&
      (m[1] !== '' || m[2] !== '') &&
      !(m[1] !== '' && m[2] !== '' && Number(m[2]) < Number(m[1]));
    if (ranged && fault !== 'ignore-range' && fault !== 'wrong-range') {
      if (m[1] === '') {
        // A suffix range: the last N bytes.
        start = Math.max(0, body.length - Number(m[2]));
      } else {
        start = Number(m[1]);
        if (m[2]) last = Math.min(last, Number(m[2]));
        if (start >= body.length)
          return void (
            head(416, {
              'Content-Range': `bytes */${body.length}`,
              ...validatorHeaders(etag),
              ...caching,
            }),
            res.end()
          );
      }
    }
    if (ranged && fault === 'wrong-range' && m[1] !== '' && m[2])
      last = Math.min(last, Number(m[2]) - Number(m[1]));
    const partial = ranged && fault !== 'ignore-range';
    // gzip only for the whole file (200), only when the request asks and the file allows it.
    const gzip = fileHttp.gzip === true && !partial && acceptsGzip(header('accept-encoding'));
    if (gzip) {
      version!.gzipped ??= new Uint8Array(gzipSync(version!.data));
      body = version!.gzipped;
      last = body.length - 1;
      entry.encoding = 'gzip';
    }
    let data = body.subarray(start, last + 1);
    if (fault === 'corrupt-byte') {
      data = Uint8Array.from(data);
      data[Math.floor(data.length / 2)]! ^= 0xff;
    }
    const headers: Record<string, string> = {
      'Content-Type': 'application/octet-stream',
      'Accept-Ranges': 'bytes',
      ...validatorHeaders(gzip ? etag.replace(/"$/, '-gz"') : etag),
      ...caching,
      ...(fileHttp.gzip ? { Vary: 'Accept-Encoding' } : {}),
      ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
      ...(partial ? { 'Content-Range': `bytes ${start}-${last}/${body.length}` } : {}),
      ...(fault === 'truncate' || fault === 'extra-bytes'
        ? {}
        : { 'Content-Length': String(data.length) }),
    };
    head(partial ? 206 : 200, headers);
    if (headOnly) return void res.end();
    const cutAt =
      fault === 'drop-midway'
        ? Math.floor(data.length / 2)
        : Number(/^drop-at:(\d+)$/.exec(fault)?.[1] ?? NaN);
    if (Number.isFinite(cutAt)) {
      write(data.subarray(0, cutAt));
      // The reset comes once the page can have read what was sent: Chromium fails a reset
      // request without handing over bytes still in its buffers (on a loaded 2-core machine,
      // 20 ms lost all 1,000 or 32,768 bytes in about half the runs), and this fault is about
      // resuming after them.
      setTimeout(() => res.destroy(), 250);
      return;
    }
    const stallAt = Number(/^stall-at:(\d+)$/.exec(fault)?.[1] ?? NaN);
    if (Number.isFinite(stallAt)) return void write(data.subarray(0, stallAt));
    if (fault === 'truncate') {
      write(data.subarray(0, Math.floor(data.length / 2)));
      return void res.end();
    }
    const rate = Number(/^slow:(\d+)$/.exec(fault)?.[1] ?? NaN);
    if (Number.isFinite(rate)) {
      let at = 0;
      const step = Math.max(1, Math.floor(rate / 10));
      const tick = setInterval(() => {
        if (res.destroyed) return clearInterval(tick);
        write(data.subarray(at, at + step));
        at += step;
        if (at >= data.length) {
          clearInterval(tick);
          res.end();
        }
      }, 100);
      return;
    }
    void pump(data).then(() => {
      if (res.destroyed) return;
      if (fault === 'extra-bytes') write(new Uint8Array(1000));
      res.end();
    });
  };

  for (const main of [true, false]) {
    const server = createServer(handle(main));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    origins.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  }
  return {
    /** This server's origin, e.g. `http://127.0.0.1:40123`. */
    origin: origins[0]!,
    /** A second origin serving the same files (redirect target, another-origin tests). */
    otherOrigin: origins[1]!,
    url: (path: string) => `${origins[0]}/${path}`,
    /** Every request, with the body bytes sent. */
    log,
    /** Body bytes sent for `path` (all requests). */
    bytesSent: (path: string) =>
      log.filter((e) => e.path === path).reduce((s, e) => s + e.bytesSent, 0),
    /** Queues faults for the next requests of `path` (replacing what was queued; none: clears). */
    inject: (path: string, ...list: Fault[]) => faults.set(path, [...list]),
    /** The faults still queued for `path`, in order. */
    pending: (path: string): Fault[] => [...(faults.get(path) ?? [])],
    /** Drops every queued fault. */
    clearFaults: () => faults.clear(),
    /**
     * The requests still open (answering, stalled, or waiting to be reset): path, then the range,
     * fault, status, bytes sent and age, e.g. `seq/manifest.json (bytes=10-10, drop-at:10, 206,
     * 1 B sent, open 2013 ms)`.
     */
    inFlight: (): string[] =>
      [...open.values()].map(
        ({ entry: e, since }) =>
          `${e.path} (${e.range ? `${e.range}, ` : ''}${e.fault}, ${e.status || 'no status yet'}, ${e.bytesSent} B sent, open ${Date.now() - since} ms)`,
      ),
    /** Adds or replaces a file (new bytes get new validators). */
    set: (path: string, data: Uint8Array | string) => void (files[path] = data),
    /**
     * Replaces a file's bytes at the same URL (a model packed again): its `ETag` and
     * `Last-Modified` change, so `If-Range` and conditional requests see a new file. Returns the
     * new ETag.
     */
    repack: (path: string, data: Uint8Array | string) => {
      files[path] = data;
      return versionOf(path)!.etag;
    },
    /** The validators `path` is served with now (undefined for a missing file). */
    validators: (path: string) => {
      const v = versionOf(path);
      return v
        ? { etag: v.etag, lastModified: new Date(v.lastModified * 1000).toUTCString() }
        : undefined;
    },
    /** How `path` is served from now on: `Cache-Control` variant and gzip (merged with earlier calls). */
    http: (path: string, http: FileHttpOptions) =>
      void httpOf.set(path, { ...httpOf.get(path), ...http }),
    close: async () => {
      for (const res of open.keys()) res.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The handle `startFaultServer` resolves to. */
export type FaultServer = Awaited<ReturnType<typeof startFaultServer>>;

/** Resolves when `stream` (after a `write` that returned false) drains, or closes. */
export function drained(stream: NodeJS.WritableStream & NodeJS.EventEmitter): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
