import type { ModelProfile, RunMode } from '@the-edge-agent/model-loader';
import type { BrowserEnvironment } from './environment.js';

/** Room kept in the wasm heap for compute buffers and the runtime (same rule as `tea-model`). */
export const COMPUTE_RESERVE_BYTES = 128 * 2 ** 20;

/** The verdict of `checkFit`. */
export interface FitResult {
  fits: boolean;
  /** The mode it would run in (the best that fits); when it does not fit, the mode measured. */
  mode: RunMode;
  /** Why, in plain words, one per check that decided. */
  reasons: string[];
  /** Bytes the chosen mode needs in the wasm heap, and the heap ceiling. */
  heapNeededBytes: number;
  heapLimitBytes: number;
}

const gb = (n: number) => `${(n / 1e9).toFixed(2)} GB`;

/**
 * Decides, before any download, whether a model profile can run in this browser and how:
 * `webgpu` (weights offloaded; only input embeddings and buffers stay in the wasm heap) when the
 * profile allows it and the adapter has `shader-f16` and big enough buffers, else `cpu` (every
 * weight and the KV cache in the wasm heap). Storage for the download and device memory count
 * too.
 */
export function checkFit(
  profile: ModelProfile,
  env: BrowserEnvironment,
  options: { nCtx?: number } = {},
): FitResult {
  const nCtx = options.nCtx ?? 2048;
  const r = profile.resources;
  const weights = r?.weightsBytes ?? profile.totalBytes;
  const kv = r ? (r.kvBytesPer1kTokens * nCtx) / 1024 : 0;
  const limit = env.wasmHeapLimitBytes;
  const common: string[] = [];
  let commonOk = true;
  if (env.storageFreeBytes !== undefined && env.storageFreeBytes < profile.totalBytes) {
    commonOk = false;
    common.push(
      `storage: the download needs ${gb(profile.totalBytes)}, the browser grants ${gb(env.storageFreeBytes)}`,
    );
  }
  // WebGPU: offload leaves the CPU-side weights (input embeddings) + compute buffers in the heap.
  const gpu: string[] = [];
  let gpuOk = profile.modes.includes('webgpu');
  if (!gpuOk) gpu.push('webgpu: this profile is not built for WebGPU offload');
  else if (!env.webgpu) {
    gpuOk = false;
    gpu.push('webgpu: no WebGPU adapter in this browser');
  } else {
    if (!env.webgpu.shaderF16) {
      gpuOk = false;
      gpu.push("webgpu: the adapter lacks 'shader-f16', which wllama's WebGPU kernels need");
    }
    if (r && r.largestTensorBytes > env.webgpu.maxBufferSize) {
      gpuOk = false;
      gpu.push(
        `webgpu: the largest tensor is ${gb(r.largestTensorBytes)}, the adapter's maxBufferSize ${gb(env.webgpu.maxBufferSize)}`,
      );
    }
  }
  const gpuHeap = (r?.cpuBytes ?? 0) + COMPUTE_RESERVE_BYTES;
  if (gpuOk && !r) {
    gpuOk = false;
    gpu.push('webgpu: the profile has no resource figures (re-pack it with tea-model pack)');
  }
  if (gpuOk && gpuHeap > limit) {
    gpuOk = false;
    gpu.push(`webgpu: ${gb(gpuHeap)} must stay in the wasm heap, over its ${gb(limit)} limit`);
  }
  // CPU: every weight, the KV cache and compute buffers in the wasm heap.
  const cpu: string[] = [];
  const cpuHeap = weights + kv + COMPUTE_RESERVE_BYTES;
  let cpuOk = profile.modes.includes('cpu');
  if (!cpuOk) cpu.push('cpu: this profile needs WebGPU offload');
  if (cpuHeap > limit) {
    cpuOk = false;
    cpu.push(
      `cpu: ${gb(weights)} of weights + ${gb(kv)} of KV cache at ${nCtx} tokens + buffers need ${gb(cpuHeap)}, over the ${gb(limit)} wasm heap of this wllama build`,
    );
  }
  if (env.deviceMemoryGiB !== undefined && env.deviceMemoryGiB < 8) {
    const mem = env.deviceMemoryGiB * 2 ** 30;
    if (cpuHeap > mem) {
      cpuOk = false;
      cpu.push(
        `cpu: the device reports ${env.deviceMemoryGiB} GiB of memory, ${gb(cpuHeap)} needed`,
      );
    }
  }
  if (gpuOk && commonOk)
    return {
      fits: true,
      mode: 'webgpu',
      reasons: [`webgpu: weights offloaded, ${gb(gpuHeap)} stays in the wasm heap`],
      heapNeededBytes: gpuHeap,
      heapLimitBytes: limit,
    };
  if (cpuOk && commonOk)
    return {
      fits: true,
      mode: 'cpu',
      reasons: [...gpu, `cpu: ${gb(cpuHeap)} in the ${gb(limit)} wasm heap`],
      heapNeededBytes: cpuHeap,
      heapLimitBytes: limit,
    };
  // Not runnable: report the heap it would take here (CPU-only, unless only storage is short).
  const mode: RunMode = gpuOk ? 'webgpu' : 'cpu';
  return {
    fits: false,
    mode,
    reasons: [...common, ...gpu, ...cpu],
    heapNeededBytes: mode === 'webgpu' ? gpuHeap : cpuHeap,
    heapLimitBytes: limit,
  };
}
