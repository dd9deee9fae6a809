import { describe, expect, it } from 'vitest';
import { acceptResponse, rangeHeaders, requestChunk } from './chunk-response.js';
import { bytes, download } from './chunk-steps.test-helper.js';
import { idleRequest } from './network-policy.js';

const data = bytes(10);
const answer = (status: number, headers: Record<string, string> = {}, body = 'x') =>
  new Response(status === 204 ? null : body, { status, headers });

describe('rangeHeaders', () => {
  it('asks for a range, the rest of the chunk, or (from byte 0 to its end) nothing', () => {
    expect(rangeHeaders(0, 4, 10)).toEqual({ Range: 'bytes=0-3' });
    expect(rangeHeaders(4, 10, 10)).toEqual({ Range: 'bytes=4-' });
    expect(rangeHeaders(0, 10, 10)).toEqual({});
  });
});

describe('requestChunk', () => {
  it('asks past the HTTP cache once the chunk was reloaded; a failed request is counted, not thrown', async () => {
    const seen: RequestInit[] = [];
    const { d } = await download(data, {
      fetch: async (_url, init) => {
        seen.push(init!);
        throw new TypeError('Failed to fetch');
      },
    });
    d.reload = true;
    const request = idleRequest(undefined, 60_000);
    expect(await requestChunk(d, request, 4, 8)).toBeUndefined();
    request.done();
    expect(seen[0]).toMatchObject({ headers: { Range: 'bytes=4-7' }, cache: 'reload' });
    expect(d.idle).toBe(1);
  });

  it("a resume with no answer asks the file's size once: nginx's hidden 416 of a shorter file is CHUNK_SIZE_MISMATCH", async () => {
    const seen: string[] = [];
    const { d } = await download(data, {
      fetch: async (_url, init) => {
        const range = (init!.headers as Record<string, string>)['Range'];
        seen.push(`${range} ${init!.cache ?? 'default'}`);
        // A 416 whose CORS headers came twice: the browser reports a network error.
        if (range !== 'bytes=0-0') throw new TypeError('Failed to fetch');
        return answer(206, { 'Content-Range': 'bytes 0-0/6' });
      },
    });
    const request = idleRequest(undefined, 60_000);
    await expect(requestChunk(d, request, 8, 10)).rejects.toMatchObject({
      code: 'CHUNK_SIZE_MISMATCH',
      status: 206,
      message: expect.stringContaining(
        'the manifest says 10 bytes, but https://example.test/m.gguf is 6 bytes',
      ),
    });
    request.done();
    expect(seen).toEqual(['bytes=8- default', 'bytes=0-0 reload']);
  });

  it('the same size (a real network failure) is retried as before, and asked once per run of failures', async () => {
    const seen: string[] = [];
    const { d } = await download(data, {
      fetch: async (_url, init) => {
        const range = (init!.headers as Record<string, string>)['Range'];
        seen.push(range ?? 'whole');
        if (range !== 'bytes=0-0') throw new TypeError('Failed to fetch');
        return answer(206, { 'Content-Range': 'bytes 0-0/10' });
      },
    });
    for (let i = 0; i < 2; i++) {
      const request = idleRequest(undefined, 60_000);
      expect(await requestChunk(d, request, 4, 10)).toBeUndefined();
      request.done();
    }
    expect(d.idle).toBe(2);
    expect(seen).toEqual(['bytes=4-', 'bytes=0-0', 'bytes=4-']);
  });

  it('a request the caller aborted ends in ABORTED', async () => {
    const abort = new AbortController();
    const { d } = await download(data, {
      signal: abort.signal,
      fetch: async () => {
        abort.abort();
        throw new DOMException('aborted', 'AbortError');
      },
    });
    const request = idleRequest(abort.signal, 60_000);
    await expect(requestChunk(d, request, 0, 10)).rejects.toMatchObject({ code: 'ABORTED' });
    request.done();
  });
});

describe('acceptResponse', () => {
  it('reads a 206 from the position asked for (Range honoured), and a 200 from byte 0 (the chunk starts over)', async () => {
    const { d, log } = await download(data);
    const partial = answer(206, { 'Content-Range': 'bytes 4-7/10' });
    expect(await acceptResponse(d, partial, 4)).toBe(partial.body);
    expect([d.ranges, log]).toEqual([true, []]);
    d.pending = 4;
    const whole = answer(200);
    expect(await acceptResponse(d, whole, 4)).toBe(whole.body);
    expect([d.ranges, d.pending, d.reload, log]).toEqual([false, 0, true, ['drop']]);
  });

  it('a 206 of another range starts the chunk over without Range', async () => {
    const { d, log } = await download(data);
    expect(await acceptResponse(d, answer(206, { 'Content-Range': 'bytes 0-9/10' }), 4)).toBe(
      undefined,
    );
    expect([d.ranges, d.idle, log]).toEqual([false, 1, ['drop']]);
  });

  it('a retryable status waits for Retry-After; another one ends the chunk with HTTP_ERROR', async () => {
    const { d } = await download(data);
    expect(await acceptResponse(d, answer(503, { 'Retry-After': '2' }), 0)).toBeUndefined();
    expect([d.wait, d.idle]).toEqual([2000, 1]);
    await expect(acceptResponse(d, answer(404), 0)).rejects.toMatchObject({
      code: 'HTTP_ERROR',
      status: 404,
      chunkIndex: 0,
    });
  });

  it('an HTML page is not the chunk: the attempt is counted', async () => {
    const { d } = await download(data);
    const page = answer(200, { 'Content-Type': 'text/html' }, '<html>');
    expect(await acceptResponse(d, page, 0)).toBeUndefined();
    expect(d.idle).toBe(1);
  });

  it('a file of another size is asked for again past the HTTP cache, then ends in CHUNK_SIZE_MISMATCH', async () => {
    const { d } = await download(data);
    const other = () => answer(206, { 'Content-Range': 'bytes 0-3/12' });
    expect(await acceptResponse(d, other(), 0)).toBeUndefined();
    expect([d.reload, d.pause, d.idle]).toEqual([true, false, 0]);
    await expect(acceptResponse(d, other(), 0)).rejects.toMatchObject({
      code: 'CHUNK_SIZE_MISMATCH',
      status: 206,
    });
  });

  it('a redirect off the allowed origins ends in ORIGIN_NOT_ALLOWED', async () => {
    const { d } = await download(data, { allowedOrigins: new Set(['https://example.test']) });
    const moved = answer(200);
    Object.defineProperty(moved, 'url', { value: 'https://elsewhere.test/m.gguf' });
    await expect(acceptResponse(d, moved, 0)).rejects.toMatchObject({
      code: 'ORIGIN_NOT_ALLOWED',
    });
  });
});
