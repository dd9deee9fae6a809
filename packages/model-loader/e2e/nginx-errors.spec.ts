import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { publish, randomChunks } from './nginx-model.js';
import { load, type LoadResult } from './nginx-page.js';
import { nginxSuite } from './nginx-suite.js';
import { SIGNED_QUERY, URL_SECRET } from './published-model.js';

// The loader's errors against a real nginx (see nginx.spec.ts): files cut short, missing or
// unreadable on the server, nginx's 416 past the end of a file, signed URLs that must never show
// in what a developer sees, and CORS set up without `always`. Each ends with a coded error within
// seconds, and the next load after fixing the file succeeds with no manual action.

const s = nginxSuite('errors');

test('a truncated, a deleted and an unreadable chunk: coded errors within seconds; fixing the file heals the next load', async ({
  page,
}) => {
  await s.open(page);
  const data = randomChunks(3);
  const m = publish(s.site, { dir: 'plain/broken', chunks: data });
  const path = join(s.site, m.dir, m.names[1]!);
  const url = s.nginx.url(`${m.dir}/${m.names[1]}`);
  writeFileSync(path, data[1]!.subarray(0, 200_000));
  const short = await load(page, s.manifestUrl(m));
  expect(short, s.log(m)).toMatchObject({ ok: false, code: 'CHUNK_SIZE_MISMATCH', chunkIndex: 1 });
  expect(short.message).toContain(`says ${data[1]!.length} bytes`);
  expect(short.message).toContain(`is 200000 bytes`);
  expect(short.ms).toBeLessThan(5000);
  rmSync(path);
  let mark = s.mark();
  const missing = await load(page, s.manifestUrl(m));
  expect(missing).toMatchObject({ ok: false, code: 'HTTP_ERROR', status: 404, url });
  expect(missing.message).toMatch(/404.*check the URL.*every shard was uploaded/);
  expect(s.chunks(m, mark).filter((e) => e.status === 404)).toHaveLength(1);
  writeFileSync(path, data[1]!);
  chmodSync(path, 0);
  mark = s.mark();
  const refused = await load(page, s.manifestUrl(m));
  expect(refused, s.log(m, mark)).toMatchObject({ ok: false, code: 'HTTP_ERROR', status: 403 });
  expect(refused.message).toMatch(/403.*refuses it/);
  chmodSync(path, 0o644);
  const fixed = await load(page, s.manifestUrl(m));
  expect(fixed, s.log(m)).toMatchObject({ ok: true, hashes: m.hashes });
  expect(fixed.stats.models[0]).toMatchObject({ complete: true, partialBytes: 0 });
});

test("a chunk cut below what the store kept: nginx's 416 (its CORS headers twice, a network error to the page) is CHUNK_SIZE_MISMATCH", async ({
  page,
}) => {
  await s.open(page);
  const data = randomChunks(3);
  const m = publish(s.site, { dir: 'slow/past-end', chunks: data });
  await s.abortHalfway(page, m);
  data.forEach((c, i) => writeFileSync(join(s.site, m.dir, m.names[i]!), c.subarray(0, 60_000)));
  const mark = s.mark();
  const r = await load(page, s.manifestUrl(m));
  expect(s.chunks(m, mark).some((e) => e.status === 416)).toBe(true);
  expect(r, s.log(m, mark)).toMatchObject({ ok: false, code: 'CHUNK_SIZE_MISMATCH' });
  expect(r.message).toContain('is 60000 bytes');
  expect(r.ms).toBeLessThan(5000);
  data.forEach((c, i) => writeFileSync(join(s.site, m.dir, m.names[i]!), c));
  expect(await load(page, s.manifestUrl(m))).toMatchObject({ ok: true, hashes: m.hashes });
});

test('signed URLs: no error, url field, progress event or console line shows the signature', async ({
  page,
}) => {
  const lines = await s.open(page);
  const data = randomChunks(3);
  const dir = 'plain/signed';
  const m = publish(s.site, {
    dir,
    chunks: data,
    urlOf: (file) => s.nginx.url(`${dir}/${file}${SIGNED_QUERY}`),
  });
  const url = `${s.manifestUrl(m)}${SIGNED_QUERY}`;
  const path = join(s.site, dir, m.names[1]!);
  const results: LoadResult[] = [];
  writeFileSync(path, data[1]!.subarray(0, 100_000));
  results.push(await load(page, url));
  rmSync(path);
  results.push(await load(page, url));
  writeFileSync(path, data[1]!);
  chmodSync(path, 0);
  results.push(await load(page, url));
  chmodSync(path, 0o644);
  results.push(await load(page, url));
  expect(results.map((r) => [r.code, r.status])).toEqual([
    ['CHUNK_SIZE_MISMATCH', 206],
    ['HTTP_ERROR', 404],
    ['HTTP_ERROR', 403],
    [undefined, undefined],
  ]);
  for (const r of results) {
    expect(r.leaks).toEqual([]);
    expect(JSON.stringify(r)).not.toContain(URL_SECRET);
    if (r.url) expect(r.url).toBe(s.nginx.url(`${dir}/${m.names[1]}`));
  }
  // The messages still read as sentences once the query string is gone.
  expect(results[1]!.message).toContain(`${m.names[1]}: the file is not at this path`);
  expect(lines.filter((l) => l.includes(URL_SECRET))).toEqual([]);
  // nginx got the signed URLs (it ignores the query).
  expect(s.nginx.requests(dir).filter((e) => e.args.includes(URL_SECRET)).length).toBeGreaterThan(
    3,
  );
});

test('CORS without `always` and nothing exposed: a 404 is a network error that names CORS; fixing the file heals', async ({
  page,
}) => {
  await s.open(page);
  const data = randomChunks(3);
  const m = publish(s.site, { dir: 'minimal/m', chunks: data });
  const path = join(s.site, m.dir, m.names[1]!);
  rmSync(path);
  const mark = s.mark();
  const missing = await load(page, s.manifestUrl(m));
  expect(missing, s.log(m, mark)).toMatchObject({
    ok: false,
    code: 'NETWORK_ERROR',
    chunkIndex: 1,
  });
  expect(missing.message).toContain('Access-Control-Allow-Origin');
  expect(s.chunks(m, mark).filter((e) => e.status === 404).length).toBeGreaterThan(1);
  writeFileSync(path, data[1]!);
  const fixed = await load(page, s.manifestUrl(m));
  expect(fixed, s.log(m)).toMatchObject({ ok: true, hashes: m.hashes });
});
