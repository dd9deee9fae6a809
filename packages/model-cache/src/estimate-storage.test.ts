import { describe, expect, it } from 'vitest';
import { estimateStorage } from './estimate-storage.js';

describe('estimateStorage', () => {
  it('reports usage, quota and what is left', async () => {
    const result = await estimateStorage({ estimate: async () => ({ usage: 300, quota: 1000 }) });
    expect(result).toEqual({ usage: 300, quota: 1000, available: 700 });
  });

  it('never reports negative availability', async () => {
    const result = await estimateStorage({ estimate: async () => ({ usage: 1200, quota: 1000 }) });
    expect(result.available).toBe(0);
  });

  it('treats missing fields as zero', async () => {
    expect(await estimateStorage({ estimate: async () => ({}) })).toEqual({
      usage: 0,
      quota: 0,
      available: 0,
    });
  });

  it('fails with STORAGE_UNAVAILABLE where the Storage API is missing', async () => {
    await expect(estimateStorage()).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
  });

  it('wraps a failing estimate() as STORAGE_UNAVAILABLE with the cause', async () => {
    const cause = new Error('denied');
    await expect(
      estimateStorage({
        estimate: () => Promise.reject(cause),
      }),
    ).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE', cause });
  });
});
