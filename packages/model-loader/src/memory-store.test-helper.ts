import type { ChunkSegment, ChunkStore, ChunkStoreManifest, PartialChunk } from './chunk-store.js';

/** An in-memory ChunkStore for tests: records every call. */
export function memoryStore(initial: Record<string, Blob> = {}) {
  const chunks = new Map(Object.entries(initial));
  const calls: string[] = [];
  const store: ChunkStore = {
    async open(m: ChunkStoreManifest) {
      calls.push(`open:${m.model.id}`);
    },
    async getChunk(m, i) {
      calls.push(`get:${i}`);
      return chunks.get(m.chunks[i]!.sha256) ?? null;
    },
    async putChunk(m, i, data) {
      calls.push(`put:${i}`);
      chunks.set(m.chunks[i]!.sha256, data);
    },
    async complete() {
      calls.push('complete');
    },
  };
  return { store, chunks, calls };
}

/**
 * A memory store with durable partial downloads, as model-cache has them; `refuseSegmentsAfter`
 * makes the Nth segment write fail as a full disk does; `commit` keeps the segments as the chunk.
 */
export function segmentStore(options: { refuseSegmentsAfter?: number; commit?: boolean } = {}) {
  const base = memoryStore();
  const segments = new Map<string, ChunkSegment[]>();
  let written = 0;
  const key = (m: ChunkStoreManifest, i: number) => m.chunks[i]!.sha256;
  const store: ChunkStore = {
    ...base.store,
    async putChunk(m, i, data) {
      segments.delete(key(m, i));
      await base.store.putChunk(m, i, data);
    },
    async putSegment(m, i, segment) {
      if (options.refuseSegmentsAfter !== undefined && written >= options.refuseSegmentsAfter)
        throw Object.assign(new Error('QUOTA_EXCEEDED: the disk is full'), {
          code: 'QUOTA_EXCEEDED',
        });
      written++;
      base.calls.push(`segment:${i}@${segment.offset}`);
      segments.set(key(m, i), [...(segments.get(key(m, i)) ?? []), segment]);
    },
    async getPartial(m, i): Promise<PartialChunk | null> {
      const list = segments.get(key(m, i));
      if (!list?.length) return null;
      return {
        bytes: list.reduce((s, x) => s + x.data.size, 0),
        hashState: list.at(-1)!.hashState,
        segments: list.map((x) => x.data),
      };
    },
    async dropPartial(m, i) {
      base.calls.push(`drop:${i}`);
      segments.delete(key(m, i));
    },
    ...(options.commit
      ? {
          async commitSegments(m: ChunkStoreManifest, i: number) {
            base.calls.push(`commit:${i}`);
            const list = segments.get(key(m, i)) ?? [];
            segments.delete(key(m, i));
            base.chunks.set(key(m, i), new Blob(list.map((x) => x.data)));
          },
        }
      : {}),
  };
  return { ...base, store, segments };
}

/** A memory store that keeps the manifests it opens, as model-cache does (`storedManifest`, `has`). */
export function pinningStore(base: ReturnType<typeof memoryStore> = memoryStore()) {
  const manifests = new Map<string, ChunkStoreManifest>();
  const store = {
    ...base.store,
    async open(m: ChunkStoreManifest) {
      manifests.set(m.model.id, JSON.parse(JSON.stringify(m)) as ChunkStoreManifest);
    },
    async storedManifest(id: string) {
      return manifests.get(id) ?? null;
    },
    async has(m: ChunkStoreManifest) {
      return m.chunks.every((c) => base.chunks.has(c.sha256));
    },
  };
  return { ...base, store, manifests };
}
