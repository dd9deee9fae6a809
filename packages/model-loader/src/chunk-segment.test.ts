import { describe, expect, it } from 'vitest';
import { readBody, stagePiece } from './chunk-segment.js';
import { bytes, download, sha } from './chunk-steps.test-helper.js';
import { idleRequest } from './network-policy.js';

const data = bytes(10);
const blocks = { bytes: 4, sha256: [0, 4, 8].map((o) => sha(data.subarray(o, o + 4))) };

/** A body that sends `pieces`, then fails with `error` if one is given. */
function body(pieces: Uint8Array[], error?: Error): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < pieces.length) controller.enqueue(pieces[i++]!);
      else if (error) controller.error(error);
      else controller.close();
    },
  });
}

describe('stagePiece', () => {
  it('fills segments across pieces, persisting each as it completes (the last one short)', async () => {
    const { d, log, progress } = await download(data);
    expect(await stagePiece(d, data.subarray(0, 6), 10)).toBeUndefined();
    expect([d.data.size, d.pending]).toEqual([4, 2]);
    expect(await stagePiece(d, data.subarray(6), 10)).toBeUndefined();
    expect(log).toEqual(['persist:0+4', 'persist:4+4', 'persist:8+2']);
    expect([d.data.size, d.pending, d.fetched]).toEqual([10, 0, 10]);
    expect(progress).toEqual([4, 2, 2, 2]);
    expect(d.hasher!.digest('hex')).toBe(sha(data));
  });

  it('stops at `until`, leaving the rest of the piece', async () => {
    const { d } = await download(data);
    await stagePiece(d, data, 6);
    expect([d.data.size, d.pending]).toEqual([4, 2]);
  });

  it('with block hashes, a block that does not verify is not kept, counted, and named', async () => {
    const { d, log, progress } = await download(data, { blocks });
    const bad = Uint8Array.from(data);
    bad[5]! ^= 1;
    const error = await stagePiece(d, bad, 10);
    expect(error).toMatchObject({ code: 'CHUNK_HASH_MISMATCH', chunkIndex: 0 });
    expect(error!.message).toMatch(/at block 1 \(bytes 4-7\)/);
    expect(log).toEqual(['persist:0+4']);
    expect([d.data.size, d.pending, d.reload, d.blockFailures.get(1)]).toEqual([4, 0, true, 1]);
    expect(progress).toEqual([4, 4, -4]);
  });
});

describe('readBody', () => {
  it('reads up to `until`; a body that breaks is reported as cut, with what came before', async () => {
    const { d } = await download(data);
    const request = idleRequest(undefined, 60_000);
    const read = await readBody(d, body([data.subarray(0, 5)], new Error('reset')), request, 10);
    request.done();
    expect(read.before).toBe(0);
    expect((read.cut as Error).message).toBe('reset');
    expect([d.data.size, d.pending]).toEqual([4, 1]);
  });

  it("a store's error ends the chunk at once and drops its partial segments", async () => {
    const full = Object.assign(new Error('disk full'), { code: 'QUOTA_EXCEEDED' });
    const { d, log } = await download(data, {
      persist: async () => {
        throw full;
      },
    });
    const request = idleRequest(undefined, 60_000);
    await expect(readBody(d, body([data]), request, 10)).rejects.toBe(full);
    request.done();
    expect(log).toEqual(['drop']);
  });
});
