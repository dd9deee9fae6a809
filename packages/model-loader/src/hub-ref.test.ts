import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildVocab, shapeForSize, writeTinyLlama } from '@the-edge-agent/test-fixtures';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pack } from './cli/pack.js';
import { acquireModel } from './acquire-model.js';
import type { AcquireModelOptions } from './acquire-types.js';
import { parseHubReference, type HubPin, type ModelLoaderWarning } from './hub-ref.js';
import { commitOf, startFakeHub, type FakeHub } from './hub-server.test-helper.js';
import { pinningStore, segmentStore } from './memory-store.test-helper.js';

// hf: references against a local hub that answers as Hugging Face's does: a branch or tag is
// resolved to its commit once (one API request, before any model byte), the files come from
// /resolve/<commit>/ (a redirect to a CDN with a signed URL), the commit and the LFS SHA-256s are
// recorded with the cached model, and later loads of the same reference load those bytes.

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const TOKEN = 'hf_readerTOKENsecret42';
const OTHER_TOKEN = 'hf_strangerTOKENsecret7';
const C1 = commitOf('c1');
const C2 = commitOf('c2');
const TAGGED = commitOf('v1');
let dir: string;
let a: Uint8Array;
let b: Uint8Array;
const shards: Record<string, Uint8Array> = {};
let hub: FakeHub;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hub-ref-'));
  await writeTinyLlama(join(dir, 'tiny.gguf'), {
    seed: 7,
    shape: shapeForSize(8 * 2 ** 20, buildVocab().tokens.length),
  });
  a = new Uint8Array(await readFile(join(dir, 'tiny.gguf')));
  // The same model with other weights: what `main` holds after a new upload.
  b = Uint8Array.from(a);
  b[b.length - 10]! ^= 0xff;
  await pack(join(dir, 'tiny.gguf'), { out: join(dir, 'split'), maxChunkBytes: 3 * 2 ** 20 });
  for (const f of (await readdir(join(dir, 'split'))).filter((f) => f.endsWith('.gguf')))
    shards[f] = new Uint8Array(await readFile(join(dir, 'split', f)));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await hub?.close();
  hub = await startFakeHub(
    {
      'acme/tiny-GGUF': {
        refs: { main: C1, v1: TAGGED },
        commits: {
          [C1]: { 'q4/tiny.gguf': a, 'README.md': a.subarray(0, 10) },
          [TAGGED]: { 'q4/tiny.gguf': b },
        },
      },
      'acme/split-GGUF': {
        refs: { main: C1 },
        commits: { [C1]: Object.fromEntries(Object.entries(shards)) },
      },
      'acme/private-GGUF': {
        refs: { main: C1 },
        commits: { [C1]: { 'tiny.gguf': a } },
        access: { kind: 'private', readers: [TOKEN] },
      },
      'acme/gated-GGUF': {
        refs: { main: C1 },
        commits: { [C1]: { 'tiny.gguf': a } },
        access: { kind: 'gated', readers: [TOKEN] },
      },
    },
    [TOKEN, OTHER_TOKEN],
  );
});
afterAll(async () => {
  await hub.close();
});

/** Options against the fake hub, collecting warnings. */
function hubOptions(extra: AcquireModelOptions = {}) {
  const warnings: ModelLoaderWarning[] = [];
  const options: AcquireModelOptions = {
    hubBaseUrl: hub.origin,
    allowedOrigins: [hub.cdnOrigin],
    retryDelayMs: 5,
    onWarning: (w) => warnings.push(w),
    ...extra,
  };
  return { options, warnings };
}

const load = (ref: string, options: AcquireModelOptions) =>
  acquireModel({ ggufUrls: [ref] }, options);
const bytesOf = async (blob: Blob) => sha(new Uint8Array(await blob.arrayBuffer()));
const offline = (() => Promise.reject(new TypeError('fetch failed'))) as typeof fetch;
const REF = 'hf:acme/tiny-GGUF/q4/tiny.gguf';

describe('hf: references are pinned', () => {
  it('resolves main to its commit with one API request before any model byte, downloads /resolve/<commit>/, verifies the LFS SHA-256 and records the pin', async () => {
    const { store, manifests } = pinningStore();
    const { options, warnings } = hubOptions({ store });
    const got = await load(REF, options);
    expect(hub.log[0]).toMatchObject({
      server: 'hub',
      path: '/api/models/acme/tiny-GGUF/revision/main',
    });
    expect(hub.apiRequests()).toHaveLength(1);
    const files = hub.log.filter((e) => e.server === 'hub' && e.path.includes('/resolve/'));
    expect(files.length).toBeGreaterThan(0);
    expect(files.every((e) => e.path === `/acme/tiny-GGUF/resolve/${C1}/q4/tiny.gguf`)).toBe(true);
    expect(got.fromCache).toBe(false);
    expect(await bytesOf(got.blobs[0]!)).toBe(sha(a));
    // The Hub's LFS SHA-256 was the expected hash from the start, and the pin is stored.
    expect(got.manifest.chunks[0]).toMatchObject({ sha256: sha(a), file: 'tiny.gguf' });
    const stored = manifests.get(got.manifest.model.id)!;
    expect(stored['hub' as keyof typeof stored]).toMatchObject({
      repo: 'acme/tiny-GGUF',
      revision: 'main',
      commit: C1,
    } satisfies Partial<HubPin>);
    expect(got.manifest.model.id).toBe(
      `gguf:${hub.origin}/acme/tiny-GGUF/resolve/main/q4/tiny.gguf`,
    );
    expect(warnings).toEqual([
      expect.objectContaining({ code: 'HUB_REVISION_PINNED', revision: 'main', commit: C1 }),
    ]);
    expect(warnings[0]!.message).toContain('a branch or tag, which can move');
    expect(warnings[0]!.message).toContain(`${REF}@${C1}`);
  });

  it('a later load of the same reference loads the pinned bytes: offline from the cache; online after main moved, still the pinned commit, warning with the new one', async () => {
    const { store, manifests } = pinningStore();
    await load(REF, hubOptions({ store }).options);
    hub.setRef('acme/tiny-GGUF', 'main', C2, { 'q4/tiny.gguf': b });

    // Offline: the pinned commit from the cache, not one request answered.
    const before = hub.log.length;
    const cut = hubOptions({ store, fetch: offline });
    const away = await load(REF, cut.options);
    expect(away.fromCache).toBe(true);
    expect(await bytesOf(away.blobs[0]!)).toBe(sha(a));
    expect(hub.log.length).toBe(before);
    expect(cut.warnings).toEqual([
      expect.objectContaining({ code: 'HUB_REVISION_PINNED', commit: C1 }),
    ]);
    expect(cut.warnings[0]!.message).toContain('whether "main" has moved is unknown');

    // Online: one API request, no file request, the same bytes, and a warning naming both commits.
    const online = hubOptions({ store });
    const again = await load(REF, online.options);
    expect(again.fromCache).toBe(true);
    expect(await bytesOf(again.blobs[0]!)).toBe(sha(a));
    expect(hub.log.slice(before).map((e) => e.path)).toEqual([
      '/api/models/acme/tiny-GGUF/revision/main',
    ]);
    expect(online.warnings).toEqual([
      expect.objectContaining({ code: 'HUB_REVISION_MOVED', commit: C1, latestCommit: C2 }),
    ]);
    expect(online.warnings[0]!.message).toContain(`${REF}@${C2}`);

    // Evicted chunks come again from the pinned commit, not from where main is now.
    const evicted = pinningStore();
    evicted.manifests.set(again.manifest.model.id, manifests.get(again.manifest.model.id)!);
    const refetched = await load(REF, hubOptions({ store: evicted.store }).options);
    expect(refetched.fromCache).toBe(false);
    expect(await bytesOf(refetched.blobs[0]!)).toBe(sha(a));
    expect(hub.log.filter((e) => e.path.includes('/resolve/')).at(-1)!.path).toContain(C1);

    // The new commit is taken by asking for it, or after the cached model is deleted.
    const taken = await load(`${REF}@${C2}`, hubOptions({ store }).options);
    expect(await bytesOf(taken.blobs[0]!)).toBe(sha(b));
    manifests.delete(again.manifest.model.id);
    const repinned = hubOptions({ store });
    const fresh = await load(REF, repinned.options);
    expect(await bytesOf(fresh.blobs[0]!)).toBe(sha(b));
    expect(repinned.warnings[0]).toMatchObject({ code: 'HUB_REVISION_PINNED', commit: C2 });
  });

  it("with the Hub's hashes the manifest is complete before the download: the pin is stored at once and a reload resumes", async () => {
    const { store } = pinningStore(segmentStore());
    const controller = new AbortController();
    const stopped = await load(
      REF,
      hubOptions({
        store,
        signal: controller.signal,
        segmentBytes: 2 ** 20,
        onProgress: (p) => p.loadedBytes >= 3 * 2 ** 20 && controller.abort(),
      }).options,
    ).catch((e: unknown) => e);
    expect(stopped).toMatchObject({ code: 'ABORTED' });
    const seen = hub.log.length;
    const resumed = await load(REF, hubOptions({ store }).options);
    expect(await bytesOf(resumed.blobs[0]!)).toBe(sha(a));
    const later = hub.log.slice(seen);
    // The pin was found (one API request: the check), and the file was asked for after what
    // the first load had kept.
    expect(later.filter((e) => e.path.startsWith('/api/'))).toHaveLength(1);
    const ranges = later.filter((e) => e.server === 'cdn').map((e) => e.range);
    expect(ranges[0]).toMatch(/^bytes=[1-9]\d*-/);
  });

  it('@<40-hex commit> is used as given (no API request, no warning); a tag is resolved and pinned like a branch', async () => {
    const exact = hubOptions();
    const got = await load(`${REF}@${C1}`, exact.options);
    expect(hub.apiRequests()).toEqual([]);
    expect(exact.warnings).toEqual([]);
    expect(await bytesOf(got.blobs[0]!)).toBe(sha(a));
    expect(got.manifest['hub']).toMatchObject({ revision: C1, commit: C1 });

    const tag = hubOptions();
    const tagged = await load(`${REF}@v1`, tag.options);
    expect(hub.apiRequests().map((e) => e.path)).toEqual([
      '/api/models/acme/tiny-GGUF/revision/v1',
    ]);
    expect(await bytesOf(tagged.blobs[0]!)).toBe(sha(b));
    expect(tag.warnings).toEqual([
      expect.objectContaining({ code: 'HUB_REVISION_PINNED', revision: 'v1', commit: TAGGED }),
    ]);
    expect(parseHubReference(`${REF}@${C1}`)).toMatchObject({ pinned: true, path: 'q4/tiny.gguf' });
    expect(parseHubReference(`${REF}@abc1234`)).toMatchObject({ pinned: false });
  });

  it('the first shard of a gguf-split set stands for all of them, at one commit', async () => {
    const names = Object.keys(shards).sort();
    const got = await load(`hf:acme/split-GGUF/${names[0]}`, hubOptions().options);
    expect(hub.apiRequests()).toHaveLength(1);
    expect(got.manifest.chunks.map((c) => c.sha256)).toEqual(names.map((n) => sha(shards[n]!)));
    expect(got.manifest.chunks.every((c) => c.url.includes(`/resolve/${C1}/`))).toBe(true);
  });

  it('private and gated repositories: 401/403 say to pass hubToken; the token goes to the hub only and into no message', async () => {
    const secretFree = (e: unknown) => {
      const text = [String(e), JSON.stringify(e), String((e as Error).cause)].join(' ');
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(OTHER_TOKEN);
      expect(text).not.toContain('cdnsecret123');
    };
    const privateRef = 'hf:acme/private-GGUF/tiny.gguf';
    const noToken = await load(privateRef, hubOptions().options).catch((e: unknown) => e);
    expect(noToken).toMatchObject({ code: 'HTTP_ERROR', status: 401 });
    expect((noToken as Error).message).toMatch(
      /acme\/private-GGUF is private or gated .*hubToken/s,
    );
    expect((noToken as Error).message).toContain(`${hub.origin}/settings/tokens`);

    const stranger = await load(privateRef, hubOptions({ hubToken: OTHER_TOKEN }).options).catch(
      (e: unknown) => e,
    );
    expect(stranger).toMatchObject({ code: 'HTTP_ERROR', status: 404 });
    expect((stranger as Error).message).toContain('there is no repository acme/private-GGUF');
    secretFree(stranger);

    const badToken = await load(
      privateRef,
      hubOptions({ hubToken: 'hf_mistyped999' }).options,
    ).catch((e: unknown) => e);
    expect(badToken).toMatchObject({ code: 'HTTP_ERROR', status: 401 });
    expect((badToken as Error).message).toContain('refused the token');
    expect(String(badToken)).not.toContain('hf_mistyped999');

    // Gated: the metadata is public, the file is not.
    const gatedRef = 'hf:acme/gated-GGUF/tiny.gguf';
    const gated = await load(gatedRef, hubOptions().options).catch((e: unknown) => e);
    expect(gated).toMatchObject({ code: 'HTTP_ERROR', status: 401, chunkIndex: 0 });
    expect((gated as Error).message).toContain(`accept its terms on ${hub.origin}/acme/gated-GGUF`);
    const refused = await load(gatedRef, hubOptions({ hubToken: OTHER_TOKEN }).options).catch(
      (e: unknown) => e,
    );
    expect(refused).toMatchObject({ code: 'HTTP_ERROR', status: 403 });
    expect((refused as Error).message).toContain("the token's account has no access");
    secretFree(refused);

    hub.log.length = 0;
    const reader = hubOptions({ hubToken: TOKEN });
    const got = await load(gatedRef, reader.options);
    expect(await bytesOf(got.blobs[0]!)).toBe(sha(a));
    expect(
      hub.log.filter((e) => e.server === 'hub').every((e) => e.authorization === `Bearer ${TOKEN}`),
    ).toBe(true);
    // The redirect to the CDN (another origin) carries no token.
    expect(hub.log.filter((e) => e.server === 'cdn').length).toBeGreaterThan(0);
    expect(
      hub.log.filter((e) => e.server === 'cdn').every((e) => e.authorization === undefined),
    ).toBe(true);
    for (const w of reader.warnings) expect(JSON.stringify(w)).not.toContain(TOKEN);
  });

  it('404: an unknown repository, revision or file says which', async () => {
    const repo = await load(
      'hf:acme/nope-GGUF/tiny.gguf',
      hubOptions({ hubToken: TOKEN }).options,
    ).catch((e: unknown) => e);
    expect(repo).toMatchObject({ code: 'HTTP_ERROR', status: 404 });
    expect((repo as Error).message).toContain('there is no repository acme/nope-GGUF');
    const revision = await load(`${REF}@nope`, hubOptions().options).catch((e: unknown) => e);
    expect(revision).toMatchObject({ code: 'HTTP_ERROR', status: 404 });
    expect((revision as Error).message).toContain('has no branch, tag or commit "nope"');
    const file = await load('hf:acme/tiny-GGUF/q8/tiny.gguf', hubOptions().options).catch(
      (e: unknown) => e,
    );
    expect(file).toMatchObject({ code: 'HTTP_ERROR', status: 404 });
    expect((file as Error).message).toContain(
      `q8/tiny.gguf is not in acme/tiny-GGUF at "main" (commit ${C1}): check the path; the GGUF files there: q4/tiny.gguf`,
    );
    // Nothing but the one API request each: no file was asked for.
    expect(hub.log.filter((e) => e.path.includes('/resolve/'))).toEqual([]);
  });

  it('offline with nothing cached: NETWORK_ERROR saying to connect; a signed CDN URL never reaches a message', async () => {
    const away = await load(REF, hubOptions({ fetch: offline, retries: 1 }).options).catch(
      (e: unknown) => e,
    );
    expect(away).toMatchObject({ code: 'NETWORK_ERROR' });
    expect((away as Error).message).toContain(
      'could not reach the Hub to resolve "main" to a commit, and no pinned copy of this reference is cached: connect to the network and load again',
    );
    // The CDN's origin not allowed: the error names the origin, not the signed URL.
    const refused = await load(REF, hubOptions({ allowedOrigins: [] }).options).catch(
      (e: unknown) => e,
    );
    expect(refused).toMatchObject({ code: 'ORIGIN_NOT_ALLOWED' });
    expect((refused as Error).message).toContain(hub.cdnOrigin);
    expect(`${String(refused)} ${(refused as { url?: string }).url}`).not.toContain('cdnsecret123');
  });

  it('refuses references of two repositories or revisions as one model', async () => {
    const error = await acquireModel(
      { ggufUrls: [`${REF}@${C1}`, `hf:acme/split-GGUF/x.gguf@${C2}`] },
      hubOptions().options,
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
