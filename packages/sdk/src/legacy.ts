import {
  executeYaml,
  llmCallAsync,
  setLlmHandler,
  type LlmCallResult,
  type RunOptions,
  type WorkflowState,
} from '@the-edge-agent/core-wasm';
import type { CompletionResult } from '@the-edge-agent/llm-bridge';
import { openModelCache, type CachedModelInfo, type CacheStats } from '@the-edge-agent/model-cache';
import { fetchManifest, type ModelManifest } from '@the-edge-agent/model-loader';
import { notInitialized } from './errors.js';
import type { TeaLlmConfig } from './config.js';
import { createTea, type GenerateOptions, type Tea } from './create-tea.js';
import { probeEnvironment } from './environment.js';
import type { ChatCompletionCreateParams, ChatCompletions } from './openai-compat.js';
import { bundledModelsUrl, loadModelIndex, rankProfiles } from './profiles.js';

// The product spec's function API and the upstream TEA browser package's names, as thin
// wrappers over one default handle.
let current: { tea: Tea; key: string } | undefined;
let loading: { key: string; promise: Promise<Tea> } | undefined;
let cacheName: string | undefined;

function handle(what = 'this call'): Tea {
  if (!current || current.tea.isDisposed) throw notInitialized(what);
  return current.tea;
}

/** What makes two configs load the same model (functions and signals aside). */
function configKey(config: TeaLlmConfig): string {
  return JSON.stringify(config, (k, v: unknown) =>
    k === 'signal' || k === 'onProgress' || typeof v === 'function'
      ? undefined
      : v instanceof Blob
        ? `blob:${v.size}:${v.type}`
        : v,
  );
}

/**
 * Loads the engine and the model (cached in IndexedDB) and makes it the default for the
 * functions below. Idempotent: a call with the same config while one loads (React StrictMode
 * runs effects twice) shares that load, and after it returns the same live handle. A call with
 * another config replaces the default model once the new one is loaded.
 */
export async function initTeaLlm(config: TeaLlmConfig = {}): Promise<Tea> {
  const key = configKey(config);
  if (current && current.key === key && !current.tea.isDisposed) return current.tea;
  if (loading?.key === key) return loading.promise;
  const promise = (async () => {
    const next = await createTea(config);
    const previous = current?.tea;
    current = { tea: next, key };
    cacheName = config.cacheName;
    // The page's default LLM handler too, as upstream's initTeaLlm does: workflows run with
    // core-wasm's executeYaml directly then use this model.
    setLlmHandler(next.llmHandler());
    if (previous !== next) await previous?.dispose();
    return next;
  })();
  loading = { key, promise };
  try {
    return await promise;
  } finally {
    if (loading?.promise === promise) loading = undefined;
  }
}

/**
 * Runs a YAML workflow with the default model; `initialState` may be an object or a JSON string
 * (then the result is a JSON string too). Token events reach `options.onEvent` as they stream.
 */
export async function executeLlmYaml<S extends WorkflowState = WorkflowState>(
  yaml: string,
  initialState?: WorkflowState,
  options?: RunOptions,
): Promise<S>;
export async function executeLlmYaml(
  yaml: string,
  initialState: string,
  options?: RunOptions,
): Promise<string>;
export async function executeLlmYaml(
  yaml: string,
  initialState: WorkflowState | string = {},
  options: RunOptions = {},
): Promise<unknown> {
  const tea = handle('executeLlmYaml');
  // A JSON string goes to the engine as is (its errors are coded; the result is a string too).
  if (typeof initialState === 'string')
    return executeYaml(yaml, initialState, {
      ...options,
      llmHandler: options.llmHandler ?? tea.llmHandler(),
    });
  return tea.run(yaml, initialState, options);
}

/**
 * `initTeaLlm` with the bundled models: `models/models.json` beside the page, of which the first
 * profile that fits this browser is used.
 */
export function loadBundledModel(
  options: Omit<
    TeaLlmConfig,
    'model' | 'manifestUrl' | 'manifest' | 'modelUrl' | 'modelFiles' | 'profiles'
  > = {},
): Promise<Tea> {
  return initTeaLlm({ ...options, profiles: bundledModelsUrl() });
}

/** The manifest URL of the bundled profile this browser would use. */
async function bundledManifestUrl(): Promise<string> {
  const ranked = rankProfiles(await loadModelIndex(bundledModelsUrl()), await probeEnvironment());
  return (ranked.find((p) => p.fit.fits) ?? ranked[0]!).profile.manifestUrl;
}

/** Whether a model (default: the bundled profile this browser would use) is complete in the cache. */
export async function isModelCached(manifest?: ModelManifest | string | URL): Promise<boolean> {
  const parsed = await fetchManifest(
    manifest === undefined
      ? { manifestUrl: await bundledManifestUrl() }
      : typeof manifest === 'string' || manifest instanceof URL
        ? { manifestUrl: manifest }
        : { manifest },
  );
  return openModelCache(cacheName ? { dbName: cacheName } : {}).has(parsed);
}

/** Deletes every cached model. */
export function clearModelCache(): Promise<void> {
  return openModelCache(cacheName ? { dbName: cacheName } : {}).clear();
}

/** What the cache holds: models, sizes, completeness. */
export function getModelCacheStats(): Promise<CacheStats> {
  return openModelCache(cacheName ? { dbName: cacheName } : {}).stats();
}

/**
 * Every model in the cache: id, version, bytes stored of `totalBytes`, whether it is complete,
 * and when it was stored and last loaded (`createdAt`, `lastUsedAt`: ms since the epoch).
 */
export function listCachedModels(): Promise<CachedModelInfo[]> {
  return openModelCache(cacheName ? { dbName: cacheName } : {}).list();
}

/**
 * Deletes one cached model (its record, chunks and partial downloads) and keeps every other.
 * A model already loaded keeps running; the next load downloads it again. Returns whether the
 * cache held it.
 */
export async function deleteCachedModel(modelId: string): Promise<boolean> {
  const cache = openModelCache(cacheName ? { dbName: cacheName } : {});
  const held = (await cache.list()).some((m) => m.id === modelId);
  if (held) await cache.delete(modelId);
  return held;
}

/** Upstream name of `initTeaLlm`. Also registers the engine's LLM handler, so YAML `llm.call` works. */
export const initLlm = initTeaLlm;

/**
 * One chat turn with the default model; `chat.completions.create(params)` is OpenAI's chat
 * completions API on it (see `Tea.chat`).
 */
export const chat = Object.assign(
  (prompt: string, options: GenerateOptions = {}): Promise<CompletionResult> =>
    handle('chat').chat(prompt, options),
  {
    completions: {
      create: (params: ChatCompletionCreateParams) =>
        handle('chat.completions.create').chat.completions.create(params),
    } as ChatCompletions,
  },
);

/** A chat turn that streams its text to `onToken`. */
export function chatStream(
  prompt: string,
  onToken: (text: string) => void,
  options: GenerateOptions = {},
): Promise<CompletionResult> {
  return handle('chatStream').chat(prompt, { ...options, onToken });
}

/** The default model's embedding of a text. */
export function embed(text: string): Promise<number[]> {
  return handle('embed').embed(text);
}

/** Upstream name of `embed`. */
export const embedText = embed;

/** Whether a default model is loaded. */
export function isLlmReady(): boolean {
  return current !== undefined && !current.tea.isDisposed;
}

/** Unloads the default model. */
export async function disposeLlm(): Promise<void> {
  if (current) setLlmHandler(null);
  const tea = current?.tea;
  current = undefined;
  await tea?.dispose();
}

/** Calls the LLM as a workflow's `llm.call` node would (same defaults, same result shape). */
export async function callLlm(params: Parameters<typeof llmCallAsync>[0]): Promise<LlmCallResult> {
  // This call only: the page's default handler, and other handles' running workflows, are untouched.
  return llmCallAsync(params, { llmHandler: handle('callLlm').llmHandler() });
}
