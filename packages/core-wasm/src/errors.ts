/** Stable codes of the errors this package throws; branch on `error.code`, never on the message. */
export type CoreWasmErrorCode =
  | 'NOT_INITIALIZED'
  | 'WASM_INIT_FAILED'
  | 'YAML_PARSE'
  | 'VALIDATION'
  | 'UNKNOWN_NODE'
  | 'UNKNOWN_ACTION'
  | 'TEMPLATE'
  | 'MAX_STEPS'
  | 'LLM_HANDLER_MISSING'
  | 'ACTION_FAILED'
  | 'ABORTED'
  | 'MERGE_CONFLICT'
  | 'STATE_SCHEMA'
  | 'NO_ROUTE'
  | 'INVALID_ARGUMENT';

/** Where an error happened, when known. */
export interface ErrorLocation {
  /** The workflow node that failed. */
  node?: string;
  /** 1-based line and column in the workflow's YAML. */
  line?: number;
  column?: number;
}

/** An error raised by `@the-edge-agent/core-wasm`, with a stable `code` and its location. */
export class CoreWasmError extends Error {
  override readonly name: string = 'CoreWasmError';
  /** Which failure this is. */
  readonly code: CoreWasmErrorCode;
  readonly node?: string;
  readonly line?: number;
  readonly column?: number;

  constructor(
    code: CoreWasmErrorCode,
    message: string,
    options?: { cause?: unknown } & ErrorLocation,
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options?.node !== undefined) this.node = options.node;
    if (options?.line !== undefined) this.line = options.line;
    if (options?.column !== undefined) this.column = options.column;
    if (code === 'ABORTED') this.name = 'AbortError';
  }
}

/** Turns what the wasm engine throws (an `Error` with `code`, `node`, `line`, `column`) into a `CoreWasmError`. */
export function toCoreWasmError(error: unknown): CoreWasmError {
  if (error instanceof CoreWasmError) return error;
  const e = (error ?? {}) as {
    code?: string;
    message?: string;
    node?: string;
    line?: number;
    column?: number;
  };
  const code = (typeof e.code === 'string' ? e.code : 'ACTION_FAILED') as CoreWasmErrorCode;
  const message = typeof e.message === 'string' ? e.message : String(error);
  return new CoreWasmError(code, message, {
    cause: error,
    ...(e.node !== undefined ? { node: e.node } : {}),
    ...(e.line !== undefined ? { line: e.line } : {}),
    ...(e.column !== undefined ? { column: e.column } : {}),
  });
}
