import type {
  ChatMessage,
  ChatRequest,
  ChatTool,
  CompletionResult,
  LlmBridge,
  ResponseFormat,
  ToolCall,
  ToolChoice,
} from '@the-edge-agent/llm-bridge';

// `chat.completions.create` in OpenAI's shape (what WebLLM and the OpenAI SDK give), on a local
// model: `chat.completion` objects, and with `stream: true` an async iterator of
// `chat.completion.chunk` objects. Structured output and tools go through the bridge's
// constrained decoding.

/** A message of the conversation (OpenAI's `ChatCompletionMessageParam`). */
export type ChatCompletionMessageParam =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: ToolCall[] }
  | { role: 'tool'; content: string; tool_call_id: string };

/** The request (`model` is accepted and ignored: the handle's model answers). */
export interface ChatCompletionCreateParams {
  messages: ChatCompletionMessageParam[];
  model?: string;
  stream?: boolean;
  response_format?: ResponseFormat;
  tools?: ChatTool[];
  tool_choice?: ToolChoice;
  max_tokens?: number;
  /** OpenAI's newer name for `max_tokens`. */
  max_completion_tokens?: number;
  temperature?: number;
  top_p?: number;
  stop?: string | string[];
  seed?: number;
  signal?: AbortSignal;
}

export type ChatCompletionFinishReason = 'stop' | 'length' | 'tool_calls';

export interface ChatCompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** A whole answer (`object: 'chat.completion'`). */
export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: [
    {
      index: 0;
      message: { role: 'assistant'; content: string | null; tool_calls?: ToolCall[] };
      finish_reason: ChatCompletionFinishReason;
      logprobs: null;
    },
  ];
  usage: ChatCompletionUsage;
}

/** One streamed piece (`object: 'chat.completion.chunk'`). */
export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: [
    {
      index: 0;
      delta: {
        role?: 'assistant';
        content?: string;
        tool_calls?: (ToolCall & { index: number })[];
      };
      finish_reason: ChatCompletionFinishReason | null;
      logprobs: null;
    },
  ];
  /** On the last chunk. */
  usage?: ChatCompletionUsage;
}

/** `create` with `stream: true` resolves to an async iterator of chunks. */
export interface ChatCompletions {
  create(
    params: ChatCompletionCreateParams & { stream: true },
  ): Promise<AsyncIterableIterator<ChatCompletionChunk>>;
  create(params: ChatCompletionCreateParams & { stream?: false }): Promise<ChatCompletion>;
  create(
    params: ChatCompletionCreateParams,
  ): Promise<ChatCompletion | AsyncIterableIterator<ChatCompletionChunk>>;
}

let sequence = 0;
const newId = () => `chatcmpl-${Date.now().toString(36)}${(++sequence).toString(36)}`;

function request(params: ChatCompletionCreateParams, signal: AbortSignal | undefined): ChatRequest {
  if (!params || !Array.isArray(params.messages) || params.messages.length === 0)
    throw new TypeError('chat.completions.create needs a non-empty `messages` array');
  const r: ChatRequest = { messages: params.messages as ChatMessage[] };
  const maxTokens = params.max_completion_tokens ?? params.max_tokens;
  if (maxTokens !== undefined) r.max_tokens = maxTokens;
  if (params.temperature !== undefined) r.temperature = params.temperature;
  if (params.top_p !== undefined) r.top_p = params.top_p;
  if (params.stop !== undefined) r.stop = params.stop;
  if (params.seed !== undefined) r.seed = params.seed;
  if (params.response_format !== undefined) r.response_format = params.response_format;
  if (params.tools !== undefined) r.tools = params.tools;
  if (params.tool_choice !== undefined) r.tool_choice = params.tool_choice;
  if (signal) r.signal = signal;
  return r;
}

function completion(id: string, created: number, result: CompletionResult): ChatCompletion {
  const calls = result.tool_calls?.length ? result.tool_calls : undefined;
  return {
    id,
    object: 'chat.completion',
    created,
    model: result.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: calls ? null : result.content,
          ...(calls ? { tool_calls: calls } : {}),
        },
        finish_reason: result.finish_reason,
        logprobs: null,
      },
    ],
    usage: { ...result.usage },
  };
}

/** Makes the chunks of one streamed answer (same id, creation time and, by default, model). */
function chunkMaker(id: string, created: number, model: string) {
  return (
    delta: ChatCompletionChunk['choices'][0]['delta'],
    finish: ChatCompletionFinishReason | null = null,
    name = model,
  ): ChatCompletionChunk => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model: name,
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
  });
}

/**
 * An async iterator over the chunks `push`ed to it, which ends after `end()` or throws what
 * `fail()` got once the chunks before it were read. `finish` runs when the iterator ends;
 * `cancel` when the consumer stops it before the generation ended.
 */
function chunkQueue(finish: () => void, cancel: () => void) {
  const queue: ChatCompletionChunk[] = [];
  let wake: (() => void) | undefined;
  let done = false;
  let failure: unknown;
  const settle = () => {
    done = true;
    wake?.();
  };
  const iterator: AsyncIterableIterator<ChatCompletionChunk> = {
    async next(): Promise<IteratorResult<ChatCompletionChunk>> {
      for (;;) {
        const next = queue.shift();
        if (next) return { value: next, done: false };
        if (failure !== undefined) {
          finish();
          const error = failure;
          failure = undefined;
          throw error;
        }
        if (done) {
          finish();
          return { value: undefined, done: true };
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    },
    // A consumer that stops early (`break`) stops the generation.
    async return(): Promise<IteratorResult<ChatCompletionChunk>> {
      if (!done) cancel();
      done = true;
      queue.length = 0;
      failure = undefined;
      finish();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  const push = (c: ChatCompletionChunk) => {
    queue.push(c);
    wake?.();
  };
  const fail = (error: unknown) => {
    failure = error;
    settle();
  };
  return { iterator, push, end: settle, fail };
}

/** Streams one chat as chunks: content deltas as the model writes them, then the last chunk. */
function stream(
  bridge: Pick<LlmBridge, 'chat'>,
  params: ChatCompletionCreateParams,
  model: string,
): AsyncIterableIterator<ChatCompletionChunk> {
  const chunk = chunkMaker(newId(), Math.floor(Date.now() / 1000), model);
  const stop = new AbortController();
  const onUserAbort = () => stop.abort(params.signal?.reason);
  if (params.signal?.aborted) stop.abort(params.signal.reason);
  params.signal?.addEventListener('abort', onUserAbort, { once: true });
  const chunks = chunkQueue(
    () => params.signal?.removeEventListener('abort', onUserAbort),
    () => stop.abort(new DOMException('the stream was closed', 'AbortError')),
  );
  chunks.push(chunk({ role: 'assistant', content: '' }));
  const req = request(params, stop.signal);
  req.onToken = (text) => chunks.push(chunk({ content: text }));
  void bridge.chat(req).then((result) => {
    const calls = result.tool_calls?.map((c, index) => ({ ...c, index }));
    if (calls?.length) chunks.push(chunk({ tool_calls: calls }, null, result.model));
    chunks.push({ ...chunk({}, result.finish_reason, result.model), usage: { ...result.usage } });
    chunks.end();
  }, chunks.fail);
  return chunks.iterator;
}

/** `chat.completions` over a bridge; `live` throws when the handle was disposed. */
export function chatCompletions(
  bridge: Pick<LlmBridge, 'chat'>,
  model: () => string,
  live: () => void,
): ChatCompletions {
  return {
    async create(params: ChatCompletionCreateParams) {
      live();
      if (params?.stream === true) {
        request(params, undefined); // a bad request fails here, not on the first chunk
        return stream(bridge, params, model());
      }
      const id = newId();
      const created = Math.floor(Date.now() / 1000);
      return completion(id, created, await bridge.chat(request(params, params?.signal)));
    },
  } as ChatCompletions;
}
