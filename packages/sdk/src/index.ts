// Handle-based API
export { createTea, Tea } from './create-tea.js';
export type { GenerateOptions, ModelBackend, TeaChat, TeaInfo } from './create-tea.js';
export { TeaError } from './errors.js';
export type { TeaErrorCode } from './errors.js';
// The remote model (an OpenAI-compatible endpoint) and workflows' `provider` routing live in
// llm-bridge, the layer that owns a model answering the engine's requests.
export { RemoteModelError } from '@the-edge-agent/llm-bridge';
export type {
  AllowedEndpoint,
  RemoteModelConfig,
  RemoteModelErrorCode,
  RemoteToolCalls,
} from '@the-edge-agent/llm-bridge';
export type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParams,
  ChatCompletionFinishReason,
  ChatCompletionMessageParam,
  ChatCompletions,
  ChatCompletionUsage,
} from './openai-compat.js';
export type { TeaLlmConfig, TeaProgress, TeaProgressPhase } from './config.js';
export type { ModelLoaderWarning } from '@the-edge-agent/model-loader';
export { bundledModelsUrl, loadModelIndex, rankProfiles } from './profiles.js';
export type { Profile, ProfileFit } from './profiles.js';
export { checkFit } from './check-fit.js';
export type { FitResult } from './check-fit.js';
export { probeEnvironment } from './environment.js';
export type { BrowserEnvironment } from './environment.js';

// The product spec's functions and the upstream TEA browser package's names (default handle)
export {
  callLlm,
  chat,
  chatStream,
  clearModelCache,
  deleteCachedModel,
  disposeLlm,
  embed,
  embedText,
  executeLlmYaml,
  getModelCacheStats,
  initLlm,
  initTeaLlm,
  isLlmReady,
  isModelCached,
  listCachedModels,
  loadBundledModel,
} from './legacy.js';
export { initYamlEngine } from './init-yaml-engine.js';
export type { YamlEngineInfo } from './init-yaml-engine.js';
export { runtimeInfo } from './runtime-info.js';
export type { RuntimeInfo } from './runtime-info.js';

// The engine, for workflows without a model or with your own handler
export {
  executeYaml,
  registerAction,
  renderTemplate,
  unregisterAction,
  validateYaml,
  Workflow,
} from '@the-edge-agent/core-wasm';
export type {
  ActionHandler,
  Checkpoint,
  LlmCallResult,
  RunOptions,
  RunResult,
  ValidationProblem,
  WorkflowEvent,
  WorkflowState,
} from '@the-edge-agent/core-wasm';
export type {
  BridgeLogger,
  BridgeInfo,
  ChatMessage,
  ChatTool,
  CompletionResult,
  PromptProgress,
  ResponseFormat,
  TokenUsage,
  ToolCall,
  ToolChoice,
} from '@the-edge-agent/llm-bridge';
export type { CacheStats, CachedModelInfo } from '@the-edge-agent/model-cache';
export type {
  LoadProgress,
  ModelIndex,
  ModelManifest,
  ModelProfile,
  ModelResources,
  RunMode,
} from '@the-edge-agent/model-loader';

// Errors of the layers, so callers can branch on `error.code` with one import.
export { CoreWasmError } from '@the-edge-agent/core-wasm';
export type { CoreWasmErrorCode, InitInput } from '@the-edge-agent/core-wasm';
export { ModelLoaderError } from '@the-edge-agent/model-loader';
export type { ModelLoaderErrorCode } from '@the-edge-agent/model-loader';
export { ModelCacheError } from '@the-edge-agent/model-cache';
export type { ModelCacheErrorCode } from '@the-edge-agent/model-cache';
export {
  ContextExceededError,
  LlmBridgeError,
  ModelTooLargeError,
} from '@the-edge-agent/llm-bridge';
export type {
  ContextFigures,
  LlmBridgeErrorCode,
  ThreadingDecision,
} from '@the-edge-agent/llm-bridge';

// Example workflows (the engine's corpus)
export { exampleActions, exampleWorkflows } from './examples.js';
export type { ExampleWorkflow } from './examples.js';
