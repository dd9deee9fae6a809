import type { BridgeLogger } from './native-log.js';
import type { WebGpuMode } from './webgpu.js';
import type { WllamaBuildChoice } from './wllama-build.js';

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
   * `DEFAULT_N_BATCH`, 2 to 65536). A call reports prompt progress and notices an abort
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
