import { version as wasmVersion } from './wasm-glue.js';
import { assertInitialized } from './init.js';

/**
 * The engine's version, as reported by the wasm module itself.
 *
 * @throws {CoreWasmError} `NOT_INITIALIZED` unless `init()` has completed.
 */
export function version(): string {
  assertInitialized();
  return wasmVersion();
}
