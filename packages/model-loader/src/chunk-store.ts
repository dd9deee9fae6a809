/** The manifest fields a store needs; `ParsedManifest` satisfies it. */
export interface ChunkStoreManifest {
  manifestVersion: 1;
  model: { id: string; version: string; format?: string; quantization?: string };
  layout: 'gguf-split' | 'byte-chunks';
  totalBytes: number;
  chunks: ReadonlyArray<{ file: string; bytes: number; sha256: string }>;
}

/**
 * Where `loadModel` keeps verified chunks (model-cache's IndexedDB store implements it).
 * Conventions: chunks are matched by the manifest's SHA-256; `putChunk` only ever receives data
 * that was verified against it; each write is its own transaction; errors thrown by the store
 * (such as `QUOTA_EXCEEDED`) propagate from `loadModel` unchanged.
 */
export interface ChunkStore {
  /** Called once before any chunk is read or written: register the model, drop stale versions, check quota. */
  open?(manifest: ChunkStoreManifest): Promise<void>;
  /** The stored, verified chunk `index` of this manifest, or null. */
  getChunk(manifest: ChunkStoreManifest, index: number): Promise<Blob | null>;
  /** Stores chunk `index`, already verified against `manifest.chunks[index].sha256`. */
  putChunk(manifest: ChunkStoreManifest, index: number, data: Blob): Promise<void>;
  /** Called after every chunk is verified and stored. */
  complete?(manifest: ChunkStoreManifest): Promise<void>;
}
