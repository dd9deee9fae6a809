import { createHash, randomBytes } from 'node:crypto';
import { startFaultServer, type FaultServer } from '@the-edge-agent/test-fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireModel } from '../acquire-model.js';
import { memoryStore } from '../memory-store.test-helper.js';
import { fetchModelIndex } from './manifest-source.js';

// A models.json profile is one more kind of source: acquireModel resolves it to the profile's
// manifest and acquires that, through the same cache-or-download decision.

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const data = new Uint8Array(randomBytes(50_000));
let server: FaultServer;

const profile = (id: string, manifest: string) => ({
  id,
  version: '1',
  manifest,
  totalBytes: data.length,
  chunks: 1,
  modes: ['cpu'],
});

beforeAll(async () => {
  server = await startFaultServer({
    'm/a.gguf': data,
    'm/manifest.json': JSON.stringify({
      manifestVersion: 1,
      model: { id: 'm', version: '1' },
      layout: 'gguf-split',
      totalBytes: data.length,
      chunks: [{ file: 'a.gguf', bytes: data.length, sha256: sha(data) }],
    }),
    'models.json': JSON.stringify({
      modelsVersion: 1,
      profiles: [profile('small', 'm/manifest.json'), profile('other', 'x/manifest.json')],
    }),
  });
});
afterAll(() => server.close());

describe('acquireModel({ modelIndex, profile })', () => {
  it("acquires the named profile's manifest from a models.json URL, then from the store", async () => {
    const { store } = memoryStore();
    const first = await acquireModel(
      { modelIndex: server.url('models.json'), profile: 'small' },
      { store, retryDelayMs: 5 },
    );
    expect(first.fromCache).toBe(false);
    expect(first.manifest.manifestUrl).toBe(server.url('m/manifest.json'));
    expect(sha(new Uint8Array(await first.blobs[0]!.arrayBuffer()))).toBe(sha(data));
    const requests = server.log.length;
    // A parsed index is used as given (no second request for models.json).
    const index = await fetchModelIndex(server.url('models.json'));
    const before = server.log.length;
    const again = await acquireModel({ modelIndex: index, profile: 'small' }, { store });
    expect(again.fromCache).toBe(true);
    expect(server.log.slice(before).map((e) => e.path)).toEqual(['m/manifest.json']);
    expect(before).toBe(requests + 1);
  });

  it('names the ids the index has for an id it has not', async () => {
    const error = await acquireModel({
      modelIndex: server.url('models.json'),
      profile: 'big',
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((error as Error).message).toMatch(/no profile "big" \(it has "small", "other"\)/);
  });
});
