import { probeWasmHeapLimit } from '@the-edge-agent/llm-bridge';

/** What the browser reports that decides which model it can run. */
export interface BrowserEnvironment {
  /**
   * The wasm heap wllama can get here (everything CPU-resident shares it): 16 GiB for the
   * bundled wllama build where the browser reserves it, less where it cannot, 4 GiB without
   * memory64 (`probeWasmHeapLimit()` of llm-bridge).
   */
  wasmHeapLimitBytes: number;
  /** Whether the engine supports wasm memory64 (wllama's default build needs it). */
  memory64: boolean;
  /** Whether JS Promise Integration is there (WebAssembly.Suspending). */
  jspi: boolean;
  /** The WebGPU adapter, or null without WebGPU. */
  webgpu: {
    maxBufferSize: number;
    maxStorageBufferBindingSize: number;
    shaderF16: boolean;
  } | null;
  /** `navigator.deviceMemory` in GiB (Chromium only; capped at 8), when reported. */
  deviceMemoryGiB?: number;
  /** Free storage for the download (`navigator.storage.estimate`: quota - usage), when reported. */
  storageFreeBytes?: number;
}

// The smallest module with a memory64 memory: magic, version, memory section (flags 0x04).
const MEMORY64_MODULE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 5, 3, 1, 4, 0]);

interface GpuLike {
  requestAdapter(): Promise<{
    features: { has(name: string): boolean };
    limits: { maxBufferSize: number; maxStorageBufferBindingSize: number };
  } | null>;
}

async function webgpuAdapter(): Promise<BrowserEnvironment['webgpu']> {
  const gpu = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
  if (!gpu) return null;
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return null;
    return {
      maxBufferSize: Number(adapter.limits.maxBufferSize),
      maxStorageBufferBindingSize: Number(adapter.limits.maxStorageBufferBindingSize),
      shaderF16: adapter.features.has('shader-f16'),
    };
  } catch {
    return null;
  }
}

/** Reads what this browser offers (WebGPU adapter, memory, storage), for `checkFit`. */
export async function probeEnvironment(): Promise<BrowserEnvironment> {
  const nav = (
    globalThis as {
      navigator?: {
        deviceMemory?: number;
        storage?: { estimate?: () => Promise<{ quota?: number; usage?: number }> };
      };
    }
  ).navigator;
  let storageFreeBytes: number | undefined;
  try {
    const e = await nav?.storage?.estimate?.();
    if (e?.quota !== undefined) storageFreeBytes = e.quota - (e.usage ?? 0);
  } catch {
    // Not reported (e.g. an opaque origin): the download fails later with QUOTA_EXCEEDED if short.
  }
  let memory64: boolean;
  try {
    memory64 = WebAssembly.validate(MEMORY64_MODULE);
  } catch {
    memory64 = false;
  }
  const heap = probeWasmHeapLimit();
  return {
    wasmHeapLimitBytes: heap.limitBytes,
    memory64: memory64 && heap.memory64,
    jspi: 'Suspending' in WebAssembly,
    webgpu: await webgpuAdapter(),
    ...(typeof nav?.deviceMemory === 'number' ? { deviceMemoryGiB: nav.deviceMemory } : {}),
    ...(storageFreeBytes !== undefined ? { storageFreeBytes } : {}),
  };
}
