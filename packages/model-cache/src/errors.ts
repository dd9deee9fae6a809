/** Stable codes of the errors this package throws; branch on `error.code`, never on the message. */
export type ModelCacheErrorCode = 'STORAGE_UNAVAILABLE';

/** An error raised by `@the-edge-agent/model-cache`, with a stable `code`. */
export class ModelCacheError extends Error {
  override readonly name = 'ModelCacheError';
  /** Which failure this is. */
  readonly code: ModelCacheErrorCode;

  constructor(code: ModelCacheErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
