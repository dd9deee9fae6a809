import { checkModelFit, type ModelNeeds } from '@the-edge-agent/llm-bridge';
import type { ModelProfile, RunMode } from '@the-edge-agent/model-loader';
import type { BrowserEnvironment } from './environment.js';

/** The verdict of `checkFit`. */
export interface FitResult {
  fits: boolean;
  /** The mode it would run in (the best that fits); when it does not fit, the mode measured. */
  mode: RunMode;
  /** Why, in plain words, one per check that decided. */
  reasons: string[];
  /** It fits, but the user should know (e.g. it takes most of the device's memory). */
  warnings: string[];
  /** Bytes the chosen mode needs in the wasm heap, and the heap ceiling. */
  heapNeededBytes: number;
  heapLimitBytes: number;
}

const gb = (n: number) => `${(n / 1e9).toFixed(2)} GB`;

/**
 * Decides, before any download, whether a model profile can run in this browser and how:
 * `webgpu` (weights offloaded; only input embeddings stay in the wasm heap) when the profile
 * allows it and the adapter can take it, else `cpu` (every weight, the KV cache and compute
 * buffers in the wasm heap). The heap, GPU and device-memory rule is llm-bridge's
 * `checkModelFit` (the package that owns wllama); this adds the download's storage and the
 * profile's own modes.
 */
export function checkFit(
  profile: ModelProfile,
  env: BrowserEnvironment,
  options: { nCtx?: number } = {},
): FitResult {
  const nCtx = options.nCtx ?? 2048;
  // A profile without header figures: its file size stands in for the weights.
  const needs: ModelNeeds = profile.resources ?? {
    weightsBytes: profile.totalBytes,
    cpuBytes: profile.totalBytes,
    kvBytesPer1kTokens: 0,
    largestTensorBytes: profile.totalBytes,
  };
  const rule = checkModelFit(needs, env, { nCtx });
  const storage: string[] = [];
  if (env.storageFreeBytes !== undefined && env.storageFreeBytes < profile.totalBytes)
    storage.push(
      `storage: the download needs ${gb(profile.totalBytes)}, the browser grants ${gb(env.storageFreeBytes)}`,
    );
  const verdict = (mode: RunMode) => {
    const fit = rule[mode];
    const reasons = [...fit.reasons];
    if (!profile.modes.includes(mode))
      reasons.unshift(
        mode === 'cpu'
          ? 'cpu: this profile needs WebGPU offload'
          : 'webgpu: this profile is not built for WebGPU offload',
      );
    if (mode === 'webgpu' && !profile.resources && reasons.length === 0)
      reasons.push('webgpu: the profile has no resource figures (re-pack it with tea-model pack)');
    return { ok: reasons.length === 0, reasons, fit };
  };
  const gpu = verdict('webgpu');
  const cpu = verdict('cpu');
  const result = (mode: RunMode, fits: boolean, reasons: string[]): FitResult => ({
    fits,
    mode,
    reasons,
    warnings: rule[mode].warnings,
    heapNeededBytes: rule[mode].heap.totalBytes,
    heapLimitBytes: rule[mode].limitBytes,
  });
  const storageOk = storage.length === 0;
  if (gpu.ok && storageOk)
    return result('webgpu', true, [
      `webgpu: weights offloaded, ${gb(gpu.fit.heap.totalBytes)} stays in the wasm heap`,
    ]);
  if (cpu.ok && storageOk)
    return result('cpu', true, [
      ...gpu.reasons,
      `cpu: ${gb(cpu.fit.heap.totalBytes)} in the ${gb(cpu.fit.limitBytes)} wasm heap`,
    ]);
  // Not runnable: report the heap it would take here (CPU-only, unless only storage is short).
  const mode: RunMode = gpu.ok ? 'webgpu' : 'cpu';
  return result(mode, false, [...storage, ...gpu.reasons, ...cpu.reasons]);
}
