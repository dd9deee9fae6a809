import type { ChunkStore } from './chunk-store.js';
import { ModelLoaderError } from './errors.js';
import { loadModel, type LoadModelOptions } from './load-model.js';
import { parseManifest, type ModelManifest, type ParsedManifest } from './manifest.js';
import { parseModelIndex, type ModelIndex, type ParsedModelIndex } from './model-index.js';
import { fetchJsonDocument, networkPolicy } from './network-policy.js';
import { absolute, pageUrl } from './page-url.js';
import { shareAcrossTabs } from './share-across-tabs.js';

/** Where a model's manifest is: a URL (relative to the page), or an object with its base URL. */
export type ManifestSource =
  { manifestUrl: string | URL } | { manifest: ModelManifest; baseUrl?: string | URL };

/** A store that can also serialize two tabs' work on one model (model-cache's `lock`). */
export interface LockingChunkStore extends ChunkStore {
  /** Runs `fn` holding this model's lock; rejects with the signal's reason if it aborts while waiting. */
  lock?<T>(
    manifest: ParsedManifest,
    fn: () => Promise<T>,
    options: { signal?: AbortSignal; onWait?: () => void },
  ): Promise<T>;
}

/** Options of `acquireModel`. */
export interface AcquireModelOptions extends LoadModelOptions {
  store?: LockingChunkStore;
  /** Other origins the manifest's chunks may come from (default: only the manifest's own). */
  allowedOrigins?: string[];
  /** Runs on the manifest before any chunk is read or downloaded (e.g. a fit check). */
  preflight?: (manifest: ParsedManifest) => void | Promise<void>;
  /** Called when another tab holds this model's lock (its download is awaited). */
  onWaitForOtherTab?: () => void;
}

/** The model's Blobs (one per shard, or one reassembled Blob) and where they came from. */
export interface AcquiredModel {
  blobs: Blob[];
  manifest: ParsedManifest;
  fromCache: boolean;
}

/** The network policy of a document at `url`: its own origin, and the allowed ones. */
function documentPolicy(url: string, options: LoadModelOptions & { allowedOrigins?: string[] }) {
  const { allowedOrigins, ...rest } = options;
  return networkPolicy({
    ...rest,
    allowedOrigins: new Set([
      new URL(url).origin,
      ...(allowedOrigins ?? []).map((o) => new URL(o).origin),
    ]),
  });
}

/**
 * Fetches and checks a model manifest, with the chunks' retry, timeout and origin rules.
 * @throws {ModelLoaderError} `MANIFEST_INVALID` (field, or an HTML page with its URL),
 *   `HTTP_ERROR`, `NETWORK_ERROR`, `ORIGIN_NOT_ALLOWED`, `ABORTED`.
 */
export async function fetchManifest(
  source: ManifestSource,
  options: LoadModelOptions & { allowedOrigins?: string[] } = {},
): Promise<ParsedManifest> {
  const allowed = options.allowedOrigins ? { allowedOrigins: options.allowedOrigins } : {};
  if ('manifest' in source) {
    const base = source.baseUrl ?? pageUrl();
    return parseManifest(source.manifest, { ...(base ? { url: base } : {}), ...allowed });
  }
  const url = absolute(source.manifestUrl);
  return fetchJsonDocument(
    url,
    'manifest',
    'MANIFEST_INVALID',
    documentPolicy(url, options),
    options.signal,
    (text) => {
      try {
        return parseManifest(text, { url, ...allowed });
      } catch (error) {
        if (error instanceof ModelLoaderError && error.code === 'MANIFEST_INVALID')
          throw new ModelLoaderError(error.code, `${error.message} (in ${url})`, {
            url,
            ...(error.field ? { field: error.field } : {}),
          });
        throw error;
      }
    },
  );
}

/**
 * Fetches and checks a `models.json` (profiles), with the same network rules. Its manifests must
 * be on its own origin unless `allowedOrigins` lists theirs.
 * @throws {ModelLoaderError} `MODELS_INDEX_INVALID`, `HTTP_ERROR`, `NETWORK_ERROR`,
 *   `ORIGIN_NOT_ALLOWED`, `ABORTED`.
 */
export async function fetchModelIndex(
  source: string | URL | ModelIndex,
  options: LoadModelOptions & { allowedOrigins?: string[] } = {},
): Promise<ParsedModelIndex> {
  const allowed = options.allowedOrigins ? { allowedOrigins: options.allowedOrigins } : {};
  if (typeof source === 'object' && !(source instanceof URL)) {
    const base = pageUrl();
    if (!base)
      throw new ModelLoaderError('INVALID_ARGUMENT', 'a models.json object needs a page URL');
    return parseModelIndex(source, { url: base, ...allowed });
  }
  const url = absolute(source);
  return fetchJsonDocument(
    url,
    'models.json',
    'MODELS_INDEX_INVALID',
    documentPolicy(url, options),
    options.signal,
    (text) => parseModelIndex(text, { url, ...allowed }),
  );
}

/**
 * `MODEL_INVALID`: the model verified (its bytes are the publisher's) but the runtime could not
 * load it; names the manifest URL and the runtime's reason, and how to retry.
 */
export function modelInvalidError(
  manifest: ParsedManifest,
  reason: string,
  cause?: unknown,
): ModelLoaderError {
  return new ModelLoaderError(
    'MODEL_INVALID',
    `model "${manifest.model.id}" version ${manifest.model.version} from ${manifest.manifestUrl} verified, but the runtime could not load it: ${reason}. Publish a fixed model under a new version, or remove this one from the cache (cache.delete("${manifest.model.id}") or evict()) to try again`,
    { url: manifest.manifestUrl, ...(cause !== undefined ? { cause } : {}) },
  );
}

/**
 * Gets a model's verified Blobs: the one owner of that decision. Reads the manifest; runs the
 * preflight; then, holding the store's per-model lock (two tabs share one download; a waiting
 * tab honours its signal), returns the model from the store when this exact version is complete
 * there (no network), or downloads what is missing into it.
 * @throws {ModelLoaderError} the manifest's and `loadModel`'s errors; `MODEL_INVALID` for a
 *   version that verified but was marked unloadable (with the manifest URL and the reason).
 */
export async function acquireModel(
  source: ManifestSource,
  options: AcquireModelOptions = {},
): Promise<AcquiredModel> {
  const manifest = await fetchManifest(source, options);
  await options.preflight?.(manifest);
  const { store } = options;
  return shareAcrossTabs(manifest, options, async (onProgress) => {
    const rejected = await store?.unloadableReason?.(manifest);
    if (rejected) throw modelInvalidError(manifest, rejected);
    if (store?.has && (await store.has(manifest))) {
      const blobs: Blob[] = [];
      for (let i = 0; i < manifest.chunks.length; i++) {
        const blob = await store.getChunk(manifest, i);
        if (!blob) break;
        blobs.push(blob);
      }
      if (blobs.length === manifest.chunks.length) {
        const parts = manifest.layout === 'byte-chunks' ? [new Blob(blobs)] : blobs;
        return { blobs: parts, manifest, fromCache: true };
      }
    }
    return {
      blobs: await loadModel(manifest, { ...options, onProgress }),
      manifest,
      fromCache: false,
    };
  });
}
