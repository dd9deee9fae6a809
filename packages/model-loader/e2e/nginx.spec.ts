import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect, test, type Page } from '@playwright/test';
import { packTinyLlama, publish, randomChunks, replaceChunk, withNewChunk } from './nginx-model.js';
import { abortLoad, CONCURRENCY, load, RANGE_BYTES, stateOf } from './nginx-page.js';
import { bodyBytes } from './nginx-server.js';
import { nginxSuite } from './nginx-suite.js';

// The real model-loader and model-cache in Chromium against a real nginx (Debian's 1.22), the
// oracle for the HTTP the fault server of the other suites imitates: downloads, resumes, cache
// hits, re-published files, gzip, Range ignored, GGUF URLs, two tabs. Each folder of the site
// has its own directives (nginx-suite.ts); each test publishes its own model there and checks
// the load's result and nginx's access log (which requests were made, with which headers).
// Errors: nginx-errors.spec.ts.

const s = nginxSuite('downloads');

test('a model packed by tea-model pack (names with spaces, # and %) loads; the second load is a cache hit with no chunk request', async ({
  page,
}) => {
  await s.open(page);
  const m = await packTinyLlama(s.site, 'plain/packed', 'tiny model #1 100%.gguf', '200K');
  expect(m.names.length).toBeGreaterThan(1);
  const first = await load(page, s.manifestUrl(m));
  expect(first, s.log(m)).toMatchObject({ ok: true, fromCache: false, hashes: m.hashes });
  expect(first.stats.models[0]).toMatchObject({ complete: true, partialBytes: 0 });
  // nginx found every file under its decoded name, and sent each once.
  expect(new Set(s.chunks(m).map((e) => e.uri))).toEqual(
    new Set(m.names.map((n) => `/${m.dir}/${n}`)),
  );
  expect(s.chunks(m).every((e) => e.status === 200 || e.status === 206)).toBe(true);
  expect(bodyBytes(s.chunks(m))).toBe(m.totalBytes);
  const mark = s.mark();
  const second = await load(page, s.manifestUrl(m));
  expect(second).toMatchObject({ ok: true, fromCache: true, hashes: m.hashes });
  expect(s.chunks(m, mark)).toEqual([]);
});

for (const blocks of [true, false])
  test(`aborted halfway, the next load resumes with Range and fetches no more than the bound (${blocks ? 'block hashes' : 'whole-chunk hashes'})`, async ({
    page,
  }) => {
    await s.open(page);
    const m = publish(s.site, { dir: `slow/resume-${blocks}`, chunks: randomChunks(4), blocks });
    const kept = await s.abortHalfway(page, m);
    const mark = s.mark();
    const again = await load(page, s.manifestUrl(m));
    expect(again, s.log(m)).toMatchObject({ ok: true, fromCache: false, hashes: m.hashes });
    expect(s.resumes(m, mark).length, s.log(m)).toBeGreaterThan(0);
    // Never more than a Range request per chunk in flight; the resume asks only for what the
    // store did not keep; over both loads, at most the Range requests cut by the abort again.
    expect(Math.max(...s.chunks(m).map((e) => e.body))).toBeLessThanOrEqual(RANGE_BYTES);
    expect(bodyBytes(s.chunks(m, mark))).toBeLessThanOrEqual(m.totalBytes - kept);
    expect(bodyBytes(s.chunks(m))).toBeLessThanOrEqual(m.totalBytes + CONCURRENCY * RANGE_BYTES);
  });

test('a chunk re-packed (same size, new ETag) under a new version after an abort: the new bytes, verified', async ({
  page,
}) => {
  await s.open(page);
  const v1 = randomChunks(3);
  const m = publish(s.site, { dir: 'slow/repack', chunks: v1 });
  await s.abortHalfway(page, m);
  const v2 = publish(s.site, { dir: m.dir, chunks: withNewChunk(v1, 1), version: '2' });
  const mark = s.mark();
  const again = await load(page, s.manifestUrl(m));
  expect(again, s.log(m, mark)).toMatchObject({ ok: true, version: '2', hashes: v2.hashes });
  // The new chunk came from nginx (the browser's validators of its old copy failed: no 304).
  const c1 = s.chunks(m, mark).filter((e) => e.uri.endsWith(`/${m.names[1]}`));
  expect(c1.length).toBeGreaterThan(0);
  expect(c1.every((e) => e.status === 206 || e.status === 200)).toBe(true);
  expect(again.stats.models).toMatchObject([{ version: '2', complete: true, partialBytes: 0 }]);
  expect(again.stats.totalBytes).toBe(v2.totalBytes);
});

test('a manifest re-published with the same mtime and size (its ETag unchanged, as reproducible builds deploy): the new version loads', async ({
  page,
}) => {
  await s.open(page);
  const fixed = 946684800; // 2000-01-01, as SOURCE_DATE_EPOCH builds date every file
  const v1 = randomChunks(3);
  const m = publish(s.site, { dir: 'plain/fixed-mtime', chunks: v1, manifestMtime: fixed });
  const first = await load(page, s.manifestUrl(m));
  expect(first, s.log(m)).toMatchObject({ ok: true, version: '1', hashes: m.hashes });
  // Version "2" under another file name (a new chunk, the same manifest size and mtime).
  const v2 = publish(s.site, {
    dir: m.dir,
    chunks: withNewChunk(v1, 2),
    names: ['c0.bin', 'c1.bin', 'd2.bin'],
    version: '2',
    manifestMtime: fixed,
  });
  const mark = s.mark();
  const again = await load(page, s.manifestUrl(m));
  expect(again, s.log(m, mark)).toMatchObject({ ok: true, version: '2', hashes: v2.hashes });
  // The manifest was asked without validators and sent whole: no 304 kept the old version.
  const manifest = s.nginx
    .requests(m.dir, mark, false)
    .filter((e) => e.uri.endsWith('/manifest.json'));
  expect(manifest.length, s.log(m, mark)).toBeGreaterThan(0);
  expect(manifest.every((e) => e.status === 200 && e.ifNoneMatch === '' && e.body > 0)).toBe(true);
});

test('a chunk replaced on disk under the same manifest while partly stored: the validators fail, CHUNK_HASH_MISMATCH, then the new version loads', async ({
  page,
}) => {
  await s.open(page);
  const v1 = randomChunks(3);
  const m = publish(s.site, { dir: 'slow/replaced', chunks: v1 });
  await s.abortHalfway(page, m);
  const next = withNewChunk(v1, 1);
  replaceChunk(s.site, m, 1, next[1]!);
  let mark = s.mark();
  const broken = await load(page, s.manifestUrl(m));
  expect(broken, s.log(m, mark)).toMatchObject({ ok: false, code: 'CHUNK_HASH_MISMATCH' });
  expect(broken.chunkIndex).toBe(1);
  // nginx sent the new file's bytes (the browser's If-Range or If-None-Match with the old ETag
  // never got a 304), and the chunk cost at most twice its size.
  const c1 = s.chunks(m, mark).filter((e) => e.uri.endsWith(`/${m.names[1]}`));
  expect(bodyBytes(c1), s.log(m, mark)).toBeGreaterThan(0);
  expect(c1.filter((e) => e.ifRange || e.ifNoneMatch).every((e) => e.status !== 304)).toBe(true);
  expect(bodyBytes(c1)).toBeLessThanOrEqual(2 * v1[1]!.length);
  const v2 = publish(s.site, { dir: m.dir, chunks: next, version: '2', write: false });
  mark = s.mark();
  const again = await load(page, s.manifestUrl(m));
  expect(again, s.log(m, mark)).toMatchObject({ ok: true, version: '2', hashes: v2.hashes });
});

test('expires 1h: chunks re-packed at the same URL under a new manifest are not taken from the browser cache', async ({
  page,
}) => {
  await s.open(page);
  const v1 = randomChunks(3);
  const m = publish(s.site, { dir: 'expires/m', chunks: v1 });
  expect((await load(page, s.manifestUrl(m))).ok).toBe(true);
  expect(s.chunks(m).every((e) => e.cacheControl === 'max-age=3600')).toBe(true);
  // Same size, then another size: the browser's fresh copy fails the hash (or the size), and
  // the chunk is asked again past the cache (`cache: 'reload'`: no validators).
  const v2 = withNewChunk(v1, 1);
  const v3 = withNewChunk(v2, 2, v2[2]!.length - 1000);
  for (const [version, next, i] of [
    ['2', v2, 1],
    ['3', v3, 2],
  ] as const) {
    replaceChunk(s.site, m, i, next[i]!);
    const v = publish(s.site, { dir: m.dir, chunks: next, version, write: false });
    const mark = s.mark();
    const r = await load(page, s.manifestUrl(m));
    expect(r, s.log(m, mark)).toMatchObject({ ok: true, version, hashes: v.hashes });
    const asked = s.chunks(m, mark);
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.every((e) => e.uri.endsWith(`/${m.names[i]}`) && !e.ifNoneMatch)).toBe(true);
  }
});

/** Chunks under the Range size (asked whole, so gzip applies), a quarter of them zeros. */
const compressible = (n: number) =>
  randomChunks(n, 200_000).map((c) => (c.fill(0, 0, c.length / 4), c));

for (const [dir, note] of [
  ['gzip', 'gzip on'],
  ['static', 'gzip_static on'],
] as const)
  test(`${note}: gzip answers verify, and an aborted load resumes with identity Range requests`, async ({
    page,
  }) => {
    await s.open(page);
    const data = compressible(4);
    const m = publish(s.site, { dir: `${dir}/m`, chunks: data });
    if (dir === 'static')
      m.names.forEach((n, i) => writeFileSync(join(s.site, m.dir, `${n}.gz`), gzipSync(data[i]!)));
    await s.abortHalfway(page, m);
    expect(
      s.chunks(m).some((e) => e.contentEncoding === 'gzip'),
      s.log(m),
    ).toBe(true);
    const mark = s.mark();
    const again = await load(page, s.manifestUrl(m));
    expect(again, s.log(m, mark)).toMatchObject({ ok: true, hashes: m.hashes });
    // nginx never compresses a Range answer (and Chromium asks them with identity).
    expect(s.resumes(m, mark).length).toBeGreaterThan(0);
    expect(s.resumes(m, mark).every((e) => e.contentEncoding === '')).toBe(true);
    expect(again.stats.models[0]).toMatchObject({ complete: true, partialBytes: 0 });
  });

test('etag off (Last-Modified only): a resume verifies; a same-size replacement is caught by the block hashes', async ({
  page,
}) => {
  await s.open(page);
  const data = randomChunks(3);
  const m = publish(s.site, { dir: 'noetag/m', chunks: data });
  await s.abortHalfway(page, m);
  let mark = s.mark();
  expect(await load(page, s.manifestUrl(m)), s.log(m, mark)).toMatchObject({
    ok: true,
    hashes: m.hashes,
  });
  expect(s.resumes(m, mark).length).toBeGreaterThan(0);
  const other = randomChunks(3);
  const n = publish(s.site, { dir: 'noetag/n', chunks: other });
  await s.abortHalfway(page, n);
  const next = withNewChunk(other, 1);
  replaceChunk(s.site, n, 1, next[1]!);
  mark = s.mark();
  const broken = await load(page, s.manifestUrl(n));
  expect(broken, s.log(n, mark)).toMatchObject({
    ok: false,
    code: 'CHUNK_HASH_MISMATCH',
    chunkIndex: 1,
  });
  const v2 = publish(s.site, { dir: n.dir, chunks: next, version: '2', write: false });
  expect(await load(page, s.manifestUrl(n))).toMatchObject({
    ok: true,
    version: '2',
    hashes: v2.hashes,
  });
});

test('two tabs: the one downloading aborts halfway, the waiting one takes over; one download, both resolve', async ({
  page,
  context,
}) => {
  await s.open(page);
  const other = await context.newPage();
  await s.open(other);
  const m = publish(s.site, { dir: 'slow/tabs', chunks: randomChunks(3) });
  const loaded = async (p: Page) => (await stateOf(p)).loaded;
  const first = load(page, s.manifestUrl(m));
  await expect.poll(() => loaded(page), { timeout: 10_000, intervals: [50] }).toBeGreaterThan(0);
  const second = load(other, s.manifestUrl(m));
  await expect
    .poll(async () => (await stateOf(other)).waiting, { timeout: 10_000, intervals: [50] })
    .toBe(true);
  await expect
    .poll(() => loaded(page), { timeout: 10_000, intervals: [50] })
    .toBeGreaterThan(m.totalBytes / 2);
  await abortLoad(page);
  const [a, b] = await Promise.all([first, second]);
  expect(a.code, s.log(m)).toBe('ABORTED');
  expect(b, s.log(m)).toMatchObject({ ok: true, hashes: m.hashes, waited: true });
  expect(bodyBytes(s.chunks(m))).toBeLessThanOrEqual(m.totalBytes + CONCURRENCY * RANGE_BYTES);
  expect(await load(page, s.manifestUrl(m))).toMatchObject({ ok: true, fromCache: true });
});

test('a GGUF URL without a manifest: headers read with Range, the size from a HEAD where CORS hides Content-Range, pinned, then no request', async ({
  page,
}) => {
  await s.open(page);
  for (const dir of ['plain', 'minimal']) {
    const m = await packTinyLlama(s.site, `${dir}/gguf`, 'tiny.gguf', '200K');
    // The first gguf-split shard stands for all of them.
    const url = s.nginx.url(`${m.dir}/${m.names[0]}`);
    const first = await load(page, url, { gguf: true });
    expect(first, s.log(m)).toMatchObject({ ok: true, fromCache: false, hashes: m.hashes });
    // Each shard's first request reads its header with Range.
    for (const n of m.names) {
      const read = s.chunks(m).find((e) => e.method === 'GET' && e.uri.endsWith(`/${n}`));
      expect(read?.range, s.log(m)).toMatch(/^bytes=0-/);
    }
    const heads = s.chunks(m).filter((e) => e.method === 'HEAD');
    expect(heads.length, s.log(m)).toBe(dir === 'minimal' ? m.names.length : 0);
    const mark = s.mark();
    const second = await load(page, url, { gguf: true });
    expect(second).toMatchObject({ ok: true, fromCache: true, hashes: m.hashes });
    expect(s.chunks(m, mark)).toEqual([]);
  }
});

test('max_ranges 0 (Range ignored): whole-file requests; an aborted load starts its chunks over and verifies', async ({
  page,
}) => {
  await s.open(page);
  const m = publish(s.site, { dir: 'noranges/m', chunks: randomChunks(3) });
  await s.abortHalfway(page, m);
  const mark = s.mark();
  const again = await load(page, s.manifestUrl(m));
  expect(again, s.log(m, mark)).toMatchObject({ ok: true, hashes: m.hashes });
  expect(s.chunks(m).every((e) => e.status === 200)).toBe(true);
  // Each chunk at most once more, whole (what the store kept of it is dropped, not mixed in).
  expect(bodyBytes(s.chunks(m, mark))).toBeLessThanOrEqual(m.totalBytes);
  expect(again.stats.models[0]).toMatchObject({ complete: true, partialBytes: 0 });
});
