import { openModelCache, type ModelCache } from '@the-edge-agent/model-cache';
import {
  acquireGguf,
  acquireModel as acquire,
  ModelLoaderError,
  type AcquiredModel,
  type AcquireGgufOptions,
  type ManifestSource,
  type ParsedManifest,
} from '@the-edge-agent/model-loader';
import { report, type TeaLlmConfig } from './config.js';
import type { ResolvedConfig } from './model-option.js';

// The sdk composes: model-loader owns acquisition (manifest, cache hits, download, progress),
// model-cache is its store and lock.

function manifestSource(config: TeaLlmConfig): ManifestSource {
  if (config.manifest)
    return {
      manifest: config.manifest,
      ...(config.manifestBaseUrl ? { baseUrl: config.manifestBaseUrl } : {}),
    };
  if (config.manifestUrl === undefined)
    throw new ModelLoaderError('INVALID_ARGUMENT', 'no manifest: pass manifestUrl or manifest');
  return { manifestUrl: config.manifestUrl };
}

/**
 * The model's verified Blobs, from IndexedDB or downloaded into it (see model-loader's
 * `acquireModel`); `preflight` runs on the manifest before any chunk is read or downloaded.
 */
export async function acquireModel(
  config: ResolvedConfig,
  cache: ModelCache | undefined,
  preflight?: (manifest: ParsedManifest) => void,
): Promise<AcquiredModel> {
  if (config.persistStorage) await cache?.persist().catch(() => false);
  const options: AcquireGgufOptions = {
    ...(cache ? { store: cache } : {}),
    ...(config.signal ? { signal: config.signal } : {}),
    ...(config.allowedOrigins ? { allowedOrigins: config.allowedOrigins } : {}),
    ...(preflight ? { preflight } : {}),
    onProgress: (p) => report(config, { phase: 'download', ...p }),
    onWaitForOtherTab: () => report(config, { phase: 'waiting' }),
    // hf: references: where they resolve, a token for private and gated ones, the pin's warnings.
    ...(config.hubBaseUrl ? { hubBaseUrl: config.hubBaseUrl } : {}),
    ...(config.hubToken ? { hubToken: config.hubToken } : {}),
    ...(config.onWarning ? { onWarning: config.onWarning } : {}),
  };
  return config.ggufUrls?.length
    ? acquireGguf({ ggufUrls: config.ggufUrls }, options)
    : acquire(manifestSource(config), options);
}

/** The cache the config asks for (none with `useCache: false`). */
export function cacheFor(config: TeaLlmConfig): ModelCache | undefined {
  return config.useCache === false
    ? undefined
    : openModelCache(config.cacheName ? { dbName: config.cacheName } : {});
}
