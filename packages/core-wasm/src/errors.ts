/** Stable codes of the errors this package throws; branch on `error.code`, never on the message. */
export type CoreWasmErrorCode = 'NOT_INITIALIZED' | 'WASM_INIT_FAILED';

/** An error raised by `@the-edge-agent/core-wasm`, with a stable `code`. */
export class CoreWasmError extends Error {
  override readonly name = 'CoreWasmError';
  /** Which failure this is. */
  readonly code: CoreWasmErrorCode;

  constructor(code: CoreWasmErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
