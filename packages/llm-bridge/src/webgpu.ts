/** `'auto'` offloads to WebGPU when the browser gives an adapter; `'on'` requires one. */
export type WebGpuMode = 'auto' | 'on' | 'off';

interface GpuLike {
  requestAdapter(): Promise<unknown>;
}

/**
 * Whether a WebGPU adapter exists and has `shader-f16`, which wllama's WebGPU kernels need:
 * without it llama.cpp keeps every weight on the CPU, where the CPU build is the faster one.
 */
export async function webGpuAdapterFacts(
  scope: object = globalThis,
): Promise<{ adapter: boolean; shaderF16: boolean }> {
  const gpu = (scope as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
  if (!gpu || typeof gpu.requestAdapter !== 'function') return { adapter: false, shaderF16: false };
  try {
    const adapter = (await gpu.requestAdapter()) as {
      features?: { has(f: string): boolean };
    } | null;
    if (adapter == null) return { adapter: false, shaderF16: false };
    return { adapter: true, shaderF16: !!adapter.features?.has?.('shader-f16') };
  } catch {
    return { adapter: false, shaderF16: false };
  }
}

/**
 * Whether a WebGPU adapter is really available. `navigator.gpu` alone is not enough: headless
 * and blocklisted browsers expose it and then return no adapter.
 */
export async function hasWebGpuAdapter(scope: object = globalThis): Promise<boolean> {
  const gpu = (scope as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
  if (!gpu || typeof gpu.requestAdapter !== 'function') return false;
  try {
    return (await gpu.requestAdapter()) != null;
  } catch {
    return false;
  }
}
