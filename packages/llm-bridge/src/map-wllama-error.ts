import { BridgeAbortError, LlmBridgeError, ModelTooLargeError } from './errors.js';
import { WLLAMA_HEAP_LIMIT_BYTES } from './memory-limit.js';

/** What the bridge was doing when wllama failed, for the message and the code. */
export interface FailureContext {
  phase: 'load' | 'inference';
  /** e.g. "loading the model", "the completion". */
  what: string;
  /** Total model bytes, for out-of-memory reports during load. */
  modelBytes?: number;
  /** The last error line wllama's native code logged (C++ exceptions only reach the log). */
  nativeError?: string;
}

// wllama reports a C++ exception in its worker as this RangeError (the result length it reads
// back is garbage); the exception text itself only reaches the native log.
const NATIVE_EXCEPTION = /Invalid typed array length/;
const OUT_OF_MEMORY =
  /out of memory|bad_alloc|Cannot enlarge memory|Aborted\(OOM\)|failed to allocate/i;

/** Turns anything wllama throws into an `LlmBridgeError` with a stable code. */
export function mapWllamaError(error: unknown, ctx: FailureContext): LlmBridgeError {
  if (error instanceof LlmBridgeError) return error;
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'AbortError' || name === 'WllamaAbortError') {
    return new BridgeAbortError(ctx.what, { cause: error });
  }
  const type = (error as { type?: string } | null)?.type;
  if (type === 'model_not_loaded') {
    return new LlmBridgeError('MODEL_NOT_LOADED', 'no model is loaded: call load() first', {
      cause: error,
    });
  }
  const native = ctx.nativeError ? ` (wllama: ${ctx.nativeError})` : '';
  const oom = OUT_OF_MEMORY.test(message) || OUT_OF_MEMORY.test(ctx.nativeError ?? '');
  if (ctx.phase === 'load') {
    const bigEnough = (ctx.modelBytes ?? 0) > WLLAMA_HEAP_LIMIT_BYTES / 2;
    if (oom || (NATIVE_EXCEPTION.test(message) && bigEnough && !ctx.nativeError)) {
      return new ModelTooLargeError(
        ctx.modelBytes ?? 0,
        WLLAMA_HEAP_LIMIT_BYTES,
        `wllama ran out of wasm memory while loading${native}.`,
        { cause: error },
      );
    }
    if (name === 'NotReadableError' || /could not be read/.test(message)) {
      return new LlmBridgeError(
        'LOAD_FAILED',
        `loading the model failed: the browser could not read the model's data back (${message}). ` +
          'Private (incognito) windows keep downloaded data and IndexedDB in memory, about 2 GB in ' +
          'all in Chromium: use a normal window, or a smaller model.',
        { cause: error },
      );
    }
    return new LlmBridgeError(
      'LOAD_FAILED',
      `loading the model failed: ${ctx.nativeError ?? message}`,
      {
        cause: error,
      },
    );
  }
  return new LlmBridgeError(
    'INFERENCE_FAILED',
    `${ctx.what} failed: ${ctx.nativeError ?? message}`,
    {
      cause: error,
    },
  );
}
