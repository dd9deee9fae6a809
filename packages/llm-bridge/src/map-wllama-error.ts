import { BridgeAbortError, formatGB, LlmBridgeError, ModelTooLargeError } from './errors.js';
import { WLLAMA_HEAP_LIMIT_BYTES } from './fit-rule.js';

/** What the bridge was doing when wllama failed, for the message and the code. */
export interface FailureContext {
  phase: 'load' | 'inference';
  /** e.g. "loading the model", "the completion". */
  what: string;
  /** Total model bytes, for out-of-memory reports during load. */
  modelBytes?: number;
  /** The last error line wllama's native code logged (C++ exceptions only reach the log). */
  nativeError?: string;
  /** The wasm heap ceiling of this load (default: the 16 GiB build's). */
  limitBytes?: number;
  /** The allocation llama.cpp's log says failed (`insufficient memory ... 4612.01 MB`). */
  allocationBytes?: number;
}

// wllama reports a C++ exception in its worker as this RangeError (the result length it reads
// back is garbage); the exception text itself only reaches the native log.
const NATIVE_EXCEPTION = /Invalid typed array length/;
const OUT_OF_MEMORY =
  /out of memory|insufficient memory|bad_alloc|Cannot enlarge memory|Aborted\(OOM\)|failed to allocate/i;

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
  return ctx.phase === 'load'
    ? loadFailure(error, name, message, ctx)
    : inferenceFailure(error, message, ctx);
}

/** A failed load: out of memory (`MODEL_TOO_LARGE`), unreadable data, or llama.cpp's refusal. */
function loadFailure(
  error: unknown,
  name: string,
  message: string,
  ctx: FailureContext,
): LlmBridgeError {
  const native = ctx.nativeError ? ` (wllama: ${ctx.nativeError})` : '';
  const oom = OUT_OF_MEMORY.test(message) || OUT_OF_MEMORY.test(ctx.nativeError ?? '');
  const limit = ctx.limitBytes ?? WLLAMA_HEAP_LIMIT_BYTES;
  const bigEnough = (ctx.modelBytes ?? 0) > limit / 2;
  if (
    oom ||
    ctx.allocationBytes !== undefined ||
    (NATIVE_EXCEPTION.test(message) && bigEnough && !ctx.nativeError)
  ) {
    const alloc =
      ctx.allocationBytes !== undefined
        ? ` llama.cpp could not allocate ${formatGB(ctx.allocationBytes)} for the weights.`
        : '';
    return new ModelTooLargeError(
      Math.max(ctx.modelBytes ?? 0, ctx.allocationBytes ?? 0),
      limit,
      `wllama ran out of wasm memory while loading${native}.${alloc} Use a smaller model or quantization.`,
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

/** A failed request: the context, the batch, the grammar, or anything else llama.cpp says. */
function inferenceFailure(error: unknown, message: string, ctx: FailureContext): LlmBridgeError {
  const everything = `${message} ${ctx.nativeError ?? ''}`;
  if (/exceeds the available context size/i.test(everything)) {
    const n = /request \((\d+) tokens\)/.exec(everything)?.[1];
    const limit = /context size \((\d+) tokens\)/.exec(everything)?.[1];
    return new LlmBridgeError(
      'CONTEXT_EXCEEDED',
      `${ctx.what}: the prompt${n ? ` (${n} tokens)` : ''} does not fit the context${limit ? ` of ${limit} tokens` : ''}; load the model with a larger nCtx (up to its training context), or send less`,
      { cause: error },
    );
  }
  const tooBig = /input \((\d+) tokens\) is too large to process.*batch size: (\d+)/i.exec(
    everything,
  );
  if (tooBig)
    return new LlmBridgeError(
      'INVALID_REQUEST',
      `${ctx.what}: the input is ${tooBig[1]} tokens, and this bridge embeds at most ${tooBig[2]} at once (nBatch): split the text, or create the bridge with nBatch: ${tooBig[1]} or more`,
      { cause: error },
    );
  if (
    /failed to parse grammar/i.test(message) ||
    /failed to parse grammar/i.test(ctx.nativeError ?? '')
  ) {
    return new LlmBridgeError(
      'INVALID_REQUEST',
      `${ctx.what}: the grammar does not parse (llama.cpp's GBNF): ${ctx.nativeError ?? message}`,
      { cause: error },
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
