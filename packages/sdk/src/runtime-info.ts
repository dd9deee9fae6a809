import { version } from '@the-edge-agent/core-wasm';
import { detectThreading, type ThreadingDecision } from '@the-edge-agent/llm-bridge';

/** A snapshot of what this page can run, for diagnostics and UIs. */
export interface RuntimeInfo {
  /** The workflow engine's version (needs `initYamlEngine()` first). */
  engineVersion: string;
  /** Whether inference can use several threads here, and why. */
  threading: ThreadingDecision;
}

/**
 * Reports the engine version and the threading mode this page allows.
 *
 * @param threads requested thread count, `'auto'` by default.
 * @throws {CoreWasmError} `NOT_INITIALIZED` unless `initYamlEngine()` has completed.
 */
export function runtimeInfo(threads: 'auto' | number = 'auto'): RuntimeInfo {
  return { engineVersion: version(), threading: detectThreading(threads) };
}
