import { describe, expect, it } from 'vitest';
import type { LoadProgress } from './load-model.js';
import { persistence, progressOf, readStored } from './load-model.js';
import {
  DEFAULT_RANGE_BYTES,
  DEFAULT_SEGMENT_BYTES,
  lostChunk,
  planLoad,
  storeLost,
} from './load-state.js';
import { parseManifest } from './manifest.js';
import { memoryStore } from './memory-store.test-helper.js';

const manifest = parseManifest(
  {
    manifestVersion: 1,
    model: { id: 'm', version: '1' },
    layout: 'gguf-split',
    totalBytes: 30,
    chunks: [0, 1, 2].map((i) => ({ file: `m-${i}.gguf`, bytes: 10, sha256: `${i}`.repeat(64) })),
  },
  { url: 'https://example.test/manifest.json' },
);
const ten = () => new Blob([new Uint8Array(10)]);
const segment = (offset: number) => ({ offset, data: ten(), hashState: new Uint8Array(0) });

describe('planLoad', () => {
  it('bounds and defaults the settings', () => {
    const s = planLoad(manifest, { concurrency: 0, segmentBytes: 1 });
    expect([s.concurrency, s.segmentBytes, s.rangeBytes]).toEqual([
      1,
      64 * 1024,
      DEFAULT_RANGE_BYTES,
    ]);
    const d = planLoad(manifest, {});
    expect([d.concurrency, d.segmentBytes, d.store]).toEqual([3, DEFAULT_SEGMENT_BYTES, undefined]);
    expect([d.whole, d.persisted]).toEqual([
      [false, false, false],
      [0, 0, 0],
    ]);
  });
});

describe("a load's steps", () => {
  it('readStored takes the chunks the store holds with their size, and reports them from the cache', async () => {
    const progress: LoadProgress[] = [];
    const { store } = memoryStore({
      [manifest.chunks[1]!.sha256]: ten(),
      [manifest.chunks[2]!.sha256]: new Blob([new Uint8Array(9)]),
    });
    const s = planLoad(manifest, { store, onProgress: (p) => progress.push(p) });
    expect(await readStored(s)).toEqual([0, 2]);
    expect([s.whole, s.loaded, s.done]).toEqual([[false, true, false], 10, 1]);
    expect(progress).toEqual([
      expect.objectContaining({
        chunkIndex: 1,
        fromCache: true,
        loadedBytes: 10,
        chunksDone: 1,
        etaSeconds: null,
      }),
    ]);
  });

  it('progressOf counts network bytes as throughput, and resumed ones only as progress', () => {
    const s = planLoad(manifest, {});
    const { onBytes, onResumed } = progressOf(s, 0);
    onResumed!(6);
    onBytes(4);
    onBytes(-2);
    expect([s.loaded, s.networkBytes]).toEqual([8, 4]);
  });

  it('persistence tracks what is persisted, and notices segments that vanished before a drop', async () => {
    const { store, calls } = memoryStore();
    const s = planLoad(manifest, { store });
    const { persist, dropPartial } = persistence(s, store, 0);
    await persist!(segment(0));
    await persist!(segment(10));
    expect(s.persisted[0]).toBe(20);
    expect(await lostChunk(s)).toBeUndefined();
    await store.dropPartial(manifest, 0);
    expect(await lostChunk(s)).toBe(0);
    await dropPartial!();
    expect([s.persisted[0], s.lostBeforeDrop]).toEqual([0, [0]]);
    expect(calls.filter((c) => c.startsWith('segment') || c.startsWith('drop'))).toEqual([
      'segment:0@0',
      'segment:0@10',
      'drop:0',
      'drop:0',
    ]);
  });

  it('lostChunk names a stored chunk that is gone; storeLost says to start again', async () => {
    const { store, chunks } = memoryStore({ [manifest.chunks[2]!.sha256]: ten() });
    const s = planLoad(manifest, { store });
    await readStored(s);
    expect(await lostChunk(s)).toBeUndefined();
    chunks.clear();
    expect(await lostChunk(s)).toBe(2);
    expect(storeLost(s, 2)).toMatchObject({ code: 'STORE_ERROR', chunkIndex: 2 });
    expect(storeLost(s, undefined).message).toMatch(/^the model: .*start the load again$/);
    expect(await lostChunk(planLoad(manifest, {}))).toBeUndefined();
  });
});
