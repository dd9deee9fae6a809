import { RemoteModelError, remoteAborted } from './remote-model-error.js';
import type { ChatRequest, CompletionResult, FinishReason, TokenUsage, ToolCall } from './types.js';

// OpenAI's chat/completions wire format as `RemoteBridge` reads and writes it: the request body,
// a JSON answer, and a server-sent-event stream of chunks.

interface OpenAiChoice {
  message?: { content?: string | null; tool_calls?: ToolCall[] };
  delta?: {
    content?: string | null;
    tool_calls?: { index: number; id?: string; function?: { name?: string; arguments?: string } }[];
  };
  text?: string;
  finish_reason?: string | null;
}

/** An answer, or one streamed chunk of it. */
export interface OpenAiResponse {
  model?: string;
  choices?: OpenAiChoice[];
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
  data?: { embedding: number[] }[];
}

function finish(reason: string | null | undefined): FinishReason {
  return reason === 'length' ? 'length' : reason === 'tool_calls' ? 'tool_calls' : 'stop';
}

function usageOf(u: OpenAiResponse['usage']): TokenUsage {
  return {
    prompt_tokens: u?.prompt_tokens ?? 0,
    completion_tokens: u?.completion_tokens ?? 0,
    total_tokens: u?.total_tokens ?? (u?.prompt_tokens ?? 0) + (u?.completion_tokens ?? 0),
  };
}

/** The request options that go to the endpoint as they are (OpenAI's names). */
export type WireOptions = Pick<
  ChatRequest,
  | 'max_tokens'
  | 'temperature'
  | 'top_p'
  | 'seed'
  | 'stop'
  | 'response_format'
  | 'tools'
  | 'tool_choice'
  | 'grammar'
>;

const WIRE_KEYS = [
  'max_tokens',
  'temperature',
  'top_p',
  'seed',
  'stop',
  'response_format',
  'tools',
  'tool_choice',
  'grammar',
] as const satisfies ReadonlyArray<keyof WireOptions>;

/** The body's common part: model, stream, and the options the request sets. */
export function wireBody(
  model: string,
  req: WireOptions,
  stream: boolean,
): Record<string, unknown> {
  const b: Record<string, unknown> = { model, stream };
  for (const k of WIRE_KEYS) if (req[k] !== undefined) b[k] = req[k];
  if (stream) b['stream_options'] = { include_usage: true };
  return b;
}

/** The JSON body of an answer (`REMOTE_BAD_RESPONSE` when it is not JSON). */
export async function readJson(res: Response): Promise<OpenAiResponse> {
  try {
    return (await res.json()) as OpenAiResponse;
  } catch (error) {
    throw new RemoteModelError(
      'REMOTE_BAD_RESPONSE',
      `${res.url} did not answer JSON`,
      res.url,
      res.status,
      {
        cause: error,
      },
    );
  }
}

/** A whole (not streamed) answer as a completion; `model` when the answer names none. */
export function completionOf(r: OpenAiResponse, res: Response, model: string): CompletionResult {
  const c = r.choices?.[0];
  if (!c)
    throw new RemoteModelError(
      'REMOTE_BAD_RESPONSE',
      `${res.url} answered no choices`,
      res.url,
      res.status,
    );
  const calls = c.message?.tool_calls;
  return {
    content: c.message?.content ?? c.text ?? '',
    model: r.model ?? model,
    finish_reason: finish(c.finish_reason),
    usage: usageOf(r.usage),
    ...(calls?.length ? { tool_calls: calls } : {}),
  };
}

/**
 * Gathers streamed chunks into one completion: content (each piece also to `onToken`), tool
 * calls by index, the last finish reason, model and usage seen.
 */
export function streamedCompletion(model: string, onToken?: (text: string) => void) {
  let content = '';
  let reason: string | null | undefined;
  let name = model;
  let u: OpenAiResponse['usage'];
  const calls: ToolCall[] = [];
  const add = (chunk: OpenAiResponse) => {
    if (chunk.model) name = chunk.model;
    if (chunk.usage) u = chunk.usage;
    const c = chunk.choices?.[0];
    const text = c?.delta?.content ?? c?.text ?? '';
    if (text) {
      content += text;
      onToken?.(text);
    }
    for (const d of c?.delta?.tool_calls ?? []) {
      const call = (calls[d.index] ??= {
        id: d.id ?? `call_${d.index}`,
        type: 'function',
        function: { name: '', arguments: '' },
      });
      if (d.id) call.id = d.id;
      if (d.function?.name) call.function.name += d.function.name;
      if (d.function?.arguments) call.function.arguments += d.function.arguments;
    }
    if (c?.finish_reason) reason = c.finish_reason;
  };
  const result = (): CompletionResult => ({
    content,
    model: name,
    finish_reason: finish(reason),
    usage: usageOf(u),
    ...(calls.length ? { tool_calls: calls.filter(Boolean) } : {}),
  });
  return { add, result };
}

/** Hands each `data:` line's JSON to `onChunk`; true once `[DONE]` arrived. */
function takeLines(
  buffer: string,
  onChunk: (c: OpenAiResponse) => void,
  bad: (error: unknown) => RemoteModelError,
): { rest: string; done: boolean } {
  let done = false;
  let cut: number;
  while ((cut = buffer.indexOf('\n')) >= 0) {
    const line = buffer.slice(0, cut).trim();
    buffer = buffer.slice(cut + 1);
    if (!line.startsWith('data:')) continue;
    const data = line.slice(5).trim();
    if (data === '[DONE]') {
      done = true;
      continue;
    }
    try {
      onChunk(JSON.parse(data) as OpenAiResponse);
    } catch (error) {
      throw bad(error);
    }
  }
  return { rest: buffer, done };
}

/** Reads a server-sent-event stream of chunks; a stream that ends without `[DONE]` is cut. */
export async function readEvents(
  res: Response,
  url: string,
  onChunk: (c: OpenAiResponse) => void,
  signal?: AbortSignal,
): Promise<void> {
  if (!res.body)
    throw new RemoteModelError('REMOTE_BAD_RESPONSE', `${url} sent no stream`, url, res.status);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const bad = (error: unknown) =>
    new RemoteModelError(
      'REMOTE_BAD_RESPONSE',
      `${url} sent an event that is not JSON`,
      url,
      res.status,
      {
        cause: error,
      },
    );
  let buffer = '';
  let done = false;
  try {
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) break;
      const taken = takeLines(buffer + value, onChunk, bad);
      buffer = taken.rest;
      done ||= taken.done;
    }
  } catch (error) {
    if (error instanceof RemoteModelError) throw error;
    if (signal?.aborted) throw remoteAborted(url, error);
    throw new RemoteModelError(
      'REMOTE_STREAM_CUT',
      `the stream from ${url} broke off: ${String(error)}`,
      url,
      res.status,
      {
        cause: error,
      },
    );
  }
  if (!done)
    throw new RemoteModelError(
      'REMOTE_STREAM_CUT',
      `the stream from ${url} ended before [DONE]`,
      url,
      res.status,
    );
}
