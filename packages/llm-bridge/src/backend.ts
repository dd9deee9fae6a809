import type { LlmBridge } from './create-bridge.js';

/**
 * A model answering requests, local or remote: what `LlmBridge` (wllama) and `RemoteBridge` (an
 * OpenAI-compatible endpoint) both provide, and what `bridgeHandler` and a caller's handle need.
 */
export type LlmBackend = Pick<
  LlmBridge,
  'chat' | 'complete' | 'embed' | 'hasChatTemplate' | 'info' | 'unload'
>;
