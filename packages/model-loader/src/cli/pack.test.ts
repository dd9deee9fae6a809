import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import { writeTinyLlama } from '@the-edge-agent/test-fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../load-model.js';
import { parseManifest } from '../manifest.js';
import { startTestServer } from '../test-server.test-helper.js';
import { inspect } from './inspect.js';
import { pack } from './pack.js';
import { verify } from './verify.js';

let dir: string;
let source: string;
let sourceBytes: Buffer;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tea-pack-'));
  source = join(dir, 'tiny.gguf');
  await writeTinyLlama(source, { seed: 3 });
  sourceBytes = await readFile(source);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every tensor's data bytes, by name, read with @huggingface/gguf (an independent reader). */
async function tensorData(path: string) {
  const parsed = await gguf(path, { allowLocalFile: true });
  const bytes = await readFile(path);
  const infos = [...parsed.tensorInfos].sort((a, b) => (a.offset < b.offset ? -1 : 1));
  const out = new Map<string, string>();
  infos.forEach((t, i) => {
    const start = Number(parsed.tensorDataOffset + t.offset);
    const elements = t.shape.reduce((a, b) => a * Number(b), 1);
    const end =
      i + 1 < infos.length ? Number(parsed.tensorDataOffset + infos[i + 1]!.offset) : bytes.length;
    expect(t.dtype).toBe(0); // F32 fixture: 4 bytes per element
    expect(end - start).toBeGreaterThanOrEqual(4 * elements);
    out.set(t.name, sha(bytes.subarray(start, start + 4 * elements)));
  });
  return { parsed, data: out };
}

describe('--max-chunk-size below a tensor', () => {
  it('warns, naming the tensor and the smallest size every shard fits', async () => {
    const warnings: string[] = [];
    const manifest = await pack(source, {
      out: join(dir, 'tiny-limit'),
      maxChunkBytes: 10 * 1024,
      warn: (line) => warnings.push(line),
    });
    expect(warnings).toHaveLength(1);
    const need = Number(/ (\d+) is the smallest size/.exec(warnings[0]!)?.[1]);
    expect(warnings[0]).toMatch(/--max-chunk-size 10240 is below what tensor \S+ needs alone/);
    expect(Math.max(...manifest.chunks.map((c) => c.bytes))).toBeLessThanOrEqual(need);
    // At that size, no warning.
    const quiet: string[] = [];
    await pack(source, {
      out: join(dir, 'tiny-limit-2'),
      maxChunkBytes: need,
      warn: (l) => quiet.push(l),
    });
    expect(quiet).toEqual([]);
  });
});

describe('file names with URL syntax', () => {
  it("'#', '%' and spaces are percent-encoded in the manifest; verify and the loader find the files", async () => {
    const odd = join(dir, 'odd');
    const name = join(dir, 'my #1 50% model.gguf');
    await writeFile(name, sourceBytes);
    const manifest = await pack(name, { out: odd, maxChunkBytes: 150 * 1024 });
    expect(manifest.chunks[0]!.file).toMatch(/^my%20%231%2050%25%20model-00001-of-0000\d\.gguf$/);
    expect((await verify(join(odd, 'manifest.json'))).every((r) => r.ok)).toBe(true);
    const files = Object.fromEntries(
      await Promise.all(
        manifest.chunks.map(async (c) => {
          const onDisk = decodeURIComponent(c.file);
          return [onDisk, new Uint8Array(await readFile(join(odd, onDisk)))] as const;
        }),
      ),
    );
    const server = await startTestServer(files);
    try {
      const parsed = parseManifest(manifest, { url: server.url('manifest.json') });
      const blobs = await loadModel(parsed, { retryDelayMs: 5 });
      expect(blobs).toHaveLength(manifest.chunks.length);
    } finally {
      await server.close();
    }
  });
});

describe('pack (gguf-split)', () => {
  it('writes valid shards under the limit that hold exactly the source tensors', async () => {
    const out = join(dir, 'split');
    const manifest = await pack(source, { out, maxChunkBytes: 150 * 1024 });
    expect(manifest.chunks.length).toBeGreaterThan(2);
    expect(manifest.source).toEqual({
      file: 'tiny.gguf',
      bytes: sourceBytes.length,
      sha256: sha(sourceBytes),
    });
    expect(manifest.model).toMatchObject({
      id: 'tiny',
      version: '1',
      format: 'gguf',
      quantization: 'F32',
      architecture: 'llama',
    });
    const n = manifest.chunks.length;
    const src = await tensorData(source);
    const seen = new Map<string, string>();
    for (const [i, chunk] of manifest.chunks.entries()) {
      expect(chunk.file).toBe(
        `tiny-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.gguf`,
      );
      expect(chunk.bytes).toBeLessThanOrEqual(150 * 1024);
      const { parsed, data } = await tensorData(join(out, chunk.file));
      const m = parsed.metadata as Record<string, unknown>;
      expect([m['split.no'], m['split.count'], m['split.tensors.count']]).toEqual([
        i,
        n,
        src.data.size,
      ]);
      expect(m['general.architecture']).toBe(i === 0 ? 'llama' : undefined);
      for (const [name, hash] of data) seen.set(name, hash);
    }
    expect(seen).toEqual(src.data);
    expect((await verify(join(out, 'manifest.json'))).every((r) => r.ok)).toBe(true);
    expect(await inspect(join(out, manifest.chunks[1]!.file))).toMatchObject({
      split: { no: 1, count: n, tensorsTotal: src.data.size },
    });
  });

  it('round-trips through loadModel from an HTTP server', async () => {
    const out = join(dir, 'served');
    const manifest = await pack(source, { out, maxChunkBytes: 200 * 1024 });
    const files = Object.fromEntries(
      await Promise.all(
        manifest.chunks.map(
          async (c) => [c.file, new Uint8Array(await readFile(join(out, c.file)))] as const,
        ),
      ),
    );
    const server = await startTestServer(files);
    try {
      const parsed = parseManifest(await readFile(join(out, 'manifest.json'), 'utf8'), {
        url: server.url('manifest.json'),
      });
      const blobs = await loadModel(parsed, { retryDelayMs: 5 });
      expect(blobs).toHaveLength(manifest.chunks.length);
      for (const [i, blob] of blobs.entries())
        expect(sha(new Uint8Array(await blob.arrayBuffer()))).toBe(manifest.chunks[i]!.sha256);
    } finally {
      await server.close();
    }
  });

  it('gives a tensor larger than the target size a shard of its own, never splitting it', async () => {
    // Gemma 3n E4B's per_layer_token_embd (1.93 GB) against the release's 512 MiB target.
    const out = join(dir, 'oversize');
    const manifest = await pack(source, { out, maxChunkBytes: 10 * 1024 });
    const src = await tensorData(source);
    const seen = new Map<string, string>();
    let oversize = 0;
    for (const chunk of manifest.chunks) {
      const { data } = await tensorData(join(out, chunk.file));
      if (chunk.bytes > 10 * 1024) {
        oversize++;
        expect(data.size).toBe(1); // alone in its shard
      }
      for (const [name, hash] of data) seen.set(name, hash);
    }
    expect(oversize).toBeGreaterThan(0);
    expect(seen).toEqual(src.data);
    expect((await verify(join(out, 'manifest.json'))).every((r) => r.ok)).toBe(true);
  });

  it('refuses a file that is not GGUF', async () => {
    const notGguf = join(dir, 'not.gguf');
    await writeFile(notGguf, 'hello world, not a model');
    await expect(pack(notGguf, { out: join(dir, 'y') })).rejects.toMatchObject({
      code: 'GGUF_INVALID',
    });
  });
});

describe('pack (byte-chunks) and verify', () => {
  it('writes byte ranges whose concatenation is the source', async () => {
    const out = join(dir, 'bytes');
    const manifest = await pack(source, { out, layout: 'byte-chunks', maxChunkBytes: 200_000 });
    expect(manifest.chunks.map((c) => c.bytes)).toEqual([
      200_000,
      200_000,
      sourceBytes.length - 400_000,
    ]);
    const joined = Buffer.concat(
      await Promise.all(manifest.chunks.map((c) => readFile(join(out, c.file)))),
    );
    expect(sha(joined)).toBe(sha(sourceBytes));
  });

  it('reports a corrupted chunk', async () => {
    const out = join(dir, 'corrupt');
    const manifest = await pack(source, { out, layout: 'byte-chunks', maxChunkBytes: 200_000 });
    const victim = join(out, manifest.chunks[1]!.file);
    const bytes = await readFile(victim);
    bytes[10]! ^= 0xff;
    await writeFile(victim, bytes);
    const results = await verify(join(out, 'manifest.json'));
    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
    expect(results[1]!.problem).toMatch(/^sha256 [0-9a-f]{64}, expected /);
  });

  it('writes the hash of every block of each chunk, and verify checks them', async () => {
    const out = join(dir, 'blocks');
    const manifest = await pack(source, {
      out,
      layout: 'byte-chunks',
      maxChunkBytes: 200_000,
      blockBytes: 65_536,
    });
    for (const c of manifest.chunks) {
      const bytes = await readFile(join(out, c.file));
      expect(c.blocks!.bytes).toBe(65_536);
      expect(c.blocks!.sha256).toEqual(
        Array.from({ length: Math.ceil(bytes.length / 65_536) }, (_, k) =>
          sha(bytes.subarray(k * 65_536, (k + 1) * 65_536)),
        ),
      );
    }
    // A manifest whose block list disagrees with its file is reported with the block's bytes.
    const path = join(out, 'manifest.json');
    const json = JSON.parse(await readFile(path, 'utf8')) as typeof manifest;
    json.chunks[0]!.blocks!.sha256[3] = '0'.repeat(64);
    await writeFile(path, JSON.stringify(json));
    const results = await verify(path);
    expect(results.map((r) => r.ok)).toEqual([false, true, true]);
    expect(results[0]!.problem).toMatch(
      /^block 3 \(bytes 196608-199999\): sha256 [0-9a-f]{64}, expected 0{64}$/,
    );
    await expect(pack(source, { out, blockBytes: 1000 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});
