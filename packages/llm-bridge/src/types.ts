import type { WllamaBuild } from './wllama-build.js';
/** A chat message; the model's own chat template turns a list of them into a prompt. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | null;
  /** An assistant message's tool calls (OpenAI's shape). */
  tool_calls?: ToolCall[];
  /** A `tool` message: the call it answers. */
  tool_call_id?: string;
}

/** A tool the model may call (OpenAI's shape); `parameters` is a JSON Schema object. */
export interface ChatTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: object };
}

/** A call the model made; `arguments` is JSON text that matches the tool's parameters. */
export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** `auto` (default), `none`, `required` (some tool), or one tool by name. */
export type ToolChoice =
  'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };

/** Sampling settings shared by completions and chats (OpenAI names). */
export interface SamplingOptions {
  /** Most tokens to generate (default 100). */
  max_tokens?: number;
  /** 0 = greedy. */
  temperature?: number;
  top_p?: number;
  top_k?: number;
  /** Fixes the sampler's randomness for reproducible output. */
  seed?: number;
  /** Generation stops before any of these strings. */
  stop?: string | string[];
}

/** How far llama.cpp has read a prompt (tokens). */
export interface PromptProgress {
  /**
   * Prompt tokens ready so far, the cached ones included: `cached` at the first report (which
   * comes before any token is evaluated), `total` at the last.
   */
  processed: number;
  /** The prompt's tokens, chat template included. */
  total: number;
  /** Tokens of the prompt's start taken from the KV cache of the previous call (not evaluated again). */
  cached: number;
}

/** Per-call controls. */
export interface CallOptions {
  /** Cancels the call: queued calls never start, running ones stop within a token or two. */
  signal?: AbortSignal;
  /** Receives each piece of generated text as it is produced. */
  onToken?: (text: string) => void;
  /**
   * Reports how far the prompt has been read: first before any token is evaluated (with the
   * prompt's token count and how much of it the KV cache already holds), then after each batch (`nBatch` tokens). On a CPU a long prompt takes seconds to
   * minutes before the first token, so this is what a progress bar should show meanwhile.
   */
  onPromptProgress?: (progress: PromptProgress) => void;
}

/** A raw completion: the prompt is sent as is, with no chat template. */
export interface CompleteRequest extends SamplingOptions, CallOptions, ConstraintOptions {
  prompt: string;
}

/** Structured output, in OpenAI's shape: any JSON object, or JSON matching a schema. */
export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; json_schema: { name?: string; schema: object; strict?: boolean } };

/** Constrained decoding: what the model may generate (llama.cpp's grammar sampler). */
export interface ConstraintOptions {
  /**
   * `json_object` / `json_schema`: the output is compact JSON (matching the schema), enforced
   * token by token. Schema keywords that cannot be enforced (`pattern`, `minimum`, ...) are
   * `INVALID_REQUEST` before generation.
   */
  response_format?: ResponseFormat;
  /** A GBNF grammar (llama.cpp's format); one that does not parse is `INVALID_REQUEST`. */
  grammar?: string;
}

/** A chat completion, formatted with the model's chat template. */
export interface ChatRequest extends SamplingOptions, CallOptions, ConstraintOptions {
  messages: ChatMessage[];
  /**
   * Tools the model may call. Any model can: the tools are described in the system message and
   * the answer is constrained to a tool call whose arguments match its schema, or a reply (see
   * the README). Tool-call answers are not streamed to `onToken`.
   */
  tools?: ChatTool[];
  tool_choice?: ToolChoice;
  /**
   * What to do when the conversation and `max_tokens` do not fit the context: `'error'`
   * (default) fails with `CONTEXT_EXCEEDED` before generating; `'drop-oldest'` drops the oldest
   * turns (never the system message or the last user message) until it fits, and reports how
   * many messages went in `dropped_messages`. (The sdk's remote endpoints apply their own
   * limits and ignore it.)
   */
  overflow?: 'error' | 'drop-oldest';
}

/** Token counts as the model's tokenizer counted them (never estimated). */
export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /**
   * `cached_tokens`: how many prompt tokens came from the KV cache of an earlier call with the
   * same beginning (a shared system prompt, the earlier turns of a chat) instead of being read
   * again.
   */
  prompt_tokens_details?: { cached_tokens: number };
}

/** Why generation ended: a stop sequence or end-of-generation token, `max_tokens`, or a tool call. */
export type FinishReason = 'stop' | 'length' | 'tool_calls';

/** The answer to `complete` / `chat`. */
export interface CompletionResult {
  content: string;
  /** The model's name (GGUF `general.name`, else its architecture). */
  model: string;
  finish_reason: FinishReason;
  usage: TokenUsage;
  /** The model's tool calls (with `tools`), when it called any. */
  tool_calls?: ToolCall[];
  /** With `overflow: 'drop-oldest'`: how many of the oldest messages were left out to fit. */
  dropped_messages?: number;
}

/** What `info()` reports about the loaded model and the runtime actually used. */
export interface BridgeInfo {
  /** GGUF `general.architecture`, e.g. `llama`, `gemma3n`. */
  architecture: string;
  /** GGUF `general.name` when present. */
  name: string;
  /** Context size in use (tokens), and the one the model was trained with. */
  nCtx: number;
  nCtxTrain: number;
  /**
   * The largest `nCtx` this model may be loaded with here: its training context, and where the
   * load had the model's figures (`needs`), what the fit rule's memory estimate allows. Infinity
   * when neither is known.
   */
  nCtxMax: number;
  /** Embedding width: the dimension `embed()` returns. */
  nEmbd: number;
  nLayer: number;
  /** Threads inference runs on, and whether that is wllama's multi-thread build. */
  threads: number;
  multiThread: boolean;
  /** What `threads` asked for (`'auto'` or a count) before the bridge decided. */
  threadsRequested: 'auto' | number;
  /** Why this many threads, in plain words (e.g. "single-thread: the page is not cross-origin isolated (serve it with COOP …)"). */
  threadingReason: string;
  /** Whether llama.cpp really placed weights on WebGPU (read from its load log, not assumed). */
  webgpu: boolean;
  /** Whether `embed()` is available (the model was loaded with embeddings on). */
  embeddings: boolean;
  /** Which wllama: npm version, llama.cpp build, and `default` (JSPI + memory64) or `compat`. */
  wllama: {
    version: string;
    /** The llama.cpp inside the build that runs. */
    libllama: string;
    /** Which build runs this load (`'none'` for a remote model). See `WllamaBuild`. */
    build: WllamaBuild | 'none';
    /** Why that build, in words. */
    buildReason?: string;
  };
  /** Total bytes of the GGUF shards loaded. */
  modelBytes: number;
  /**
   * The wasm heap ceiling this load had: 16 GiB for this package's wllama build where the browser
   * can reserve it, less where it cannot, 4 GiB for the compat build.
   */
  heapLimitBytes: number;
}
