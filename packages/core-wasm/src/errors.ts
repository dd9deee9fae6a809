import type { Checkpoint } from './types.js';

/** Codes the Rust engine raises (its `Code` enum; a test checks that both lists agree). */
export const ENGINE_ERROR_CODES = [
  'YAML_PARSE',
  'VALIDATION',
  'UNKNOWN_NODE',
  'UNKNOWN_ACTION',
  'TEMPLATE',
  'MAX_STEPS',
  'LLM_HANDLER_MISSING',
  'ACTION_FAILED',
  'ABORTED',
  'MERGE_CONFLICT',
  'STATE_SCHEMA',
  'NO_ROUTE',
  'INVALID_ARGUMENT',
  'TOO_DEEP',
  'TOO_LARGE',
  'TEMPLATE_BUDGET',
  'LLM_INVALID_REPLY',
  'LLM_OUTPUT_INVALID',
] as const;

/**
 * Codes only this TypeScript layer raises: loading the wasm, containing a trap, and
 * `INTERRUPTED` (`Workflow.run` / `executeYaml` reached an `interrupt_before` / `interrupt_after`
 * node; the error's `checkpoint` resumes it with `Workflow.resume`).
 */
export const HOST_ERROR_CODES = [
  'NOT_INITIALIZED',
  'WASM_INIT_FAILED',
  'WASM_TRAPPED',
  'INTERRUPTED',
] as const;

/** Stable codes of the errors this package throws; branch on `error.code`, never on the message. */
export type CoreWasmErrorCode =
  (typeof ENGINE_ERROR_CODES)[number] | (typeof HOST_ERROR_CODES)[number];

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
  /** With `INTERRUPTED`: where the run stopped; pass it to `Workflow.resume`. */
  checkpoint?: Checkpoint;

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

/** An error as the engine reports it in JSON. */
export interface EngineErrorJson {
  code: string;
  message: string;
  node?: string | null;
  line?: number | null;
  column?: number | null;
}

/** The engine's JSON error as a `CoreWasmError`. */
export function fromEngineError(e: EngineErrorJson, cause?: unknown): CoreWasmError {
  const known = (ENGINE_ERROR_CODES as readonly string[]).includes(e.code);
  return new CoreWasmError((known ? e.code : 'ACTION_FAILED') as CoreWasmErrorCode, e.message, {
    ...(cause !== undefined ? { cause } : {}),
    ...(e.node ? { node: e.node } : {}),
    ...(e.line != null ? { line: e.line } : {}),
    ...(e.column != null ? { column: e.column } : {}),
  });
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
