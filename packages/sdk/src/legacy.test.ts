import type * as ModelCache from '@the-edge-agent/model-cache';
import { beforeEach, describe, expect, it, vi } from 'vitest';

// A cache in memory, in the shape model-cache's `ModelCache` has (Node has no IndexedDB; the
// real store's per-model delete is tested in model-cache, and in Chromium by the demo's e2e).
const stores = new Map<string, Map<string, { id: string; version: string }>>();
vi.mock('@the-edge-agent/model-cache', async (importOriginal) => {
  const real = await importOriginal<typeof ModelCache>();
  return {
    ...real,
    openModelCache: (options: { dbName?: string } = {}) => {
      const name = options.dbName ?? 'tea-llm-cache';
      const models = stores.get(name) ?? new Map<string, { id: string; version: string }>();
      stores.set(name, models);
      return {
        list: () => Promise.resolve([...models.values()]),
        delete: (id: string) => Promise.resolve(void models.delete(id)),
      };
    },
  };
});

const { deleteCachedModel, listCachedModels } = await import('./legacy.js');

describe('deleteCachedModel', () => {
  beforeEach(() => {
    stores.clear();
    stores.set(
      'tea-llm-cache',
      new Map([
        ['small', { id: 'small', version: '1' }],
        ['large', { id: 'large', version: '3' }],
      ]),
    );
  });

  it('deletes one model and keeps the others', async () => {
    expect(await deleteCachedModel('small')).toBe(true);
    expect((await listCachedModels()).map((m) => m.id)).toEqual(['large']);
  });

  it('returns false for a model the cache does not hold, and deletes nothing', async () => {
    expect(await deleteCachedModel('missing')).toBe(false);
    expect((await listCachedModels()).map((m) => m.id)).toEqual(['small', 'large']);
  });
});
