import type {
  ChatCompletionChunk,
  ChatCompletionMessage,
  RawCompletionChunk,
  Wllama,
} from '@wllama/wllama';
import { LlmBridgeError } from './errors.js';
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

interface Chunk {
  text: string;
  finish: FinishReason | null;
  usage: TokenUsage | null | undefined;
}

/** OpenAI-style sampling fields wllama reads (llama-server semantics; `stop` works for chats too). */
interface WllamaSampling {
  max_tokens: number;
  grammar?: string;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  seed?: number;
  stop?: string[];
  abortSignal?: AbortSignal;
}

/** wllama's sampling parameters; `grammar` as the caller built it (once, at the call's entry). */
function samplingParams(
  req: CompleteRequest | ChatRequest,
  grammar: string | undefined,
): WllamaSampling {
  const params: WllamaSampling = { max_tokens: req.max_tokens ?? DEFAULT_MAX_TOKENS };
  if (req.temperature !== undefined) params.temperature = req.temperature;
  if (req.top_p !== undefined) params.top_p = req.top_p;
  if (req.top_k !== undefined) params.top_k = req.top_k;
  if (req.seed !== undefined) params.seed = req.seed;
  if (req.stop !== undefined) params.stop = typeof req.stop === 'string' ? [req.stop] : req.stop;
  if (req.signal) params.abortSignal = req.signal;
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
 * streams (even without `onToken`) so that an abort is noticed between tokens.
 */
async function collect(
  model: string,
  start: (onData: (chunk: Chunk) => void) => Promise<void>,
  onToken: ((text: string) => void) | undefined,
): Promise<CompletionResult> {
  let content = '';
  let finish: FinishReason = 'length';
  let usage: TokenUsage | undefined;
  await start((chunk) => {
    if (chunk.text) {
      content += chunk.text;
      onToken?.(chunk.text);
    }
    if (chunk.finish) finish = chunk.finish;
    if (chunk.usage) usage = pickUsage(chunk.usage);
  });
  return {
    content,
    model,
    finish_reason: finish,
    usage: usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
  };
}

function finishOf(reason: string | null | undefined): FinishReason | null {
  if (!reason) return null;
  return reason === 'length' ? 'length' : 'stop';
}

function pickUsage(u: TokenUsage): TokenUsage {
  return {
    prompt_tokens: u.prompt_tokens,
    completion_tokens: u.completion_tokens,
    total_tokens: u.total_tokens ?? u.prompt_tokens + u.completion_tokens,
  };
}

// Chat streams carry token usage only when asked (OpenAI semantics; wllama's types omit it).
const CHAT_STREAM_USAGE = { stream_options: { include_usage: true } };

/** Raw completion: the prompt goes to the model as is. */
export function runComplete(
  wllama: Wllama,
  model: string,
  req: CompleteRequest,
  grammar: string | undefined,
): Promise<CompletionResult> {
  return collect(
    model,
    (onData) =>
      wllama.createCompletion({
        ...samplingParams(req, grammar),
        prompt: req.prompt,
        stream: true,
        onData: (c: RawCompletionChunk) =>
          onData({
            text: c.choices[0]?.text ?? '',
            finish: finishOf(c.choices[0]?.finish_reason),
            usage: c.usage,
          }),
      }),
    req.onToken,
  );
}

/** Whether a request uses tools (with `tool_choice: 'none'` the model answers as text). */
export function usesTools(req: ChatRequest): boolean {
  return !!req.tools?.length && req.tool_choice !== 'none';
}

/**
 * Chat completion, formatted by the model's own chat template (inside llama.cpp). `grammar` is
 * the request's constraint, built at the call's entry: for a request with tools, the grammar of
 * its tool answers.
 */
export async function runChat(
  wllama: Wllama,
  model: string,
  req: ChatRequest,
  grammar: string | undefined,
): Promise<CompletionResult> {
  if (!usesTools(req)) {
    const history = req.messages.some((m) => m.role === 'tool' || m.tool_calls?.length);
    return runPlainChat(
      wllama,
      model,
      { ...req, messages: history ? toolMessages(req.messages, undefined) : req.messages },
      grammar,
    );
  }
  const tools = req.tools ?? [];
  const { onToken: _streamed, tools: _tools, tool_choice: choice, ...rest } = req;
  const result = await runPlainChat(
    wllama,
    model,
    { ...rest, messages: toolMessages(req.messages, toolSystemPrompt(tools, choice)) },
    grammar,
  );
  const { content, toolCalls } = parseToolAnswer(result.content);
  if (toolCalls.length === 0) return { ...result, content };
  return { ...result, content, finish_reason: 'tool_calls', tool_calls: toolCalls };
}

function runPlainChat(
  wllama: Wllama,
  model: string,
  req: ChatRequest,
  grammar: string | undefined,
): Promise<CompletionResult> {
  return collect(
    model,
    (onData) =>
      wllama.createChatCompletion({
        ...samplingParams(req, grammar),
        ...CHAT_STREAM_USAGE,
        messages: req.messages as ChatCompletionMessage[],
        stream: true,
        onData: (c: ChatCompletionChunk) =>
          onData({
            text: c.choices[0]?.delta?.content ?? '',
            finish: finishOf(c.choices[0]?.finish_reason),
            usage: c.usage,
          }),
      }),
    req.onToken,
  );
}
