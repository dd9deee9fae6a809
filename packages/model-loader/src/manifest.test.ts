import { describe, expect, it } from 'vitest';
import { parseManifest } from './manifest.js';

const hash = (c: string) => c.repeat(64);
const valid = () => ({
  manifestVersion: 1,
  model: { id: 'tiny', version: '1', format: 'gguf' },
  layout: 'gguf-split',
  totalBytes: 30,
  chunks: [
    { file: 'tiny-00001-of-00002.gguf', bytes: 10, sha256: hash('a') },
    { file: 'tiny-00002-of-00002.gguf', bytes: 20, sha256: hash('b') },
  ],
});
const url = 'https://models.example/tiny/manifest.json';
const chunk0 = (m: Record<string, unknown>) => (m['chunks'] as Array<Record<string, unknown>>)[0]!;

function rejection(mutate: (m: ReturnType<typeof valid> & Record<string, unknown>) => void) {
  const m = valid() as ReturnType<typeof valid> & Record<string, unknown>;
  mutate(m);
  try {
    parseManifest(m, { url });
  } catch (error) {
    return error as { code: string; field?: string; message: string };
  }
  throw new Error('expected a rejection');
}

describe('parseManifest', () => {
  it('resolves chunk URLs against the manifest URL', () => {
    const parsed = parseManifest(JSON.stringify(valid()), { url });
    expect(parsed.chunks.map((c) => c.url)).toEqual([
      'https://models.example/tiny/tiny-00001-of-00002.gguf',
      'https://models.example/tiny/tiny-00002-of-00002.gguf',
    ]);
    expect(parsed.manifestUrl).toBe(url);
  });

  it.each([
    ['manifestVersion', (m: Record<string, unknown>) => (m['manifestVersion'] = 2), /must be 1/],
    [
      'model.id',
      (m: Record<string, unknown>) => ((m['model'] as Record<string, unknown>)['id'] = ''),
      /non-empty/,
    ],
    [
      'model.version',
      (m: Record<string, unknown>) => delete (m['model'] as Record<string, unknown>)['version'],
      /non-empty/,
    ],
    ['layout', (m: Record<string, unknown>) => (m['layout'] = 'zip'), /gguf-split/],
    ['totalBytes', (m: Record<string, unknown>) => (m['totalBytes'] = 31), /add up to 30/],
    ['chunks', (m: Record<string, unknown>) => (m['chunks'] = []), /non-empty list/],
    [
      'chunks[1].file',
      (m: ReturnType<typeof valid>) => (m.chunks[1]!.file = m.chunks[0]!.file),
      /repeats/,
    ],
    [
      'chunks[1].url',
      (m: ReturnType<typeof valid>) =>
        Object.assign(m.chunks[1]!, { url: './tiny-00001-of-00002.gguf' }),
      /resolves to https:\/\/models.example\/tiny\/tiny-00001-of-00002.gguf, as chunks\[0\] does/,
    ],
    [
      'chunks[1].sha256',
      (m: ReturnType<typeof valid>) => (m.chunks[1]!.sha256 = hash('a')),
      /equals chunks\[0\].sha256/,
    ],
    [
      'chunks[0].bytes',
      (m: ReturnType<typeof valid>) => (m.chunks[0]!.bytes = 2 * 1024 ** 3),
      /under 2 GiB/,
    ],
    [
      'chunks[1].bytes',
      (m: ReturnType<typeof valid>) => (m.chunks[1]!.bytes = -1),
      /positive integer/,
    ],
    [
      'chunks[0].sha256',
      (m: ReturnType<typeof valid>) => (m.chunks[0]!.sha256 = 'ABC'),
      /64 lowercase hex/,
    ],
    [
      'chunks[0].blocks',
      (m: Record<string, unknown>) => (chunk0(m)['blocks'] = ['x']),
      /must be an object/,
    ],
    [
      'chunks[0].blocks.bytes',
      (m: Record<string, unknown>) => (chunk0(m)['blocks'] = { bytes: 1000, sha256: [] }),
      /from 65536 to 268435456, got 1000/,
    ],
    [
      'chunks[0].blocks.sha256',
      (m: Record<string, unknown>) =>
        (chunk0(m)['blocks'] = { bytes: 65536, sha256: [hash('a'), hash('b')] }),
      /must list 1 hashes \(one per 65536-byte block of the chunk's 10 bytes\), got 2/,
    ],
    [
      'chunks[0].blocks.sha256[0]',
      (m: Record<string, unknown>) => (chunk0(m)['blocks'] = { bytes: 65536, sha256: ['A'] }),
      /64 lowercase hex/,
    ],
  ])('rejects a bad %s with MANIFEST_INVALID naming the field', (field, mutate, why) => {
    const error = rejection(mutate as (m: Record<string, unknown>) => void);
    expect(error.code).toBe('MANIFEST_INVALID');
    expect(error.field).toBe(field);
    expect(error.message).toContain(`\`${field}\``);
    expect(error.message).toMatch(why);
  });

  it('rejects text that is not JSON', () => {
    expect(() => parseManifest('{nope', { url })).toThrowError(
      expect.objectContaining({ code: 'MANIFEST_INVALID' }),
    );
  });

  it('refuses chunks on another origin unless allowed', () => {
    const m = valid();
    (m.chunks[1] as Record<string, unknown>)['url'] = 'https://cdn.other/x.gguf';
    expect(() => parseManifest(m, { url })).toThrowError(
      expect.objectContaining({ code: 'ORIGIN_NOT_ALLOWED', chunkIndex: 1 }),
    );
    expect(parseManifest(m, { url, allowedOrigins: ['https://cdn.other'] }).chunks[1]!.url).toBe(
      'https://cdn.other/x.gguf',
    );
  });

  it('checks that byte-chunks add up to the source', () => {
    const error = rejection((m) => {
      m['layout'] = 'byte-chunks';
      m['source'] = { file: 'tiny.gguf', bytes: 99, sha256: hash('c') };
    });
    expect(error).toMatchObject({ code: 'MANIFEST_INVALID', field: 'source.bytes' });
  });
});
