import type { DBSchema } from 'idb';

/** The manifest fields the cache needs; model-loader's parsed manifest satisfies it. */
export interface CacheManifest {
  manifestVersion: 1;
  model: { id: string; version: string; format?: string; quantization?: string };
  layout: 'gguf-split' | 'byte-chunks';
  totalBytes: number;
  chunks: ReadonlyArray<{ file: string; bytes: number; sha256: string }>;
}

/** One model: the manifest it was stored for and whether every chunk is there and verified. */
export interface ModelRecord {
  id: string;
  version: string;
  manifest: CacheManifest;
  /** SHA-256 of each chunk, in order: the model's cache identity with id and version. */
  chunkHashes: string[];
  totalBytes: number;
  /** True only once every chunk is present with the size and hash the manifest records. */
  complete: boolean;
  /** Why the runtime refused this version after it verified (then loads report MODEL_INVALID). */
  unloadable?: string;
  /** A previous complete version kept until this one is complete (when quota allowed it). */
  previous?: { version: string; chunkHashes: string[] };
  createdAt: number;
  lastUsedAt: number;
}

/**
 * One chunk: keyed by model id + content hash, stored as a Blob (disk-backed in browsers), or,
 * when the loader committed the segments it persisted while downloading, as those `segments`
 * records (the bytes are written once).
 */
export interface ChunkRecord {
  modelId: string;
  sha256: string;
  bytes: number;
  /** The chunk's bytes; absent when the chunk is its segments. */
  data?: Blob;
  /** How many `segments` records make up the chunk, in offset order; absent with `data`. */
  segments?: number;
  storedAt: number;
}

/**
 * One persisted segment of a chunk: while the chunk downloads, a reload resumes after the last
 * segment (with the hash state saved beside it); once the loader commits them, the segments are
 * the stored chunk.
 */
export interface SegmentRecord {
  modelId: string;
  sha256: string;
  offset: number;
  bytes: number;
  data: Blob;
  /** The incremental SHA-256 state after `offset + bytes` bytes of the chunk. */
  hashState: Uint8Array;
  storedAt: number;
}

/** The database schema (version 2); `upgrade` in open-database.ts migrates to it. */
export interface CacheSchema extends DBSchema {
  models: { key: string; value: ModelRecord };
  chunks: { key: [string, string]; value: ChunkRecord; indexes: { 'by-model': string } };
  segments: {
    key: [string, string, number];
    value: SegmentRecord;
    indexes: { 'by-chunk': [string, string]; 'by-model': string };
  };
}

export const SCHEMA_VERSION = 2;
