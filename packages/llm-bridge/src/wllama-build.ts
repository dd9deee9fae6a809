/**
 * Which of the wllama builds this package ships runs a load. Decided once per load, before the
 * model is read, beside the GPU decision (create-bridge.ts):
 *
 * - `cpu-relaxed-simd`: compiled from source (native/build.sh) with ggml's WebAssembly kernels,
 *   this project's repacked GEMM for Q4_K/Q6_K, and relaxed SIMD dot products. Chromium 114+.
 * - `cpu-simd128`: the same without relaxed SIMD, for browsers that lack it.
 * - `npm`: wllama's npm build (with this package's 16 GiB patch): the only one with WebGPU, since
 *   the from-source build has no Dawn. Used whenever WebGPU offload was chosen; on the CPU it runs
 *   ggml's generic kernels (the build this package shipped before the CPU build).
 * - `compat`: wllama's compat build (wasm32, 4 GiB), when the caller supplied it and the browser
 *   lacks JSPI.
 */
export type WllamaBuild = 'cpu-relaxed-simd' | 'cpu-simd128' | 'npm' | 'compat';

/** What the caller may ask for: `'auto'` (default) or one build. */
export type WllamaBuildChoice = 'auto' | WllamaBuild;

/**
 * A module whose one function uses `i32x4.relaxed_dot_i8x16_i7x16_add_s`: it validates only where
 * relaxed SIMD is on (Chromium 114+, Node 22+).
 */
export const RELAXED_SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 61, 1, 59, 0, 253, 12, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 253, 147, 2, 11,
]);

/** Whether this browser runs relaxed SIMD (feature detection, no instantiation). */
export function hasRelaxedSimd(): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(RELAXED_SIMD_PROBE);
  } catch {
    return false;
  }
}

export interface WllamaBuildDecision {
  build: WllamaBuild;
  /** Why, in words (reported by `info()`). */
  reason: string;
}

/**
 * The build for one load.
 * @throws {RangeError} when `requested` names a build that cannot run this load (a CPU build
 *   with WebGPU offload, WebGPU without offload, compat without compat files).
 */
export function chooseWllamaBuild(env: {
  requested?: WllamaBuildChoice | undefined;
  gpuOffload: boolean;
  /** The compat build was supplied and the browser lacks JSPI. */
  compat: boolean;
  relaxedSimd: boolean;
}): WllamaBuildDecision {
  const requested = env.requested ?? 'auto';
  if (requested !== 'auto') {
    const cpu = requested === 'cpu-relaxed-simd' || requested === 'cpu-simd128';
    if (cpu && env.gpuOffload)
      throw new RangeError(
        `wllamaBuild: '${requested}' has no WebGPU; use webgpu: 'off' with it, or wllamaBuild: 'npm'`,
      );
    if (requested === 'cpu-relaxed-simd' && !env.relaxedSimd)
      throw new RangeError(
        "wllamaBuild: 'cpu-relaxed-simd' needs relaxed SIMD, which this browser lacks; use 'cpu-simd128'",
      );
    if (requested === 'compat' && !env.compat)
      throw new RangeError(
        "wllamaBuild: 'compat' needs the compat option and a browser without JSPI",
      );
    return { build: requested, reason: `asked for (wllamaBuild: '${requested}')` };
  }
  if (env.compat)
    return { build: 'compat', reason: 'this browser lacks JSPI: the compat build (wasm32, 4 GiB)' };
  if (env.gpuOffload)
    return { build: 'npm', reason: "WebGPU offload: wllama's npm build (the one with WebGPU)" };
  return env.relaxedSimd
    ? { build: 'cpu-relaxed-simd', reason: 'CPU only, relaxed SIMD available' }
    : { build: 'cpu-simd128', reason: 'CPU only, no relaxed SIMD in this browser' };
}
