export { initYamlEngine } from './init-yaml-engine.js';
export type { YamlEngineInfo } from './init-yaml-engine.js';
export { runtimeInfo } from './runtime-info.js';
export type { RuntimeInfo } from './runtime-info.js';

// Errors of the layers, so callers can branch on `error.code` with one import.
export { CoreWasmError } from '@the-edge-agent/core-wasm';
export type { CoreWasmErrorCode, InitInput } from '@the-edge-agent/core-wasm';
export { ModelLoaderError } from '@the-edge-agent/model-loader';
export type { ModelLoaderErrorCode } from '@the-edge-agent/model-loader';
export { ModelCacheError } from '@the-edge-agent/model-cache';
export type { ModelCacheErrorCode } from '@the-edge-agent/model-cache';
export type { ThreadingDecision } from '@the-edge-agent/llm-bridge';
