import * as wasm from '../wasm/tea_core.js';
import { CoreWasmError, toCoreWasmError } from './errors.js';
import { assertInitialized } from './init.js';
import type { ActionHandler, LlmCallResult, LlmHandler, LlmRequest } from './types.js';

/** Rejects as soon as `signal` aborts, so a slow handler cannot hold a cancelled run. */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () =>
      reject(new CoreWasmError('ABORTED', 'the run was aborted', { cause: signal.reason }));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Registers the function that serves `llm.call` / `llm.embed` (`null` removes it). A run's
 * AbortSignal reaches the handler as `request.signal`, and the engine stops waiting for the
 * handler as soon as it aborts.
 */
export function setLlmHandler(handler: LlmHandler | null): void {
  assertInitialized();
  if (handler === null) return wasm.set_llm_handler(null);
  if (typeof handler !== 'function')
    throw new CoreWasmError('INVALID_ARGUMENT', 'setLlmHandler needs a function');
  wasm.set_llm_handler((request: LlmRequest) =>
    raceAbort(
      Promise.resolve().then(() => handler(request)),
      request.signal,
    ),
  );
}

/** Registers an async action that workflows call with `uses: name` (also `lua.eval`, `prolog.query`). */
export function registerAction(name: string, handler: ActionHandler): void {
  assertInitialized();
  if (typeof handler !== 'function')
    throw new CoreWasmError('INVALID_ARGUMENT', `registerAction('${name}') needs a function`);
  wasm.register_action(name, (params: Record<string, unknown>, state: Record<string, unknown>) =>
    Promise.resolve().then(() => handler(params, state)),
  );
}

/** Removes a registered action. */
export function unregisterAction(name: string): void {
  assertInitialized();
  wasm.unregister_action(name);
}

/** Calls the LLM handler as `llm.call` would (default `max_tokens` 100). */
export async function llmCallAsync(
  params: Omit<Extract<LlmRequest, { kind: 'call' }>, 'kind'>,
): Promise<LlmCallResult> {
  assertInitialized();
  try {
    return (await wasm.llm_call_async(params)) as LlmCallResult;
  } catch (error) {
    throw toCoreWasmError(error);
  }
}

/** Calls the LLM handler for an embedding, as `llm.embed` would. */
export async function llmEmbedAsync(params: {
  input: string | string[];
  signal?: AbortSignal;
}): Promise<{ embedding?: number[]; embeddings?: number[][] }> {
  assertInitialized();
  try {
    return (await wasm.llm_embed_async(params)) as {
      embedding?: number[];
      embeddings?: number[][];
    };
  } catch (error) {
    throw toCoreWasmError(error);
  }
}
