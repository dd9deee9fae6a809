import { describe, expectTypeOf, it } from 'vitest';
import { ModelCache } from './model-cache.js';

// model-loader's ChunkStore contract, copied here on purpose: model-cache must satisfy it
// structurally without importing model-loader.
interface ChunkStoreManifest {
  manifestVersion: 1;
  model: { id: string; version: string; format?: string; quantization?: string };
  layout: 'gguf-split' | 'byte-chunks';
  totalBytes: number;
  chunks: ReadonlyArray<{ file: string; bytes: number; sha256: string }>;
}
interface ChunkStore {
  open?(manifest: ChunkStoreManifest): Promise<void>;
  getChunk(manifest: ChunkStoreManifest, index: number): Promise<Blob | null>;
  putChunk(manifest: ChunkStoreManifest, index: number, data: Blob): Promise<void>;
  complete?(manifest: ChunkStoreManifest): Promise<void>;
}

describe('ModelCache', () => {
  it('is a ChunkStore (structurally)', () => {
    expectTypeOf<ModelCache>().toMatchTypeOf<ChunkStore>();
    const store: ChunkStore = new ModelCache({ dbName: 'type-check' });
    expectTypeOf(store.getChunk).returns.resolves.toEqualTypeOf<Blob | null>();
  });
});
