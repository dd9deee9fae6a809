import {
  parseToolAnswer,
  toolAnswerSchema,
  toolMessages,
  toolSystemPrompt,
  type BridgeInfo,
  type CallOptions,
  type ChatRequest,
  type CompleteRequest,
  type CompletionResult,
  type FinishReason,
  type ToolCall,
} from '@the-edge-agent/llm-bridge';
import { redactText, redactUrl, retryAfterMs } from '@the-edge-agent/model-loader';

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

/** Codes of `RemoteModelError`. */
export type RemoteModelErrorCode =
  | 'REMOTE_UNREACHABLE'
  | 'REMOTE_UNAUTHORIZED'
  | 'REMOTE_RATE_LIMITED'
  | 'REMOTE_HTTP_ERROR'
  | 'REMOTE_BAD_RESPONSE'
  | 'REMOTE_STREAM_CUT'
  | 'REMOTE_NOT_ALLOWED'
  | 'REMOTE_NOT_CONFIGURED'
  | 'ABORTED';

/** A failure of the remote endpoint, naming it (never its key) and, for HTTP, the status. */
export class RemoteModelError extends Error {
  override readonly name: string = 'RemoteModelError';
  /** The endpoint, without its query string, fragment or userinfo. */
  readonly endpoint: string;
  constructor(
    readonly code: RemoteModelErrorCode,
    message: string,
    endpoint: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    // The same redaction as every model-loader message: an endpoint's query string, fragment
    // and userinfo (`?api-key=`, `?sig=`, `user:pass@`) and bearer-like values never show.
    super(redactText(message), options);
    this.endpoint = redactUrl(endpoint);
    if (code === 'ABORTED') this.name = 'AbortError';
  }
}

interface OpenAiChoice {
  message?: { content?: string | null; tool_calls?: ToolCall[] };
  delta?: {
    content?: string | null;
    tool_calls?: { index: number; id?: string; function?: { name?: string; arguments?: string } }[];
  };
  text?: string;
  finish_reason?: string | null;
}

interface OpenAiResponse {
  model?: string;
  choices?: OpenAiChoice[];
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
  data?: { embedding: number[] }[];
}

function finish(reason: string | null | undefined): FinishReason {
  return reason === 'length' ? 'length' : reason === 'tool_calls' ? 'tool_calls' : 'stop';
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });

/** The bridge-shaped client of one endpoint. */
export class RemoteBridge {
  readonly endpoint: string;
  private readonly config: RemoteModelConfig;

  constructor(config: RemoteModelConfig) {
    const base = new URL(String(config.apiBase));
    if (base.protocol !== 'http:' && base.protocol !== 'https:')
      throw new TypeError(`remote apiBase must be an http(s) URL, got ${base.protocol}`);
    this.endpoint = base.href.replace(/\/+$/, '');
    this.config = config;
  }

  private redact(text: string): string {
    const key = this.config.apiKey;
    return key ? text.split(key).join('[key]') : text;
  }

  /** POSTs `body` to `path`; retries 429 / 503 after `Retry-After`; maps failures to codes. */
  private async post(
    path: string,
    body: object,
    signal: AbortSignal | undefined,
  ): Promise<Response> {
    const url = `${this.endpoint}${path}`;
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      ...this.config.headers,
    };
    if (this.config.apiKey) headers['Authorization'] = `Bearer ${this.config.apiKey}`;
    const retries = this.config.maxRetries ?? 2;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers,
          body: JSON.stringify(body),
          ...(signal ? { signal } : {}),
        });
      } catch (error) {
        if (signal?.aborted)
          throw new RemoteModelError('ABORTED', `the call to ${url} was aborted`, url, undefined, {
            cause: error,
          });
        throw new RemoteModelError(
          'REMOTE_UNREACHABLE',
          `cannot reach ${url} (${this.redact(String((error as Error)?.message ?? error))}): is the server running, and does it allow this page's origin (CORS)?`,
          url,
          undefined,
          { cause: error },
        );
      }
      if (res.ok) return res;
      const text = this.redact((await res.text().catch(() => '')).slice(0, 300));
      if ((res.status === 429 || res.status === 503) && attempt < retries) {
        // Retry-After (seconds or an HTTP date; a cross-origin server must list it in
        // Access-Control-Expose-Headers for a page to read it), else 1 s, 2 s, ...; at most 30 s.
        await sleep(
          retryAfterMs(res.headers, 30_000) ?? Math.min(30_000, 1000 * 2 ** attempt),
          signal,
        );
        continue;
      }
      const code: RemoteModelErrorCode =
        res.status === 401 || res.status === 403
          ? 'REMOTE_UNAUTHORIZED'
          : res.status === 429
            ? 'REMOTE_RATE_LIMITED'
            : 'REMOTE_HTTP_ERROR';
      const hint =
        code === 'REMOTE_UNAUTHORIZED'
          ? ': check the API key'
          : code === 'REMOTE_RATE_LIMITED'
            ? `: still rate limited after ${retries} retries`
            : '';
      throw new RemoteModelError(
        code,
        `${url} answered HTTP ${res.status}${hint}${text ? ` (${text})` : ''}`,
        url,
        res.status,
      );
    }
  }

  private async json(res: Response): Promise<OpenAiResponse> {
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

  /** Reads a server-sent-event stream of chunks; a stream that ends without `[DONE]` is cut. */
  private async events(
    res: Response,
    url: string,
    onChunk: (c: OpenAiResponse) => void,
    signal?: AbortSignal,
  ) {
    if (!res.body)
      throw new RemoteModelError('REMOTE_BAD_RESPONSE', `${url} sent no stream`, url, res.status);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let done = false;
    try {
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) break;
        buffer += value;
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
            throw new RemoteModelError(
              'REMOTE_BAD_RESPONSE',
              `${url} sent an event that is not JSON`,
              url,
              res.status,
              {
                cause: error,
              },
            );
          }
        }
      }
    } catch (error) {
      if (error instanceof RemoteModelError) throw error;
      if (signal?.aborted)
        throw new RemoteModelError('ABORTED', `the call to ${url} was aborted`, url, undefined, {
          cause: error,
        });
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

  private body(req: ChatRequest | CompleteRequest, stream: boolean): Record<string, unknown> {
    const b: Record<string, unknown> = { model: this.config.model, stream };
    const r = req as unknown as Record<string, unknown>;
    const keys = [
      'max_tokens',
      'temperature',
      'top_p',
      'seed',
      'stop',
      'response_format',
      'tools',
      'tool_choice',
      'grammar',
    ];
    for (const k of keys) if (r[k] !== undefined) b[k] = r[k];
    if (stream) b['stream_options'] = { include_usage: true };
    return b;
  }

  /** A chat completion (streamed to `onToken` when given). */
  async chat(req: ChatRequest): Promise<CompletionResult> {
    if (this.config.toolCalls === 'json' && req.tools?.length && req.tool_choice !== 'none') {
      const { tools, tool_choice: choice, onToken: _streamed, ...rest } = req;
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
    return this.generate(
      '/chat/completions',
      { ...this.body(req, !!req.onToken), messages: req.messages },
      req,
    );
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
    const usage = (u: OpenAiResponse['usage']) => ({
      prompt_tokens: u?.prompt_tokens ?? 0,
      completion_tokens: u?.completion_tokens ?? 0,
      total_tokens: u?.total_tokens ?? (u?.prompt_tokens ?? 0) + (u?.completion_tokens ?? 0),
    });
    if (!body['stream']) {
      const r = await this.json(res);
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
        model: r.model ?? this.config.model,
        finish_reason: finish(c.finish_reason),
        usage: usage(r.usage),
        ...(calls?.length ? { tool_calls: calls } : {}),
      };
    }
    let content = '';
    let reason: string | null | undefined;
    let model = this.config.model;
    let u: OpenAiResponse['usage'];
    const calls: ToolCall[] = [];
    await this.events(
      res,
      res.url || `${this.endpoint}${path}`,
      (chunk) => {
        if (chunk.model) model = chunk.model;
        if (chunk.usage) u = chunk.usage;
        const c = chunk.choices?.[0];
        const text = c?.delta?.content ?? c?.text ?? '';
        if (text) {
          content += text;
          req.onToken?.(text);
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
      },
      req.signal,
    );
    return {
      content,
      model,
      finish_reason: finish(reason),
      usage: usage(u),
      ...(calls.length ? { tool_calls: calls.filter(Boolean) } : {}),
    };
  }

  /** Embedding vector(s) from `/embeddings`. */
  async embed(input: string, opts?: Pick<CallOptions, 'signal'>): Promise<number[]>;
  async embed(input: string[], opts?: Pick<CallOptions, 'signal'>): Promise<number[][]>;
  async embed(
    input: string | string[],
    opts: Pick<CallOptions, 'signal'> = {},
  ): Promise<number[] | number[][]> {
    const r = await this.json(
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
    return {
      architecture: 'remote',
      name: this.config.model,
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

  async unload(): Promise<void> {}
}
