import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answer, type FaultServerState } from './fault-exchange.js';
import type { Fault, FaultServerOptions, FileHttpOptions } from './fault-types.js';
import { FileVersions } from './file-versions.js';

export type {
  CacheControl,
  Fault,
  FaultLogEntry,
  FaultServerOptions,
  FileHttpOptions,
} from './fault-types.js';
export { drained } from './fault-exchange.js';

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
  const state: FaultServerState = {
    faults: new Map<string, Fault[]>(),
    log: [],
    open: new Map(),
    queuedOn: new WeakMap(),
    origins: [],
    validators: options.validators ?? true,
    versions: new FileVersions(files),
    httpOf: new Map<string, FileHttpOptions>(),
    headers: options.headers,
  };
  const servers: Server[] = [];
  const { faults, log, open, origins, httpOf, versions } = state;
  const versionOf = (path: string) => versions.of(path);

  for (const main of [true, false]) {
    const server = createServer((req, res) => answer(state, main, req, res));
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

/** The handle `startFaultServer` resolves to. */
export type FaultServer = Awaited<ReturnType<typeof startFaultServer>>;
