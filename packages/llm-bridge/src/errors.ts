/** Stable codes of the errors this package throws; branch on `error.code`, never on the message. */
export type LlmBridgeErrorCode =
  | 'MODEL_NOT_LOADED'
  | 'ALREADY_LOADED'
  | 'LOAD_FAILED'
  | 'MODEL_TOO_LARGE'
  | 'WEBGPU_UNAVAILABLE'
  | 'EMBEDDINGS_DISABLED'
  | 'INFERENCE_FAILED'
  | 'INVALID_REQUEST'
  | 'CONTEXT_EXCEEDED'
  | 'ABORTED'
  | 'DISPOSED';

/** An error raised by `@the-edge-agent/llm-bridge`, with a stable `code`. */
export class LlmBridgeError extends Error {
  override readonly name: string = 'LlmBridgeError';
  /** Which failure this is. */
  readonly code: LlmBridgeErrorCode;

  constructor(code: LlmBridgeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * The model (with what must stay in wasm memory) does not fit wllama's wasm heap.
 * Carries the numbers so a caller can explain or pick a smaller model.
 */
export class ModelTooLargeError extends LlmBridgeError {
  override readonly name = 'ModelTooLargeError';
  /** Bytes the load needed in wasm memory (model weights that stay on the CPU side). */
  readonly requiredBytes: number;
  /** The wasm heap ceiling of the wllama build in use. */
  readonly limitBytes: number;

  constructor(
    requiredBytes: number,
    limitBytes: number,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      'MODEL_TOO_LARGE',
      `model too large for wasm memory: ${formatGB(requiredBytes)} needed, the limit is ${formatGB(limitBytes)}. ${detail}`,
      options,
    );
    this.requiredBytes = requiredBytes;
    this.limitBytes = limitBytes;
  }
}

/** The numbers a context overflow is about (all in tokens). */
export interface ContextFigures {
  /** The prompt as the model reads it: chat template, system message and tool list included. */
  promptTokens: number;
  /** The generation budget the call asked for (`max_tokens`, default 100). */
  maxTokens: number;
  /** The context the model was loaded with (`nCtx`). */
  nCtx: number;
  /** The largest `nCtx` this model may be loaded with here (training context, and the fit rule's memory where known). */
  nCtxMax?: number;
}

/**
 * `CONTEXT_EXCEEDED`: the prompt plus `max_tokens` cannot fit the loaded context. Thrown before
 * any token is generated (the prompt is tokenized, not evaluated), with the numbers and the ways
 * out in the message.
 */
export class ContextExceededError extends LlmBridgeError implements ContextFigures {
  override readonly name = 'ContextExceededError';
  readonly promptTokens: number;
  readonly maxTokens: number;
  readonly nCtx: number;
  readonly nCtxMax?: number;

  constructor(what: string, figures: ContextFigures, options?: { cause?: unknown }) {
    const { promptTokens: p, maxTokens: m, nCtx: n, nCtxMax } = figures;
    const fix: string[] = [];
    const need = p + m;
    if (nCtxMax !== undefined && need <= nCtxMax)
      fix.push(
        `load the model with nCtx: ${need} or more (this model allows up to ${nCtxMax} here)`,
      );
    else if (nCtxMax !== undefined && nCtxMax > n)
      fix.push(`load the model with a larger nCtx (up to ${nCtxMax} here)`);
    if (p < n) fix.push(`lower max_tokens to ${n - p} or less`);
    fix.push('shorten the prompt or drop old turns of the history');
    super(
      'CONTEXT_EXCEEDED',
      `${what}: the prompt is ${p} tokens and max_tokens is ${m}, ${need} in all, more than the context of ${n} tokens (nCtx). Nothing was generated. To fix it: ${fix.join('; or ')}.`,
      options,
    );
    this.promptTokens = p;
    this.maxTokens = m;
    this.nCtx = n;
    if (nCtxMax !== undefined) this.nCtxMax = nCtxMax;
  }
}

/** Thrown when a call is cancelled through its AbortSignal (`name` is `AbortError`). */
export class BridgeAbortError extends LlmBridgeError {
  override readonly name = 'AbortError';

  constructor(what: string, options?: { cause?: unknown }) {
    super('ABORTED', `${what} was aborted`, options);
  }
}

/** `4.45 GB (4.14 GiB)` — both units, because users meet both. */
export function formatGB(bytes: number): string {
  return `${(bytes / 1e9).toFixed(2)} GB (${(bytes / 2 ** 30).toFixed(2)} GiB)`;
}
