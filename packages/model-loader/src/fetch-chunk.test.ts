import { describe, expect, it } from 'vitest';
import { bytes, download } from './chunk-steps.test-helper.js';
import { ModelLoaderError } from './errors.js';
import { beforeAttempt, settle } from './fetch-chunk.js';

const data = bytes(10);
const running = { stalled: false };

describe('settle', () => {
  it('a range that ended where it was asked to asks for the next one at once', async () => {
    const { d } = await download(data);
    d.ranges = true;
    d.idle = 2;
    d.data.add(new Blob([data.subarray(0, 4)]));
    expect(await settle(d, { before: 0 }, running, 4)).toBeUndefined();
    expect([d.idle, d.pause]).toEqual([0, false]);
  });

  it('a body cut short is a retry, counted only when it brought nothing', async () => {
    const { d } = await download(data);
    d.ranges = true;
    d.pause = true;
    d.data.add(new Blob([data.subarray(0, 4)]));
    await settle(d, { before: 0, cut: new Error('reset') }, running, 8);
    expect([d.idle, d.pause]).toEqual([0, true]);
    await settle(d, { before: 4 }, running, 8);
    expect(d.idle).toBe(1);
    await expect(settle(d, { before: 4 }, { stalled: true }, 8)).resolves.toBeUndefined();
    expect(d.idle).toBe(2);
    await expect(settle(d, { before: 4 }, { stalled: true }, 8)).rejects.toThrow(
      /the server sent no bytes for 30 s \(after 4 of 10\); resuming; after 3 attempts/,
    );
  });

  it('a whole chunk is its verdict; one that fails twice ends with the mismatch', async () => {
    const { d } = await download(data);
    d.data.add(new Blob([data]));
    d.hasher!.update(data);
    const done = await settle(d, { before: 0 }, running, 10);
    expect(new Uint8Array(await done!.blob!.arrayBuffer())).toEqual(data);

    const wrong = await download(data, { sha256: '0'.repeat(64) });
    const fill = () => {
      wrong.d.data.add(new Blob([data]));
      wrong.d.hasher!.update(data);
    };
    fill();
    expect(await settle(wrong.d, { before: 0 }, running, 10)).toBeUndefined();
    expect([wrong.d.failedChecks, wrong.d.data.size, wrong.log]).toEqual([1, 0, ['drop']]);
    fill();
    await expect(settle(wrong.d, { before: 0 }, running, 10)).rejects.toMatchObject({
      code: 'CHUNK_HASH_MISMATCH',
    });
  });

  it('a block that failed once is fetched again at once; twice ends the chunk', async () => {
    const { d } = await download(data);
    const bad = new ModelLoaderError('CHUNK_HASH_MISMATCH', 'block 0');
    d.blockFailures.set(0, 1);
    expect(await settle(d, { before: 0, bad }, running, 4)).toBeUndefined();
    expect(d.pause).toBe(false);
    d.blockFailures.set(0, 2);
    await expect(settle(d, { before: 0, bad }, running, 4)).rejects.toBe(bad);
  });
});

describe('beforeAttempt', () => {
  it('waits for Retry-After (or backs off) after a failure, and stops on abort', async () => {
    const abort = new AbortController();
    const { d } = await download(data, { signal: abort.signal });
    await beforeAttempt(d);
    expect(d.pause).toBe(true);
    d.wait = 20;
    const t0 = Date.now();
    await beforeAttempt(d);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(15);
    expect(d.wait).toBeUndefined();
    d.wait = 60_000;
    const waiting = beforeAttempt(d);
    abort.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'ABORTED', chunkIndex: 0 });
  });
});
