import {
  executeYaml,
  init,
  version,
  Workflow,
  type Checkpoint,
  type RunOptions,
  type RunResult,
  type WorkflowState,
} from '@the-edge-agent/core-wasm';
import { disposed } from './errors.js';
import { chatCompletions, type ChatCompletions } from './openai-compat.js';
import {
  bridgeHandler,
  createBridge,
  type BridgeInfo,
  type ChatMessage,
  type ChatRequest,
  type CompleteRequest,
  type CompletionResult,
  type LlmBridge,
  type ModelNeeds,
  type LlmHandler,
  type LoadPlan,
  RemoteBridge,
  routeProviders,
  type AllowedEndpoint,
  type WebGpuMode,
} from '@the-edge-agent/llm-bridge';
import type { ModelCache } from '@the-edge-agent/model-cache';
import {
  acquireModel,
  ModelLoaderError,
  modelInvalidError,
  type ParsedManifest,
} from '@the-edge-agent/model-loader';
import { acquireOptions, cacheFor, modelSourceOf } from './model-source.js';
import { report, type TeaLlmConfig, type TeaProgress, type TeaProgressPhase } from './config.js';
import { probeEnvironment } from './environment.js';
import { resolveModelOption, type ResolvedConfig } from './model-option.js';
import {
  bundledModelsUrl,
  loadModelIndex,
  rankProfiles,
  tooLarge,
  tryInOrder,
} from './profiles.js';

/** What a handle reports about itself. */
export interface TeaInfo {
  engineVersion: string;
  model: BridgeInfo;
  /** The manifest's model id and version (absent for `modelFiles`). */
  manifest?: { id: string; version: string; totalBytes: number; chunks: number };
  /** Whether the model came from IndexedDB (no download). */
  fromCache: boolean;
  /** The profile used, when the model came from a `models.json`, and why it was chosen. */
  profile?: { id: string; mode: 'cpu' | 'webgpu'; reasons: string[] };
  /** Set when the model is a remote endpoint (`remote`), and why (`chosen`, or `fallback`). */
  remote?: { endpoint: string; model: string; reason: 'chosen' | 'fallback'; detail?: string };
}

/** What a handle needs of its model: the local bridge, or a remote endpoint's client. */
export type ModelBackend = Pick<
  LlmBridge,
  'chat' | 'complete' | 'embed' | 'hasChatTemplate' | 'info' | 'unload'
>;

/** Options of `tea.chat` / `tea.complete`: sampling, streaming and cancellation. */
export type GenerateOptions = Omit<ChatRequest, 'messages'>;

/** `tea.chat(prompt, options)`, with OpenAI's `tea.chat.completions.create(params)`. */
export type TeaChat = ((
  prompt: string | ChatMessage[],
  options?: GenerateOptions,
) => Promise<CompletionResult>) & { completions: ChatCompletions };

/**
 * A loaded model + engine. Several handles may exist and run workflows at the same time: each
 * run carries its handle's LLM handler.
 */
export class Tea {
  private disposed = false;
  private readonly handler: LlmHandler;

  /** @internal use `createTea` */
  constructor(
    private readonly bridge: ModelBackend,
    /** The model cache (undefined with `useCache: false`). */
    readonly cache: ModelCache | undefined,
    private readonly details: Omit<TeaInfo, 'model' | 'engineVersion'>,
    /** Origins workflows may call with `provider` / `api_base` (`allowedEndpoints`). */
    private readonly endpoints: AllowedEndpoint[] = [],
  ) {
    this.handler = bridgeHandler(bridge);
    this.chat = Object.assign(
      (
        prompt: string | ChatMessage[],
        options: GenerateOptions = {},
      ): Promise<CompletionResult> => {
        this.assertLive();
        const messages =
          typeof prompt === 'string' ? [{ role: 'user' as const, content: prompt }] : prompt;
        return this.bridge.chat({ ...options, messages });
      },
      {
        completions: chatCompletions(
          this.bridge,
          () => this.bridge.info().name || this.bridge.info().architecture,
          () => this.assertLive(),
        ),
      },
    );
  }

  /**
   * `options` with this handle's model serving the run, unless they bring their own handler;
   * nodes naming a `provider` / `api_base` go to that endpoint if its origin is allowed, with
   * keys from the run's `secrets`.
   */
  private withModel(options: RunOptions): RunOptions {
    this.assertLive();
    return {
      ...options,
      llmHandler:
        options.llmHandler ?? routeProviders(this.handler, this.endpoints, options.secrets),
    };
  }

  /** Parses `yaml`, hands it to `work`, and frees it after. */
  private async withWorkflow<T>(
    yaml: string,
    work: (workflow: Workflow) => Promise<T>,
  ): Promise<T> {
    const workflow = Workflow.parse(yaml);
    try {
      return await work(workflow);
    } finally {
      workflow.free();
    }
  }

  /**
   * Runs a YAML workflow; `llm.call` / `llm.embed` nodes use this handle's model (unless
   * `options.llmHandler` brings another).
   */
  async run<S extends WorkflowState = WorkflowState>(
    yaml: string,
    state: WorkflowState = {},
    options: RunOptions = {},
  ): Promise<S> {
    return executeYaml<S>(yaml, state, this.withModel(options));
  }

  /**
   * Runs a workflow to its end or to an interrupt (`interrupt_before` / `interrupt_after`): an
   * interrupted result carries a JSON checkpoint for `resume`.
   */
  async invoke<S extends WorkflowState = WorkflowState>(
    yaml: string,
    state: WorkflowState = {},
    options: RunOptions = {},
  ): Promise<RunResult<S>> {
    const run = this.withModel(options);
    return this.withWorkflow(yaml, (w) => w.invoke<S>(state, run));
  }

  /** Continues an interrupted run of `yaml` from its checkpoint, with `stateUpdates` over its state. */
  async resume<S extends WorkflowState = WorkflowState>(
    yaml: string,
    checkpoint: Checkpoint,
    stateUpdates: WorkflowState = {},
    options: RunOptions = {},
  ): Promise<RunResult<S>> {
    const run = this.withModel(options);
    return this.withWorkflow(yaml, (w) => w.resume<S>(checkpoint, stateUpdates, run));
  }

  /**
   * One chat turn (a prompt, or messages) through the model's chat template; and, as
   * `tea.chat.completions.create(params)`, OpenAI's chat completions API (with `stream: true`,
   * an async iterator of chunks).
   */
  readonly chat: TeaChat;

  /** A raw completion (no chat template). */
  complete(
    prompt: string,
    options: Omit<CompleteRequest, 'prompt'> = {},
  ): Promise<CompletionResult> {
    this.assertLive();
    return this.bridge.complete({ ...options, prompt });
  }

  /** Embedding vector(s) of the model. */
  embed(text: string): Promise<number[]>;
  embed(texts: string[]): Promise<number[][]>;
  embed(input: string | string[]): Promise<number[] | number[][]> {
    this.assertLive();
    return this.bridge.embed(input as string);
  }

  /** The engine and model in use, and how they run. */
  info(): TeaInfo {
    this.assertLive();
    return { engineVersion: version(), model: this.bridge.info(), ...this.details };
  }

  /** The handler the engine calls (for use with core-wasm directly). */
  llmHandler(): LlmHandler {
    return this.handler;
  }

  /** Unloads the model and frees its memory. The handle cannot be used afterwards. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.bridge.unload();
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  private assertLive(): void {
    if (this.disposed) throw disposed();
  }
}

function summary(m: ParsedManifest) {
  return {
    id: m.model.id,
    version: m.model.version,
    totalBytes: m.totalBytes,
    chunks: m.chunks.length,
  };
}

function newBridge(config: TeaLlmConfig, webgpu: WebGpuMode | undefined): LlmBridge {
  return createBridge({
    // llm-bridge owns the decision (clamped to the cores, with a warning; 'auto' from its bench).
    threads: config.threads ?? 'auto',
    ...(config.nCtx ? { nCtx: config.nCtx } : {}),
    ...(config.promptCache !== undefined ? { promptCache: config.promptCache } : {}),
    ...(webgpu ? { webgpu } : {}),
    ...(config.wasmPaths?.wllama ? { wasmUrl: config.wasmPaths.wllama } : {}),
    ...(config.wasmPaths?.wllamaCpu || config.wasmPaths?.wllamaCpuRelaxed
      ? {
          cpuWasmUrls: {
            ...(config.wasmPaths.wllamaCpu ? { simd128: config.wasmPaths.wllamaCpu } : {}),
            ...(config.wasmPaths.wllamaCpuRelaxed
              ? { relaxedSimd: config.wasmPaths.wllamaCpuRelaxed }
              : {}),
          },
        }
      : {}),
    ...(config.wllamaBuild ? { wllamaBuild: config.wllamaBuild } : {}),
    ...(config.logger ? { logger: config.logger } : {}),
  });
}

/** Loads Blobs or a URL into a new bridge (a failed load frees the bridge's worker itself). */
async function loadBridge(
  config: TeaLlmConfig,
  source: Blob[] | string[],
  webgpu: WebGpuMode | undefined,
  plan?: LoadPlan,
  bridge = newBridge(config, webgpu),
): Promise<LlmBridge> {
  await bridge.load(source, {
    ...(config.signal ? { signal: config.signal } : {}),
    ...(plan ? { plan } : {}),
    onProgress: (p) => report(config, { phase: 'load', ...p }),
  });
  return bridge;
}

/** One model reference (manifest, GGUF URLs, hf:): from the cache or downloaded, then loaded. */
async function fromManifest(
  config: ResolvedConfig,
  webgpu: WebGpuMode | undefined,
  profile?: TeaInfo['profile'],
): Promise<Tea> {
  const cache = cacheFor(config);
  if (config.persistStorage) await cache?.persist().catch(() => false);
  const bridge = newBridge(config, webgpu);
  // The fit, checked once by llm-bridge on the manifest's header figures before any byte is
  // downloaded; its plan goes to the load. Without figures the load plans on the Blobs' size.
  let plan: LoadPlan | undefined;
  const model = await acquireModel(
    modelSourceOf(config),
    acquireOptions(config, cache, async (manifest) => {
      const figures = manifest.model['resources'] as ModelNeeds | undefined;
      if (figures) plan = await bridge.planLoad(figures);
    }),
  );
  try {
    await loadBridge(config, model.blobs, webgpu, plan, bridge);
  } catch (error) {
    // Verified bytes that llama.cpp refuses: remembered, so every later visit says so at once.
    if ((error as { code?: unknown }).code !== 'LOAD_FAILED') throw error;
    const reason = (error as Error).message;
    await cache?.markUnloadable(model.manifest, reason).catch(() => undefined);
    throw modelInvalidError(model.manifest, reason, error);
  }
  report(config, { phase: 'ready', fromCache: model.fromCache });
  return new Tea(
    bridge,
    cache,
    {
      manifest: summary(model.manifest),
      fromCache: model.fromCache,
      ...(profile ? { profile } : {}),
    },
    config.allowedEndpoints,
  );
}

/** Profiles: the first that fits this browser; on an out-of-memory load, the next one. */
async function fromProfiles(config: TeaLlmConfig): Promise<Tea> {
  const source = config.profiles ?? bundledModelsUrl();
  const index = await loadModelIndex(source, config.signal, config.allowedOrigins).catch(
    (error: unknown) => {
      if (config.profiles !== undefined || (error as { code?: string }).code === 'ABORTED')
        throw error;
      // No model was named: say where the sdk looked, and what to pass instead.
      const e = error as ModelLoaderError;
      throw new ModelLoaderError(
        e.code,
        `no model was given, so the sdk looked for bundled model profiles at ${String(source)}, and ${e.message}. The npm package ships no model: pass { manifestUrl } (a model packed with \`npx tea-model pack\`, served beside your page) or { profiles }`,
        {
          ...(e.url ? { url: e.url } : {}),
          ...(e.status ? { status: e.status } : {}),
          cause: error,
        },
      );
    },
  );
  const env = config.environment ?? (await probeEnvironment());
  const ranked = rankProfiles(index, env, {
    ...(config.profile !== undefined ? { id: config.profile } : {}),
    ...(config.nCtx ? { nCtx: config.nCtx } : {}),
    ...(config.promptCache !== undefined ? { promptCache: config.promptCache } : {}),
  });
  const fitting = ranked.filter((p) => p.fit.fits);
  if (fitting.length === 0) {
    const closest = ranked.reduce((a, b) =>
      b.fit.heapNeededBytes < a.fit.heapNeededBytes ? b : a,
    );
    throw tooLarge(closest);
  }
  return tryInOrder(
    fitting,
    ({ profile, fit }) =>
      fromManifest(
        { ...config, manifestUrl: profile.manifestUrl },
        config.webgpu ?? (fit.mode === 'webgpu' ? 'auto' : 'off'),
        { id: profile.id, mode: fit.mode, reasons: fit.reasons },
      ),
    {
      fallback: config.fallback ?? config.profile === undefined,
      ...(config.onProgress ? { onProgress: config.onProgress } : {}),
    },
  );
}

/**
 * Sets everything up: the engine, the model (from IndexedDB, or downloaded, verified and
 * cached), and local inference. Resolves to a handle. The model comes from `model`, `modelUrl`,
 * `modelFiles`, `manifestUrl`/`manifest`, or else the profiles of a `models.json` (default: the
 * bundled `models/models.json` beside the page), of which the first that fits is used.
 * @throws the layers' typed errors: `ModelLoaderError`, `ModelCacheError`, `LlmBridgeError`,
 *   `ModelTooLargeError` (no profile fits: before any download), `CoreWasmError` (all
 *   re-exported by this package, each with a `code`).
 */
export async function createTea(options: TeaLlmConfig = {}): Promise<Tea> {
  let config = resolveModelOption(options);
  if (config.onProgress) config = { ...config, onProgress: withFraction(config.onProgress) };
  await init(config.wasmPaths?.engine);
  const local =
    config.ggufUrls?.length ||
    config.modelFiles?.length ||
    config.manifest ||
    config.manifestUrl ||
    config.profiles ||
    config.profile;
  if (config.remote && !local) return remoteTea(config, 'chosen');
  if (!config.remote) return createLocalTea(config);
  try {
    return await createLocalTea(config);
  } catch (error) {
    // The device cannot hold the model (found before any download): the remote endpoint serves.
    if ((error as { code?: unknown }).code !== 'MODEL_TOO_LARGE') throw error;
    return remoteTea(config, 'fallback', (error as Error).message);
  }
}

function remoteTea(config: TeaLlmConfig, reason: 'chosen' | 'fallback', detail?: string): Tea {
  const remote = new RemoteBridge(config.remote!);
  report(config, { phase: 'ready', fromCache: false });
  return new Tea(
    remote,
    undefined,
    {
      fromCache: false,
      remote: {
        endpoint: remote.endpoint,
        model: config.remote!.model,
        reason,
        ...(detail ? { detail } : {}),
      },
    },
    config.allowedEndpoints,
  );
}

/** Adds the monotonic overall `fraction` to every progress event (see `TeaProgress`). */
function withFraction(onProgress: (p: TeaProgress) => void): (p: TeaProgress) => void {
  let fraction = 0;
  return (p: TeaProgressPhase) => {
    const part = (loaded: number, total: number) => (total > 0 ? Math.min(1, loaded / total) : 0);
    if (p.phase === 'download')
      fraction = Math.max(fraction, 0.9 * part(p.loadedBytes, p.totalBytes));
    else if (p.phase === 'load')
      fraction = Math.max(fraction, 0.9 + 0.1 * part(p.loadedBytes, p.totalBytes));
    else if (p.phase === 'ready') fraction = 1;
    onProgress({ ...p, fraction });
  };
}

let warnedSingleThread = false;

/**
 * Once per page: a multi-core browser runs the model on one thread because the page is not
 * cross-origin isolated. Says how to fix it (the reason is also in `info().model`).
 */
function warnIfSingleThread(tea: Tea): Tea {
  const model = tea.info().model;
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator
    ?.hardwareConcurrency;
  if (
    !warnedSingleThread &&
    !model.multiThread &&
    (cores ?? 1) > 1 &&
    /isolated|SharedArrayBuffer/.test(model.threadingReason)
  ) {
    warnedSingleThread = true;
    console.warn(
      `[tea] the model runs on 1 of ${cores} cores: ${model.threadingReason}. See "Multi-threading: COOP/COEP headers" in the @the-edge-agent/sdk README.`,
    );
  }
  return tea;
}

async function createLocalTea(config: ResolvedConfig): Promise<Tea> {
  return warnIfSingleThread(await loadLocalTea(config));
}

async function loadLocalTea(config: ResolvedConfig): Promise<Tea> {
  if (config.modelFiles?.length) {
    const bridge = await loadBridge(config, config.modelFiles, config.webgpu);
    report(config, { phase: 'ready', fromCache: false });
    return new Tea(bridge, undefined, { fromCache: false }, config.allowedEndpoints);
  }
  if (config.ggufUrls?.length || config.manifest || config.manifestUrl)
    return fromManifest(config, config.webgpu);
  return fromProfiles(config);
}
