import { openModelCache, type ModelCache } from '@the-edge-agent/model-cache';
import {
  ModelLoaderError,
  type AcquireModelOptions,
  type ModelSource,
  type ParsedManifest,
} from '@the-edge-agent/model-loader';
import { report, type TeaLlmConfig } from './config.js';
import type { ResolvedConfig } from './model-option.js';

// The sdk composes: model-loader's `acquireModel` owns acquisition for every kind of reference
// (manifest, GGUF URLs, hf:, cache hits, download, progress); model-cache is its store and lock.
// These two functions only translate the sdk's config into its source and options.

/** The model reference of a config, as model-loader's `acquireModel` takes it. */
export function modelSourceOf(config: ResolvedConfig): ModelSource {
  if (config.ggufUrls?.length) return { ggufUrls: config.ggufUrls };
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
 * `acquireModel`'s options for a config: the cache, signal, origins, progress as the sdk reports
 * it, the hub's options, and `preflight` (run on the manifest before any chunk is read).
 */
export function acquireOptions(
  config: ResolvedConfig,
  cache: ModelCache | undefined,
  preflight?: (manifest: ParsedManifest) => void | Promise<void>,
): AcquireModelOptions {
  return {
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
}

/** The cache the config asks for (none with `useCache: false`). */
export function cacheFor(config: TeaLlmConfig): ModelCache | undefined {
  return config.useCache === false
    ? undefined
    : openModelCache(config.cacheName ? { dbName: config.cacheName } : {});
}
