import { engineFacts, type EngineLimits } from './instance.js';
import { toJsonText } from './json-boundary.js';
import { promptProgressEvent } from './prompt-progress.js';
import { raceAbort } from './race-abort.js';
import { actionNamed } from './registry.js';
import { checkStructured, schemaValidator } from './structured-output.js';
import { runToolLoop } from './tool-loop.js';
import type { LlmHandler, LlmRequest, RunOptions, WorkflowEvent } from './types.js';

/** A request of a run, as `run_poll` hands it out: one action call of one node. */
export interface Request {
  id: number;
  action: string;
  node: string;
  params: Record<string, unknown>;
  state?: Record<string, unknown>;
}

/** What goes back to the engine (`run_reply`): JSON text, or a `{ code, message }` failure. */
export interface Reply {
  ok: boolean;
  text: string;
  /** What the handler or action threw (kept as the run's error `cause`). */
  error?: unknown;
}

/** One request being served, with what every server needs. */
interface Serving {
  req: Request;
  /** The run's LLM handler (else the page's default); null when there is none. */
  llm: LlmHandler | null;
  options: RunOptions;
  emit: (event: WorkflowEvent) => void;
  limits: EngineLimits;
}

type Server = (s: Serving) => Promise<Reply>;

/** Hands an error thrown by a run's `onEvent` to the page (it never ends the run). */
export function reportListenerError(error: unknown): void {
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

/** A successful reply: `value` as JSON text checked at the boundary (`what` names it). */
function replyWith(value: unknown, what: string, limits: EngineLimits): Reply {
  return { ok: true, text: toJsonText(value ?? null, what, limits) };
}

/** `llm.tools`: the tool loop of one node (tool-loop.ts). */
async function serveToolLoop({ req, llm, options, emit, limits }: Serving): Promise<Reply> {
  if (!llm) return NO_HANDLER;
  const result = await runToolLoop(req.params, req.state ?? {}, req.node, llm, {
    ...(options.signal ? { signal: options.signal } : {}),
    emit,
    limits,
  });
  return replyWith(result, `the tool loop of node '${req.node}'`, limits);
}

/** `__sleep`: a retry's back-off, asked for by the engine. */
async function serveSleep({ req, options }: Serving): Promise<Reply> {
  await sleep(Number(req.params['ms']) || 0, options.signal);
  return { ok: true, text: 'null' };
}

/** Streamed pieces of an `llm.call`: counted, and `token` events when the run listens. */
function tokenListener(
  node: string,
  onEvent: RunOptions['onEvent'],
  tokens: { count: number },
): (text: unknown) => void {
  return (text: unknown) => {
    tokens.count++;
    if (!onEvent) return;
    try {
      onEvent({ type: 'token', node, text: String(text) });
    } catch (error) {
      reportListenerError(error);
    }
  };
}

/** The request an `llm.call` / `llm.embed` node gives the handler, with the run's hooks. */
function llmRequest(
  { req, options, emit }: Serving,
  kind: 'call' | 'embed',
): {
  request: LlmRequest & Record<string, unknown>;
  streaming: boolean;
  tokens: { count: number };
} {
  const request = { ...req.params, kind } as LlmRequest & Record<string, unknown>;
  if (options.signal) request.signal = options.signal;
  // A streaming call always gets onToken: its pieces become `token` events (when the run
  // listens) and are counted into the result's `chunk_count`, as upstream's llm.stream.
  const streaming = kind === 'call' && request['stream'] === true;
  const tokens = { count: 0 };
  // A run that listens gets `token` events from every llm.call as the handler streams
  // them, with or without `stream: true` (which adds upstream's `streamed` fields).
  if (streaming || (kind === 'call' && options.onEvent))
    request['onToken'] = tokenListener(req.node, options.onEvent, tokens);
  if (kind === 'call' && options.onEvent)
    request['onPromptProgress'] = (p: { processed: number; total: number; cached: number }) =>
      emit(promptProgressEvent(req.node, p));
  return { request, streaming, tokens };
}

/** `llm.call` / `llm.embed`: the LLM handler, its reply checked (structured output, chunks). */
async function serveLlm(serving: Serving, kind: 'call' | 'embed'): Promise<Reply> {
  const { req, llm, options, limits } = serving;
  if (!llm) return NO_HANDLER;
  const { request, streaming, tokens } = llmRequest(serving, kind);
  // Structured output: the schema is checked before the model runs, the reply after.
  const format = kind === 'call' ? req.params['response_format'] : undefined;
  const validator = schemaValidator(format);
  let value: unknown = await raceAbort(
    Promise.resolve().then(() => llm(request)),
    options.signal,
    'the run was aborted',
  );
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    let reply = value as Record<string, unknown>;
    if (format !== undefined)
      reply = checkStructured(format, validator, reply, req.params['max_tokens']);
    if (streaming && tokens.count > 0) reply = { ...reply, chunk_count: tokens.count };
    value = reply;
  }
  return replyWith(value, `the LLM handler's reply in node '${req.node}'`, limits);
}

/** Any other action: the registered handler of that name. */
async function serveAction({ req, options, limits }: Serving): Promise<Reply> {
  const action = actionNamed(req.action);
  if (!action)
    return {
      ok: false,
      text: JSON.stringify({
        code: 'UNKNOWN_ACTION',
        message: `action '${req.action}' was unregistered while the run used it`,
      }),
    };
  const value = await raceAbort(
    Promise.resolve().then(() => action(req.params, req.state ?? {})),
    options.signal,
    'the run was aborted',
  );
  return replyWith(value, `the result of action '${req.action}' in node '${req.node}'`, limits);
}

/** The actions served on this side of the boundary; every other name is a registered action. */
const SERVERS = new Map<string, Server>([
  ['llm.tools', serveToolLoop],
  ['__sleep', serveSleep],
  ['llm.call', (s) => serveLlm(s, 'call')],
  ['llm.embed', (s) => serveLlm(s, 'embed')],
]);

/**
 * Serves one request of a run: calls the LLM handler (the run's own, else the page's default)
 * or a registered action, and gives back the reply as JSON text checked at the boundary.
 */
export async function serve(
  req: Request,
  llm: LlmHandler | null,
  options: RunOptions,
  emit: (event: WorkflowEvent) => void,
): Promise<Reply> {
  const limits = engineFacts().limits;
  try {
    return await (SERVERS.get(req.action) ?? serveAction)({ req, llm, options, emit, limits });
  } catch (error) {
    return { ok: false, text: rejection(error), error };
  }
}
