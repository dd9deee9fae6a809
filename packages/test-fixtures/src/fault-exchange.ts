import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { Fault, FaultLogEntry, FileHttpOptions } from './fault-types.js';
import type { FileVersion, FileVersions } from './file-versions.js';
import {
  acceptsGzip,
  gzipEtag,
  notModified,
  parseRange,
  rangeAfterIfRange,
} from './http-semantics.js';

/** What every request of one fault server shares. */
export interface FaultServerState {
  faults: Map<string, Fault[]>;
  log: FaultLogEntry[];
  /** The responses still open, with their log entry and start time. */
  open: Map<ServerResponse, { entry: FaultLogEntry; since: number }>;
  queuedOn: WeakMap<Socket, Set<ServerResponse>>;
  /** The two listening origins (the second: the redirect target). */
  origins: string[];
  validators: boolean;
  versions: FileVersions;
  httpOf: Map<string, FileHttpOptions>;
  headers: Record<string, string> | undefined;
}

/** The body an answer sends: `data` is `[start, last]` of `total` bytes (after any gzip). */
interface Span {
  data: Uint8Array;
  start: number;
  last: number;
  total: number;
  partial: boolean;
  gzip: boolean;
}

const PIECE = 2 ** 20;

/** Answers one request (`main`: the first origin, where faults apply). */
export function answer(
  state: FaultServerState,
  main: boolean,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const cors = {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Headers':
      'Range, Content-Type, Authorization, If-Range, If-None-Match, If-Modified-Since, Cache-Control',
    'Access-Control-Expose-Headers':
      'Content-Range, Content-Length, Retry-After, ETag, Last-Modified, Content-Encoding, Accept-Ranges',
    'Cross-Origin-Resource-Policy': 'cross-origin',
    ...state.headers,
  };
  if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end();
  new FaultExchange(state, main, req, res, cors).run();
}

/** One request and its answer: the fault it draws, HTTP's semantics, then the body. */
class FaultExchange {
  private readonly path: string;
  private readonly version: FileVersion | undefined;
  private readonly fault: Fault;
  private readonly entry: FaultLogEntry;
  private readonly fileHttp: FileHttpOptions;
  private readonly headOnly: boolean;

  constructor(
    private readonly state: FaultServerState,
    main: boolean,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly cors: Record<string, string>,
  ) {
    this.path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.slice(1));
    this.version = state.versions.of(this.path);
    this.fault = (main ? state.faults.get(this.path)?.shift() : undefined) ?? 'ok';
    const header = (name: string) => this.header(name);
    this.entry = {
      path: this.path,
      range: req.headers.range,
      fault: this.fault,
      status: 0,
      bytesSent: 0,
      ...(req.method && req.method !== 'GET' ? { method: req.method } : {}),
      ...(header('if-range') ? { ifRange: header('if-range')! } : {}),
      ...(header('if-none-match') ? { ifNoneMatch: header('if-none-match')! } : {}),
      ...(header('if-modified-since') ? { ifModifiedSince: header('if-modified-since')! } : {}),
      ...(header('accept-encoding') ? { acceptEncoding: header('accept-encoding')! } : {}),
    };
    state.log.push(this.entry);
    this.fileHttp = state.httpOf.get(this.path) ?? {};
    this.headOnly = req.method === 'HEAD';
  }

  run(): void {
    this.track();
    if (this.fault === 'stall-headers') return;
    if (this.answerFault()) return;
    const version = this.version!;
    if (this.state.validators) {
      const etag = notModified(
        version,
        this.header('if-none-match'),
        this.header('if-modified-since'),
        this.fileHttp.gzip === true,
      );
      if (etag !== undefined)
        return void this.reply(304, { ...this.validatorHeaders(etag), ...this.caching() });
    }
    const span = this.span(version);
    if (span) this.send(version, span);
  }

  private header(name: string): string | undefined {
    const v = this.req.headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  }

  private caching(): Record<string, string> {
    const c = this.fileHttp.cacheControl;
    return c && c !== 'none' ? { 'Cache-Control': c } : {};
  }

  private validatorHeaders(etag: string): Record<string, string> {
    return this.state.validators && this.version
      ? { ETag: etag, 'Last-Modified': new Date(this.version.lastModified * 1000).toUTCString() }
      : {};
  }

  private head(status: number, headers: Record<string, string> = {}): void {
    this.entry.status = status;
    this.res.writeHead(status, { ...this.cors, ...headers });
  }

  private write(data: Uint8Array): void {
    if (this.headOnly) return;
    this.entry.bytesSent += data.byteLength;
    this.res.write(data);
  }

  /**
   * Large bodies go out in 1 MiB pieces as the client reads them (backpressure), so that the
   * byte log counts what left, not what was queued.
   */
  private async pump(data: Uint8Array): Promise<void> {
    if (this.headOnly) return;
    for (let at = 0; at < data.length && !this.res.destroyed; at += PIECE) {
      const piece = data.subarray(at, at + PIECE);
      this.entry.bytesSent += piece.byteLength;
      if (!this.res.write(piece)) await drained(this.res);
    }
  }

  /** Counts the answer open until it closes, or its socket does. */
  private track(): void {
    const { open, queuedOn } = this.state;
    const res = this.res;
    open.set(res, { entry: this.entry, since: Date.now() });
    res.on('close', () => open.delete(res));
    // A response queued behind another on a kept-alive connection (the browser reuses it once a
    // `drop-at` response's body is complete, before the reset) gets no 'close' of its own when
    // the reset closes the socket: Node ends only the request. The socket's close ends both.
    const socket = this.req.socket;
    let onSocket = queuedOn.get(socket);
    if (!onSocket) {
      const responses = new Set<ServerResponse>();
      queuedOn.set(socket, (onSocket = responses));
      socket.once('close', () => responses.forEach((r) => open.delete(r)));
    }
    onSocket.add(res);
    res.on('close', () => onSocket.delete(res));
  }

  /** The faults answered before any HTTP semantics (and a missing file); whether one was. */
  private answerFault(): boolean {
    const { fault } = this;
    if (!this.version || fault === '404') return this.reply(404, {}, 'not found');
    if (fault === '500') return this.reply(500, {}, 'boom');
    if (fault === '503') return this.reply(503, {}, 'busy');
    const after = /^(503|429)-retry-(after|date):(\d+)$/.exec(fault);
    if (after) {
      const seconds = Number(after[3]);
      const value =
        after[2] === 'after'
          ? String(seconds)
          : new Date(Date.now() + seconds * 1000).toUTCString();
      return this.reply(Number(after[1]), { 'Retry-After': value }, 'later');
    }
    if (fault === 'redirect-other-origin' || fault === 'redirect-same-origin') {
      const { origins } = this.state;
      const target =
        fault === 'redirect-other-origin'
          ? `${origins[1]}/${this.path}`
          : `${origins[0]}/${this.path}?r=1`;
      return this.reply(302, { Location: target });
    }
    if (fault === 'html')
      return this.reply(200, { 'Content-Type': 'text/html' }, '<!doctype html><title>app</title>');
    return false;
  }

  /** A whole answer with a short body (or none); true, for `answerFault`. */
  private reply(status: number, headers: Record<string, string>, body?: string): true {
    this.head(status, headers);
    this.res.end(body);
    return true;
  }

  /** The bytes to send after `Range` and `If-Range`; undefined once a 416 has been sent. */
  private span(version: FileVersion): Span | undefined {
    const { fault } = this;
    let body = version.data;
    const range = this.state.validators
      ? rangeAfterIfRange(version, this.entry.range, this.header('if-range'))
      : this.entry.range;
    let start = 0;
    let last = body.length - 1;
    const r = parseRange(range);
    if (r && fault !== 'ignore-range' && fault !== 'wrong-range') {
      if (r.first === '') {
        // A suffix range: the last N bytes.
        start = Math.max(0, body.length - Number(r.last));
      } else {
        start = Number(r.first);
        if (r.last) last = Math.min(last, Number(r.last));
        if (start >= body.length) {
          this.head(416, {
            'Content-Range': `bytes */${body.length}`,
            ...this.validatorHeaders(version.etag),
            ...this.caching(),
          });
          this.res.end();
          return undefined;
        }
      }
    }
    if (r && fault === 'wrong-range' && r.first !== '' && r.last)
      last = Math.min(last, Number(r.last) - Number(r.first));
    const partial = !!r && fault !== 'ignore-range';
    // gzip only for the whole file (200), only when the request asks and the file allows it.
    const gzip =
      this.fileHttp.gzip === true && !partial && acceptsGzip(this.header('accept-encoding'));
    if (gzip) {
      version.gzipped ??= new Uint8Array(gzipSync(version.data));
      body = version.gzipped;
      last = body.length - 1;
      this.entry.encoding = 'gzip';
    }
    let data = body.subarray(start, last + 1);
    if (fault === 'corrupt-byte') {
      data = Uint8Array.from(data);
      data[Math.floor(data.length / 2)]! ^= 0xff;
    }
    return { data, start, last, total: body.length, partial, gzip };
  }

  /** The status line and headers of a 200 or 206, then the body as the fault says. */
  private send(version: FileVersion, span: Span): void {
    const { fault } = this;
    const { data, partial, gzip } = span;
    this.head(partial ? 206 : 200, {
      'Content-Type': 'application/octet-stream',
      'Accept-Ranges': 'bytes',
      ...this.validatorHeaders(gzip ? gzipEtag(version.etag) : version.etag),
      ...this.caching(),
      ...(this.fileHttp.gzip ? { Vary: 'Accept-Encoding' } : {}),
      ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
      ...(partial ? { 'Content-Range': `bytes ${span.start}-${span.last}/${span.total}` } : {}),
      ...(fault === 'truncate' || fault === 'extra-bytes'
        ? {}
        : { 'Content-Length': String(data.length) }),
    });
    if (this.headOnly) return void this.res.end();
    this.sendBody(data);
  }

  /** The body: whole, or cut, stalled, truncated, slow or with extra bytes. */
  private sendBody(data: Uint8Array): void {
    const { fault, res } = this;
    const cutAt =
      fault === 'drop-midway'
        ? Math.floor(data.length / 2)
        : Number(/^drop-at:(\d+)$/.exec(fault)?.[1] ?? NaN);
    if (Number.isFinite(cutAt)) {
      this.write(data.subarray(0, cutAt));
      // The reset comes once the page can have read what was sent: Chromium fails a reset
      // request without handing over bytes still in its buffers (on a loaded 2-core machine,
      // 20 ms lost all 1,000 or 32,768 bytes in about half the runs), and this fault is about
      // resuming after them.
      setTimeout(() => res.destroy(), 250);
      return;
    }
    const stallAt = Number(/^stall-at:(\d+)$/.exec(fault)?.[1] ?? NaN);
    if (Number.isFinite(stallAt)) return void this.write(data.subarray(0, stallAt));
    if (fault === 'truncate') {
      this.write(data.subarray(0, Math.floor(data.length / 2)));
      return void res.end();
    }
    const rate = Number(/^slow:(\d+)$/.exec(fault)?.[1] ?? NaN);
    if (Number.isFinite(rate)) return this.trickle(data, rate);
    void this.pump(data).then(() => {
      if (res.destroyed) return;
      if (fault === 'extra-bytes') this.write(new Uint8Array(1000));
      res.end();
    });
  }

  /** The body at `rate` bytes per second, in tenths of a second. */
  private trickle(data: Uint8Array, rate: number): void {
    let at = 0;
    const step = Math.max(1, Math.floor(rate / 10));
    const tick = setInterval(() => {
      if (this.res.destroyed) return clearInterval(tick);
      this.write(data.subarray(at, at + step));
      at += step;
      if (at >= data.length) {
        clearInterval(tick);
        this.res.end();
      }
    }, 100);
  }
}

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
