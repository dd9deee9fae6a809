import type { ChunkStore, ChunkStoreManifest } from './chunk-store.js';

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
