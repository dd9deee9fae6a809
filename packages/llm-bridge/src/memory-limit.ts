import { formatGB, ModelTooLargeError } from './errors.js';

/**
 * wllama 3.13 links both of its builds with `-sMAXIMUM_MEMORY=4096MB`: everything that lives in
 * the wasm heap (CPU-resident weights, KV cache, compute buffers) shares 4 GiB.
 */
export const WLLAMA_HEAP_LIMIT_BYTES = 4 * 2 ** 30;

/**
 * Room kept free for the KV cache, compute buffers and the runtime when weights stay on the CPU.
 * Measured: a 4.05 GB model (3.77 GiB) loads CPU-only, a 4.45 GB one (4.14 GiB) does not.
 */
export const HEAP_RESERVE_BYTES = 192 * 2 ** 20;

/**
 * Fails fast, before wllama reads a byte, when a CPU-only load cannot fit the wasm heap; the
 * alternative is wllama's cryptic `RangeError: Invalid typed array length` after a long load.
 * Under WebGPU offload most weights leave the heap, so only the CPU-only case is checked here.
 *
 * @param modelBytes total size of the GGUF (all shards).
 * @param gpuOffload whether layers will be offloaded to WebGPU.
 * @throws {ModelTooLargeError} `MODEL_TOO_LARGE` with the size tried and the limit.
 */
export function assertFitsWasmHeap(modelBytes: number, gpuOffload: boolean): void {
  if (gpuOffload) return;
  const budget = WLLAMA_HEAP_LIMIT_BYTES - HEAP_RESERVE_BYTES;
  if (modelBytes > budget) {
    throw new ModelTooLargeError(
      modelBytes + HEAP_RESERVE_BYTES,
      WLLAMA_HEAP_LIMIT_BYTES,
      `Without WebGPU all ${formatGB(modelBytes)} of weights must sit in wllama's 4 GiB wasm heap ` +
        'next to the KV cache. Use a smaller model (or quantization), or a browser with WebGPU.',
    );
  }
}
