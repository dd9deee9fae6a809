/** The manifest fields a store needs; `ParsedManifest` satisfies it. */
export interface ChunkStoreManifest {
  manifestVersion: 1;
  model: { id: string; version: string; format?: string; quantization?: string };
  layout: 'gguf-split' | 'byte-chunks';
  totalBytes: number;
  chunks: ReadonlyArray<{ file: string; bytes: number; sha256: string }>;
}

/**
 * A chunk's persisted download progress: its first `bytes`, and the hash of them so far (empty
 * for manifests with block hashes: each segment is a block, checked again on resume).
 */
export interface PartialChunk {
  /** Bytes persisted (the sum of the segments' sizes). */
  bytes: number;
  /** The incremental SHA-256 state after those bytes (hash-wasm's `save()`). */
  hashState: Uint8Array;
  /** The segments, in order. */
  segments: Blob[];
}

/** One segment of a chunk that is still downloading. */
export interface ChunkSegment {
  /** Where the segment starts in the chunk. */
  offset: number;
  data: Blob;
  /** The incremental SHA-256 state after `offset + data.size` bytes (empty with block hashes). */
  hashState: Uint8Array;
}

/**
 * Where the loader keeps verified chunks (model-cache's IndexedDB store implements it). Every
 * method is required: the loader never asks which ones a store has. A load without a store
 * passes none at all (`LoadModelOptions.store` is optional as a whole).
 * Conventions: chunks are matched by the manifest's SHA-256; `putChunk` only ever receives data
 * that was verified against it; each write is its own transaction; errors thrown by the store
 * (such as `QUOTA_EXCEEDED`) propagate from the loader unchanged and stop the download at once.
 * A download persists each segment of a chunk as it arrives (`putSegment`), so a reload resumes
 * from `getPartial`; once the chunk verifies, `commitSegments` makes those segments the stored
 * chunk (the bytes are written once). `putChunk` stores a chunk verified elsewhere (e.g. a model
 * fetched by GGUF URL).
 */
export interface ChunkStore {
  /** Called once before any chunk is read or written: register the model, drop stale versions, check quota. */
  open(manifest: ChunkStoreManifest): Promise<void>;
  /** Whether exactly this model version is complete (the loader then reads it with no network). */
  has(manifest: ChunkStoreManifest): Promise<boolean>;
  /** The stored, verified chunk `index` of this manifest, or null. */
  getChunk(manifest: ChunkStoreManifest, index: number): Promise<Blob | null>;
  /** Stores chunk `index`, already verified; also drops its partial segments. */
  putChunk(manifest: ChunkStoreManifest, index: number, data: Blob): Promise<void>;
  /** Called after every chunk is verified and stored. */
  complete(manifest: ChunkStoreManifest): Promise<void>;
  /**
   * Durable partial downloads: a segment of chunk `index` as it arrives, so that a reload
   * resumes from the persisted offset. Segments arrive in order, contiguous.
   */
  putSegment(manifest: ChunkStoreManifest, index: number, segment: ChunkSegment): Promise<void>;
  /** The persisted start of chunk `index`, or null. */
  getPartial(manifest: ChunkStoreManifest, index: number): Promise<PartialChunk | null>;
  /** Forgets chunk `index`'s partial segments (they did not verify, or the server restarted it). */
  dropPartial(manifest: ChunkStoreManifest, index: number): Promise<void>;
  /**
   * Makes chunk `index`'s persisted segments, which the loader has just verified to be exactly
   * the chunk, its stored copy, without writing the bytes a second time. `getChunk` then returns
   * them as one Blob.
   */
  commitSegments(manifest: ChunkStoreManifest, index: number): Promise<void>;
  /** Called when llama.cpp (or any later stage) rejects a verified model: later loads report it. */
  markUnloadable(manifest: ChunkStoreManifest, reason: string): Promise<void>;
  /** Why this exact version was marked unloadable, or null. */
  unloadableReason(manifest: ChunkStoreManifest): Promise<string | null>;
  /**
   * The manifest model `modelId` was stored for, or null: a model fetched by GGUF URL keeps its
   * pinned SHA-256s there (a later load verifies against them).
   */
  storedManifest(modelId: string): Promise<ChunkStoreManifest | null>;
}
