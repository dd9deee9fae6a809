import { openModelCache, type ModelCache } from '@the-edge-agent/model-cache';
import {
  loadModel,
  ModelLoaderError,
  parseManifest,
  type ParsedManifest,
} from '@the-edge-agent/model-loader';
import { pageUrl, type TeaLlmConfig } from './config.js';
import { fetchDocument } from './fetch-document.js';

/** The model's Blobs and where they came from. */
export interface AcquiredModel {
  blobs: Blob[];
  manifest: ParsedManifest;
  fromCache: boolean;
}

/** Reads and validates the manifest the config points at (URL or object). */
export async function resolveManifest(config: TeaLlmConfig): Promise<ParsedManifest> {
  const allowed = config.allowedOrigins ? { allowedOrigins: config.allowedOrigins } : {};
  if (config.manifest) {
    const base = config.manifestBaseUrl ?? pageUrl();
    return parseManifest(config.manifest, { ...(base ? { url: base } : {}), ...allowed });
  }
  if (config.manifestUrl === undefined)
    throw new ModelLoaderError('INVALID_ARGUMENT', 'no manifest: pass manifestUrl or manifest');
  const { url, text } = await fetchDocument(config.manifestUrl, 'manifest', config.signal);
  return parseManifest(text, { url, ...allowed });
}

/**
 * Gets the model's verified Blobs: from IndexedDB when this exact version is complete there (no
 * network), else downloads the missing chunks into the cache. Two tabs share one download
 * through a per-model Web Lock.
 */
export async function acquireModel(
  config: TeaLlmConfig,
  cache: ModelCache | undefined,
  /** Runs on the manifest before any chunk is read or downloaded (e.g. the fit check). */
  preflight?: (manifest: ParsedManifest) => void,
): Promise<AcquiredModel> {
  const manifest = await resolveManifest(config);
  preflight?.(manifest);
  const started = Date.now();
  const download = () =>
    loadModel(manifest, {
      ...(cache ? { store: cache } : {}),
      ...(config.signal ? { signal: config.signal } : {}),
      onProgress: (p) => {
        const elapsed = (Date.now() - started) / 1000;
        const rate = p.bytesPerSecond;
        const eta = rate > 0 && elapsed > 0.5 ? (p.totalBytes - p.loadedBytes) / rate : null;
        config.onProgress?.({ phase: 'download', ...p, etaSeconds: eta });
      },
    });
  if (!cache) return { blobs: await download(), manifest, fromCache: false };
  return cache.withModelLock(manifest, async () => {
    if (await cache.has(manifest)) {
      const blobs = await cache.getBlobs(manifest);
      const parts = manifest.layout === 'byte-chunks' ? [new Blob(blobs)] : blobs;
      return { blobs: parts, manifest, fromCache: true };
    }
    return { blobs: await download(), manifest, fromCache: false };
  });
}

/** The cache the config asks for (none with `useCache: false`). */
export function cacheFor(config: TeaLlmConfig): ModelCache | undefined {
  return config.useCache === false
    ? undefined
    : openModelCache(config.cacheName ? { dbName: config.cacheName } : {});
}
