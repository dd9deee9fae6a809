export { init, isInitialized } from './init.js';
export type { InitInput } from './init.js';
export { version } from './version.js';
export { executeYaml, renderTemplate, validateYaml } from './execute.js';
export { Workflow } from './workflow.js';
export {
  llmCallAsync,
  llmEmbedAsync,
  registerAction,
  setLlmHandler,
  unregisterAction,
} from './llm.js';
export { CoreWasmError, ENGINE_ERROR_CODES, HOST_ERROR_CODES } from './errors.js';
export type { CoreWasmErrorCode, ErrorLocation } from './errors.js';
export { engineLimits } from './limits.js';
export type { EngineLimits } from './instance.js';
export type { DirectLlmOptions } from './llm.js';
export type {
  ActionHandler,
  Checkpoint,
  LlmCallResult,
  LlmHandler,
  LlmMessage,
  LlmRequest,
  LlmResponse,
  LlmUsage,
  RunOptions,
  RunResult,
  ValidationProblem,
  WorkflowEvent,
  WorkflowState,
} from './types.js';
