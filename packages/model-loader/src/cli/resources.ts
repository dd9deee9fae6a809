import type { ModelResources, RunMode } from '../model-index.js';

// The library's reading of a header (the CLI's `pack` and `inspect` print it).
export { computeResources } from '../resources.js';

/** Context size the run modes are computed for. */
export const DEFAULT_N_CTX = 4096;

/** The fit rule's entry points the CLI uses (llm-bridge's, loaded only when installed). */
interface FitRule {
  checkModelFit(
    needs: ModelResources,
    env: {
      wasmHeapLimitBytes: number;
      webgpu: { maxBufferSize: number; shaderF16: boolean } | null;
    },
    options: { nCtx?: number },
  ): { cpu: { fits: boolean }; webgpu: { fits: boolean } };
  WLLAMA_HEAP_LIMIT_BYTES: number;
}

/**
 * llm-bridge owns the fit rule (it owns wllama and its heap). The library side of this package
 * never imports it; the CLI loads it when it is installed (an optional peer dependency).
 */
export async function loadFitRule(): Promise<FitRule | undefined> {
  try {
    const name = '@the-edge-agent/llm-bridge';
    return (await import(/* @vite-ignore */ name)) as FitRule;
  } catch {
    return undefined;
  }
}

/**
 * Where a model with these needs can run at `nCtx` tokens of context, best first, by
 * llm-bridge's fit rule in the best browser (the full heap of its wllama build, a GPU with
 * shader-f16 and big buffers); the sdk's `checkFit` then judges the real browser. Without the
 * rule (llm-bridge not installed), or without resource figures, both modes are listed.
 */
export async function runModes(
  resources: ModelResources | undefined,
  nCtx = DEFAULT_N_CTX,
  rule?: FitRule,
): Promise<RunMode[]> {
  const fit = rule ?? (await loadFitRule());
  if (!resources || !fit) return ['cpu', 'webgpu'];
  const verdict = fit.checkModelFit(
    resources,
    {
      wasmHeapLimitBytes: fit.WLLAMA_HEAP_LIMIT_BYTES,
      webgpu: { maxBufferSize: Number.MAX_SAFE_INTEGER, shaderF16: true },
    },
    { nCtx },
  );
  const modes: RunMode[] = [];
  if (verdict.cpu.fits) modes.push('cpu');
  if (verdict.webgpu.fits) modes.push('webgpu');
  return modes;
}
