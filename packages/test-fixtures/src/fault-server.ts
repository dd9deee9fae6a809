import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

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
  /** Body bytes written to the socket for this request. */
  bytesSent: number;
}

/** Options of `startFaultServer`. */
export interface FaultServerOptions {
  /** Extra headers on every answer (e.g. COOP/COEP for a page served from here). */
  headers?: Record<string, string>;
}

/**
 * A real HTTP server for download tests (Node unit tests and the Chromium fault suite): serves
 * in-memory files with Range support, CORS (any origin, `Range` allowed, `Content-Range` and
 * `Retry-After` exposed), and misbehaves on purpose per file. Two listening ports share the
 * files so that a redirect can cross origins. `log` records every request and the body bytes
 * sent for it.
 */
export async function startFaultServer(
  files: Record<string, Uint8Array | string>,
  options: FaultServerOptions = {},
) {
  const faults = new Map<string, Fault[]>();
  const log: FaultLogEntry[] = [];
  const open = new Set<ServerResponse>();
  const servers: Server[] = [];
  const origins: string[] = [];

  const handle = (main: boolean) => (req: IncomingMessage, res: ServerResponse) => {
    const cors = {
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Headers': 'Range, Content-Type, Authorization',
      'Access-Control-Expose-Headers': 'Content-Range, Content-Length, Retry-After',
      'Cross-Origin-Resource-Policy': 'cross-origin',
      ...options.headers,
    };
    if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end();
    const url = new URL(req.url ?? '/', 'http://x');
    const path = decodeURIComponent(url.pathname.slice(1));
    const range = req.headers.range;
    const raw = files[path];
    const body = typeof raw === 'string' ? new TextEncoder().encode(raw) : raw;
    const fault: Fault = (main ? faults.get(path)?.shift() : undefined) ?? 'ok';
    const entry: FaultLogEntry = { path, range, fault, status: 0, bytesSent: 0 };
    log.push(entry);
    const head = (status: number, headers: Record<string, string> = {}) => {
      entry.status = status;
      res.writeHead(status, { ...cors, ...headers });
    };
    const write = (data: Uint8Array) => {
      entry.bytesSent += data.byteLength;
      res.write(data);
    };
    // Large bodies go out in 1 MiB pieces as the client reads them (backpressure), so that the
    // byte log counts what left, not what was queued.
    const pump = async (data: Uint8Array) => {
      const PIECE = 2 ** 20;
      for (let at = 0; at < data.length && !res.destroyed; at += PIECE) {
        const piece = data.subarray(at, at + PIECE);
        entry.bytesSent += piece.byteLength;
        if (!res.write(piece))
          await new Promise<void>((resolve) => {
            const done = () => {
              res.off('drain', done);
              res.off('close', done);
              resolve();
            };
            res.on('drain', done);
            res.on('close', done);
          });
      }
    };
    open.add(res);
    res.on('close', () => open.delete(res));
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
    let start = 0;
    let last = body.length - 1;
    const m = /^bytes=(\d+)-(\d*)$/.exec(range ?? '');
    if (m && fault !== 'ignore-range' && fault !== 'wrong-range') {
      start = Number(m[1]);
      if (m[2]) last = Math.min(last, Number(m[2]));
    }
    if (m && fault === 'wrong-range' && m[2]) last = Math.min(last, Number(m[2]) - Number(m[1]));
    let data = body.subarray(start, last + 1);
    if (fault === 'corrupt-byte') {
      data = Uint8Array.from(data);
      data[Math.floor(data.length / 2)]! ^= 0xff;
    }
    const partial = !!m && fault !== 'ignore-range';
    const headers: Record<string, string> = {
      'Content-Type': 'application/octet-stream',
      ...(partial ? { 'Content-Range': `bytes ${start}-${last}/${body.length}` } : {}),
      ...(fault === 'truncate' || fault === 'extra-bytes'
        ? {}
        : { 'Content-Length': String(data.length) }),
    };
    head(partial ? 206 : 200, headers);
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
    /** Queues faults for the next requests of `path`. */
    inject: (path: string, ...list: Fault[]) => faults.set(path, [...list]),
    /** Adds or replaces a file. */
    set: (path: string, data: Uint8Array | string) => void (files[path] = data),
    close: async () => {
      for (const res of open) res.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}

/** The handle `startFaultServer` resolves to. */
export type FaultServer = Awaited<ReturnType<typeof startFaultServer>>;
