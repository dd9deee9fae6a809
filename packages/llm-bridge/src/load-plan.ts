import type { BridgeOptions } from './bridge-options.js';
import { detectThreading, type ThreadingDecision } from './detect-threading.js';
import { LlmBridgeError } from './errors.js';
import { assertFitsWasmHeap, type ModelNeeds, WLLAMA_COMPAT_HEAP_LIMIT_BYTES } from './fit-rule.js';
import { probeWasmHeapLimit } from './probe-heap.js';
import { webGpuAdapterFacts } from './webgpu.js';
import { chooseWllamaBuild, hasRelaxedSimd, type WllamaBuildDecision } from './wllama-build.js';

/**
 * How a load will run, decided once before it (and, through the sdk, before any model byte is
 * downloaded): threads, GPU offload, the wllama build, the heap limit, the context, and the fit
 * of the model's figures in that heap. `load()` takes it and decides none of it again.
 */
export interface LoadPlan {
  readonly threading: ThreadingDecision;
  /** Whether the weights go to the GPU (WebGPU offload). */
  readonly gpuOffload: boolean;
  /** Whether wllama's compat build (no JSPI/memory64) runs. */
  readonly compat: boolean;
  readonly build: WllamaBuildDecision;
  /** The wasm heap this build can grow to here. */
  readonly heapLimitBytes: number;
  readonly nCtx: number;
  /** The figures the fit was checked with (the GGUF header's), or the model's size alone. */
  readonly needs?: ModelNeeds;
  readonly modelBytes?: number;
}

/** Whether the weights go to the GPU, from the bridge's `webgpu` option and the adapter. */
async function decideGpu(options: BridgeOptions): Promise<boolean> {
  const mode = options.webgpu ?? 'auto';
  if (mode === 'off') return false;
  const requested = options.wllamaBuild;
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

/**
 * The load's plan for a model with these figures (a GGUF header's `ModelNeeds`, or only its
 * total bytes; none: the size is not known before loading, e.g. a load by URL).
 * @throws {LlmBridgeError} `MODEL_TOO_LARGE` when the model cannot fit the heap (before any
 *   byte is read), `WEBGPU_UNAVAILABLE`, `LOAD_FAILED` (a build that cannot run here).
 */
export async function planLoad(
  options: BridgeOptions,
  model?: ModelNeeds | number,
): Promise<LoadPlan> {
  const threading = detectThreading(options.threads ?? 'auto');
  if (threading.warning) (options.logger ?? console).warn(`[tea] ${threading.warning}`);
  const gpuOffload = await decideGpu(options);
  const compat = !!options.compat && !('Suspending' in WebAssembly);
  let build: WllamaBuildDecision;
  try {
    build = chooseWllamaBuild({
      requested: options.wllamaBuild,
      gpuOffload,
      compat,
      relaxedSimd: hasRelaxedSimd(),
    });
  } catch (error) {
    throw new LlmBridgeError('LOAD_FAILED', (error as Error).message);
  }
  const probe = probeWasmHeapLimit();
  const heapLimitBytes =
    compat || !probe.memory64 ? WLLAMA_COMPAT_HEAP_LIMIT_BYTES : probe.limitBytes;
  const nCtx = options.nCtx ?? 2048;
  if (model !== undefined)
    assertFitsWasmHeap(model, { gpuOffload, limitBytes: heapLimitBytes, nCtx });
  return {
    threading,
    gpuOffload,
    compat,
    build,
    heapLimitBytes,
    nCtx,
    ...(typeof model === 'number' ? { modelBytes: model } : model ? { needs: model } : {}),
  };
}
