import type { LlmBridge } from './create-bridge.js';
import { LlmBridgeError } from './errors.js';
import type { ChatMessage, CompletionResult, ConstraintOptions, SamplingOptions } from './types.js';

/**
 * A request from the engine's `llm.call` / `llm.embed` (the engine ↔ handler contract).
 * `signal` and `onToken` are passed by engines that support cancellation and streaming.
 */
export type LlmHandlerRequest =
  | ({
      kind: 'call';
      prompt?: string;
      messages?: ChatMessage[];
      system?: string;
      stream?: boolean;
      signal?: AbortSignal;
      onToken?: (text: string) => void;
    } & SamplingOptions &
      ConstraintOptions)
  | { kind: 'embed'; input: string | string[]; signal?: AbortSignal };

/** The handler's reply: a completion, or `{ embedding }` / `{ embeddings }`. */
export type LlmHandlerResponse =
  CompletionResult | { embedding: number[] } | { embeddings: number[][] };

/** The function `set_llm_handler` of `@the-edge-agent/core-wasm` takes. */
export type LlmHandler = (request: LlmHandlerRequest) => Promise<LlmHandlerResponse>;

function messagesOf(req: Extract<LlmHandlerRequest, { kind: 'call' }>): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (req.system) messages.push({ role: 'system', content: req.system });
  if (req.messages?.length) messages.push(...req.messages);
  else if (typeof req.prompt === 'string') messages.push({ role: 'user', content: req.prompt });
  else throw new LlmBridgeError('INVALID_REQUEST', 'llm.call needs `prompt` or `messages`');
  return messages;
}

/**
 * Serves engine requests from a bridge. `llm.call` goes through the model's own chat template
 * (with `system` as the first message); a model without a chat template gets a raw completion
 * of `system` + `prompt`.
 */
export function bridgeHandler(
  bridge: Pick<LlmBridge, 'chat' | 'complete' | 'embed' | 'hasChatTemplate'>,
): LlmHandler {
  return async (req) => {
    if (req.kind === 'embed') {
      if (Array.isArray(req.input))
        return {
          embeddings: await bridge.embed(req.input, {
            ...(req.signal ? { signal: req.signal } : {}),
          }),
        };
      return {
        embedding: await bridge.embed(req.input, { ...(req.signal ? { signal: req.signal } : {}) }),
      };
    }
    if (req.kind !== 'call') {
      throw new LlmBridgeError(
        'INVALID_REQUEST',
        `unknown LLM request kind: ${String((req as { kind?: unknown }).kind)}`,
      );
    }
    const {
      prompt: _prompt,
      messages: _messages,
      system: _system,
      stream: _stream,
      kind: _kind,
      ...rest
    } = req;
    if (!req.messages?.length && typeof req.prompt === 'string' && !bridge.hasChatTemplate()) {
      const prompt = req.system ? `${req.system}\n\n${req.prompt}` : req.prompt;
      return bridge.complete({ ...rest, prompt });
    }
    return bridge.chat({ ...rest, messages: messagesOf(req) });
  };
}
