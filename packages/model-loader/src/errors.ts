/** Stable codes of the errors this package throws; branch on `error.code`, never on the message. */
export type ModelLoaderErrorCode = 'INVALID_ARGUMENT';

/** An error raised by `@the-edge-agent/model-loader`, with a stable `code`. */
export class ModelLoaderError extends Error {
  override readonly name = 'ModelLoaderError';
  /** Which failure this is. */
  readonly code: ModelLoaderErrorCode;

  constructor(code: ModelLoaderErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
