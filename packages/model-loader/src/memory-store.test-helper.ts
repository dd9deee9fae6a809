import type { ChunkSegment, ChunkStore, ChunkStoreManifest, PartialChunk } from './chunk-store.js';

/** What identifies a model version in a store: id, version and the chunk hashes. */
const versionOf = (m: ChunkStoreManifest) =>
  [m.model.id, m.model.version, ...m.chunks.map((c) => c.sha256)].join('\n');

/**
 * An in-memory ChunkStore for tests, with the whole contract: it records every call (`open:<id>`,
 * `get:<i>`, `put:<i>`, `segment:<i>@<offset>`, `drop:<i>`, `complete`). Segments are kept as
 * they arrive; `commitSegments` joins them (a Blob of parts, not a copy) and stores them through
 * `putChunk`, as a store that writes the chunk once more would (`segmentStore({ commit: true })`
 * keeps them as the chunk instead). `refuseSegmentsAfter` makes the Nth segment write fail as a
 * full disk does.
 */
export function memoryStore(
  initial: Record<string, Blob> = {},
  options: { refuseSegmentsAfter?: number } = {},
) {
  const chunks = new Map(Object.entries(initial));
  const segments = new Map<string, ChunkSegment[]>();
  const manifests = new Map<string, ChunkStoreManifest>();
  const completed = new Set<string>();
  const unloadable = new Map<string, string>();
  const calls: string[] = [];
  let written = 0;
  const key = (m: ChunkStoreManifest, i: number) => m.chunks[i]!.sha256;
  const store: ChunkStore = {
    async open(m) {
      calls.push(`open:${m.model.id}`);
      manifests.set(m.model.id, JSON.parse(JSON.stringify(m)) as ChunkStoreManifest);
    },
    async has(m) {
      return completed.has(versionOf(m)) && m.chunks.every((c) => chunks.has(c.sha256));
    },
    async getChunk(m, i) {
      calls.push(`get:${i}`);
      return chunks.get(m.chunks[i]!.sha256) ?? null;
    },
    async putChunk(m, i, data) {
      calls.push(`put:${i}`);
      segments.delete(key(m, i));
      chunks.set(m.chunks[i]!.sha256, data);
    },
    async complete(m) {
      calls.push('complete');
      completed.add(versionOf(m));
    },
    async putSegment(m, i, segment) {
      if (options.refuseSegmentsAfter !== undefined && written >= options.refuseSegmentsAfter)
        throw Object.assign(new Error('QUOTA_EXCEEDED: the disk is full'), {
          code: 'QUOTA_EXCEEDED',
        });
      written++;
      calls.push(`segment:${i}@${segment.offset}`);
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
      calls.push(`drop:${i}`);
      segments.delete(key(m, i));
    },
    async commitSegments(m, i) {
      const list = segments.get(key(m, i)) ?? [];
      // Through the store object: a test that replaces putChunk sees the commit go through it.
      await store.putChunk(m, i, new Blob(list.map((x) => x.data)));
    },
    async markUnloadable(m, reason) {
      unloadable.set(versionOf(m), reason);
    },
    async unloadableReason(m) {
      return unloadable.get(versionOf(m)) ?? null;
    },
    async storedManifest(id) {
      return manifests.get(id) ?? null;
    },
  };
  return { store, chunks, segments, calls };
}

/**
 * A memory store with durable partial downloads, as model-cache has them; `refuseSegmentsAfter`
 * makes the Nth segment write fail as a full disk does; `commit` keeps the segments as the chunk
 * (`commit:<i>`, no `put:<i>`), as model-cache does.
 */
export function segmentStore(options: { refuseSegmentsAfter?: number; commit?: boolean } = {}) {
  const base = memoryStore({}, options);
  const { store, segments, chunks, calls } = base;
  const key = (m: ChunkStoreManifest, i: number) => m.chunks[i]!.sha256;
  if (options.commit)
    store.commitSegments = async (m, i) => {
      calls.push(`commit:${i}`);
      const list = segments.get(key(m, i)) ?? [];
      segments.delete(key(m, i));
      chunks.set(key(m, i), new Blob(list.map((x) => x.data)));
    };
  return base;
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
