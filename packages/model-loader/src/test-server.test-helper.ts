import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the test server does with the next request for a file (one entry per request). */
export type Fault = 'ok' | '503' | '404' | 'drop-midway' | 'corrupt-byte' | 'ignore-range';

/**
 * A local HTTP server for loader tests: serves in-memory files, honours Range requests, and
 * injects faults per file in order. Counts requests and records their Range headers.
 */
export async function startTestServer(files: Record<string, Uint8Array>) {
  const faults = new Map<string, Fault[]>();
  const requests: Array<{ path: string; range: string | undefined }> = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').slice(1));
    const range = req.headers.range;
    requests.push({ path, range });
    const body = files[path];
    const fault = faults.get(path)?.shift() ?? 'ok';
    if (!body || fault === '404') return void res.writeHead(404).end('not found');
    if (fault === '503') return void res.writeHead(503).end('busy');
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(range ?? '');
    if (m && fault !== 'ignore-range') start = Number(m[1]);
    let data = body.subarray(start);
    if (fault === 'corrupt-byte') {
      data = Uint8Array.from(data);
      data[Math.floor(data.length / 2)]! ^= 0xff;
    }
    res.writeHead(start > 0 ? 206 : 200, {
      'Content-Length': String(data.length),
      ...(start > 0 ? { 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    if (fault === 'drop-midway') {
      res.write(data.subarray(0, Math.floor(data.length / 2)));
      setTimeout(() => res.destroy(), 20);
      return;
    }
    res.end(data);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path: string) => `http://127.0.0.1:${port}/${path}`,
    requests,
    inject: (path: string, ...list: Fault[]) => faults.set(path, list),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
