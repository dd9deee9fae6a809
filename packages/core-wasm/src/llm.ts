import * as glue from './wasm-glue.js';
import { CoreWasmError } from './errors.js';
import { call, engineFacts, unwrap } from './instance.js';
import { toJsonText, typeName } from './json-boundary.js';
import { raceAbort } from './race-abort.js';
import { defaultLlmHandler } from './registry.js';
import type { LlmCallResult, LlmHandler, LlmRequest } from './types.js';

export { registerAction, setLlmHandler, unregisterAction } from './registry.js';

/** Options of a direct LLM call. */
export interface DirectLlmOptions {
  /** Serves this call instead of the page's default handler (`setLlmHandler`). */
  llmHandler?: LlmHandler;
}

async function direct(
  kind: 'call' | 'embed',
  params: unknown,
  options: DirectLlmOptions | undefined,
): Promise<unknown> {
  const { limits } = engineFacts();
  if (typeof params !== 'object' || params === null || Array.isArray(params))
    throw new CoreWasmError(
      'INVALID_ARGUMENT',
      `llm parameters must be an object, got ${typeName(params)}`,
    );
  const { signal, onToken, ...rest } = params as {
    signal?: AbortSignal;
    onToken?: (t: string) => void;
  } & Record<string, unknown>;
  const checked = unwrap<{ value: Record<string, unknown> }>(
    call(() => glue.llm_request(kind, toJsonText(rest, 'the llm parameters', limits)), {
      what: 'checking llm parameters',
    }),
  ).value;
  const handler = options?.llmHandler ?? defaultLlmHandler();
  if (!handler)
    throw new CoreWasmError(
      'LLM_HANDLER_MISSING',
      'no LLM handler: pass { llmHandler }, or call setLlmHandler(fn) (the sdk does it for you)',
    );
  const request = { ...checked, kind } as LlmRequest & Record<string, unknown>;
  if (signal) request.signal = signal;
  if (onToken) request['onToken'] = onToken;
  if (signal?.aborted)
    throw new CoreWasmError('ABORTED', 'the call was aborted', { cause: signal.reason });
  let reply: unknown;
  try {
    reply = await raceAbort(
      Promise.resolve().then(() => handler(request)),
      signal,
      'the call was aborted',
    );
  } catch (error) {
    if (error instanceof CoreWasmError) throw error;
    const e = error as { name?: unknown; message?: unknown; code?: unknown };
    throw new CoreWasmError(
      e?.name === 'AbortError' ? 'ABORTED' : 'ACTION_FAILED',
      typeof e?.message === 'string' ? e.message : String(error),
      { cause: error },
    );
  }
  const text = toJsonText(reply ?? null, "the LLM handler's reply", limits);
  return unwrap<{ value: unknown }>(
    call(() => glue.llm_reply(kind, text), { what: "checking the LLM handler's reply" }),
  ).value;
}

/**
 * Calls the LLM handler as `llm.call` would (same checks, default `max_tokens` 100, same result
 * shape). `options.llmHandler` serves this call instead of the default handler.
 * @throws {CoreWasmError} `VALIDATION` for a bad parameter, `LLM_INVALID_REPLY` for a reply
 *   without a string `content`, `LLM_HANDLER_MISSING`, `ABORTED`, `ACTION_FAILED`.
 */
export async function llmCallAsync(
  params: Omit<Extract<LlmRequest, { kind: 'call' }>, 'kind'>,
  options?: DirectLlmOptions,
): Promise<LlmCallResult> {
  return (await direct('call', params, options)) as LlmCallResult;
}

/** Calls the LLM handler for an embedding, as `llm.embed` would. */
export async function llmEmbedAsync(
  params: { input: string | string[]; signal?: AbortSignal },
  options?: DirectLlmOptions,
): Promise<{ embedding?: number[]; embeddings?: number[][] }> {
  return (await direct('embed', params, options)) as {
    embedding?: number[];
    embeddings?: number[][];
  };
}
