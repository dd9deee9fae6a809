import { describe, expect, it } from 'vitest';
import { resumeDownload } from './chunk-resume.js';
import { bytes, download, sha } from './chunk-steps.test-helper.js';
import { createSha256 } from './sha256.js';

const data = bytes(10);
const blocks = { bytes: 4, sha256: [0, 4, 8].map((o) => sha(data.subarray(o, o + 4))) };

async function stateAfter(n: number): Promise<Uint8Array> {
  const h = await createSha256();
  h.update(data.subarray(0, n));
  return h.save();
}

describe('resumeDownload', () => {
  it('continues after the persisted segments with their saved hash state', async () => {
    const resume = {
      bytes: 8,
      hashState: await stateAfter(8),
      segments: [new Blob([data.subarray(0, 8)])],
    };
    const { d, log } = await download(data, { resume });
    await resumeDownload(d);
    expect(d.data.size).toBe(8);
    expect(log).toEqual(['resumed:8']);
    d.hasher!.update(data.subarray(8));
    expect(d.hasher!.digest('hex')).toBe(sha(data));
  });

  it('a hash state that does not load is rebuilt from the persisted bytes', async () => {
    const resume = {
      bytes: 4,
      hashState: new Uint8Array(7),
      segments: [new Blob([data.subarray(0, 4)])],
    };
    const { d, log } = await download(data, { resume });
    await resumeDownload(d);
    expect(log).toEqual(['resumed:4']);
    d.hasher!.update(data.subarray(4));
    expect(d.hasher!.digest('hex')).toBe(sha(data));
  });

  it('with block hashes, keeps segments only while every one verifies; a damaged one drops them all', async () => {
    const good = {
      bytes: 8,
      hashState: new Uint8Array(0),
      segments: [0, 4].map((o) => new Blob([data.subarray(o, o + 4)])),
    };
    const ok = await download(data, { blocks, resume: good });
    await resumeDownload(ok.d);
    expect(ok.d.data.size).toBe(8);
    const bad = Uint8Array.from(data.subarray(4, 8));
    bad[0]! ^= 1;
    const damaged = { ...good, segments: [new Blob([data.subarray(0, 4)]), new Blob([bad])] };
    const dropped = await download(data, { blocks, resume: damaged });
    await resumeDownload(dropped.d);
    expect(dropped.d.data.size).toBe(0);
    expect(dropped.log).toEqual(['drop']);
  });

  it('ignores an empty resume, and one larger than the chunk', async () => {
    for (const resume of [
      null,
      { bytes: 11, hashState: new Uint8Array(0), segments: [new Blob([bytes(11)])] },
    ]) {
      const { d, log } = await download(data, { resume });
      await resumeDownload(d);
      expect([d.data.size, log]).toEqual([0, []]);
    }
  });
});
