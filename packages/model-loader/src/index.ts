export { parseManifest, MAX_CHUNK_BYTES, MIN_BLOCK_BYTES, MAX_BLOCK_BYTES } from './manifest.js';
export type {
  ChunkBlocks,
  ManifestChunk,
  ModelManifest,
  ParsedManifest,
  ParseManifestOptions,
} from './manifest.js';
export { parseModelIndex } from './model-index.js';
export type {
  ModelIndex,
  ModelProfile,
  ModelResources,
  ParsedModelIndex,
  RunMode,
} from './model-index.js';
export { loadModel, DEFAULT_RANGE_BYTES, DEFAULT_SEGMENT_BYTES } from './load-model.js';
export type { LoadModelOptions, LoadProgress } from './load-model.js';
export { acquireModel, modelInvalidError } from './acquire-model.js';
export { fetchManifest, fetchModelIndex } from './sources/manifest-source.js';
export { expandShards } from './sources/gguf-source.js';
export type {
  AcquiredModel,
  AcquireModelOptions,
  GgufUrlSource,
  LockingChunkStore,
  ManifestSource,
  ModelSource,
  ProfileSource,
} from './acquire-types.js';
export {
  DEFAULT_HUB_BASE_URL,
  fetchHubRevision,
  hubFileUrl,
  isHubReference,
  parseHubReference,
} from './hub-ref.js';
export type {
  HubOptions,
  HubPin,
  HubReference,
  HubRevision,
  ModelLoaderWarning,
} from './hub-ref.js';
export type { ChunkSegment, ChunkStore, ChunkStoreManifest, PartialChunk } from './chunk-store.js';
export { redactText, redactUrl } from './errors.js';
export { sha256OfBlob } from './sha256.js';
export { retryAfterMs } from './retry-policy.js';
export { parseByteSize } from './parse-byte-size.js';
export { ModelLoaderError } from './errors.js';
export type { ModelLoaderErrorCode, ModelLoaderErrorDetails } from './errors.js';
