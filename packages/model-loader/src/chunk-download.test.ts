import { describe, expect, it } from 'vitest';
import { discard, planDownload, retryOrThrow, verdict } from './chunk-download.js';
import { bytes, download, sha } from './chunk-steps.test-helper.js';
import { ModelLoaderError } from './errors.js';
import { networkPolicy } from './network-policy.js';

const data = bytes(10);
const blocks = { bytes: 4, sha256: [0, 4, 8].map((o) => sha(data.subarray(o, o + 4))) };

describe('planDownload', () => {
  it('segments by segmentBytes (or by block), asks for whole segments per range, budgets twice the chunk', async () => {
    const base = { ...networkPolicy(), index: 0, url: 'u', bytes: 10, sha256: '', onBytes() {} };
    const plain = await planDownload({ ...base, segmentBytes: 3, rangeBytes: 8 });
    expect([plain.seg, plain.span, plain.budget]).toEqual([3, 6, 23]);
    expect(plain.hasher).toBeDefined();
    expect(plain.staging.byteLength).toBe(3);
    // A range smaller than a segment is one segment; with blocks a segment is a block.
    const blocked = await planDownload({ ...base, segmentBytes: 3, rangeBytes: 1, blocks });
    expect([blocked.seg, blocked.span, blocked.budget]).toEqual([4, 4, 24]);
    expect(blocked.hasher).toBeUndefined();
    // The staging buffer is never larger than the chunk.
    expect((await planDownload({ ...base, segmentBytes: 64 })).staging.byteLength).toBe(10);
    expect([plain.ranges, plain.reload, plain.pause, plain.idle]).toEqual([
      undefined,
      false,
      false,
      0,
    ]);
  });
});

describe('retryOrThrow', () => {
  const network = () => new ModelLoaderError('NETWORK_ERROR', 'chunk 0: network error: x');

  it('counts attempts that received nothing, and ends after `retries` of them with a hint', async () => {
    const { d } = await download(data);
    retryOrThrow(d, network(), false);
    retryOrThrow(d, network(), false);
    expect(d.idle).toBe(2);
    expect(() => retryOrThrow(d, network(), false)).toThrow(/after 3 attempts: check the network/);
  });

  it('an attempt that made progress starts the count again; other errors end as they are', async () => {
    const { d } = await download(data);
    retryOrThrow(d, network(), false);
    retryOrThrow(d, network(), true);
    expect(d.idle).toBe(0);
    const http = new ModelLoaderError('HTTP_ERROR', 'busy', { status: 503 });
    d.idle = 2;
    expect(() => retryOrThrow(d, http, false)).toThrow(http);
  });

  it('ends a chunk that fetched more than its budget, saying how much', async () => {
    const { d } = await download(data);
    d.fetched = d.budget + 1;
    expect(() => retryOrThrow(d, network(), true)).toThrow(
      /gave up after 0\.0 MiB fetched for a 0\.0 MiB chunk/,
    );
  });
});

describe('discard and verdict', () => {
  it('discard forgets what was received, drops the persisted segments, and bypasses the HTTP cache', async () => {
    const { d, log, progress } = await download(data);
    d.data.add(new Blob([data.subarray(0, 4)]));
    d.pending = 2;
    d.hasher!.update(data.subarray(0, 6));
    await discard(d);
    expect([d.data.size, d.pending, d.reload]).toEqual([0, 0, true]);
    expect(progress).toEqual([-6]);
    expect(log).toEqual(['drop']);
    d.hasher!.update(data);
    expect(d.hasher!.digest('hex')).toBe(sha(data));
  });

  it('verdict: the kept Blob and the digest when the hash matches, a mismatch error otherwise', async () => {
    const digests: string[] = [];
    const { d } = await download(data, { onDigest: (h) => digests.push(h) });
    d.data.add(new Blob([data]));
    d.hasher!.update(data);
    const ok = verdict(d);
    expect(ok).not.toBeInstanceOf(ModelLoaderError);
    expect(new Uint8Array(await (ok as { blob: Blob }).blob.arrayBuffer())).toEqual(data);
    expect(digests).toEqual([sha(data)]);

    const wrong = await download(data, { sha256: sha(bytes(10, 1)) });
    wrong.d.hasher!.update(data);
    expect(verdict(wrong.d)).toMatchObject({ code: 'CHUNK_HASH_MISMATCH', chunkIndex: 0 });
  });

  it('verdict: a chunk not kept resolves to null; an unknown SHA-256 is computed and reported', async () => {
    const digests: string[] = [];
    const { d } = await download(data, {
      keep: false,
      sha256: '',
      onDigest: (h) => digests.push(h),
    });
    d.data.add(new Blob([data]));
    d.hasher!.update(data);
    expect(verdict(d)).toEqual({ blob: null });
    expect(digests).toEqual([sha(data)]);
  });
});
