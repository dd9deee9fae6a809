import { init, type InitInput, version } from '@the-edge-agent/core-wasm';

/** What `initYamlEngine` reports once the engine is ready. */
export interface YamlEngineInfo {
  /** The workflow engine's version, as reported by its wasm module. */
  engineVersion: string;
}

/**
 * Loads the YAML workflow engine (WebAssembly). Safe to call more than once.
 *
 * @param wasm where to load the engine's `.wasm` from (self-hosting); defaults to the copy
 *   shipped with `@the-edge-agent/core-wasm`.
 * @throws {CoreWasmError} `WASM_INIT_FAILED` when the module cannot be loaded.
 */
export async function initYamlEngine(wasm?: InitInput): Promise<YamlEngineInfo> {
  await init(wasm);
  return { engineVersion: version() };
}
