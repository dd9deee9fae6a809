import { Wllama } from '@wllama/wllama';
import type { BridgeOptions } from './bridge-options.js';
import { BridgeAbortError, LlmBridgeError } from './errors.js';
import { type GenerationContext, grammarOf, runChat, runComplete, usesTools } from './generate.js';
import { schemaToGrammar } from './schema-grammar.js';
import { toolAnswerSchema } from './tool-calls.js';
import { secretPartsOf, withoutSecretParts } from './source-secrets.js';
import { mapWllamaError } from './map-wllama-error.js';
import { raceAbort } from './race-abort.js';
import { largestFittingContext, type ModelNeeds } from './fit-rule.js';
import { planLoad, type LoadPlan } from './load-plan.js';
import { isCpuDevice, NativeLogTap, quietLogger, summariseQuietWarnings } from './native-log.js';
import { SerialQueue } from './serial-queue.js';
import type {
  BridgeInfo,
  CallOptions,
  ChatRequest,
  CompleteRequest,
  CompletionResult,
} from './types.js';
import { WLLAMA_VERSION } from './wllama-version.js';
import type { WllamaBuild } from './wllama-build.js';
import { WLLAMA_CPU_BUILD, WLLAMA_CPU_GLUE } from './wllama-cpu-glue.js';

export type { BridgeOptions } from './bridge-options.js';

/** Progress of `load()`; wllama reports none for Blobs, so those get a start and an end. */
export interface BridgeLoadProgress {
  loadedBytes: number;
  totalBytes: number;
}

/** Options of `load()`. */
export interface LoadOptions {
  onProgress?: (progress: BridgeLoadProgress) => void;
  /** Aborting stops the load and frees wllama's worker. */
  signal?: AbortSignal;
  /**
   * The model's figures from its GGUF header (model-loader's `ModelResources`): with them the
   * heap check before loading counts the KV cache and compute buffers, not only the file size.
   */
  needs?: ModelNeeds;
  /**
   * The plan `planLoad()` made for this load (the fit already checked, e.g. before a download):
   * used as it is, nothing decided again. Without it `load()` plans itself.
   */
  plan?: LoadPlan;
}

/**
 * Prompt tokens per evaluation step unless `nBatch` says otherwise (llama.cpp's `n_batch` and
 * `n_ubatch`). Measured on Gemma 3n E2B at 2 threads, prefill was the same at 128 and 512 and 6 %
 * slower at 32 (README, "Speed"); an embedding input must fit one step, so 512 keeps `embed()`
 * taking up to 512 tokens, as wllama's defaults did.
 */
export const DEFAULT_N_BATCH = 512;

const LOAD_REFUSED =
  /error loading model|failed to load model|corrupted or incomplete|invalid magic/i;

// Bundlers see the `new URL(…, import.meta.url)` pattern and emit the files; self-hosters pass
// `wasmUrl` and `cpuWasmUrls`.
function wasmUrlOf(build: WllamaBuild, options: BridgeOptions): string {
  if (build === 'cpu-relaxed-simd')
    return String(
      options.cpuWasmUrls?.relaxedSimd ??
        new URL('../wasm/wllama-cpu-relaxed.wasm', import.meta.url).href,
    );
  if (build === 'cpu-simd128')
    return String(
      options.cpuWasmUrls?.simd128 ?? new URL('../wasm/wllama-cpu.wasm', import.meta.url).href,
    );
  return String(options.wasmUrl ?? new URL('../wasm/wllama.wasm', import.meta.url).href);
}

/** A loaded-or-not wllama model with a request queue in front of it. */
export class LlmBridge {
  private wllama: Wllama | undefined;
  private details: BridgeInfo | undefined;
  private readonly queue = new SerialQueue();
  private readonly tap: NativeLogTap;

  constructor(private readonly options: BridgeOptions = {}) {
    const b = options.nBatch;
    // llama.cpp aborts the whole wasm instance on a batch of 1.
    if (b !== undefined && (!Number.isInteger(b) || b < 2 || b > 65536))
      throw new RangeError(`nBatch must be an integer from 2 to 65536, got ${String(b)}`);
    this.tap = new NativeLogTap(options.logger ?? quietLogger);
  }

  /** Whether a model is loaded and ready for requests. */
  get isLoaded(): boolean {
    return this.details !== undefined;
  }

  /**
   * Decides how a load of a model with these figures will run (threads, GPU offload, wllama
   * build, heap limit) and checks that it fits, without loading anything: the sdk asks before
   * downloading, and hands the plan to `load()`, so the fit is checked once per load.
   * @throws {LlmBridgeError} `MODEL_TOO_LARGE`, `WEBGPU_UNAVAILABLE`, `LOAD_FAILED`.
   */
  planLoad(model?: ModelNeeds | number): Promise<LoadPlan> {
    return planLoad(this.options, model);
  }

  /**
   * Loads a GGUF model: a list of Blobs (one per gguf-split shard, in order) or URLs.
   * @throws {LlmBridgeError} `ALREADY_LOADED`, `MODEL_TOO_LARGE` (before reading a byte when the
   *   size is known), `WEBGPU_UNAVAILABLE`, `LOAD_FAILED` (with wllama's message), `ABORTED`.
   */
  async load(source: Blob[] | Array<string | URL>, opts: LoadOptions = {}): Promise<BridgeInfo> {
    if (this.wllama)
      throw new LlmBridgeError('ALREADY_LOADED', 'a model is already loaded: call unload() first');
    if (source.length === 0)
      throw new LlmBridgeError('LOAD_FAILED', 'load() needs at least one GGUF shard');
    if (opts.signal?.aborted)
      throw new BridgeAbortError('loading the model', { cause: opts.signal.reason });
    const blobs = source.every((s): s is Blob => s instanceof Blob) ? source : undefined;
    const totalBytes = blobs ? blobs.reduce((sum, b) => sum + b.size, 0) : 0;
    const plan = opts.plan ?? (await planLoad(this.options, opts.needs ?? (blobs && totalBytes)));
    const wllama = this.startWllama(plan);
    const params = wllamaParams(this.options, plan);
    opts.onProgress?.({ loadedBytes: 0, totalBytes });
    const urlBytes = await this.loadWeights(wllama, source, blobs, params, plan, opts);
    if (!this.options.logger) summariseQuietWarnings();
    const modelBytes = blobs ? totalBytes : urlBytes;
    opts.onProgress?.({ loadedBytes: modelBytes, totalBytes: modelBytes });
    this.details = this.describe(wllama, plan, modelBytes, params.embeddings);
    return this.details;
  }

  /** A new wllama instance of the plan's build, taking the native log. */
  private startWllama(plan: LoadPlan): Wllama {
    const cpuBuild = isCpuBuild(plan);
    // A CPU build brings its own Emscripten glue ('default.js', read by the patched wllama).
    const paths = {
      default: wasmUrlOf(plan.build.build, this.options),
      ...(cpuBuild ? { 'default.js': WLLAMA_CPU_GLUE } : {}),
    };
    const wllama = new Wllama(paths, {
      logger: this.tap.logger,
      suppressNativeLog: false,
      // wllama compares the wasm's llama.cpp with the one its JavaScript was released with; the
      // CPU build's llama.cpp is another one by design (its wasm and glue come from one build,
      // checked by scripts/build-wllama.mjs).
      skipVersionCheck: cpuBuild,
    });
    wllama.setCompat(this.options.compat ?? null);
    this.wllama = wllama;
    this.tap.take();
    this.tap.takeWeightDevices();
    return wllama;
  }

  /**
   * Loads the weights into `wllama`; the URL load's byte count. A refusal that wllama resolves
   * anyway (only llama.cpp's log says so) is a failure too; any failure frees the worker.
   */
  private async loadWeights(
    wllama: Wllama,
    source: Blob[] | Array<string | URL>,
    blobs: Blob[] | undefined,
    params: WllamaParams,
    plan: LoadPlan,
    opts: LoadOptions,
  ): Promise<number> {
    let urlBytes = 0;
    let allocation: { allocationBytes?: number } = {};
    try {
      const work = blobs
        ? wllama.loadModel(blobs, params)
        : wllama.loadModelFromUrl(
            // wllama finds the other shards from the first one's `-00001-of-0000N` name.
            { url: String(source[0]) },
            {
              ...params,
              useCache: false,
              progressCallback: ({ loaded, total }: { loaded: number; total: number }) => {
                urlBytes = total;
                opts.onProgress?.({ loadedBytes: loaded, totalBytes: total });
              },
            },
          );
      await raceAbort(work, opts.signal, 'loading the model');
      const refusal = this.tap.take();
      allocation = this.tap.takeAllocationFailure();
      if ((refusal && LOAD_REFUSED.test(refusal)) || allocation.allocationBytes !== undefined)
        throw new Error(refusal ?? 'llama.cpp could not allocate the model');
      return urlBytes;
    } catch (error) {
      const nativeError =
        this.tap.take() ??
        (error instanceof Error && LOAD_REFUSED.test(error.message) ? error.message : undefined);
      await this.unload();
      const mapped = mapWllamaError(error, {
        phase: 'load',
        what: 'loading the model',
        modelBytes: (blobs ? blobs.reduce((sum, b) => sum + b.size, 0) : 0) || urlBytes,
        limitBytes: plan.heapLimitBytes,
        ...(nativeError ? { nativeError } : {}),
        ...(allocation.allocationBytes !== undefined
          ? allocation
          : this.tap.takeAllocationFailure()),
      });
      throw blobs ? mapped : withoutSecretParts(mapped, secretPartsOf(source as string[]));
    }
  }

  /** What was loaded and how it runs, as `info()` reports it. */
  private describe(
    wllama: Wllama,
    plan: LoadPlan,
    modelBytes: number,
    embeddings: boolean,
  ): BridgeInfo {
    const ctx = wllama.getLoadedContextInfo();
    // What llama.cpp really did: an adapter can exist and still be unusable (e.g. SwiftShader's,
    // without shader-f16), in which case the weights stay on the CPU.
    const offloaded = this.tap.takeWeightDevices().some((device) => !isCpuDevice(device));
    return {
      architecture: ctx.metadata['general.architecture'] ?? 'unknown',
      name: ctx.metadata['general.name'] ?? '',
      nCtx: ctx.n_ctx,
      nCtxTrain: ctx.n_ctx_train,
      nCtxMax: Math.min(
        ctx.n_ctx_train || Number.POSITIVE_INFINITY,
        plan.needs
          ? largestFittingContext(
              plan.needs,
              plan.gpuOffload ? 'webgpu' : 'cpu',
              plan.heapLimitBytes,
            )
          : Number.POSITIVE_INFINITY,
      ),
      nEmbd: ctx.n_embd,
      nLayer: ctx.n_layer,
      threads: wllama.getNumThreads(),
      multiThread: wllama.isMultithread(),
      threadsRequested: plan.threading.requested,
      threadingReason: plan.threading.reason,
      webgpu: offloaded,
      embeddings,
      wllama: {
        version: WLLAMA_VERSION,
        libllama: isCpuBuild(plan) ? WLLAMA_CPU_BUILD.libllama : Wllama.getLibllamaVersion(),
        build: plan.build.build,
        buildReason: plan.build.reason,
      },
      modelBytes,
      heapLimitBytes: plan.heapLimitBytes,
    };
  }

  /** Unloads the model and frees wllama's worker and memory. Safe to call at any time. */
  async unload(): Promise<void> {
    const wllama = this.wllama;
    this.wllama = undefined;
    this.details = undefined;
    await wllama?.exit().catch(() => undefined);
  }

  /** What is loaded and how it runs. @throws {LlmBridgeError} `MODEL_NOT_LOADED`. */
  info(): BridgeInfo {
    if (!this.details) throw notLoaded();
    return { ...this.details, wllama: { ...this.details.wllama } };
  }

  /** Raw text completion (no chat template). Queued behind earlier requests. */
  async complete(request: CompleteRequest): Promise<CompletionResult> {
    if (typeof request?.prompt !== 'string') throw invalid('complete() needs a string `prompt`');
    // Built here, once: a schema or grammar that cannot work fails before queueing.
    const grammar = grammarOf(request);
    return this.enqueue('the completion', request, (w, ctx) =>
      runComplete(w, ctx, request, grammar),
    );
  }

  /** Chat completion with the model's own chat template. Queued behind earlier requests. */
  async chat(request: ChatRequest): Promise<CompletionResult> {
    if (!Array.isArray(request?.messages) || request.messages.length === 0) {
      throw invalid('chat() needs a non-empty `messages` array');
    }
    // Built here, once: a schema, grammar or tool list that cannot work fails before queueing.
    let grammar = grammarOf(request);
    if (request.tools !== undefined) grammar = checkTools(request) ?? grammar;
    return this.enqueue('the chat', request, (w, ctx) => runChat(w, ctx, request, grammar));
  }

  /** Whether the loaded model carries a chat template. */
  hasChatTemplate(): boolean {
    if (!this.wllama || !this.details) throw notLoaded();
    return !!this.wllama.getChatTemplate();
  }

  /** Embedding vectors (L2-normalised), one per input. Queued behind earlier requests. */
  async embed(input: string, opts?: Pick<CallOptions, 'signal'>): Promise<number[]>;
  async embed(input: string[], opts?: Pick<CallOptions, 'signal'>): Promise<number[][]>;
  async embed(
    input: string | string[],
    opts: Pick<CallOptions, 'signal'> = {},
  ): Promise<number[] | number[][]> {
    if (this.details && !this.details.embeddings) {
      throw new LlmBridgeError(
        'EMBEDDINGS_DISABLED',
        'embed() needs the bridge created with embeddings: true',
      );
    }
    const vectors = await this.enqueue('the embedding', opts, async (w) => {
      const res = await w.createEmbedding({ input });
      return res.data.map((d) => d.embedding as number[]);
    });
    return typeof input === 'string' ? (vectors[0] ?? []) : vectors;
  }

  private enqueue<T>(
    what: string,
    opts: Pick<CallOptions, 'signal'>,
    run: (wllama: Wllama, ctx: GenerationContext) => Promise<T>,
  ): Promise<T> {
    if (!this.wllama || !this.details) return Promise.reject(notLoaded());
    const d = this.details;
    const ctx: GenerationContext = {
      model: d.name || d.architecture,
      nCtx: d.nCtx,
      promptCache: this.options.promptCache ?? true,
      ...(Number.isFinite(d.nCtxMax) ? { nCtxMax: d.nCtxMax } : {}),
    };
    return this.queue.run(
      async () => {
        const wllama = this.wllama;
        if (!wllama) throw notLoaded();
        this.tap.take();
        try {
          return await run(wllama, ctx);
        } catch (error) {
          const nativeError = this.tap.take();
          throw mapWllamaError(error, {
            phase: 'inference',
            what,
            ...(nativeError ? { nativeError } : {}),
          });
        }
      },
      opts.signal,
      what,
    );
  }
}

function notLoaded(): LlmBridgeError {
  return new LlmBridgeError('MODEL_NOT_LOADED', 'no model is loaded: call load() first');
}

function invalid(message: string): LlmBridgeError {
  return new LlmBridgeError('INVALID_REQUEST', message);
}

const isCpuBuild = (plan: LoadPlan) =>
  plan.build.build === 'cpu-relaxed-simd' || plan.build.build === 'cpu-simd128';

type WllamaParams = ReturnType<typeof wllamaParams>;

/** llama.cpp's parameters for a load by this plan. */
function wllamaParams(options: BridgeOptions, plan: LoadPlan) {
  const embeddings = options.embeddings ?? true;
  return {
    n_ctx: plan.nCtx,
    n_threads: plan.threading.threads,
    n_gpu_layers: plan.gpuOffload ? 99999 : 0,
    embeddings,
    // Mean pooling: chat models used as embedders have no pooling type of their own, and
    // llama.cpp's fallback (the first token) gives every input the same vector.
    ...(embeddings ? { pooling_type: options.pooling ?? 'mean' } : {}),
    // One sequence: requests are served one at a time (the queue), and a single sequence keeps
    // a reused prefix in the cache cells a fresh read would use, so reuse changes no output.
    // With wllama's default (4 sequences sharing one cache) two conversations taking turns
    // put their prefixes side by side and greedy outputs drifted (llm-bridge e2e, context.spec).
    n_parallel: 1,
    // Sliding-window layers (Gemma 3n's, 512 tokens) keep only the window by default, and then
    // llama.cpp reads every prompt again from the start: on the E2B fixture a 3-node workflow
    // reused 0 of 349 tokens. A full-size window cache keeps the prefix (the agent bench's
    // "prefix reuse"); the fit rule already counts a full KV cache for every layer.
    swa_full: true,
    n_batch: options.nBatch ?? DEFAULT_N_BATCH,
    n_ubatch: options.nBatch ?? DEFAULT_N_BATCH,
  };
}

/** Creates a bridge; call `load()` on it before any request. */
export function createBridge(options: BridgeOptions = {}): LlmBridge {
  return new LlmBridge(options);
}

/** Checks a request's tools; the grammar of its tool answers when it uses them. */
function checkTools(request: ChatRequest): string | undefined {
  if (!Array.isArray(request.tools))
    throw invalid('`tools` must be a list of { type: "function", function: { name, parameters } }');
  const names = new Set<string>();
  for (const [i, t] of request.tools.entries()) {
    const name = (t as { function?: { name?: unknown } } | null)?.function?.name;
    if (t?.type !== 'function' || typeof name !== 'string' || !/^[\w.-]{1,64}$/.test(name))
      throw invalid(
        `tools[${i}] must be { type: "function", function: { name (letters, digits, _ . -), parameters } }`,
      );
    if (names.has(name)) throw invalid(`tools[${i}]: the name '${name}' is used twice`);
    names.add(name);
  }
  const choice = request.tool_choice;
  if (
    choice !== undefined &&
    choice !== 'auto' &&
    choice !== 'none' &&
    choice !== 'required' &&
    !(typeof choice === 'object' && choice !== null && typeof choice.function?.name === 'string')
  )
    throw invalid(
      "tool_choice must be 'auto', 'none', 'required' or { type: 'function', function: { name } }",
    );
  if (!usesTools(request)) return undefined;
  if (
    request.grammar !== undefined ||
    (request.response_format && request.response_format.type !== 'text')
  )
    throw invalid(
      'tools cannot be combined with `grammar` or a JSON `response_format` (the tool answer is constrained already)',
    );
  return schemaToGrammar(toolAnswerSchema(request.tools, choice));
}
