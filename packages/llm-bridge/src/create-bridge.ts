import { Wllama } from '@wllama/wllama';
import { detectThreading } from './detect-threading.js';
import { BridgeAbortError, LlmBridgeError } from './errors.js';
import { type GenerationContext, grammarOf, runChat, runComplete, usesTools } from './generate.js';
import { schemaToGrammar } from './schema-grammar.js';
import { toolAnswerSchema } from './tool-calls.js';
import { secretPartsOf, withoutSecretParts } from './source-secrets.js';
import { mapWllamaError } from './map-wllama-error.js';
import { raceAbort } from './race-abort.js';
import {
  assertFitsWasmHeap,
  largestFittingContext,
  type ModelNeeds,
  WLLAMA_COMPAT_HEAP_LIMIT_BYTES,
} from './fit-rule.js';
import {
  type BridgeLogger,
  isCpuDevice,
  NativeLogTap,
  quietLogger,
  summariseQuietWarnings,
} from './native-log.js';
import { probeWasmHeapLimit } from './probe-heap.js';
import { SerialQueue } from './serial-queue.js';
import type {
  BridgeInfo,
  CallOptions,
  ChatRequest,
  CompleteRequest,
  CompletionResult,
} from './types.js';
import { type WebGpuMode, webGpuAdapterFacts } from './webgpu.js';
import { WLLAMA_VERSION } from './wllama-version.js';
import {
  chooseWllamaBuild,
  hasRelaxedSimd,
  type WllamaBuild,
  type WllamaBuildChoice,
} from './wllama-build.js';
import { WLLAMA_CPU_BUILD, WLLAMA_CPU_GLUE } from './wllama-cpu-glue.js';

/** How to build a bridge. Every field is optional. */
export interface BridgeOptions {
  /**
   * URL of `wllama.wasm`, wllama's npm build (the one with WebGPU). Default: the copy shipped in
   * this package (same origin, no CDN).
   */
  wasmUrl?: string | URL;
  /**
   * URLs of the CPU builds (`wllama-cpu-relaxed.wasm`, `wllama-cpu.wasm`). Default: the copies
   * shipped in this package.
   */
  cpuWasmUrls?: { relaxedSimd?: string | URL; simd128?: string | URL };
  /**
   * Which wllama build runs (default `'auto'`: the npm build with WebGPU offload, else the CPU
   * build compiled from source, with relaxed SIMD where the browser has it). See `WllamaBuild`.
   */
  wllamaBuild?: WllamaBuildChoice;
  /**
   * wllama's compat build (for browsers without JSPI/memory64), self-hosted from
   * `@wllama/wllama-compat`. Default `null`: never fetched from a CDN.
   */
  compat?: { worker: string; wasm: string } | null;
  /**
   * `'auto'` (default): every core when cross-origin isolated (all but one past four cores), else
   * 1. Or a count, clamped to `navigator.hardwareConcurrency` with a warning.
   */
  threads?: 'auto' | number;
  /** Context size in tokens (default 2048). */
  nCtx?: number;
  /**
   * Prompt tokens evaluated per step (llama.cpp's `n_batch` and `n_ubatch`; default
   * {@link DEFAULT_N_BATCH}, 2 to 65536). A call reports prompt progress and notices an abort
   * between steps, and `embed()` takes inputs of up to this many tokens.
   */
  nBatch?: number;
  /**
   * Reuse the KV cache of the previous request's common prefix (default true): the nodes of a
   * workflow that share a system prompt, the rounds of a tool loop and the turns of a chat read
   * only what is new. `false` makes every request read its whole prompt again.
   */
  promptCache?: boolean;
  /** GPU offload (default `'auto'`). */
  webgpu?: WebGpuMode;
  /** Load the model with embeddings on, so `embed()` works (default true). */
  embeddings?: boolean;
  /**
   * How token states become one embedding (default `'mean'`). Use `'unspecified'` to keep the
   * pooling a dedicated embedding model declares in its GGUF.
   */
  pooling?: 'mean' | 'last' | 'cls' | 'unspecified';
  /** Receives wllama's log (default: warnings and errors only). */
  logger?: BridgeLogger;
}

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
    const threading = detectThreading(this.options.threads ?? 'auto');
    if (threading.warning) (this.options.logger ?? console).warn(`[tea] ${threading.warning}`);
    const gpu = await this.decideGpu();
    const compat = !!this.options.compat && !('Suspending' in WebAssembly);
    let chosen;
    try {
      chosen = chooseWllamaBuild({
        requested: this.options.wllamaBuild,
        gpuOffload: gpu,
        compat,
        relaxedSimd: hasRelaxedSimd(),
      });
    } catch (error) {
      throw new LlmBridgeError('LOAD_FAILED', (error as Error).message);
    }
    const cpuBuild = chosen.build === 'cpu-relaxed-simd' || chosen.build === 'cpu-simd128';
    const probe = probeWasmHeapLimit();
    const limitBytes =
      compat || !probe.memory64 ? WLLAMA_COMPAT_HEAP_LIMIT_BYTES : probe.limitBytes;
    const nCtx = this.options.nCtx ?? 2048;
    if (opts.needs) assertFitsWasmHeap(opts.needs, { gpuOffload: gpu, limitBytes, nCtx });
    else if (blobs) assertFitsWasmHeap(totalBytes, { gpuOffload: gpu, limitBytes, nCtx });
    const embeddings = this.options.embeddings ?? true;
    // A CPU build brings its own Emscripten glue ('default.js', read by the patched wllama).
    const paths = {
      default: wasmUrlOf(chosen.build, this.options),
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
    const params = {
      n_ctx: nCtx,
      n_threads: threading.threads,
      n_gpu_layers: gpu ? 99999 : 0,
      embeddings,
      // Mean pooling: chat models used as embedders have no pooling type of their own, and
      // llama.cpp's fallback (the first token) gives every input the same vector.
      ...(embeddings ? { pooling_type: this.options.pooling ?? 'mean' } : {}),
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
      n_batch: this.options.nBatch ?? DEFAULT_N_BATCH,
      n_ubatch: this.options.nBatch ?? DEFAULT_N_BATCH,
    };
    opts.onProgress?.({ loadedBytes: 0, totalBytes });
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
      // wllama can resolve even though llama.cpp refused the file (truncated or corrupt
      // tensors, or weights it could not allocate); the refusal only reaches the native log.
      const refusal = this.tap.take();
      allocation = this.tap.takeAllocationFailure();
      if ((refusal && LOAD_REFUSED.test(refusal)) || allocation.allocationBytes !== undefined)
        throw new Error(refusal ?? 'llama.cpp could not allocate the model');
    } catch (error) {
      const nativeError =
        this.tap.take() ??
        (error instanceof Error && LOAD_REFUSED.test(error.message) ? error.message : undefined);
      await this.unload();
      const mapped = mapWllamaError(error, {
        phase: 'load',
        what: 'loading the model',
        modelBytes: totalBytes || urlBytes,
        limitBytes,
        ...(nativeError ? { nativeError } : {}),
        ...(allocation.allocationBytes !== undefined
          ? allocation
          : this.tap.takeAllocationFailure()),
      });
      throw blobs ? mapped : withoutSecretParts(mapped, secretPartsOf(source as string[]));
    }
    if (!this.options.logger) summariseQuietWarnings();
    const modelBytes = blobs ? totalBytes : urlBytes;
    opts.onProgress?.({ loadedBytes: modelBytes, totalBytes: modelBytes });
    const ctx = wllama.getLoadedContextInfo();
    // What llama.cpp really did: an adapter can exist and still be unusable (e.g. SwiftShader's,
    // without shader-f16), in which case the weights stay on the CPU.
    const offloaded = this.tap.takeWeightDevices().some((device) => !isCpuDevice(device));
    this.details = {
      architecture: ctx.metadata['general.architecture'] ?? 'unknown',
      name: ctx.metadata['general.name'] ?? '',
      nCtx: ctx.n_ctx,
      nCtxTrain: ctx.n_ctx_train,
      nCtxMax: Math.min(
        ctx.n_ctx_train || Number.POSITIVE_INFINITY,
        opts.needs
          ? largestFittingContext(opts.needs, gpu ? 'webgpu' : 'cpu', limitBytes)
          : Number.POSITIVE_INFINITY,
      ),
      nEmbd: ctx.n_embd,
      nLayer: ctx.n_layer,
      threads: wllama.getNumThreads(),
      multiThread: wllama.isMultithread(),
      threadsRequested: threading.requested,
      threadingReason: threading.reason,
      webgpu: offloaded,
      embeddings,
      wllama: {
        version: WLLAMA_VERSION,
        libllama: cpuBuild ? WLLAMA_CPU_BUILD.libllama : Wllama.getLibllamaVersion(),
        build: chosen.build,
        buildReason: chosen.reason,
      },
      modelBytes,
      heapLimitBytes: limitBytes,
    };
    return this.details;
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

  private async decideGpu(): Promise<boolean> {
    const mode = this.options.webgpu ?? 'auto';
    if (mode === 'off') return false;
    const requested = this.options.wllamaBuild;
    // A CPU build asked for by name has no WebGPU: 'auto' then means no offload.
    if (mode === 'auto' && (requested === 'cpu-relaxed-simd' || requested === 'cpu-simd128'))
      return false;
    const facts = await webGpuAdapterFacts();
    if (mode === 'on' && !facts.adapter) {
      throw new LlmBridgeError(
        'WEBGPU_UNAVAILABLE',
        'webgpu: "on" was asked for, but this browser gives no WebGPU adapter',
      );
    }
    // 'auto' offloads only where wllama's kernels can run ('shader-f16'); 'on' always tries.
    return mode === 'on' ? facts.adapter : facts.shaderF16;
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
