import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { Agent, request } from 'node:http';
import { startFaultServer, type FaultServer } from './fault-server.js';

// The fault server's HTTP semantics, as a client other than a browser sees them (raw requests:
// no client decoding or caching in the way).

const data = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7) % 251);
let server: FaultServer;

/** One raw GET (or `method`) with `headers`: status, headers and the body bytes as sent. */
function get(path: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<{ status: number; headers: Record<string, string>; body: Uint8Array }>(
    (resolve, reject) => {
      const req = request(server.url(path), { method, headers }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers as Record<string, string>,
            body: new Uint8Array(Buffer.concat(parts)),
          }),
        );
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    },
  );
}

beforeAll(async () => {
  server = await startFaultServer({ 'f.bin': data, 'doc.json': '{"a":1}' });
});
afterAll(() => server.close());

describe('fault server: HTTP semantics', () => {
  it('sends a strong ETag, Last-Modified and Accept-Ranges, and exposes them for CORS', async () => {
    const r = await get('f.bin');
    expect(r.status).toBe(200);
    expect(r.headers['etag']).toMatch(/^"[^"]+"$/);
    expect(Date.parse(r.headers['last-modified']!)).toBeGreaterThan(0);
    expect(r.headers['accept-ranges']).toBe('bytes');
    expect(r.headers['cache-control']).toBeUndefined();
    for (const name of ['ETag', 'Last-Modified', 'Content-Encoding', 'Content-Range'])
      expect(r.headers['access-control-expose-headers']).toContain(name);
    expect(r.body).toEqual(data);
  });

  it('answers If-None-Match and If-Modified-Since with 304, and a changed file with 200', async () => {
    const { etag, lastModified } = server.validators('f.bin')!;
    expect((await get('f.bin', { 'If-None-Match': etag })).status).toBe(304);
    expect((await get('f.bin', { 'If-None-Match': `"x", W/${etag}` })).status).toBe(304);
    expect((await get('f.bin', { 'If-Modified-Since': lastModified })).status).toBe(304);
    // If-None-Match wins over If-Modified-Since.
    expect(
      (await get('f.bin', { 'If-None-Match': '"x"', 'If-Modified-Since': lastModified })).status,
    ).toBe(200);
    const r304 = await get('f.bin', { 'If-None-Match': etag, Range: 'bytes=0-9' });
    expect(r304.status).toBe(304);
    expect(r304.body.length).toBe(0);
  });

  it('honours If-Range: a matching validator gives 206, another gives 200 with the whole file', async () => {
    const { etag, lastModified } = server.validators('f.bin')!;
    const ok = await get('f.bin', { Range: 'bytes=100-199', 'If-Range': etag });
    expect(ok.status).toBe(206);
    expect(ok.headers['content-range']).toBe(`bytes 100-199/${data.length}`);
    expect(ok.body).toEqual(data.subarray(100, 200));
    expect((await get('f.bin', { Range: 'bytes=100-', 'If-Range': lastModified })).status).toBe(
      206,
    );
    const other = await get('f.bin', { Range: 'bytes=100-199', 'If-Range': '"stale"' });
    expect(other.status).toBe(200);
    expect(other.body).toEqual(data);
    const weak = await get('f.bin', { Range: 'bytes=100-199', 'If-Range': `W/${etag}` });
    expect(weak.status).toBe(200);
  });

  it('answers an unsatisfiable Range with 416 and Content-Range: bytes */size; a suffix range with its end', async () => {
    const r = await get('f.bin', { Range: `bytes=${data.length}-` });
    expect(r.status).toBe(416);
    expect(r.headers['content-range']).toBe(`bytes */${data.length}`);
    const tail = await get('f.bin', { Range: 'bytes=-10' });
    expect(tail.status).toBe(206);
    expect(tail.body).toEqual(data.subarray(data.length - 10));
    // An invalid range is ignored.
    expect((await get('f.bin', { Range: 'bytes=9-3' })).status).toBe(200);
  });

  it('re-packs a file at the same URL with new validators', async () => {
    const before = server.validators('f.bin')!;
    const next = Uint8Array.from(data, (b) => b ^ 1);
    const etag = server.repack('f.bin', next);
    expect(etag).not.toBe(before.etag);
    const after = server.validators('f.bin')!;
    expect(Date.parse(after.lastModified)).toBeGreaterThan(Date.parse(before.lastModified));
    expect((await get('f.bin', { 'If-None-Match': before.etag })).status).toBe(200);
    expect((await get('f.bin', { 'If-Modified-Since': before.lastModified })).status).toBe(200);
    const resumed = await get('f.bin', { Range: 'bytes=5000-', 'If-Range': before.etag });
    expect(resumed.status).toBe(200);
    expect(resumed.body).toEqual(next);
    server.repack('f.bin', data);
  });

  it('gzips only when the request asks and the file allows it, whole answers only', async () => {
    expect((await get('f.bin', { 'Accept-Encoding': 'gzip' })).headers['content-encoding']).toBe(
      undefined,
    );
    server.http('f.bin', { gzip: true });
    const plain = await get('f.bin');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toEqual(data);
    const refused = await get('f.bin', { 'Accept-Encoding': 'gzip;q=0, identity' });
    expect(refused.headers['content-encoding']).toBeUndefined();
    const gz = await get('f.bin', { 'Accept-Encoding': 'gzip, deflate, br' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers['vary']).toBe('Accept-Encoding');
    expect(gz.headers['etag']).not.toBe(plain.headers['etag']);
    expect(Number(gz.headers['content-length'])).toBe(gz.body.length);
    expect(new Uint8Array(gunzipSync(gz.body))).toEqual(data);
    expect(server.log.at(-1)).toMatchObject({ encoding: 'gzip', bytesSent: gz.body.length });
    const ranged = await get('f.bin', { 'Accept-Encoding': 'gzip', Range: 'bytes=0-99' });
    expect(ranged.status).toBe(206);
    expect(ranged.headers['content-encoding']).toBeUndefined();
    // The gzip representation revalidates with its own ETag.
    expect((await get('f.bin', { 'If-None-Match': gz.headers['etag']! })).status).toBe(304);
    server.http('f.bin', { gzip: false });
  });

  it('sends the Cache-Control variant of each file', async () => {
    for (const cacheControl of ['no-cache', 'no-store', 'max-age=60'] as const) {
      server.http('doc.json', { cacheControl });
      expect((await get('doc.json')).headers['cache-control']).toBe(cacheControl);
    }
    server.http('doc.json', { cacheControl: 'none' });
    expect((await get('doc.json')).headers['cache-control']).toBeUndefined();
    expect((await get('doc.json')).body).toEqual(new TextEncoder().encode('{"a":1}'));
  });

  it('answers HEAD with the headers only', async () => {
    const r = await get('f.bin', {}, 'HEAD');
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe(String(data.length));
    expect(r.body.length).toBe(0);
  });

  it('keeps faults first: a queued 503 is answered even to a conditional request', async () => {
    server.inject('f.bin', '503');
    const { etag } = server.validators('f.bin')!;
    expect((await get('f.bin', { 'If-None-Match': etag })).status).toBe(503);
  });

  it('can be started without validators (as before)', async () => {
    const bare = await startFaultServer({ 'f.bin': data }, { validators: false });
    try {
      const r = await fetch(bare.url('f.bin'), { headers: { 'If-None-Match': '*' } });
      expect(r.status).toBe(200);
      expect(r.headers.get('etag')).toBeNull();
      expect(r.headers.get('last-modified')).toBeNull();
      await r.arrayBuffer();
    } finally {
      await bare.close();
    }
  });

  it('counts a response queued behind a reset one on a kept-alive socket as closed with the socket', async () => {
    // A `drop-at` past the body's end completes the body, so the client reuses the connection
    // for its next request; the reset 250 ms later closes both (Node ends only the request).
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const once = (headers: Record<string, string>) =>
      new Promise<string>((resolve) => {
        const req = request(server.url('f.bin'), { agent, headers }, (res) => {
          res.on('data', () => undefined);
          res.on('end', () => resolve(`status ${res.statusCode}`));
          res.on('error', (e) => resolve(e.message));
        });
        req.on('error', (e) => resolve(e.message));
        req.end();
      });
    try {
      server.inject('f.bin', 'drop-at:10');
      expect(await once({ Range: 'bytes=0-0' })).toBe('status 206');
      const second = once({ Range: 'bytes=0-99' });
      await new Promise((r) => setTimeout(r, 50));
      expect(server.inFlight().length).toBeGreaterThan(0);
      await second;
      for (let i = 0; i < 50 && server.inFlight().length > 0; i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(server.inFlight()).toEqual([]);
    } finally {
      agent.destroy();
    }
  });
});
