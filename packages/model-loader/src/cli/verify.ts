import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type ChunkBlocks, parseManifest } from '../manifest.js';
import { DEFAULT_BLOCK_BYTES, FileHashes } from './file-hashes.js';

/** One file's verification result. */
export interface VerifyResult {
  file: string;
  ok: boolean;
  /** Why it failed: missing, size or hash mismatch. */
  problem?: string;
}

async function hashFile(path: string, blockBytes: number) {
  const hashes = new FileHashes(blockBytes);
  for await (const piece of createReadStream(path, { highWaterMark: 1 << 20 }))
    hashes.update(piece as Buffer);
  return hashes.digest();
}

/** The first block whose hash differs, as a problem line, or undefined. */
function blockProblem(
  expected: ChunkBlocks,
  actual: ChunkBlocks,
  bytes: number,
): string | undefined {
  const k = expected.sha256.findIndex((h, i) => h !== actual.sha256[i]);
  return k < 0
    ? undefined
    : `block ${k} (bytes ${k * expected.bytes}-${Math.min((k + 1) * expected.bytes, bytes) - 1}): sha256 ${actual.sha256[k]}, expected ${expected.sha256[k]}`;
}

/** Re-hashes every chunk a manifest lists (beside the manifest) and reports each mismatch. */
export async function verify(manifestPath: string): Promise<VerifyResult[]> {
  const manifest = parseManifest(await readFile(manifestPath, 'utf8'), {
    url: 'file:///manifest.json',
  });
  const dir = dirname(manifestPath);
  const results: VerifyResult[] = [];
  for (const chunk of manifest.chunks) {
    // The file the loader would fetch: the chunk's URL (resolved as the loader resolves it,
    // percent-encoding included) beside the manifest.
    const path = join(dir, ...decodeURIComponent(new URL(chunk.url).pathname.slice(1)).split('/'));
    const size = await stat(path).then(
      (s) => s.size,
      () => -1,
    );
    if (size < 0) results.push({ file: chunk.file, ok: false, problem: 'missing' });
    else if (size !== chunk.bytes)
      results.push({
        file: chunk.file,
        ok: false,
        problem: `size ${size}, expected ${chunk.bytes}`,
      });
    else {
      const actual = await hashFile(path, chunk.blocks?.bytes ?? DEFAULT_BLOCK_BYTES);
      const problem =
        actual.sha256 !== chunk.sha256
          ? `sha256 ${actual.sha256}, expected ${chunk.sha256}`
          : chunk.blocks && blockProblem(chunk.blocks, actual.blocks, chunk.bytes);
      results.push(
        problem ? { file: chunk.file, ok: false, problem } : { file: chunk.file, ok: true },
      );
    }
  }
  return results;
}
