export { createBridge, DEFAULT_N_BATCH, LlmBridge } from './create-bridge.js';
export type { BridgeLoadProgress, BridgeOptions, LoadOptions } from './create-bridge.js';
export type { LoadPlan } from './load-plan.js';
export { bridgeHandler } from './handler.js';
export type { LlmHandler, LlmHandlerRequest, LlmHandlerResponse } from './handler.js';
export type { LlmBackend } from './backend.js';
// A remote model (an OpenAI-compatible endpoint) in the local bridge's shape, and upstream TEA's
// `provider` / `api_base` routing of engine requests between the two.
export { RemoteBridge } from './remote-bridge.js';
export type { RemoteModelConfig, RemoteToolCalls } from './remote-bridge.js';
export { RemoteModelError } from './remote-model-error.js';
export type { RemoteModelErrorCode } from './remote-model-error.js';
export { routeProviders } from './provider-routing.js';
export type { AllowedEndpoint, ProviderFields, RoutedRequest } from './provider-routing.js';
export type {
  BridgeInfo,
  CallOptions,
  ChatMessage,
  ChatRequest,
  ChatTool,
  CompleteRequest,
  CompletionResult,
  ConstraintOptions,
  FinishReason,
  PromptProgress,
  ResponseFormat,
  SamplingOptions,
  TokenUsage,
  ToolCall,
  ToolChoice,
} from './types.js';
export {
  BridgeAbortError,
  ContextExceededError,
  LlmBridgeError,
  ModelTooLargeError,
} from './errors.js';
export type { ContextFigures, LlmBridgeErrorCode } from './errors.js';
export {
  assertFitsWasmHeap,
  checkModelFit,
  estimateHeap,
  HEAP_RESERVE_BYTES,
  largestFittingContext,
  WLLAMA_COMPAT_HEAP_LIMIT_BYTES,
  WLLAMA_HEAP_LIMIT_BYTES,
} from './fit-rule.js';
export type { FitEnvironment, FitMode, HeapEstimate, ModeFit, ModelNeeds } from './fit-rule.js';
export { probeWasmHeapLimit } from './probe-heap.js';
export type { HeapProbe, MemoryFactory } from './probe-heap.js';
export { DEFAULT_MAX_TOKENS } from './generate.js';
export { schemaToGrammar } from './schema-grammar.js';
// The generic JSON tool-call protocol (tools in a system message, a schema-constrained answer),
// for endpoints whose models have no native tool calling.
export { parseToolAnswer, toolAnswerSchema, toolMessages, toolSystemPrompt } from './tool-calls.js';
export type { BridgeLogger } from './native-log.js';
export type { WebGpuMode } from './webgpu.js';
export { WLLAMA_VERSION } from './wllama-version.js';
export { chooseWllamaBuild, hasRelaxedSimd } from './wllama-build.js';
export type { WllamaBuild, WllamaBuildChoice, WllamaBuildDecision } from './wllama-build.js';
export {
  AUTO_ALL_CORES_UP_TO,
  AUTO_SPARE_CORES,
  autoThreads,
  detectThreading,
  readThreadingEnvironment,
} from './detect-threading.js';
export type { ThreadingDecision, ThreadingEnvironment } from './detect-threading.js';
