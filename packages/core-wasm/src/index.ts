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
export { CoreWasmError } from './errors.js';
export type { CoreWasmErrorCode, ErrorLocation } from './errors.js';
export type {
  ActionHandler,
  LlmCallResult,
  LlmHandler,
  LlmMessage,
  LlmRequest,
  LlmResponse,
  LlmUsage,
  RunOptions,
  ValidationProblem,
  WorkflowEvent,
  WorkflowState,
} from './types.js';
