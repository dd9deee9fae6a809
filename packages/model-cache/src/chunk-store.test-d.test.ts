import { describe, expectTypeOf, it } from 'vitest';
import { ModelCache } from './model-cache.js';

// model-loader's ChunkStore contract (src/chunk-store.ts), copied here on purpose: model-cache
// must satisfy it structurally without importing model-loader. Every method is required there,
// so every one is here: a method the cache lacks, or one whose parameters or result drift from
// the contract, fails the typecheck. (The sdk's type test checks the copy against the original.)
interface ChunkStoreManifest {
  manifestVersion: 1;
  model: { id: string; version: string; format?: string; quantization?: string };
  layout: 'gguf-split' | 'byte-chunks';
  totalBytes: number;
  chunks: ReadonlyArray<{ file: string; bytes: number; sha256: string }>;
}
interface PartialChunk {
  bytes: number;
  hashState: Uint8Array;
  segments: Blob[];
}
interface ChunkSegment {
  offset: number;
  data: Blob;
  hashState: Uint8Array;
}
interface ChunkStore {
  open(manifest: ChunkStoreManifest): Promise<void>;
  has(manifest: ChunkStoreManifest): Promise<boolean>;
  getChunk(manifest: ChunkStoreManifest, index: number): Promise<Blob | null>;
  putChunk(manifest: ChunkStoreManifest, index: number, data: Blob): Promise<void>;
  complete(manifest: ChunkStoreManifest): Promise<void>;
  putSegment(manifest: ChunkStoreManifest, index: number, segment: ChunkSegment): Promise<void>;
  getPartial(manifest: ChunkStoreManifest, index: number): Promise<PartialChunk | null>;
  dropPartial(manifest: ChunkStoreManifest, index: number): Promise<void>;
  commitSegments(manifest: ChunkStoreManifest, index: number): Promise<void>;
  markUnloadable(manifest: ChunkStoreManifest, reason: string): Promise<void>;
  unloadableReason(manifest: ChunkStoreManifest): Promise<string | null>;
  storedManifest(modelId: string): Promise<ChunkStoreManifest | null>;
}

/**
 * The contract's methods as function-typed properties: TypeScript compares method parameters
 * bivariantly, and these strictly (a cache method that accepts less than the loader passes fails).
 */
type Strictly<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => R : T[K];
};

describe('ModelCache', () => {
  it('is a ChunkStore (structurally), with every method of the contract', () => {
    expectTypeOf<ModelCache>().toExtend<ChunkStore>();
    expectTypeOf<ModelCache>().toExtend<Strictly<ChunkStore>>();
    const store: ChunkStore = new ModelCache({ dbName: 'type-check' });
    expectTypeOf(store.getChunk).returns.resolves.toEqualTypeOf<Blob | null>();
    expectTypeOf<keyof ChunkStore>().toEqualTypeOf<
      | 'open'
      | 'has'
      | 'getChunk'
      | 'putChunk'
      | 'complete'
      | 'putSegment'
      | 'getPartial'
      | 'dropPartial'
      | 'commitSegments'
      | 'markUnloadable'
      | 'unloadableReason'
      | 'storedManifest'
    >();
  });
});
