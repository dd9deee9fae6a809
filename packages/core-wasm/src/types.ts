/** A chat message for `llm.call`'s `messages`. */
export interface LlmMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  /** `llm.tools` conversations: an assistant's tool calls, and the call a `tool` message answers. */
  tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}

/** What the engine sends the LLM handler (the engine <-> handler contract). */
export type LlmRequest =
  | {
      kind: 'call';
      prompt?: string;
      messages?: LlmMessage[];
      system?: string;
      max_tokens?: number;
      temperature?: number;
      top_p?: number;
      top_k?: number;
      seed?: number;
      stop?: string | string[];
      stream?: boolean;
      /** Structured output (OpenAI's shape); the reply's content must be that JSON. */
      response_format?:
        | { type: 'text' | 'json_object' }
        | { type: 'json_schema'; json_schema: { name?: string; schema: object; strict?: boolean } };
      /** A GBNF grammar the output must follow. */
      grammar?: string;
      /** `llm.tools`: the tools the model may call (OpenAI's shape). */
      tools?: {
        type: 'function';
        function: { name: string; description?: string; parameters?: object };
      }[];
      tool_choice?: 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };
      /** The run's AbortSignal, when it has one. */
      signal?: AbortSignal;
      /** Present when `stream` is on and the run listens to events: call it with each piece of text. */
      onToken?: (text: string) => void;
      /**
       * Present when the run listens to events: call it as the model reads the prompt (tokens read,
       * the prompt's length, tokens taken from the KV cache); each call becomes a `prompt_progress` event.
       */
      onPromptProgress?: (progress: { processed: number; total: number; cached: number }) => void;
    }
  | { kind: 'embed'; input: string | string[]; signal?: AbortSignal };

/** Token counts of a completion. */
export interface LlmUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/**
 * What `llm.call` stores, as upstream TEA: `content` and `usage` (`{}` when the handler reports
 * none); `model` and `finish_reason` when the handler gives them; `attempts` / `total_delay`
 * with `max_retries`; `streamed` / `chunk_count` from `llm.stream`.
 */
export interface LlmCallResult {
  content: string;
  usage: LlmUsage | Record<string, never>;
  model?: string;
  finish_reason?: string;
  attempts?: number;
  total_delay?: number;
  streamed?: boolean;
  chunk_count?: number;
  /** With `response_format` json_object / json_schema: the parsed (and schema-checked) value. */
  json?: unknown;
}

/** What the handler may answer: a completion, or an embedding (or several). */
export type LlmResponse =
  | { content: string; model?: string; finish_reason?: string; usage?: Partial<LlmUsage> }
  | { embedding: number[] }
  | { embeddings: number[][] };

/** The function `setLlmHandler` takes. */
export type LlmHandler = (request: LlmRequest) => Promise<LlmResponse> | LlmResponse;

/** An action registered with `registerAction`: receives the rendered `with:` params and the state. */
export type ActionHandler = (
  params: Record<string, unknown>,
  state: Record<string, unknown>,
) => unknown;

/** A progress event of a run, in order: node_start, token*, node_end (or error). */
export type WorkflowEvent =
  | { type: 'node_start'; node: string; step: number }
  | { type: 'node_end'; node: string; step: number }
  | { type: 'token'; node: string; text: string }
  /**
   * The model is reading the node's prompt (as the LLM handler reports it): `processed` of
   * `total` tokens, of which `cached` came from the KV cache of an earlier call. First with
   * `processed: 0`, before any token is read. A long prompt on a CPU takes seconds to minutes.
   */
  | {
      type: 'prompt_progress';
      node: string;
      processed: number;
      total: number;
      cached: number;
    }
  | { type: 'error'; node: string; step: number; code: string; message: string }
  /** Something the run did that the YAML may not expect: a goto condition that failed (false, as upstream), a retry, a fallback. */
  | { type: 'warning'; node: string; message: string }
  /** `llm.tools`: the model called a tool (arguments as parsed, null when not JSON). */
  | { type: 'tool_call'; node: string; round: number; id: string; name: string; arguments: unknown }
  /** `llm.tools`: a tool's result as sent back to the model (`ok: false` for an error message). */
  | {
      type: 'tool_result';
      node: string;
      round: number;
      id: string;
      name: string;
      result: string;
      ok: boolean;
    }
  /** The run stopped at an `interrupt_before` / `interrupt_after` node. */
  | { type: 'interrupt'; node: string; when: 'before' | 'after' };

/** Options of a run. */
export interface RunOptions {
  /** Receives progress events. */
  onEvent?: (event: WorkflowEvent) => void;
  /**
   * Stops the run with `ABORTED`: at once while it waits for a handler, and within the engine's
   * slice of work (8 ms) while it computes.
   */
  signal?: AbortSignal;
  /**
   * Serves this run's `llm.call` / `llm.embed` nodes instead of the page's default handler
   * (`setLlmHandler`): several models can run workflows side by side.
   */
  llmHandler?: LlmHandler;
  /** Overrides `settings.max_steps`. */
  max_steps?: number;
  /** Runtime variables; they override the workflow's `variables`. */
  variables?: Record<string, unknown>;
  /**
   * Values templates read as `{{ secrets.NAME }}`. They never appear in events, errors or the
   * returned state: any occurrence there is replaced by `[secret]`.
   */
  secrets?: Record<string, string>;
}

/**
 * Where an interrupted run stopped: plain JSON (it round-trips through `JSON.stringify`), to keep
 * anywhere (IndexedDB, a server) and pass to `Workflow.resume`.
 */
export interface Checkpoint {
  version: 1;
  /** The workflow's `name`. */
  workflow: string;
  /** The node the run stopped at. */
  node: string;
  /** `before`: resuming runs `node`; `after`: resuming continues with the node after it. */
  when: 'before' | 'after';
  /** The state at the interrupt. */
  state: WorkflowState;
}

/** How `Workflow.invoke` / `Workflow.resume` ended. */
export type RunResult<S extends WorkflowState = WorkflowState> =
  | { status: 'completed'; state: S }
  | {
      status: 'interrupted';
      node: string;
      when: 'before' | 'after';
      state: S;
      checkpoint: Checkpoint;
    };

/** One finding of `validateYaml`. */
export interface ValidationProblem {
  severity: 'error' | 'warning';
  code: string;
  message: string;
  node: string | null;
  line: number | null;
  column: number | null;
}

/** A JSON-compatible workflow state. */
export type WorkflowState = Record<string, unknown>;
