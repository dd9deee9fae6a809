import * as glue from './wasm-glue.js';
import { CoreWasmError, fromEngineError, type EngineErrorJson } from './errors.js';
import { call, currentGeneration, engineFacts, onTrap, unwrap } from './instance.js';
import { assertFunction, toJsonText, typeName } from './json-boundary.js';
import { raceAbort } from './race-abort.js';
import { checkStructured, schemaValidator } from './structured-output.js';
import { promptProgressEvent } from './prompt-progress.js';
import { runToolLoop } from './tool-loop.js';
import { actionNamed, actionNames, defaultLlmHandler } from './registry.js';
import type { LlmHandler, LlmRequest, RunOptions, WorkflowEvent } from './types.js';
import { yieldToEventLoop } from './yield-to-event-loop.js';

interface Request {
  id: number;
  action: string;
  node: string;
  params: Record<string, unknown>;
  state?: Record<string, unknown>;
}

type Step =
  | {
      done: true;
      events: WorkflowEvent[];
      state?: unknown;
      error?: EngineErrorJson;
      interrupted?: { node: string; when: 'before' | 'after' };
    }
  | { done?: false; events: WorkflowEvent[]; requests: Request[]; yield: boolean };

/** The parsed workflow a run starts from: its id in the current engine instance. */
export interface RunTarget {
  /** The workflow's id in the current instance (re-parsed there after a restart). */
  id(): number;
}

function checkOptions(options: unknown): RunOptions {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object')
    throw new CoreWasmError(
      'INVALID_ARGUMENT',
      `run options must be an object, got ${typeName(options)}`,
    );
  const o = options as RunOptions;
  if (o.onEvent !== undefined) assertFunction(o.onEvent, 'RunOptions.onEvent');
  if (o.llmHandler !== undefined && o.llmHandler !== null)
    assertFunction(o.llmHandler, 'RunOptions.llmHandler');
  if (
    o.signal !== undefined &&
    (typeof o.signal !== 'object' ||
      o.signal === null ||
      typeof o.signal.addEventListener !== 'function')
  )
    throw new CoreWasmError(
      'INVALID_ARGUMENT',
      `RunOptions.signal must be an AbortSignal, got ${typeName(o.signal)}`,
    );
  if (o.max_steps !== undefined && !(Number.isSafeInteger(o.max_steps) && o.max_steps > 0))
    throw new CoreWasmError(
      'INVALID_ARGUMENT',
      `RunOptions.max_steps must be a positive integer, got ${String(o.max_steps)}`,
    );
  if (o.secrets !== undefined) {
    if (typeof o.secrets !== 'object' || o.secrets === null || Array.isArray(o.secrets))
      throw new CoreWasmError(
        'INVALID_ARGUMENT',
        `RunOptions.secrets must be an object of strings, got ${typeName(o.secrets)}`,
      );
    for (const [k, v] of Object.entries(o.secrets))
      if (typeof v !== 'string')
        throw new CoreWasmError(
          'INVALID_ARGUMENT',
          `RunOptions.secrets.${k} must be a string, got ${typeName(v)}`,
        );
  }
  if (
    o.variables !== undefined &&
    (typeof o.variables !== 'object' || o.variables === null || Array.isArray(o.variables))
  )
    throw new CoreWasmError(
      'INVALID_ARGUMENT',
      `RunOptions.variables must be an object, got ${typeName(o.variables)}`,
    );
  return o;
}

function report(error: unknown): void {
  const g = globalThis as { reportError?: (e: unknown) => void };
  if (typeof g.reportError === 'function') g.reportError(error);
  else console.error('onEvent threw:', error);
}

/** The error a handler's rejection becomes, as the engine reads it. */
function rejection(error: unknown): string {
  const e = (error ?? {}) as { code?: unknown; message?: unknown; name?: unknown };
  const code =
    e.name === 'AbortError' ? 'ABORTED' : typeof e.code === 'string' ? e.code : 'ACTION_FAILED';
  const message =
    typeof e.message === 'string'
      ? e.message
      : typeof error === 'string'
        ? error
        : 'the handler failed';
  return JSON.stringify({ code, message });
}

/** The reply to an LLM request when the run has no handler. */
const NO_HANDLER = {
  ok: false,
  text: JSON.stringify({
    code: 'LLM_HANDLER_MISSING',
    message:
      'no LLM handler: pass RunOptions.llmHandler, or call setLlmHandler(fn) (the sdk does it for you)',
  }),
};

/** Waits `ms` (a retry's back-off), or until the signal aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return raceAbort(
    new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, Math.min(ms, 2 ** 31 - 1)))),
    signal,
    'the run was aborted',
  );
}

/** Replaces every occurrence of a secret's value in text. */
export type Redact = (text: string) => string;

function redactor(secrets: Record<string, string> | undefined): Redact | undefined {
  const values = Object.values(secrets ?? {})
    .filter((v) => v.length > 0)
    .sort((a, b) => b.length - a.length);
  if (values.length === 0) return undefined;
  return (text) => {
    let out = text;
    for (const v of values) if (out.includes(v)) out = out.split(v).join('[secret]');
    return out;
  };
}

/** A copy of `value` with every string (and key) redacted. */
function redactDeep(value: unknown, redact: Redact): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[redact(k)] = redactDeep(v, redact);
    return out;
  }
  return value;
}

/**
 * Serves one request of a run: calls the LLM handler (the run's own, else the page's default)
 * or a registered action, and gives back the reply as JSON text checked at the boundary.
 */
async function serve(
  req: Request,
  llm: LlmHandler | null,
  options: RunOptions,
  emit: (event: WorkflowEvent) => void,
): Promise<{ ok: boolean; text: string; error?: unknown }> {
  const limits = engineFacts().limits;
  try {
    if (req.action === 'llm.tools') {
      if (!llm) return NO_HANDLER;
      const result = await runToolLoop(req.params, req.state ?? {}, req.node, llm, {
        ...(options.signal ? { signal: options.signal } : {}),
        emit,
        limits,
      });
      return { ok: true, text: toJsonText(result, `the tool loop of node '${req.node}'`, limits) };
    }
    let value: unknown;
    let what: string;
    if (req.action === '__sleep') {
      await sleep(Number(req.params['ms']) || 0, options.signal);
      return { ok: true, text: 'null' };
    }
    if (req.action === 'llm.call' || req.action === 'llm.embed') {
      if (!llm) return NO_HANDLER;
      const kind = req.action === 'llm.call' ? 'call' : 'embed';
      const request = { ...req.params, kind } as LlmRequest & Record<string, unknown>;
      if (options.signal) request.signal = options.signal;
      // A streaming call always gets onToken: its pieces become `token` events (when the run
      // listens) and are counted into the result's `chunk_count`, as upstream's llm.stream.
      const streaming = kind === 'call' && request['stream'] === true;
      let chunks = 0;
      // A run that listens gets `token` events from every llm.call as the handler streams
      // them, with or without `stream: true` (which adds upstream's `streamed` fields).
      if (streaming || (kind === 'call' && options.onEvent)) {
        const onEvent = options.onEvent;
        request['onToken'] = (text: unknown) => {
          chunks++;
          if (!onEvent) return;
          try {
            onEvent({ type: 'token', node: req.node, text: String(text) });
          } catch (error) {
            report(error);
          }
        };
      }
      if (kind === 'call' && options.onEvent)
        request['onPromptProgress'] = (p: { processed: number; total: number; cached: number }) =>
          emit(promptProgressEvent(req.node, p));
      // Structured output: the schema is checked before the model runs, the reply after.
      const format = kind === 'call' ? req.params['response_format'] : undefined;
      const validator = schemaValidator(format);
      value = await raceAbort(
        Promise.resolve().then(() => llm(request)),
        options.signal,
        'the run was aborted',
      );
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        let reply = value as Record<string, unknown>;
        if (format !== undefined)
          reply = checkStructured(format, validator, reply, req.params['max_tokens']);
        if (streaming && chunks > 0) reply = { ...reply, chunk_count: chunks };
        value = reply;
      }
      what = `the LLM handler's reply in node '${req.node}'`;
    } else {
      const action = actionNamed(req.action);
      if (!action)
        return {
          ok: false,
          text: JSON.stringify({
            code: 'UNKNOWN_ACTION',
            message: `action '${req.action}' was unregistered while the run used it`,
          }),
        };
      value = await raceAbort(
        Promise.resolve().then(() => action(req.params, req.state ?? {})),
        options.signal,
        'the run was aborted',
      );
      what = `the result of action '${req.action}' in node '${req.node}'`;
    }
    return { ok: true, text: toJsonText(value ?? null, what, limits) };
  } catch (error) {
    return { ok: false, text: rejection(error), error };
  }
}

/** How a run ended: its final state (JSON text when it started from text), and the interrupt. */
export interface RunEnd {
  state: unknown;
  interrupted?: { node: string; when: 'before' | 'after' };
}

/**
 * Runs a parsed workflow: starts it in the engine, then polls it, serving its requests and
 * yielding to the event loop whenever the engine used up its slice of work, until it ends, stops
 * at an interrupt, fails or the signal aborts. `resume` continues an interrupted run.
 */
export async function runWorkflow(
  target: RunTarget,
  state: unknown,
  rawOptions: unknown,
  resume?: { node: string; when: 'before' | 'after' },
): Promise<RunEnd> {
  const options = checkOptions(rawOptions);
  const { limits } = engineFacts();
  const asText = typeof state === 'string';
  let stateText: string;
  if (typeof state === 'string') {
    if (state.length > limits.maxJsonBytes)
      throw new CoreWasmError(
        'TOO_LARGE',
        `the initial state is larger than ${limits.maxJsonBytes} bytes of JSON`,
      );
    stateText = state;
  } else {
    stateText = toJsonText(state ?? {}, 'the initial state', limits);
  }
  const optionsText = JSON.stringify({
    ...(options.max_steps !== undefined ? { max_steps: options.max_steps } : {}),
    variables: JSON.parse(
      toJsonText(options.variables ?? {}, 'RunOptions.variables', limits),
    ) as unknown,
    ...(options.secrets ? { secrets: options.secrets } : {}),
    ...(resume ? { resume } : {}),
    actions: actionNames(),
  });
  const redact = redactor(options.secrets);
  const signal = options.signal;
  if (signal?.aborted)
    throw new CoreWasmError('ABORTED', 'the run was aborted before it started', {
      cause: signal.reason,
    });
  const llm = options.llmHandler ?? defaultLlmHandler();
  const workflow = target.id();
  const generation = currentGeneration();
  const { run } = unwrap<{ run: number }>(
    call(() => glue.run_start(workflow, stateText, optionsText), { what: 'starting a run' }),
  );

  return new Promise<RunEnd>((resolve, reject) => {
    let settled = false;
    let node: string | undefined;
    let step = 0;
    let wake: (() => void) | undefined;
    let delivered = 0;
    const stale = () => generation !== currentGeneration();
    // While this run is inside the engine, a trap is its own and reaches it as the thrown error.
    let inside = false;
    const guarded = <T>(work: () => T, what: string): T => {
      inside = true;
      try {
        return call(work, { what, ...(node ? { node } : {}) });
      } finally {
        inside = false;
      }
    };
    const stopListening = onTrap(() => {
      if (!inside)
        finish(
          new CoreWasmError(
            'WASM_TRAPPED',
            `the TEA engine trapped in another call while this run was waiting${node ? ` in node '${node}'` : ''}; the run ended, run it again`,
            node ? { node } : undefined,
          ),
        );
    });

    const emit = (raw: WorkflowEvent) => {
      const event = redact ? (redactDeep(raw, redact) as WorkflowEvent) : raw;
      if (event.type === 'node_start') {
        node = event.node;
        step = event.step;
      }
      if (!options.onEvent) return;
      try {
        options.onEvent(event);
      } catch (error) {
        report(error);
      }
    };
    const finish = (error: unknown, value?: RunEnd) => {
      if (settled) return;
      if (redact && error instanceof CoreWasmError && error.message !== redact(error.message))
        error = new CoreWasmError(error.code, redact(error.message), error);
      settled = true;
      stopListening();
      signal?.removeEventListener('abort', onAbort);
      if (!stale()) {
        try {
          glue.run_free(run);
        } catch {
          // Freeing a finished run cannot fail; a trap here is seen by the next call.
        }
      }
      wake?.();
      if (error) reject(error);
      else resolve(value ?? { state: undefined });
    };
    const onAbort = () => {
      const message = `the run was aborted${node ? ` in node '${node}'` : ''}`;
      if (node) emit({ type: 'error', node, step, code: 'ABORTED', message });
      finish(
        new CoreWasmError('ABORTED', message, { cause: signal?.reason, ...(node ? { node } : {}) }),
      );
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    // What handlers and actions threw: a run that fails on one keeps it as its error's `cause`
    // (with its own `code`, e.g. a remote endpoint's, which the engine reports as ACTION_FAILED).
    const thrown: unknown[] = [];
    const deliver = (id: number, reply: { ok: boolean; text: string; error?: unknown }) => {
      if (settled || stale()) return;
      if (!reply.ok && reply.error !== undefined) thrown.push(reply.error);
      try {
        guarded(() => glue.run_reply(run, id, reply.ok, reply.text), 'taking a reply');
      } catch (error) {
        finish(error);
        return;
      }
      delivered++;
      wake?.();
    };

    const loop = async () => {
      while (!settled) {
        if (stale()) {
          finish(
            new CoreWasmError(
              'WASM_TRAPPED',
              'the TEA engine was restarted after a trap in another call, which ended this run; run it again',
            ),
          );
          return;
        }
        const seen = delivered;
        const out = JSON.parse(guarded(() => glue.run_poll(run), 'running the workflow')) as Step;
        for (const event of out.events) emit(event);
        if (settled) return;
        if (out.done) {
          if (out.error) {
            const cause = thrown.find((e) => {
              const m = (e as { message?: unknown } | null)?.message;
              return typeof m === 'string' && m !== '' && out.error!.message.includes(m);
            });
            finish(fromEngineError(out.error, cause));
            return;
          }
          const final = redact ? redactDeep(out.state, redact) : out.state;
          finish(undefined, {
            state: asText ? JSON.stringify(final) : final,
            ...(out.interrupted ? { interrupted: out.interrupted } : {}),
          });
          return;
        }
        for (const req of out.requests) {
          void serve(req, llm, options, emit).then((reply) => deliver(req.id, reply));
        }
        if (out.yield) {
          await yieldToEventLoop();
          continue;
        }
        if (delivered === seen) await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    };
    loop().catch((error: unknown) => finish(error));
  });
}
