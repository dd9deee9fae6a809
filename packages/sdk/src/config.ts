import type { InitInput } from '@the-edge-agent/core-wasm';
import type {
  AllowedEndpoint,
  BridgeLogger,
  RemoteModelConfig,
  WebGpuMode,
  WllamaBuildChoice,
} from '@the-edge-agent/llm-bridge';
import type {
  LoadProgress,
  ModelIndex,
  ModelLoaderWarning,
  ModelManifest,
} from '@the-edge-agent/model-loader';
import type { BrowserEnvironment } from './environment.js';

/** The phases of `initTeaLlm` / `createTea` progress. */
export type TeaProgressPhase =
  | ({ phase: 'download' } & LoadProgress)
  /** Another tab is downloading this model: this one waits for it (its signal still aborts). */
  | { phase: 'waiting' }
  | { phase: 'load'; loadedBytes: number; totalBytes: number }
  | {
      phase: 'profile';
      /** The profile chosen (or tried next, after `fallbackFrom` failed to load). */
      id: string;
      mode: 'cpu' | 'webgpu';
      reasons: string[];
      fallbackFrom?: string;
    }
  | { phase: 'ready'; fromCache: boolean };

/**
 * Progress of `initTeaLlm` / `createTea`: the phase's own figures, and `fraction`, one number
 * from 0 to 1 over the whole setup that never goes back (download and verification 0-0.9, the
 * model load 0.9-1, 1 when ready; a model read from the cache goes from 0 to 0.9 at once).
 */
export type TeaProgress = TeaProgressPhase & { fraction: number };

/**
 * Reports a phase to `config.onProgress`. Inside the sdk the callback is always the one
 * `createTea` wrapped to add `fraction`, so the phase alone is what callers pass.
 */
export function report(config: Pick<TeaLlmConfig, 'onProgress'>, p: TeaProgressPhase): void {
  (config.onProgress as ((p: TeaProgressPhase) => void) | undefined)?.(p);
}

/** How to set up the runtime. Every field is optional. */
export interface TeaLlmConfig {
  /**
   * Model profiles: a `models.json` URL (relative to the page) or object. The sdk picks the first
   * profile that fits this browser (see `checkFit`). Default, when no model source is given: the
   * bundled `models/models.json` beside the page.
   */
  profiles?: string | URL | ModelIndex;
  /** Use this profile id of `profiles`; if it cannot run here, `MODEL_TOO_LARGE` before download. */
  profile?: string;
  /**
   * When a profile still fails to load for lack of memory, try the next one that fits
   * (default true unless `profile` is given).
   */
  fallback?: boolean;
  /** What the browser offers, instead of probing it (`probeEnvironment()`). */
  environment?: BrowserEnvironment;
  /**
   * The model, in one value:
   * - `'/models/m/manifest.json'` (any `.json` URL but a `models.json`): a packed model's manifest;
   * - `'/models/models.json'`: model profiles (the first that fits this browser is used);
   * - `'https://…/model.gguf'`: a GGUF file, or the first of gguf-split shards
   *   (`name-00001-of-0000N.gguf` stands for all of them); an array: the shards' URLs. Cached in
   *   IndexedDB like a packed model; its SHA-256 is computed while it downloads and pinned on
   *   first use (a later download must match it);
   * - `'hf:owner/repo/file.gguf@revision'`: a GGUF file on a model hub (`hubBaseUrl`). A 40-hex
   *   commit is used as given; a branch or tag (none: `main`) is resolved to its commit once, with
   *   a warning (`onWarning`), and that commit is recorded with the cached model: later loads of
   *   the same reference load the same bytes (offline too), even after the branch moves;
   * - anything else: a profile id of `profiles` (default: the bundled models.json).
   * The size preflight runs on every path before the first large byte. Not combined with
   * `manifestUrl`, `manifest`, `modelUrl` or `modelFiles`.
   */
  model?: string | URL | Array<string | URL>;
  /** Where `hf:` references resolve (default `https://huggingface.co`). */
  hubBaseUrl?: string | URL;
  /**
   * A Hugging Face access token for `hf:` references to private or gated repositories (sent to
   * the hub's origin only, never part of an error or warning). A token in a public page is
   * everyone's token: use one only where the page's users may hold it.
   */
  hubToken?: string;
  /**
   * Warnings of the model load: `HUB_REVISION_PINNED` (an `hf:` reference names a branch or tag;
   * the commit it loaded) and `HUB_REVISION_MOVED` (the branch moved since the cached model was
   * pinned; the pinned commit loaded). Default: `console.warn` of the message.
   */
  onWarning?: (warning: ModelLoaderWarning) => void;
  /** URL of one model manifest (chunks, hashes), relative to the page, instead of profiles. */
  manifestUrl?: string | URL;
  /** A manifest object instead of a URL (its chunk files resolve against `manifestBaseUrl`). */
  manifest?: ModelManifest;
  /** Base URL for a `manifest` object's chunk files (default: the page). */
  manifestBaseUrl?: string | URL;
  /** A GGUF file (under 2 GiB) instead of a manifest, as `model: url` (cached, SHA-256 pinned). */
  modelUrl?: string | URL;
  /** Local GGUF files (one model, or its gguf-split shards in order), e.g. from a file picker: loaded directly, not cached. */
  modelFiles?: Blob[];
  /** Keep the model in IndexedDB and start from it next time (default true). */
  useCache?: boolean;
  /**
   * Ask the browser to keep the cached model under storage pressure
   * (`navigator.storage.persist()`) before a download starts. Without it, a browser low on disk
   * may evict a multi-GB model between visits. Chromium grants it silently to sites the user
   * engages with (or installed as an app), Firefox asks the user: call it from a click (a
   * "download the model" button) rather than on page load. Default false.
   */
  persistStorage?: boolean;
  /** IndexedDB database name of the cache (default `tea-llm-cache`). */
  cacheName?: string;
  /**
   * Inference threads (default `'auto'`: every core, all but one past four cores; used only when
   * cross-origin isolated). A count above `navigator.hardwareConcurrency` is clamped to it, with
   * a console warning: llama.cpp's threads busy-wait, so oversubscribing cores is many times
   * slower. `info().model` reports `threads`, `threadsRequested` and `threadingReason`.
   */
  threads?: number | 'auto';
  /**
   * Context size in tokens (default 2048). A prompt plus `max_tokens` that does not fit fails
   * with `CONTEXT_EXCEEDED` before generating (the error names the numbers and `nCtxMax`).
   */
  nCtx?: number;
  /**
   * Reuse the KV cache of the common prefix between consecutive requests (default true): the
   * nodes of a workflow that share a system prompt, the rounds of `llm.tools` and the turns of a
   * chat read only what is new. Outputs are the same either way; `false` is for measuring.
   */
  promptCache?: boolean;
  /** GPU offload through WebGPU (default `'auto'`). */
  webgpu?: WebGpuMode;
  /**
   * Which wllama build runs the model (default `'auto'`: wllama's npm build with WebGPU offload,
   * else the CPU build compiled from source, with relaxed SIMD where the browser has it). Naming
   * one is for measuring and for working around a browser's bug; see llm-bridge's `WllamaBuild`.
   */
  wllamaBuild?: WllamaBuildChoice;
  /** Other origins chunks may come from (default: only the manifest's own). */
  allowedOrigins?: string[];
  /** Progress of the download and of the model load. */
  onProgress?: (progress: TeaProgress) => void;
  /** Cancels the download or load. */
  signal?: AbortSignal;
  /**
   * An OpenAI-compatible endpoint (`llama-server`, Ollama, vLLM, a hosted API). Alone, the handle
   * uses it instead of a local model; with a local model source, it is the fallback when the
   * preflight finds the device cannot hold the model (`MODEL_TOO_LARGE`, before any download).
   * `info().remote` says which happened.
   */
  remote?: RemoteModelConfig;
  /**
   * OpenAI-compatible endpoints that workflows may call with upstream's `provider` / `api_base`
   * (`llm.call`, `llm.stream`, `llm.tools`, `llm.embed`): origins such as
   * `'http://127.0.0.1:8080'`, or `{ origin, toolCalls: 'json' }` for servers whose models have
   * no native tool calling. Default: none (such a node fails with `REMOTE_NOT_ALLOWED`). Keys come
   * from the run's `secrets` (`OPENAI_API_KEY`, …), never from the YAML.
   */
  allowedEndpoints?: AllowedEndpoint[];
  /**
   * Where llama.cpp's own log lines go. Default: quiet (errors only; the number of warnings held
   * back is one `console.debug` line per page). `console` shows everything.
   */
  logger?: BridgeLogger;
  /**
   * Self-hosting: where the engine's `.wasm` and wllama's are served from: `wllama` is the npm
   * build's `wllama.wasm` (WebGPU), `wllamaCpu` and `wllamaCpuRelaxed` the CPU build's
   * `wllama-cpu.wasm` and `wllama-cpu-relaxed.wasm` (all three ship in llm-bridge's `wasm/`).
   */
  wasmPaths?: {
    engine?: InitInput;
    wllama?: string | URL;
    wllamaCpu?: string | URL;
    wllamaCpuRelaxed?: string | URL;
  };
}

/** The page's location, for resolving relative URLs (Node has none). */
export function pageUrl(): string | undefined {
  return (globalThis as { location?: { href: string } }).location?.href;
}
