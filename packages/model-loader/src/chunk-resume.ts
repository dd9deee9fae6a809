import type { PartialChunk } from './chunk-store.js';
import type { ChunkDownload } from './chunk-download.js';
import type { ChunkBlocks } from './manifest.js';
import { createSha256, sha256OfBytes, type Sha256 } from './sha256.js';

/**
 * The persisted segments that still verify against the block hashes (each a whole block), or
 * none: a reload trusts nothing it did not check.
 */
export async function verifiedResume(
  resume: PartialChunk,
  blocks: ChunkBlocks,
  bytes: number,
): Promise<Blob[] | null> {
  let offset = 0;
  for (const segment of resume.segments) {
    const k = offset / blocks.bytes;
    if (segment.size !== Math.min(blocks.bytes, bytes - offset)) return null;
    const data = new Uint8Array(await segment.arrayBuffer());
    if ((await sha256OfBytes(data)) !== blocks.sha256[k]) return null;
    offset += segment.size;
  }
  return resume.segments;
}

/**
 * A SHA-256 hasher that has taken in what `resume` persisted: its saved state, or, where there
 * is none or it does not load, the persisted bytes read back and hashed again; null when those
 * cannot be read (the partial is then dropped). Segments stored under a manifest with block
 * hashes carry no state (each is a block, checked on resume), and a manifest of the same chunks
 * without block hashes resumes them this way: hash-wasm's uncoded `Bad state length` failed
 * every such load (issue 28, bug 3). The chunk's SHA-256 is checked at its end either way.
 */
export async function resumedHasher(resume: PartialChunk): Promise<Sha256 | null> {
  const hasher = await createSha256();
  if (resume.hashState.byteLength > 0) {
    try {
      hasher.load(resume.hashState);
      return hasher;
    } catch {
      hasher.init();
    }
  }
  try {
    for (const segment of resume.segments)
      hasher.update(new Uint8Array(await segment.arrayBuffer()));
    return hasher;
  } catch {
    return null;
  }
}

/**
 * Takes what an earlier page persisted of the chunk (`o.resume`), when it still checks: the
 * download then continues after it; otherwise the persisted segments are dropped.
 */
export async function resumeDownload(d: ChunkDownload): Promise<void> {
  const { o } = d;
  if (!o.resume || o.resume.bytes <= 0 || o.resume.bytes > o.bytes) return;
  let segments: Blob[] | null = null;
  if (o.blocks) segments = await verifiedResume(o.resume, o.blocks, o.bytes);
  else {
    const resumed = await resumedHasher(o.resume);
    if (resumed) [d.hasher, segments] = [resumed, o.resume.segments];
  }
  if (segments) {
    for (const s of segments) d.data.add(s);
    o.onResumed?.(d.data.size);
  } else await o.dropPartial?.();
}
