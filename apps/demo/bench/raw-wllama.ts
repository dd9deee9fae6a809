// Raw wllama on the build the sdk runs CPU-only in this browser: llm-bridge's CPU build compiled
// from source (relaxed SIMD here; vite.config.ts's bench aliases point at llm-bridge's files), so
// that sdk/raw measures the sdk's own cost, not a difference between builds.
import { Wllama as Wllama16 } from 'wllama-16g';
import cpuWasm from 'wllama-cpu-relaxed-wasm?url';
import { WLLAMA_CPU_GLUE } from 'wllama-cpu-glue';

type Config = ConstructorParameters<typeof Wllama16>[1];

export function rawCpuWllama(config: Config = {}) {
  return new Wllama16({ default: cpuWasm, 'default.js': WLLAMA_CPU_GLUE } as never, {
    ...config,
    // The CPU build's llama.cpp differs from the one wllama's JavaScript was released with.
    skipVersionCheck: true,
  });
}
