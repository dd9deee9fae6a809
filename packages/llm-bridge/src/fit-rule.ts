import { formatGB, ModelTooLargeError } from './errors.js';

/**
 * The wasm heap ceiling of the wllama this package ships: wllama 3.13's default build with its
 * memory64 maximum raised from 4 GiB to 16 GiB at build time (see README). Everything that lives
 * in the heap (CPU-resident weights, KV cache, compute buffers) shares it.
 */
export const WLLAMA_HEAP_LIMIT_BYTES = 16 * 2 ** 30;

/** The ceiling of wllama's compat build (wasm32) and of the stock 3.13 builds: 4 GiB. */
export const WLLAMA_COMPAT_HEAP_LIMIT_BYTES = 4 * 2 ** 30;

/** Room kept for the runtime itself (wllama's allocations, the output buffer, allocator slack). */
export const HEAP_RESERVE_BYTES = 128 * 2 ** 20;

/** llama.cpp's micro-batch (n_ubatch) default: the compute graph is sized for it. */
const N_UBATCH = 512;
/** Compute-buffer estimate for models whose header widths are unknown (older manifests). */
const COMPUTE_FALLBACK_BYTES = 192 * 2 ** 20;

/**
 * What a model needs, from its GGUF header (model-loader's `ModelResources` has this shape,
 * `tea-model inspect --json` prints it). The widths are optional: without them the compute
 * buffers are estimated with a fixed figure.
 */
export interface ModelNeeds {
  /** Bytes of all tensor data. */
  weightsBytes: number;
  /** Weight bytes that stay in the wasm heap under WebGPU offload (input embeddings). */
  cpuBytes: number;
  /** KV-cache bytes per 1,024 tokens of context. */
  kvBytesPer1kTokens: number;
  /** The largest tensor (a GPU buffer must hold it). */
  largestTensorBytes: number;
  /** Vocabulary size (the logits of a micro-batch are `n_ubatch x vocab` floats). */
  vocabSize?: number;
  /** `embedding_length` and `feed_forward_length` (activations of a micro-batch). */
  embeddingLength?: number;
  feedForwardLength?: number;
  /** Attention heads (the attention scores of a micro-batch are `n_ctx x n_ubatch x heads`). */
  headCount?: number;
}

/** Where the weights go: all in the wasm heap, or offloaded to WebGPU. */
export type FitMode = 'cpu' | 'webgpu';

/** The bytes a load puts in the wasm heap, by kind. */
export interface HeapEstimate {
  weightsBytes: number;
  kvBytes: number;
  computeBytes: number;
  reserveBytes: number;
  totalBytes: number;
}

/** What the browser offers: the heap it can reserve, the GPU, the device's memory. */
export interface FitEnvironment {
  /** The wasm heap this browser can really reserve for wllama (`probeWasmHeapLimit()`). */
  wasmHeapLimitBytes: number;
  webgpu: { maxBufferSize: number; shaderF16: boolean } | null;
  /** `navigator.deviceMemory` in GiB (Chromium: rounded down to a power of 2, capped at 8). */
  deviceMemoryGiB?: number;
}

/** The verdict for one mode. */
export interface ModeFit {
  mode: FitMode;
  fits: boolean;
  heap: HeapEstimate;
  limitBytes: number;
  /** Why it does not fit, in plain words with numbers (empty when it fits). */
  reasons: string[];
  /** Fits, but something is worth telling the user (e.g. it takes most of the device's memory). */
  warnings: string[];
}

const gb = (n: number) => `${(n / 1e9).toFixed(2)} GB`;

/**
 * Bytes a load needs in the wasm heap. CPU: every weight, the KV cache at `nCtx`, the compute
 * buffers of one micro-batch and the reserve. WebGPU: the CPU-side weights and the reserve
 * (weights, KV cache and compute move to the GPU).
 */
export function estimateHeap(
  needs: ModelNeeds,
  mode: FitMode,
  options: { nCtx?: number } = {},
): HeapEstimate {
  const nCtx = options.nCtx ?? 2048;
  if (mode === 'webgpu') {
    const weightsBytes = needs.cpuBytes;
    return {
      weightsBytes,
      kvBytes: 0,
      computeBytes: 0,
      reserveBytes: HEAP_RESERVE_BYTES,
      totalBytes: weightsBytes + HEAP_RESERVE_BYTES,
    };
  }
  const kvBytes = Math.ceil((needs.kvBytesPer1kTokens * nCtx) / 1024);
  const { vocabSize: vocab, embeddingLength: embd, feedForwardLength: ff, headCount } = needs;
  // The graph allocator reuses buffers, so the peak is about the largest live set of one
  // micro-batch: its logits (all outputs at reserve time), the FFN activations, the residual
  // stream, and the attention scores over the context.
  const computeBytes =
    vocab && embd && ff
      ? 4 * N_UBATCH * (vocab + 2 * ff + 4 * embd) + 4 * N_UBATCH * nCtx * (headCount ?? 1)
      : COMPUTE_FALLBACK_BYTES;
  const weightsBytes = needs.weightsBytes;
  return {
    weightsBytes,
    kvBytes,
    computeBytes,
    reserveBytes: HEAP_RESERVE_BYTES,
    totalBytes: weightsBytes + kvBytes + computeBytes + HEAP_RESERVE_BYTES,
  };
}

/**
 * The largest context (tokens) whose heap estimate still fits `limitBytes`, by the same rule
 * (`estimateHeap` grows linearly with `nCtx`). Unbounded under WebGPU offload, where the KV cache
 * leaves the heap; 0 when not even an empty context fits.
 */
export function largestFittingContext(
  needs: ModelNeeds,
  mode: FitMode,
  limitBytes: number,
): number {
  const empty = estimateHeap(needs, mode, { nCtx: 0 }).totalBytes;
  const perToken = (estimateHeap(needs, mode, { nCtx: 1024 }).totalBytes - empty) / 1024;
  if (empty > limitBytes) return 0;
  if (perToken <= 0) return Number.POSITIVE_INFINITY;
  return Math.floor((limitBytes - empty) / perToken);
}

/**
 * The one fit rule: whether a model runs in this browser, per mode, before any download. The
 * sdk's `checkFit`/`rankProfiles`, the bridge's own check before `load()` and `tea-model` use it.
 */
export function checkModelFit(
  needs: ModelNeeds,
  env: FitEnvironment,
  options: { nCtx?: number } = {},
): { cpu: ModeFit; webgpu: ModeFit } {
  const limit = env.wasmHeapLimitBytes;
  const verdict = (mode: FitMode): ModeFit => {
    const heap = estimateHeap(needs, mode, options);
    const reasons: string[] = [];
    const warnings: string[] = [];
    if (heap.totalBytes > limit) {
      reasons.push(
        mode === 'cpu'
          ? `cpu: ${gb(heap.weightsBytes)} of weights + ${gb(heap.kvBytes)} of KV cache + ${gb(heap.computeBytes + heap.reserveBytes)} of buffers need ${gb(heap.totalBytes)}, over the ${gb(limit)} wasm heap this browser can reserve`
          : `webgpu: ${gb(heap.totalBytes)} must stay in the wasm heap, over the ${gb(limit)} this browser can reserve`,
      );
    }
    if (mode === 'webgpu') {
      if (!env.webgpu) reasons.push('webgpu: no WebGPU adapter in this browser');
      else {
        if (!env.webgpu.shaderF16)
          reasons.push(
            "webgpu: the adapter lacks 'shader-f16', which wllama's WebGPU kernels need",
          );
        if (needs.largestTensorBytes > env.webgpu.maxBufferSize)
          reasons.push(
            `webgpu: the largest tensor is ${gb(needs.largestTensorBytes)}, the adapter's maxBufferSize ${gb(env.webgpu.maxBufferSize)}`,
          );
      }
    }
    // Memory the page itself takes: the heap (CPU) or the CPU-side part (WebGPU).
    if (env.deviceMemoryGiB !== undefined) {
      const device = env.deviceMemoryGiB * 2 ** 30;
      const share = heap.totalBytes / device;
      // deviceMemory is capped at 8: past that it says "8 or more", so only warn there.
      if (share > 0.9 && env.deviceMemoryGiB < 8)
        reasons.push(
          `${mode}: ${gb(heap.totalBytes)} of memory needed, the device reports ${env.deviceMemoryGiB} GiB (${gb(device)}) in all`,
        );
      else if (share > 0.5)
        warnings.push(
          `${mode}: ${gb(heap.totalBytes)} is ${Math.round(share * 100)} % of the ${env.deviceMemoryGiB}${env.deviceMemoryGiB >= 8 ? '+' : ''} GiB this device reports; other tabs may be closed to make room`,
        );
    }
    return { mode, fits: reasons.length === 0, heap, limitBytes: limit, reasons, warnings };
  };
  return { cpu: verdict('cpu'), webgpu: verdict('webgpu') };
}

/**
 * Fails fast, before wllama reads a byte, when a load cannot fit the wasm heap; the alternative
 * is wllama's cryptic `RangeError: Invalid typed array length` after a long load.
 * `needs` is the header's figures, or just the total model bytes when nothing else is known.
 *
 * @throws {ModelTooLargeError} `MODEL_TOO_LARGE` with the bytes needed and the limit.
 */
export function assertFitsWasmHeap(
  needs: ModelNeeds | number,
  options: { gpuOffload: boolean; limitBytes?: number; nCtx?: number },
): void {
  const model: ModelNeeds =
    typeof needs === 'number'
      ? { weightsBytes: needs, cpuBytes: 0, kvBytesPer1kTokens: 0, largestTensorBytes: 0 }
      : needs;
  // Under WebGPU offload without figures the CPU-side share is unknown: the runtime decides.
  if (options.gpuOffload && typeof needs === 'number') return;
  const mode: FitMode = options.gpuOffload ? 'webgpu' : 'cpu';
  const heap = estimateHeap(model, mode, options.nCtx ? { nCtx: options.nCtx } : {});
  const limit = options.limitBytes ?? WLLAMA_HEAP_LIMIT_BYTES;
  if (heap.totalBytes > limit) {
    throw new ModelTooLargeError(
      heap.totalBytes,
      limit,
      mode === 'cpu'
        ? `Without WebGPU all ${formatGB(heap.weightsBytes)} of weights sit in the wasm heap next to the KV cache and compute buffers. Use a smaller model (or quantization), or a browser with WebGPU.`
        : `Under WebGPU offload ${formatGB(heap.weightsBytes)} of input embeddings still sit in the wasm heap. Use a smaller model.`,
    );
  }
}
