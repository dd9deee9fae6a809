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
