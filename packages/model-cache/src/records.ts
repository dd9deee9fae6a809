import type { CacheManifest, ChunkRecord, ModelRecord, SegmentRecord } from './schema.js';

/** Whether `r` was stored for exactly this version of the model (version and chunk hashes). */
export const sameModel = (r: ModelRecord, m: CacheManifest) =>
  r.version === m.model.version &&
  r.chunkHashes.length === m.chunks.length &&
  r.chunkHashes.every((h, i) => h === m.chunks[i]!.sha256);

/** A plain copy of the manifest fields (IndexedDB cannot store functions or class instances). */
export function structuredCloneManifest(m: CacheManifest): CacheManifest {
  return JSON.parse(JSON.stringify(m)) as CacheManifest;
}

export const sum = (records: ReadonlyArray<{ bytes: number }>) =>
  records.reduce((total, r) => total + r.bytes, 0);

/** The segments of chunks still downloading (a committed chunk's segments are the chunk). */
export function partialSegments<S extends { modelId: string; sha256: string }>(
  chunks: ReadonlyArray<ChunkRecord>,
  segments: S[],
): S[] {
  const committed = new Set(
    chunks.filter((c) => c.segments).map((c) => `${c.modelId}\n${c.sha256}`),
  );
  return segments.filter((s) => !committed.has(`${s.modelId}\n${s.sha256}`));
}

/**
 * A chunk's segment records in offset order, and how many of them from offset 0 are contiguous
 * and intact (a gap or a damaged record ends the run), with their bytes.
 */
export function contiguousRun(records: SegmentRecord[]): {
  sorted: SegmentRecord[];
  run: number;
  bytes: number;
} {
  const sorted = [...records].sort((a, b) => a.offset - b.offset);
  let run = 0;
  let bytes = 0;
  for (const r of sorted) {
    if (r.offset !== bytes || !(r.data instanceof Blob) || r.data.size !== r.bytes) break;
    run++;
    bytes += r.bytes;
  }
  return { sorted, run, bytes };
}
