import type {
  ChatCompletionChunk,
  ChatCompletionMessage,
  RawCompletionChunk,
  Wllama,
} from '@wllama/wllama';
import { type ContextFigures, ContextExceededError, LlmBridgeError } from './errors.js';
import { jsonObjectGrammar, schemaToGrammar } from './schema-grammar.js';
import { parseToolAnswer, toolMessages, toolSystemPrompt } from './tool-calls.js';
import type {
  ChatRequest,
  CompleteRequest,
  ConstraintOptions,
  CompletionResult,
  FinishReason,
  TokenUsage,
} from './types.js';

/** Default `max_tokens`, as in the engine's `llm.call`. */
export const DEFAULT_MAX_TOKENS = 100;

/** What a generation needs to know about the loaded model. */
export interface GenerationContext {
  /** The model's name, for results. */
  model: string;
  /** The loaded context, in tokens. */
  nCtx: number;
  /** The largest context this model may be loaded with here, for the overflow message. */
  nCtxMax?: number;
  /** Reuse the KV cache of the previous request's common prefix (llama-server's `cache_prompt`). */
  promptCache: boolean;
}

interface Chunk {
  text: string;
  finish: FinishReason | null;
  usage: WllamaUsage | null | undefined;
  /** llama-server's `prompt_progress` (with `return_progress`); the first comes before any decode. */
  progress?: { total: number; cache: number; processed: number } | undefined;
}

/** Usage as llama-server reports it (OpenAI's shape). */
type WllamaUsage = Omit<TokenUsage, 'prompt_tokens_details'> & {
  prompt_tokens_details?: { cached_tokens?: number };
};

/** OpenAI-style sampling fields wllama reads (llama-server semantics; `stop` works for chats too). */
interface WllamaSampling {
  max_tokens: number;
  grammar?: string;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  seed?: number;
  stop?: string[];
  abortSignal: AbortSignal;
  /** Reuse the KV cache of the common prefix with the previous request. */
  cache_prompt: boolean;
  /** Stream `prompt_progress` while the prompt is read: the first one, before any decode, carries its token count. */
  return_progress: true;
}

/** wllama's request parameters; `grammar` as the caller built it (once, at the call's entry). */
function samplingParams(
  req: CompleteRequest | ChatRequest,
  grammar: string | undefined,
  signal: AbortSignal,
  ctx: GenerationContext,
): WllamaSampling {
  const params: WllamaSampling = {
    max_tokens: req.max_tokens ?? DEFAULT_MAX_TOKENS,
    abortSignal: signal,
    cache_prompt: ctx.promptCache,
    return_progress: true,
  };
  if (req.temperature !== undefined) params.temperature = req.temperature;
  if (req.top_p !== undefined) params.top_p = req.top_p;
  if (req.top_k !== undefined) params.top_k = req.top_k;
  if (req.seed !== undefined) params.seed = req.seed;
  if (req.stop !== undefined) params.stop = typeof req.stop === 'string' ? [req.stop] : req.stop;
  if (grammar !== undefined) params.grammar = grammar;
  return params;
}

/** The grammar a request's `grammar` or `response_format` asks for (none for plain text). */
export function grammarOf(req: ConstraintOptions): string | undefined {
  const format = req.response_format;
  if (req.grammar !== undefined && format !== undefined && format.type !== 'text')
    throw new LlmBridgeError(
      'INVALID_REQUEST',
      'give `grammar` or a JSON `response_format`, not both',
    );
  if (req.grammar !== undefined) {
    if (typeof req.grammar !== 'string' || !req.grammar.trim())
      throw new LlmBridgeError('INVALID_REQUEST', '`grammar` must be a non-empty GBNF string');
    return req.grammar;
  }
  if (format === undefined || format.type === 'text') return undefined;
  if (format.type === 'json_object') return jsonObjectGrammar();
  if (format.type === 'json_schema') {
    const schema = (format as { json_schema?: { schema?: unknown } }).json_schema?.schema;
    return schemaToGrammar(schema);
  }
  throw new LlmBridgeError(
    'INVALID_REQUEST',
    `unknown response_format type ${JSON.stringify((format as { type?: unknown }).type)} (text, json_object or json_schema)`,
  );
}

/**
 * Streams one generation from wllama, feeding `onToken`, and assembles the result. Always
 * streams (even without `onToken`) so that an abort is noticed between tokens. The server's first
 * prompt progress, sent after tokenizing and before any decode, carries the prompt's token count:
 * when the prompt and `max_tokens` cannot fit `nCtx` the request is cancelled there and the call
 * fails with `CONTEXT_EXCEEDED` (llama.cpp would otherwise cut the answer off at the context's
 * end, silently).
 */
async function collect(
  ctx: GenerationContext,
  what: string,
  req: CompleteRequest | ChatRequest,
  start: (signal: AbortSignal, onData: (chunk: Chunk) => void) => Promise<void>,
): Promise<CompletionResult> {
  let content = '';
  let finish: FinishReason = 'length';
  let usage: TokenUsage | undefined;
  let overflow: ContextFigures | undefined;
  let checked = false;
  const maxTokens = req.max_tokens ?? DEFAULT_MAX_TOKENS;
  const figures = (promptTokens: number): ContextFigures => ({
    promptTokens,
    maxTokens,
    nCtx: ctx.nCtx,
    ...(ctx.nCtxMax !== undefined ? { nCtxMax: ctx.nCtxMax } : {}),
  });
  // Our own signal, so the overflow check can cancel a request the caller did not.
  const guard = new AbortController();
  const forward = () => guard.abort(req.signal?.reason);
  if (req.signal?.aborted) forward();
  req.signal?.addEventListener('abort', forward, { once: true });
  try {
    await start(guard.signal, (chunk) => {
      if (overflow) return;
      const p = chunk.progress;
      if (p) {
        if (!checked) {
          checked = true;
          if (p.total + maxTokens > ctx.nCtx) {
            overflow = figures(p.total);
            guard.abort();
            return;
          }
        }
        try {
          req.onPromptProgress?.({ processed: p.processed, total: p.total, cached: p.cache });
        } catch (error) {
          // A progress display that fails must not cost the answer; it is reported, not hidden.
          console.error('[tea] onPromptProgress threw:', error);
        }
        return;
      }
      if (chunk.text) {
        content += chunk.text;
        req.onToken?.(chunk.text);
      }
      if (chunk.finish) finish = chunk.finish;
      if (chunk.usage) usage = pickUsage(chunk.usage);
    });
  } catch (error) {
    if (overflow) throw new ContextExceededError(what, overflow, { cause: error });
    // A prompt longer than the whole context: llama-server refuses it before reading it.
    const text = error instanceof Error ? error.message : String(error);
    const tooLong = /request \((\d+) tokens\) exceeds the available context size/.exec(text);
    if (tooLong)
      throw new ContextExceededError(what, figures(Number(tooLong[1])), { cause: error });
    throw error;
  } finally {
    req.signal?.removeEventListener('abort', forward);
  }
  if (overflow) throw new ContextExceededError(what, overflow);
  return {
    content,
    model: ctx.model,
    finish_reason: finish,
    usage: usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
  };
}

function finishOf(reason: string | null | undefined): FinishReason | null {
  if (!reason) return null;
  return reason === 'length' ? 'length' : 'stop';
}

function pickUsage(u: WllamaUsage): TokenUsage {
  const cached = u.prompt_tokens_details?.cached_tokens;
  return {
    prompt_tokens: u.prompt_tokens,
    completion_tokens: u.completion_tokens,
    total_tokens: u.total_tokens ?? u.prompt_tokens + u.completion_tokens,
    ...(typeof cached === 'number' ? { prompt_tokens_details: { cached_tokens: cached } } : {}),
  };
}

/** llama-server's `prompt_progress` of a chunk, if it has one. */
function progressOf(c: { prompt_progress?: Chunk['progress'] }): Chunk['progress'] {
  return c.prompt_progress;
}

// Chat streams carry token usage only when asked (OpenAI semantics; wllama's types omit it).
const CHAT_STREAM_USAGE = { stream_options: { include_usage: true } };

/** Raw completion: the prompt goes to the model as is. */
export function runComplete(
  wllama: Wllama,
  ctx: GenerationContext,
  req: CompleteRequest,
  grammar: string | undefined,
): Promise<CompletionResult> {
  return collect(ctx, 'the completion', req, (signal, onData) =>
    wllama.createCompletion({
      ...samplingParams(req, grammar, signal, ctx),
      prompt: req.prompt,
      stream: true,
      onData: (c: RawCompletionChunk) =>
        onData({
          text: c.choices[0]?.text ?? '',
          finish: finishOf(c.choices[0]?.finish_reason),
          usage: c.usage,
          progress: progressOf(c),
        }),
    }),
  );
}

/** Whether a request uses tools (with `tool_choice: 'none'` the model answers as text). */
export function usesTools(req: ChatRequest): boolean {
  return !!req.tools?.length && req.tool_choice !== 'none';
}

/**
 * Chat completion, formatted by the model's own chat template (inside llama.cpp). `grammar` is
 * the request's constraint, built at the call's entry: for a request with tools, the grammar of
 * its tool answers. With `overflow: 'drop-oldest'`, a conversation that does not fit the context
 * loses its oldest turns (never the system message or the last user message) until it does.
 */
export async function runChat(
  wllama: Wllama,
  ctx: GenerationContext,
  req: ChatRequest,
  grammar: string | undefined,
): Promise<CompletionResult> {
  if (req.overflow !== 'drop-oldest') return chatOnce(wllama, ctx, req, grammar);
  let messages = req.messages;
  for (;;) {
    try {
      const result = await chatOnce(wllama, ctx, { ...req, messages }, grammar);
      const dropped = req.messages.length - messages.length;
      return dropped ? { ...result, dropped_messages: dropped } : result;
    } catch (error) {
      // Each try costs a tokenization, not a prompt evaluation: the check runs before any decode.
      const shorter = error instanceof ContextExceededError ? dropOldestTurn(messages) : undefined;
      if (!shorter) throw error;
      messages = shorter;
    }
  }
}

/**
 * The conversation without its oldest turn: from the first message after the system message up
 * to the next user message (a user turn with its answer, or an assistant's tool calls with their
 * results), so roles still alternate. Undefined when only the last user turn is left.
 */
export function dropOldestTurn(
  messages: ChatRequest['messages'],
): ChatRequest['messages'] | undefined {
  const first = messages.findIndex((m) => m.role !== 'system');
  if (first < 0) return undefined;
  const next = messages.findIndex((m, i) => i > first && m.role === 'user');
  if (next < 0) return undefined;
  return [...messages.slice(0, first), ...messages.slice(next)];
}

async function chatOnce(
  wllama: Wllama,
  ctx: GenerationContext,
  req: ChatRequest,
  grammar: string | undefined,
): Promise<CompletionResult> {
  if (!usesTools(req)) {
    const history = req.messages.some((m) => m.role === 'tool' || m.tool_calls?.length);
    return runPlainChat(
      wllama,
      ctx,
      { ...req, messages: history ? toolMessages(req.messages, undefined) : req.messages },
      grammar,
    );
  }
  const tools = req.tools ?? [];
  const { onToken: _streamed, tools: _tools, tool_choice: choice, ...rest } = req;
  const result = await runPlainChat(
    wllama,
    ctx,
    { ...rest, messages: toolMessages(req.messages, toolSystemPrompt(tools, choice)) },
    grammar,
  );
  const { content, toolCalls } = parseToolAnswer(result.content);
  if (toolCalls.length === 0) return { ...result, content };
  // A call cut off by max_tokens keeps `length`, as OpenAI reports it: it must not be run.
  const finish = result.finish_reason === 'length' ? 'length' : 'tool_calls';
  return { ...result, content, finish_reason: finish, tool_calls: toolCalls };
}

function runPlainChat(
  wllama: Wllama,
  ctx: GenerationContext,
  req: ChatRequest,
  grammar: string | undefined,
): Promise<CompletionResult> {
  return collect(ctx, 'the chat', req, (signal, onData) =>
    wllama.createChatCompletion({
      ...samplingParams(req, grammar, signal, ctx),
      ...CHAT_STREAM_USAGE,
      messages: req.messages as ChatCompletionMessage[],
      stream: true,
      onData: (c: ChatCompletionChunk) =>
        onData({
          text: c.choices[0]?.delta?.content ?? '',
          finish: finishOf(c.choices[0]?.finish_reason),
          usage: c.usage,
          progress: progressOf(c),
        }),
    }),
  );
}
