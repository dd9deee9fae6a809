import type { LlmBackend } from './backend.js';
import {
  completionOf,
  readEvents,
  readJson,
  streamedCompletion,
  wireBody,
  type WireOptions,
} from './openai-wire.js';
import { postJson } from './remote-post.js';
import { parseToolAnswer, toolAnswerSchema, toolMessages, toolSystemPrompt } from './tool-calls.js';
import type {
  BridgeInfo,
  CallOptions,
  ChatRequest,
  CompleteRequest,
  CompletionResult,
} from './types.js';

// A model behind an OpenAI-compatible HTTP endpoint (llama.cpp's `llama-server`, Ollama, vLLM, a
// hosted API) with the local bridge's shape, so that a handle runs workflows, chats and
// `chat.completions.create` on it unchanged: for a device that cannot hold the model, or by
// choice. Streams with server-sent events, aborts with the call's signal, passes
// `response_format` and tools through. The key never appears in errors.

/**
 * How tools reach the endpoint: `native` sends OpenAI's `tools` / `tool_choice` (the model's own
 * tool format); `json` uses the sdk's generic protocol (the tools in a system message, the answer
 * constrained by a `json_schema` response format), for models or servers without tool calling.
 */
export type RemoteToolCalls = 'native' | 'json';

/** Where the endpoint is and how to call it. */
export interface RemoteModelConfig {
  /** The API's base URL, e.g. `http://127.0.0.1:8080/v1` or `https://api.openai.com/v1`. */
  apiBase: string | URL;
  /** The model name the endpoint serves. */
  model: string;
  /** Sent as `Authorization: Bearer …`; never part of an error message or event. */
  apiKey?: string;
  /** Retries of a 429 / 503 answer (default 2), waiting for its `Retry-After` (at most 30 s). */
  maxRetries?: number;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** How tools are sent (default `native`). */
  toolCalls?: RemoteToolCalls;
}

/** What `info()` reports for a remote model (no local runtime figures). */
function remoteInfo(model: string): BridgeInfo {
  return {
    architecture: 'remote',
    name: model,
    nCtx: 0,
    nCtxTrain: 0,
    nCtxMax: 0,
    nEmbd: 0,
    nLayer: 0,
    threads: 0,
    multiThread: false,
    threadsRequested: 0,
    threadingReason: 'remote: the endpoint runs the model',
    webgpu: false,
    embeddings: true,
    wllama: { version: 'none', libllama: 'none', build: 'none' },
    modelBytes: 0,
    heapLimitBytes: 0,
  };
}

/** The bridge-shaped client of one endpoint. */
export class RemoteBridge implements LlmBackend {
  readonly endpoint: string;
  private readonly config: RemoteModelConfig;

  constructor(config: RemoteModelConfig) {
    const base = new URL(String(config.apiBase));
    if (base.protocol !== 'http:' && base.protocol !== 'https:')
      throw new TypeError(`remote apiBase must be an http(s) URL, got ${base.protocol}`);
    this.endpoint = base.href.replace(/\/+$/, '');
    this.config = config;
  }

  private post(path: string, body: object, signal: AbortSignal | undefined): Promise<Response> {
    return postJson(`${this.endpoint}${path}`, body, this.config, signal);
  }

  private body(req: WireOptions, stream: boolean): Record<string, unknown> {
    return wireBody(this.config.model, req, stream);
  }

  /** A chat completion (streamed to `onToken` when given). */
  async chat(req: ChatRequest): Promise<CompletionResult> {
    if (this.config.toolCalls === 'json' && req.tools?.length && req.tool_choice !== 'none')
      return this.chatWithJsonTools(req);
    return this.generate(
      '/chat/completions',
      { ...this.body(req, !!req.onToken), messages: req.messages },
      req,
    );
  }

  /** Tools through the generic JSON protocol (`toolCalls: 'json'`), not streamed. */
  private async chatWithJsonTools(req: ChatRequest): Promise<CompletionResult> {
    const { tools = [], tool_choice: choice, onToken: _streamed, ...rest } = req;
    const result = await this.generate(
      '/chat/completions',
      {
        ...this.body(rest, false),
        messages: toolMessages(req.messages, toolSystemPrompt(tools, choice)),
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'tool_answer', schema: toolAnswerSchema(tools, choice) },
        },
      },
      rest,
    );
    const { content, toolCalls } = parseToolAnswer(result.content);
    if (toolCalls.length === 0) return { ...result, content };
    // A call cut off by max_tokens keeps `length`, as OpenAI reports it: it must not be run.
    const finish = result.finish_reason === 'length' ? 'length' : 'tool_calls';
    return { ...result, content, finish_reason: finish, tool_calls: toolCalls };
  }

  /** A raw completion. */
  async complete(req: CompleteRequest): Promise<CompletionResult> {
    return this.generate(
      '/completions',
      { ...this.body(req, !!req.onToken), prompt: req.prompt },
      req,
    );
  }

  private async generate(
    path: string,
    body: Record<string, unknown>,
    req: CallOptions,
  ): Promise<CompletionResult> {
    const res = await this.post(path, body, req.signal);
    if (!body['stream']) return completionOf(await readJson(res), res, this.config.model);
    const stream = streamedCompletion(this.config.model, req.onToken);
    await readEvents(res, res.url || `${this.endpoint}${path}`, stream.add, req.signal);
    return stream.result();
  }

  /** Embedding vector(s) from `/embeddings`. */
  async embed(input: string, opts?: Pick<CallOptions, 'signal'>): Promise<number[]>;
  async embed(input: string[], opts?: Pick<CallOptions, 'signal'>): Promise<number[][]>;
  async embed(
    input: string | string[],
    opts: Pick<CallOptions, 'signal'> = {},
  ): Promise<number[] | number[][]> {
    const r = await readJson(
      await this.post('/embeddings', { model: this.config.model, input }, opts.signal),
    );
    const vectors = (r.data ?? []).map((d) => d.embedding);
    return typeof input === 'string' ? (vectors[0] ?? []) : vectors;
  }

  /** The endpoint applies its own chat template. */
  hasChatTemplate(): boolean {
    return true;
  }

  /** What a handle's `info().model` reports for a remote model (no local runtime figures). */
  info(): BridgeInfo {
    return remoteInfo(this.config.model);
  }

  async unload(): Promise<void> {}
}
