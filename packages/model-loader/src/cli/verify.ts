import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseManifest } from '../manifest.js';

/** One file's verification result. */
export interface VerifyResult {
  file: string;
  ok: boolean;
  /** Why it failed: missing, size or hash mismatch. */
  problem?: string;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const piece of createReadStream(path, { highWaterMark: 1 << 20 }))
    hash.update(piece as Buffer);
  return hash.digest('hex');
}

/** Re-hashes every chunk a manifest lists (beside the manifest) and reports each mismatch. */
export async function verify(manifestPath: string): Promise<VerifyResult[]> {
  const manifest = parseManifest(await readFile(manifestPath, 'utf8'), {
    url: 'file:///manifest.json',
  });
  const dir = dirname(manifestPath);
  const results: VerifyResult[] = [];
  for (const chunk of manifest.chunks) {
    const path = join(dir, chunk.file);
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
      const actual = await sha256File(path);
      results.push(
        actual === chunk.sha256
          ? { file: chunk.file, ok: true }
          : { file: chunk.file, ok: false, problem: `sha256 ${actual}, expected ${chunk.sha256}` },
      );
    }
  }
  return results;
}
