import {
  executeYaml,
  init,
  setLlmHandler,
  version,
  type RunOptions,
  type WorkflowState,
} from '@the-edge-agent/core-wasm';
import {
  bridgeHandler,
  createBridge,
  type BridgeInfo,
  type ChatMessage,
  type ChatRequest,
  type CompleteRequest,
  type CompletionResult,
  type LlmBridge,
  type LlmHandler,
} from '@the-edge-agent/llm-bridge';
import type { ModelCache } from '@the-edge-agent/model-cache';
import type { ParsedManifest } from '@the-edge-agent/model-loader';
import { acquireModel, cacheFor } from './acquire-model.js';
import type { TeaLlmConfig } from './config.js';
import { RunLock } from './run-lock.js';

/** What a handle reports about itself. */
export interface TeaInfo {
  engineVersion: string;
  model: BridgeInfo;
  /** The manifest's model id and version (absent for `modelUrl`). */
  manifest?: { id: string; version: string; totalBytes: number; chunks: number };
  /** Whether the model came from IndexedDB (no download). */
  fromCache: boolean;
}

/** Options of `tea.chat` / `tea.complete`: sampling, streaming and cancellation. */
export type GenerateOptions = Omit<ChatRequest, 'messages'>;

const runLock = new RunLock();

/** A loaded model + engine. Several handles may exist; runs of different handles take turns. */
export class Tea {
  private disposed = false;
  private readonly handler: LlmHandler;

  /** @internal use `createTea` */
  constructor(
    private readonly bridge: LlmBridge,
    /** The model cache (undefined with `useCache: false`). */
    readonly cache: ModelCache | undefined,
    private readonly details: Omit<TeaInfo, 'model' | 'engineVersion'>,
  ) {
    this.handler = bridgeHandler(bridge);
  }

  /** Runs a YAML workflow; `llm.call` / `llm.embed` nodes use this handle's model. */
  async run<S extends WorkflowState = WorkflowState>(
    yaml: string,
    state: WorkflowState = {},
    options: RunOptions = {},
  ): Promise<S> {
    this.assertLive();
    const release = await runLock.acquire(this);
    try {
      setLlmHandler(this.handler);
      return await executeYaml<S>(yaml, state, options);
    } finally {
      release();
    }
  }

  /** One chat turn (a prompt, or messages) through the model's chat template. */
  chat(prompt: string | ChatMessage[], options: GenerateOptions = {}): Promise<CompletionResult> {
    this.assertLive();
    const messages =
      typeof prompt === 'string' ? [{ role: 'user' as const, content: prompt }] : prompt;
    return this.bridge.chat({ ...options, messages });
  }

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
    if (this.disposed) {
      throw new Error('this Tea handle was disposed: create a new one with createTea()');
    }
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

/**
 * Sets everything up: the engine, the model (from IndexedDB, or downloaded, verified and
 * cached), and local inference. Resolves to a handle.
 * @throws the layers' typed errors: `ModelLoaderError`, `ModelCacheError`, `LlmBridgeError`,
 *   `CoreWasmError` (all re-exported by this package, each with a `code`).
 */
export async function createTea(config: TeaLlmConfig = {}): Promise<Tea> {
  await init(config.wasmPaths?.engine);
  const threads =
    config.threads ??
    ((globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator
      ?.hardwareConcurrency ||
      'auto');
  const bridge = createBridge({
    threads,
    ...(config.nCtx ? { nCtx: config.nCtx } : {}),
    ...(config.webgpu ? { webgpu: config.webgpu } : {}),
    ...(config.wasmPaths?.wllama ? { wasmUrl: config.wasmPaths.wllama } : {}),
  });
  const signal = config.signal ? { signal: config.signal } : {};
  if (config.modelUrl) {
    await bridge.load(
      [
        new URL(
          String(config.modelUrl),
          (globalThis as { location?: { href: string } }).location?.href,
        ).href,
      ],
      {
        ...signal,
        onProgress: (p) => config.onProgress?.({ phase: 'load', ...p }),
      },
    );
    config.onProgress?.({ phase: 'ready', fromCache: false });
    return new Tea(bridge, undefined, { fromCache: false });
  }
  if (config.modelFiles?.length) {
    await bridge.load(config.modelFiles, {
      ...signal,
      onProgress: (p) => config.onProgress?.({ phase: 'load', ...p }),
    });
    config.onProgress?.({ phase: 'ready', fromCache: false });
    return new Tea(bridge, undefined, { fromCache: false });
  }
  const cache = cacheFor(config);
  const model = await acquireModel(config, cache);
  await bridge.load(model.blobs, {
    ...signal,
    onProgress: (p) => config.onProgress?.({ phase: 'load', ...p }),
  });
  config.onProgress?.({ phase: 'ready', fromCache: model.fromCache });
  return new Tea(bridge, cache, { manifest: summary(model.manifest), fromCache: model.fromCache });
}
