/** `'auto'` offloads to WebGPU when the browser gives an adapter; `'on'` requires one. */
export type WebGpuMode = 'auto' | 'on' | 'off';

interface GpuLike {
  requestAdapter(): Promise<unknown>;
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
